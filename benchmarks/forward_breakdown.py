"""Where verify's forward pass spends its time: the matmuls, the rest of each convolution, every other op.

verify's own forward (cnncost.forward.ForwardRun: the same weights, kernels and freeing of dead arrays) with
one clock added: the matmuls are timed at the one place they run (counting.counted_matmul's np.matmul
call), so "conv copies" is a convolution's time outside its matmuls: im2col and padding copies, bias,
transposes. Used by verify_speed.py --breakdown; it answers how close to the GEMM figure a numpy path can
come when each part runs as fast as it does here.
"""
from __future__ import annotations

import time
from collections import Counter

import numpy as np

from cnncost.kernels import counting
from cnncost.forward import ForwardRun

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


def _one_pass(graph, batch: int, timed: _TimedNumpy) -> tuple[Counter, int]:
    """Seconds per part of the work for one forward pass, and the MACs its matmuls executed."""
    seconds, macs = Counter(), 0
    before = timed.matmul_seconds
    for layer in ForwardRun(graph, batch, seed=0).layers():
        in_matmuls, before = timed.matmul_seconds - before, timed.matmul_seconds
        macs += layer.macs
        seconds[MATMULS] += in_matmuls
        seconds[CONV_COPIES if layer.node.op.startswith("conv") else layer.node.op] += layer.seconds - in_matmuls
    return seconds, macs


def breakdown(graph, batch: int, passes: int = 3) -> tuple[Counter, int]:
    """(seconds per part of the work in the fastest of `passes` passes, MACs executed) at `batch`."""
    timed, original = _TimedNumpy(), counting.np
    counting.np = timed
    try:
        _one_pass(graph, batch, timed)  # touches every buffer once
        runs = [_one_pass(graph, batch, timed) for _ in range(passes)]
    finally:
        counting.np = original
    return min(runs, key=lambda run: sum(run[0].values()))
