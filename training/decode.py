"""Posteriors -> notes. Mirrors decodeNotes() in src/transcription/piano.ts line for line (the TS
test checks both give the same notes on a fixture)."""
from __future__ import annotations

import numpy as np

from .config import MIN_MIDI

ONSET_THRESHOLD = 0.5
# The pedal's default threshold; a model's own is in its manifest (`thresholds.pedal`, chosen by export.py).
PEDAL_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.5
OFFSET_THRESHOLD = 0.5


def decode_notes(onset: np.ndarray, offset: np.ndarray, frame: np.ndarray, velocity: np.ndarray, frame_sec: float,
                 onset_threshold: float = ONSET_THRESHOLD, frame_threshold: float = FRAME_THRESHOLD,
                 offset_threshold: float = OFFSET_THRESHOLD, release_fall_frames: int = 0,
                 min_support: float = 0.0, support_frames: int = 4, ghost_confidence: float = 0.0,
                 ghost_ratio: float = 1.0, min_duration_sec: float = 0.0) -> np.ndarray:
    """[T, 88] posteriors -> notes [n, 5] (onsetSec, offsetSec, pitchMidi, velocity 1..127, confidence).

    A note starts at the peak frame of each run of onset frames above threshold (refined to sub-frame
    time by a parabola through the peak and its neighbours). It lasts while the frame posterior stays
    above threshold, and ends early at a confident offset or at the next onset run of the key.

    With `release_fall_frames` = L > 0, the note then ends where its frame posterior falls most
    steeply over L frames (in the middle of that fall), anywhere between its onset run and that
    end. Why: a held piano note fades slowly, so a fixed level is crossed too early on long notes
    and too late on short ones, while the key release is a sudden fall (the damper meets the
    string). On MAPS, 40% of the fixed-level offsets were more than the tolerance early.

    With `min_support` > 0, an onset starts a note only if the mean frame posterior over
    `support_frames` frames from its peak reaches it: an onset that no key-down follows is a ghost
    (a partial of another note, a hammer knock). A rejected onset run still ends the key's previous
    note, as any onset run does.

    With `ghost_confidence` > 0, the decoded notes then pass `drop_harmonic_ghosts`; with
    `min_duration_sec` > 0, the short ones that remain are lengthened (`apply_minimum_duration`)."""
    n_frames, n_keys = onset.shape
    rows = []
    for k in range(n_keys):
        on = onset[:, k] >= onset_threshold
        t = 0
        while t < n_frames:
            if not on[t]:
                t += 1
                continue
            run_end = t
            while run_end + 1 < n_frames and on[run_end + 1]:
                run_end += 1
            peak = t + int(np.argmax(onset[t:run_end + 1, k]))
            if min_support > 0 and note_support(frame[:, k], peak, support_frames) < min_support:
                t = run_end + 1
                continue
            delta = 0.0
            if 0 < peak < n_frames - 1:
                a, b, c = float(onset[peak - 1, k]), float(onset[peak, k]), float(onset[peak + 1, k])
                den = a - 2 * b + c
                if den < 0:
                    delta = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
            end = run_end + 1  # exclusive
            while end < n_frames and not on[end] and frame[end, k] >= frame_threshold:
                if offset[end, k] >= offset_threshold:
                    break
                end += 1
            end = release_end(frame[:, k], run_end + 1, end, release_fall_frames)
            onset_sec = (peak + delta) * frame_sec
            offset_sec = max(end * frame_sec, onset_sec + frame_sec)
            vel = float(np.mean(velocity[t:run_end + 1, k]))
            rows.append((onset_sec, offset_sec, k + MIN_MIDI, int(np.clip(round(vel * 127), 1, 127)),
                         float(onset[peak, k])))
            t = run_end + 1
    out = np.array(rows, dtype=np.float64).reshape(-1, 5)
    out = out[np.lexsort((out[:, 2], out[:, 0]))]
    out = drop_harmonic_ghosts(out, ghost_confidence, ghost_ratio) if ghost_confidence > 0 else out
    return apply_minimum_duration(out, min_duration_sec) if min_duration_sec > 0 else out


def apply_minimum_duration(notes: np.ndarray, min_sec: float) -> np.ndarray:
    """Notes (rows sorted by onset) shorter than `min_sec` lengthened to it, never past the next
    onset of their pitch; mirrors applyMinimumDuration in src/transcription/durations.ts. Why: the
    frame posterior of a short, soft note falls before its key comes up (validation renders: with
    offsets 0.484 -> 0.498 at 80 ms)."""
    out = notes.copy()
    nxt = next_same_pitch_onset(notes)
    short = out[:, 1] - out[:, 0] < min_sec
    out[short, 1] = np.maximum(out[short, 1], np.minimum(out[short, 0] + min_sec, nxt[short]))
    return out


# A partial of a struck note sits 12 (2nd harmonic) or 19 (3rd) semitones above it; a note's
# onset can also make the onset detector fire an octave or a twelfth below it.
GHOST_INTERVALS = (12, 19)
GHOST_WINDOW_SEC = 0.03


def drop_harmonic_ghosts(notes: np.ndarray, max_confidence: float, ratio: float) -> np.ndarray:
    """Drops the notes (rows sorted by onset) whose onset confidence is below `max_confidence` and
    which start within GHOST_WINDOW_SEC of a note an octave or a twelfth away, above or below, that
    is more confident by more than 1 / `ratio` (its confidence x ratio exceeds theirs). Why: these
    are most of the false notes on a piano (MAPS, 2026-12-03: of the ensemble's false notes, 36 %
    start within 50 ms of a true note an octave below them and 28 % of one an octave above), while
    a played octave has two confident onsets. Every note is judged against all decoded notes,
    dropped ones included, so the result does not depend on their order."""
    keep = np.ones(len(notes), dtype=bool)
    onsets = notes[:, 0]
    for j in range(len(notes)):
        if notes[j, 4] >= max_confidence:
            continue
        lo = np.searchsorted(onsets, onsets[j] - GHOST_WINDOW_SEC - 1e-9, side='left')
        hi = np.searchsorted(onsets, onsets[j] + GHOST_WINDOW_SEC + 1e-9, side='right')
        for i in range(lo, hi):
            if (abs(onsets[i] - onsets[j]) <= GHOST_WINDOW_SEC and abs(notes[i, 2] - notes[j, 2]) in GHOST_INTERVALS
                    and notes[i, 4] * ratio > notes[j, 4]):
                keep[j] = False
                break
    return notes[keep]


def decode_with(post: dict[str, np.ndarray], frame_sec: float, th: dict,
                pedal_threshold: float = PEDAL_THRESHOLD) -> np.ndarray:
    """decode_notes on a posterior dict (`onset`, `offset`, `frame`, `velocity`, optional `pedal`)
    with thresholds as the manifest stores them (`onset`, `frame`, `offset`, optional
    `releaseFallFrames`, `support`, `supportFrames`, `ghostConfidence`, `ghostRatio`,
    `minDurationSec`, `pedalHoldSec`); with `pedalHoldSec` and a pedal posterior, the notes then pass
    hold_under_pedal (as decodeTranscription in piano.ts does)."""
    notes = decode_notes(post['onset'], post['offset'], post['frame'], post['velocity'], frame_sec, th['onset'],
                         th['frame'], th['offset'], th.get('releaseFallFrames', 0), th.get('support', 0.0),
                         th.get('supportFrames', 4), th.get('ghostConfidence', 0.0), th.get('ghostRatio', 1.0),
                         th.get('minDurationSec', 0.0))
    if th.get('pedalHoldSec', 0.0) > 0 and post.get('pedal') is not None:
        spans = decode_pedal(np.asarray(post['pedal']).reshape(-1), frame_sec, pedal_threshold)
        notes = hold_under_pedal(notes, spans, th['pedalHoldSec'])
    return notes


# How far the notes released under the pedal are held at most (hold_under_pedal) where a manifest does not
# say: the post-processing's legato default gap. export.py chooses each profile's own (PEDAL_HOLDS).
PEDAL_HOLD_SEC = 1.0

# Onsets closer than this to a note's own are its chord, not the next event (durations.ts CHORD_WINDOW_SEC).
CHORD_WINDOW_SEC = 0.03


def next_same_pitch_onset(notes: np.ndarray) -> np.ndarray:
    """Per note, the next onset of its pitch (inf for the last); mirrors nextSamePitchOnset in durations.ts."""
    nxt = np.full(len(notes), np.inf)
    last: dict[float, int] = {}
    for i in np.lexsort((notes[:, 2], notes[:, 0])):
        p = float(notes[i, 2])
        if p in last:
            nxt[last[p]] = notes[i, 0]
        last[p] = i
    return nxt


def hold_under_pedal(notes: np.ndarray, spans: list[tuple[float, float]], max_gap_sec: float) -> np.ndarray:
    """Notes whose end falls inside a pedal span are held until the next later onset (any pitch, at
    least CHORD_WINDOW_SEC after their own) if that is at most `max_gap_sec` after their end, never
    past the span's end or their key's next note; mirrors holdUnderPedal in durations.ts, which says
    why (under the pedal a key release is silent: the note is given its score length)."""
    out = notes.copy()
    if not spans or max_gap_sec <= 0 or len(notes) == 0:
        return out
    onsets = np.sort(notes[:, 0])
    k = np.searchsorted(onsets, notes[:, 0] + CHORD_WINDOW_SEC - 1e-9, side='left')
    later = np.where(k < len(onsets), onsets[np.minimum(k, len(onsets) - 1)], np.inf)
    target = np.minimum(later, next_same_pitch_onset(notes))
    starts = np.array([a for a, _ in spans])
    for i in range(len(out)):
        end = out[i, 1]
        j = int(np.searchsorted(starts, end, side='right')) - 1  # the last span starting at or before the end
        if j < 0 or not end < spans[j][1] or target[i] <= end or target[i] - end > max_gap_sec:
            continue
        out[i, 1] = min(target[i], spans[j][1])
    return out


def note_support(frame: np.ndarray, peak: int, support_frames: int) -> float:
    """Mean of `frame` over [peak, peak + support_frames) (fewer at the end), summed in float64 in
    frame order as the TypeScript port does, so both make the same decision at the threshold."""
    total = 0.0
    seg = frame[peak:peak + support_frames]
    for v in seg:
        total += float(v)
    return total / len(seg)


def release_end(frame: np.ndarray, first: int, end: int, fall_frames: int) -> int:
    """The exclusive end frame of a note whose frames after its onset run are [first, end): the
    middle of the steepest fall of `frame` over `fall_frames` frames (the first one, if several are
    as steep), or `end` itself when the note is too short to hold such a fall or fall_frames is 0.
    Float64, so that the TypeScript port (which computes in doubles) picks the same frame."""
    if fall_frames <= 0 or end - first <= fall_frames:
        return end
    seg = frame[first:end].astype(np.float64)
    j = int(np.argmax(seg[:-fall_frames] - seg[fall_frames:]))
    return first + j + fall_frames // 2 + 1


def decode_frames(frame: np.ndarray, frame_sec: float, threshold: float = 0.5) -> np.ndarray:
    """The seed baseline's decoding: every run of active frames is a note."""
    rows = []
    act = frame >= threshold
    for k in range(frame.shape[1]):
        t = 0
        while t < len(act):
            if act[t, k]:
                e = t
                while e + 1 < len(act) and act[e + 1, k]:
                    e += 1
                rows.append((t * frame_sec, (e + 1) * frame_sec, k + MIN_MIDI, 64, float(frame[t:e + 1, k].mean())))
                t = e + 1
            else:
                t += 1
    out = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return out[np.lexsort((out[:, 2], out[:, 0]))]


MIN_PEDAL_SEC = 0.1


def decode_pedal(pedal: np.ndarray, frame_sec: float, threshold: float = 0.5) -> list[tuple[float, float]]:
    """[T] pedal posterior -> (downSec, upSec) spans; mirrors decodePedal() in piano.ts: runs at or
    above threshold, merged across gaps shorter than MIN_PEDAL_SEC, then kept if at least that long."""
    runs: list[list[int]] = []
    t, n = 0, len(pedal)
    while t < n:
        if pedal[t] < threshold:
            t += 1
            continue
        end = t
        while end < n and pedal[end] >= threshold:
            end += 1
        if runs and (t - runs[-1][1]) * frame_sec < MIN_PEDAL_SEC:
            runs[-1][1] = end
        else:
            runs.append([t, end])
        t = end
    return [(a * frame_sec, b * frame_sec) for a, b in runs if (b - a) * frame_sec >= MIN_PEDAL_SEC]
