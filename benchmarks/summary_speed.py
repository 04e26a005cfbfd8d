"""Whole-process wall and CPU time of `cnncost summary` in every format, for densenet201 and for generated specs
of 10k and 100k layers; and the start-up figure of `summary vgg16 --format json` (target: median ≤ 0.15 s).

Targets (issue 15): densenet201's table within 1.3× of its JSON; a 100k-layer table under 5 s.
Run: python benchmarks/summary_speed.py [--runs N] [--layers 10000 100000] [--quick]
Measure with a regular install (`pip install .`, as in the README): an editable install's import hook adds
about 30 ms to every start. Output is piped (not a terminal), as in CI and scripts. Wall time depends on what
else the machine runs; CPU time (user + system of the cnncost process) hardly does, so both are printed, with
the load average beside each row.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

FORMATS = ("json", "table", "csv", "markdown")


def times(args: list[str], runs: int) -> tuple[float, float]:
    """Median wall and median CPU seconds of `runs` runs of the command."""
    walls, cpus = [], []
    for _ in range(runs):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def generated_spec(layers: int, folder: str) -> str:
    """A chain of `layers` layers (a multiple of 200): conv 1×1 and relu, alternating, on a small input, as
    stages of 100 units (a single repeat is limited to 10,000)."""
    path = os.path.join(folder, f"chain_{layers}.yaml")
    with open(path, "w") as handle:
        handle.write(
            f"name: chain_{layers}\ninput: 8x4x4\nblocks:\n  unit:\n    layers:\n"
            "      - conv2d: {out: 8, kernel: 1}\n      - relu\n"
            "  stage:\n    layers:\n      - unit: {repeat: 100}\n"
            f"layers:\n  - stage: {{repeat: {layers // 200}}}\n"
        )
    return path


def row(spec: str, runs: int) -> dict:
    return {fmt: times([sys.executable, "-m", "cnncost", "summary", spec, "--format", fmt], runs) for fmt in FORMATS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--layers", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--quick", action="store_true", help="one run each, 1k layers only (for the test suite)")
    options = parser.parse_args()
    runs, sizes = (1, [1_000]) if options.quick else (options.runs, options.layers)

    wall, cpu = times([sys.executable, "-m", "cnncost", "summary", "vgg16", "--format", "json"], max(runs, 3))
    print(f"cnncost summary vgg16 --format json: median {wall:.3f} s wall, {cpu:.3f} s CPU (target ≤ 0.150 s; "
          f"load average {os.getloadavg()[0]:.2f})")
    print(f"{'spec':<16}" + "".join(f"{fmt + ' wall/CPU':>20}" for fmt in FORMATS) + "  table/json CPU  load")
    with tempfile.TemporaryDirectory() as folder:
        for spec in ["densenet201", *(generated_spec(n, folder) for n in sizes)]:
            figures = row(spec, runs)
            name = os.path.basename(spec).removesuffix(".yaml")
            cells = "".join(f"{'{:.2f}/{:.2f}s'.format(*figures[fmt]):>20}" for fmt in FORMATS)
            ratio = figures["table"][1] / figures["json"][1]
            print(f"{name:<16}{cells}{ratio:>15.2f}×{os.getloadavg()[0]:>6.2f}")
    print(f"medians of {runs} run(s); whole process, stdout piped; CPU = user + system seconds of the cnncost process; "
          "load = 1-minute load average after the row")


if __name__ == "__main__":
    main()
