"""Trains ours (small / full) or the seed baseline on the rendered segments; resumable.

    python -m training.train --config small [--minutes 90] [--threads 1]
    python -m training.train --config full --device cuda        # GPU machine
    python -m training.train --config seed [--minutes 15]        # the 2020 baseline on the same data

Checkpoints: training/runs/<config>/last.pt (every N steps and at the end; rerunning the same
command resumes from it) and best.pt (best validation note F1). Log: training/runs/<config>/log.tsv.
"""
from __future__ import annotations

import argparse
import math
import time
from math import gcd
from pathlib import Path

import numpy as np
import torch

from .config import (CONFIGS, HOP_SAMPLES, MIN_MIDI, N_FFT, N_KEYS, RUNS_DIR, SAMPLE_RATE_HZ, SEED_HOP_SAMPLES, SEED_N_FFT,
                     SEED_N_MELS, SEED_SAMPLE_RATE_HZ, ModelConfig)
from .data import Augmenter, Segments, batch, eq_tilt, labels
from .decode import decode_frames, decode_notes
from .features import LogMel
from .model import PianoTranscriber, SeedBaseline
from .onnx_weights import calibrate_batchnorm, load_onnx_weights

PEDAL_LOSS_WEIGHT = 0.1
SEED_CFG = ModelConfig('seed', (0, 0, 0), 500, 0, 8.0, 16, 1e-3, 200_000, 500)


def to_seed_rate(audio: np.ndarray) -> np.ndarray:
    from scipy.signal import resample_poly  # only the seed baseline needs scipy
    g = gcd(SEED_SAMPLE_RATE_HZ, SAMPLE_RATE_HZ)
    return resample_poly(audio, SEED_SAMPLE_RATE_HZ // g, SAMPLE_RATE_HZ // g, axis=-1).astype(np.float32)


class Setup:
    """What differs between ours and the seed: model, front end, frame rate."""

    def __init__(self, name: str, device: torch.device):
        self.name = name
        self.seed = name == 'seed'
        self.cfg = SEED_CFG if self.seed else CONFIGS[name]
        if self.seed:
            self.model: torch.nn.Module = SeedBaseline()
            self.sr, self.hop, self.n_fft = SEED_SAMPLE_RATE_HZ, SEED_HOP_SAMPLES, SEED_N_FFT
            self.mel = LogMel(self.sr, self.hop, self.n_fft, SEED_N_MELS)
        else:
            self.model = PianoTranscriber(self.cfg)
            self.sr, self.hop, self.n_fft = SAMPLE_RATE_HZ, HOP_SAMPLES, N_FFT
            self.mel = LogMel()
        self.model.to(device)
        self.model.to(memory_format=torch.channels_last)  # see ConvStack.forward
        self.mel.to(device)
        self.device = device

    def features(self, audio16k: np.ndarray, rng: np.random.Generator | None) -> torch.Tensor:
        a = to_seed_rate(audio16k) if self.seed else audio16k
        x = torch.from_numpy(np.ascontiguousarray(a)).to(self.device)
        mag = self.mel.magnitude(x)
        if rng is not None:
            mag = eq_tilt(mag.cpu(), rng, self.sr, self.n_fft).to(self.device)
        return self.mel.from_magnitude(mag)

    def frame_sec(self) -> float:
        return self.hop / self.sr


TAIL_AFTER_FRAMES = 10  # --tail-weight: a note's key-down frames after its first 0.2 s ...
RELEASE_FRAMES = 3  # ... and the frames just after the release of such a note


def tail_weights(frame: torch.Tensor, weight: float) -> torch.Tensor:
    """Key-down labels [B, T, 88] -> frame-loss weights: `weight` on the key-down frames of a note
    after its first TAIL_AFTER_FRAMES and on the RELEASE_FRAMES after such a note's release, 1
    elsewhere. Why: most of the offsets lost on MAPS and on the renders are notes over 0.2 s that
    end early (models/piano/MODEL_CARD.md, "Note ends and the MAPS convention"), and those frames
    are a small part of the frame loss."""
    # Cumulative maxima instead of a loop over frames: run lengths from the last frame without the
    # key down, and frames since the last release of a key held longer than TAIL_AFTER_FRAMES.
    t = torch.arange(frame.shape[1], device=frame.device).view(1, -1, 1).expand_as(frame)
    up = frame == 0
    age = (t - torch.cummax(torch.where(up, t, torch.full_like(t, -1)), dim=1).values) * frame
    age_before = torch.cat([torch.zeros_like(age[:, :1]), age[:, :-1]], 1)
    release = up & (age_before > TAIL_AFTER_FRAMES)
    last_release = torch.cummax(torch.where(release, t, torch.full_like(t, -RELEASE_FRAMES - 1)), dim=1).values
    late = (age > TAIL_AFTER_FRAMES) | (up & (t - last_release < RELEASE_FRAMES))
    return torch.where(late, torch.full_like(frame, weight), torch.ones_like(frame))


def loss_fn(setup: Setup, out: dict[str, torch.Tensor], lab: dict[str, torch.Tensor],
            key_weight: torch.Tensor | None = None, tail_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """key_weight [88]: per-key weights of the onset and frame losses (None: all 1); tail_weight:
    see tail_weights (1: off)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    frame_weight = key_weight
    if tail_weight != 1.0:
        tails = tail_weights(lab['frame'], tail_weight)
        frame_weight = tails if key_weight is None else tails * key_weight
    losses = {'frame': bce(out['frame'], lab['frame'], weight=frame_weight)}
    if not setup.seed:
        losses['onset'] = bce(out['onset'], lab['onset'], weight=key_weight)
        losses['offset'] = bce(out['offset'], lab['offset'])
        w = lab['onset']
        losses['velocity'] = (w * (out['velocity'] - lab['velocity']) ** 2).sum() / w.sum().clamp(min=1)
        # Auxiliary: supervise the acoustic frame posterior directly, so the conv stack gets a dense
        # gradient from the start (through the combining GRU alone it learned very slowly).
        # It hears the sound, so its target is the pedal-extended one.
        losses['frame_pre'] = bce(out['frame_pre'], lab['sound'], weight=key_weight)
        # Down-weighted: at full weight its loss (~0.45, 50x the onset loss) steered the shared trunk
        # and onset F1 on validation fell from 0.63 to 0.50 within 2,000 steps.
        losses['pedal'] = PEDAL_LOSS_WEIGHT * bce(out['pedal'], lab['pedal'])
    return losses


VAL_ONSET_THRESHOLDS = (0.1, 0.2, 0.3, 0.5)
# The seed baseline has frames only: its frame threshold is chosen the same way.
VAL_SEED_FRAME_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)


@torch.no_grad()
def validate(setup: Setup, val: Segments, leak: Segments | None = None, n_segments: int = 12) -> dict[str, float]:
    """Note scores on the first validation segments, passed through the training augmentation with a
    fixed seed (real input is never as clean as a render), at the onset threshold that scores best:
    at a fixed 0.5 the score mostly tracked how confident the model was, and ranked checkpoints
    against the threshold-tuned F1 that the exporter ships (`f1` and `f1_off` at that threshold).
    For the seed baseline the threshold is its frame threshold (`onset_threshold` in the result)."""
    setup.model.eval()
    aug = Augmenter(leak, np.random.default_rng(2024)) if leak is not None else None
    posts = []
    for i in range(min(n_segments, len(val))):
        audio, notes, _ = val.get(i)
        mel = setup.features((aug(audio) if aug else audio)[None], None)
        out = setup.model(mel)
        posts.append(({k: (torch.sigmoid(out[k]) if k != 'velocity' else out[k])[0].cpu().numpy()
                       for k in out if k in ('onset', 'offset', 'frame', 'velocity')}, key_notes(notes)))
    setup.model.train()
    best: dict[str, float] | None = None
    for threshold in (VAL_SEED_FRAME_THRESHOLDS if setup.seed else VAL_ONSET_THRESHOLDS):
        scores = []
        for post, ref in posts:
            if setup.seed:
                est = decode_frames(post['frame'], setup.frame_sec(), threshold)
            else:
                est = decode_notes(post['onset'], post['offset'], post['frame'], post['velocity'], setup.frame_sec(),
                                   threshold)
            scores.append(note_scores(ref, est))
        mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
        if best is None or mean['f1'] > best['f1']:
            best = {**mean, 'onset_threshold': threshold}
    assert best is not None
    return best


def key_notes(notes: np.ndarray) -> np.ndarray:
    """midi_data.py's [n, 5] -> (onsetSec, keyOffsetSec, pitch): the reference as MAPS annotates it."""
    return np.c_[notes[:, 0], notes[:, 4], notes[:, 2]]


def note_scores(ref: np.ndarray, est: np.ndarray) -> dict[str, float]:
    """mir_eval note P/R/F1 (50 ms onsets), and F1 with offsets (ratio 0.2, min 50 ms); NaN where
    mir_eval is not installed (a bare GPU machine: training still runs, validation shows losses only)."""
    try:
        import mir_eval
    except ImportError:
        return {'p': float('nan'), 'r': float('nan'), 'f1': float('nan'), 'f1_off': float('nan')}
    def hz(p):
        return 440.0 * 2.0 ** ((np.asarray(p, np.float64) - 69) / 12)
    ri, rp = ref[:, :2].astype(np.float64), hz(ref[:, 2])
    ei, ep = est[:, :2].astype(np.float64), hz(est[:, 2])
    if len(ei) == 0:
        return {'p': 0.0, 'r': 0.0, 'f1': 0.0, 'f1_off': 0.0}
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, offset_ratio=None)
    _, _, fo, _ = mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep)
    return {'p': p, 'r': r, 'f1': f, 'f1_off': fo}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', default='small', choices=[*CONFIGS, 'seed'])
    ap.add_argument('--minutes', type=float, default=math.inf, help='stop (with a checkpoint) after this long')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--validate-every', type=int, default=0, help='steps (default: the checkpoint interval)')
    ap.add_argument('--run', default=None, help='run folder under training/runs (default: the config name)')
    ap.add_argument('--init-from', type=Path, default=None,
                    help='start a new run from these weights: a checkpoint (heads missing there start fresh) '
                         'or an exported model, e.g. models/piano/piano.onnx')
    ap.add_argument('--lr', type=float, default=None, help='learning rate (default: the config\'s)')
    ap.add_argument('--low-key-weight', type=float, default=1.0,
                    help='weight of the onset/frame losses for keys below MIDI 48 (the register with the lowest recall)')
    ap.add_argument('--tail-weight', type=float, default=1.0,
                    help='weight of the key-down loss on the late frames of notes over 0.2 s and just after their release')
    ap.add_argument('--anneal-steps', type=int, default=0,
                    help='cosine-decay the learning rate to 2%% over this many steps, then stop (fine-tuning '
                         'to convergence; default: step decay x0.9 every 2,000 steps, no end)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    setup = Setup(args.config, device)
    cfg = setup.cfg
    run_dir = RUNS_DIR / (args.run or args.config)
    run_dir.mkdir(parents=True, exist_ok=True)
    opt = torch.optim.Adam(setup.model.parameters(), lr=args.lr or cfg.learning_rate)
    if args.anneal_steps:
        # The step-decayed rate still made validation F1 swing by +-5 points between checkpoints;
        # a final cosine decay settles the weights instead of sampling one point of that swing.
        n = args.anneal_steps
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(s, n) / n)))
    else:
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2000, gamma=0.9)
    max_steps = min(cfg.steps, args.anneal_steps) if args.anneal_steps else cfg.steps
    rng = np.random.default_rng(args.seed)
    step, best = 0, -1.0
    last = run_dir / 'last.pt'
    if last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        setup.model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        sched.load_state_dict(ck['sched'])
        step, best = ck['step'], ck['best']
        rng.bit_generator.state = ck['rng']
        torch.set_rng_state(ck['torch_rng'])
        print(f'resumed from step {step}', flush=True)
    train, val, leak = Segments('train'), Segments('val'), Segments('leak')
    aug = Augmenter(leak, rng)
    seg_samples = int(cfg.segment_sec * SAMPLE_RATE_HZ) // HOP_SAMPLES * HOP_SAMPLES
    if not last.exists() and args.init_from and args.init_from.suffix == '.onnx':
        # A shipped model (checkpoints are not in git): its weights, then BatchNorms rebuilt from
        # 16 un-augmented training batches (training/onnx_weights.py).
        assert isinstance(setup.model, PianoTranscriber), 'ONNX initialisation is for our model, not the seed'
        load_onnx_weights(setup.model, args.init_from)
        calib_rng = np.random.default_rng(args.seed + 1)
        calibrate_batchnorm(setup.model, [setup.features(batch(train, None, calib_rng, cfg.batch_size, seg_samples)[0], None)
                                          for _ in range(16)])
        print(f'initialised from {args.init_from} (BatchNorm recalibrated)', flush=True)
    elif not last.exists() and args.init_from:
        missing, unexpected = setup.model.load_state_dict(
            torch.load(args.init_from, map_location=device, weights_only=False)['model'], strict=False)
        print(f'initialised from {args.init_from}; fresh: {missing}; unused: {unexpected}', flush=True)
    n_params = sum(p.numel() for p in setup.model.parameters())
    print(f'{args.config}: {n_params} parameters, {train.audio.size / SAMPLE_RATE_HZ / 3600:.2f} h training audio', flush=True)
    log = open(run_dir / 'log.tsv', 'a')
    every = args.validate_every or cfg.checkpoint_every
    key_weight = None
    if args.low_key_weight != 1.0:
        key_weight = torch.ones(N_KEYS, device=device)
        key_weight[:48 - MIN_MIDI] = args.low_key_weight
    t_start = time.time()
    t_last, running = time.time(), {}

    def save(path):
        torch.save({'model': setup.model.state_dict(), 'opt': opt.state_dict(), 'sched': sched.state_dict(),
                    'step': step, 'best': best, 'rng': rng.bit_generator.state, 'torch_rng': torch.get_rng_state(),
                    'config': cfg.to_dict()}, path)

    setup.model.train()
    while step < max_steps and (time.time() - t_start) / 60 < args.minutes:
        audio, notes, pedals = batch(train, aug, rng, cfg.batch_size, seg_samples)
        mel = setup.features(audio, rng)
        n_frames = mel.shape[1]
        labs = [labels(n, p, n_frames, setup.hop, setup.sr) for n, p in zip(notes, pedals)]
        lab = {k: torch.from_numpy(np.stack([l[k] for l in labs])).to(device) for k in labs[0]}
        out = setup.model(mel)
        losses = loss_fn(setup, out, lab, key_weight, args.tail_weight)
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(setup.model.parameters(), 3.0)
        opt.step()
        sched.step()
        step += 1
        for k, v in losses.items():
            running[k] = running.get(k, 0.0) + float(v.detach())
        if step % every == 0:
            sec_per_step = (time.time() - t_last) / every
            v = validate(setup, val, leak)
            msg = ' '.join(f'{k}={running[k] / every:.4f}' for k in running)
            print(f'step {step} {sec_per_step:.2f}s/step {msg} val_p={v["p"]:.3f} val_r={v["r"]:.3f} '
                  f'val_f1={v["f1"]:.3f} val_f1_off={v["f1_off"]:.3f} (onset threshold {v["onset_threshold"]})', flush=True)
            log.write(f'{step}\t{sec_per_step:.3f}\t{msg}\t{v["p"]:.4f}\t{v["r"]:.4f}\t{v["f1"]:.4f}\t{v["f1_off"]:.4f}\n')
            log.flush()
            if v['f1'] > best or (np.isnan(v['f1']) and step > 0):
                best = v['f1']
                save(run_dir / 'best.pt')
            save(last)
            running, t_last = {}, time.time()
    save(last)
    print(f'stopped at step {step}; best val note F1 {best:.3f}', flush=True)


if __name__ == '__main__':
    main()
