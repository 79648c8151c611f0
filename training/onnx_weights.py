"""Weights of an exported piano model (models/piano/piano.onnx) back into the PyTorch model.

Checkpoints (training/runs) never go into git, so the committed ONNX file is the only copy of a
shipped model's weights. This reads them back, so a new machine can continue training the shipped
model (`python -m training.train --init-from models/piano/piano.onnx`):

- Node names carry the module path (`/model/onset_head/MatMul` -> `onset_head`), so every weight is
  found by the node that uses it, not by the exporter's generated initializer names.
- MatMul weights are [in, out]; nn.Linear stores [out, in].
- ONNX GRU gates are ordered (update z, reset r, hidden h), PyTorch's (r, z, n); B holds the input
  and the recurrent biases end to end.
- The exporter folds each BatchNorm into the convolution before it. The folded convolution is set
  as it is, and its BatchNorm is rebuilt from statistics of the convolution's output on real input
  (`calibrate_batchnorm`): with gamma = std and beta = mean the BatchNorm gives back the folded
  output both in eval mode (exactly) and in train mode (up to batch statistics), so training
  continues from the shipped function instead of a perturbed one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import N_MELS
from .model import PianoTranscriber


def _module_path(node_name: str) -> str:
    """'/model/trunk/cnn/cnn.3/Conv' -> 'trunk.cnn.3'; '/model/rnn/rnn/GRU' -> 'rnn.rnn'."""
    parts = [p for p in node_name.split('/') if p][1:-1]  # drop the 'model' wrapper and the op
    out: list[str] = []
    for p in parts:
        # Sequential children appear as 'cnn.3' under 'cnn': keep the indexed form only.
        if out and p.startswith(out[-1] + '.'):
            out[-1] = p
        else:
            out.append(p)
    return '.'.join(out)


def _zrh_to_rzn(w: np.ndarray, hidden: int) -> np.ndarray:
    z, r, h = w[:hidden], w[hidden:2 * hidden], w[2 * hidden:]
    return np.concatenate([r, z, h])


def load_onnx_weights(model: PianoTranscriber, onnx_path: Path) -> None:
    """Copies every weight of `onnx_path` into `model` (same config). BatchNorms after convolutions
    become identities; call calibrate_batchnorm before training."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    modules = dict(model.named_modules())
    state: dict[str, torch.Tensor] = {}

    def put(name: str, value: np.ndarray) -> None:
        state[name] = torch.from_numpy(np.array(value, dtype=np.float32))  # a writable copy

    for node in graph.node:
        path = _module_path(node.name)
        if node.op_type == 'Conv':
            put(f'{path}.weight', init[node.input[1]])
            put(f'{path}.bias', init[node.input[2]])
            conv = modules[path]
            assert isinstance(conv, nn.Conv2d), path
        elif node.op_type == 'MatMul' and node.input[1] in init:
            put(f'{path}.weight', init[node.input[1]].T)
        elif node.op_type == 'GRU':
            w, r, b = (init[node.input[i]] for i in (1, 2, 3))
            hidden = r.shape[-1]
            for d, suffix in enumerate(['', '_reverse']):
                put(f'{path}.weight_ih_l0{suffix}', _zrh_to_rzn(w[d], hidden))
                put(f'{path}.weight_hh_l0{suffix}', _zrh_to_rzn(r[d], hidden))
                put(f'{path}.bias_ih_l0{suffix}', _zrh_to_rzn(b[d, :3 * hidden], hidden))
                put(f'{path}.bias_hh_l0{suffix}', _zrh_to_rzn(b[d, 3 * hidden:], hidden))
    # Biases, norms and the input BatchNorm keep their module names as initializer names.
    for name, value in init.items():
        if name.startswith('model.'):
            put(name[len('model.'):], value)
    for name, m in modules.items():
        if isinstance(m, nn.BatchNorm2d):
            put(f'{name}.weight', np.ones(m.num_features))
            put(f'{name}.bias', np.zeros(m.num_features))
            put(f'{name}.running_mean', np.zeros(m.num_features))
            put(f'{name}.running_var', np.full(m.num_features, 1.0 - m.eps))
    missing = [k for k in model.state_dict() if k not in state and not k.endswith('num_batches_tracked')]
    if missing:
        raise ValueError(f'{onnx_path}: no weights for {missing}')
    model.load_state_dict(state, strict=False)
    _check_parity(model, onnx_path)


@torch.no_grad()
def _check_parity(model: PianoTranscriber, onnx_path: Path) -> None:
    """The read-back model must compute what the ONNX file computes (a wrong gate order or a
    transposed weight would still load)."""
    import onnxruntime as ort

    from .model import ProbabilityModel
    mel = torch.from_numpy(np.random.default_rng(0).normal(-6.0, 2.0, (1, 200, N_MELS)).astype(np.float32))
    was_training = model.training
    model.eval()
    ours = [t.numpy() for t in ProbabilityModel(model)(mel)]
    model.train(was_training)
    sess = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    theirs = sess.run(None, {sess.get_inputs()[0].name: mel.numpy()})
    err = max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs))
    if err > 1e-4:
        raise ValueError(f'{onnx_path}: weights read back differ from the ONNX graph (max abs difference {err:.2e})')


@torch.no_grad()
def calibrate_batchnorm(model: PianoTranscriber, mels: list[torch.Tensor]) -> None:
    """Rebuilds each identity BatchNorm2d from the mean and variance of its input over `mels`."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    sums: dict[int, list[torch.Tensor]] = {id(bn): [] for bn in bns}

    def hook(bn: nn.BatchNorm2d, inputs: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        x = inputs[0]
        sums[id(bn)].append(torch.stack([x.mean(dim=(0, 2, 3)), (x ** 2).mean(dim=(0, 2, 3))]))

    handles = [bn.register_forward_hook(hook) for bn in bns]
    was_training = model.training
    model.eval()
    for mel in mels:
        model(mel)
    for h in handles:
        h.remove()
    for bn in bns:
        m1, m2 = torch.stack(sums[id(bn)]).mean(0)
        var = (m2 - m1 ** 2).clamp(min=1e-6)
        bn.running_mean.copy_(m1)
        bn.running_var.copy_(var)
        bn.weight.copy_(torch.sqrt(var + bn.eps))
        bn.bias.copy_(m1)
    model.train(was_training)
