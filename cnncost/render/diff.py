"""A Diff as tables for the terminal, Markdown for a pull-request comment, and JSON."""
from __future__ import annotations

from cnncost.render.strictjson import dumps

from cnncost import units
from cnncost.render.ci import human
from cnncost.render.views import Column, View

MARK = {"added": "+", "removed": "−", "changed": "~"}


def percent(total) -> str:
    if not total.delta:
        return "±0%"
    return "new" if total.ratio is None else f"{float(total.ratio * 100):+.1f}%"


def signed(fmt):
    return lambda n: "0" if n == 0 else ("+" if n > 0 else "−") + fmt(abs(n))


def totals_view(diff) -> View:
    columns = (
        Column("Metric", lambda t: t.key, numeric=False),
        Column("Old", lambda t: human(t.key, t.old)),
        Column("New", lambda t: human(t.key, t.new)),
        Column("Δ", lambda t: signed(lambda n: human(t.key, n))(t.delta)),
        Column("Δ %", percent),
    )
    same = diff.old.model == diff.new.model
    old, new = (diff.old.path, diff.new.path) if same else (diff.old.model, diff.new.model)
    title = f"cnncost diff: {old} → {new} (batch {diff.new.batch}, {diff.new.dtype})"
    return View(title, columns, diff.totals)


def layers_view(diff) -> View:
    columns = (
        Column("", lambda c: MARK[c.status], numeric=False),
        Column("Layer", lambda c: c.name, numeric=False),
        Column("Op", lambda c: _pair(c, lambda row: row.op), numeric=False, drop_order=2),
        Column("Output", lambda c: _pair(c, lambda row: units.shape(row.output_shape)), numeric=False, drop_order=1),
        Column("Params Δ", lambda c: signed(units.count)(c.delta("params"))),
        Column("MACs Δ", lambda c: signed(units.count)(c.delta("macs"))),
        Column("Memory Δ", lambda c: signed(units.size)(c.delta("activation_bytes"))),
    )
    counts = {status: sum(1 for c in diff.layers if c.status == status) for status in MARK}
    summary = f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed, {diff.unchanged} unchanged"
    return View(f"Layers: {summary}", columns, diff.layers, name_column=1)


def to_rich(diff, width: int | None = None):
    """Both tables fitted to a terminal `width`: the layers' shapes, then their ops, hide first."""
    from rich.console import Group

    from cnncost.render.table import to_rich as table

    return Group(table(totals_view(diff), width), table(layers_view(diff), width))


def to_markdown(diff) -> str:
    """For a pull-request comment: the totals, then the changed layers folded in a <details> block."""
    from cnncost.render.text import to_markdown as markdown

    layers = layers_view(diff)
    text = markdown(totals_view(diff))
    if not diff.layers:
        return text + "\nNo layer changed.\n"
    body = markdown(View("", layers.columns, layers.rows)).split("\n", 2)[2]  # without the empty heading
    return text + f"\n<details><summary>{layers.title}</summary>\n\n{body.rstrip()}\n\n</details>\n"


def to_json(diff) -> str:
    def row(layer):
        if layer is None:
            return None
        return {"op": layer.op, "output_shape": list(layer.output_shape), "params": layer.params, "macs": layer.macs, "activation_bytes": layer.activation_bytes}

    data = {
        "schema_version": 1,
        "old": {"model": diff.old.model, "path": diff.old.path},
        "new": {"model": diff.new.model, "path": diff.new.path},
        "batch": diff.new.batch,
        "dtype": diff.new.dtype,
        "totals": {
            t.key: {"old": t.old, "new": t.new, "delta": t.delta, "percent": None if t.ratio is None else float(t.ratio * 100)}
            for t in diff.totals
        },
        "layers": [{"name": c.name, "status": c.status, "old": row(c.old), "new": row(c.new)} for c in diff.layers],
        "unchanged_layers": diff.unchanged,
    }
    return dumps(data)


def _pair(change, read) -> str:
    before = read(change.old) if change.old else None
    after = read(change.new) if change.new else None
    if before is None or after is None or before == after:
        return after if after is not None else before
    return f"{before} → {after}"
