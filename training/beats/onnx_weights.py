"""Read the shipped beat models' weights back from their ONNX files into PyTorch modules, so training
can resume from what is installed (the checkpoints of earlier runs are not kept in git).

  load_tcn_onnx(BeatTCN(...), "models/beats/beats.onnx")
  load_note_onnx(NoteBeatCRNN(...), "models/beats-notes/beats.onnx")

init_weights(), behind the training scripts' --init, also accepts a checkpoint, and checks weights
read from ONNX against onnxruntime on random features (check_against_onnx)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

PREFIX = "m."  # export.WithSigmoid wraps the network as `m`


def _initializers(model_proto: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {i.name: numpy_helper.to_array(i) for i in model_proto.graph.initializer}


def _load(module: nn.Module, named: dict[str, np.ndarray]) -> None:
    state = module.state_dict()
    missing = sorted(set(state) - set(named))
    unexpected = sorted(set(named) - set(state))
    if missing or unexpected:
        raise ValueError(f"ONNX weights do not match the module: missing {missing}, unexpected {unexpected}")
    for k, v in named.items():
        if tuple(state[k].shape) != v.shape:
            raise ValueError(f"{k}: ONNX shape {v.shape}, module {tuple(state[k].shape)}")
    module.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in named.items()})


def load_tcn_onnx(model: nn.Module, onnx_path: str | Path) -> None:
    """The TCN's convolutions keep their PyTorch names in the ONNX file."""
    inits = _initializers(onnx.load(str(onnx_path)))
    _load(model, {k[len(PREFIX):]: v for k, v in inits.items() if k.startswith(PREFIX)})


def _zrh_to_rzn(w: np.ndarray, hidden: int) -> np.ndarray:
    """ONNX orders a GRU's gates update, reset, hidden; PyTorch reset, update, new."""
    z, r, h = w[:hidden], w[hidden:2 * hidden], w[2 * hidden:]
    return np.concatenate([r, z, h], axis=0)


def load_note_onnx(model: nn.Module, onnx_path: str | Path) -> None:
    """The note-level CRNN: convolutions and biases by name; GRUs from the GRU nodes in graph order
    (the trunk's layers, then the downbeat GRU); linear weights from the MatMul feeding the Add of
    each named bias."""
    proto = onnx.load(str(onnx_path))
    inits = _initializers(proto)
    named = {k[len(PREFIX):]: v for k, v in inits.items() if k.startswith(PREFIX)}
    nodes = list(proto.graph.node)

    gru_targets = [*((model.gru, layer) for layer in range(model.gru.num_layers)), (model.gru_downbeat, 0)]
    gru_nodes = [n for n in nodes if n.op_type == "GRU"]
    if len(gru_nodes) != len(gru_targets):
        raise ValueError(f"expected {len(gru_targets)} GRU nodes, found {len(gru_nodes)}")
    gru_names = {id(model.gru): "gru", id(model.gru_downbeat): "gru_downbeat"}
    for node, (gru, layer) in zip(gru_nodes, gru_targets):
        w, r, b = (inits[name] for name in node.input[1:4])
        hidden = gru.hidden_size
        prefix = gru_names[id(gru)]
        for direction, suffix in enumerate(["", "_reverse"]):
            named[f"{prefix}.weight_ih_l{layer}{suffix}"] = _zrh_to_rzn(w[direction], hidden)
            named[f"{prefix}.weight_hh_l{layer}{suffix}"] = _zrh_to_rzn(r[direction], hidden)
            named[f"{prefix}.bias_ih_l{layer}{suffix}"] = _zrh_to_rzn(b[direction, :3 * hidden], hidden)
            named[f"{prefix}.bias_hh_l{layer}{suffix}"] = _zrh_to_rzn(b[direction, 3 * hidden:], hidden)

    # Each nn.Linear became MatMul(x, W^T) followed by Add(., bias); the bias keeps its name.
    producer = {out: n for n in nodes for out in n.output}
    for n in nodes:
        if n.op_type != "Add":
            continue
        bias = next((i for i in n.input if i.startswith(PREFIX) and i.endswith(".bias")), None)
        if bias is None:
            continue
        other = next(i for i in n.input if i != bias)
        matmul = producer.get(other)
        if matmul is None or matmul.op_type != "MatMul":
            continue
        weight = next(i for i in matmul.input if i in inits)
        named[bias[len(PREFIX):-len(".bias")] + ".weight"] = inits[weight].T
    _load(model, named)


@torch.no_grad()
def check_against_onnx(model: nn.Module, onnx_path: str | Path, nb_features: int, frames: int = 400,
                       tolerance: float = 1e-4) -> float:
    """Max abs difference between the sigmoid of the module's beat/downbeat logits and the ONNX
    file's first output (export.WithSigmoid's probabilities) on random features. Leaves the module
    in the mode it was in."""
    import onnxruntime as ort

    x = np.random.default_rng(0).random((1, frames, nb_features), dtype=np.float32)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    was_training = model.training
    model.eval()
    out = model(torch.from_numpy(x))
    model.train(was_training)
    ours = torch.sigmoid(out[0] if isinstance(out, tuple) else out).numpy()
    diff = float(np.abs(ours - ref).max())
    if diff > tolerance:
        raise ValueError(f"{onnx_path}: PyTorch and onnxruntime differ by {diff}")
    return diff


def init_weights(model: nn.Module, path: str, load_onnx: Callable[[nn.Module, str], None], nb_features: int,
                 strict: bool = True) -> None:
    """--init: an exported ONNX file (read with load_onnx, then checked against onnxruntime) or a
    checkpoint's "model" (strict=False keeps only the matching tensors, e.g. from a run without the
    tempo head)."""
    if path.endswith(".onnx"):
        load_onnx(model, path)
        print("init from", path, "(onnxruntime max diff", check_against_onnx(model, path, nb_features), ")", flush=True)
        return
    missing, unexpected = model.load_state_dict(torch.load(path, weights_only=False, map_location="cpu")["model"], strict=strict)
    print("init from", path, "new:", missing, "dropped:", unexpected, flush=True)
