"""PyTorch's own eager CPU forward of a bundled spec: the reference verify_speed.py measures in the same run.

The issue's speed target is "what PyTorch's own CPU forward reaches on this machine"; this measures it
instead of quoting it. The network is built from the parsed spec with torch.nn.functional and run the way
torchvision's models run in eval mode: ReLU in place when nothing else reads its input, the residual sum
added in place, batch norm from running statistics. Only the ops of the benchmarked models are here.
torch is a test-only dependency: this module is imported only when torch is installed.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _weights(node, channels: int) -> dict:
    a = node.attrs
    if node.op == "conv2d":
        kernel = torch.randn(a["out"], channels // a["groups"], *a["kernel"]) * 0.05
        return {"weight": kernel, "bias": torch.randn(a["out"]) if a["bias"] else None}
    if node.op == "batchnorm":
        return {name: torch.rand(channels) + 0.5 for name in ("weight", "bias", "running_mean", "running_var")}
    if node.op == "linear":
        return {"weight": torch.randn(a["out"], channels) * 0.01, "bias": torch.randn(a["out"]) if a["bias"] else None}
    return {}


def _run(node, inputs: list, w: dict, in_place: bool):
    a, x = node.attrs, inputs[0]
    if node.op == "conv2d":
        return F.conv2d(x, w["weight"], w["bias"], a["stride"], a["padding"], a["dilation"], a["groups"])
    if node.op == "batchnorm":
        return F.batch_norm(x, w["running_mean"], w["running_var"], w["weight"], w["bias"], False, 0.0, a["eps"])
    if node.op == "relu":
        return F.relu(x, inplace=in_place)
    if node.op == "maxpool2d":
        return F.max_pool2d(x, a["kernel"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"])
    if node.op == "adaptive_avgpool2d":
        return F.adaptive_avg_pool2d(x, a["output"])
    if node.op == "add":
        return x.add_(inputs[1]) if in_place else x + inputs[1]
    if node.op == "flatten":
        return torch.flatten(x, 1)
    if node.op == "linear":
        return F.linear(x, w["weight"], w["bias"])
    if node.op == "dropout":
        return x
    raise NotImplementedError(f"torch_reference has no {node.op}")


class TorchForward:
    """The spec's graph with random torch weights; call() runs one forward pass over a fixed input."""

    def __init__(self, graph, batch: int) -> None:
        self.graph = graph
        self.readers = {name: len(set(users)) for name, users in graph.consumers().items()}
        self.input = torch.randn(batch, *graph.input_shape)
        with torch.inference_mode():
            shapes = {"input": self.input[:1]}
            self.weights = {}
            for node in graph.nodes:
                first = shapes[node.inputs[0]]
                self.weights[node.name] = _weights(node, first.shape[-1] if node.op == "linear" else first.shape[1])
                shapes[node.name] = _run(node, [shapes[i] for i in node.inputs], self.weights[node.name], False)

    def __call__(self):
        with torch.inference_mode():
            live, readers = {"input": self.input}, dict(self.readers)
            for node in self.graph.nodes:
                inputs = [live[name] for name in node.inputs]
                # torchvision's in-place ReLU and `out += identity` only overwrite an array nobody reads later
                in_place = node.inputs[0] != "input" and readers[node.inputs[0]] == 1
                live[node.name] = _run(node, inputs, self.weights[node.name], in_place)
                del inputs
                for name in set(node.inputs):
                    readers[name] -= 1
                    if readers[name] == 0 and name != self.graph.output:
                        del live[name]  # freed as soon as its last reader has run, as in eager PyTorch
            return live[self.graph.output]


_CACHE: dict = {}


def warm_forward(graph, batch: int) -> TorchForward:
    """The graph's torch forward at this batch, built and run once on first use; one model's weights are kept."""
    key = (id(graph), batch)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = TorchForward(graph, batch)
        _CACHE[key]()
    return _CACHE[key]
