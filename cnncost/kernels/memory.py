"""Opt-in allocator tuning for whole-network forward passes on Linux/glibc."""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

# <malloc.h> parameter numbers
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def reuse_freed_memory() -> bool:
    """Make glibc malloc keep freed memory for the next layer instead of returning it to the OS.

    Every kernel returns a fresh array, and glibc maps blocks over 32 MB straight from the OS, so each
    large layer pays a page fault per 4 KB of its output: VGG-16 at batch 8, 224x224 runs 1.25x faster
    with this on. Process-wide and irreversible (the heap never shrinks), so only an entry point that is
    about to run a network (verify, a benchmark) should call it. Returns False where it cannot apply.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # no libc found, or a libc without mallopt (musl)
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
