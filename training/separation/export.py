"""Exports the trained `unmix` network to models/unmix/unmix.onnx with its manifest, and writes the
TypeScript parity fixture test/separation/unmix-parity.json (target magnitudes that PyTorch gives
for a fixed synthetic stereo input; src/separation/unmix.ts must reproduce them from its own STFT).

  training/.venv/bin/python -m training.separation.export --config small
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .config import CONFIGS, MODELS_DIR, REPO_ROOT, RUNS_DIR, TARGETS, SepConfig
from .model import ExportWrapper, Unmix, stft

INPUT = 'mix_mag'
OUTPUT = 'target_mag'
PARITY_PATH = REPO_ROOT / 'test' / 'separation' / 'unmix-parity.json'
PARITY_SAMPLES = 8192
PARITY_STRIDE = 97


def parity_input(sample_rate_hz: int, n: int = PARITY_SAMPLES) -> np.ndarray:
    """The fixed stereo test signal; test/separation/unmix.test.ts builds the same one."""
    i = np.arange(n, dtype=np.float64)
    t = i / sample_rate_hz
    left = 0.3 * np.sin(2 * math.pi * 220 * t) + 0.1 * np.sin(2 * math.pi * 3000 * t + 1)
    right = 0.25 * np.sin(2 * math.pi * 330 * t) + 0.05 * (((i * 7919) % 1000) / 1000 - 0.5)
    return np.stack([left, right]).astype(np.float32)


def load_model(cfg: SepConfig, checkpoint: str, run: str | None = None) -> tuple[Unmix, dict]:
    ck = torch.load(RUNS_DIR / (run or cfg.name) / f'{checkpoint}.pt', map_location='cpu', weights_only=False)
    model = Unmix(cfg)
    model.load_state_dict(ck['model'])
    model.eval()
    return model, ck


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', default='small', choices=list(CONFIGS))
    ap.add_argument('--checkpoint', default='best', choices=['best', 'last'])
    ap.add_argument('--out', default=None,
                    help='write unmix.onnx and manifest.json here instead of models/unmix, and no TS fixture '
                         '(to evaluate a checkpoint with STEMSCRIBE_MODELS_DIR before shipping it)')
    ap.add_argument('--run', default=None, help='run folder under training/runs/separation (default: the config name)')
    ap.add_argument('--segment-sec', type=float, default=30.0, help='inference window written to the manifest')
    ap.add_argument('--wiener-iterations', type=int, default=1)
    ap.add_argument('--overlap', type=float, default=0.1, help='fraction of a window shared with the next')
    args = ap.parse_args()
    cfg = CONFIGS[args.config]
    torch.set_num_threads(1)
    model, ck = load_model(cfg, args.checkpoint, args.run)
    wrapped = ExportWrapper(model).eval()

    out_dir = Path(args.out) if args.out else MODELS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / 'unmix.onnx'
    dummy = torch.rand(40, 2, cfg.n_bins)
    torch.onnx.export(wrapped, (dummy,), str(onnx_path), input_names=[INPUT], output_names=[OUTPUT],
                      dynamic_axes={INPUT: {0: 'frames'}, OUTPUT: {0: 'frames'}}, opset_version=17, dynamo=False)

    # PyTorch vs onnxruntime on a real STFT of the parity signal.
    audio = torch.from_numpy(parity_input(cfg.sample_rate_hz))
    mag = stft(audio, cfg).abs().permute(2, 0, 1).contiguous()  # [frames, 2, bins]
    with torch.no_grad():
        ref = wrapped(mag).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    got = sess.run([OUTPUT], {INPUT: mag.numpy()})[0]
    max_diff = float(np.abs(got - ref).max())
    scale = float(np.abs(ref).max())
    print(f'onnxruntime vs torch: max |diff| {max_diff:.3g} (max |value| {scale:.3g})')
    assert max_diff <= 1e-4 * max(scale, 1e-6), 'ONNX export does not match PyTorch'

    data = onnx_path.read_bytes()
    manifest = {
        'name': 'unmix',
        'version': f"0.2.0-{cfg.name}-step{ck['step']}",
        'license': 'stemscribe project weights (see models/unmix/MODEL_CARD.md)',
        'file': 'unmix.onnx',
        'sha256': hashlib.sha256(data).hexdigest(),
        'bytes': len(data),
        'config': cfg.to_dict(),
        'trainedSteps': ck['step'],
        'sampleRateHz': cfg.sample_rate_hz,
        'nFft': cfg.n_fft,
        'hopSamples': cfg.hop,
        'bins': cfg.n_bins,
        'channels': 2,
        'targets': list(TARGETS),
        'input': INPUT,
        'output': OUTPUT,
        'stft': 'torch.stft(n_fft, hop, hann_window(n_fft) periodic, center=True, pad_mode=reflect, normalized=False, onesided); magnitude',
        'shapes': {INPUT: ['frames', 2, cfg.n_bins], OUTPUT: ['frames', len(TARGETS), 2, cfg.n_bins]},
        'wienerIterations': args.wiener_iterations,
        'segmentSec': args.segment_sec,
        'overlap': args.overlap,
        'onnx': {'opset': 17},
        'parityCheck': {'maxAbsDiffOrtVsTorch': max_diff, 'test': 'test/separation/unmix.test.ts'},
    }
    (out_dir / 'manifest.json').write_text(json.dumps(manifest, indent=2) + '\n')
    if args.out:
        print(f'wrote {onnx_path} ({len(data)} bytes) and its manifest')
        return

    flat = ref.reshape(-1)
    PARITY_PATH.write_text(json.dumps({
        'about': 'training/separation/export.py: PyTorch target magnitudes for parity_input(); every '
                 f'{PARITY_STRIDE}th value of the [frames, {len(TARGETS)}, 2, bins] output, flattened',
        'modelSha256': manifest['sha256'],
        'sampleRateHz': cfg.sample_rate_hz,
        'samples': PARITY_SAMPLES,
        'frames': int(ref.shape[0]),
        'stride': PARITY_STRIDE,
        'maxAbs': scale,
        'values': [round(float(v), 7) for v in flat[::PARITY_STRIDE]],
    }) + '\n')
    print(f'wrote {onnx_path} ({len(data)} bytes), manifest, {PARITY_PATH}')


if __name__ == '__main__':
    main()
