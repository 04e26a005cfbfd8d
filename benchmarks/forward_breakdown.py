"""Where verify's forward pass spends its time: the matmuls, the rest of each convolution, every other op.

The same kernels as `verify`, called layer by layer with verify's freeing of dead arrays; only the clock is
added. The matmuls are timed at the one place they run (counting.counted_matmul's np.matmul call), so
"conv copies" is a convolution's time outside its matmuls: im2col and padding copies, bias, transposes.
Used by verify_speed.py --breakdown; it answers how close to the GEMM figure a numpy path can come when
each part runs as fast as it does here.
"""
from __future__ import annotations

import time
from collections import Counter

import numpy as np

from cnncost.kernels import MacCounter, counting, forward, init_weights

MATMULS = "matmuls"
CONV_COPIES = "conv copies"


class _TimedNumpy:
    """numpy, with matmul's time added up: put in place of cnncost.kernels.counting's `np`."""

    def __init__(self) -> None:
        self.matmul_seconds = 0.0

    def __getattr__(self, name: str):
        return getattr(np, name)

    def matmul(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return np.matmul(*args, **kwargs)
        finally:
            self.matmul_seconds += time.perf_counter() - start


def _one_pass(graph, x: np.ndarray, weights: dict, timed: _TimedNumpy) -> tuple[Counter, int]:
    """Seconds per kind of work for one forward pass, and the MACs its matmuls executed.

    A layer without weights in `weights` gets them first, from its input shapes as verify allocates them.
    """
    readers = {name: len(set(users)) for name, users in graph.consumers().items()}
    live, seconds, macs = {"input": x}, Counter(), 0
    rng = np.random.default_rng(0)
    for node in graph.nodes:
        inputs = [live[name] for name in node.inputs]
        if node.name not in weights:
            weights[node.name] = init_weights(node.op, node.attrs, [a.shape for a in inputs], rng)
        counter, before = MacCounter(), timed.matmul_seconds
        start = time.perf_counter()
        live[node.name] = forward(node.op, node.attrs, inputs, *weights[node.name], counter)
        spent, in_matmuls = time.perf_counter() - start, timed.matmul_seconds - before
        del inputs
        macs += counter.macs
        seconds[MATMULS] += in_matmuls
        seconds[CONV_COPIES if node.op.startswith("conv") else node.op] += spent - in_matmuls
        for name in set(node.inputs):
            readers[name] -= 1
            if readers[name] == 0 and name != graph.output:
                del live[name]
    return seconds, macs


def breakdown(graph, batch: int, passes: int = 3) -> tuple[Counter, int]:
    """(seconds per kind of work in the fastest of `passes` passes, MACs executed) at `batch`."""
    x = np.random.default_rng(1).standard_normal((batch, *graph.input_shape), dtype=np.float32)
    weights: dict = {}
    timed, original = _TimedNumpy(), counting.np
    counting.np = timed
    try:
        _one_pass(graph, x, weights, timed)  # allocates the weights and touches every buffer once
        runs = [_one_pass(graph, x, weights, timed) for _ in range(passes)]
    finally:
        counting.np = original
    return min(runs, key=lambda run: sum(run[0].values()))
