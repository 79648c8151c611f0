"""Renders the training and validation sets from MIDI with the sample banks.

    python -m training.render                 # CPU-small set (22 h of audio, ~8 minutes)
    python -m training.render --asap 4000 --procedural 1000   # GPU-full set
    python -m training.render --workers 14    # the training split in 14 processes (GPU machine: 16 cores)

Train: ASAP performances (../shared/data/midi/asap, excluding held-out works) and procedural
material, each excerpt rendered with a random training timbre (sampled: FluidR3 grand and bright,
TimGM6mb, csound's GM bank, freepats grand and bright, Salamander; six additive pianos) and a
random detune of up to +-15 cents. Validation: held-out ASAP works and procedural material, rendered
with the held-out MuseScore "Splendid Grand". Leak: other instruments (strings, choir, organ, guitar,
bass, sax) playing procedural material, mixed into training audio at low level by the augmenter.

Output: training/data/segments/{train,val,leak}.npz (or --out-dir) with 16-bit audio end to end,
per-segment offsets, the note list (segment, onsetSec, soundOffsetSec, pitch, velocity, keyOffsetSec: see
midi_data.py) and the sustain-pedal spans (segment, downSec, upSec).
Never renders piano-midi.de pieces (reserved for evaluation) and never reads MAPS.
"""
from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import time
from pathlib import Path

import numpy as np

from .bank import load_bank
from .config import SAMPLE_RATE_HZ, SEGMENT_DIR, SHARED_DATA
from .midi_data import excerpt, excerpt_spans, extend_by_pedal, load_midi, procedural
from .synth import Sampler

# Sampled pianos weigh 1 each, the additive ones 0.5 each (30 % together): they add variety, but
# they are the least like a real piano.
TRAIN_BANKS = {'fluidr3': 1.0, 'fluidr3_bright': 1.0, 'timgm6mb': 1.0, 'csound': 1.0, 'freepats': 1.0,
               'freepats_bright': 1.0, 'salamander': 1.0, **{f'additive{i}': 0.5 for i in range(6)}}
VAL_BANKS = {'musescore': 1.0}


def is_val_work(midi_path: Path, asap_dir: Path = SHARED_DATA / 'midi' / 'asap') -> bool:
    """About 5% of ASAP works (all their performances) are held out for validation. asap_dir: the
    folder midi_path lies under (a copy of ASAP elsewhere, e.g. the GPU kit's, decides alike)."""
    work = str(midi_path.parent.relative_to(asap_dir))
    return int(hashlib.sha1(work.encode()).hexdigest(), 16) % 20 == 0


Spans = list[tuple[float, float]]


def _pcm16(a: np.ndarray) -> np.ndarray:
    peak = float(np.abs(a).max()) or 1.0
    return np.round(a / peak * 0.5 * 32767).astype(np.int16)  # level is re-drawn by augmentation


def _save(name: str, segments: list[tuple[np.ndarray, np.ndarray, Spans, str]], out_dir: Path = SEGMENT_DIR) -> None:
    """segments' audio: float, or int16 already (_pcm16 in a render worker)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    audio, offsets, notes, pedal, sources = [], [0], [], [], []
    for i, (a, n, spans, src) in enumerate(segments):
        audio.append(a if a.dtype == np.int16 else _pcm16(a))
        offsets.append(offsets[-1] + len(a))
        notes.append(np.c_[np.full(len(n), i, np.float32), n])
        pedal.extend((i, s, e) for s, e in spans)
        sources.append(src)
    np.savez(out_dir / f'{name}.npz', audio=np.concatenate(audio), offsets=np.array(offsets, np.int64),
             notes=np.concatenate(notes).astype(np.float32), pedal=np.array(pedal, np.float32).reshape(-1, 3),
             sources=np.array(sources))
    hours = offsets[-1] / SAMPLE_RATE_HZ / 3600
    print(f'{name}: {len(segments)} segments, {hours:.2f} h, {sum(len(n) for _, n, _, _ in segments)} notes', flush=True)


def render_split(files: list[Path], n_asap: int, n_proc: int, bank_weights: dict[str, float], seg_sec: float,
                 rng: np.random.Generator, data_dir: Path = SHARED_DATA,
                 damper_scale: float = 1.0) -> list[tuple[np.ndarray, np.ndarray, Spans, str]]:
    """data_dir: the folder the sources are named relative to (midi/asap/...), wherever ASAP lies."""
    samplers = {b: Sampler(load_bank(b), damper_scale) for b in bank_weights}
    banks = list(bank_weights)
    p_bank = np.array(list(bank_weights.values())) / sum(bank_weights.values())
    out = []
    order = rng.permutation(len(files))
    cache: dict[int, tuple[np.ndarray, Spans]] = {}
    i = 0
    while len(out) < n_asap and len(files) > 0:
        fi = int(order[i % len(order)])
        i += 1
        if fi not in cache:
            notes, spans = load_midi(str(files[fi]))
            cache[fi] = (extend_by_pedal(notes, spans), spans)
        notes, spans = cache[fi]
        if len(notes) == 0:
            continue
        end = float(notes[:, 0].max())
        start = float(rng.uniform(0, max(0.0, end - seg_sec)))
        ex = excerpt(notes, start, seg_sec)
        if len(ex) < 5:
            continue
        bank = banks[int(rng.choice(len(banks), p=p_bank))]
        audio = samplers[bank].render(ex[:, :4], seg_sec, rng, detune_cents=rng.uniform(-15, 15))
        out.append((audio, ex, excerpt_spans(spans, start, seg_sec), f'{files[fi].relative_to(data_dir)}@{start:.1f}:{bank}'))
    for _ in range(n_proc):
        ex, spans = procedural(rng, seg_sec)
        bank = banks[int(rng.choice(len(banks), p=p_bank))]
        audio = samplers[bank].render(ex[:, :4], seg_sec, rng, detune_cents=rng.uniform(-15, 15))
        out.append((audio, ex, spans, f'procedural:{bank}'))
    return out


def render_leak(n: int, seg_sec: float, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, Spans, str]]:
    bank = load_bank('other')
    sampler = Sampler(bank)
    out = []
    for _ in range(n):
        inst = int(rng.integers(len(bank['instruments'])))
        ex, _ = procedural(rng, seg_sec)
        ex = ex[(ex[:, 2] >= 28) & (ex[:, 2] <= 96)]
        out.append((sampler.render(ex[:, :4], seg_sec, rng, instrument=inst), ex, [], f"leak:{bank['instruments'][inst]}"))
    return out


def _share(n: int, workers: int, w: int) -> int:
    """Worker w's part of n excerpts: the first n % workers workers take one more."""
    return n // workers + (w < n % workers)


def _render_train_part(task: tuple) -> list[tuple[np.ndarray, np.ndarray, Spans, str]]:
    files, n_asap, n_proc, seg_sec, seed, w, data_dir, damper_scale = task
    # Seeded by (split seed, worker index): the same --workers gives the same set on any machine.
    rng = np.random.default_rng([seed, w])
    segments = render_split(files, n_asap, n_proc, TRAIN_BANKS, seg_sec, rng, data_dir, damper_scale)
    # int16 here, not in _save: half the bytes go back through the pipe, and the result is the same.
    return [(_pcm16(a), n, spans, src) for a, n, spans, src in segments]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--asap', type=int, default=3200, help='training excerpts from ASAP')
    ap.add_argument('--procedural', type=int, default=800, help='procedural training excerpts')
    ap.add_argument('--val', type=int, default=40, help='validation excerpts (3/4 ASAP, 1/4 procedural)')
    ap.add_argument('--leak', type=int, default=100, help='other-instrument excerpts for augmentation')
    ap.add_argument('--segment-sec', type=float, default=20.0)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--train-seed', type=int, default=None,
                    help='render the training split from its own seed (fresh excerpts) while val and leak stay those of --seed')
    ap.add_argument('--workers', type=int, default=1,
                    help='render the training split in this many processes, worker w seeded by (split seed, w), '
                         'the parts concatenated in worker order: another set than --workers 1 gives (the '
                         'single-process one), the same set for the same N and seeds')
    ap.add_argument('--data-dir', type=Path, default=SHARED_DATA,
                    help='the folder holding midi/asap (default: ../shared/data; the GPU kit unpacks its own copy)')
    ap.add_argument('--out-dir', type=Path, default=SEGMENT_DIR, help='where train/val/leak.npz go')
    ap.add_argument('--damper-scale', type=float, default=1.0,
                    help="x the sampler's damper release time constants (synth.py: 0.12-0.35 s)")
    args = ap.parse_args()
    asap = args.data_dir / 'midi' / 'asap'
    if not asap.is_dir():
        raise SystemExit(f'ASAP MIDI not found at {asap}')
    files = sorted(asap.rglob('*.mid'))
    train_files = [f for f in files if not is_val_work(f, asap)]
    val_files = [f for f in files if is_val_work(f, asap)]
    print(f'ASAP: {len(train_files)} training files, {len(val_files)} held-out files', flush=True)
    t0 = time.time()
    rng = np.random.default_rng(args.seed)
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    if pool is not None:
        # The workers draw from their own seeds, so they start at once; this process renders val and
        # leak meanwhile.
        seed = args.seed if args.train_seed is None else args.train_seed
        tasks = [(train_files, _share(args.asap, args.workers, w), _share(args.procedural, args.workers, w),
                  args.segment_sec, seed, w, args.data_dir, args.damper_scale) for w in range(args.workers)]
        parts = pool.map_async(_render_train_part, tasks)
    n_val_asap = args.val * 3 // 4
    val = render_split(val_files, n_val_asap, args.val - n_val_asap, VAL_BANKS, args.segment_sec, rng, args.data_dir,
                       args.damper_scale)
    _save('val', val, args.out_dir)
    _save('leak', render_leak(args.leak, args.segment_sec, rng), args.out_dir)
    if pool is None:
        train_rng = rng if args.train_seed is None else np.random.default_rng(args.train_seed)
        train = render_split(train_files, args.asap, args.procedural, TRAIN_BANKS, args.segment_sec, train_rng, args.data_dir,
                             args.damper_scale)
    else:
        train = [s for part in parts.get() for s in part]  # worker order
        pool.close()
        pool.join()
    _save('train', train, args.out_dir)
    print(f'rendered in {time.time() - t0:.0f} s')


if __name__ == '__main__':
    main()
