"""Export the best beat checkpoint to ONNX + manifest + a TS parity fixture.

  training/.venv/bin/python -m training.beats.export

Writes models/beats/beats.onnx, models/beats/manifest.json (with the test-fold pieces, so the
benchmark reports only on pieces the model never saw) and test/postprocess/fixtures/beat-parity.json
(synthetic notes -> features and activations from numpy/onnxruntime, checked by the TS test).
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .data import ROOT, load_all, split, split_summary
from .features import FPS, NB_FEATURES, beat_features, tempo_bin_bpm
from .model import CONFIGS, BeatTCN
from .train import RUN_DIR

OUT_DIR = ROOT / "models" / "beats"
FIXTURE = ROOT / "test" / "postprocess" / "fixtures" / "beat-parity.json"


class WithSigmoid(torch.nn.Module):
    """Logits -> probabilities, for the exported graph: sigmoid for beat/downbeat, softmax for the
    tempo classes when the model has that head (the note-level model always has)."""

    def __init__(self, m: torch.nn.Module):
        super().__init__()
        self.m = m

    def forward(self, features: torch.Tensor):
        out = self.m(features)
        if isinstance(out, tuple):  # with the tempo head: (beat/downbeat probabilities, tempo class probabilities)
            return torch.sigmoid(out[0]), torch.softmax(out[1], dim=-1)
        return torch.sigmoid(out)


def synthetic_notes(seed: int = 3, ritardando_sec_per_bar: float = 0.0) -> np.ndarray:
    """A 20 s waltz-like pattern with jitter, each bar's beats `ritardando_sec_per_bar` longer than
    the last (no dataset material in the committed fixtures)."""
    rng = np.random.default_rng(seed)
    rows = []
    t = 0.4
    for bar in range(14):
        root = [48, 53, 55, 48][bar % 4]
        for b in range(3):
            if b == 0:
                rows.append((t, t + 0.9, root - 12, 90 + rng.integers(-5, 5)))
            else:
                rows += [(t + 0.01, t + 0.3, root + 4, 60), (t, t + 0.3, root + 7, 62)]
            if rng.random() < 0.5:
                rows.append((t + 0.25, t + 0.4, root + 16, 50))
            t += 0.48 + ritardando_sec_per_bar * bar + rng.normal(0, 0.01)
    notes = np.array(rows, dtype=np.float64)
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", default=str(RUN_DIR))
    ap.add_argument("--out-dir", default=str(OUT_DIR))
    ap.add_argument("--fixture", default=str(FIXTURE), help="'' = do not write the fixture")
    ap.add_argument("--checkpoint", default="", help="default: the run's best.pt (lowest validation loss)")
    ap.add_argument("--version", default="0.1.0", help="the manifest's version prefix")
    args = ap.parse_args()
    run_dir, out_dir = Path(args.run_dir), Path(args.out_dir)
    ckpt = torch.load(Path(args.checkpoint) if args.checkpoint else run_dir / "best.pt")
    model = BeatTCN(**CONFIGS[ckpt["config"]])
    model.load_state_dict(ckpt["model"])
    model.eval()
    wrapped = WithSigmoid(model).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "beats.onnx"
    dummy = torch.zeros(1, 500, NB_FEATURES)
    has_tempo = bool(model.tempo_bins)
    outputs = ["activations", "tempo"] if has_tempo else ["activations"]
    torch.onnx.export(wrapped, (dummy,), str(onnx_path), input_names=["features"], output_names=outputs,
                      dynamic_axes={"features": {1: "frames"}, **{o: {1: "frames"} for o in outputs}}, opset_version=17,
                      dynamo=False)
    data = onnx_path.read_bytes()
    folds = split(load_all())
    log = json.loads((run_dir / "log.json").read_text()) if (run_dir / "log.json").exists() else []
    manifest = {
        "name": "beats",
        "version": f"{args.version}-{ckpt['config']}-step{ckpt['step']}",
        "license": "CC BY-NC-SA 4.0 (weights trained on ASAP, CC BY-NC-SA 4.0; see MODEL_CARD.md)",
        "file": "beats.onnx",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "fps": FPS,
        "nbFeatures": NB_FEATURES,
        "input": "features",
        "output": "activations",
        **({"tempoOutput": "tempo", "tempoBpm": [round(float(b), 4) for b in tempo_bin_bpm()]} if has_tempo else {}),
        "config": {"name": ckpt["config"], **{k: list(v) if isinstance(v, tuple) else v for k, v in CONFIGS[ckpt["config"]].items()}},
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": {"step": ckpt["step"], "valLoss": ckpt["val"],
                     "minutes": next((r["minutes"] for r in log if r["step"] == ckpt["step"]), log[-1]["minutes"] if log else None)},
        "split": split_summary(folds),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    notes = synthetic_notes()
    x = beat_features(notes)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    runs = sess.run(outputs, {"features": x[None]})
    act = runs[0][0]
    with torch.no_grad():
        ref = wrapped(torch.from_numpy(x)[None])
        ref = (ref[0] if has_tempo else ref)[0].numpy()
    print("onnx vs torch max diff", float(np.abs(act - ref).max()))
    tempo_fields = {}
    if has_tempo:  # argmax class per frame, checked by the TS test
        tempo_fields["tempoArgmax"] = [int(k) for k in runs[1][0].argmax(-1)]
    if not args.fixture:
        print("wrote", onnx_path, len(data), "bytes")
        return
    fixture = Path(args.fixture)
    fixture.parent.mkdir(parents=True, exist_ok=True)
    fixture.write_text(json.dumps({
        "notes": [[round(float(v), 6) for v in row] for row in notes],
        "nbFrames": int(len(x)),
        "featureRows": [[round(float(v), 6) for v in row] for row in x[:150]],
        "beat": [round(float(v), 6) for v in act[:, 0]],
        "downbeat": [round(float(v), 6) for v in act[:, 1]],
        **tempo_fields,
    }) + "\n")
    print("wrote", onnx_path, len(data), "bytes;", fixture)


if __name__ == "__main__":
    main()
