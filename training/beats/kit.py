"""The beat trainers' data as one compact file, for a machine without ../shared or pretty_midi (the GPU
machine: training/gpu/beats.sh).

    PYTHONPATH=. training/.venv/bin/python -m training.beats.kit pack     # -> training/data/gpu-kit-beats/asap-beats.npz.xz
    PYTHONPATH=. python3 -m training.beats.kit unpack FILE                # -> data.CACHE, which data.load_all() reads

Every ASAP performance's notes, beats and downbeats (all folds: the split is made again from the piece
names, and the exported manifest records it), times as integer microseconds: the unpacked notes differ
from the parsed MIDI by at most 0.5 us. Successive differences, then xz: ~3.6 M notes in about 10 MB.
"""
from __future__ import annotations

import io
import lzma
import sys
from pathlib import Path

import numpy as np

from .data import CACHE, ROOT, Performance, load_all, write_cache

KIT = ROOT / "training" / "data" / "gpu-kit-beats" / "asap-beats.npz.xz"


def _us(seconds: np.ndarray) -> np.ndarray:
    return np.round(seconds * 1e6).astype(np.int64)


def _deltas(parts: list[np.ndarray]) -> np.ndarray:
    flat = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return np.diff(flat, prepend=0)


def pack(perfs: list[Performance], out: Path) -> None:
    arrays = {
        "names": np.array([p.name for p in perfs]),
        "pieces": np.array([p.piece for p in perfs]),
        "noteCounts": np.array([len(p.notes) for p in perfs], np.int64),
        "beatCounts": np.array([len(p.beats) for p in perfs], np.int64),
        "downbeatCounts": np.array([len(p.downbeats) for p in perfs], np.int64),
        "onsetUs": _deltas([_us(p.notes[:, 0]) for p in perfs]),
        "durationUs": np.concatenate([_us(p.notes[:, 1]) - _us(p.notes[:, 0]) for p in perfs]),
        "pitch": np.concatenate([p.notes[:, 2] for p in perfs]).astype(np.uint8),
        "velocity": np.concatenate([p.notes[:, 3] for p in perfs]).astype(np.uint8),
        "beatUs": _deltas([_us(p.beats) for p in perfs]),
        "downbeatUs": _deltas([_us(p.downbeats) for p in perfs]),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(lzma.compress(buf.getvalue(), preset=9))


def _slices(counts: np.ndarray) -> list[slice]:
    """Each performance's rows of a flat array, from the performances' row counts."""
    ends = np.cumsum(counts)
    return [slice(e - c, e) for c, e in zip(counts, ends)]


def unpack(path: Path) -> list[Performance]:
    z = np.load(io.BytesIO(lzma.decompress(path.read_bytes())))
    onset_us, beat_us, downbeat_us = (np.cumsum(z[k]) for k in ("onsetUs", "beatUs", "downbeatUs"))
    offset_us = onset_us + z["durationUs"]
    rows = zip(*(_slices(z[k]) for k in ("noteCounts", "beatCounts", "downbeatCounts")))
    perfs = []
    for name, piece, (n, b, d) in zip(z["names"], z["pieces"], rows):
        notes = np.stack([onset_us[n] / 1e6, offset_us[n] / 1e6,
                          z["pitch"][n].astype(np.float64), z["velocity"][n].astype(np.float64)], axis=1)
        perfs.append(Performance(str(name), str(piece), notes, beat_us[b] / 1e6, downbeat_us[d] / 1e6))
    return perfs


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "pack":
        out = Path(sys.argv[2]) if len(sys.argv) > 2 else KIT
        perfs = load_all()
        pack(perfs, out)
        back = unpack(out)
        worst = max(float(np.abs(a.notes - b.notes).max(initial=0.0)) for a, b in zip(perfs, back))
        print(f"wrote {out}: {len(perfs)} performances, {out.stat().st_size / 1e6:.1f} MB; largest note change {worst * 1e6:.2f} us")
    elif len(sys.argv) == 3 and sys.argv[1] == "unpack":
        perfs = unpack(Path(sys.argv[2]))
        write_cache(perfs)
        print(f"unpacked {len(perfs)} performances to {CACHE}")
    else:
        sys.exit("usage: python -m training.beats.kit pack [OUT] | unpack FILE")


if __name__ == "__main__":
    main()
