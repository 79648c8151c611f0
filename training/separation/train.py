"""Trains the `unmix` separator (resumable: re-running continues from runs/separation/<config>/last.pt).

  training/.venv/bin/python -m training.separation.train --config small --minutes 80
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from .config import CONFIGS, DATA_DIR, RUNS_DIR, TARGETS, SepConfig
from .data import Augmented, PianoBank, fixed_segments, load_split
from .model import Unmix, stft
from .onnx_weights import check_against_onnx, load_unmix_onnx


def spectra(batch: torch.Tensor, cfg: SepConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, targets, 2, n] audio -> (mix magnitude [frames, B, 2, bins], target magnitudes [frames, B, targets, 2, bins])."""
    spec = stft(batch, cfg)  # complex [B, T, 2, bins, frames]
    mix = spec.sum(1).abs().permute(3, 0, 1, 2)
    tgt = spec.abs().permute(4, 0, 1, 2, 3)
    return mix, tgt


@torch.no_grad()
def input_statistics(model: Unmix, data: Augmented, cfg: SepConfig, rng: np.random.Generator, n: int = 48) -> None:
    """open-unmix's scaler: mean and std of the mix magnitude per input bin."""
    mags = []
    for _ in range(n // 8):
        mix, _ = spectra(torch.from_numpy(data.batch(rng, 8)), cfg)
        mags.append(mix[..., : cfg.max_bin].reshape(-1, cfg.max_bin))
    m = torch.cat(mags)
    model.input_mean.copy_(-m.mean(0))
    model.input_scale.copy_(1.0 / m.std(0).clamp_min(1e-8))


@torch.no_grad()
def validate(model: Unmix, val: torch.Tensor, cfg: SepConfig) -> dict[str, float]:
    model.eval()
    losses, sdrs = [], []
    for i in range(0, len(val), 4):
        mix, tgt = spectra(val[i:i + 4], cfg)
        est = model(mix)
        losses.append(torch.mean((est - tgt) ** 2).item())
        # Spectral SDR per target (target energy / error energy), a quick proxy; median over segments.
        num = (tgt ** 2).sum(dim=(0, 3, 4))
        den = ((est - tgt) ** 2).sum(dim=(0, 3, 4))
        sdr = 10 * torch.log10((num + 1e-8) / (den + 1e-8))
        # Segments where a target is (nearly) silent say nothing about that target: leave them out.
        sdrs.append(torch.where(num > 1e-3 * num.mean(), sdr, torch.nan))
    model.train()
    sdr = torch.cat(sdrs).nanmedian(0).values
    return {'loss': float(np.mean(losses)), **{f'sdr_{t}': round(float(v), 2) for t, v in zip(TARGETS, sdr)}}


def widen_targets(state: dict[str, torch.Tensor], old_targets: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Maps a checkpoint trained on `old_targets` (e.g. the four-stem model) onto TARGETS: shared
    layers as they are; a new target starts as half of the old `other` and `other` keeps the other
    half (their masks sum to the old one), so training starts from what the old model could do."""
    src = [old_targets.index(t) if t in old_targets else old_targets.index('other') for t in TARGETS]
    split = {TARGETS.index('other')} | {i for i, t in enumerate(TARGETS) if t not in old_targets}
    out = dict(state)
    nt_old = len(old_targets)
    for key in ('fc3.weight', 'bn3.weight', 'bn3.bias', 'bn3.running_mean', 'bn3.running_var'):
        w = state[key]
        w = w.reshape(nt_old, -1, *w.shape[1:])[src]
        out[key] = w.reshape(-1, *w.shape[2:])
    for key in ('output_scale', 'output_mean'):
        # relu(x * s + m) is positively homogeneous in (s, m): halving both halves the mask.
        w = state[key][src].clone()
        for i in split:
            w[i] *= 0.5
        out[key] = w
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', default='small', choices=list(CONFIGS))
    ap.add_argument('--minutes', type=float, default=math.inf, help='stop (with a checkpoint) after this long')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--data', default=str(DATA_DIR), help='rendered songs (train/ and valid/ inside)')
    ap.add_argument('--run', default=None, help='run folder under training/runs/separation (default: the config name)')
    ap.add_argument('--lr', type=float, default=None, help="learning rate (default: the config's)")
    ap.add_argument('--anneal-steps', type=int, default=0,
                    help='cosine-decay the learning rate to 2%% over this many steps, then stop (default: '
                         'ReduceLROnPlateau, which on the noisy validation loss cut the rate 10x within 4,000 steps)')
    ap.add_argument('--piano-weight', type=float, default=1.0,
                    help='weight of the piano target in the loss (the stem the product transcribes)')
    ap.add_argument('--piano-bank', type=float, default=0.0,
                    help="probability that an example's piano stem is a solo performance from the piano model's "
                         "renders (training/data/segments/train.npz: sampled and additive pianos, not only GM patches)")
    ap.add_argument('--init-from', type=Path, default=None,
                    help='start a new run from these weights: a checkpoint (a model with fewer targets is widened, '
                         'widen_targets) or an exported ONNX file such as models/unmix/unmix.onnx')
    args = ap.parse_args()
    cfg = CONFIGS[args.config]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    run = RUNS_DIR / (args.run or cfg.name)
    run.mkdir(parents=True, exist_ok=True)

    seg = int(cfg.segment_sec * cfg.sample_rate_hz)
    data_dir = Path(args.data)
    bank = PianoBank(cfg.sample_rate_hz) if args.piano_bank > 0 else None
    train = Augmented(load_split('train', cfg.sample_rate_hz, data_dir), seg, cfg.p_random_mix, bank, args.piano_bank)
    val = torch.from_numpy(fixed_segments(load_split('valid', cfg.sample_rate_hz, data_dir), seg)).to(device)
    print(f'{len(train.songs)} training songs, {len(val)} validation segments', flush=True)

    model = Unmix(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr or cfg.learning_rate, weight_decay=cfg.weight_decay)
    if args.anneal_steps:
        n_anneal = args.anneal_steps
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(s, n_anneal) / n_anneal)))
    else:
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.3, patience=8)
    max_steps = min(cfg.steps, args.anneal_steps) if args.anneal_steps else cfg.steps
    # Per-target loss weights, broadcast over [frames, batch, targets, channels, bins].
    weights = torch.ones(len(TARGETS), 1, 1, device=device)
    weights[TARGETS.index('piano')] = args.piano_weight
    rng = np.random.default_rng(args.seed)
    step, best = 0, math.inf
    last = run / 'last.pt'
    if last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        sched.load_state_dict(ck['sched'])
        step, best = ck['step'], ck['best']
        rng.bit_generator.state = ck['rng']
        torch.set_rng_state(ck['torch_rng'])
        print(f'resumed at step {step} (best valid loss {best:.4g})', flush=True)
    elif args.init_from and args.init_from.suffix == '.onnx':
        # The shipped separator: its ONNX file is the only copy of its weights (runs are not kept).
        load_unmix_onnx(model, args.init_from)
        check_against_onnx(model, args.init_from, cfg)
        print(f'initialised from {args.init_from}', flush=True)
    elif args.init_from:
        ck = torch.load(args.init_from, map_location=device, weights_only=False)
        old = tuple(ck.get('targets', ('vocals', 'drums', 'bass', 'other')))
        model.load_state_dict(widen_targets(ck['model'], old) if old != TARGETS else ck['model'])
        print(f'initialised from {args.init_from} (targets {old} -> {TARGETS})', flush=True)
    else:
        input_statistics(model, train, cfg, rng)

    def save(path):
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'sched': sched.state_dict(), 'step': step,
                    'best': best, 'rng': rng.bit_generator.state, 'torch_rng': torch.get_rng_state(),
                    'config': cfg.to_dict(), 'targets': TARGETS}, path)

    t0 = time.time()
    log = open(run / 'log.jsonl', 'a')
    model.train()
    running = []
    while step < max_steps and (time.time() - t0) / 60 < args.minutes:
        batch = torch.from_numpy(train.batch(rng, cfg.batch_size)).to(device)
        mix, tgt = spectra(batch, cfg)
        est = model(mix)
        loss = torch.mean(weights * (est - tgt) ** 2)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if args.anneal_steps:
            sched.step()
        step += 1
        running.append(loss.item())
        if step % cfg.validate_every == 0:
            v = validate(model, val, cfg)
            if not args.anneal_steps:
                sched.step(v['loss'])
            rec = {'step': step, 'train_loss': float(np.mean(running)), 'valid': v, 'lr': opt.param_groups[0]['lr'],
                   'minutes': round((time.time() - t0) / 60, 1)}
            running = []
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + '\n')
            log.flush()
            if v['loss'] < best:
                best = v['loss']
                save(run / 'best.pt')
        if step % cfg.checkpoint_every == 0:
            save(last)
    save(last)
    print(f'stopped at step {step}; best valid loss {best:.4g}', flush=True)


if __name__ == '__main__':
    main()
