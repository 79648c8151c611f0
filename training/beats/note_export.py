"""Export a note-level beat checkpoint to ONNX + manifest + a TS parity fixture.

  PYTHONPATH=. training/.venv/bin/python -m training.beats.note_export --checkpoint training/runs/beats-notes/best.pt

Writes models/beats-notes/{beats.onnx,manifest.json} (with the val and test pieces, so the benchmarks
report only on pieces the model never saw; the pipeline uses it for downbeats and meter, see README.md) and test/postprocess/fixtures/note-beat-parity.json
(synthetic notes -> features and probabilities from numpy/onnxruntime, checked by the TS test).
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
from .export import WithSigmoid, synthetic_notes
from .note_features import NB_NOTE_FEATURES, note_features, tempo_bin_bpm
from .note_model import NOTE_CONFIGS, NoteBeatCRNN

OUT_DIR = ROOT / "models" / "beats-notes"
FIXTURE = ROOT / "test" / "postprocess" / "fixtures" / "note-beat-parity.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=str(ROOT / "training" / "runs" / "beats-notes" / "best.pt"))
    ap.add_argument("--out-dir", default=str(OUT_DIR))
    ap.add_argument("--fixture", default=str(FIXTURE), help="'' = do not write the fixture")
    ap.add_argument("--version", default="0.2.0", help="the manifest's version prefix (the config and step are appended)")
    args = ap.parse_args()
    ckpt_path, out_dir = Path(args.checkpoint), Path(args.out_dir)
    ckpt = torch.load(ckpt_path, weights_only=False, map_location="cpu")
    model = NoteBeatCRNN(**NOTE_CONFIGS[ckpt["config"]])
    model.load_state_dict(ckpt["model"])
    wrapped = WithSigmoid(model).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "beats.onnx"
    dummy = torch.zeros(1, 300, NB_NOTE_FEATURES)
    outputs = ["activations", "tempo"]
    torch.onnx.export(wrapped, (dummy,), str(onnx_path), input_names=["features"], output_names=outputs,
                      dynamic_axes={"features": {1: "notes"}, **{o: {1: "notes"} for o in outputs}}, opset_version=17,
                      dynamo=False)
    data = onnx_path.read_bytes()
    folds = split(load_all())
    log_path = ckpt_path.parent / "log.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else []
    minutes = next((r["minutes"] for r in log if r["step"] == ckpt["step"]), None)
    manifest = {
        "name": "beats-notes",
        "version": f"{args.version}-{ckpt['config']}-step{ckpt['step']}" + ("-averaged" if ckpt.get("averaged") else ""),
        "license": "CC BY-NC-SA 4.0 (weights trained on ASAP, CC BY-NC-SA 4.0; see MODEL_CARD.md)",
        "file": "beats.onnx",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "nbFeatures": NB_NOTE_FEATURES,
        "input": "features",
        "output": "activations",
        "tempoOutput": "tempo",
        "tempoBpm": [round(float(b), 4) for b in tempo_bin_bpm()],
        "config": {"name": ckpt["config"], **NOTE_CONFIGS[ckpt["config"]]},
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": {"step": ckpt["step"], "valLoss": ckpt["val"], "minutes": minutes,
                     **({"averagedFrom": ckpt["averaged"]} if ckpt.get("averaged") else {})},
        "split": split_summary(folds),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    notes = np.round(synthetic_notes(ritardando_sec_per_bar=0.01), 6)  # the fixture's precision, so TS sees the same numbers
    x = note_features(notes)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    act, tempo = (r[0] for r in sess.run(outputs, {"features": x[None]}))
    with torch.no_grad():
        ref = wrapped(torch.from_numpy(x)[None])[0][0].numpy()
    print("onnx vs torch max diff", float(np.abs(act - ref).max()))
    if args.fixture:
        fixture = Path(args.fixture)
        fixture.parent.mkdir(parents=True, exist_ok=True)
        fixture.write_text(json.dumps({
            "notes": [[round(float(v), 6) for v in row] for row in notes],
            "featureRows": [[round(float(v), 6) for v in row] for row in x],
            "beat": [round(float(v), 6) for v in act[:, 0]],
            "downbeat": [round(float(v), 6) for v in act[:, 1]],
            "tempoArgmax": [int(k) for k in tempo.argmax(-1)],
        }) + "\n")
        print("wrote", fixture)
    print("wrote", onnx_path, len(data), "bytes")


if __name__ == "__main__":
    main()
