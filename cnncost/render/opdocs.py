"""The op reference, generated from the registry so the README can never drift from the code."""
from __future__ import annotations

from cnncost.ops import OPS
from cnncost.ops.base import REQUIRED


def _key(key) -> str:
    if key.default is REQUIRED:
        return f"`{key.name}` (required)"
    default = key.default
    shown = "—" if default is None else str(default).lower() if isinstance(default, bool) else str(default)
    return f"`{key.name}`={shown}"


def ops_text() -> str:
    lines = []
    for name, op in OPS.items():
        keys = ", ".join(k.name if k.default is REQUIRED else f"{k.name}={_plain(k.default)}" for k in op.keys)
        lines.append(f"{name:<22} {keys or '-'}")
    return "\n".join(lines) + "\n"


def _plain(value) -> str:
    return str(value).lower() if isinstance(value, bool) or value is None else str(value)


def ops_markdown() -> str:
    lines = ["| op | keys (default) | what it is | FLOPs counted |", "|---|---|---|---|"]
    for name, op in OPS.items():
        keys = "<br>".join(f"{_key(k)}: {k.doc}" for k in op.keys) or "—"
        lines.append(f"| `{name}` | {keys} | {op.doc} | {op.flops_doc} |")
    return "\n".join(lines) + "\n"
