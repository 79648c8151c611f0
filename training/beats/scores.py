"""Scores -> synthetic performances with exact beats: more pieces for the beat models.

    PYTHONPATH=. training/.venv/bin/python -m training.beats.scores     # music21's corpus -> SCORES_CACHE

Why: both beat networks stop generalising after a few hundred steps on ASAP's 168 training pieces
(validation loss flat while training loss falls; training/beats/README.md, rounds three to six).
New timings of the same pieces did not help (the rubato warp); new pieces might. music21 (BSD)
installs a corpus of scores with time signatures (Bach chorales, Classical string quartets,
Schumann, Schubert, Monteverdi, ...); none is an ASAP piece's score, and none comes from
piano-midi.de. Each movement becomes `RENDITIONS` "performances": every part's notes on one piano,
played at a random tempo with a smooth random rubato, ritardando at the end, fermatas held,
per-note timing noise, articulation and dynamics (louder outer voices, a little metrical accent).
Beats follow ASAP's convention: the denominator's note in simple metres, the dotted note in
compound ones (6/8, 9/8, 12/8, 12/16), downbeats at bar starts; a pickup bar has no downbeat.

Only the beat models read these (`--extra` in train.py and note_train.py); they never enter the
validation or test folds, which stay ASAP's.
"""
from __future__ import annotations

import argparse
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .data import Performance, read_cache, rubato_warp, write_cache

SCORES_CACHE = Path(os.environ.get("BEATS_SCORES_CACHE", "/tmp/stemscribe-beats/score-notes.pkl"))
# music21 corpus folders of measured music. Left out: Renaissance and medieval polyphony (palestrina,
# josquin, trecento, ciconia: editorial barlines over a tactus) and the monophonic folk collections.
COMPOSERS = ("bach", "beethoven", "mozart", "haydn", "schumann_robert", "schumann_clara", "schubert", "beach",
             "chopin", "joplin", "monteverdi", "corelli", "cpebach", "handel", "weber", "verdi", "johnson_j_r",
             "liliuokalani")
RENDITIONS = 2
MIN_NOTES = 60


def beat_grid(num: int, den: int) -> tuple[float, int]:
    """(beat length in quarter notes, beats per bar) in ASAP's convention."""
    if num % 3 == 0 and num > 3 and den >= 8:
        return 3 * 4.0 / den, num // 3
    return 4.0 / den, num


def score_events(score) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]] | None:
    """A music21 score -> (notes [n, 4]: onset, end (quarter notes), pitch, voice rank 0..1 with 0 the
    top part), beats and downbeats (quarter notes), fermata onsets; None without a time signature."""
    from music21 import expressions, meter, stream

    score = score.stripTies(inPlace=False)
    parts = list(score.parts) or [score]
    rows, fermatas = [], []
    for rank, part in enumerate(parts):
        for el in part.flatten().notes:
            ql = float(el.duration.quarterLength)
            if ql <= 0:  # grace notes: no metrical position of their own
                continue
            on = float(el.offset)  # parts start together, so the flat part's offsets are the score's
            if any(isinstance(e, expressions.Fermata) for e in el.expressions):
                fermatas.append(on)
            for p in el.pitches:
                rows.append((on, on + ql, p.midi, rank / max(1, len(parts) - 1)))
    if len(rows) < MIN_NOTES:
        return None
    beats, downbeats = [], []
    ts = None
    for m in parts[0].getElementsByClass(stream.Measure):
        ts = m.timeSignature or ts or m.getContextByClass(meter.TimeSignature)
        if ts is None:
            return None
        beat_ql, count = beat_grid(ts.numerator, ts.denominator)
        start = float(m.offset)
        end = start + float(m.duration.quarterLength)
        pad = float(m.paddingLeft or 0.0)
        bar = start - pad
        for k in range(count):
            b = bar + k * beat_ql
            if start - 1e-6 <= b < end - 1e-6:
                beats.append(b)
                if k == 0:
                    downbeats.append(b)
    if len(beats) < 8:
        return None
    notes = np.array(rows, dtype=np.float64)
    notes[:, 2] = np.clip(notes[:, 2], 21, 108)
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))], np.array(beats), np.array(downbeats), fermatas


def time_map(onsets_ql: np.ndarray, beats_ql: np.ndarray, fermatas: list[float],
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Knots (quarter notes -> seconds) of one interpretation: a beat of 0.3-1.1 s (ASAP's training
    performances: median 0.51 s, quartiles 0.38-0.71), redrawn while the median time between
    successive onsets would be under 70 ms (unplayably dense); a smooth random rubato
    (data.rubato_warp); fermatas held 1.5-2.5x; a ritardando over the last 4 beats. Why not the
    score's tempo marking: most corpus files have none."""
    beat_ql = float(np.median(np.diff(beats_ql)))
    ioi_ql = float(np.median(np.diff(np.unique(onsets_ql))))
    for _ in range(20):
        sec_per_ql = float(np.exp(rng.uniform(np.log(0.3), np.log(1.1)))) / beat_ql
        if sec_per_ql * ioi_ql >= 0.07:
            break
    sec_per_ql = max(sec_per_ql, 0.07 / ioi_ql)
    knots_ql = np.unique(np.concatenate([[0.0], beats_ql, [beats_ql[-1] + beat_ql]]))
    length = np.diff(knots_ql) * sec_per_ql
    for f in fermatas:
        i = int(np.searchsorted(knots_ql, f, side="right")) - 1
        if 0 <= i < len(length):
            length[i] *= rng.uniform(1.5, 2.5)
    length[-4:] *= np.linspace(1.0, rng.uniform(1.1, 1.6), len(length[-4:]))
    sec = np.concatenate([[0.0], np.cumsum(length)])
    knots, warped = rubato_warp(rng, float(sec[-1]), rng.uniform(0.03, 0.12))
    return knots_ql, np.interp(sec, knots, warped)


def perform(notes_ql: np.ndarray, beats_ql: np.ndarray, downbeats_ql: np.ndarray, fermatas: list[float],
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One synthetic performance: (notes [n, 4] onset_sec, offset_sec, pitch, velocity; beats; downbeats)."""
    kq, ks = time_map(notes_ql[:, 0], beats_ql, fermatas, rng)

    def to_sec(q: np.ndarray) -> np.ndarray:
        # Past the last knot (notes after the last beat) at the last interval's rate.
        rate = (ks[-1] - ks[-2]) / max(kq[-1] - kq[-2], 1e-9)
        return np.where(q <= kq[-1], np.interp(q, kq, ks), ks[-1] + (q - kq[-1]) * rate)

    on = to_sec(notes_ql[:, 0])
    end = to_sec(notes_ql[:, 1])
    n = len(notes_ql)
    on = on + rng.normal(0.0, rng.uniform(0.005, 0.02), n) - 0.01 * (notes_ql[:, 3] == 0)  # melody leads a little
    articulation = rng.uniform(0.5, 0.95) * np.exp(rng.normal(0.0, 0.15, n))
    off = np.maximum(on + (end - on) * np.minimum(articulation, 1.0), on + 0.03)
    # Dynamics: a level, a slow phrase swell, outer voices louder, a little accent on beats and bars.
    t_phrase = rng.uniform(4.0, 12.0)
    swell = 12.0 * np.sin(2 * np.pi * on / t_phrase + rng.uniform(0, 2 * np.pi))
    voice = np.where((notes_ql[:, 3] == 0) | (notes_ql[:, 3] == 1), 6.0, -4.0)
    on_beat = np.isin(np.round(notes_ql[:, 0], 4), np.round(beats_ql, 4))
    on_bar = np.isin(np.round(notes_ql[:, 0], 4), np.round(downbeats_ql, 4))
    accent = rng.uniform(0, 4) * on_beat + rng.uniform(0, 6) * on_bar
    vel = rng.uniform(45, 85) + swell + voice + accent + rng.normal(0, 7, n)
    perf = np.stack([np.maximum(on, 0.0), off, notes_ql[:, 2], np.clip(np.round(vel), 1, 127)], axis=1)
    order = np.lexsort((perf[:, 2], perf[:, 0]))
    return perf[order], to_sec(beats_ql), to_sec(downbeats_ql)


def movements(path: str) -> list:
    from music21 import converter, stream

    parsed = converter.parse(path)
    return list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]


def performances_of(path: str) -> list[Performance]:
    """The synthetic performances of one corpus file; [] if it cannot be used."""
    rng = np.random.default_rng(zlib.crc32(Path(path).name.encode()))
    perfs = []
    try:
        scores = movements(path)
    except Exception as e:  # noqa: BLE001 - a corpus file music21 cannot read is skipped, and said so
        print(f"skipped {path}: {e}", flush=True)
        return []
    for i, s in enumerate(scores):
        try:
            ev = score_events(s)
        except Exception as e:  # noqa: BLE001
            print(f"skipped {path} [{i}]: {e}", flush=True)
            continue
        if ev is None:
            continue
        notes_ql, beats_ql, downbeats_ql, fermatas = ev
        name = f"music21/{Path(path).parent.name}/{Path(path).name}#{i}"
        for r in range(RENDITIONS):
            notes, beats, downbeats = perform(notes_ql, beats_ql, downbeats_ql, fermatas, rng)
            perfs.append(Performance(f"{name}/{r}", name, notes, beats, downbeats))
    return perfs


def corpus_paths() -> list[str]:
    from music21 import corpus

    return sorted(str(p) for c in COMPOSERS for p in corpus.getComposer(c))


def load_scores() -> list[Performance]:
    if not SCORES_CACHE.exists():
        raise SystemExit(f"{SCORES_CACHE} not found: run python -m training.beats.scores first")
    return read_cache(SCORES_CACHE)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N corpus files (a quick check)")
    args = ap.parse_args()
    paths = corpus_paths()[: args.limit or None]
    with ProcessPoolExecutor(args.workers) as pool:
        perfs = [p for ps in pool.map(performances_of, paths, chunksize=4) for p in ps]
    write_cache(perfs, SCORES_CACHE)
    hours = sum(p.notes[-1, 0] for p in perfs) / 3600
    print(f"{len(paths)} files -> {len({p.piece for p in perfs})} movements, {len(perfs)} performances, "
          f"{sum(len(p.notes) for p in perfs)} notes, {hours:.1f} h -> {SCORES_CACHE}")


if __name__ == "__main__":
    main()
