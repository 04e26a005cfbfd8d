"""Points per second of a 1,000-point `mobilenet_v1` sweep (target: ≥ 200 points/s on a 2-core machine).

Run: python benchmarks/sweep_speed.py [POINTS] [JOBS]
The grid is 10 widths × 100 resolutions; each point builds and analyses the full spec (84 layers). The figure
is the wall time of cnncost.sweep.sweep, process start-up included; it varies with the machine's load.
"""
import os
import sys
import time

from cnncost.sweep import sweep


def grid(points: int) -> list[dict]:
    alphas = [0.25 + 0.075 * i for i in range(10)]
    resolutions = [96 + 2 * i for i in range(max(1, points // 10))]
    return [{"alpha": round(a, 3), "res": r} for a in alphas for r in resolutions][:points]


def main() -> None:
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    values = grid(points)
    start = time.perf_counter()
    result = sweep("mobilenet_v1", values, processes=jobs)
    elapsed = time.perf_counter() - start
    assert len(result.points) == len(values)
    print(f"sweep mobilenet_v1: {len(values)} points in {elapsed:.2f} s = {len(values) / elapsed:.0f} points/s "
          f"on {jobs} processes (load average {os.getloadavg()[0]:.1f}; target ≥ 200 points/s)")


if __name__ == "__main__":
    main()
