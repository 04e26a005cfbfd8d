"""PyTorch's own eager CPU forward of a bundled spec: the reference verify_speed.py measures in the same run.

The issue's speed target is "what PyTorch's own CPU forward reaches on this machine"; this measures it
instead of quoting it. The network is built from the parsed spec with torch.nn.functional and run the way
torchvision's models run in eval mode: ReLU in place when nothing else reads its input, the residual sum
added in place, batch norm from running statistics. Every op of the registry is here.
torch is a test-only dependency: this module is imported only when torch is installed.
"""
from __future__ import annotations

from functools import reduce

import torch
import torch.nn.functional as F

CONVS = ("conv1d", "conv2d", "conv3d")
TRANSPOSED = ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
# Activations that take the tensor alone (torchvision runs ReLU and ReLU6 in place, handled below).
ELEMENTWISE = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu, "mish": F.mish, "hardswish": F.hardswish,
               "hardsigmoid": F.hardsigmoid}


def _weights(node, shape: tuple) -> dict:
    """Random weights for one layer whose first input has `shape` (batch first)."""
    a, op, channels = node.attrs, node.op, shape[1]
    if op in CONVS:
        kernel = torch.randn(a["out"], channels // a["groups"], *a["kernel"]) * 0.05
        return {"weight": kernel, "bias": torch.randn(a["out"]) if a["bias"] else None}
    if op in TRANSPOSED:  # torch's layout: (in, out / groups, *kernel)
        kernel = torch.randn(channels, a["out"] // a["groups"], *a["kernel"]) * 0.05
        return {"weight": kernel, "bias": torch.randn(a["out"]) if a["bias"] else None}
    if op == "batchnorm":
        return {name: torch.rand(channels) + 0.5 for name in ("weight", "bias", "running_mean", "running_var")}
    if op in ("instancenorm", "groupnorm"):
        return {name: torch.rand(channels) + 0.5 if a["affine"] else None for name in ("weight", "bias")}
    if op == "layernorm":
        normalized = shape[len(shape) - (a["dims"] or len(shape) - 1):]
        return {name: torch.rand(normalized) + 0.5 if a["affine"] else None for name in ("weight", "bias")}
    if op == "linear":
        return {"weight": torch.randn(a["out"], shape[-1]) * 0.01, "bias": torch.randn(a["out"]) if a["bias"] else None}
    if op == "prelu":
        return {"weight": torch.rand(channels if a["per_channel"] else 1) * 0.5}
    if op == "scale":
        return {"weight": torch.rand(shape[_dim(a["axis"])]) + 0.5}
    return {}


def _dim(axis: int) -> int:
    """Spec axes count per sample (0 = channels); tensors carry the batch first."""
    return axis + 1 if axis >= 0 else axis


def _same(x, a):
    """TensorFlow's 'same' for a strided convolution, which torch refuses: pad explicitly, any odd pad after."""
    pads = []
    for size, k, s, d in zip(x.shape[2:], a["kernel"], a["stride"], a["dilation"]):
        total = max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    return F.pad(x, [p for pair in reversed(pads) for p in pair])


def _run(node, inputs: list, w: dict, in_place: bool, training: bool = False):
    """One layer as torchvision runs it; `training` runs batch norm on batch statistics and dropout for real."""
    a, x, op = node.attrs, inputs[0], node.op
    nd = x.dim() - 2
    if op in CONVS:
        conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
        padding = a["padding"]
        if padding == "same" and any(s > 1 for s in a["stride"]):
            x, padding = _same(x, a), 0
        return conv(x, w["weight"], w["bias"], a["stride"], padding, a["dilation"], a["groups"])
    if op == "batchnorm":
        return F.batch_norm(x, w["running_mean"], w["running_var"], w["weight"], w["bias"], training, 0.1, a["eps"])
    if op == "relu":
        return F.relu(x, inplace=in_place)
    if op == "relu6":
        return F.relu6(x, inplace=in_place)
    if op.startswith("maxpool"):
        pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[nd - 1]
        return pool(x, a["kernel"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"])
    if op.startswith("avgpool"):
        pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[nd - 1]
        return pool(x, a["kernel"], a["stride"], a["padding"], a["ceil_mode"], a["count_include_pad"])
    if op.startswith("adaptive_avgpool"):
        return (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[nd - 1](x, a["output"])
    if op == "global_avgpool":
        return x.mean(tuple(range(2, x.dim())), keepdim=a["keepdims"])
    if op == "add":
        return x.add_(inputs[1]) if in_place else x + inputs[1]
    if op == "concat":
        return torch.cat(inputs, a["axis"] + 1 if a["axis"] >= 0 else a["axis"])
    if op == "flatten":
        return torch.flatten(x, 1)
    if op == "linear":
        return F.linear(x, w["weight"], w["bias"])
    if op == "dropout":
        return F.dropout(x, a["p"], training)
    if op == "lrn":
        return F.local_response_norm(x, a["size"], a["alpha"], a["beta"], a["k"])
    if op == "softmax":
        return F.softmax(x, a["axis"] + 1 if a["axis"] >= 0 else a["axis"])
    if op == "chunk":
        return torch.chunk(x, a["chunks"], 1)[a["index"]]
    if op == "channel_shuffle":
        n, c, *spatial = x.shape
        return x.view(n, a["groups"], c // a["groups"], *spatial).transpose(1, 2).reshape(n, c, *spatial)
    return _run_decoder_and_modern(node, inputs, w)


def _run_decoder_and_modern(node, inputs: list, w: dict):
    """The ops of the decoder and modern-CNN specs (issue #11), as torch.nn.functional and torch spell them."""
    a, x, op = node.attrs, inputs[0], node.op
    nd = x.dim() - 2
    if op in TRANSPOSED:
        return (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1](
            x, w["weight"], w["bias"], a["stride"], a["padding"], a["output_padding"], a["groups"], a["dilation"])
    if op in ELEMENTWISE:
        return ELEMENTWISE[op](x)
    if op == "gelu":
        return F.gelu(x, approximate=a["approximate"])
    if op == "leaky_relu":
        return F.leaky_relu(x, a["slope"])
    if op == "elu":
        return F.elu(x, a["alpha"])
    if op == "softplus":
        return F.softplus(x, a["beta"], a["threshold"])
    if op == "hardtanh":
        return F.hardtanh(x, a["min"], a["max"])
    if op == "prelu":
        return F.prelu(x, w["weight"])
    if op == "instancenorm":
        return F.instance_norm(x, weight=w["weight"], bias=w["bias"], eps=a["eps"])
    if op == "groupnorm":
        return F.group_norm(x, a["groups"], w["weight"], w["bias"], a["eps"])
    if op == "layernorm":
        return F.layer_norm(x, x.shape[x.dim() - (a["dims"] or x.dim() - 1):], w["weight"], w["bias"], a["eps"])
    if op == "scale":
        shape = [1] * x.dim()
        shape[_dim(a["axis"])] = -1
        return x * w["weight"].reshape(shape)
    if op == "mul":
        return reduce(torch.mul, inputs)
    if op == "matmul":
        return torch.matmul(x, inputs[1])
    if op in ("mean", "sum", "amax"):
        dims = tuple(_dim(axis) for axis in a["axes"])
        return getattr(torch, op)(x, dims, keepdim=a["keepdims"])
    if op.startswith("adaptive_maxpool"):
        return (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)[nd - 1](x, a["output"])
    if op == "global_maxpool":
        return x.amax(tuple(range(2, x.dim())), keepdim=a["keepdims"])
    if op == "permute":
        return x.permute(0, *(_dim(axis % (x.dim() - 1)) for axis in a["axes"]))
    if op == "reshape":
        return x.reshape(x.shape[0], *a["shape"])
    if op == "split":
        return torch.split(x, list(a["sizes"]), 1)[a["index"]]
    if op == "identity":
        return x
    if op == "upsample":
        size = a["size"] if a["size"] is None or isinstance(a["size"], tuple) else (a["size"],) * nd
        scale = a["scale"] if a["scale"] is None or isinstance(a["scale"], tuple) else (a["scale"],) * nd
        corners = a["align_corners"] if a["mode"] not in ("nearest",) else None
        return F.interpolate(x, size=size, scale_factor=scale, mode=a["mode"], align_corners=corners)
    if op == "pad":
        pairs = a["padding"] if isinstance(a["padding"][0], tuple) else (a["padding"],) * nd
        pads = [side for pair in reversed(pairs) for side in pair]  # torch lists the last axis first
        return F.pad(x, pads, a["mode"], a["value"]) if a["mode"] == "constant" else F.pad(x, pads, a["mode"])
    if op == "crop":
        target = inputs[1].shape[2:] if a["like"] else (a["size"] if isinstance(a["size"], tuple) else (a["size"],) * nd)
        offsets = a["offset"] if a["offset"] is not None else [(n - t) // 2 for n, t in zip(x.shape[2:], target)]
        offsets = offsets if isinstance(offsets, (tuple, list)) else (offsets,) * nd
        return x[(..., *(slice(o, o + t) for o, t in zip(offsets, target)))]
    if op == "pixel_shuffle":
        return F.pixel_shuffle(x, a["factor"])
    if op == "pixel_unshuffle":
        return F.pixel_unshuffle(x, a["factor"])
    raise NotImplementedError(f"torch_reference has no {op}")


class TorchForward:
    """The spec's graph with random torch weights; call() runs one forward pass over a fixed input.

    With `training`, the weights require gradients and the pass records autograd's graph (batch norm on batch
    statistics, dropout active), as one training step's forward would. With `blocks` (the spec's block instances)
    a block's inputs stay alive until its last layer has run, as the modules of torchvision's models hold them.
    """

    def __init__(self, graph, batch: int, training: bool = False, blocks=()) -> None:
        self.graph, self.training = graph, training
        self.unused = set(graph.unused())
        self.readers = graph.readers()
        self.input = torch.randn(batch, *graph.input_shape)
        with torch.no_grad():
            shapes = {"input": self.input[:1]}
            self.weights = {}
            for node in graph.nodes:
                if node.name in self.unused:
                    continue
                self.weights[node.name] = _weights(node, tuple(shapes[node.inputs[0]].shape))
                shapes[node.name] = _run(node, [shapes[i] for i in node.inputs], self.weights[node.name], False)
        for weights in self.weights.values():
            for name in ("weight", "bias"):
                if training and weights.get(name) is not None:
                    weights[name].requires_grad_()
        self.order = [node for node in graph.nodes if node.name not in self.unused]
        self.held = _held(self.order, blocks)
        self.released_after: dict = {}
        for name, step in self.held.items():
            self.released_after.setdefault(step, []).append(name)

    def __call__(self):
        with torch.enable_grad() if self.training else torch.inference_mode():
            live, readers = {"input": self.input}, dict(self.readers)
            for step, node in enumerate(self.order):
                inputs = [live[name] for name in node.inputs]
                # torchvision's in-place ReLU and `out += identity` only overwrite an array nobody reads later;
                # in training, only one nobody read before either (an earlier reader may have saved it for backward)
                first = node.inputs[0]
                in_place = (first != "input" and readers[first] == 1 and first not in self.graph.outputs
                            and (not self.training or self.readers[first] == 1))
                live[node.name] = _run(node, inputs, self.weights[node.name], in_place, self.training)
                del inputs
                for name in set(node.inputs):
                    readers[name] -= 1
                for name in [*set(node.inputs), *self.released_after.get(step, ())]:
                    # freed once its last reader has run and no enclosing block's forward(x) still holds it
                    if name in live and readers[name] == 0 and self.held.get(name, -1) <= step and name not in self.graph.outputs:
                        del live[name]
            return [live[name] for name in self.graph.outputs]


def _held(order: list, blocks) -> dict:
    """Tensor -> the step of the last layer of a block that reads it from outside: a module's forward(x) and its
    caller keep x until the module returns (nn.Sequential's loop, `x = self.layer1(x)`)."""
    names = {block.name for block in blocks}
    last = {}
    for step, node in enumerate(order):
        parts = node.name.split(".")
        for end in range(1, len(parts)):
            if ".".join(parts[:end]) in names:
                last[".".join(parts[:end])] = step
    held = {}
    for node in order:
        parts = node.name.split(".")
        for end in range(1, len(parts)):
            block = ".".join(parts[:end])
            if block in last:
                for name in node.inputs:
                    if not name.startswith(block + "."):
                        held[name] = max(held.get(name, -1), last[block])
    return held


_CACHE: dict = {}


def warm_forward(graph, batch: int) -> TorchForward:
    """The graph's torch forward at this batch, built and run once on first use; one model's weights are kept."""
    key = (id(graph), batch)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = TorchForward(graph, batch)
        _CACHE[key]()
    return _CACHE[key]
