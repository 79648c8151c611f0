#!/usr/bin/env python3
"""Convert Spotify basic-pitch's TF.js graph model (npm @spotify/basic-pitch) to ONNX.

The npm package ships the model as a TensorFlow.js "graph-model": a TensorFlow GraphDef in
`model/model.json` (topology) plus its constants in `model/group1-shard1of1.bin`. This script
reads both and writes an equivalent ONNX graph node by node, op by op (no TensorFlow, no
tf2onnx): the graph contains the whole model, from raw 22,050 Hz audio through the CQT and
harmonic stacking to the three posteriorgrams.

TensorFlow tensors are NHWC; ONNX convolutions are NCHW, so each convolution is wrapped in two
Transposes (onnxruntime's transpose optimiser removes the redundant pairs at load time). Integer
(shape) tensors are int64 in ONNX (TF uses int32).

Usage (from the repository root; needs `pip install -r training/requirements-convert.txt`):

    python3 scripts/convert-basic-pitch.py \
        [--package node_modules/@spotify/basic-pitch] [--out models/basic-pitch/basic-pitch.onnx]

Tensor names: input `input_2` float32 [batch, 43844, 1]; outputs `note` [batch, 172, 88],
`onset` [batch, 172, 88], `contour` [batch, 172, 264] (the TF.js signature's Identity_1,
Identity_2, Identity).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
PREFIX = "StatefulPartitionedCall/model_1/"
INPUT_NAME = "input_2"
# TF.js signature output tensor -> ONNX output name (keys used by the transcriber).
OUTPUTS = {"Identity_1": "note", "Identity_2": "onset", "Identity": "contour"}
N_SAMPLES = 43844


def attr_ints(node: dict, name: str) -> list[int]:
    return [int(i) for i in node.get("attr", {}).get(name, {}).get("list", {}).get("i", [])]


def attr_int(node: dict, name: str, default: int = 0) -> int:
    return int(node.get("attr", {}).get(name, {}).get("i", default))


def attr_bool(node: dict, name: str, default: bool = False) -> bool:
    return bool(node.get("attr", {}).get(name, {}).get("b", default))


def attr_str(node: dict, name: str) -> str:
    return base64.b64decode(node["attr"][name]["s"]).decode()


def attr_strs(node: dict, name: str) -> list[str]:
    return [base64.b64decode(s).decode() for s in node["attr"][name]["list"].get("s", [])]


def load_weights(package_dir: str, manifest: list[dict]) -> dict[str, np.ndarray]:
    """Reads every constant of the weights manifest from its shard files, in manifest order."""
    values: dict[str, np.ndarray] = {}
    dtypes = {"float32": np.float32, "int32": np.int32}
    for group in manifest:
        data = b"".join(open(os.path.join(package_dir, "model", p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if "quantization" in w:
                raise ValueError(f"quantized weight {w['name']} is not supported")
            dtype = dtypes[w["dtype"]]
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            nbytes = count * np.dtype(dtype).itemsize
            values[w["name"]] = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(w["shape"]).copy()
            offset += nbytes
        if offset != len(data):
            raise ValueError(f"weights shard has {len(data)} bytes, manifest describes {offset}")
    return values


class Converter:
    def __init__(self, weights: dict[str, np.ndarray]):
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        # TF tensor name -> numpy value, for constants (folded where an ONNX op needs attributes).
        self.consts: dict[str, np.ndarray] = {}
        self.counter = 0

    # -- helpers -------------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}__{self.counter}"

    def const_input(self, value: np.ndarray, base: str) -> str:
        """An initializer holding `value` (int32 widened to int64); returns its name."""
        if value.dtype == np.int32:
            value = value.astype(np.int64)
        name = self.fresh(base)
        self.initializers[name] = numpy_helper.from_array(np.asarray(value), name)
        return name

    def data(self, tf_name: str) -> str:
        """ONNX tensor name of a TF input (materialising a constant as an initializer on first use)."""
        if tf_name.endswith(":0"):
            tf_name = tf_name[:-2]
        if ":" in tf_name:
            raise NotImplementedError(f"multi-output tensor {tf_name}")
        if tf_name in self.consts and tf_name not in self.initializers:
            value = self.consts[tf_name]
            if value.dtype == np.int32:
                value = value.astype(np.int64)
            self.initializers[tf_name] = numpy_helper.from_array(np.asarray(value), tf_name)
        return tf_name

    def const(self, tf_name: str) -> np.ndarray:
        tf_name = tf_name.split(":")[0]
        if tf_name not in self.consts:
            raise ValueError(f"{tf_name} must be a constant for this converter")
        return self.consts[tf_name]

    def add(self, op: str, inputs: list[str], outputs: list[str], **attrs) -> None:
        self.nodes.append(helper.make_node(op, inputs, outputs, name=self.fresh(outputs[0]), **attrs))

    # -- ops -----------------------------------------------------------------------------------
    def convert(self, node: dict) -> None:
        op, name = node["op"], node["name"]
        inputs = [i for i in node.get("input", []) if not i.startswith("^")]
        handler = getattr(self, f"op_{op.lstrip('_')}", None)
        if handler is None:
            raise NotImplementedError(f"TF op {op} ({name}) has no ONNX conversion")
        handler(node, name, inputs)

    def op_Const(self, node, name, inputs):
        self.consts[name] = self.weights[name]

    def op_Placeholder(self, node, name, inputs):
        pass  # the graph input, declared in build()

    def op_Identity(self, node, name, inputs):
        self.add("Identity", [self.data(inputs[0])], [name])

    def unary(onnx_op):  # noqa: N805 - small factory for element-wise ops
        def handler(self, node, name, inputs):
            self.add(onnx_op, [self.data(inputs[0])], [name])
        return handler

    op_Neg = unary("Neg")
    op_Sigmoid = unary("Sigmoid")
    op_Sqrt = unary("Sqrt")
    op_Log = unary("Log")

    def binary(onnx_op):  # noqa: N805
        def handler(self, node, name, inputs):
            self.add(onnx_op, [self.data(inputs[0]), self.data(inputs[1])], [name])
        return handler

    op_Mul = binary("Mul")
    op_Add = binary("Add")
    op_AddV2 = binary("Add")
    op_Sub = binary("Sub")

    def op_Square(self, node, name, inputs):
        x = self.data(inputs[0])
        self.add("Mul", [x, x], [name])

    def op_DivNoNan(self, node, name, inputs):
        # x / y, and 0 where y == 0 (TF semantics).
        x, y = self.data(inputs[0]), self.data(inputs[1])
        div, is_zero = self.fresh(name + "/div"), self.fresh(name + "/is_zero")
        zero = self.const_input(np.array(0, dtype=np.float32), name + "/zero")
        self.add("Div", [x, y], [div])
        self.add("Equal", [y, zero], [is_zero])
        self.add("Where", [is_zero, zero, div], [name])

    def op_Shape(self, node, name, inputs):
        self.add("Shape", [self.data(inputs[0])], [name])

    def op_Transpose(self, node, name, inputs):
        perm = [int(p) for p in self.const(inputs[1])]
        self.add("Transpose", [self.data(inputs[0])], [name], perm=perm)

    def op_ExpandDims(self, node, name, inputs):
        axis = int(self.const(inputs[1]))
        self.add("Unsqueeze", [self.data(inputs[0]), self.const_input(np.array([axis], np.int64), name + "/axes")], [name])

    def op_Squeeze(self, node, name, inputs):
        axes = attr_ints(node, "squeeze_dims")
        if not axes:
            raise NotImplementedError(f"Squeeze without explicit dims ({name})")
        self.add("Squeeze", [self.data(inputs[0]), self.const_input(np.array(axes, np.int64), name + "/axes")], [name])

    def op_Reshape(self, node, name, inputs):
        self.add("Reshape", [self.data(inputs[0]), self.data(inputs[1])], [name])

    def op_Pack(self, node, name, inputs):
        axis = attr_int(node, "axis")
        if all(i.split(":")[0] in self.consts for i in inputs):
            self.consts[name] = np.stack([self.const(i) for i in inputs], axis=axis)
            return
        axes = self.const_input(np.array([axis], np.int64), name + "/axes")
        parts = []
        for i in inputs:
            part = self.fresh(name + "/part")
            self.add("Unsqueeze", [self.data(i), axes], [part])
            parts.append(part)
        self.add("Concat", parts, [name], axis=axis)

    def op_ConcatV2(self, node, name, inputs):
        axis = int(self.const(inputs[-1]))
        self.add("Concat", [self.data(i) for i in inputs[:-1]], [name], axis=axis)

    def pad(self, node, name, inputs, mode):
        paddings = self.const(inputs[1]).astype(np.int64)  # [rank, 2]
        pads = np.concatenate([paddings[:, 0], paddings[:, 1]])
        self.add("Pad", [self.data(inputs[0]), self.const_input(pads, name + "/pads")], [name], mode=mode)

    def op_Pad(self, node, name, inputs):
        self.pad(node, name, inputs, "constant")

    def op_MirrorPad(self, node, name, inputs):
        mode = attr_str(node, "mode")
        if mode != "REFLECT":
            raise NotImplementedError(f"MirrorPad mode {mode}")
        self.pad(node, name, inputs, "reflect")

    def reduce(self, node, name, inputs, onnx_op):
        axes = [int(a) for a in np.atleast_1d(self.const(inputs[1]))]
        keep = 1 if attr_bool(node, "keep_dims") else 0
        if onnx_op == "ReduceSum":  # axes is an input from opset 13
            self.add(onnx_op, [self.data(inputs[0]), self.const_input(np.array(axes, np.int64), name + "/axes")], [name], keepdims=keep)
        else:  # ReduceMin/Max take axes as an attribute until opset 18
            self.add(onnx_op, [self.data(inputs[0])], [name], axes=axes, keepdims=keep)

    def op_Sum(self, node, name, inputs):
        self.reduce(node, name, inputs, "ReduceSum")

    def op_Min(self, node, name, inputs):
        self.reduce(node, name, inputs, "ReduceMin")

    def op_Max(self, node, name, inputs):
        self.reduce(node, name, inputs, "ReduceMax")

    def op_StridedSlice(self, node, name, inputs):
        begin = [int(v) for v in self.const(inputs[1])]
        end = [int(v) for v in self.const(inputs[2])]
        strides = [int(v) for v in self.const(inputs[3])]
        begin_mask, end_mask = attr_int(node, "begin_mask"), attr_int(node, "end_mask")
        new_axis_mask, shrink_mask = attr_int(node, "new_axis_mask"), attr_int(node, "shrink_axis_mask")
        if attr_int(node, "ellipsis_mask"):
            raise NotImplementedError(f"StridedSlice ellipsis ({name})")
        big = np.iinfo(np.int64).max
        starts, ends, axes, steps, squeeze_axes, new_axes = [], [], [], [], [], []
        in_dim = 0  # input dimension that spec entry i addresses
        out_dim = 0  # output dimension after shrinks and new axes
        for i in range(len(begin)):
            bit = 1 << i
            if new_axis_mask & bit:
                new_axes.append(out_dim)
                out_dim += 1
                continue
            if shrink_mask & bit:
                b = begin[i]
                starts.append(b)
                ends.append(b + 1 if b != -1 else big)
                axes.append(in_dim)
                steps.append(1)
                squeeze_axes.append(in_dim)
                in_dim += 1
                continue
            s = strides[i]
            lo, hi = (-big, big) if s > 0 else (big, -big)
            starts.append(lo if begin_mask & bit else begin[i])
            ends.append(hi if end_mask & bit else end[i])
            axes.append(in_dim)
            steps.append(s)
            in_dim += 1
            out_dim += 1
        if inputs[0].split(":")[0] in self.consts:
            raise NotImplementedError(f"StridedSlice of a constant ({name})")
        current = self.data(inputs[0])
        if axes:
            sliced = self.fresh(name + "/slice") if (squeeze_axes or new_axes) else name
            self.add(
                "Slice",
                [
                    current,
                    self.const_input(np.array(starts, np.int64), name + "/starts"),
                    self.const_input(np.array(ends, np.int64), name + "/ends"),
                    self.const_input(np.array(axes, np.int64), name + "/axes"),
                    self.const_input(np.array(steps, np.int64), name + "/steps"),
                ],
                [sliced],
            )
            current = sliced
        if squeeze_axes:
            squeezed = self.fresh(name + "/squeeze") if new_axes else name
            self.add("Squeeze", [current, self.const_input(np.array(squeeze_axes, np.int64), name + "/sq")], [squeezed])
            current = squeezed
        if new_axes:
            self.add("Unsqueeze", [current, self.const_input(np.array(new_axes, np.int64), name + "/unsq")], [name])
        if not (axes or squeeze_axes or new_axes):
            self.add("Identity", [current], [name])

    def conv(self, node, name, inputs, bias: str | None, relu: bool):
        if attr_str(node, "data_format") != "NHWC":
            raise NotImplementedError(f"data_format {attr_str(node, 'data_format')} ({name})")
        strides = attr_ints(node, "strides")
        dilations = attr_ints(node, "dilations") or [1, 1, 1, 1]
        padding = attr_str(node, "padding")
        kernel = self.const(inputs[1])  # HWIO
        w = self.const_input(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), name + "/W")  # OIHW
        x_nchw = self.fresh(name + "/nchw")
        self.add("Transpose", [self.data(inputs[0])], [x_nchw], perm=[0, 3, 1, 2])
        conv_inputs = [x_nchw, w] + ([self.data(bias)] if bias else [])
        y_nchw = self.fresh(name + "/conv")
        attrs = dict(kernel_shape=list(kernel.shape[:2]), strides=strides[1:3], dilations=dilations[1:3])
        if padding == "SAME":
            attrs["auto_pad"] = "SAME_UPPER"  # TF puts the odd padding sample at the end, as SAME_UPPER
        elif padding == "VALID":
            attrs["pads"] = [0, 0, 0, 0]
        else:
            raise NotImplementedError(f"padding {padding} ({name})")
        self.add("Conv", conv_inputs, [y_nchw], **attrs)
        if relu:
            y_relu = self.fresh(name + "/relu")
            self.add("Relu", [y_nchw], [y_relu])
            y_nchw = y_relu
        self.add("Transpose", [y_nchw], [name], perm=[0, 2, 3, 1])

    def op_Conv2D(self, node, name, inputs):
        self.conv(node, name, inputs, None, False)

    def op_FusedConv2D(self, node, name, inputs):
        fused = attr_strs(node, "fused_ops")
        if fused not in (["BiasAdd"], ["BiasAdd", "Relu"]) or attr_int(node, "num_args") != 1:
            raise NotImplementedError(f"_FusedConv2D {fused} ({name})")
        self.conv(node, name, inputs[:2], inputs[2], fused[-1] == "Relu")

    # -- whole graph ---------------------------------------------------------------------------
    def build(self, model_json: dict, doc: str) -> onnx.ModelProto:
        nodes = model_json["modelTopology"]["node"]
        for node in nodes:  # TF.js graphs are stored in topological order
            self.convert(node)
        graph_input = helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", N_SAMPLES, 1])
        graph_outputs = []
        for tf_name, onnx_name in OUTPUTS.items():
            self.add("Identity", [self.data(tf_name)], [onnx_name])
        shapes = {"note": 88, "onset": 88, "contour": 264}
        for onnx_name in OUTPUTS.values():
            graph_outputs.append(helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT, ["batch", 172, shapes[onnx_name]]))
        # The TF.js graph repeats each CQT kernel once per octave; keep one copy of equal constants.
        canonical: dict[tuple, str] = {}
        rename: dict[str, str] = {}
        for init_name, tensor in self.initializers.items():
            key = (tensor.data_type, tuple(tensor.dims), numpy_helper.to_array(tensor).tobytes())
            rename[init_name] = canonical.setdefault(key, init_name)
        for n in self.nodes:
            for k, i in enumerate(n.input):
                n.input[k] = rename.get(i, i)
        used = {i for n in self.nodes for i in n.input}
        initializers = [t for n, t in self.initializers.items() if n in used]
        graph = helper.make_graph(self.nodes, "basic_pitch", [graph_input], graph_outputs, initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="stemscribe convert-basic-pitch.py")
        model.ir_version = 8
        model.doc_string = doc
        return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", default="node_modules/@spotify/basic-pitch", help="path of the npm package")
    parser.add_argument("--out", default="models/basic-pitch/basic-pitch.onnx")
    args = parser.parse_args()

    pkg = json.load(open(os.path.join(args.package, "package.json")))
    model_json = json.load(open(os.path.join(args.package, "model", "model.json")))
    # The TF graph input is "input_2"; check the signature still says what we assume.
    sig_in = model_json["signature"]["inputs"]["input_2"]["tensorShape"]["dim"]
    if [int(d["size"]) for d in sig_in] != [-1, N_SAMPLES, 1]:
        raise SystemExit(f"unexpected model input shape {sig_in}")
    weights = load_weights(args.package, model_json["weightsManifest"])
    doc = f"Converted from npm {pkg['name']}@{pkg['version']} (Apache-2.0) model/model.json by scripts/convert-basic-pitch.py"
    model = Converter(weights).build(model_json, doc)
    onnx.checker.check_model(model, full_check=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save(model, args.out)
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, {len(model.graph.node)} nodes, from {pkg['name']}@{pkg['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
