"""Train the beat/downbeat TCN on the ASAP train fold (CPU is fine: ~60k parameters).

  nice -n 10 training/.venv/bin/python -m training.beats.train --minutes 40

Random 60 s crops of augmented performances (tempo stretch 0.8-1.25, velocity gain/offset, onset
jitter, dropped and spurious notes, transposition), so the model also copes with transcribed notes.
Checkpoint: training/runs/beats/best.pt (lowest validation loss on val-fold excerpts).
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data import ROOT, drop_and_add_notes, load_all, maybe_warp, split, with_extra
from .features import FPS, NB_FEATURES, TEMPO_BINS, beat_features, targets, tempo_targets
from .model import CONFIGS, BeatTCN
from .onnx_weights import init_weights, load_tcn_onnx
from .scores import load_scores

RUN_DIR = ROOT / "training" / "runs" / "beats"
CROP_SEC = 60.0


def augment(notes: np.ndarray, beats: np.ndarray, downbeats: np.ndarray, rng: np.random.Generator, warp: float = 0.0):
    n, beats, downbeats = maybe_warp(notes, beats, downbeats, rng, warp)
    stretch = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    n[:, :2] *= stretch
    beats = beats * stretch
    downbeats = downbeats * stretch
    # Transcription-like damage: jitter, dropped notes, spurious short notes, velocity curve.
    n[:, 0] += rng.normal(0, rng.uniform(0, 0.012), len(n))
    n[:, 1] = np.maximum(n[:, 1], n[:, 0] + 0.02)
    n = drop_and_add_notes(n, rng)
    n[:, 2] = np.clip(n[:, 2] + rng.integers(-5, 6), 21, 108)
    gain = rng.uniform(0.6, 1.3)
    n[:, 3] = np.clip(n[:, 3] * gain + rng.uniform(-15, 15), 1, 127)
    if rng.random() < 0.2:  # transcribers without velocity
        n[:, 3] = 80
    n[:, 0] = np.maximum(n[:, 0], 0)
    n = n[np.argsort(n[:, 0], kind="stable")]
    return n, beats, downbeats


def crop_example(p, rng: np.random.Generator, crop_frames: int, warp: float = 0.0):
    notes, beats, downbeats = augment(p.notes, p.beats, p.downbeats, rng, warp)
    end = notes[:, 0].max() if len(notes) else 0.0
    start = rng.uniform(-10.0, max(-10.0, end - CROP_SEC + 10.0))
    shifted = notes.copy()
    shifted[:, :2] -= start
    sel = (shifted[:, 0] >= 0) & (shifted[:, 0] < CROP_SEC)
    x = beat_features(shifted[sel], crop_frames)
    y = targets(beats - start, downbeats - start, crop_frames)
    return x, y, tempo_targets(beats - start, crop_frames)


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Positive frames are rare (~1 in 25 for beats, ~1 in 80 for downbeats): weight them up.
    w = 1.0 + 4.0 * (y > 0).float()
    return F.binary_cross_entropy_with_logits(logits, y, weight=w)


# Soft tempo targets: a Gaussian over neighbouring classes (sigma 1.5 bins, about 0.1 octave), so a
# near miss costs less than an octave error.
_K = torch.arange(TEMPO_BINS, dtype=torch.float32)
TEMPO_SOFT = torch.softmax(-0.5 * ((_K[None] - _K[:, None]) / 1.5) ** 2, dim=1)


def tempo_loss_fn(logits: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against the soft targets, over frames with an annotated tempo (cls >= 0)."""
    mask = cls >= 0
    if not bool(mask.any()):
        return logits.sum() * 0.0
    target = TEMPO_SOFT[cls[mask]]
    return -(target * F.log_softmax(logits[mask], dim=-1)).sum(-1).mean()


def total_loss(out, y: torch.Tensor, cls: torch.Tensor, tempo_weight: float) -> tuple[torch.Tensor, float, float]:
    if isinstance(out, tuple):
        b = loss_fn(out[0], y)
        t = tempo_loss_fn(out[1], cls)
        return b + tempo_weight * t, float(b), float(t)
    b = loss_fn(out, y)
    return b, float(b), 0.0


@torch.no_grad()
def validate(model, perfs) -> tuple[float, float]:
    """Frame-weighted mean (beat loss, tempo loss) over the validation excerpts."""
    model.eval()
    tot, tot_t, cnt = 0.0, 0.0, 0
    for p in perfs:
        x = beat_features(p.notes)
        y = targets(p.beats, p.downbeats, len(x))
        cls = tempo_targets(p.beats, len(x))
        out = model(torch.from_numpy(x)[None])
        _, b, t = total_loss(out, torch.from_numpy(y)[None], torch.from_numpy(cls)[None], 0.0)
        tot += b * len(x)
        tot_t += t * len(x)
        cnt += len(x)
    model.train()
    return tot / cnt, tot_t / cnt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small")
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)  # 2 threads on a busy 2-core machine: 30x slower (OpenMP waits)
    ap.add_argument("--val-every", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="", help="start from these weights: a checkpoint (matching tensors only, e.g. a run "
                    "without the tempo head) or an exported ONNX file such as models/beats/beats.onnx")
    ap.add_argument("--tempo-weight", type=float, default=0.1)
    ap.add_argument("--warp", type=float, default=0.0, help="probability of a rubato time warp (data.rubato_warp) per example")
    ap.add_argument("--extra-share", type=float, default=0.0, help="share of the examples drawn from the score "
                    "performances of scores.py (its cache must exist); 0: ASAP alone")
    ap.add_argument("--run-dir", default=str(RUN_DIR))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    folds = split(load_all())
    train = folds["train"]
    # Validation: the first 90 s of every 4th val-fold performance (whole pieces are too slow on a shared CPU).
    val = []
    for p in folds["val"][::4]:
        q = copy.copy(p)
        q.notes = p.notes[p.notes[:, 0] < 90.0]
        q.beats, q.downbeats = p.beats[p.beats < 90.0], p.downbeats[p.downbeats < 90.0]
        val.append(q)
    print(f"train {len(train)} performances, val {len(val)}", flush=True)
    model = BeatTCN(**CONFIGS[args.config])
    print("parameters", sum(p.numel() for p in model.parameters()), flush=True)
    if args.init:
        init_weights(model, args.init, load_tcn_onnx, NB_FEATURES, strict=False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    best = float("inf")
    start_step = 0
    if args.resume and (run_dir / "last.pt").exists():
        state = torch.load(run_dir / "last.pt", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        best = state["best"]
        start_step = state.get("step", 0)
    # Longer performances are sampled more often (in proportion to duration).
    extra = load_scores() if args.extra_share > 0 else []
    train, probs = with_extra(train, extra, args.extra_share, lambda p: max(1.0, p.notes[-1, 0]))
    crop_frames = int(CROP_SEC * FPS)
    t0 = time.time()
    deadline = t0 + 60 * args.minutes
    step = start_step  # continues the count on --resume
    log = []
    running = 0.0
    while time.time() < deadline:
        batch = [crop_example(train[i], rng, crop_frames, args.warp) for i in rng.choice(len(train), args.batch, p=probs)]
        x = torch.from_numpy(np.stack([b[0] for b in batch]))
        y = torch.from_numpy(np.stack([b[1] for b in batch]))
        cls = torch.from_numpy(np.stack([b[2] for b in batch]))
        frac = (time.time() - t0) / (deadline - t0)
        for g in opt.param_groups:  # cosine decay over the time budget
            g["lr"] = args.lr * 0.5 * (1 + np.cos(np.pi * min(1.0, frac)))
        loss, _, _ = total_loss(model(x), y, cls, args.tempo_weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = 0.98 * running + 0.02 * loss.item() if step > start_step else loss.item()
        step += 1
        if step % args.val_every == 0 or time.time() >= deadline:
            vb, vt = validate(model, val)
            # Checkpoint choice on the beat loss plus the weighted tempo loss (the training objective).
            v = vb + args.tempo_weight * vt
            log.append({"step": step, "minutes": (time.time() - t0) / 60, "train": running, "val": v, "valBeat": vb, "valTempo": vt})
            print(json.dumps(log[-1]), flush=True)
            if v < best:
                best = v
                torch.save({"model": model.state_dict(), "config": args.config, "step": step, "val": v}, run_dir / "best.pt")
            # Every validated step is kept (about 0.3 MB): the loss picks best.pt, the decoded beat F may pick another.
            torch.save({"model": model.state_dict(), "config": args.config, "step": step, "val": v}, run_dir / f"step{step}.pt")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "best": best, "step": step}, run_dir / "last.pt")
            (run_dir / "log.json").write_text(json.dumps(log, indent=1))
    print("done", step, "steps, best val", best, flush=True)


if __name__ == "__main__":
    main()
