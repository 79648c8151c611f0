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

from .data import ROOT, load_all, split
from .features import FPS, beat_features, targets
from .model import CONFIGS, BeatTCN

RUN_DIR = ROOT / "training" / "runs" / "beats"
CROP_SEC = 60.0


def augment(notes: np.ndarray, beats: np.ndarray, downbeats: np.ndarray, rng: np.random.Generator):
    stretch = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    n = notes.copy()
    n[:, :2] *= stretch
    beats = beats * stretch
    downbeats = downbeats * stretch
    # Transcription-like damage: jitter, dropped notes, spurious short notes, velocity curve.
    n[:, 0] += rng.normal(0, rng.uniform(0, 0.012), len(n))
    n[:, 1] = np.maximum(n[:, 1], n[:, 0] + 0.02)
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
    n[:, 2] = np.clip(n[:, 2] + rng.integers(-5, 6), 21, 108)
    gain = rng.uniform(0.6, 1.3)
    n[:, 3] = np.clip(n[:, 3] * gain + rng.uniform(-15, 15), 1, 127)
    if rng.random() < 0.2:  # transcribers without velocity
        n[:, 3] = 80
    n[:, 0] = np.maximum(n[:, 0], 0)
    n = n[np.argsort(n[:, 0], kind="stable")]
    return n, beats, downbeats


def crop_example(p, rng: np.random.Generator, crop_frames: int):
    notes, beats, downbeats = augment(p.notes, p.beats, p.downbeats, rng)
    end = notes[:, 0].max() if len(notes) else 0.0
    start = rng.uniform(-10.0, max(-10.0, end - CROP_SEC + 10.0))
    shifted = notes.copy()
    shifted[:, :2] -= start
    sel = (shifted[:, 0] >= 0) & (shifted[:, 0] < CROP_SEC)
    x = beat_features(shifted[sel], crop_frames)
    y = targets(beats - start, downbeats - start, crop_frames)
    return x, y


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Positive frames are rare (~1 in 25 for beats, ~1 in 80 for downbeats): weight them up.
    w = 1.0 + 4.0 * (y > 0).float()
    return F.binary_cross_entropy_with_logits(logits, y, weight=w)


@torch.no_grad()
def validate(model, perfs) -> float:
    model.eval()
    tot, cnt = 0.0, 0
    for p in perfs:
        x = beat_features(p.notes)
        y = targets(p.beats, p.downbeats, len(x))
        logits = model(torch.from_numpy(x)[None])
        tot += float(loss_fn(logits, torch.from_numpy(y)[None])) * len(x)
        cnt += len(x)
    model.train()
    return tot / cnt


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
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    best = float("inf")
    start_step = 0
    if args.resume and (RUN_DIR / "last.pt").exists():
        state = torch.load(RUN_DIR / "last.pt", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        best = state["best"]
        start_step = state.get("step", 0)
    # Longer performances are sampled more often (in proportion to duration).
    durs = np.array([max(1.0, p.notes[-1, 0]) for p in train])
    probs = durs / durs.sum()
    crop_frames = int(CROP_SEC * FPS)
    t0 = time.time()
    deadline = t0 + 60 * args.minutes
    step = start_step  # continues the count on --resume
    log = []
    running = 0.0
    while time.time() < deadline:
        batch = [crop_example(train[i], rng, crop_frames) for i in rng.choice(len(train), args.batch, p=probs)]
        x = torch.from_numpy(np.stack([b[0] for b in batch]))
        y = torch.from_numpy(np.stack([b[1] for b in batch]))
        frac = (time.time() - t0) / (deadline - t0)
        for g in opt.param_groups:  # cosine decay over the time budget
            g["lr"] = args.lr * 0.5 * (1 + np.cos(np.pi * min(1.0, frac)))
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = 0.98 * running + 0.02 * loss.item() if step > start_step else loss.item()
        step += 1
        if step % args.val_every == 0 or time.time() >= deadline:
            v = validate(model, val)
            log.append({"step": step, "minutes": (time.time() - t0) / 60, "train": running, "val": v})
            print(json.dumps(log[-1]), flush=True)
            if v < best:
                best = v
                torch.save({"model": model.state_dict(), "config": args.config, "step": step, "val": v}, RUN_DIR / "best.pt")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "best": best, "step": step}, RUN_DIR / "last.pt")
            (RUN_DIR / "log.json").write_text(json.dumps(log, indent=1))
    print("done", step, "steps, best val", best, flush=True)


if __name__ == "__main__":
    main()
