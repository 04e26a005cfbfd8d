"""A View as an HTML table, for Jupyter (Report._repr_html_): the terminal table's cells, escaped."""
from __future__ import annotations

from html import escape


def view_to_html(view) -> str:
    columns = [c for c in view.columns if c.shown_in_tables]
    align = lambda c: ' style="text-align:right"' if c.numeric else ' style="text-align:left"'  # noqa: E731
    head = "".join(f"<th{align(c)}>{escape(c.header)}</th>" for c in columns)
    rows = ["<tr>" + "".join(f"<td{align(c)}>{escape(c.shown(row))}</td>" for c in columns) + "</tr>" for row in view.rows]
    if view.total_row:
        cells = [c.human(v) if v != "" else "" for c, v in zip(view.columns, view.total_row) if c.shown_in_tables]
        rows.append("<tr>" + "".join(f"<th{align(c)}>{escape(str(v))}</th>" for c, v in zip(columns, cells)) + "</tr>")
    notes = "".join(f"<p><b>{escape(label)}:</b> {escape(text)}</p>" for label, text in view.totals)
    notes += "".join(f"<p><small>{escape(note)}</small></p>" for note in view.notes)
    return f"<div><p><b>{escape(view.title)}</b></p><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{notes}</div>"
