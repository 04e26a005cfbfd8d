"""Let OpenBLAS's idle worker threads sleep at once, for the commands that run the numpy forward pass.

After every matmul, OpenBLAS's workers spin for 2^OPENBLAS_THREAD_TIMEOUT cycles (default 2^28, about
0.1 s at 2.6 GHz) before sleeping. Between convolutions that spin holds the second core, so the
elementwise ops (batch norm, ReLU, sums, pooling) cannot use it and, where the two vCPUs share a physical
core, the working thread itself slows. Measured on the 2-core target, ResNet-50 at batch 8: the whole
forward pass 0.68 -> 0.53 s with the timeout at 4 (OpenBLAS's minimum). OpenBLAS reads the variable once,
when numpy loads it, so this must run before the first `import numpy`; it never overrides a value the
user has set.
"""
from __future__ import annotations

import os
import sys

SLEEP_AT_ONCE = "4"  # OpenBLAS clamps the timeout to 4..30


def let_blas_threads_sleep() -> bool:
    """Set OPENBLAS_THREAD_TIMEOUT unless the user did; False if numpy (and OpenBLAS) already loaded."""
    if "numpy" in sys.modules:
        return False
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", SLEEP_AT_ONCE)
    return True
