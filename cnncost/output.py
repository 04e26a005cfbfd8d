"""Writing reports to files: atomically (temp file + rename), never clobbering unless asked.

The no-clobber rule holds at the moment the file appears, not only when the run starts: without --force the
finished temp file is hard-linked to the target name, which fails if anything (a file, a dangling symlink)
took that name meanwhile; with --force it is renamed over it. SIGTERM, SIGHUP and SIGINT remove the temp file.
"""
from __future__ import annotations

import errno
import os
import signal
import tempfile
from contextlib import contextmanager

from cnncost.errors import CnnCostError, Location


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP while writing: unwinds like Ctrl-C so the temp file is removed, then exits 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def check_writable(path: str, force: bool, option: str = "--output") -> None:
    """Checked before any work, so a refused --output costs nothing and leaves nothing behind. `option` names the
    option that gave the path, for the message."""
    if os.path.isdir(path):
        raise CnnCostError(f"{option} is a directory", Location(path), "give a file name")
    if os.path.exists(path) and not os.path.isfile(path):  # renaming over /dev/null would replace the device
        raise CnnCostError(f"{option} is not a regular file", Location(path), "name a file; use shell redirection for devices and pipes")
    if os.path.lexists(path) and not force:  # lexists: a dangling symlink is there too
        raise CnnCostError(f"{option} file already exists", Location(path), "pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CnnCostError(f"{option} folder does not exist", Location(folder))


def write_atomic(path: str, data: str | bytes, force: bool = False, option: str = "--output") -> None:
    folder = os.path.dirname(os.path.abspath(path))
    with _signals_unwind():
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
            if force:
                os.replace(temp, path)
            else:
                _publish_new(temp, path)
        except BaseException as exc:
            if os.path.exists(temp):
                os.unlink(temp)
            if isinstance(exc, FileExistsError):
                raise CnnCostError(f"{option} file appeared while cnncost ran; it was left as it is", Location(path), "pass --force to overwrite it") from None
            if isinstance(exc, OSError):  # the disk filled up, the target became a directory, ...
                raise CnnCostError(f"cannot write {option}: {exc.strerror or exc}", Location(path)) from None
            raise


def _publish_new(temp: str, path: str) -> None:
    """Give the finished temp file the target name only if that name is free, atomically."""
    try:
        os.link(temp, path)  # fails with EEXIST on any entry, dangling symlinks included
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK):
            raise
        # no hard links here (FAT, some network file systems): an exclusive create is still no-clobber
        with open(path, "xb") as target, open(temp, "rb") as source:
            target.write(source.read())
    os.unlink(temp)


@contextmanager
def _signals_unwind():
    """While a temp file may exist, SIGTERM and SIGHUP unwind the stack (as SIGINT already does)."""

    def unwind(signum, frame):
        raise Terminated(signum)

    previous = {}
    try:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, unwind)
    except ValueError:  # not the main thread: signals cannot be handled here
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _mode_for(path: str) -> int:
    """Keep an overwritten file's mode; give a new file the usual 0666 less the umask (mkstemp makes 0600)."""
    if os.path.exists(path):
        return os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
