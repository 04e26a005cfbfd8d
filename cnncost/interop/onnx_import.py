"""`cnncost import model.onnx`: an ONNX graph as a readable cnncost spec, one layer per op.

The batch axis is pinned to 1 and ONNX's own shape inference gives every tensor a static shape; nodes whose
inputs are all known (weights, Constant, Shape of a static tensor and what is computed from them) are folded
into constants. What remains is translated node by node, recognising the patterns exporters write for one
PyTorch module (Gemm or MatMul+Add for Linear, the Erf form of GELU, x·sigmoid(x) for SiLU, Clip(0, 6) for ReLU6,
Reshape-Transpose-Reshape for a channel shuffle). An operator with no translation stops the import with a list
of every such operator type, its node names and counts: never a partial spec.
"""
from __future__ import annotations

import re

from cnncost.errors import CnnCostError, Location
from cnncost.interop.spec_text import Layer, sanitised, spec_text, unsupported_error


class _Graph:
    """The ONNX graph with static shapes, folded constants and who-reads-what."""

    def __init__(self, model, path: str):
        import onnx

        self.path = path
        graph = model.graph
        self.weights = {t.name for t in graph.initializer}  # and what is computed from them alone (folded below)
        weights = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        inputs = [v for v in graph.input if v.name not in self.weights]
        if len(inputs) != 1:
            raise CnnCostError(f"the model has {len(inputs)} inputs; cnncost specs take exactly one", Location(path))
        self.input = inputs[0].name
        dims = inputs[0].type.tensor_type.shape.dim
        if not dims:
            raise CnnCostError("the model's input has no known shape", Location(path))
        dims[0].ClearField("dim_param")
        dims[0].dim_value = 1
        for dim in dims[1:]:
            if not dim.dim_value:
                raise CnnCostError(f"the input's dimension {dim.dim_param!r} is not fixed", Location(path),
                                   "export the model with a fixed input size (only the batch axis may vary)")
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
        self.shapes = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
                       for v in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]}
        self.constants = dict(weights)
        self.nodes = []
        for node in graph.node:
            if not self._fold(node):
                self.nodes.append(node)
        self.outputs = [v.name for v in graph.output]
        self.readers: dict[str, list] = {}
        for node in self.nodes:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)
        self.producer = {out: node for node in self.nodes for out in node.output}

    def _fold(self, node) -> bool:
        """Evaluate a node whose result does not depend on the input's values; True if folded."""
        import numpy as np

        if node.op_type == "Shape" and self.static(node.input[0]):
            shape = np.array(self.shapes[node.input[0]], dtype=np.int64)
            start, end = attr(node, "start", 0), attr(node, "end", None)
            self.constants[node.output[0]] = shape[start:end]
            return True
        if node.op_type in ("Constant",) or (node.input and all(not name or name in self.constants for name in node.input)):
            from onnx.reference import ReferenceEvaluator

            values = ReferenceEvaluator(node).run(None, {name: self.constants[name] for name in node.input if name})
            self.constants.update(zip(node.output, values))
            if node.input and all(not name or name in self.weights for name in node.input):
                self.weights.update(node.output)  # torch.onnx.export's Identity of a shared initializer
            return True
        return False

    def static(self, name: str) -> bool:
        shape = self.shapes.get(name)
        return shape is not None and all(d > 0 for d in shape)

    def shape(self, name: str) -> tuple:
        """Per sample: the inferred shape without the batch axis."""
        if name not in self.shapes or not self.static(name):
            raise CnnCostError(f"ONNX shape inference gives no static shape for tensor {name!r}", Location(self.path))
        return self.shapes[name][1:]

    def only_reader(self, name: str):
        readers = self.readers.get(name, [])
        return readers[0] if len(readers) == 1 and name not in self.outputs else None


def attr(node, key: str, default=None):
    from onnx import helper

    for a in node.attribute:
        if a.name == key:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def import_onnx(path: str) -> str:
    """The spec text for an ONNX file."""
    from cnncost.interop.onnx_export import require_onnx

    onnx = require_onnx()
    try:
        model = onnx.load(path)
    except Exception as exc:  # a truncated or foreign file: protobuf's many error types
        raise CnnCostError(f"cannot read the ONNX file: {str(exc).splitlines()[0][:200]}", Location(path)) from None
    graph = _Graph(model, path)
    layers, unsupported, consumed = [], {}, set()
    # Patterns whose first node is not their anchor (GELU's scaling Mul comes before its Erf) are claimed first.
    claimed = {id(node): _gelu(graph, node, consumed) for node in graph.nodes if node.op_type == "Erf"}
    for node in graph.nodes:
        if id(node) in consumed:
            continue
        translated = claimed[id(node)] if node.op_type == "Erf" else translate(graph, node, consumed)
        if translated is None:
            unsupported.setdefault(node.op_type, []).append(node.name or "(unnamed)")
            continue
        layers += translated
    if unsupported:
        raise unsupported_error("ONNX operators", unsupported, path)
    return write_spec(graph, model, layers, path)


# -- translation ------------------------------------------------------------------------------------------------


SAME_NAME = {"Relu": "relu", "Tanh": "tanh", "HardSwish": "hardswish", "Identity": "identity", "Mish": "mish"}


def translate(g: _Graph, node, consumed: set):
    """The cnncost layers for one node (and the nodes it absorbs into `consumed`), or None if unsupported."""
    op = node.op_type
    x = [name for name in node.input if name and name not in g.constants]
    out = node.output[0]
    rank = len(g.shape(out)) if out in g.shapes else 0
    if op in SAME_NAME:
        return [Layer(SAME_NAME[op], out, x)]
    if op == "Sigmoid":
        return _silu(g, node, consumed) or [Layer("sigmoid", out, x)]
    if op == "Erf":
        return _gelu(g, node, consumed)
    if op == "Conv":
        return _conv(g, node, x)
    if op == "ConvTranspose":
        return _conv(g, node, x, transpose=True)
    if op == "Gemm":
        return _gemm(g, node, x)
    if op == "MatMul":
        return _matmul(g, node, x, consumed)
    if op == "BatchNormalization":
        return [Layer("batchnorm", out, x[:1], {"eps": attr(node, "epsilon", 1e-5)})]
    if op == "InstanceNormalization":
        return [Layer("instancenorm", out, x[:1], {"eps": attr(node, "epsilon", 1e-5), "affine": _learned(g, node.input[1:3])})]
    if op == "LayerNormalization":
        axis = attr(node, "axis", -1)
        dims = -axis if axis < 0 else rank + 1 - axis
        return [Layer("layernorm", out, x[:1], {"dims": dims, "eps": attr(node, "epsilon", 1e-5), "affine": _learned(g, node.input[1:3])})]
    if op == "LRN":
        return [Layer("lrn", out, x, {"size": attr(node, "size"), "alpha": attr(node, "alpha", 1e-4),
                                      "beta": attr(node, "beta", 0.75), "k": attr(node, "bias", 1.0)})]
    if op in ("MaxPool", "AveragePool"):
        return _pool(g, node, x)
    if op in ("ReduceMean", "ReduceMax", "ReduceSum"):
        return _reduce(g, node, x, rank)
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return [Layer("global_avgpool" if op == "GlobalAveragePool" else "global_maxpool", out, x, {"keepdims": True})]
    if op == "Flatten":
        return [Layer("flatten", out, x)] if attr(node, "axis", 1) == 1 else None
    if op == "Reshape":
        return _reshape(g, node, x, consumed)
    if op in ("Add", "Sum"):
        return [Layer("add", out, x)] if len(x) == len(node.input) >= 2 else None
    if op == "Mul":
        return _mul(g, node, x)
    if op == "DepthToSpace" and attr(node, "mode", "DCR") == "CRD":  # torch's pixel_shuffle order
        return [Layer("pixel_shuffle", out, x, {"factor": attr(node, "blocksize")})]
    if op == "Transpose":
        perm = list(attr(node, "perm", []))
        return [Layer("permute", out, x, {"axes": [p - 1 for p in perm[1:]]})] if perm and perm[0] == 0 else None
    if op == "Concat" and len(x) == 1:
        return [Layer("identity", out, x)]  # torch.cat([x]): DenseNet's first layer of each block
    if op == "Concat":
        return [Layer("concat", out, x, {"axis": _sample_axis(attr(node, "axis"), rank)})]
    if op == "Clip":
        return _clip(g, node, x)
    if op == "LeakyRelu":
        return [Layer("leaky_relu", out, x, {"slope": attr(node, "alpha", 0.01)})]
    if op == "HardSigmoid":
        return [Layer("hardsigmoid", out, x)] if abs(attr(node, "alpha", 0.2) - 1 / 6) < 1e-6 and attr(node, "beta", 0.5) == 0.5 else None
    if op == "Softmax":
        return [Layer("softmax", out, x, {"axis": _sample_axis(attr(node, "axis", -1), rank)})]
    if op == "Dropout":
        ratio = g.constants.get(node.input[1]) if len(node.input) > 1 and node.input[1] else attr(node, "ratio", 0.5)
        return [Layer("dropout", out, x[:1], {"p": round(float(ratio), 6)})]
    if op == "Slice":
        return _adaptive_bins(g, node, consumed) or _channel_slices(g, node, x) or _crop(g, node, x)
    if op == "Resize":
        return _resize(g, node, x)
    if op == "Split":
        return _channel_slices(g, node, x)
    return None


def _reduce(g: _Graph, node, x, rank):
    """Over every spatial axis: global pooling (mean or max); otherwise the reduction op over the given axes."""
    axes = g.constants.get(node.input[1]) if len(node.input) > 1 and node.input[1] else attr(node, "axes", None)
    keep = bool(attr(node, "keepdims", 1))
    in_rank = len(g.shape(x[0]))
    if axes is None:
        return None
    axes = sorted(int(a) % (in_rank + 1) for a in axes)
    if 0 in axes:
        return None
    reduction = {"ReduceMean": "avg", "ReduceMax": "max"}.get(node.op_type)
    if reduction and axes == list(range(2, in_rank + 1)):
        return [Layer(f"global_{reduction}pool", node.output[0], x, {"keepdims": keep})]
    op = {"ReduceMean": "mean", "ReduceMax": "amax", "ReduceSum": "sum"}[node.op_type]
    return [Layer(op, node.output[0], x, {"axes": [a - 1 for a in axes], "keepdims": keep})]


def _learned(g: _Graph, names) -> bool:
    """A norm's scale and shift are learned when they are the model's weights (initializers); exporters write the
    fixed 1 and 0 of a module without them as Constant nodes. Their values cannot tell: a fresh module holds 1 and 0."""
    return all(name in g.weights for name in names if name)


def _sample_axis(axis: int, rank: int) -> int:
    """ONNX counts the batch axis; spec axes are per sample (0 = channels). Negative axes mean the same in both."""
    if axis == 0:
        raise CnnCostError("an operator along the batch axis has no per-sample equivalent")
    return axis - 1 if axis > 0 else axis


def _conv(g: _Graph, node, x, transpose: bool = False):
    weight = g.constants.get(node.input[1])
    if weight is None:
        return None
    kernel = list(weight.shape[2:])
    n = len(kernel)
    groups = attr(node, "group", 1)
    pads = list(attr(node, "pads", [0] * 2 * n))
    before, after = pads[:n], pads[n:]
    out_channels = weight.shape[1] * groups if transpose else weight.shape[0]
    attrs = {"out": int(out_channels), "kernel": kernel, "stride": list(attr(node, "strides", [1] * n)),
             "dilation": list(attr(node, "dilations", [1] * n)), "groups": groups, "bias": len(node.input) > 2 and bool(node.input[2])}
    if transpose:
        if before != after:
            return None
        attrs["padding"] = before
        attrs["output_padding"] = list(attr(node, "output_padding", [0] * n))
        return [Layer(f"conv_transpose{n}d", node.output[0], x[:1], attrs)]
    if before == after:
        attrs["padding"] = before
    elif _is_same(g.shape(x[0])[1:], kernel, attrs["stride"], attrs["dilation"], before, after):
        attrs["padding"] = "same"
    else:
        padded = node.output[0] + "_pad"
        return [Layer("pad", padded, x[:1], {"padding": [[b, a] for b, a in zip(before, after)]}),
                Layer(f"conv{n}d", node.output[0], [padded], {**attrs, "padding": 0})]
    return [Layer(f"conv{n}d", node.output[0], x[:1], attrs)]


def _is_same(sizes, kernel, stride, dilation, before, after) -> bool:
    for n, k, s, d, b, a in zip(sizes, kernel, stride, dilation, before, after):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        if (b, a) != (total // 2, total - total // 2):
            return False
    return True


def _gemm(g: _Graph, node, x):
    weight = g.constants.get(node.input[1])
    if weight is None or len(x) != 1 or attr(node, "transA", 0) or attr(node, "alpha", 1.0) != 1.0:
        return None
    out = weight.shape[0] if attr(node, "transB", 0) else weight.shape[1]
    bias = len(node.input) > 2 and bool(node.input[2])
    return [Layer("linear", node.output[0], x, {"out": int(out), "bias": bias})]


def _matmul(g: _Graph, node, x, consumed):
    """x @ W (+ b): a linear layer; two computed inputs: a batched matrix product."""
    if len(x) == 2:
        return [Layer("matmul", node.output[0], x)]
    weight = g.constants.get(node.input[1])
    if weight is None or weight.ndim != 2:
        return None
    layer = Layer("linear", node.output[0], x, {"out": int(weight.shape[1]), "bias": False})
    reader = g.only_reader(node.output[0])
    if reader is not None and reader.op_type == "Add":
        other = [name for name in reader.input if name != node.output[0]]
        if len(other) == 1 and other[0] in g.constants and g.constants[other[0]].shape == (weight.shape[1],):
            consumed.add(id(reader))
            layer.name, layer.attrs["bias"] = reader.output[0], True
    return [layer]


def _pool(g: _Graph, node, x):
    kernel = list(attr(node, "kernel_shape"))
    n = len(kernel)
    pads = list(attr(node, "pads", [0] * 2 * n))
    if pads[:n] != pads[n:]:
        return None
    attrs = {"kernel": kernel, "stride": list(attr(node, "strides", [1] * n)), "padding": pads[:n], "ceil_mode": bool(attr(node, "ceil_mode", 0))}
    if node.op_type == "MaxPool":
        attrs["dilation"] = list(attr(node, "dilations", [1] * n))
        return [Layer(f"maxpool{n}d", node.output[0], x, attrs)]
    attrs["count_include_pad"] = bool(attr(node, "count_include_pad", 0))
    return [Layer(f"avgpool{n}d", node.output[0], x, attrs)]


def _reshape(g: _Graph, node, x, consumed):
    out_shape = g.shape(node.output[0])
    if len(out_shape) == 1:
        return [Layer("flatten", node.output[0], x)]
    shuffle = _channel_shuffle(g, node, consumed)
    if shuffle:
        return shuffle
    return [Layer("reshape", node.output[0], x, {"shape": list(out_shape)})]


def _channel_shuffle(g: _Graph, node, consumed):
    """Reshape (C → g, C/g) · Transpose (swap them) · Reshape (back to C): ShuffleNet's channel shuffle."""
    source, grouped = node.input[0], g.shape(node.output[0])
    transpose = g.only_reader(node.output[0])
    if transpose is None or transpose.op_type != "Transpose" or len(grouped) < 2:
        return None
    perm = list(attr(transpose, "perm", []))
    if perm[:3] != [0, 2, 1] or perm[3:] != list(range(3, len(perm))):
        return None
    back = g.only_reader(transpose.output[0])
    if back is None or back.op_type != "Reshape" or g.shape(back.output[0]) != g.shape(source):
        return None
    consumed.update({id(transpose), id(back)})
    return [Layer("channel_shuffle", back.output[0], [source], {"groups": int(grouped[0])})]


def _mul(g: _Graph, node, x):
    if len(x) == 2:
        return [Layer("mul", node.output[0], x)]
    constant = next((g.constants[name] for name in node.input if name in g.constants), None)
    shape = g.shape(x[0])
    if constant is None or constant.size <= 1:
        return None
    per_sample = constant.shape[1:] if constant.ndim == len(shape) + 1 else constant.shape
    axes = [i for i, n in enumerate((1,) * (len(shape) - len(per_sample)) + tuple(per_sample)) if n != 1]
    if len(axes) != 1:
        return None
    return [Layer("scale", node.output[0], x, {"axis": axes[0]})]


def _clip(g: _Graph, node, x):
    import numpy as np

    low = g.constants.get(node.input[1]) if len(node.input) > 1 and node.input[1] else attr(node, "min", None)
    high = g.constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else attr(node, "max", None)
    low, high = (None if v is None else float(np.asarray(v)) for v in (low, high))
    if (low, high) == (0.0, 6.0):
        return [Layer("relu6", node.output[0], x[:1])]
    if low is None or high is None:
        return None
    return [Layer("hardtanh", node.output[0], x[:1], {"min": low, "max": high})]


def _silu(g: _Graph, node, consumed):
    """Sigmoid(x) read by one Mul whose other factor is x."""
    source = node.input[0]
    reader = g.only_reader(node.output[0])
    if reader is None or reader.op_type != "Mul" or sorted(reader.input) != sorted([source, node.output[0]]):
        return None
    consumed.add(id(reader))
    return [Layer("silu", reader.output[0], [source])]


def _gelu(g: _Graph, node, consumed):
    """0.5·x·(1 + erf(x/√2)), in the orders exporters write it: the Erf, its scaled input, the +1 and two products."""
    scaled = g.producer.get(node.input[0])
    if scaled is None or scaled.op_type not in ("Div", "Mul"):
        return None
    source = next((name for name in scaled.input if name not in g.constants), None)
    plus = g.only_reader(node.output[0])
    if source is None or plus is None or plus.op_type != "Add":
        return None
    product = g.only_reader(plus.output[0])
    if product is None or product.op_type != "Mul":
        return None
    other = next(name for name in product.input if name != plus.output[0])
    absorbed = [scaled, plus, product]
    if other == source:  # x·(1 + erf) then ·0.5
        last = g.only_reader(product.output[0])
        if last is None or last.op_type != "Mul":
            return None
        absorbed.append(last)
    else:  # (0.5·x)·(1 + erf)
        half = g.producer.get(other)
        if half is None or half.op_type != "Mul" or source not in half.input:
            return None
        absorbed.append(half)
        last = product
    consumed.update(id(n) for n in absorbed)
    return [Layer("gelu", last.output[0], [source])]


def _slice_bounds(g: _Graph, node):
    """(axis, start, end) of a one-axis, unit-step Slice with constant bounds, else None."""
    names = list(node.input) + [""] * (5 - len(node.input))
    starts, ends, axes, steps = (g.constants.get(name) if name else None for name in names[1:5])
    if starts is None or ends is None or axes is None or len(axes) != 1 or (steps is not None and list(steps) != [1]):
        return None
    return int(axes[0]), int(starts[0]), int(ends[0])


def _adaptive_bins(g: _Graph, node, consumed):
    """Adaptive pooling written as, along each spatial axis in turn, one Slice and one ReduceMean (or ReduceMax) per
    bin [floor(i·n/o), ceil((i+1)·n/o)) and a Concat: how a pooling whose bins do not divide evenly is exported."""
    source = node.input[0]
    rank = len(g.shape(source))  # channels + spatial axes; ONNX numbers the spatial axes 2 … rank
    absorbed, outputs, reduce_ops, first, tensor = [], [], set(), node, source
    for axis in range(2, rank + 1):
        if first is None or first.input[0] != tensor:
            return None
        found = _bins_of(g, first, axis)
        if found is None:
            return None
        concat, reduce_op, nodes = found
        reduce_ops.add(reduce_op)
        outputs.append(len(concat.input))
        absorbed += [*nodes, concat]
        tensor = concat.output[0]
        # the next axis's first bin: a Slice of this result starting at 0 there (_bins_of checks every bin's bounds)
        first = next((r for r in g.readers.get(tensor, []) if r.op_type == "Slice" and (_slice_bounds(g, r) or ())[:2] == (axis + 1, 0)), None)
    if len(reduce_ops) != 1:
        return None
    consumed.update(id(n) for n in absorbed)
    op = f"adaptive_{'avg' if reduce_ops == {'ReduceMean'} else 'max'}pool{rank - 1}d"
    return [Layer(op, tensor, [source], {"output": outputs})]


def _bins_of(g: _Graph, first, axis: int):
    """The Concat that gathers one axis's bins starting at this Slice, if every bin is exactly adaptive."""
    tensor = first.input[0]
    reduce_node = g.only_reader(first.output[0])
    if reduce_node is None or reduce_node.op_type not in ("ReduceMean", "ReduceMax") or not attr(reduce_node, "keepdims", 1):
        return None
    concat = g.only_reader(reduce_node.output[0])
    if concat is None or concat.op_type != "Concat" or attr(concat, "axis") != axis:
        return None
    n, o, nodes = g.shapes[tensor][axis], len(concat.input), []
    for i, part in enumerate(concat.input):
        reduced = g.producer.get(part)
        sliced = g.producer.get(reduced.input[0]) if reduced is not None else None
        if reduced is None or reduced.op_type != reduce_node.op_type or sliced is None or sliced.op_type != "Slice":
            return None
        if sliced.input[0] != tensor or _slice_bounds(g, sliced) != (axis, i * n // o, -(-(i + 1) * n // o)):
            return None
        nodes += [sliced, reduced]
    return concat, reduce_node.op_type, nodes


def _crop(g: _Graph, node, x):
    """A unit-step Slice of spatial axes only: a crop (U-Net's crop-and-copy), with the offset it starts at."""
    import numpy as np

    names = list(node.input) + [""] * (5 - len(node.input))
    starts, ends, axes, steps = (g.constants.get(name) if name else None for name in names[1:5])
    rank = len(g.shape(x[0])) + 1
    if starts is None or ends is None:
        return None
    axes = [int(a) % rank for a in (axes if axes is not None else range(len(starts)))]
    if min(axes) < 2 or (steps is not None and np.any(steps != 1)):
        return None
    sizes = g.shape(x[0])[1:]
    offsets = [0] * len(sizes)
    for axis, start in zip(axes, starts):
        offsets[axis - 2] = int(start) + (sizes[axis - 2] if start < 0 else 0)
    return [Layer("crop", node.output[0], x[:1], {"size": list(g.shape(node.output[0])[1:]), "offset": offsets})]


def _resize(g: _Graph, node, x):
    """Resize of the spatial axes only, in one of torch's interpolate modes: upsample to the inferred size."""
    names = list(node.input) + [""] * (4 - len(node.input))
    before, after = g.shape(x[0]), g.shape(node.output[0])
    if before[0] != after[0] or attr(node, "antialias", 0) or any(name and name not in g.constants for name in names[1:]):
        return None
    spatial = len(before) - 1
    mode = {"nearest": "nearest", "cubic": "bicubic"}.get(attr(node, "mode", "nearest"))
    mode = mode or {1: "linear", 2: "bilinear", 3: "trilinear"}.get(spatial)
    transform = attr(node, "coordinate_transformation_mode", "half_pixel")
    wanted = {"nearest": ("asymmetric",), "bicubic": ("pytorch_half_pixel", "half_pixel", "align_corners")}
    if mode is None or transform not in wanted.get(mode, ("pytorch_half_pixel", "half_pixel", "align_corners")):
        return None
    if mode == "nearest" and attr(node, "nearest_mode", "round_prefer_floor") != "floor":
        return None
    return [Layer("upsample", node.output[0], x[:1], {"size": list(after[1:]), "mode": mode,
                                                      "align_corners": transform == "align_corners"})]


def _channel_slices(g: _Graph, node, x):
    """A Slice or Split along the channels: one `split` layer per piece."""
    import numpy as np

    channels = g.shape(x[0])[0]
    if node.op_type == "Split":
        if attr(node, "axis", 0) != 1:
            return None
        sizes = g.constants.get(node.input[1]) if len(node.input) > 1 and node.input[1] else None
        sizes = [int(s) for s in sizes] if sizes is not None else [channels // len(node.output)] * len(node.output)
        return [Layer("split", out, x[:1], {"sizes": sizes, "index": i}) for i, out in enumerate(node.output) if out]
    starts, ends = (g.constants.get(name) for name in node.input[1:3])
    axes = g.constants.get(node.input[3]) if len(node.input) > 3 and node.input[3] else np.array([0])
    steps = g.constants.get(node.input[4]) if len(node.input) > 4 and node.input[4] else np.array([1])
    if starts is None or ends is None or list(axes) != [1] or list(steps) != [1]:
        return None
    start, end = int(starts[0]), min(int(ends[0]), channels)
    sizes = [size for size in (start, end - start, channels - end) if size > 0]
    return [Layer("split", node.output[0], x[:1], {"sizes": sizes, "index": 1 if start > 0 else 0})]


# -- writing the spec -------------------------------------------------------------------------------------------


def layer_name(tensor: str, op: str) -> str:
    """A readable name from a tensor or node name: torch's "/layer1/layer1.0/conv1/Conv_output_0" → layer1_0_conv1."""
    parts = [p for p in re.split(r"/", tensor) if p]
    if len(parts) > 1:
        parts = parts[:-1]  # the operator part of a module path
    return sanitised(re.sub(r"_output_\d+$", "", parts[-1] if parts else tensor), op)


def write_spec(g: _Graph, model, layers: list, path: str) -> str:
    def label(layer):
        producer = g.producer.get(layer.name)
        return layer_name(producer.name if producer is not None and producer.name else layer.name, layer.op)

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    producer = " ".join(filter(None, (model.producer_name or "unknown", model.producer_version)))
    header = [f"Imported by cnncost from {path} (ONNX IR {model.ir_version}, opset {opset}, producer {producer}).",
              "One layer per operator; weights and shape computations were folded into the layers' settings."]
    return spec_text(header, model.graph.name or "imported", g.input, g.shape(g.input), layers, g.outputs, label, path)
