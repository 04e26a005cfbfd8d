"""Views as rich tables for the terminal (the only renderer that imports rich)."""
from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnncost.render.views import View


def to_rich(view: View):
    table = Table(title=view.title, box=box.SIMPLE_HEAVY, show_footer=view.total_row is not None, title_justify="left")
    shown = [(i, column) for i, column in enumerate(view.columns) if column.shown_in_tables]
    for i, column in shown:
        footer = ""
        if view.total_row is not None and view.total_row[i] != "":
            footer = column.human(view.total_row[i])
        table.add_column(column.header, justify="right" if column.numeric else "left", footer=footer, no_wrap=i == 0)
    for row in view.rows:
        table.add_row(*[column.shown(row) for _, column in shown])
    parts = [table]
    for label, text in view.totals:
        parts.append(Text.assemble((f"{label}: ", "bold"), text))
    for note in view.notes:
        parts.append(Text(note, style="yellow" if note.startswith("⚠") else "dim"))
    return Group(*parts)
