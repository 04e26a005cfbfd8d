"""Whole-process wall and CPU time of `cnncost summary` in every format, for densenet201 and for generated specs
of 10k and 100k layers; and the start-up figure of `summary vgg16 --format json` (target: median ≤ 0.15 s).

Three generated specs per size: `chain_N` repeats one unit (conv 1×1, relu), as deep networks repeat their
blocks, so cnncost works each layer's figures out once and reuses them; `varied_N` gives every conv its own
width (${8 + i + 100·s} channels), so no two layers are alike and nothing is reused; `literal_N` writes the same
distinct layers out one by one (as a generator script would), so the YAML itself is N entries: the worst case.
With --terminal, the 100k-layer tables are also printed to a pseudo-terminal 160 columns wide (what a user
typing the command sees: above 2,000 rows, plain text fitted to the terminal instead of rich's table).

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


KINDS = ("chain", "varied", "literal")


def generated_spec(layers: int, folder: str, kind: str = "chain") -> str:
    """A chain of `layers` layers (a multiple of 200): conv 1×1 and relu, alternating, on a small input, as
    stages of 100 units (a single repeat is limited to 10,000). `varied`: unit i of stage s has 8 + i + 100·s
    output channels, so every layer differs from every other; `literal`: those layers written out, no blocks."""
    name = f"{kind}_{layers}"
    path = os.path.join(folder, f"{name}.yaml")
    if kind == "literal":
        with open(path, "w") as handle:
            handle.write(f"name: {name}\ninput: 8x4x4\nlayers:\n")
            handle.writelines(f"  - conv2d: {{out: {8 + unit}, kernel: 1}}\n  - relu\n" for unit in range(layers // 2))
        return path
    if kind == "varied":
        unit = "    args: {i: 0, s: 0}\n    layers:\n      - conv2d: {out: \"${8 + i + 100 * s}\", kernel: 1}\n      - relu\n"
        stage = "    args: {s: 0}\n    layers:\n      - unit: {repeat: 100, index_as: i, s: $s}\n"
        top = f"  - stage: {{repeat: {layers // 200}, index_as: s}}\n"
    else:
        unit = "    layers:\n      - conv2d: {out: 8, kernel: 1}\n      - relu\n"
        stage = "    layers:\n      - unit: {repeat: 100}\n"
        top = f"  - stage: {{repeat: {layers // 200}}}\n"
    with open(path, "w") as handle:
        handle.write(f"name: {name}\ninput: 8x4x4\nblocks:\n  unit:\n{unit}  stage:\n{stage}layers:\n{top}")
    return path


def on_terminal(spec: str, columns: int = 160) -> tuple[float, float]:
    """Wall and CPU seconds of `summary SPEC` printing to a pseudo-terminal `columns` wide (output read and dropped)."""
    import fcntl
    import pty
    import struct
    import termios

    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["COLUMNS"] = str(columns)
        os.execv(sys.executable, [sys.executable, "-m", "cnncost", "summary", spec])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    while True:
        try:
            if not os.read(fd, 1 << 16):
                break
        except OSError:  # the child closed the terminal
            break
    _, status, usage = os.wait4(pid, 0)
    if status:
        raise SystemExit(f"summary {spec} on a terminal failed ({status})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def row(spec: str, runs: int) -> dict:
    return {fmt: times([sys.executable, "-m", "cnncost", "summary", spec, "--format", fmt], runs) for fmt in FORMATS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--layers", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--quick", action="store_true", help="one run each, 1k layers only (for the test suite)")
    parser.add_argument("--terminal", action="store_true", help="also print the largest tables to a 160-column pseudo-terminal")
    options = parser.parse_args()
    runs, sizes = (1, [1_000]) if options.quick else (options.runs, options.layers)

    wall, cpu = times([sys.executable, "-m", "cnncost", "summary", "vgg16", "--format", "json"], max(runs, 3))
    print(f"cnncost summary vgg16 --format json: median {wall:.3f} s wall, {cpu:.3f} s CPU (target ≤ 0.150 s; "
          f"load average {os.getloadavg()[0]:.2f})")
    print(f"{'spec':<16}" + "".join(f"{fmt + ' wall/CPU':>20}" for fmt in FORMATS) + "  table/json CPU  load")
    with tempfile.TemporaryDirectory() as folder:
        specs = [generated_spec(n, folder, kind) for n in sizes for kind in KINDS]
        for spec in ["densenet201", *specs]:
            figures = row(spec, runs)
            name = os.path.basename(spec).removesuffix(".yaml")
            cells = "".join(f"{'{:.2f}/{:.2f}s'.format(*figures[fmt]):>20}" for fmt in FORMATS)
            ratio = figures["table"][1] / figures["json"][1]
            print(f"{name:<16}{cells}{ratio:>15.2f}×{os.getloadavg()[0]:>6.2f}")
        if options.terminal:
            for spec in [spec for spec in specs if spec.endswith(f"_{max(sizes)}.yaml")]:
                walls, cpus = zip(*(on_terminal(spec) for _ in range(runs)))
                print(f"{os.path.basename(spec)} table on a 160-column terminal: median {statistics.median(walls):.2f} s wall, "
                      f"{statistics.median(cpus):.2f} s CPU (load average {os.getloadavg()[0]:.2f})")
    print(f"medians of {runs} run(s); whole process, stdout piped; CPU = user + system seconds of the cnncost process; "
          "load = 1-minute load average after the row")


if __name__ == "__main__":
    main()
