"""Views as Markdown and CSV text; JSON straight from the report's dict."""
from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the JSON path must not pay for importing the views
    from cnncost.render.views import View


def to_json(report) -> str:
    """Compact, one document per line: json's C encoder only runs without indentation (pipe to `jq` to read)."""
    from cnncost.render.strictjson import dumps

    return dumps(report.to_dict(), compact=True)


def to_markdown(view: View) -> str:
    columns = [c for c in view.columns if c.shown_in_tables]
    lines = [f"### {' '.join(view.title.splitlines())}", ""]
    lines.append("| " + " | ".join(_md(c.header) for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
    for cells in zip(*(column.cells(view.rows) for column in columns)):
        lines.append("| " + " | ".join(map(_md, cells)) + " |")
    if view.total_row:
        cells = [f"**{_md(c.human(v))}**" if v != "" else "" for c, v in zip(view.columns, view.total_row) if c.shown_in_tables]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- **{label}:** {text}" for label, text in view.totals]
    lines += [f"> {note}" if i == 0 else f"- {note}" for i, note in enumerate(view.notes)]
    return "\n".join(lines).rstrip() + "\n"


def to_csv(view: View) -> str:
    """Raw values under the JSON keys' names; a list (a shape, a receptive field, warnings) is its JSON text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key or c.header for c in view.columns])
    for row in view.rows:
        writer.writerow([_csv_cell(c.value(row)) for c in view.columns])
    return buffer.getvalue()


def _csv_cell(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, (list, dict)) else value


def _md(text) -> str:
    """A table cell stays one cell: `|` escaped, line breaks (which would end the row) flattened to spaces."""
    return " ".join(str(text).replace("|", "\\|").splitlines())
