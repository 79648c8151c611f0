"""Exports a trained checkpoint to ONNX for onnxruntime-node, with its manifest and a parity fixture.

    python -m training.export [--config small] [--checkpoint training/runs/small/best.pt]
    python -m training.export --checkpoint a.pt b.pt c.pt   # their weights averaged (one run's late checkpoints)
    python -m training.export --retune   # keep models/piano's ONNX; choose its decoding settings again

Writes models/piano/piano.onnx (input `mel` [batch, frames, 229] log-mel; outputs `onset`, `offset`
(key release), `frame` (key down), `velocity` [batch, frames, 88] and `pedal` [batch, frames, 1]), models/piano/manifest.json (front-end parameters,
tensor names, decoding thresholds, chunking), and test/transcription/fixtures/piano-parity.{s16,json}:
a short rendered clip with the Python features, ONNX posteriors and decoded notes, which the TS test
compares against.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .bank import load_bank
from .config import (CONFIGS, F_MAX_HZ, F_MIN_HZ, HOP_SAMPLES, LOG_FLOOR, MAX_MIDI, MIN_MIDI, MODELS_DIR, N_FFT,
                     N_MELS, REPO_ROOT, RUNS_DIR, SAMPLE_RATE_HZ)
from .decode import FRAME_THRESHOLD, OFFSET_THRESHOLD, ONSET_THRESHOLD, decode_notes, decode_pedal, decode_with
from .features import LogMel
from .fusion import BasicPitchPosteriors, fuse
from .midi_data import procedural
from .model import PianoTranscriber, ProbabilityModel
from .synth import Sampler

FIXTURE_DIR = REPO_ROOT / 'test' / 'transcription' / 'fixtures'
OUTPUTS = ['onset', 'offset', 'frame', 'velocity', 'pedal']
PEDAL_THRESHOLD = 0.5
CHUNK_FRAMES = 1000  # 20 s per ONNX call
CONTEXT_FRAMES = 100  # 2 s each side, dropped after inference so the BiGRUs see both directions


def load_model(config: str, checkpoints: list[Path]) -> tuple[PianoTranscriber, dict]:
    """One checkpoint, or the mean of several (stochastic weight averaging: checkpoints of one run
    late in training lie in one basin, and their mean generalises better than any of them). The
    returned checkpoint dict is the last one's, for its step and config."""
    cks = [torch.load(c, map_location='cpu', weights_only=False) for c in checkpoints]
    state = {k: (torch.stack([ck['model'][k].float() for ck in cks]).mean(0).to(v.dtype) if v.is_floating_point() else v)
             for k, v in cks[-1]['model'].items()}
    model = PianoTranscriber(CONFIGS[config])
    model.load_state_dict(state)
    model.eval()
    return model, cks[-1]


def run_chunked(session: ort.InferenceSession, mel: np.ndarray) -> dict[str, np.ndarray]:
    """The same chunking as src/transcription/piano.ts: 1000-frame cores with 100 frames of context."""
    n = len(mel)
    out: dict[str, np.ndarray] = {}
    for core in range(0, n, CHUNK_FRAMES):
        a = max(0, core - CONTEXT_FRAMES)
        b = min(n, core + CHUNK_FRAMES + CONTEXT_FRAMES)
        res = session.run(OUTPUTS, {'mel': mel[None, a:b].astype(np.float32)})
        e = min(n, core + CHUNK_FRAMES)
        for k, r in zip(OUTPUTS, res):
            out.setdefault(k, np.zeros((n, r.shape[-1]), np.float32))[core:e] = r[0, core - a:e - a]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', default='small', choices=list(CONFIGS))
    ap.add_argument('--checkpoint', type=Path, nargs='+', default=None)
    ap.add_argument('--out-dir', type=Path, default=MODELS_DIR)
    ap.add_argument('--no-tune', dest='tune', action='store_false',
                    help='keep the default 0.5 thresholds instead of choosing them on the rendered validation set')
    ap.add_argument('--retune', action='store_true',
                    help="keep the exported model in --out-dir as it is (no checkpoint needed) and choose its decoding "
                         "settings and the ensemble's again; rewrites the manifest's thresholds and the parity fixture")
    args = ap.parse_args()
    if args.retune:
        retune(args.out_dir)
        return
    model, ck = load_model(args.config, args.checkpoint or [RUNS_DIR / args.config / 'best.pt'])
    args.out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out_dir / 'piano.onnx'
    wrapped = ProbabilityModel(model).eval()
    dummy = torch.randn(1, 300, N_MELS)
    torch.onnx.export(wrapped, (dummy,), str(onnx_path), input_names=['mel'], output_names=OUTPUTS,
                      dynamic_axes={'mel': {0: 'batch', 1: 'frames'}, **{k: {0: 'batch', 1: 'frames'} for k in OUTPUTS}},
                      opset_version=17, dynamo=False)
    wrapped.eval()  # the exporter restores the wrapper's mode, which would re-enable dropout
    with torch.no_grad():
        ref = [t.numpy() for t in wrapped(dummy)]
    sess = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    got = sess.run(OUTPUTS, {'mel': dummy.numpy()})
    err = max(float(np.abs(a - b).max()) for a, b in zip(ref, got))
    print(f'ONNX vs PyTorch max abs difference: {err:.2e}')
    assert err < 1e-4, err
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    if args.tune:
        thresholds, ensemble = tune_thresholds(sess)
    else:
        thresholds = {'onset': ONSET_THRESHOLD, 'frame': FRAME_THRESHOLD, 'offset': OFFSET_THRESHOLD}
        ensemble = {'onsetWeight': 0.5, 'frameWeight': 0.5, 'thresholds': thresholds}
    manifest = {
        'name': 'piano',
        'version': f"0.3.0-{args.config}-step{ck['step']}" + (f'-swa{len(args.checkpoint)}' if args.checkpoint and len(args.checkpoint) > 1 else ''),
        'license': 'CC-BY-NC-SA-4.0 (conservatively: trained on renders of ASAP MIDI, CC BY-NC-SA 4.0; see MODEL_CARD.md)',
        'file': 'piano.onnx',
        'sha256': sha,
        'config': ck['config'],
        'trainingStep': ck['step'],
        'features': {'sampleRateHz': SAMPLE_RATE_HZ, 'hopSamples': HOP_SAMPLES, 'fftSize': N_FFT, 'melBins': N_MELS,
                     'fMinHz': F_MIN_HZ, 'fMaxHz': F_MAX_HZ, 'logFloor': LOG_FLOOR, 'window': 'hann-periodic',
                     'center': 'zero-pad', 'magnitude': 'abs', 'melScale': 'slaney', 'melNorm': 'slaney'},
        'input': 'mel',
        'outputs': {k: k for k in OUTPUTS},
        'minPitchMidi': MIN_MIDI,
        'keys': MAX_MIDI - MIN_MIDI + 1,
        'chunkFrames': CHUNK_FRAMES,
        'contextFrames': CONTEXT_FRAMES,
        'thresholds': {**thresholds, 'pedal': PEDAL_THRESHOLD},
        # The piano-ensemble transcriber (training/fusion.py, src/transcription/ensemble.ts).
        'ensemble': {**ensemble, 'with': 'basic-pitch'},
    }
    (args.out_dir / 'manifest.json').write_text(json.dumps(manifest, indent=2) + '\n')
    print(f'wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and manifest.json')
    write_fixture(sess, thresholds, ensemble)


def retune(model_dir: Path) -> None:
    """Decoding settings chosen again for the shipped weights (checkpoints are not kept in git)."""
    manifest_path = model_dir / 'manifest.json'
    manifest = json.loads(manifest_path.read_text())
    onnx_path = model_dir / manifest['file']
    if hashlib.sha256(onnx_path.read_bytes()).hexdigest() != manifest['sha256']:
        raise SystemExit(f'{onnx_path} does not match its manifest checksum')
    sess = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    thresholds, ensemble = tune_thresholds(sess)
    manifest['thresholds'] = {**thresholds, 'pedal': manifest['thresholds'].get('pedal', PEDAL_THRESHOLD)}
    manifest['ensemble'] = {**ensemble, 'with': manifest.get('ensemble', {}).get('with', 'basic-pitch')}
    manifest_path.write_text(json.dumps(manifest, indent=2) + '\n')
    print(f'rewrote {manifest_path}')
    write_fixture(sess, thresholds, ensemble)


def tune_thresholds(sess: ort.InferenceSession) -> tuple[dict[str, float], dict]:
    """Decoding thresholds chosen on the rendered validation set (held-out works and timbre; never
    MAPS): onset threshold by note F1, then frame and offset thresholds by F1 with offsets. The
    validation audio goes through the training augmentation (fixed seed) first: real input is never
    as clean as a render, and thresholds tuned on clean renders under-detect on real recordings.
    Then the same for the piano-ensemble fusion (training/fusion.py): its onset weight with the
    onset threshold, its frame weight with the frame and offset thresholds."""
    from .data import Augmenter, Segments
    from .train import key_notes, note_scores
    val = Segments('val')
    augment = Augmenter(Segments('leak'), np.random.default_rng(2024))
    mel = LogMel()
    basic_pitch = BasicPitchPosteriors()
    cache = []
    for i in range(len(val)):
        audio, notes, _ = val.get(i)
        audio = augment(audio)
        notes = key_notes(notes)
        with torch.no_grad():
            m = mel(torch.from_numpy(audio)[None])[0].numpy()
        cache.append((run_chunked(sess, m), basic_pitch(audio), notes))
    fs = HOP_SAMPLES / SAMPLE_RATE_HZ

    def score(on: float, fr: float, off: float, key: str, w_on: float = 1.0, w_fr: float = 1.0, fall: int = 0) -> float:
        scores = []
        for post, (bp_on, bp_note), n in cache:
            p = post if (w_on, w_fr) == (1.0, 1.0) else fuse(post, bp_on, bp_note, w_on, w_fr, fs)
            est = decode_notes(p['onset'], p['offset'], p['frame'], p['velocity'], fs, on, fr, off, fall)
            scores.append(note_scores(n, est)[key])
        return float(np.mean(scores))
    # Onsets do not depend on the frame, offset and release settings: the onset threshold (and the
    # fusion's onset weight) first by note F1, then the rest by F1 with offsets.
    offsets = (0.5, 0.7, 1.01)
    falls = (0, 2, 3, 4)
    best_on = max([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], key=lambda t: score(t, 0.5, 0.5, 'f1'))
    best_fr, best_off, best_fall = max([(fr, off, f) for fr in (0.2, 0.3, 0.4, 0.5, 0.6) for off in offsets for f in falls],
                                       key=lambda x: score(best_on, x[0], x[1], 'f1_off', fall=x[2]))
    th = {'onset': best_on, 'frame': best_fr, 'offset': best_off, 'releaseFallFrames': best_fall}
    print(f'thresholds tuned on {len(cache)} rendered validation segments: {th}; '
          f'val F1 {score(best_on, best_fr, best_off, "f1"):.3f}, with offsets '
          f'{score(best_on, best_fr, best_off, "f1_off", fall=best_fall):.3f}', flush=True)
    w_on, e_on = max([(w, t) for w in (0.8, 0.7, 0.6, 0.5) for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)],
                     key=lambda x: score(x[1], 0.5, 0.5, 'f1', x[0]))
    w_fr, e_fr, e_off, e_fall = max([(w, fr, off, f) for w in (1.0, 0.7, 0.5, 0.3) for fr in (0.2, 0.3, 0.4, 0.5)
                                     for off in offsets for f in falls],
                                    key=lambda x: score(e_on, x[1], x[2], 'f1_off', w_on, x[0], x[3]))
    ensemble = {'onsetWeight': w_on, 'frameWeight': w_fr,
                'thresholds': {'onset': e_on, 'frame': e_fr, 'offset': e_off, 'releaseFallFrames': e_fall}}
    print(f'ensemble with basic-pitch: {ensemble}; val F1 {score(e_on, e_fr, e_off, "f1", w_on, w_fr):.3f}, '
          f'with offsets {score(e_on, e_fr, e_off, "f1_off", w_on, w_fr, e_fall):.3f}')
    return th, ensemble


def write_fixture(sess: ort.InferenceSession, th: dict[str, float], ensemble: dict) -> None:
    """3 s of procedural material with the held-out timbre: Python features, posteriors, notes, and
    the piano-ensemble's notes."""
    rng = np.random.default_rng(7)
    notes, _ = procedural(rng, 3.0)
    audio = Sampler(load_bank('musescore')).render(notes[:, :4], 3.0, rng)
    audio = np.round(audio / np.abs(audio).max() * 0.5 * 32767).astype(np.int16)
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    (FIXTURE_DIR / 'piano-parity.s16').write_bytes(audio.astype('<i2').tobytes())
    x = torch.from_numpy(audio.astype(np.float32) / 32768.0)[None]
    mel = LogMel()(x)[0].numpy()
    post = run_chunked(sess, mel)
    fs = HOP_SAMPLES / SAMPLE_RATE_HZ
    est = decode_with(post, fs, th)
    fused = fuse(post, *BasicPitchPosteriors()(audio.astype(np.float32) / 32768.0), ensemble['onsetWeight'],
                 ensemble['frameWeight'], fs)
    est_ens = decode_with(fused, fs, ensemble['thresholds'])
    probe_frames = [0, 1, 37, 75, 120, len(mel) - 1]
    fixture = {
        'sampleRateHz': SAMPLE_RATE_HZ,
        'frames': len(mel),
        'probeFrames': probe_frames,
        'mel': [[round(float(v), 5) for v in mel[t]] for t in probe_frames],
        'posteriors': {k: [[round(float(v), 6) for v in post[k][t]] for t in probe_frames] for k in OUTPUTS},
        'notes': [{'onsetSec': round(float(n[0]), 6), 'offsetSec': round(float(n[1]), 6), 'pitchMidi': int(n[2]),
                   'velocity': int(n[3])} for n in est],
        'ensembleNotes': [{'onsetSec': round(float(n[0]), 6), 'offsetSec': round(float(n[1]), 6), 'pitchMidi': int(n[2]),
                           'velocity': int(n[3])} for n in est_ens],
        'pedal': [{'onsetSec': round(a, 6), 'offsetSec': round(b, 6)}
                  for a, b in decode_pedal(post['pedal'][:, 0], fs, PEDAL_THRESHOLD)],
        'referenceNotes': [{'onsetSec': float(n[0]), 'offsetSec': float(n[4]), 'pitchMidi': int(n[2])} for n in notes],
    }
    (FIXTURE_DIR / 'piano-parity.json').write_text(json.dumps(fixture) + '\n')
    from .train import key_notes, note_scores
    f1 = note_scores(key_notes(notes), est[:, :3])['f1'] if len(est) else 0.0
    print(f'fixture: {len(mel)} frames, {len(est)} decoded notes, {len(notes)} reference notes, note F1 {f1:.3f}')


if __name__ == '__main__':
    main()
