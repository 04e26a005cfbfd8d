"""How well the roofline estimate (cnncost.roofline) predicts verify's numpy forward pass on this machine.

Calibrates this machine (cnncost.calibrate, or --profile FILE), then for every bundled model (or those named)
at batch 8 runs verify's own forward (cnncost.forward.ForwardRun: the same kernels, weights and freeing) and
times each layer, the best of --passes passes after one warm-up (more passes for a model whose passes took less
than --seconds). Prints, against the issue #17 targets:
  - Spearman rank correlation of estimated vs measured per-layer times over all layers of all models (≥ 0.8),
  - per model, the whole-model estimate / measured numpy time (within ±30%),
  - the share of model pairs ranked the same by estimate and by measured time (≥ 90%),
and, where torch is installed, the whole-model ratio and pair ranking against PyTorch's eager forward
(benchmarks/torch_reference.py). The machine's load average is printed with the figures: a shared machine
only slows a run down, and unevenly; so before each model one of calibrate's micro-benchmarks is timed again and
its time over its time at the start is printed (ref×: 2.0 means the machine ran at half the speed it had when
the run began). --baseline FILE prints the same figures for a second profile against the
same measured times, so two profiles (or two versions of calibrate) are compared under the same load.
Run: python benchmarks/roofline_validation.py [--profile FILE] [--baseline FILE] [--batch N] [--passes N] [--seconds S]
     [MODEL ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import combinations

from cnncost.blasenv import let_blas_threads_sleep

let_blas_threads_sleep()  # as `cnncost verify` does, before numpy loads OpenBLAS

import numpy as np  # noqa: E402

import cnncost  # noqa: E402
from cnncost.calibrate import LAYERS, layer_seconds  # noqa: E402
from cnncost.devices import read_profile  # noqa: E402
from cnncost.forward import ForwardRun  # noqa: E402
from cnncost.spec import load  # noqa: E402
from cnncost.spec.bundled import bundled_names  # noqa: E402

try:
    from torch_reference import warm_forward
except ImportError:  # torch is not installed: no PyTorch columns
    warm_forward = None

# Too large for a batch-8 numpy forward on a small shared machine (U-Net at 572×572 holds > 4 GiB); named here,
# and printed as skipped, rather than left out silently.
SKIPPED = {"unet": "572×572 at batch 8 needs > 4 GiB",
           "conv3d_example": "one numpy pass at batch 8 takes about 50 s on the 2-core machine"}


REFERENCE = LAYERS[1]  # a 3×3 convolution of 128 channels on 28×28


def spearman(a, b) -> float:
    """Spearman's rho: Pearson's correlation of the ranks, ties given their average rank."""
    def ranks(values):
        values = np.asarray(values, dtype=float)
        order = values.argsort(kind="mergesort")
        out = np.empty(len(values))
        out[order] = np.arange(len(values), dtype=float)
        for value in np.unique(values):  # average the ranks of ties
            tied = values == value
            out[tied] = out[tied].mean()
        return out

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def pairs_agreeing(estimated: dict, measured: dict) -> tuple[int, int]:
    names = sorted(estimated)
    pairs = list(combinations(names, 2))
    same = sum((estimated[a] < estimated[b]) == (measured[a] < measured[b]) for a, b in pairs)
    return same, len(pairs)


def numpy_layer_seconds(graph, batch: int, passes: int, seconds: float = 0.0) -> dict:
    """Per layer, the fastest of the timed passes after a warm-up pass: `passes` of them, and more (up to 50)
    until the timed passes took `seconds`, so a small model gets as many chances at a quiet moment as a big one."""
    best: dict = {}
    index, spent = 0, 0.0
    while index <= passes or (spent < seconds and index <= 50):
        for layer in ForwardRun(graph, batch, seed=0).layers():
            if index:
                best[layer.node.name] = min(best.get(layer.node.name, float("inf")), layer.seconds)
                spent += layer.seconds
            del layer
        index += 1
    return best


def torch_seconds(graph, batch: int, passes: int) -> float | None:
    """PyTorch's eager forward, best of `passes`; None when torch_reference lacks one of the model's ops."""
    try:
        run = warm_forward(graph, batch)
    except NotImplementedError:
        return None
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def reference_seconds() -> float:
    """One of calibrate's micro-benchmarks timed now: how much slower the machine is than when the run began."""
    return layer_seconds(REFERENCE, seconds=0.5)


def describe(profile) -> str:
    efficiency = ", ".join(f"{key} {profile.efficiency_of(*key.split())}" for key in
                           ("conv2d", "conv2d pointwise", "conv2d depthwise", "conv2d grouped", "linear", "batchnorm", "relu"))
    shapes = sum(len(profile.shape_efficiency.get(key, ())) for key in ("conv2d", "conv2d pointwise", "conv2d depthwise", "conv2d grouped"))
    return (f"{profile.name}: float32 peak {profile.peak_flops['float32'] / 1e9:.1f} GFLOP/s, bandwidth "
            f"{profile.memory_bandwidth / 1e9:.1f} GB/s, overhead {profile.overhead_ns / 1e3:.1f} µs "
            f"(conv2d {profile.overhead_seconds('conv2d') * 1e6:.1f} µs); efficiency {efficiency}; "
            f"{shapes} convolution shapes measured")


def figures(label: str, estimated_layers: list, measured_layers: list, estimated: dict, measured: dict) -> None:
    """The issue's three figures: per-layer rho, models within ±30%, model pairs ranked alike."""
    ratios = {name: estimated[name] / measured[name] for name in estimated}
    within = [name for name, ratio in ratios.items() if 0.7 <= ratio <= 1.3]
    same, pairs = pairs_agreeing(estimated, measured)
    print(f"{label}per-layer Spearman rho over {len(estimated_layers)} layers of {len(estimated)} models: "
          f"{spearman(estimated_layers, measured_layers):.3f} (target ≥ 0.8)")
    print(f"{label}whole-model estimate within ±30% of numpy: {len(within)} of {len(estimated)} models (target: all); "
          f"ratios {min(ratios.values()):.2f} to {max(ratios.values()):.2f}, median {float(np.median(list(ratios.values()))):.2f}")
    print(f"{label}model pairs ranked alike (estimate vs numpy): {same} of {pairs} = {same / max(pairs, 1):.1%} (target ≥ 90%)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*")
    parser.add_argument("--profile", help="a device profile; default: calibrate now")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="time each model for at least this long (more passes)")
    parser.add_argument("--baseline", help="a second profile whose figures are printed against the same measurements")
    options = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    if options.profile:
        profile = cnncost.devices.load_profile(options.profile)
    else:
        from cnncost.calibrate import measure, profile_text
        from cnncost.spec.yamlload import load_yaml

        profile = read_profile(load_yaml(profile_text(measure()), "<calibrated>"), "<calibrated>")
    baseline = cnncost.devices.load_profile(options.baseline) if options.baseline else None
    for label, each in (("profile", profile), ("baseline", baseline)):
        if each is not None:
            print(f"{label} {describe(each)}")
    reference = reference_seconds()
    print(f"reference (calibrate's {REFERENCE[0]} through the numpy forward, timed again before each model): "
          f"{reference * 1e3:.2f} ms")
    print(f"batch {options.batch}, per layer the best of {options.passes} passes or more, until a model's passes took {options.seconds} s")
    names = options.models or [name for name in bundled_names() if name not in SKIPPED]
    for name in sorted(set(bundled_names()) & set(SKIPPED) - set(options.models)):
        print(f"skipped {name}: {SKIPPED[name]}")
    all_estimated, all_measured, all_baseline = [], [], []
    whole_estimated, whole_numpy, whole_torch, whole_baseline = {}, {}, {}, {}
    print(f"{'model':24} {'estimate ms':>12} {'numpy ms':>10} {'ratio':>6} {'rho':>6} {'torch ms':>9} {'ratio':>6}"
          + (f" {'baseline':>8}" if baseline else "") + f" {'ref×':>5} {'load':>5}")
    for name in names:
        slower = reference_seconds() / reference
        spec = load(name)
        report = cnncost.analyze(spec, batch=options.batch, device=profile)
        measured = numpy_layer_seconds(spec.graph, options.batch, options.passes, options.seconds)
        rows = [row for row in report.layers if row.name in measured]
        estimated_layers = [row.estimated_seconds for row in rows]
        measured_layers = [measured[row.name] for row in rows]
        all_estimated += estimated_layers
        all_measured += measured_layers
        whole_estimated[name], whole_numpy[name] = report.totals.estimated_seconds, sum(measured.values())
        torch_text = ""
        seconds = torch_seconds(spec.graph, options.batch, options.passes) if warm_forward is not None else None
        if seconds is not None:
            whole_torch[name] = seconds
            torch_text = f"{seconds * 1e3:9.1f} {whole_estimated[name] / seconds:6.2f}"
        elif warm_forward is not None:
            torch_text = f"{'-':>9} {'-':>6}"
        if baseline:
            other = cnncost.analyze(spec, batch=options.batch, device=baseline)
            by_name = {row.name: row.estimated_seconds for row in other.layers}
            all_baseline += [by_name[row.name] for row in rows]
            whole_baseline[name] = other.totals.estimated_seconds
            torch_text += f" {whole_baseline[name] / whole_numpy[name]:8.2f}"
        print(f"{name:24} {whole_estimated[name] * 1e3:12.1f} {whole_numpy[name] * 1e3:10.1f} "
              f"{whole_estimated[name] / whole_numpy[name]:6.2f} {spearman(estimated_layers, measured_layers):6.2f} {torch_text} {slower:5.2f} {os.getloadavg()[0]:5.2f}",
              flush=True)
    print()
    figures("", all_estimated, all_measured, whole_estimated, whole_numpy)
    if baseline:
        figures("baseline: ", all_baseline, all_measured, whole_baseline, whole_numpy)
    if whole_torch:
        same, pairs = pairs_agreeing({n: whole_estimated[n] for n in whole_torch}, whole_torch)
        torch_ratios = [whole_estimated[n] / whole_torch[n] for n in whole_torch]
        print(f"against torch eager ({len(whole_torch)} models; torch_reference lacks an op of the others): ratios "
              f"{min(torch_ratios):.2f} to {max(torch_ratios):.2f}, pairs ranked alike {same} of {pairs} = {same / max(pairs, 1):.1%}")
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load_before:.2f} before and "
          f"{os.getloadavg()[0]:.2f} after (shared; figures vary between runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
