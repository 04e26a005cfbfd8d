"""Training memory as PyTorch's autograd holds it: the tensors the backward pass keeps, each storage once, and
the whole footprint of one training step with an optimizer.

Storages follow PyTorch's eager execution: an op that runs in place (torchvision's ReLU(inplace=True), the
residual `out += identity`) writes into its first input's storage when nothing else reads that input, and a
view (flatten, a channel slice) shares its input's storage. A storage saved by two ops (a ReLU's output read by
the next convolution) counts once, at its full size.
"""
from __future__ import annotations

from math import prod

from cnncost.graph import INPUT
from cnncost.ops import OPS

# Optimizer state per parameter, in parameter-sized copies: momentum's velocity, Adam's two moments.
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


def storages(graph, unused: set, inference: bool = False) -> dict[str, str]:
    """Tensor name -> the name of the tensor that owns its storage (`inference`: as in eval mode)."""
    readers = graph.readers()
    owner = {INPUT: INPUT}
    for node in graph.nodes:
        if node.name in unused:
            continue
        op, first = OPS[node.op], node.inputs[0] if node.inputs else None
        view = op.view or (inference and op.view_at_inference)
        shares = view or (op.in_place and first != INPUT and readers.get(first) == 1 and first not in graph.outputs)
        owner[node.name] = owner[first] if shares else node.name
    return owner


def saved_activation_bytes(graph, rows, input_bytes: int, element_bytes: int, batch: int) -> int:
    """Bytes of every tensor the backward pass keeps, each storage once. `element_bytes` is the dtype's size."""
    by_name = {row.name: row for row in rows}
    unused = {row.name for row in rows if row.unused}
    owner = storages(graph, unused)
    size = {INPUT: input_bytes, **{row.name: row.activation_bytes for row in rows}}
    kept: dict = {}
    for node in graph.nodes:
        if node.name in unused:
            continue
        row = by_name[node.name]
        for index, saved in enumerate(OPS[node.op].saved(node.attrs, list(row.input_shapes), row.output_shape)):
            if saved.input is not None or saved.output:
                key = owner[node.inputs[saved.input] if saved.input is not None else node.name]
                kept[key] = size[key]
            else:
                count = saved.elements * (batch if saved.per_sample else 1)
                kept[(node.name, index)] = count * (saved.element_bytes or element_bytes)
    return sum(kept.values())


def backward_transient_bytes(rows, input_bytes: int) -> int:
    """The backward pass's peak transient, by our convention: while one layer's backward runs, the gradient of
    its output and the gradients of its inputs are alive together (each the size of that tensor)."""
    sizes = {INPUT: input_bytes, **{row.name: row.activation_bytes for row in rows}}
    return max((row.activation_bytes + sum(sizes[i] for i in set(row.inputs)) for row in rows if not row.unused), default=0)


def training_total_bytes(param_bytes: int, buffer_bytes: int, optimizer: str, saved: int, transient: int) -> int:
    """Parameters and buffers + one gradient per parameter + optimizer state + saved activations + transient."""
    return param_bytes + buffer_bytes + param_bytes * (1 + OPTIMIZER_STATE[optimizer]) + saved + transient
