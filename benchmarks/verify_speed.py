"""verify's numpy forward pass against this machine's float32 GEMM throughput, measured in the same run.

Prints, for resnet50 and vgg16 at batch 1 and 8 (224×224): wall time of the whole verify run, time inside
the kernels, achieved GMAC/s (MACs counted from the executed matmuls / kernel time) and that as a share of
numpy's SGEMM GMAC/s. Target: ≥ 75% at batch 8 (PyTorch's own CPU forward reaches about that here).
Run: python benchmarks/verify_speed.py [MODEL ...]
"""
import sys
import time

import numpy as np

from cnncost.spec import load
from cnncost.verify import verify_spec


def sgemm_gmacs(n: int = 2048, repeats: int = 5) -> float:
    """Best-of throughput of one n×n×n float32 matmul: the ceiling a matmul-based forward can reach."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return n**3 / best / 1e9


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    models = sys.argv[1:] or ["resnet50", "vgg16"]
    gemm = sgemm_gmacs()
    print(f"numpy float32 GEMM (2048³, best of 5): {gemm:.1f} GMAC/s  [numpy {np.__version__}]")
    print(f"{'model':<10} {'batch':>5} {'wall s':>8} {'kernel s':>9} {'GMAC/s':>8} {'of GEMM':>8}  checks")
    for name in models:
        spec = load(name)
        for batch in (1, 8):
            start = time.perf_counter()
            result = verify_spec(spec, batch=batch)
            wall = time.perf_counter() - start
            share = result.gmacs_per_second / gemm
            status = "pass" if result.passed else f"FAIL ({len(result.failures)})"
            print(f"{name:<10} {batch:>5} {wall:>8.2f} {result.forward_seconds:>9.2f} {result.gmacs_per_second:>8.1f} {share:>8.0%}  {status}")
    gemm_after = sgemm_gmacs()
    print(f"numpy float32 GEMM again at the end: {gemm_after:.1f} GMAC/s (a large change means the machine was busy)")


if __name__ == "__main__":
    main()
