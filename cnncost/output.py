"""Writing reports to files: atomically (temp file + rename), never clobbering unless asked."""
from __future__ import annotations

import os
import tempfile

from cnncost.errors import CnnCostError, Location


def check_writable(path: str, force: bool, option: str = "--output") -> None:
    """Checked before any work, so a refused --output costs nothing and leaves nothing behind. `option` names the
    option that gave the path, for the message."""
    if os.path.isdir(path):
        raise CnnCostError(f"{option} is a directory", Location(path), "give a file name")
    if os.path.exists(path) and not os.path.isfile(path):  # renaming over /dev/null would replace the device
        raise CnnCostError(f"{option} is not a regular file", Location(path), "name a file; use shell redirection for devices and pipes")
    if os.path.exists(path) and not force:
        raise CnnCostError(f"{option} file already exists", Location(path), "pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CnnCostError(f"{option} folder does not exist", Location(folder))


def write_atomic(path: str, data: str | bytes, option: str = "--output") -> None:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".cnncost-", dir=folder)
    except OSError as exc:  # a read-only or special folder (/proc), no permission
        raise CnnCostError(f"cannot write {option}: {exc.strerror or exc}", Location(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _mode_for(path))
        os.replace(temp, path)
    except BaseException as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        if isinstance(exc, OSError):  # the disk filled up, the target became a directory, ...
            raise CnnCostError(f"cannot write {option}: {exc.strerror or exc}", Location(path)) from None
        raise


def _mode_for(path: str) -> int:
    """Keep an overwritten file's mode; give a new file the usual 0666 less the umask (mkstemp makes 0600)."""
    if os.path.exists(path):
        return os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
