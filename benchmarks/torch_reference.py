"""PyTorch's own eager CPU forward of a bundled spec: the reference verify_speed.py measures in the same run.

The issue's speed target is "what PyTorch's own CPU forward reaches on this machine"; this measures it
instead of quoting it. The network is built from the parsed spec with torch.nn.functional and run the way
torchvision's models run in eval mode: ReLU in place when nothing else reads its input, the residual sum
added in place, batch norm from running statistics. The ops of the bundled models are here.
torch is a test-only dependency: this module is imported only when torch is installed.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _weights(node, channels: int) -> dict:
    a = node.attrs
    if node.op in ("conv1d", "conv2d", "conv3d"):
        kernel = torch.randn(a["out"], channels // a["groups"], *a["kernel"]) * 0.05
        return {"weight": kernel, "bias": torch.randn(a["out"]) if a["bias"] else None}
    if node.op == "batchnorm":
        return {name: torch.rand(channels) + 0.5 for name in ("weight", "bias", "running_mean", "running_var")}
    if node.op == "linear":
        return {"weight": torch.randn(a["out"], channels) * 0.01, "bias": torch.randn(a["out"]) if a["bias"] else None}
    return {}


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
    if op in ("conv1d", "conv2d", "conv3d"):
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
    raise NotImplementedError(f"torch_reference has no {op}")


class TorchForward:
    """The spec's graph with random torch weights; call() runs one forward pass over a fixed input.

    With `training`, the weights require gradients and the pass records autograd's graph (batch norm on batch
    statistics, dropout active), as one training step's forward would.
    """

    def __init__(self, graph, batch: int, training: bool = False) -> None:
        self.graph, self.training = graph, training
        self.unused = set(graph.unused())
        self.readers = {name: len(set(users)) for name, users in graph.consumers(used_only=True).items()}
        self.input = torch.randn(batch, *graph.input_shape)
        with torch.no_grad():
            shapes = {"input": self.input[:1]}
            self.weights = {}
            for node in graph.nodes:
                if node.name in self.unused:
                    continue
                first = shapes[node.inputs[0]]
                self.weights[node.name] = _weights(node, first.shape[-1] if node.op == "linear" else first.shape[1])
                shapes[node.name] = _run(node, [shapes[i] for i in node.inputs], self.weights[node.name], False)
        for weights in self.weights.values():
            for name in ("weight", "bias"):
                if training and weights.get(name) is not None:
                    weights[name].requires_grad_()

    def __call__(self):
        with torch.enable_grad() if self.training else torch.inference_mode():
            live, readers = {"input": self.input}, dict(self.readers)
            for node in self.graph.nodes:
                if node.name in self.unused:
                    continue
                inputs = [live[name] for name in node.inputs]
                # torchvision's in-place ReLU and `out += identity` only overwrite an array nobody reads later
                first = node.inputs[0]
                in_place = first != "input" and readers[first] == 1 and first not in self.graph.outputs
                live[node.name] = _run(node, inputs, self.weights[node.name], in_place, self.training)
                del inputs
                for name in set(node.inputs):
                    readers[name] -= 1
                    if readers[name] == 0 and name not in self.graph.outputs:
                        del live[name]  # freed as soon as its last reader has run, as in eager PyTorch
            return [live[name] for name in self.graph.outputs]


_CACHE: dict = {}


def warm_forward(graph, batch: int) -> TorchForward:
    """The graph's torch forward at this batch, built and run once on first use; one model's weights are kept."""
    key = (id(graph), batch)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = TorchForward(graph, batch)
        _CACHE[key]()
    return _CACHE[key]
