"""Notes from MIDI files and procedurally generated material.

A note list is a float32 array [n, 5] of (onsetSec, soundOffsetSec, pitchMidi, velocity, keyOffsetSec).
The sound offset is the key release extended by the sustain pedal (MAESTRO practice): the renderer
sounds the note until then. The key offset is the release itself, what a performance MIDI file (and
MAPS's ground truth) calls the note's end; with the pedal spans it gives back the sound.
"""
from __future__ import annotations

import numpy as np
import pretty_midi

from .config import MAX_MIDI, MIN_MIDI


def pedal_spans(pm: pretty_midi.PrettyMIDI, threshold: int = 64) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    for inst in pm.instruments:
        down: float | None = None
        for cc in sorted((c for c in inst.control_changes if c.number == 64), key=lambda c: c.time):
            if cc.value >= threshold and down is None:
                down = cc.time
            elif cc.value < threshold and down is not None:
                spans.append((down, cc.time))
                down = None
        if down is not None:
            spans.append((down, pm.get_end_time() + 1.0))
    return sorted(spans)


def extend_by_pedal(notes: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """[n, 4] key-release notes -> [n, 5] (see the module doc): extends each release to the end of
    the pedal span it falls in, then cuts a note at the next onset of the same pitch (a re-struck
    key damps the previous sound; the key must have come up before it)."""
    out = np.c_[notes[:, :4], notes[:, 1]].astype(np.float32)
    if spans:
        starts = np.array([s for s, _ in spans])
        ends = np.array([e for _, e in spans])
        idx = np.searchsorted(starts, out[:, 1], side='right') - 1
        inside = (idx >= 0) & (out[:, 1] < ends[np.clip(idx, 0, None)])
        out[inside, 1] = ends[idx[inside]]
    order = np.lexsort((out[:, 0], out[:, 2]))
    out = out[order]
    same_next = out[1:, 2] == out[:-1, 2]
    cut = same_next & (out[:-1, 1] > out[1:, 0])
    out[:-1][cut, 1] = out[1:][cut, 0]
    out[:, 4] = np.minimum(out[:, 4], out[:, 1])
    out = out[out[:, 1] - out[:, 0] > 0.01]
    return out[np.argsort(out[:, 0], kind='stable')]


def load_midi(path: str) -> tuple[np.ndarray, list[tuple[float, float]]]:
    pm = pretty_midi.PrettyMIDI(path)
    rows = [(n.start, n.end, n.pitch, n.velocity) for inst in pm.instruments if not inst.is_drum for n in inst.notes
            if MIN_MIDI <= n.pitch <= MAX_MIDI]
    notes = np.array(rows, dtype=np.float32).reshape(-1, 4)
    return notes, pedal_spans(pm)


TIME_COLUMNS = [0, 1, 4]


def excerpt(notes: np.ndarray, start_sec: float, dur_sec: float) -> np.ndarray:
    """Notes whose onset falls in [start, start + dur), shifted to start at 0."""
    keep = (notes[:, 0] >= start_sec) & (notes[:, 0] < start_sec + dur_sec)
    out = notes[keep].copy()
    out[:, TIME_COLUMNS] -= start_sec
    return out


def excerpt_spans(spans: list[tuple[float, float]], start_sec: float, dur_sec: float) -> list[tuple[float, float]]:
    """Pedal spans overlapping [start, start + dur), clipped to it and shifted to start at 0."""
    return [(max(s, start_sec) - start_sec, min(e, start_sec + dur_sec) - start_sec)
            for s, e in spans if e > start_sec and s < start_sec + dur_sec]


# ---------------------------------------------------------------- procedural material

def _vel(rng: np.random.Generator, base: float, spread: float = 12.0) -> float:
    return float(np.clip(rng.normal(base, spread), 5, 127))


def procedural(rng: np.random.Generator, dur_sec: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A mixture of chords, fast repeated notes, runs and random notes over all 88 keys with wide
    dynamics: [n, 5] notes (pedal already applied) and the random pedal spans."""
    rows: list[tuple[float, float, float, float]] = []
    t = 0.0
    while t < dur_sec:
        kind = rng.choice(['chords', 'repeats', 'runs', 'random', 'extremes'], p=[0.3, 0.15, 0.25, 0.2, 0.1])
        base_vel = rng.uniform(15, 120)
        if kind == 'chords':
            for _ in range(rng.integers(2, 8)):
                k = int(rng.integers(2, 9))
                lo = int(rng.integers(MIN_MIDI, MAX_MIDI - 24))
                span = int(rng.integers(7, 40))
                pitches = rng.choice(np.arange(lo, min(MAX_MIDI, lo + span) + 1), size=min(k, span), replace=False)
                dur = float(rng.uniform(0.08, 1.5))
                spread = rng.uniform(0, 0.02)  # rolled / not quite together
                for p in pitches:
                    on = t + rng.uniform(0, spread)
                    rows.append((on, on + dur * rng.uniform(0.7, 1.0), p, _vel(rng, base_vel)))
                t += dur + rng.uniform(0, 0.3)
        elif kind == 'repeats':
            p = int(rng.integers(MIN_MIDI, MAX_MIDI + 1))
            ioi = rng.uniform(0.05, 0.2)
            for _ in range(rng.integers(4, 16)):
                rows.append((t, t + ioi * rng.uniform(0.4, 0.9), p, _vel(rng, base_vel, 8)))
                t += ioi
        elif kind == 'runs':
            p = int(rng.integers(MIN_MIDI + 5, MAX_MIDI - 5))
            patterns = [[2, 2, 1, 2, 2, 2, 1], [1], [3, 4, 5], [4, 3, 5], [2, 1, 2, 2, 1, 3, 1]]
            steps = patterns[int(rng.integers(len(patterns)))]
            direction = rng.choice([-1, 1])
            ioi = rng.uniform(0.05, 0.15)
            for i in range(rng.integers(6, 24)):
                if not MIN_MIDI <= p <= MAX_MIDI:
                    break
                rows.append((t, t + ioi * rng.uniform(0.8, 2.0), p, _vel(rng, base_vel, 10)))
                p += direction * steps[i % len(steps)]
                t += ioi
        elif kind == 'random':
            n = int(rng.integers(5, 30))
            span = rng.uniform(1, 4)
            for _ in range(n):
                on = t + rng.uniform(0, span)
                rows.append((on, on + rng.uniform(0.05, 1.5), rng.integers(MIN_MIDI, MAX_MIDI + 1), rng.uniform(5, 127)))
            t += span
        else:  # extremes of the keyboard and of dynamics
            for _ in range(rng.integers(3, 10)):
                p = int(rng.choice(np.r_[np.arange(21, 33), np.arange(96, 109)]))
                rows.append((t, t + rng.uniform(0.1, 1.0), p, rng.choice([rng.uniform(5, 30), rng.uniform(100, 127)])))
                t += rng.uniform(0.05, 0.4)
        t += rng.uniform(0, 0.5)
    notes = np.array(rows, dtype=np.float32).reshape(-1, 4)
    notes = notes[notes[:, 0] < dur_sec]
    spans: list[tuple[float, float]] = []
    s = rng.uniform(0, 3)
    while s < dur_sec:
        e = s + rng.uniform(0.5, 4)
        if rng.random() < 0.5:
            spans.append((s, e))
        s = e + rng.uniform(0.1, 2)
    return extend_by_pedal(notes, spans), spans
