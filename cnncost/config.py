"""Project defaults for `cnncost check` from `[tool.cnncost]` in pyproject.toml, so CI and a developer's shell
run the same check without repeating flags. Flags given on the command line win."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cnncost.errors import CnnCostError, Location

ALLOWED = ("warning", "unused")


@dataclass(frozen=True)
class CheckDefaults:
    budgets: str | None = None  # path, resolved against the pyproject.toml's folder
    allow: tuple = ()
    strict: bool = False
    source: str | None = None  # the pyproject.toml they came from


KEYS = ("budgets", "allow", "strict")


def find_pyproject(start: str = ".") -> str | None:
    """The nearest pyproject.toml in `start` or a parent folder, as pytest and black look for theirs."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def check_defaults(path: str | None) -> CheckDefaults:
    """Read `[tool.cnncost]` from `path`; no file or no table means no defaults."""
    if path is None:
        return CheckDefaults()
    with open(path, "rb") as handle:
        raw = handle.read()
    if b"[tool.cnncost]" not in raw:
        return CheckDefaults()
    table = _parse(raw, path).get("tool", {}).get("cnncost", {})
    from cnncost.ops.base import unknown_key_message

    text = raw.decode("utf-8", "replace")
    for key in table:
        if key not in KEYS:
            raise CnnCostError(unknown_key_message(key, KEYS, "[tool.cnncost]"), _locate(text, path, key))
    budgets, allow, strict = table.get("budgets"), table.get("allow", []), table.get("strict", False)
    if budgets is not None and not isinstance(budgets, str):
        raise CnnCostError("[tool.cnncost] budgets must be a path (text)", _locate(text, path, "budgets"), 'e.g. budgets = "specs/budgets.yaml"')
    if not isinstance(allow, list) or any(item not in ALLOWED for item in allow):
        raise CnnCostError(f"[tool.cnncost] allow must be a list of {' or '.join(map(repr, ALLOWED))}, not {allow!r}", _locate(text, path, "allow"), 'e.g. allow = ["unused"]')
    if not isinstance(strict, bool):
        raise CnnCostError(f"[tool.cnncost] strict must be true or false, not {strict!r}", _locate(text, path, "strict"))
    folder = os.path.dirname(path)
    return CheckDefaults(os.path.join(folder, budgets) if budgets else None, tuple(allow), strict, path)


def _parse(raw: bytes, path: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise CnnCostError("reading [tool.cnncost] needs Python 3.11 or the tomli package", Location(path), "pip install tomli") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CnnCostError(f"cannot read pyproject.toml: {exc}", Location(path)) from None


def _locate(text: str, path: str, key: str) -> Location:
    """The line of `key = ...` inside the [tool.cnncost] table (tomllib keeps no positions)."""
    start = text.index("[tool.cnncost]")
    match = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=", re.M).search(text, start)
    if not match:
        return Location(path)
    return Location(path, text.count("\n", 0, match.start()) + 1, match.start() - text.rfind("\n", 0, match.start()))
