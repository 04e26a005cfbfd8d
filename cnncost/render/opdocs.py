"""The op reference, generated from the registry so docs/ops.md can never drift from the code."""
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
    """Per op: its keys (`name*` required, `name=default` optional), then what it is, in one line."""
    lines = ["* = required key; others show their default", ""]
    for name, op in OPS.items():
        keys = ", ".join(f"{k.name}*" if k.default is REQUIRED else f"{k.name}={_plain(k.default)}" for k in op.keys)
        lines.append(f"{name:<22} {keys or '-'}")
        lines.append(f"{'':<22} {_first_sentence(op.doc)}")
    return "\n".join(lines) + "\n"


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def _plain(value) -> str:
    return str(value).lower() if isinstance(value, bool) or value is None else str(value)


def ops_markdown() -> str:
    lines = ["| op | keys (default) | what it is | FLOPs counted |", "|---|---|---|---|"]
    for name, op in OPS.items():
        keys = "<br>".join(f"{_key(k)}: {k.doc}" for k in op.keys) or "—"
        lines.append(f"| `{name}` | {keys} | {op.doc} | {op.flops_doc} |")
    return "\n".join(lines) + "\n"
