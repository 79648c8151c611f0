"""An experiment, not shipped: a key-down ("end") head whose posterior decides where the
piano-ensemble's notes end (models/piano/MODEL_CARD.md, "Note ends and the MAPS convention").

    python -m training.render --asap 400 --procedural 100     # fresh training renders (4 min)
    python -m training.end_head --steps 500                   # caches inputs, trains (resumable), scores

Why it was tried: of the ensemble's matched MAPS notes, most of those longer than 0.2 s end early,
with the sustain pedal down or up, because the fused key-down posterior follows the fading sound.
The model card's next step was a head over both models' posteriors for note ends. This one reads
more than the onset head does. Its input is [10, T, 88]:
- our onset, key-down and offset posteriors;
- basic-pitch's onset and note posteriors;
- our sustain-pedal posterior;
- the log-mel level at each key's first two harmonics, relative to the frame's loudest band, and
  each level's change over two frames, because a damper's fall in level is what marks a release.
Its context is +-2.5 s: dilated time convolutions 1..32 after a local and an octave convolution.
Its output is the logit of the solo profile's fused key-down posterior (0.7 ours + 0.3
basic-pitch) plus a learned correction that starts at zero. It is trained by BCE on key-down
frames of renders of the training works.

Result (2026-12-04, 500 steps of 8 x 400 frames x 48 keys, 7 minutes, on 500 excerpts of 20 s):
F1 with offsets on the validation renders (held-out works and timbre) 0.498 -> 0.532 (frame
threshold 0.3, fall 3), on MAPS 49.3 -> 42.2. The head learned the renders' note lengths:
ASAP's pianists let keys up early, under the pedal above all, while piano-midi.de's sequenced
notes (MAPS) are held to the next onset (`python -m training.offset_conventions`). Under the
pedal a key release makes no sound, so the length there can only come from such a prior. With
dampers twice as fast in every render (`render.py --damper-scale 0.5 --out-dir DIR`, then
`--segments DIR` here): 0.512 -> 0.556 on those renders, MAPS 43.2. Kept to reproduce these
findings.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import (F_MAX_HZ, F_MIN_HZ, HOP_SAMPLES, MIN_MIDI, MODELS_DIR, N_FFT, N_KEYS, N_MELS, RUNS_DIR,
                     SAMPLE_RATE_HZ, SEGMENT_DIR)
from .features import mel_filterbank
from .onset_head import head_labels, logit

FRAME_SEC = HOP_SAMPLES / SAMPLE_RATE_HZ
FRAME_WEIGHT = 0.7  # the solo profile's key-down weight of our model in the fusion
DILATIONS = (1, 2, 4, 8, 16, 32)


def harmonic_bins(harmonics: int = 2) -> list[np.ndarray]:
    """Per harmonic h, the mel band whose centre is nearest h x each key's fundamental."""
    fb = mel_filterbank(SAMPLE_RATE_HZ, N_FFT, N_MELS, F_MIN_HZ, F_MAX_HZ)
    centre_hz = (fb * (np.arange(fb.shape[1]) * SAMPLE_RATE_HZ / N_FFT)).sum(1) / fb.sum(1)
    f0_hz = 440 * 2 ** ((np.arange(N_KEYS) + MIN_MIDI - 69) / 12)
    return [np.abs(centre_hz[None] - h * f0_hz[:, None]).argmin(1) for h in range(1, harmonics + 1)]


HARMONIC_BINS = harmonic_bins()


def end_inputs(ours: dict[str, np.ndarray], bp_onset: np.ndarray, bp_note: np.ndarray, log_mel: np.ndarray) -> np.ndarray:
    """Our posteriors, basic-pitch's (its own frame rate) and the log-mel [T, 229] -> [10, T, 88]."""
    from .fusion import to_our_frames
    n = len(ours['onset'])
    mel = log_mel[:n].astype(np.float32)
    pedal = np.repeat(ours['pedal'].reshape(n, -1)[:, :1], N_KEYS, 1)
    channels = [ours['onset'], ours['frame'], ours['offset'], to_our_frames(bp_onset, n, FRAME_SEC),
                to_our_frames(bp_note, n, FRAME_SEC), pedal]
    for bins in HARMONIC_BINS:
        level = mel[:, bins] - mel.max(1, keepdims=True)  # relative to the loudest band: the input gain drops out
        change = np.zeros_like(level)
        change[2:] = level[2:] - level[:-2]
        channels += [level / 5, change / 2]
    return np.stack(channels).astype(np.float32)


class EndHead(nn.Module):
    """[B, 10, T, K] inputs and the keys' register [B, 1, 1, K] -> key-down logits [B, T, K]."""

    def __init__(self, inputs: int = 10, channels: int = 24):
        super().__init__()
        self.local = nn.Conv2d(inputs + 1, channels, (5, 3), padding=(2, 1))
        self.octave = nn.Conv2d(channels, channels, 3, padding=(1, 12), dilation=(1, 12))
        self.time = nn.ModuleList([nn.Conv2d(channels, channels, (3, 1), padding=(d, 0), dilation=(d, 1))
                                   for d in DILATIONS])
        self.out = nn.Conv2d(channels, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, register: torch.Tensor) -> torch.Tensor:
        base = logit(FRAME_WEIGHT * x[:, 1] + (1 - FRAME_WEIGHT) * x[:, 4])
        h = torch.relu(self.local(torch.cat([x, register.expand(x.shape[0], 1, x.shape[2], x.shape[3])], 1)))
        h = h + torch.relu(self.octave(h))
        for conv in self.time:
            h = h + torch.relu(conv(h))
        return base + self.out(h)[:, 0]


def register(first_key: int = 0, keys: int = N_KEYS) -> torch.Tensor:
    return torch.linspace(-1, 1, N_KEYS)[first_key:first_key + keys].view(1, 1, 1, keys)


def build_cache(segment_dir: Path, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The training renders through the augmentation and both models once: inputs [S, 10, T, 88]
    float16 and key-down labels [S, T, 88]."""
    path = segment_dir / 'end-head-cache.npz'
    if path.exists():
        z = np.load(path)
        return z['x'], z['y']
    import onnxruntime as ort
    from . import data
    from .export import posteriors
    from .features import LogMel
    from .fusion import BasicPitchPosteriors
    from .train import key_notes
    segments = data.Segments('train', segment_dir)
    augment = data.Augmenter(data.Segments('leak', segment_dir), np.random.default_rng(77))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(MODELS_DIR / 'piano.onnx'), opts, providers=['CPUExecutionProvider'])
    mel, bp = LogMel(), BasicPitchPosteriors(threads=threads)
    xs, ys = [], []
    for i in range(len(segments)):
        audio, notes, _ = segments.get(i)
        audio = augment(audio)
        with torch.no_grad():
            log_mel = mel(torch.from_numpy(audio)[None])[0].numpy()
        x = end_inputs(posteriors(audio, session, mel), *bp(audio), log_mel)
        xs.append(x.astype(np.float16))
        ys.append(head_labels(key_notes(notes), x.shape[1])[1].astype(np.bool_))
    n = min(x.shape[1] for x in xs)
    x, y = np.stack([a[:, :n] for a in xs]), np.stack([a[:n] for a in ys])
    np.savez(path, x=x, y=y)
    return x, y


def train(run_dir: Path, segment_dir: Path, steps: int, batch: int, crop_frames: int, crop_keys: int, lr: float, threads: int) -> EndHead:
    """Resumable; crops of `crop_keys` neighbouring keys (the register channel says which)."""
    x, y = build_cache(segment_dir, threads)
    model = EndHead(x.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr)
    step, rng = 0, np.random.default_rng(0)
    last = run_dir / 'last.pt'
    if last.exists():
        ck = torch.load(last, map_location='cpu', weights_only=False)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step, rng = ck['step'], ck['rng']
    t0 = time.time()
    while step < steps:
        idx = rng.integers(len(x), size=batch)
        starts = rng.integers(x.shape[2] - crop_frames, size=batch)
        keys = rng.integers(N_KEYS - crop_keys + 1, size=batch)
        crop = [(i, s, k) for i, s, k in zip(idx, starts, keys)]
        xb = torch.from_numpy(np.stack([x[i, :, s:s + crop_frames, k:k + crop_keys] for i, s, k in crop]).astype(np.float32))
        yb = torch.from_numpy(np.stack([y[i, s:s + crop_frames, k:k + crop_keys] for i, s, k in crop]).astype(np.float32))
        reg = torch.cat([register(int(k), crop_keys) for k in keys])
        loss = nn.functional.binary_cross_entropy_with_logits(model(xb, reg), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f'step {step} loss {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)
        if step % 250 == 0 or step == steps:
            torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'rng': rng}, last)
    return model.eval()


def score(model: EndHead, segment_dir: Path, threads: int) -> None:
    """F1 with offsets of the solo ensemble with the fused key-down posterior (as shipped) and
    with the head's, on the augmented validation renders (where a setting would be chosen) and on
    MAPS (measured)."""
    import json
    import onnxruntime as ort
    from .decode import decode_with
    from .evaluate import MAPS_DIR, read_recording
    from .export import augmented_val, posteriors
    from .features import LogMel
    from .fusion import BasicPitchPosteriors, fuse_config
    from .train import note_scores
    manifest = json.loads((MODELS_DIR / 'manifest.json').read_text())
    cfg = manifest['ensemble']['solo']
    pedal = manifest['thresholds']['pedal']  # the decoded pedal spans hold the notes released under them
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(MODELS_DIR / manifest['file']), opts, providers=['CPUExecutionProvider'])
    mel, bp = LogMel(), BasicPitchPosteriors(threads=threads)

    def examples(name: str):
        if name == 'val':
            yield from augmented_val(segment_dir)
        else:
            for f in sorted(MAPS_DIR.glob('*.flac')):
                audio, ref = read_recording(f)
                yield audio, ref[:, :3]

    settings = [('fused key-down (shipped)', None)] + [(f'end head, frame {t}', t) for t in (0.3, 0.4)]
    for name in ('val', 'maps'):
        totals = {label: [] for label, _ in settings}
        for audio, ref in examples(name):
            ours = posteriors(audio, session, mel)
            bp_onset, bp_note = bp(audio)
            fused = fuse_config(ours, bp_onset, bp_note, cfg, FRAME_SEC)
            with torch.no_grad():
                log_mel = mel(torch.from_numpy(audio)[None])[0].numpy()
                x = torch.from_numpy(end_inputs(ours, bp_onset, bp_note, log_mel))[None]
                head = torch.sigmoid(model(x, register()))[0].numpy()
            for label, threshold in settings:
                post = fused if threshold is None else {**fused, 'frame': head}
                th = cfg['thresholds'] if threshold is None else {**cfg['thresholds'], 'frame': threshold}
                totals[label].append(note_scores(ref, decode_with(post, FRAME_SEC, th, pedal))['f1_off'])
        for label, values in totals.items():
            print(f'{name:4s} {label:26s} F1 with offsets {np.mean(values):.3f}', flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='end-head')
    ap.add_argument('--segments', type=Path, default=SEGMENT_DIR, help='the renders (train, val, leak) to train and validate on')
    ap.add_argument('--steps', type=int, default=500)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--crop-frames', type=int, default=400)
    ap.add_argument('--crop-keys', type=int, default=48)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    run_dir = RUNS_DIR / args.run
    run_dir.mkdir(parents=True, exist_ok=True)
    model = train(run_dir, args.segments, args.steps, args.batch, args.crop_frames, args.crop_keys, args.lr, args.threads)
    score(model, args.segments, args.threads)


if __name__ == '__main__':
    main()
