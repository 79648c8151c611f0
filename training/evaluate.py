"""Evaluates on the 14 real MAPS ENSTDkCl recordings (full length; validation only, never training).

    python -m training.evaluate                      # ours (models/piano ONNX) and the seed baseline
    python -m training.evaluate --threads 2 --json training/runs/eval.json

mir_eval note precision/recall/F1 with 50 ms onset tolerance, and F1 with offsets (ratio 0.2,
min 50 ms), averaged over files (each file's scores, then the mean, as in the Onsets and Frames
paper). Ours runs the exported ONNX graph with the same chunking as the TypeScript transcriber;
its time (features + network + decoding) gives the real-time factor.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import soundfile as sf
import torch

from .config import HOP_SAMPLES, MODELS_DIR, RUNS_DIR, SAMPLE_RATE_HZ, SHARED_DATA
from .data import Segments
from .decode import PEDAL_THRESHOLD, decode_frames, decode_with
from .export import posteriors
from .features import LogMel
from .fusion import BasicPitchPosteriors, fuse_config
from .train import Setup, note_scores, validate

MAPS_DIR = SHARED_DATA / 'eval' / 'maps-enstdkcl'
FRAME_SEC = HOP_SAMPLES / SAMPLE_RATE_HZ


def load_ref(tsv: Path) -> np.ndarray:
    rows = np.loadtxt(tsv, delimiter='\t', skiprows=1, ndmin=2)
    return rows[:, :4]


def read_recording(flac: Path) -> tuple[np.ndarray, np.ndarray]:
    """A MAPS recording as mono float32 at our rate, and its reference notes (load_ref)."""
    audio, sr = sf.read(flac, dtype='float32')
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    assert sr == SAMPLE_RATE_HZ, f'{flac}: {sr} Hz'
    return audio, load_ref(flac.with_suffix('.tsv'))


def ensemble(audio: np.ndarray, ours: dict[str, np.ndarray], basic_pitch: BasicPitchPosteriors, cfg: dict,
             model_dir: Path = MODELS_DIR, pedal_threshold: float = PEDAL_THRESHOLD) -> np.ndarray:
    """The piano-ensemble transcriber: our posteriors fused with basic-pitch's (training/fusion.py)."""
    post = fuse_config(ours, *basic_pitch(audio), cfg, FRAME_SEC, model_dir)
    return decode_with(post, FRAME_SEC, cfg['thresholds'], pedal_threshold)


def seed(audio: np.ndarray, setup: Setup, frame_threshold: float) -> np.ndarray:
    with torch.no_grad():
        fr = []
        step = SAMPLE_RATE_HZ * 60  # a minute at a time; the 7-frame window barely crosses the seams
        for s in range(0, len(audio), step):
            mel = setup.features(audio[None, s:s + step], None)
            fr.append(torch.sigmoid(setup.model(mel)['frame'])[0, :-1].numpy())
        frames = np.concatenate(fr)
    return decode_frames(frames, setup.frame_sec(), frame_threshold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model-dir', type=Path, default=MODELS_DIR)
    ap.add_argument('--seed-checkpoint', type=Path, default=RUNS_DIR / 'seed' / 'best.pt')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--limit', type=int, default=0, help='only the first N files (quick check)')
    ap.add_argument('--json', type=Path, default=None)
    ap.add_argument('--basic-pitch-notes', type=Path, default=Path('/tmp/stemscribe-bench-maps-transcriptions'),
                    help="folder of <piece>.json basic-pitch transcriptions ({notes: [{onsetSec, offsetSec, pitchMidi}]}) "
                         "as written by `npm run bench` (bench/postprocess.ts); scored here with the same metric")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not MAPS_DIR.is_dir():
        raise SystemExit(f'MAPS recordings not found at {MAPS_DIR}')
    files = sorted(MAPS_DIR.glob('*.flac'))[:args.limit or None]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    manifest = json.loads((args.model_dir / 'manifest.json').read_text())
    session = ort.InferenceSession(str(args.model_dir / manifest['file']), opts, providers=['CPUExecutionProvider'])
    mel = LogMel()
    systems: dict[str, list[dict]] = {'ours': []}
    basic_pitch = None
    if 'ensemble' in manifest:
        basic_pitch = BasicPitchPosteriors(threads=args.threads)
        systems['ensemble'] = []
    ens_time = 0.0
    seed_setup = None
    if args.seed_checkpoint.exists():
        seed_setup = Setup('seed', torch.device('cpu'))
        seed_setup.model.load_state_dict(torch.load(args.seed_checkpoint, map_location='cpu', weights_only=False)['model'])
        seed_setup.model.eval()
        # Its frame threshold, chosen on the augmented validation renders as ours are (never on MAPS).
        seed_val = validate(seed_setup, Segments('val'), Segments('leak'))
        seed_threshold = seed_val['onset_threshold']
        seed_setup.model.eval()
        print(f"seed: frame threshold {seed_threshold} (val F1 {seed_val['f1']:.3f})", flush=True)
        systems['seed'] = []
    # MAPS is solo piano: the manifest's `solo` decoding profile (the separated one where it has none).
    solo_thresholds = manifest.get('solo', {}).get('thresholds', manifest['thresholds'])
    solo_fusion = manifest['ensemble'].get('solo', manifest['ensemble']) if 'ensemble' in manifest else None
    pedal = manifest['thresholds'].get('pedal', PEDAL_THRESHOLD)  # decoded pedal spans hold the notes released under them
    total_audio, total_time = 0.0, 0.0
    for f in files:
        audio, ref = read_recording(f)
        t = time.perf_counter()
        post = posteriors(audio, session, mel)
        post_sec = time.perf_counter() - t
        est = decode_with(post, FRAME_SEC, solo_thresholds, pedal)
        dt = time.perf_counter() - t
        total_audio += len(audio) / SAMPLE_RATE_HZ
        total_time += dt
        s = note_scores(ref, est)
        s['file'] = f.stem
        systems['ours'].append(s)
        line = f'{f.stem:34s} ours P={s["p"]:.3f} R={s["r"]:.3f} F1={s["f1"]:.3f} F1off={s["f1_off"]:.3f} ({len(audio) / SAMPLE_RATE_HZ / dt:.0f}x rt)'
        if basic_pitch is not None:
            t = time.perf_counter()
            est_ens = ensemble(audio, post, basic_pitch, solo_fusion, args.model_dir, pedal)
            ens_time += post_sec + time.perf_counter() - t  # our posteriors are computed once, for both
            se = note_scores(ref, est_ens)
            se['file'] = f.stem
            systems['ensemble'].append(se)
            line += f' | ensemble F1={se["f1"]:.3f} F1off={se["f1_off"]:.3f}'
        if seed_setup is not None:
            ss = note_scores(ref, seed(audio, seed_setup, seed_threshold))
            ss['file'] = f.stem
            systems['seed'].append(ss)
            line += f' | seed F1={ss["f1"]:.3f} F1off={ss["f1_off"]:.3f}'
        bp_file = args.basic_pitch_notes / f'{f.stem}.json'
        if bp_file.exists():
            bp = json.loads(bp_file.read_text())['notes']
            est_bp = np.array([[n['onsetSec'], n['offsetSec'], n['pitchMidi']] for n in bp], np.float64).reshape(-1, 3)
            sb = note_scores(ref, est_bp)
            sb['file'] = f.stem
            systems.setdefault('basic-pitch', []).append(sb)
            line += f' | basic-pitch F1={sb["f1"]:.3f} F1off={sb["f1_off"]:.3f}'
        print(line, flush=True)
    print(f'\nMAPS ENSTDkCl, {len(files)} files, {total_audio / 60:.1f} min, mean over files')
    print(f'{"system":8s} {"P":>6s} {"R":>6s} {"F1":>6s} {"F1+off":>7s}')
    summary = {}
    for name, rows in systems.items():
        if len(rows) != len(files):
            print(f'{name:8s} (only {len(rows)} of {len(files)} files; not summarised)')
            continue
        m = {k: float(np.mean([r[k] for r in rows])) for k in ('p', 'r', 'f1', 'f1_off')}
        summary[name] = m
        print(f'{name:8s} {m["p"]:6.3f} {m["r"]:6.3f} {m["f1"]:6.3f} {m["f1_off"]:7.3f}')
    speed = total_audio / total_time
    print(f'ours: {speed:.0f}x real time ({args.threads} threads, Python onnxruntime, features + network + decoding)')
    if ens_time:
        print(f'ensemble: {total_audio / ens_time:.0f}x real time (both networks, resampling, fusion, decoding)')
    if args.json:
        args.json.write_text(json.dumps({'summary': summary, 'speedX': speed, 'threads': args.threads,
                                         'manifestVersion': manifest['version'], 'files': systems}, indent=1))


if __name__ == '__main__':
    main()
