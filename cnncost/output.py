"""Writing reports to files: atomically (temp file + rename), never clobbering unless asked."""
from __future__ import annotations

import os
import tempfile

from cnncost.errors import CnnCostError, Location


def check_writable(path: str, force: bool) -> None:
    """Checked before any work, so a refused --output costs nothing and leaves nothing behind."""
    if os.path.isdir(path):
        raise CnnCostError("--output is a directory", Location(path), "give a file name")
    if os.path.exists(path) and not force:
        raise CnnCostError("--output file already exists", Location(path), "pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CnnCostError("--output folder does not exist", Location(folder))


def write_atomic(path: str, data: str | bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".cnncost-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
