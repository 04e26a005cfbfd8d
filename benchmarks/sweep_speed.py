"""Points per second of a 1,000-point `mobilenet_v1` sweep (target: ≥ 200 points/s on a 2-core machine).

Run: python benchmarks/sweep_speed.py [POINTS] [JOBS]
The grid is 10 widths × 100 resolutions; each point builds and analyses the full spec (84 layers). Two figures:
the wall time of cnncost.sweep.sweep (process start-up included), which depends on how much of the machine the
other processes leave; and the CPU time the sweep's processes used per point, which hardly does. Points per
CPU-second times the free cores is what an idle machine gives; the load average is printed beside both.
"""
import os
import sys
import time

from cnncost.sweep import sweep


def grid(points: int) -> list[dict]:
    alphas = [0.25 + 0.075 * i for i in range(10)]
    resolutions = [96 + 2 * i for i in range(max(1, points // 10))]
    return [{"alpha": round(a, 3), "res": r} for a in alphas for r in resolutions][:points]


def cpu_seconds() -> float:
    """This process's CPU time and that of its finished children (the sweep's worker processes)."""
    used = os.times()
    return used.user + used.system + used.children_user + used.children_system


def main() -> None:
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    values = grid(points)
    start, cpu_start = time.perf_counter(), cpu_seconds()
    result = sweep("mobilenet_v1", values, processes=jobs)
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    assert len(result.points) == len(values)
    load = os.getloadavg()[0]
    print(f"sweep mobilenet_v1: {len(values)} points in {elapsed:.2f} s = {len(values) / elapsed:.0f} points/s "
          f"on {jobs} processes (load average {load:.1f}; target ≥ 200 points/s)")
    print(f"CPU time: {cpu * 1000 / len(values):.2f} ms per point = {len(values) / cpu:.0f} points per CPU-second; "
          f"{os.cpu_count()} free cores would give about {os.cpu_count() * len(values) / cpu:.0f} points/s")


if __name__ == "__main__":
    main()
