"""Average the weights of note-level beat models that share one lineage (a "model soup").

Runs continued from the same installed weights stay in one basin, so their weight mean is a model
of the same size that is often better than each (Wortsman et al., ICML 2022); it ships as one ONNX
file, where an ensemble would run the network twice.

  PYTHONPATH=. training/.venv/bin/python -m training.beats.average \\
      --inputs models/beats-notes/beats.onnx training/runs/beats-notes-c3/step2400.pt --out training/runs/soup/soup.pt

Inputs are exported ONNX files (read back by onnx_weights.py) or checkpoints; the output is a
checkpoint that note_export.py takes (its step is the last checkpoint input's, "val" is None).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .note_features import NB_NOTE_FEATURES
from .note_model import NOTE_CONFIGS, NoteBeatCRNN
from .onnx_weights import init_weights, load_note_onnx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", nargs="+", required=True)
    ap.add_argument("--config", default="crnn96")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    states, step = [], 0
    for path in args.inputs:
        model = NoteBeatCRNN(**NOTE_CONFIGS[args.config])
        init_weights(model, path, load_note_onnx, NB_NOTE_FEATURES)
        states.append(model.state_dict())
        if not path.endswith(".onnx"):
            step = int(torch.load(path, weights_only=False, map_location="cpu")["step"])
    # Integer buffers (none in this model today) would not average; keep the first input's.
    mean = {k: (sum(s[k] for s in states) / len(states)) if states[0][k].is_floating_point() else states[0][k] for k in states[0]}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": mean, "config": args.config, "step": step, "val": None, "averaged": args.inputs}, out)
    print("wrote", out, "mean of", len(states), "models")


if __name__ == "__main__":
    main()
