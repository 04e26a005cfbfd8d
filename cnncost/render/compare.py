"""A Comparison as views (table, Markdown, CSV), JSON, and terminal bars."""
from __future__ import annotations

from cnncost.render.strictjson import dumps

from cnncost import units
from cnncost.render.views import Column, View, conventions

BAR_METRICS = ("params", "macs", "peak_activation_bytes", "activation_bytes")
NOTE = (
    "Ratios are against the baseline; accuracy differences are in percentage points. "
    "Depth counts conv and linear layers; the receptive field is the last layer's, in input pixels."
)


def value_text(unit: str, value) -> str:
    if value is None or value == ():
        return "—"
    if unit == "count":
        return units.count(value)
    if unit == "bytes":
        return units.size(value)
    if unit == "seconds":
        return units.duration(value)
    if unit == "field":
        return str(value[0]) if len(set(value)) == 1 else "×".join(map(str, value))
    if unit == "percent":
        return f"{value:.2f}"
    return str(value)


def versus_text(unit: str, versus) -> str:
    if versus is None:
        return ""
    return f"{versus:+.2f} pt" if unit == "percent" else f"{versus:.2f}×"


def metrics_view(comparison) -> View:
    """Models as columns, metrics as rows; each figure followed by its ratio to the baseline."""

    def cell(i):
        def text(row):
            relative = versus_text(row.unit, row.versus[i])
            return value_text(row.unit, row.values[i]) + (f" ({relative})" if relative else "")

        return text

    columns = [Column("Metric", lambda row: row.label, numeric=False)]
    for i, model in enumerate(comparison.models):
        header = model + (" (baseline)" if i == comparison.baseline else "")
        columns.append(Column(header, cell(i)))
    return View(_title(comparison), tuple(columns), comparison.rows, (), (conventions(comparison.reports[0]), NOTE))


def to_rich(comparison, width: int | None = None):
    """The metrics table for a terminal `width`: with more models than fit, several tables of a few models each,
    every one with the metric names, so that no figure is cut or wrapped."""
    from rich.console import Group

    from cnncost.render.table import split_by_columns, to_rich as table

    view = metrics_view(comparison)
    parts = split_by_columns(view, width) if width else [view]
    return Group(*(table(part, width) for part in parts))


def csv_view(comparison) -> View:
    """Raw figures: one column per model, then one `model / baseline` column per other model."""
    raw = lambda i: lambda row: "" if row.values[i] is None else _raw(row.values[i])  # noqa: E731
    ratio = lambda i: lambda row: "" if row.versus[i] is None else round(row.versus[i], 6)  # noqa: E731
    base = comparison.models[comparison.baseline]
    columns = [Column("metric", lambda row: row.key, numeric=False)]
    columns += [Column(model, raw(i)) for i, model in enumerate(comparison.models)]
    columns += [Column(f"{model} vs {base}", ratio(i)) for i, model in enumerate(comparison.models) if i != comparison.baseline]
    return View(_title(comparison), tuple(columns), comparison.rows)


def to_json(comparison) -> str:
    models = []
    for i, (model, report) in enumerate(zip(comparison.models, comparison.reports)):
        models.append(
            {
                "name": model,
                "source": report.path,
                "metrics": {row.key: _json_value(row.values[i]) for row in comparison.rows},
                "versus_baseline": {row.key: row.versus[i] for row in comparison.rows if row.versus[i] is not None},
            }
        )
    first = comparison.reports[0]
    data = {
        "schema_version": 1,
        "batch": first.batch,
        "dtype": first.dtype,
        "baseline": comparison.models[comparison.baseline],
        "device": first.device,
        "metrics": [{"key": row.key, "label": row.label, "kind": row.unit, "unit": row.unit} for row in comparison.rows],
        "models": models,
    }
    return dumps(data)


def to_bars(comparison):
    """Per main metric, one bar per model scaled to the largest, with its figure and ratio."""
    from rich import box
    from rich.bar import Bar
    from rich.console import Group
    from rich.table import Table

    parts = []
    width = max(len(model) for model in comparison.models)
    for row in comparison.rows:
        if row.key not in BAR_METRICS:
            continue
        table = Table(title=row.label, title_justify="left", box=box.SIMPLE, show_header=False, pad_edge=False)
        table.add_column(min_width=width, no_wrap=True)
        table.add_column(width=40)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        largest = max(value for value in row.values if value is not None) or 1
        for i, model in enumerate(comparison.models):
            value = row.values[i] or 0
            relative = versus_text(row.unit, row.versus[i]) or "baseline"
            table.add_row(model, Bar(largest, 0, value, color="cyan"), value_text(row.unit, value), relative)
        parts.append(table)
    return Group(*parts)


def _title(comparison) -> str:
    first = comparison.reports[0]
    ranked = f"; ranked by estimated latency on {first.device}, fastest first" if first.device else ""
    return f"Comparison: batch {first.batch}, {first.dtype}; baseline {comparison.models[comparison.baseline]}{ranked}"


def _raw(value):
    return "x".join(map(str, value)) if isinstance(value, tuple) else value


def _json_value(value):
    return list(value) if isinstance(value, tuple) else value
