"""Weights of an exported separator (models/unmix/unmix.onnx) back into the PyTorch model.

Checkpoints (training/runs) never go into git, so the committed ONNX file is the only copy of the
shipped separator. This reads it back, so a new machine can continue training the shipped model
(`python -m training.separation.train --init-from models/unmix/unmix.onnx`):

- The exporter keeps the parameters' own names for everything but the MatMul and LSTM weights;
  those are found by the node that uses them (`/model/fc1/MatMul`, `/model/lstm/LSTM_1`).
- MatMul weights are [in, out]; nn.Linear stores [out, in].
- ONNX LSTM gates are ordered (input, output, forget, cell), PyTorch's (input, forget, cell,
  output); B holds the input and the recurrent biases end to end; index 0 of the direction axis
  is forward, 1 reverse.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .config import SepConfig
from .model import Unmix


def _iofc_to_ifco(w: np.ndarray, hidden: int) -> np.ndarray:
    i, o, f, c = (w[k * hidden:(k + 1) * hidden] for k in range(4))
    return np.concatenate([i, f, c, o])


def load_unmix_onnx(model: Unmix, onnx_path: Path) -> None:
    """Copies every weight of `onnx_path` into `model`, which must have the exported configuration."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    state: dict[str, torch.Tensor] = {}

    def put(name: str, value: np.ndarray) -> None:
        state[name] = torch.from_numpy(np.array(value, dtype=np.float32))

    for name in model.state_dict():
        if 'model.' + name in init:
            put(name, init['model.' + name])
    lstm_layer = 0
    hidden = model.lstm.hidden_size
    for node in graph.node:
        weights = [init[i] for i in node.input if i in init]
        if node.op_type == 'MatMul' and node.name.startswith('/model/fc'):
            put(node.name.split('/')[2] + '.weight', weights[0].T)
        elif node.op_type == 'LSTM':
            w, r, b = (init[node.input[k]] for k in (1, 2, 3))
            for d, suffix in enumerate(('', '_reverse')):
                put(f'lstm.weight_ih_l{lstm_layer}{suffix}', _iofc_to_ifco(w[d], hidden))
                put(f'lstm.weight_hh_l{lstm_layer}{suffix}', _iofc_to_ifco(r[d], hidden))
                put(f'lstm.bias_ih_l{lstm_layer}{suffix}', _iofc_to_ifco(b[d, :4 * hidden], hidden))
                put(f'lstm.bias_hh_l{lstm_layer}{suffix}', _iofc_to_ifco(b[d, 4 * hidden:], hidden))
            lstm_layer += 1
    expected = model.state_dict()
    missing = sorted(k for k in expected if k not in state and not k.endswith('num_batches_tracked'))
    if missing:
        raise ValueError(f'{onnx_path}: no weights found for {missing}')
    for k, v in state.items():
        if expected[k].shape != v.shape:
            raise ValueError(f'{onnx_path}: {k} has shape {tuple(v.shape)}, the model {tuple(expected[k].shape)}')
    model.load_state_dict(state, strict=False)


def check_against_onnx(model: Unmix, onnx_path: Path, cfg: SepConfig, tolerance: float = 1e-4) -> None:
    """Raises if `model` (in eval mode) and onnxruntime disagree on a random magnitude spectrogram:
    a wrongly mapped weight would otherwise pass silently and training would start from noise."""
    import onnxruntime as ort

    from .model import ExportWrapper

    x = np.abs(np.random.default_rng(0).standard_normal((40, model.channels, cfg.n_bins))).astype(np.float32)
    session = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    want = session.run(None, {session.get_inputs()[0].name: x})[0]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        got = ExportWrapper(model)(torch.from_numpy(x).to(next(model.parameters()).device)).cpu().numpy()
    model.train(was_training)
    err = float(np.abs(want - got).max() / max(np.abs(want).max(), 1e-12))
    if err > tolerance:
        raise ValueError(f'{onnx_path}: the PyTorch model reproduces the ONNX output only to {err:.2e} (relative)')
