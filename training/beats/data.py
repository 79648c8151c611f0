"""ASAP performance MIDI -> note arrays + beat/downbeat annotations, split BY PIECE.

A "piece" is an ASAP folder (Composer/Work/Piece) with a `_no_repeat` suffix stripped, so a piece's
performances with and without repeats always land in the same fold. Fold by a hash of the piece name
(stable, independent of file order): 15 % test (reported, never trained on), 10 % validation
(checkpoint choice), 75 % train.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
ASAP_DIR = Path(os.environ.get("ASAP_DIR", ROOT.parent / "shared" / "data" / "midi" / "asap"))
CACHE = Path(os.environ.get("BEATS_CACHE", "/tmp/stemscribe-beats/asap-notes.pkl"))
TEST_PERCENT = 15
VAL_PERCENT = 10


@dataclass
class Performance:
    name: str  # path relative to ASAP_DIR
    piece: str
    notes: np.ndarray  # [n, 4] float64: onset_sec, offset_sec, pitch, velocity (1..127)
    beats: np.ndarray  # seconds
    downbeats: np.ndarray


def piece_of(rel_path: str) -> str:
    folder = str(Path(rel_path).parent)
    return re.sub(r"_no_repeat$", "", folder)


def fold_of(piece: str) -> str:
    h = int(hashlib.sha1(piece.encode()).hexdigest()[:8], 16) % 100
    if h < TEST_PERCENT:
        return "test"
    if h < TEST_PERCENT + VAL_PERCENT:
        return "val"
    return "train"


def parse_annotations(text: str) -> tuple[np.ndarray, np.ndarray]:
    beats, downbeats = [], []
    for line in text.splitlines():
        cols = line.strip().split("\t")
        if len(cols) < 3:
            continue
        t = float(cols[0])
        kind = cols[2].split(",")[0]
        if kind.startswith("b") or kind == "db":
            beats.append(t)
        if kind == "db":
            downbeats.append(t)
    return np.array(beats), np.array(downbeats)


def read_notes(path: Path) -> np.ndarray:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    rows = [(n.start, n.end, n.pitch, n.velocity) for inst in pm.instruments for n in inst.notes]
    notes = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


def load_all() -> list[Performance]:
    if CACHE.exists():
        return read_cache(CACHE)
    perfs = []
    for mid in sorted(ASAP_DIR.rglob("*.mid")):
        if mid.name == "midi_score.mid":
            continue
        ann = mid.with_name(mid.stem + "_annotations.txt")
        if not ann.exists():
            continue
        rel = str(mid.relative_to(ASAP_DIR))
        beats, downbeats = parse_annotations(ann.read_text())
        perfs.append(Performance(rel, piece_of(rel), read_notes(mid), beats, downbeats))
    write_cache(perfs)
    return perfs


def write_cache(perfs: list[Performance], path: Path = CACHE) -> None:
    """Parsed performances as one pickle: by default where load_all() looks first (CACHE)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump([(p.name, p.piece, p.notes, p.beats, p.downbeats) for p in perfs], f)


def read_cache(path: Path) -> list[Performance]:
    """The performances write_cache wrote to `path`."""
    with open(path, "rb") as f:
        return [Performance(*row) for row in pickle.load(f)]


def split(perfs: list[Performance]) -> dict[str, list[Performance]]:
    out: dict[str, list[Performance]] = {"train": [], "val": [], "test": []}
    for p in perfs:
        out[fold_of(p.piece)].append(p)
    return out


def split_summary(folds: dict[str, list[Performance]]) -> dict:
    """The split as the beat models' manifests record it (the benchmarks read the held-out pieces)."""
    return {
        "rule": f"piece = ASAP folder without '_no_repeat'; sha1(piece)[:8] % 100 < {TEST_PERCENT} -> test, < {TEST_PERCENT + VAL_PERCENT} -> val, else train",
        "trainPerformances": len(folds["train"]),
        "valPerformances": len(folds["val"]),
        "testPerformances": len(folds["test"]),
        "testPieces": sorted({p.piece for p in folds["test"]}),
        "valPieces": sorted({p.piece for p in folds["val"]}),
    }


def with_extra(train: list[Performance], extra: list[Performance], share: float,
               weight: Callable[[Performance], float]) -> tuple[list[Performance], np.ndarray]:
    """The training list with `extra` performances (scores.py) appended, and the draw probabilities:
    `share` of the examples from `extra`; within each list, in proportion to `weight` (the trainer's
    rule: notes or seconds)."""
    def probs(perfs: list[Performance]) -> np.ndarray:
        w = np.array([weight(p) for p in perfs], dtype=np.float64)
        return w / w.sum()

    if share <= 0 or not extra:
        return train, probs(train)
    return train + extra, np.concatenate([(1 - share) * probs(train), share * probs(extra)])


def rubato_warp(rng: np.random.Generator, end_sec: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """A smooth, monotonic random time map (knot times in, knot times out) for np.interp: the local
    tempo changes by a log-normal factor (std `sigma`) every 1.5-5 s, linearly in between, so the
    beats bend with the notes as in a new interpretation of the same piece."""
    spacing = rng.uniform(1.5, 5.0)
    knots = np.arange(0.0, end_sec + 2 * spacing, spacing)
    drawn = np.exp(rng.normal(0.0, sigma, len(knots) + 1))
    rates = 0.5 * (drawn[:-1] + drawn[1:])  # neighbours share a draw: no jumps from one knot to the next
    warped = np.concatenate([[0.0], np.cumsum(rates[:-1] * np.diff(knots))])
    return knots, warped


def maybe_warp(notes: np.ndarray, beats: np.ndarray, downbeats: np.ndarray, rng: np.random.Generator,
               probability: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A copy of notes [n, 4] and the annotations, with `probability` bent by one `rubato_warp`
    (log-tempo std 0.05-0.2; onsets and offsets alike): a new interpretation's rubato. Draws nothing
    when the probability is 0, so the trainers' default example streams are unchanged."""
    if probability <= 0 or rng.random() >= probability or len(notes) == 0:
        return notes.copy(), beats, downbeats
    knots, warped = rubato_warp(rng, float(max(notes[:, 1].max(), beats.max(initial=0.0))), rng.uniform(0.05, 0.2))
    n = notes.copy()
    n[:, 0], n[:, 1] = np.interp(notes[:, 0], knots, warped), np.interp(notes[:, 1], knots, warped)
    return n, np.interp(beats, knots, warped), np.interp(downbeats, knots, warped)


def drop_and_add_notes(n: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Transcription-like damage to notes [n, 4]: drops up to 15 % of them and adds up to 8 %
    spurious short, softer copies moved up to 0.5 s and by an octave, fifth or twelfth (the
    errors a transcriber makes)."""
    keep = rng.random(len(n)) > rng.uniform(0, 0.15)
    n = n[keep]
    nb_extra = int(len(n) * rng.uniform(0, 0.08))
    if nb_extra and len(n):
        src = n[rng.integers(0, len(n), nb_extra)].copy()
        src[:, 0] += rng.uniform(-0.5, 0.5, nb_extra)
        src[:, 1] = src[:, 0] + rng.uniform(0.03, 0.3, nb_extra)
        src[:, 2] = np.clip(src[:, 2] + rng.choice([-12, 7, 12, 19], nb_extra), 21, 108)
        src[:, 3] = np.clip(src[:, 3] * rng.uniform(0.3, 0.8, nb_extra), 1, 127)
        n = np.concatenate([n, src])
    return n


if __name__ == "__main__":
    perfs = load_all()
    s = split(perfs)
    for k, v in s.items():
        print(k, len(v), "performances", len({p.piece for p in v}), "pieces",
              f"{sum(p.notes[-1, 0] for p in v if len(p.notes)) / 3600:.1f} h")
