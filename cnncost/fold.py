"""Batchnorm folding (the seed: at test time batchnorm is linear and fuses into the conv before it).

A graph transform on the parsed spec, so the analytic and the numpy path both see the folded network.
"""
from __future__ import annotations

from dataclasses import replace

from cnncost.graph import Graph
from cnncost.ops import OPS


def foldable_pairs(graph: Graph) -> dict[str, str]:
    """batchnorm name -> the layer it folds into: one that absorbs batchnorm (a convolution) and that nothing
    else reads."""
    by_name = {node.name: node for node in graph.nodes}
    consumers = graph.consumers()
    pairs = {}
    for node in graph.nodes:
        if node.op != "batchnorm" or len(node.inputs) != 1:
            continue
        source = by_name.get(node.inputs[0])
        if source and OPS[source.op].absorbs_batchnorm and consumers[source.name] == [node.name] and source.name not in graph.outputs:
            pairs[node.name] = source.name
    return pairs


def fold_batchnorm(graph: Graph) -> Graph:
    """Drop each foldable batchnorm; its conv gains a bias and takes the batchnorm's place for readers."""
    pairs = foldable_pairs(graph)
    convs = set(pairs.values())
    nodes = []
    for node in graph.nodes:
        if node.name in pairs:
            continue
        inputs = tuple(pairs.get(name, name) for name in node.inputs)
        attrs = {**node.attrs, "bias": True} if node.name in convs else node.attrs
        nodes.append(replace(node, inputs=inputs, attrs=attrs))
    return Graph(graph.input_shape, tuple(nodes), tuple(pairs.get(name, name) for name in graph.outputs))
