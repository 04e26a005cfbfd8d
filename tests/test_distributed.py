"""`--scheduler`: the points on a Dask cluster give the same results, in the same order, as a local run — also
when a worker dies mid-run. Skipped without the `dask` extra (.ci/run installs it and runs this file)."""
import os
import signal
import threading

import pytest

distributed = pytest.importorskip("distributed")

from cnncost.errors import CnnCostError  # noqa: E402
from cnncost.sweep import grid, make_job, parse_axes, run  # noqa: E402

POINTS = grid(parse_axes(["alpha=0.25,0.5,0.75,1.0", "res=" + ",".join(str(r) for r in range(64, 224, 4))]))  # 160


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster


def test_cluster_run_matches_local_run(cluster):
    job = make_job("mobilenet_v1")
    assert run(job, POINTS, scheduler=cluster.scheduler_address) == run(job, POINTS, processes=1)


def test_a_worker_dying_mid_run_loses_and_doubles_nothing(cluster):
    job = make_job("mobilenet_v1")
    done, killed = [], threading.Event()
    client = distributed.Client(cluster.scheduler_address, set_as_default=False)
    victim = sorted(client.scheduler_info()["workers"])[0]
    pid = client.run(os.getpid, workers=[victim])[victim]

    def progress(n):
        done.append(n)
        if len(done) == 3 and not killed.is_set():  # after a few chunks, while others are queued or running
            os.kill(pid, signal.SIGKILL)  # no goodbye: the scheduler finds out when the connection drops
            killed.set()

    try:
        results = run(job, POINTS, scheduler=cluster.scheduler_address, progress=progress)
    finally:
        client.close()
    assert killed.is_set()
    assert [point.args for point in results] == POINTS
    assert results == run(job, POINTS, processes=1)
    assert sum(done) == len(POINTS)


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(CnnCostError, match="cannot reach the Dask scheduler"):
        run(make_job("mobilenet_v1"), POINTS[:3], scheduler="tcp://127.0.0.1:9")


def test_sweep_command_on_the_cluster_prints_what_a_local_sweep_prints(cluster, cli):
    args = ("sweep", "mobilenet_v1", "--set", "alpha=0.25,0.5", "--set", "res=128,160,192", "--format", "csv")
    remote = cli(*args, "--scheduler", cluster.scheduler_address)
    assert remote.returncode == 0, remote.stderr[-500:]
    assert remote.stdout == cli(*args).stdout
