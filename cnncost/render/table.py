"""Views as tables for people: rich on a terminal; plain aligned text when piped or written to a file.

The plain form is the same cells, measured once per cell: rich's Table measures and wraps every cell several
times, which made a 700-row table 2× slower than its JSON (benchmarks/summary_speed.py)."""
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


def to_plain(view: View) -> str:
    """The table's cells in aligned columns, one line per row, nothing cut or wrapped."""
    columns = [column for column in view.columns if column.shown_in_tables]
    keep = [i for i, column in enumerate(view.columns) if column.shown_in_tables]
    body = [[column.shown(row) for column in columns] for row in view.rows]
    footer = None
    if view.total_row is not None:
        footer = [view.columns[i].human(view.total_row[i]) if view.total_row[i] != "" else "" for i in keep]
    lines_of_cells = [[column.header for column in columns], *body, *([footer] if footer else [])]
    widths = [max(len(cells[i]) for cells in lines_of_cells) for i in range(len(columns))]

    def line(cells) -> str:
        return "  ".join(cell.rjust(w) if c.numeric else cell.ljust(w) for cell, w, c in zip(cells, widths, columns)).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    out = [view.title, "", line([column.header for column in columns]), rule, *map(line, body)]
    if footer:
        out += [rule, line(footer)]
    out.append("")
    out += [f"{label}: {text}" for label, text in view.totals]
    out += list(view.notes)
    return "\n".join(out) + "\n"
