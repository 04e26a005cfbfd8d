"""How much memory this process may still allocate: the smallest of the limits that apply to it.

MemAvailable alone is not enough: under `ulimit -v` (RLIMIT_AS) or a container's cgroup limit an allocation
fails long before the machine runs out, and numpy raises MemoryError half-way through a forward pass.
"""
from __future__ import annotations

import os
import resource

CGROUP_ROOT = "/sys/fs/cgroup"
UNLIMITED = 2**62  # cgroup v1 writes "no limit" as a page-rounded 2^63


def usable_memory(proc: str = "/proc", cgroup_root: str = CGROUP_ROOT) -> tuple[int, str]:
    """(bytes, what limits them): the smallest of MemAvailable, RLIMIT_AS less the address space in use, and the
    cgroup v2 `memory.max` or v1 `memory.limit_in_bytes` less its usage."""
    found = [(value, what) for value, what in (
        (_meminfo_available(proc), "available RAM"),
        (_address_space_left(proc), "ulimit -v"),
        (_cgroup_left(proc, cgroup_root), "the cgroup memory limit"),
    ) if value is not None]
    if not found:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "physical RAM"
    value, what = min(found)
    return max(value, 0), what


def _meminfo_available(proc: str) -> int | None:
    return _field(os.path.join(proc, "meminfo"), "MemAvailable:")


def _address_space_left(proc: str) -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    in_use = _field(os.path.join(proc, "self", "status"), "VmSize:") or 0
    return soft - in_use


def _cgroup_left(proc: str, root: str) -> int | None:
    """Each of this process's cgroups (v2, or v1's memory controller), read where it is mounted; a container
    sees its own cgroup at the mount's root, so that is tried too."""
    lefts = []
    for line in _lines(os.path.join(proc, "self", "cgroup")):
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2
            names, base = ("memory.max", "memory.current"), root
        elif "memory" in controllers.split(","):
            names, base = ("memory.limit_in_bytes", "memory.usage_in_bytes"), os.path.join(root, "memory")
        else:
            continue
        for folder in (os.path.join(base, path.lstrip("/")), base):
            limit, usage = (_number(os.path.join(folder, name)) for name in names)
            if limit is not None:
                if limit < UNLIMITED:
                    lefts.append(limit - (usage or 0))
                break
    return min(lefts, default=None)


def _field(path: str, key: str) -> int | None:
    """A `Key:   123 kB` line of a /proc file, in bytes."""
    for line in _lines(path):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return None


def _number(path: str) -> int | None:
    """A cgroup file holding a number or `max` (no limit)."""
    lines = _lines(path)
    if not lines:
        return None
    text = lines[0].strip()
    return UNLIMITED if text == "max" else int(text) if text.isdigit() else None


def _lines(path: str) -> list[str]:
    try:
        with open(path) as handle:
            return handle.read().splitlines()
    except OSError:
        return []
