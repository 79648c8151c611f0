"""Train the note-level beat CRNN (note_model.py) on the ASAP train fold, on one CPU thread.

  OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 10 training/.venv/bin/python -m training.beats.note_train --steps 12000

Random windows of SEQ_NOTES consecutive notes from augmented performances (tempo stretch, onset
jitter, duration noise, dropped and spurious notes, transposition, velocity gain/offset, constant
velocity), so the model also copes with notes from an audio transcriber. The learning rate follows
a cosine over --steps (not over wall-clock time), so a run is reproducible and --resume continues
the same schedule: training/runs/beats-notes/last.pt holds model, optimiser, step and RNG states.
best.pt is the lowest validation loss (whole val-fold performances).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data import ROOT, Performance, drop_and_add_notes, load_all, maybe_warp, split, with_extra
from .note_features import (
    NB_NOTE_FEATURES,
    note_features,
    note_targets,
    note_tempo_targets,
    sort_notes,
)
from .note_model import NOTE_CONFIGS, NoteBeatCRNN
from .onnx_weights import init_weights, load_note_onnx
from .scores import load_scores
from .train import TEMPO_SOFT  # soft tempo targets: the frame-level model's, same classes

RUN_DIR = ROOT / "training" / "runs" / "beats-notes"
SEQ_NOTES = 512


def augment(p: Performance, rng: np.random.Generator, warp: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One augmented copy of a performance -> (sorted notes [n, 4], targets [n, 2], tempo classes [n]).
    Targets come from the onsets before jitter (a note played 20 ms late is still the beat's note);
    spurious notes get the targets of where they land. With probability `warp` the whole
    performance (notes and annotations alike) is first bent by `data.maybe_warp`."""
    n, beats, downbeats = maybe_warp(p.notes, p.beats, p.downbeats, rng, warp)
    stretch = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    n[:, :2] *= stretch
    beats, downbeats = beats * stretch, downbeats * stretch
    n = drop_and_add_notes(n, rng)
    n[:, 0] = np.maximum(n[:, 0], 0.0)
    y = note_targets(n[:, 0], beats, downbeats)
    cls = note_tempo_targets(n[:, 0], beats)
    # Transcription-like damage that keeps the targets: onset jitter, durations, pitch, velocity.
    n[:, 0] = np.maximum(n[:, 0] + rng.normal(0, rng.uniform(0, 0.012), len(n)), 0.0)
    if rng.random() < 0.5:
        n[:, 1] = n[:, 0] + (n[:, 1] - n[:, 0]) * np.exp(rng.normal(0, 0.4, len(n)))
    n[:, 1] = np.maximum(n[:, 1], n[:, 0] + 0.02)
    n[:, 2] = np.clip(n[:, 2] + rng.integers(-5, 6), 21, 108)
    n[:, 3] = np.clip(n[:, 3] * rng.uniform(0.6, 1.3) + rng.uniform(-15, 15), 1, 127)
    if rng.random() < 0.2:  # transcribers without velocity
        n[:, 3] = 80
    order = np.lexsort((n[:, 2], n[:, 0]))
    return n[order], y[order], cls[order]


def make_batch(train: list[Performance], probs: np.ndarray, size: int, rng: np.random.Generator, warp: float):
    """(features, targets, tempo classes, mask) tensors of `size` windows, performances drawn by `probs`."""
    batch = [window_example(train[i], rng, warp) for i in rng.choice(len(train), size, p=probs)]
    return tuple(torch.from_numpy(np.stack([b[k] for b in batch])) for k in range(4))


def window_example(p: Performance, rng: np.random.Generator, warp: float = 0.0):
    notes, y, cls = augment(p, rng, warp)
    start = int(rng.integers(0, max(1, len(notes) - SEQ_NOTES + 1)))
    sl = slice(start, start + SEQ_NOTES)
    x = note_features(notes[sl])
    pad = SEQ_NOTES - len(x)
    mask = np.concatenate([np.ones(len(x), np.float32), np.zeros(pad, np.float32)])
    return (np.pad(x, ((0, pad), (0, 0))), np.pad(y[sl], ((0, pad), (0, 0))),
            np.pad(cls[sl], (0, pad), constant_values=-1), mask)




class Windows(torch.utils.data.IterableDataset):
    """Endless batches of `window_example`s, for DataLoader workers (--workers): the augmentation is
    numpy on whole performances (~25 ms an example), so a GPU needs several processes to feed it.
    Worker k draws from its own generator (seed, start step, k)."""

    def __init__(self, train: list[Performance], probs: np.ndarray, batch: int, warp: float, seed: int, start: int):
        self.train, self.probs, self.batch, self.warp, self.seed, self.start = train, probs, batch, warp, seed, start

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, self.start, info.id if info else 0])
        while True:
            yield make_batch(self.train, self.probs, self.batch, rng, self.warp)


def losses(logits, tempo_logits, y, cls, mask) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(beat BCE, downbeat BCE, tempo cross-entropy), means over the unpadded notes."""
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")  # [b, n, 2]
    m = mask.sum().clamp(min=1.0)
    beat = (bce[..., 0] * mask).sum() / m
    downbeat = (bce[..., 1] * mask).sum() / m
    sel = cls >= 0
    if not bool(sel.any()):
        return beat, downbeat, logits.sum() * 0.0
    tempo = -(TEMPO_SOFT[cls[sel]] * F.log_softmax(tempo_logits[sel], dim=-1)).sum(-1).mean()
    return beat, downbeat, tempo


@torch.no_grad()
def validate(model, perfs: list[Performance], device: str = "cpu") -> dict[str, float]:
    """Note-weighted mean losses over whole val performances, and the note-level beat F1 at 0.5."""
    model.eval()
    tot = np.zeros(3)
    tp = fp = fn = 0
    count = 0
    for p in perfs:
        notes = sort_notes(p.notes)
        x = torch.from_numpy(note_features(notes))[None].to(device)
        y = torch.from_numpy(note_targets(notes[:, 0], p.beats, p.downbeats))[None].to(device)
        cls = torch.from_numpy(note_tempo_targets(notes[:, 0], p.beats))[None].to(device)
        logits, tempo_logits = model(x)
        parts = losses(logits, tempo_logits, y, cls, torch.ones(1, len(notes), device=device))
        tot += np.array([float(v) for v in parts]) * len(notes)
        count += len(notes)
        pred = logits[0, :, 0] > 0
        truth = y[0, :, 0] > 0.5
        tp += int((pred & truth).sum())
        fp += int((pred & ~truth).sum())
        fn += int((~pred & truth).sum())
    model.train()
    beat, downbeat, tempo = tot / count
    return {"valBeat": beat, "valDownbeat": downbeat, "valTempo": tempo, "valNoteBeatF1": 2 * tp / max(1, 2 * tp + fp + fn)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="crnn96")
    ap.add_argument("--steps", type=int, default=12000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--tempo-weight", type=float, default=0.2)
    ap.add_argument("--threads", type=int, default=1)  # the machine is shared: one thread
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--run-dir", default=str(RUN_DIR))
    ap.add_argument("--warp", type=float, default=0.0, help="probability of a rubato_warp per example")
    ap.add_argument("--minutes", type=float, default=0.0, help="a time budget instead of --steps: the cosine's "
                    "length is set from the step rate measured over the first 50 steps (for the GPU machine)")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader processes making the batches (0: this "
                    "process, the reproducible CPU path; a resumed run with workers draws new examples)")
    ap.add_argument("--extra-share", type=float, default=0.0, help="share of the examples drawn from the score "
                    "performances of scores.py (its cache must exist); 0: ASAP alone")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the GPU machine: training/gpu/beats.sh)")
    ap.add_argument("--init", default="", help="start from these weights: a checkpoint or an exported ONNX file such as "
                    "models/beats-notes/beats.onnx (a new schedule; --resume continues a run instead)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    folds = split(load_all())
    train = folds["train"]
    val = folds["val"][::2]  # every 2nd val performance, whole (about 170k notes)
    model = NoteBeatCRNN(**NOTE_CONFIGS[args.config])
    print(f"train {len(train)} performances, val {len(val)}; parameters {sum(p.numel() for p in model.parameters())}", flush=True)
    if args.init:
        init_weights(model, args.init, load_note_onnx, NB_NOTE_FEATURES)
    model.to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    best = float("inf")
    step = 0
    log: list[dict] = []
    if args.resume and (run_dir / "last.pt").exists():
        state = torch.load(run_dir / "last.pt", weights_only=False, map_location=args.device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        best, step, log = state["best"], state["step"], state["log"]
        rng.bit_generator.state = state["numpyRng"]
        torch.set_rng_state(state["torchRng"])
        print("resumed at step", step, flush=True)
    # Performances are drawn in proportion to their note count (every note equally likely).
    extra = load_scores() if args.extra_share > 0 else []
    train, probs = with_extra(train, extra, args.extra_share, lambda p: len(p.notes))
    loader = None
    if args.workers > 0:
        loader = iter(torch.utils.data.DataLoader(Windows(train, probs, args.batch, args.warp, args.seed, step), batch_size=None,
                                                  num_workers=args.workers, prefetch_factor=4, persistent_workers=True))
    t0 = time.time()
    start_step = step
    running = None
    while step < args.steps:
        tensors = make_batch(train, probs, args.batch, rng, args.warp) if loader is None else next(loader)
        x, y, cls, mask = (t.to(args.device, non_blocking=True) for t in tensors)
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + np.cos(np.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        logits, tempo_logits = model(x)
        beat, downbeat, tempo = losses(logits, tempo_logits, y, cls, mask)
        loss = beat + downbeat + args.tempo_weight * tempo
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        step += 1
        if args.minutes > 0 and step == start_step + 10:
            t_rate = time.time()  # after the workers' start
        if args.minutes > 0 and step == start_step + 60:
            rate = 50 / (time.time() - t_rate)
            # 10 % of the budget kept for the validations and the last checkpoint.
            args.steps = max(step, step + int((0.9 * args.minutes * 60 - (time.time() - t0)) * rate))
            print(f"{rate:.1f} steps/s: {args.steps} steps in {args.minutes} minutes", flush=True)
        if step % args.val_every == 0 or step >= args.steps:
            v = validate(model, val, args.device)
            score = v["valBeat"] + v["valDownbeat"] + args.tempo_weight * v["valTempo"]
            log.append({"step": step, "minutes": (time.time() - t0) / 60, "train": running, "val": score, **v})
            print(json.dumps(log[-1]), flush=True)
            if score < best:
                best = score
                torch.save({"model": model.state_dict(), "config": args.config, "step": step, "val": score}, run_dir / "best.pt")
            torch.save({"model": model.state_dict(), "config": args.config, "step": step, "val": score}, run_dir / f"step{step}.pt")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "best": best, "step": step, "log": log,
                        "numpyRng": rng.bit_generator.state, "torchRng": torch.get_rng_state()}, run_dir / "last.pt")
            (run_dir / "log.json").write_text(json.dumps(log, indent=1))
    print("done", step, "steps, best val", best, flush=True)


if __name__ == "__main__":
    main()
