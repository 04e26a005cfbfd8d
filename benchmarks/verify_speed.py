"""verify's numpy forward pass against this machine's float32 GEMM throughput, measured in the same run.

For resnet50 and vgg16 at batch 1 and 8 (224×224) it prints: the wall time of the first whole verify
run (analysis, weights, forward, checks) and whether its checks passed; the time inside the kernels and
the achieved GMAC/s (MACs counted from the executed matmuls / kernel time); that as a share of numpy's
SGEMM GMAC/s (2048³); and, when torch is installed, PyTorch's own eager forward of the same graph
(benchmarks/torch_reference.py) as a share of the same GEMM figure.

This machine is shared and a single run can be 1.5× slower than the next. So each round runs the verify
forward, the torch forward and one GEMM back to back, the shares are taken within a round, and the best
round is reported (the median beside it). Target: ≥ 75% of GEMM at batch 8.
`np/pt` is numpy's forward throughput over PyTorch's in the same round (target ≥ 0.7 at batch 8, ≥ 0.65 for
batch-norm-heavy models). --families runs one or two models of every conv family (FAMILIES below: dense, grouped,
depthwise, dilated, transposed, 1-D, 3-D, and the modern-CNN ops); the load average is printed before and after.
--breakdown adds, per model at batch 8, the time in the matmuls, in the rest of each convolution (its
copies) and in every other op (forward_breakdown.py), with the share of GEMM the forward would reach
without the convolution copies.
Run: python benchmarks/verify_speed.py [--repeats N] [--breakdown] [--families] [MODEL ...]
"""
import os
import statistics
import sys
import time

from cnncost.blasenv import let_blas_threads_sleep

let_blas_threads_sleep()  # as `cnncost verify` does, before numpy loads OpenBLAS

import numpy as np  # noqa: E402

from cnncost.spec import load, load_text  # noqa: E402
from cnncost.verify import verify_spec  # noqa: E402
from forward_breakdown import CONV_COPIES, MATMULS, breakdown  # noqa: E402

try:
    from torch_reference import warm_forward
except ImportError:  # torch is not installed: no reference column
    warm_forward = None

GEMM_N = 2048

# No bundled spec dilates its convolutions: a DeepLab-style stack (ResNet stage 4 at output stride 8) stands in.
DILATED = """name: dilated_stack
input: 256x28x28
layers:
  - conv2d: {out: 256, kernel: 3, padding: 2, dilation: 2, bias: false}
  - batchnorm
  - relu
  - conv2d: {out: 256, kernel: 3, padding: 4, dilation: 4, bias: false}
  - batchnorm
  - relu
  - conv2d: {out: 256, kernel: 3, padding: 8, dilation: 8, bias: false}
"""
FAMILIES = {
    "dense": ("resnet50", "vgg16"),
    "grouped": ("resnext50_32x4d", "shufflenet_v2_x1_0"),
    "depthwise": ("mobilenet_v2", "efficientnet_b0"),
    "dilated": ("dilated_stack",),
    "transposed": ("dcgan_generator", "unet"),
    "1-D": ("conv1d_example",),
    "3-D": ("conv3d_example",),
    "modern ops": ("convnext_tiny", "mobilenet_v3_large"),
}
SMALLER = {"unet": (1, 188, 188)}  # its 572×572 at batch 8 needs about 4 GiB; 188 is what the tests verify


def _spec(name: str):
    return load_text(DILATED, "dilated_stack.yaml") if name == "dilated_stack" else load(name, SMALLER.get(name))


class Gemm:
    """One GEMM_N³ float32 matmul, timed on demand."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
        self.b = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
        self.a @ self.b

    def gmacs(self, repeats: int = 2) -> float:
        return GEMM_N**3 / min(_timed(lambda: self.a @ self.b) for _ in range(repeats)) / 1e9


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _arguments(argv: list[str]) -> tuple[int, bool, list[str]]:
    """(rounds per row, whether to add the breakdown, models) from [--repeats N] [--breakdown] [MODEL ...]."""
    repeats, with_breakdown, models = 5, False, []
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--repeats":
            repeats = int(next(arguments))
        elif argument == "--breakdown":
            with_breakdown = True
        elif argument == "--families":
            models += [name for names in FAMILIES.values() for name in names]
        else:
            models.append(argument)
    return repeats, with_breakdown, models or ["resnet50", "vgg16"]


def _rounds(spec, batch: int, repeats: int, gemm: Gemm):
    """(first verify result, its wall time, [(numpy share, torch share or None, gemm GMAC/s, numpy/torch
    throughput or None) per round])."""
    start = time.perf_counter()
    first = verify_spec(spec, batch=batch)
    wall = time.perf_counter() - start
    rounds = []
    for index in range(repeats):
        forward = first.forward_seconds if index == 0 else verify_spec(spec, batch=batch).forward_seconds
        reference = _torch_reference(spec.graph, batch)
        rate = gemm.gmacs()
        rounds.append((first.macs / forward / 1e9 / rate, reference and first.macs / reference / 1e9 / rate, rate,
                       reference and reference / forward))
    return first, wall, rounds


def _torch_reference(graph, batch: int) -> float | None:
    """Seconds of PyTorch's forward of the graph; None without torch or for an op torch_reference lacks."""
    if warm_forward is None:
        return None
    try:
        return _timed(warm_forward(graph, batch))
    except NotImplementedError:
        return None


def _print_breakdown(spec, batch: int, gemm: Gemm) -> None:
    """Where the forward's time goes, and what share of GEMM it would reach without the convolution copies."""
    seconds, macs = breakdown(spec.graph, batch)
    rate = gemm.gmacs()
    total = sum(seconds.values())

    def share(spent: float) -> str:
        return f"{macs / spent / 1e9:6.1f} GMAC/s {macs / spent / 1e9 / rate:5.0%} of GEMM"

    print(f"\n{spec.name}, batch {batch}: where the forward's {total:.3f} s go (fastest of 3 passes; GEMM {rate:.1f} GMAC/s)")
    for part, spent in seconds.most_common():
        print(f"  {part:<20} {spent * 1e3:8.1f} ms {spent / total:6.1%}")
    for label, spent in (("all of it", total), ("matmuls alone", seconds[MATMULS]),
                         ("all but conv copies", total - seconds[CONV_COPIES])):
        print(f"  {label:<20} {spent * 1e3:8.1f} ms {share(spent)}")


def main() -> None:
    repeats, with_breakdown, models = _arguments(sys.argv[1:])
    gemm = Gemm()
    print(f"numpy {np.__version__}, OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset')}; "
          f"{repeats} rounds of (verify forward, torch forward, {GEMM_N}³ GEMM) per row; {_load()}")
    print(f"{'model':<10} {'batch':>5} {'wall s':>7} {'GMAC/s':>7} {'GEMM':>6} {'numpy':>6} {'median':>6}"
          f" {'torch':>6} {'median':>6} {'np/pt':>6} {'median':>6}  checks")
    for name in models:
        spec = _spec(name)
        for batch in (1, 8):
            first, wall, rounds = _rounds(spec, batch, repeats, gemm)
            share, _, rate, _ = max(rounds, key=lambda r: r[0])
            median = statistics.median(r[0] for r in rounds)
            status = "pass" if first.passed else f"FAIL ({len(first.failures)})"
            print(f"{name:<10} {batch:>5} {wall:>7.2f} {share * rate:>7.1f} {rate:>6.1f} {share:>6.0%} {median:>6.0%}"
                  f" {_best_and_median([r[1] for r in rounds], '.0%')} {_best_and_median([r[3] for r in rounds], '.2f')}"
                  f"  {status}")
    print("GMAC/s and GEMM: the best round's verify forward and the GEMM beside it; numpy, torch: forward GMAC/s as a")
    print("share of that round's GEMM, best round and median round; np/pt: numpy's throughput over PyTorch's eager")
    print(f"forward in the same round, best and median. After the run: {_load()}")
    if not warm_forward:
        print("torch is not installed here: pip install torch==2.13.0 adds PyTorch's own forward as the reference")
    if with_breakdown:
        for name in models:
            _print_breakdown(_spec(name), 8, gemm)


def _best_and_median(values: list, form: str) -> str:
    """Two cells: the best and the median of the rounds' values, or dashes without the torch reference."""
    values = [v for v in values if v is not None]
    return f"{max(values):>6{form}} {statistics.median(values):>6{form}}" if values else f"{'-':>6} {'-':>6}"


def _load() -> str:
    """The machine's load, which these shares depend on (the machine is shared)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


if __name__ == "__main__":
    main()
