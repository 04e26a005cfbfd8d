"""torch.fx nodes → cnncost layers: one translation per nn module type, torch function or Tensor method.

Each translation reads the module's settings or the call's arguments (constants already evaluated) and the
per-sample shapes of the tensors involved, and returns the layers it becomes, or None when cnncost has no op for
it (the import then lists it as unsupported). Pass-through calls (contiguous, clone, nn.Identity) become no layer.
Imported only when torch is present.
"""
from __future__ import annotations

import operator

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from cnncost.errors import CnnCostError, Location
from cnncost.interop.spec_text import Layer, sanitised, unsupported_error
from cnncost.ops.resample import MODES

PASS_THROUGH = object()  # the node's value is its first input's: no layer


class Tracer(torch.fx.Tracer):
    """torch.fx's tracer, keeping every module with a translation whole (a Conv2d stays one node)."""

    def is_leaf_module(self, m, qualname) -> bool:
        return _module_rule(m) is not None or super().is_leaf_module(m, qualname)


class _Node:
    """What a translation sees of one fx node: its arguments with constants evaluated, and per-sample shapes."""

    def __init__(self, run, node):
        self.run, self.node = run, node
        self.args = [run.value(a) for a in node.args]
        self.kwargs = {k: run.value(v) for k, v in node.kwargs.items()}
        self.data = []  # the tensors it reads, in argument order (x * x reads x twice)
        torch.fx.node.map_arg((node.args, node.kwargs), lambda n: self.data.append(n) if n in run.data else None)
        self.out = run.shapes.get(node)

    def arg(self, index: int, name: str, default=None):
        if index < len(self.args):
            return self.args[index]
        return self.kwargs.get(name, default)

    def shape(self, i: int = 0) -> tuple:
        return self.run.shapes[self.data[i]]

    def layer(self, op: str, attrs: dict | None = None, inputs: list | None = None, key=None) -> Layer:
        return Layer(op, key if key is not None else self.node, list(inputs if inputs is not None else self.data), attrs or {})


class _Run:
    """The traced graph run once at batch 1: shapes of the tensors that depend on the input, values of the rest."""

    def __init__(self, traced, shape):
        self.shapes, self.constants, self.data, self.pieces = {}, {}, set(), {}
        run = self

        class Recorder(torch.fx.Interpreter):
            def run_node(self, node):
                result = super().run_node(node)
                run.record(node, result)
                return result

        try:
            with torch.no_grad():
                Recorder(traced).run(torch.zeros(1, *shape))
        except Exception as exc:  # the model's own complaint: wrong channels, an input too small for its pooling, …
            message = (str(exc).strip().splitlines() or [""])[0][:300]
            raise CnnCostError(f"running the traced model at input {'x'.join(map(str, shape))} failed: "
                               f"{type(exc).__name__}: {message}", None, "check --input against the model") from None

    def record(self, node, result):
        if node.op == "output":
            return
        depends = node.op == "placeholder" or any(n in self.data for n in node.all_input_nodes)
        if depends and isinstance(result, torch.Tensor):
            self.data.add(node)
            self.shapes[node] = tuple(result.shape[1:])
        elif depends and isinstance(result, (tuple, list)) and result and all(isinstance(t, torch.Tensor) for t in result):
            self.data.add(node)
            self.pieces[node] = [t.shape[1] for t in result]  # chunk/split: channels per piece
            self.shapes[node] = tuple(result[0].shape[1:])
        else:
            self.constants[node] = result

    def value(self, arg):
        """An argument with constants evaluated; nodes that depend on the input stay nodes."""
        return torch.fx.node.map_arg(arg, lambda n: n if n in self.data else self.constants[n])


def translate_graph(traced, shape: tuple, source: str):
    """(layers, output keys, readable label per layer key) for a traced module."""
    run = _Run(traced, shape)
    modules = dict(traced.named_modules())
    layers, alias, labels, unsupported = [], {}, {}, {}
    for node in traced.graph.nodes:
        if node not in run.data or node.op == "placeholder":
            continue
        view = _Node(run, node)
        if node.op == "call_module":
            module = modules[node.target]
            rule = _module_rule(module)
            translated = rule(view, module) if rule else None
            kind = type(module).__name__
        else:
            kind = _kind(node)
            rule = (METHODS if node.op == "call_method" else FUNCTIONS).get(node.target) or BY_NAME.get(kind)
            translated = rule(view) if rule else None
        if translated is PASS_THROUGH:
            alias[node] = view.data[0]
            continue
        if translated is None:
            unsupported.setdefault(kind, []).append(node.target if node.op == "call_module" else node.name)
            continue
        for layer in translated:
            layer.inputs = [_resolve(alias, key) for key in layer.inputs]
            labels[layer.name] = _label(node) + ("" if layer.name is node else "_" + layer.name[1])
        layers += translated
    if unsupported:
        raise unsupported_error("PyTorch operations (or arguments)", unsupported, source)
    output = next(node for node in traced.graph.nodes if node.op == "output")
    outputs = []
    torch.fx.node.map_arg(output.args, lambda n: outputs.append(_resolve(alias, n)) if n in run.data else None)
    if not layers or not outputs or any(key not in labels for key in outputs):
        raise CnnCostError("the traced model returns no tensor computed from its input", Location(source))
    return layers, list(dict.fromkeys(outputs)), labels


def _resolve(alias: dict, key):
    while key in alias:
        key = alias[key]
    return "input" if getattr(key, "op", None) == "placeholder" else key


def _label(node) -> str:
    """Module path for a module call; innermost enclosing module path and the operation for the rest."""
    if node.op == "call_module":
        return sanitised(node.target, "layer")
    stack = node.meta.get("nn_module_stack") or {}
    path = next(reversed(stack.values()))[0] if stack else ""
    operation = node.name.rstrip("0123456789").rstrip("_") or node.name
    return sanitised(f"{path}_{operation}" if path else operation, "layer")


def _kind(node) -> str:
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    module = getattr(node.target, "__module__", None) or ""
    return f"{'operator' if module == '_operator' else module}.{getattr(node.target, '__name__', node.target)}".lstrip(".")


# -- translations -----------------------------------------------------------------------------------------------


def _ints(value, n: int) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value] * n


def _axis(dim: int, rank: int):
    """torch's dim (counting the batch axis) of a tensor with `rank` per-sample axes → the per-sample axis, or
    None for the batch axis itself."""
    dim = dim % (rank + 1)
    return None if dim == 0 else dim - 1


def _conv(v: _Node, m):
    n = len(m.kernel_size)
    attrs = {"out": m.out_channels, "kernel": list(m.kernel_size), "stride": list(m.stride),
             "dilation": list(m.dilation), "groups": m.groups, "bias": m.bias is not None}
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        return [v.layer(f"conv_transpose{n}d", {**attrs, "padding": list(m.padding), "output_padding": list(m.output_padding)})]
    padding = 0 if m.padding == "valid" else m.padding if isinstance(m.padding, str) else list(m.padding)
    if m.padding_mode == "zeros":
        return [v.layer(f"conv{n}d", {**attrs, "padding": padding})]
    if isinstance(padding, str):
        return None
    pad = v.layer("pad", {"padding": [[p, p] for p in padding], "mode": m.padding_mode}, key=(v.node, "pad"))
    return [pad, v.layer(f"conv{n}d", {**attrs, "padding": 0}, inputs=[pad.name])]


def _layernorm(v: _Node, m):
    if m.elementwise_affine and m.bias is None:
        return None  # a scale without a shift: no cnncost op holds that many parameters
    return [v.layer("layernorm", {"dims": len(m.normalized_shape), "eps": m.eps, "affine": m.elementwise_affine})]


def _max_pool(v: _Node, kernel, stride, padding, dilation, ceil_mode, return_indices=False):
    n = len(v.shape()) - 1
    if return_indices:
        return None
    return [v.layer(f"maxpool{n}d", {"kernel": _ints(kernel, n), "stride": _ints(stride or kernel, n),
                                     "padding": _ints(padding, n), "dilation": _ints(dilation, n), "ceil_mode": bool(ceil_mode)})]


def _avg_pool(v: _Node, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    n = len(v.shape()) - 1
    if divisor_override is not None:
        return None
    return [v.layer(f"avgpool{n}d", {"kernel": _ints(kernel, n), "stride": _ints(stride or kernel, n),
                                     "padding": _ints(padding, n), "ceil_mode": bool(ceil_mode),
                                     "count_include_pad": bool(count_include_pad)})]


def _adaptive(v: _Node, kind: str, output_size):
    spatial = v.shape()[1:]
    sizes = [s if o is None else o for o, s in zip(_ints(output_size, len(spatial)), spatial)]
    return [v.layer(f"adaptive_{kind}pool{len(spatial)}d", {"output": sizes})]


def _pad(v: _Node, pad, mode="constant", value=None):
    """F.pad's list runs from the last axis backwards in (before, after) pairs; spec pairs run first axis first."""
    spatial = len(v.shape()) - 1
    pairs = [list(pad[i:i + 2]) for i in range(0, len(pad), 2)][::-1]
    if len(pairs) > spatial:
        return None
    pairs = [[0, 0]] * (spatial - len(pairs)) + pairs
    return [v.layer("pad", {"padding": pairs, "mode": mode, "value": float(value or 0)})]


def _upsample(v: _Node, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
    spatial = len(v.shape()) - 1
    if mode not in MODES:
        return None  # area, nearest-exact: no cnncost op computes them
    attrs = {"mode": mode, "align_corners": bool(align_corners)}
    if size is not None:
        attrs["size"] = _ints(size, spatial)
    elif recompute_scale_factor:
        attrs["size"] = list(v.out[1:])  # the size computed from the scale is what the model then uses
    else:
        attrs["scale"] = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else scale_factor
    return [v.layer("upsample", attrs)]


def _reshape(v: _Node):
    """flatten, view, reshape: described by the shape they produce."""
    return [v.layer("flatten")] if len(v.out) == 1 else [v.layer("reshape", {"shape": list(v.out)})]


def _permute(v: _Node, dims):
    dims = [d % (len(v.shape()) + 1) for d in dims]
    return [v.layer("permute", {"axes": [d - 1 for d in dims[1:]]})] if dims[0] == 0 else None


def _transpose(v: _Node):
    rank = len(v.shape()) + 1
    a, b = (d % rank for d in (v.arg(1, "dim0"), v.arg(2, "dim1")))
    dims = list(range(rank))
    dims[a], dims[b] = dims[b], dims[a]
    return _permute(v, dims)


def _binary(op: str):
    def rule(v: _Node):
        tensors = [a for a in v.args[:2] if isinstance(a, torch.fx.Node)]
        if len(tensors) == 2 and v.kwargs.get("alpha", 1) == 1:
            return [v.layer(op)]
        return _scale(v) if op == "mul" else None
    return rule


def _scale(v: _Node):
    """A learned tensor times the input, varying along one axis (ConvNeXt's layer scale): `scale`."""
    constant = next((a for a in v.args[:2] if isinstance(a, torch.Tensor)), None)
    shape = v.shape()
    if not isinstance(constant, nn.Parameter) or constant.dim() > len(shape) or constant.numel() < 2:
        return None
    padded = (1,) * (len(shape) - constant.dim()) + tuple(constant.shape)
    axes = [i for i, n in enumerate(padded) if n != 1]
    return [v.layer("scale", {"axis": axes[0]})] if len(axes) == 1 and padded[axes[0]] == shape[axes[0]] else None


def _concat(v: _Node):
    if len(v.data) == 1:
        return PASS_THROUGH  # torch.cat([x]) is x (DenseNet's first layer of each block)
    axis = _axis(v.arg(1, "dim", 0), len(v.out))
    return None if axis is None else [v.layer("concat", {"axis": axis})]


def _softmax(v: _Node, dim):
    axis = None if dim is None else _axis(dim, len(v.out))
    return None if axis is None else [v.layer("softmax", {"axis": axis})]


def _mean(v: _Node):
    dims, keep = v.arg(1, "dim"), v.arg(2, "keepdim", False)
    rank = len(v.shape())
    if dims is None:
        return None
    axes = sorted(_axis(d, rank) for d in _ints(dims, 1))
    if None in axes:
        return None
    if axes == list(range(1, rank)):
        return [v.layer("global_avgpool", {"keepdims": bool(keep)})]
    return [v.layer("mean", {"axes": axes, "keepdims": bool(keep)})]


def _layer_norm(v: _Node):
    weight, bias = v.arg(2, "weight"), v.arg(3, "bias")
    if (weight is None) != (bias is None):
        return None
    return [v.layer("layernorm", {"dims": len(v.arg(1, "normalized_shape")), "eps": v.arg(4, "eps", 1e-5),
                                  "affine": weight is not None})]


def _pieces(v: _Node):
    """chunk/split along the channels: each piece becomes a layer where getitem takes it."""
    return PASS_THROUGH if _axis(v.arg(2, "dim", 0), len(v.shape())) == 0 else None


def _getitem(v: _Node):
    source, index = v.data[0], v.args[1]
    if source not in v.run.pieces:
        return _channel_slice(v)
    if source.target in (torch.chunk, "chunk"):
        return [v.layer("chunk", {"chunks": _Node(v.run, source).arg(1, "chunks"), "index": index})]
    return [v.layer("split", {"sizes": v.run.pieces[source], "index": index})]


def _channel_slice(v: _Node):
    """x[:, a:b] (channels only, unit step): one piece of a split."""
    index = v.args[1]
    if not isinstance(index, tuple) or len(index) < 2 or index[0] != slice(None) or not isinstance(index[1], slice):
        return None
    if any(part not in (slice(None), Ellipsis) for part in index[2:]):
        return None
    channels = v.shape()[0]
    start, stop, step = index[1].indices(channels)
    if step != 1 or stop <= start:
        return None
    sizes = [size for size in (start, stop - start, channels - stop) if size > 0]
    return [v.layer("split", {"sizes": sizes, "index": 1 if start > 0 else 0})]


def _simple(op: str, **settings):
    """A translation to `op` whose attributes are the module's of the given names."""
    return lambda v, m: [v.layer(op, {key: getattr(m, name) for key, name in settings.items()})]


def _each(classes, rule) -> dict:
    return dict.fromkeys(classes, rule)


MODULE_RULES = {
    **_each((nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d), _conv),
    nn.Linear: lambda v, m: [v.layer("linear", {"out": m.out_features, "bias": m.bias is not None})],
    **_each((nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d), _simple("batchnorm", eps="eps", affine="affine")),
    **_each((nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d), _simple("instancenorm", eps="eps", affine="affine")),
    nn.GroupNorm: _simple("groupnorm", groups="num_groups", eps="eps", affine="affine"),
    nn.LayerNorm: _layernorm,
    nn.LocalResponseNorm: _simple("lrn", size="size", alpha="alpha", beta="beta", k="k"),
    **_each((nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d),
            lambda v, m: _max_pool(v, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, m.return_indices)),
    **_each((nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d),
            lambda v, m: _avg_pool(v, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                                   getattr(m, "divisor_override", None))),
    **_each((nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d), lambda v, m: _adaptive(v, "avg", m.output_size)),
    **_each((nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d),
            lambda v, m: None if m.return_indices else _adaptive(v, "max", m.output_size)),
    nn.ReLU: _simple("relu"), nn.ReLU6: _simple("relu6"), nn.Sigmoid: _simple("sigmoid"), nn.Tanh: _simple("tanh"),
    nn.SiLU: _simple("silu"), nn.Hardswish: _simple("hardswish"), nn.Hardsigmoid: _simple("hardsigmoid"),
    nn.Mish: _simple("mish"), nn.GELU: _simple("gelu", approximate="approximate"),
    nn.LeakyReLU: _simple("leaky_relu", slope="negative_slope"), nn.ELU: _simple("elu", alpha="alpha"),
    nn.Softplus: _simple("softplus", beta="beta", threshold="threshold"),
    nn.Hardtanh: _simple("hardtanh", min="min_val", max="max_val"),
    nn.PReLU: lambda v, m: [v.layer("prelu", {"per_channel": m.num_parameters > 1})],
    nn.Softmax: lambda v, m: _softmax(v, m.dim),
    **_each((nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout), _simple("dropout", p="p")),
    nn.Identity: lambda v, m: PASS_THROUGH,
    nn.Flatten: lambda v, m: _reshape(v), nn.Unflatten: lambda v, m: _reshape(v),
    nn.Upsample: lambda v, m: _upsample(v, m.size, m.scale_factor, m.mode, m.align_corners, m.recompute_scale_factor),
    nn.PixelShuffle: _simple("pixel_shuffle", factor="upscale_factor"),
    nn.PixelUnshuffle: _simple("pixel_unshuffle", factor="downscale_factor"),
    nn.ChannelShuffle: _simple("channel_shuffle", groups="groups"),
    **_each((nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d, nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d),
            lambda v, m: _pad(v, list(m.padding), "constant", m.value)),
    **_each((nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d), lambda v, m: _pad(v, list(m.padding), "reflect")),
    **_each((nn.ReplicationPad1d, nn.ReplicationPad2d, nn.ReplicationPad3d), lambda v, m: _pad(v, list(m.padding), "replicate")),
    **_each((nn.CircularPad1d, nn.CircularPad2d, nn.CircularPad3d), lambda v, m: _pad(v, list(m.padding), "circular")),
}


def _module_rule(module):
    """The translation of a module's type: its own, else a base class's whose forward it keeps (torchvision's
    LayerNorm2d is a LayerNorm with its own forward, traced through instead)."""
    forward = type(module).forward
    return next((MODULE_RULES[cls] for cls in type(module).__mro__ if cls in MODULE_RULES and cls.forward is forward), None)


def _call(op: str, **settings):
    """F.relu(x, inplace=…) and friends: each attribute from the call's argument of that (position, name)."""
    def rule(v: _Node):
        return [v.layer(op, {key: v.arg(i, name, default) for key, (i, name, default) in settings.items()})]
    return rule


def _args(v: _Node, *names_and_defaults):
    """The call's arguments after the input, by position or name, in the order given."""
    return [v.arg(i, name, default) for i, (name, default) in enumerate(names_and_defaults, 1)]


MAX_POOL = (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False), ("return_indices", False))
AVG_POOL = (("kernel_size", None), ("stride", None), ("padding", 0), ("ceil_mode", False), ("count_include_pad", True),
            ("divisor_override", None))
INTERPOLATE = (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None), ("recompute_scale_factor", None))

FUNCTIONS = {
    **_each((operator.add, operator.iadd, torch.add), _binary("add")),
    **_each((operator.mul, operator.imul, torch.mul), _binary("mul")),
    **_each((operator.matmul, torch.matmul), lambda v: [v.layer("matmul")] if len(v.data) == 2 else None),
    **_each((torch.cat, torch.concat), _concat),
    **_each((torch.flatten, torch.reshape), _reshape),
    **_each((F.relu, torch.relu), _call("relu")),
    F.relu6: _call("relu6"),
    **_each((torch.sigmoid, F.sigmoid), _call("sigmoid")),
    **_each((torch.tanh, F.tanh), _call("tanh")),
    F.silu: _call("silu"), F.hardswish: _call("hardswish"), F.hardsigmoid: _call("hardsigmoid"), F.mish: _call("mish"),
    F.gelu: _call("gelu", approximate=(1, "approximate", "none")),
    F.leaky_relu: _call("leaky_relu", slope=(1, "negative_slope", 0.01)),
    F.elu: _call("elu", alpha=(1, "alpha", 1.0)),
    F.hardtanh: _call("hardtanh", min=(1, "min_val", -1.0), max=(2, "max_val", 1.0)),
    **_each((F.softmax, torch.softmax), lambda v: _softmax(v, v.arg(1, "dim"))),
    **_each((F.dropout, F.dropout1d, F.dropout2d, F.dropout3d), _call("dropout", p=(1, "p", 0.5))),
    **_each((F.max_pool1d, F.max_pool2d, F.max_pool3d), lambda v: _max_pool(v, *_args(v, *MAX_POOL))),
    **_each((F.avg_pool1d, F.avg_pool2d, F.avg_pool3d), lambda v: _avg_pool(v, *_args(v, *AVG_POOL))),
    **_each((F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d),
            lambda v: _adaptive(v, "avg", v.arg(1, "output_size"))),
    **_each((F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d),
            lambda v: None if v.arg(2, "return_indices") else _adaptive(v, "max", v.arg(1, "output_size"))),
    F.interpolate: lambda v: _upsample(v, *_args(v, *INTERPOLATE)),
    F.pad: lambda v: _pad(v, *_args(v, ("pad", None), ("mode", "constant"), ("value", None))),
    torch.permute: lambda v: _permute(v, v.arg(1, "dims")),
    torch.transpose: _transpose,
    torch.mean: _mean,
    F.layer_norm: _layer_norm,
    **_each((torch.chunk, torch.split), _pieces),
    operator.getitem: _getitem,
    F.pixel_shuffle: _call("pixel_shuffle", factor=(1, "upscale_factor", None)),
    F.pixel_unshuffle: _call("pixel_unshuffle", factor=(1, "downscale_factor", None)),
    **_each((torch.channel_shuffle, F.channel_shuffle, torch.native_channel_shuffle),
            _call("channel_shuffle", groups=(1, "groups", None))),
}

METHODS = {
    "add": FUNCTIONS[torch.add], "add_": FUNCTIONS[torch.add], "mul": FUNCTIONS[torch.mul], "mul_": FUNCTIONS[torch.mul],
    "matmul": FUNCTIONS[torch.matmul], "flatten": _reshape, "view": _reshape, "reshape": _reshape,
    "relu": FUNCTIONS[torch.relu], "relu_": FUNCTIONS[torch.relu], "sigmoid": FUNCTIONS[torch.sigmoid],
    "sigmoid_": FUNCTIONS[torch.sigmoid], "tanh": FUNCTIONS[torch.tanh], "softmax": FUNCTIONS[torch.softmax],
    "transpose": _transpose, "mean": _mean, "chunk": _pieces, "split": _pieces,
    "permute": lambda v: _permute(v, v.args[1] if len(v.args) == 2 and isinstance(v.args[1], (list, tuple)) else v.args[1:]),
    **_each(("contiguous", "clone", "detach"), lambda v: PASS_THROUGH),
}

# Functions of other packages that torch.fx keeps whole (torch.fx.wrap), by qualified name so that cnncost need not
# import the package. Stochastic depth drops whole residual branches only in training: at eval it is the identity.
BY_NAME = {
    "torchvision.ops.stochastic_depth.stochastic_depth": lambda v: None if v.arg(3, "training", True) else PASS_THROUGH,
}
