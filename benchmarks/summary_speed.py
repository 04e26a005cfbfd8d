"""Whole-process wall time of `cnncost summary vgg16 --format json` (target: median ≤ 0.15 s).

Run: python benchmarks/summary_speed.py [SPEC] [RUNS]
Measure with a regular install (`pip install .`, as in the README): an editable install's import
hook adds about 30 ms to every start.
"""
import statistics
import subprocess
import sys
import time


def wall_times(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    spec = sys.argv[1] if len(sys.argv) > 1 else "vgg16"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    baseline = wall_times([sys.executable, "-c", "import click, rich, yaml"], runs)
    times = wall_times([sys.executable, "-m", "cnncost", "summary", spec, "--format", "json"], runs)
    print(f"python + click, rich, yaml imported: median {statistics.median(baseline):.3f} s")
    print(f"cnncost summary {spec} --format json: median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s over {runs} runs (target ≤ 0.150 s)")


if __name__ == "__main__":
    main()
