"""Points on a Dask cluster (`--scheduler ADDRESS`, extra `dask`): the same chunks, the same order, more machines.

Dask does the scheduling: a chunk whose worker dies is run again elsewhere, and each future yields one result,
so nothing is lost or counted twice. Results are gathered in submission order, so the output matches a local run.
"""
from __future__ import annotations

import uuid

from cnncost.errors import CnnCostError


def map_chunks(address: str, function, chunks: list, progress=None) -> list:
    """`function(chunk)` for every chunk on the cluster at `address`; a list of results in chunk order."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise CnnCostError("--scheduler needs dask.distributed, which is not installed", None, "pip install 'cnncost[dask]'") from None
    if not chunks:
        return []
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CnnCostError(f"cannot reach the Dask scheduler at {address!r} ({exc})", None, "check --scheduler ADDRESS, e.g. tcp://host:8786") from None
    run = uuid.uuid4().hex[:12]
    try:
        keys = [f"cnncost-{run}-{i}" for i in range(len(chunks))]
        futures = client.map(function, chunks, key=keys)  # a lost worker's chunks are rescheduled by Dask
        if progress:
            sizes = dict(zip(keys, map(len, chunks)))
            for future in as_completed(futures, loop=client.loop):
                if future.status == "finished":
                    progress(sizes[future.key])
        return client.gather(futures)
    finally:
        client.close()
