"""Specs shipped inside the package, found by name (`alexnet`) from any directory."""
from __future__ import annotations

import difflib
import os
from pathlib import Path

from cnncost.errors import CnnCostError, Location


def bundled_dir() -> Path:
    """Installed: the `cnncost.specs` package data. From a checkout: the repository's `specs/`."""
    installed = Path(__file__).resolve().parent.parent / "specs"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "specs"


def bundled_names() -> list[str]:
    folder = bundled_dir()
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_source(source: str) -> str:
    """A path that exists wins; otherwise a bundled name; otherwise a clear error."""
    if os.path.exists(source):
        return source
    candidate = bundled_dir() / f"{source}.yaml"
    try:
        if "/" not in source and os.sep not in source and candidate.is_file():
            return str(candidate)
    except (OSError, ValueError):  # a name too long for the file system, or holding a NUL
        raise CnnCostError("no such file or bundled spec (the name is not a usable file name)", Location(source[:200])) from None
    if source.endswith((".yaml", ".yml")) or "/" in source or os.sep in source:
        raise CnnCostError("no such file", Location(source), "check the path, or run `cnncost list` for bundled specs")
    close = difflib.get_close_matches(source, bundled_names(), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "`cnncost list` shows the bundled specs"
    raise CnnCostError(f"{source!r} is neither a file nor a bundled spec", None, hint)
