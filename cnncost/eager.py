"""The inference peak of a PyTorch-style eager run (`eager_peak_activation_bytes`): what a framework running the
model layer by layer, the way torchvision's modules are written, holds at once. `peak_activation_bytes` stays the
ideal floor; this is what PyTorch really holds, measured in tests/test_eager_memory.py.

Assumptions (docs/memory.md):
- the caller keeps the input for the whole run, and every output once made;
- a block's inputs stay alive until the block's last layer has run, at every level of nesting: a module's
  forward(x) holds x, and so does the caller that passed it (nn.Sequential's loop, `x = self.layer1(x)`);
- any other tensor is freed once its last reader has run;
- in-place ops and views share storage as in training (cnncost.training.storages), and dropout, in eval mode,
  returns its input;
- while an op runs, the temporaries of PyTorch's implementation (`Op.eager_workspace`, e.g. LRN's) are alive
  besides its inputs and output. Scratch inside a kernel that is not a tensor (oneDNN's, im2col) is not counted.
"""
from __future__ import annotations

from cnncost.graph import INPUT, BlockNesting
from cnncost.ops import OPS
from cnncost.training import storages


def held_until(graph, instances, unused: set) -> dict[str, int]:
    """Tensor name -> the position (in the run order) of the last layer of the outermost block that reads it
    from outside: the block holds it until then. Blocks nest, so a layer's innermost block holding the input
    means every block around it does too (nothing to hold); otherwise the outermost block without it ends last."""
    nesting = BlockNesting(instance.name for instance in instances)
    order = [node for node in graph.nodes if node.name not in unused]
    enclosing = [nesting.around(node.name) for node in order]
    last = {block: position for position, blocks in enumerate(enclosing) for block in blocks}
    held: dict[str, int] = {}
    for node, blocks in zip(order, enclosing):
        if not blocks:
            continue
        for name in node.inputs:
            if name.startswith(blocks[-1] + "."):
                continue
            outermost = next(block for block in blocks if not name.startswith(block + "."))
            held[name] = max(held.get(name, -1), last[outermost])
    return held


def eager_peak(graph, rows, input_bytes: int, instances, element_bytes: int) -> tuple[int, str]:
    """(bytes, layer) at the eager run's peak; `element_bytes` is the dtype's size times the batch."""
    by_name = {row.name: row for row in rows}
    unused = {row.name for row in rows if row.unused}
    owner = storages(graph, unused, inference=True)
    size = {INPUT: input_bytes, **{row.name: row.activation_bytes for row in rows}}
    order = [node for node in graph.nodes if node.name not in unused]
    death = dict(held_until(graph, instances, unused))
    for i, node in enumerate(order):
        death[node.name] = max(death.get(node.name, i), i)
        for name in node.inputs:
            death[name] = max(death.get(name, i), i)
    kept = {INPUT, *graph.outputs}  # the caller's
    dying: dict[int, list] = {}
    for name, step in death.items():
        if name not in kept:
            dying.setdefault(step, []).append(name)
    references = {INPUT: 1}
    current = peak = input_bytes
    peak_layer = INPUT
    for i, node in enumerate(order):
        storage = owner[node.name]
        if references.get(storage, 0) == 0:
            current += size[storage]
        references[storage] = references.get(storage, 0) + 1
        row = by_name[node.name]
        step = current + OPS[node.op].eager_workspace(node.attrs, list(row.input_shapes), row.output_shape) * element_bytes
        if step > peak:
            peak, peak_layer = step, node.name
        for name in dying.get(i, ()):
            storage = owner[name]
            references[storage] -= 1
            if references[storage] == 0:
                current -= size[storage]
    return peak, peak_layer
