"""Nodes and edges in execution order; cycles are found here, once."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from cnncost.errors import CnnCostError, Location

INPUT = "input"


@dataclass(frozen=True)
class Node:
    """One layer: the op, its normalized attributes, and the names of the nodes it reads."""

    name: str
    op: str
    attrs: dict
    inputs: tuple
    loc: Location
    attr_locs: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def depth(self) -> int:
        return self.name.count(".") + 1


@dataclass(frozen=True)
class Graph:
    input_shape: tuple
    nodes: tuple  # in execution order: every node after all of its inputs
    outputs: tuple  # the model's outputs, the main one first

    @property
    def output(self) -> str:
        return self.outputs[0]

    def consumers(self) -> dict:
        """Who reads each node (`readers` counts those that run at inference)."""
        users = {INPUT: []}
        for node in self.nodes:
            users[node.name] = []
        for node in self.nodes:
            for name in node.inputs:
                users[name].append(node.name)
        return users

    def readers(self) -> dict[str, int]:
        """How many distinct layers that run at inference read each tensor (the input and every layer, 0 for none):
        a fresh dict, for callers that count down as the layers run."""
        return dict(self._readers)

    @cached_property
    def _readers(self) -> dict:
        # asked by the liveness timeline and by both storage walks (inference and training): counted once per graph
        skip = set(self._unused)
        counts = dict.fromkeys((INPUT, *(node.name for node in self.nodes)), 0)
        for node in self.nodes:
            if node.name not in skip:
                for name in set(node.inputs):
                    counts[name] += 1
        return counts

    def unused(self) -> list[str]:
        """Nodes whose result reaches no output (an auxiliary head): their weights exist, but they do not run."""
        return list(self._unused)

    @cached_property
    def _unused(self) -> tuple:
        # asked by the analysis, the liveness timeline, the training memory and verify: walked once per graph
        # (a frozen graph never changes; `replace` makes a new one)
        by_name = {node.name: node for node in self.nodes}
        live, stack = set(), list(self.outputs)
        while stack:
            name = stack.pop()
            if name in live or name == INPUT:
                continue
            live.add(name)
            stack.extend(by_name[name].inputs)
        return tuple(node.name for node in self.nodes if node.name not in live)


class BlockNesting:
    """The block instances a layer sits in, outermost first, read from its name: `layer3.2.conv1` sits in
    `layer3` and `layer3.2` when those are instances. Layers of one group share the answer (worked out once)."""

    def __init__(self, block_names):
        self.names = set(block_names)
        self.groups: dict[str, tuple] = {}

    def around(self, name: str) -> tuple:
        cut = name.rfind(".")
        if cut == -1:
            return ()
        group = name[:cut]
        found = self.groups.get(group)
        if found is None:
            found = self.groups[group] = (*self.around(group), *((group,) if group in self.names else ()))
        return found


def build_graph(input_shape: tuple, nodes: list, outputs, where: Location) -> Graph:
    """Order nodes so each follows its inputs, keeping the written order where it already works."""
    outputs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    if _in_written_order(nodes):  # the usual case, and what the ordering below would give: one pass, no heap
        return Graph(tuple(input_shape), tuple(nodes), outputs)
    index = {node.name: i for i, node in enumerate(nodes)}
    waiting = {node.name: sum(1 for name in set(node.inputs) if name != INPUT) for node in nodes}
    users: dict[str, list] = {}
    for node in nodes:
        for name in set(node.inputs):
            if name != INPUT:
                users.setdefault(name, []).append(node.name)
    import heapq

    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for user in users.get(node.name, ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, index[user])
    if len(order) < len(nodes):
        stuck = [node for node in nodes if waiting[node.name] > 0]
        cycle = _find_cycle({node.name: node for node in stuck})
        raise CnnCostError(f"the layers form a cycle: {' → '.join(cycle)}", stuck[0].loc, "a layer cannot depend on its own output")
    return Graph(tuple(input_shape), tuple(order), outputs)


def _in_written_order(nodes: list) -> bool:
    made = set()
    for node in nodes:
        for name in node.inputs:
            if name not in made and name != INPUT:
                return False
        made.add(node.name)
    return True


def _find_cycle(stuck: dict) -> list[str]:
    start = next(iter(stuck))
    path, seen = [start], {start: 0}
    while True:
        following = next(name for name in stuck[path[-1]].inputs if name in stuck)
        if following in seen:
            return [*path[seen[following]:], following]
        seen[following] = len(path)
        path.append(following)
