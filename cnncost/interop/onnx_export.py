"""`cnncost export`: a spec as an ONNX graph (opset 18) with the seeded weights `verify` uses.

Node and output names are cnncost's layer names, so Netron shows the spec's rows and onnxruntime's outputs can be
compared layer by layer. An op that ONNX has no single operator for becomes a few nodes named `<layer>/<step>`,
the last of which is the layer. The batch axis is symbolic ("batch"). The `onnx` package is imported only here.
"""
from __future__ import annotations


from cnncost.errors import CnnCostError
from cnncost.graph import INPUT
from cnncost.interop.onnx_decoder import EXPORTERS as DECODER_EXPORTERS

OPSET = 18


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise CnnCostError("this command needs the onnx package", None, "pip install 'cnncost[onnx]'") from None
    return onnx


def export_model(spec, seed: int = 0, every_layer: bool = False):
    """The spec as an onnx.ModelProto; with every_layer, each layer's output is also a graph output.

    Unused layers (reaching no output) are written too, as nodes whose results nothing reads: their weights are
    part of the model, and importing the file marks them unused again."""
    onnx = require_onnx()
    from onnx import TensorProto, helper

    from cnncost.analysis import analyze_spec

    report = analyze_spec(spec)
    rows = {row.name: row for row in report.layers}
    graph = spec.graph
    unused = set(graph.unused())
    builder = _Builder(seed)
    for node in graph.nodes:
        shapes = [(1, *(graph.input_shape if name == INPUT else rows[name].output_shape)) for name in node.inputs]
        try:
            EXPORTERS[node.op](builder, node, list(node.inputs), shapes, (1, *rows[node.name].output_shape))
        except KeyError:
            raise CnnCostError(f"layer {node.name!r}: op {node.op!r} cannot be exported to ONNX yet", node.loc) from None
    names = [name for name in graph.outputs]
    if every_layer:
        names += [node.name for node in graph.nodes if node.name not in unused and node.name not in graph.outputs]

    def value(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *shape])

    onnx_graph = helper.make_graph(
        builder.nodes,
        spec.name,
        [value(INPUT, graph.input_shape)],
        [value(name, rows[name].output_shape) for name in names],
        builder.initializers,
    )
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cnncost")
    model.doc_string = f"{spec.name}: exported by cnncost from {spec.path}, weights seeded with {seed}"
    return model


def export_file(spec, path: str, seed: int = 0, force: bool = False) -> None:
    from cnncost.output import write_atomic

    write_atomic(path, export_model(spec, seed).SerializeToString(), force=force)


class _Builder:
    """Collects nodes and initializers; names every helper tensor after its layer."""

    def __init__(self, seed: int):
        self.seed, self.nodes, self.initializers = seed, [], []

    def constant(self, name: str, array) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, name: str, values) -> str:
        import numpy as np

        return self.constant(name, np.array(list(values), dtype=np.int64))

    def floats(self, name: str, values) -> str:
        import numpy as np

        return self.constant(name, np.asarray(values, dtype=np.float32))

    def add(self, op_type: str, inputs: list, output: str, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output

    def weights(self, node, shapes):
        from cnncost.seeded import layer_weights

        params, buffers = layer_weights(node, shapes, self.seed)
        return {**params, **buffers}


# -- one exporter per op: (builder, node, input names, input shapes with batch 1, output shape with batch 1) ------


def _conv(b, node, x, shapes, out):
    a, w = node.attrs, b.weights(node, shapes)
    inputs = [x[0], b.constant(f"{node.name}.weight", w["weight"])]
    if "bias" in w:
        inputs.append(b.constant(f"{node.name}.bias", w["bias"]))
    b.add("Conv", inputs, node.name, kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
          dilations=list(a["dilation"]), group=a["groups"], pads=_pads(a["padding"], shapes[0], a["kernel"], a["stride"], a["dilation"]))


def _pads(padding, shape, kernel, stride, dilation) -> list:
    """ONNX pads: all the befores, then all the afters; 'same' as TensorFlow (the odd pixel after)."""
    sizes = shape[2:]
    if padding == "valid":
        pairs = [(0, 0)] * len(sizes)
    elif padding == "same":
        pairs = []
        for n, k, s, d in zip(sizes, kernel, stride, dilation):
            total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
            pairs.append((total // 2, total - total // 2))
    else:
        pairs = [(p, p) for p in padding]
    return [p for p, _ in pairs] + [q for _, q in pairs]


def _linear(b, node, x, shapes, out):
    w = b.weights(node, shapes)
    product = b.add("MatMul", [x[0], b.constant(f"{node.name}.weight_t", w["weight"].T.copy())], node.name + ("/matmul" if "bias" in w else ""))
    if "bias" in w:
        b.add("Add", [product, b.constant(f"{node.name}.bias", w["bias"])], node.name)


def _pool(onnx_op):
    def export(b, node, x, shapes, out):
        a = node.attrs
        extra = {"dilations": list(a["dilation"])} if "dilation" in a else {}
        if onnx_op == "AveragePool":
            extra["count_include_pad"] = int(a["count_include_pad"])
        b.add(onnx_op, x, node.name, kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
              pads=[*a["padding"], *a["padding"]], ceil_mode=int(a["ceil_mode"]), **extra)
    return export


def _adaptive(reduce_op, pool_op):
    """Bins that divide evenly are one pooling; otherwise each axis in turn: a slice and a reduction per bin, then
    a concat (a mean or max over a box is the mean or max over its rows of the same over its columns)."""
    def export(b, node, x, shapes, out):
        sizes, outputs = shapes[0][2:], node.attrs["output"]
        if all(n % o == 0 for n, o in zip(sizes, outputs)):
            kernel = [n // o for n, o in zip(sizes, outputs)]
            b.add(pool_op, x, node.name, kernel_shape=kernel, strides=kernel)
            return
        current = x[0]
        for axis, (n, o) in enumerate(zip(sizes, outputs)):
            last = axis == len(sizes) - 1
            parts = []
            for i in range(o):
                lo, hi = i * n // o, -(-(i + 1) * n // o)
                step = f"{node.name}/axis{axis}/bin{i}"
                sliced = b.add("Slice", [current, b.ints(f"{step}/lo", [lo]), b.ints(f"{step}/hi", [hi]), b.ints(f"{step}/axis", [axis + 2])], f"{step}/slice")
                parts.append(b.add(reduce_op, [sliced, b.ints(f"{step}/axes", [axis + 2])], f"{step}/reduce", keepdims=1))
            current = b.add("Concat", parts, node.name if last else f"{node.name}/axis{axis}", axis=axis + 2)
    return export


def _global(pool_op, reduce_op):
    """keepdims: the global pooling operator; otherwise one reduction over the spatial axes that drops them."""
    def export(b, node, x, shapes, out):
        if node.attrs["keepdims"]:
            b.add(pool_op, x, node.name)
        else:
            b.add(reduce_op, [x[0], b.ints(f"{node.name}/axes", range(2, len(shapes[0])))], node.name, keepdims=0)
    return export


def _batchnorm(b, node, x, shapes, out):
    import numpy as np

    w, c = b.weights(node, shapes), shapes[0][1]
    scale = w.get("weight", np.ones(c, np.float32))
    shift = w.get("bias", np.zeros(c, np.float32))
    names = [b.constant(f"{node.name}.{key}", value) for key, value in
             (("weight", scale), ("bias", shift), ("running_mean", w["running_mean"]), ("running_var", w["running_var"]))]
    b.add("BatchNormalization", [x[0], *names], node.name, epsilon=node.attrs["eps"])


def _affine(b, node, y: str, w: dict, shape: tuple) -> None:
    """y·weight + bias with the weights broadcast from their own shape; the last node is the layer."""
    if "weight" not in w:
        b.add("Identity", [y], node.name)
        return
    scaled = b.add("Mul", [y, b.constant(f"{node.name}.weight", w["weight"].reshape(shape))], f"{node.name}/scale")
    b.add("Add", [scaled, b.constant(f"{node.name}.bias", w["bias"].reshape(shape))], node.name)


def _normalize(b, node, x: str, grouped_shape: list, axes: list, eps: float) -> str:
    """(x − mean) / sqrt(var + eps) over `axes` of x reshaped to grouped_shape (population variance)."""
    name = node.name
    grouped = b.add("Reshape", [x, b.ints(f"{name}/grouped_shape", grouped_shape)], f"{name}/grouped")
    axes_name = b.ints(f"{name}/axes", axes)
    mean = b.add("ReduceMean", [grouped, axes_name], f"{name}/mean", keepdims=1)
    centred = b.add("Sub", [grouped, mean], f"{name}/centred")
    var = b.add("ReduceMean", [b.add("Mul", [centred, centred], f"{name}/square"), axes_name], f"{name}/var", keepdims=1)
    std = b.add("Sqrt", [b.add("Add", [var, b.floats(f"{name}/eps", eps)], f"{name}/var_eps")], f"{name}/std")
    return b.add("Div", [centred, std], f"{name}/normalized")


def _groupnorm(b, node, x, shapes, out):
    c, rest = shapes[0][1], shapes[0][2:]
    g = node.attrs["groups"]
    y = _normalize(b, node, x[0], [0, g, -1], [2], node.attrs["eps"])
    y = b.add("Reshape", [y, b.ints(f"{node.name}/shape", [0, c, *rest])], f"{node.name}/ungrouped")
    _affine(b, node, y, b.weights(node, shapes), (c, *[1] * len(rest)))


def _instancenorm(b, node, x, shapes, out):
    c, rest = shapes[0][1], shapes[0][2:]
    y = _normalize(b, node, x[0], [0, c, -1], [2], node.attrs["eps"])
    y = b.add("Reshape", [y, b.ints(f"{node.name}/shape", [0, c, *rest])], f"{node.name}/ungrouped")
    _affine(b, node, y, b.weights(node, shapes), (c, *[1] * len(rest)))


def _layernorm(b, node, x, shapes, out):
    w, shape = b.weights(node, shapes), shapes[0][1:]
    dims = node.attrs["dims"] or len(shape)
    normalized = shape[len(shape) - dims:]
    if "weight" in w:
        names = [b.constant(f"{node.name}.weight", w["weight"].reshape(normalized)), b.constant(f"{node.name}.bias", w["bias"].reshape(normalized))]
    else:  # fixed values, written as Constant nodes as torch.onnx.export does: an initializer is a learned weight
        import numpy as np
        from onnx import numpy_helper

        names = [b.add("Constant", [], f"{node.name}.{fill.__name__}", value=numpy_helper.from_array(fill(normalized, np.float32)))
                 for fill in (np.ones, np.zeros)]
    b.add("LayerNormalization", [x[0], *names], node.name, axis=-dims, epsilon=node.attrs["eps"])


def _lrn(b, node, x, shapes, out):
    a = node.attrs
    b.add("LRN", x, node.name, size=a["size"], alpha=a["alpha"], beta=a["beta"], bias=a["k"])


def _simple(onnx_op, **fixed):
    def export(b, node, x, shapes, out):
        b.add(onnx_op, x, node.name, **fixed)
    return export


def _relu6(b, node, x, shapes, out):
    b.add("Clip", [x[0], b.floats(f"{node.name}/min", 0.0), b.floats(f"{node.name}/max", 6.0)], node.name)


def _gelu(b, node, x, shapes, out):
    """0.5·x·(1 + erf(x/√2)), or with approximate: tanh, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    n = node.name
    if node.attrs["approximate"] == "tanh":
        cube = b.add("Mul", [b.add("Mul", [x[0], x[0]], f"{n}/x2"), x[0]], f"{n}/x3")
        inner = b.add("Add", [x[0], b.add("Mul", [cube, b.floats(f"{n}/c", 0.044715)], f"{n}/cx3")], f"{n}/sum")
        core = b.add("Tanh", [b.add("Mul", [inner, b.floats(f"{n}/k", (2 / 3.141592653589793) ** 0.5)], f"{n}/scaled")], f"{n}/core")
    else:
        core = b.add("Erf", [b.add("Mul", [x[0], b.floats(f"{n}/k", 2 ** -0.5)], f"{n}/scaled")], f"{n}/core")
    half = b.add("Mul", [x[0], b.floats(f"{n}/half", 0.5)], f"{n}/half_x")
    b.add("Mul", [half, b.add("Add", [core, b.floats(f"{n}/one", 1.0)], f"{n}/one_plus")], n)


def _silu(b, node, x, shapes, out):
    b.add("Mul", [x[0], b.add("Sigmoid", x, f"{node.name}/sigmoid")], node.name)


def _softmax(b, node, x, shapes, out):
    axis = node.attrs["axis"]
    b.add("Softmax", x, node.name, axis=axis + 1 if axis >= 0 else axis)


def _chain(onnx_op):
    """add: one Sum; mul: products taken left to right, as the kernel and torch broadcast them."""
    def export(b, node, x, shapes, out):
        if onnx_op == "Sum":
            b.add("Sum", x, node.name)
            return
        current = x[0]
        for i, other in enumerate(x[1:], 1):
            current = b.add("Mul", [current, other], node.name if i == len(x) - 1 else f"{node.name}/{i}")
    return export


def _concat(b, node, x, shapes, out):
    axis = node.attrs["axis"]
    b.add("Concat", x, node.name, axis=axis + 1 if axis >= 0 else axis)


def _flatten(b, node, x, shapes, out):
    b.add("Flatten", x, node.name, axis=1)


def _channel_shuffle(b, node, x, shapes, out):
    c, rest, g = shapes[0][1], shapes[0][2:], node.attrs["groups"]
    n = node.name
    grouped = b.add("Reshape", [x[0], b.ints(f"{n}/grouped_shape", [0, g, c // g, *rest])], f"{n}/grouped")
    swapped = b.add("Transpose", [grouped], f"{n}/swapped", perm=[0, 2, 1, *range(3, 3 + len(rest))])
    b.add("Reshape", [swapped, b.ints(f"{n}/shape", [0, c, *rest])], n)


def _channel_slice(start_and_size):
    def export(b, node, x, shapes, out):
        start, size = start_and_size(node.attrs, shapes[0][1])
        n = node.name
        b.add("Slice", [x[0], b.ints(f"{n}/start", [start]), b.ints(f"{n}/end", [start + size]), b.ints(f"{n}/axis", [1])], n)
    return export


def _chunk_range(attrs, channels):
    size = -(-channels // attrs["chunks"])
    start = attrs["index"] * size
    return start, min(size, channels - start)


def _split_range(attrs, channels):
    sizes = attrs["sizes"]
    return sum(sizes[: attrs["index"]]), sizes[attrs["index"]]


def _axes(node, rank: int) -> list:
    """Per-sample axes (0 = channels, negative from the end) as ONNX axes, batch first."""
    return [a % rank + 1 for a in node.attrs["axes"]]


def _permute(b, node, x, shapes, out):
    b.add("Transpose", x, node.name, perm=[0, *_axes(node, len(shapes[0]) - 1)])


def _reshape(b, node, x, shapes, out):
    b.add("Reshape", [x[0], b.ints(f"{node.name}/shape", [0, *node.attrs["shape"]])], node.name)


def _reduce(onnx_op):
    def export(b, node, x, shapes, out):
        axes = b.ints(f"{node.name}/axes", _axes(node, len(shapes[0]) - 1))
        b.add(onnx_op, [x[0], axes], node.name, keepdims=int(node.attrs["keepdims"]))
    return export


def _scale(b, node, x, shapes, out):
    shape = [1] * (len(shapes[0]) - 1)
    shape[node.attrs["axis"]] = -1
    weight = b.weights(node, shapes)["weight"].reshape(shape)
    b.add("Mul", [x[0], b.constant(f"{node.name}.weight", weight)], node.name)


def _prelu(b, node, x, shapes, out):
    slope = b.weights(node, shapes)["weight"]
    slope = slope.reshape(-1, *[1] * (len(shapes[0]) - 2)) if node.attrs["per_channel"] else slope
    b.add("PRelu", [x[0], b.constant(f"{node.name}.weight", slope)], node.name)


def _softplus(b, node, x, shapes, out):
    """log(1 + exp(beta·x)) / beta, and x where beta·x > threshold (ONNX's Softplus has neither key)."""
    n, a = node.name, node.attrs
    scaled = b.add("Mul", [x[0], b.floats(f"{n}/beta", a["beta"])], f"{n}/scaled")
    soft = b.add("Div", [b.add("Softplus", [scaled], f"{n}/softplus"), b.floats(f"{n}/beta_div", a["beta"])], f"{n}/soft")
    linear = b.add("Greater", [scaled, b.floats(f"{n}/threshold", a["threshold"])], f"{n}/linear")
    b.add("Where", [linear, x[0], soft], n)


EXPORTERS = {
    **{f"conv{n}d": _conv for n in (1, 2, 3)},
    "linear": _linear,
    **{f"maxpool{n}d": _pool("MaxPool") for n in (1, 2, 3)},
    **{f"avgpool{n}d": _pool("AveragePool") for n in (1, 2, 3)},
    **{f"adaptive_avgpool{n}d": _adaptive("ReduceMean", "AveragePool") for n in (1, 2, 3)},
    **{f"adaptive_maxpool{n}d": _adaptive("ReduceMax", "MaxPool") for n in (1, 2, 3)},
    "global_avgpool": _global("GlobalAveragePool", "ReduceMean"),
    "global_maxpool": _global("GlobalMaxPool", "ReduceMax"),
    "batchnorm": _batchnorm,
    "instancenorm": _instancenorm,
    "groupnorm": _groupnorm,
    "layernorm": _layernorm,
    "lrn": _lrn,
    "relu": _simple("Relu"),
    "relu6": _relu6,
    "leaky_relu": lambda b, node, x, shapes, out: b.add("LeakyRelu", x, node.name, alpha=node.attrs["slope"]),
    "sigmoid": _simple("Sigmoid"),
    "tanh": _simple("Tanh"),
    "gelu": _gelu,
    "silu": _silu,
    "hardswish": _simple("HardSwish"),
    "hardsigmoid": _simple("HardSigmoid", alpha=1 / 6, beta=0.5),
    "softmax": _softmax,
    "add": _chain("Sum"),
    "mul": _chain("Mul"),
    "concat": _concat,
    "flatten": _flatten,
    "identity": _simple("Identity"),
    "dropout": lambda b, node, x, shapes, out: b.add("Dropout", [x[0], b.floats(f"{node.name}/ratio", node.attrs["p"])], node.name),
    "channel_shuffle": _channel_shuffle,
    "chunk": _channel_slice(_chunk_range),
    "split": _channel_slice(_split_range),
    **DECODER_EXPORTERS,
    "permute": _permute,
    "reshape": _reshape,
    "scale": _scale,
    "matmul": _simple("MatMul"),
    "mean": _reduce("ReduceMean"),
    "sum": _reduce("ReduceSum"),
    "amax": _reduce("ReduceMax"),
    "prelu": _prelu,
    "elu": lambda b, node, x, shapes, out: b.add("Elu", x, node.name, alpha=node.attrs["alpha"]),
    "softplus": _softplus,
    "mish": _simple("Mish"),
    "hardtanh": lambda b, node, x, shapes, out: b.add(
        "Clip", [x[0], b.floats(f"{node.name}/min", node.attrs["min"]), b.floats(f"{node.name}/max", node.attrs["max"])], node.name),
}


