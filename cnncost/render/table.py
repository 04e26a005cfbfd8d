"""Views as tables for people: rich on a terminal; plain aligned text when piped or written to a file.

The plain form is the same cells, measured once per cell: rich's Table measures and wraps every cell several
times, which made a 700-row table 2× slower than its JSON (benchmarks/summary_speed.py)."""
from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnncost.render.views import View


def to_rich(view: View, width: int | None = None):
    """A rich table; given the terminal's `width`, columns are dropped by their `drop_order` (FLOPs first, then
    the receptive field, then the op) and, only if still needed, names are shortened from the middle, so
    that every row stays one line and no number is cut or wrapped."""
    shown = fit_columns(view, width)
    names = _name_width(view, shown, width)
    table = Table(title=view.title, box=box.SIMPLE_HEAVY, show_footer=view.total_row is not None, title_justify="left")
    for i, column in shown:
        footer = ""
        if view.total_row is not None and view.total_row[i] != "":
            footer = column.human(view.total_row[i])
        table.add_column(column.header, justify="right" if column.numeric else "left", footer=footer, no_wrap=True)
    for row in view.rows:
        cells = [column.shown(row) for _, column in shown]
        table.add_row(_middle(cells[0], names), *cells[1:])
    parts = [table]
    dropped = [column.header for column in view.columns if column.shown_in_tables and column not in dict(shown).values()]
    if dropped:
        parts.append(Text(f"(hidden to fit {width} columns: {', '.join(dropped)}; widen the terminal or use --format csv)", style="dim"))
    for label, text in view.totals:
        parts.append(Text.assemble((f"{label}: ", "bold"), text))
    for note in view.notes:
        parts.append(Text(note, style="yellow" if note.startswith("⚠") else "dim"))
    return Group(*parts)


def _cell_widths(view: View, shown) -> list[int]:
    """Each shown column's widest cell (header, rows, footer): one pass over the cells, linear in the rows."""
    widths = []
    for i, column in shown:
        cells = [column.header, *(column.shown(row) for row in view.rows)]
        if view.total_row is not None and view.total_row[i] != "":
            cells.append(column.human(view.total_row[i]))
        widths.append(max(map(len, cells)))
    return widths


def _table_width(widths) -> int:
    return sum(widths) + 3 * len(widths) + 1  # SIMPLE_HEAVY: a space of padding each side of a cell, a divider between


def fit_columns(view: View, width: int | None) -> list:
    shown = [(i, column) for i, column in enumerate(view.columns) if column.shown_in_tables]
    if width is None:
        return shown
    for rank in sorted({column.drop_order for _, column in shown if column.drop_order}):
        if _table_width(_cell_widths(view, shown)) <= width:
            break
        shown = [(i, column) for i, column in shown if column.drop_order != rank]
    return shown


def _name_width(view: View, shown, width: int | None) -> int | None:
    if width is None:
        return None
    widths = _cell_widths(view, shown)
    over = _table_width(widths) - width
    return max(widths[0] - over, 8) if over > 0 else None


def _middle(text: str, limit: int | None) -> str:
    """`features.denseblock3.denselayer12.conv2` → `features.dens…layer12.conv2`: both ends stay readable."""
    if limit is None or len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep // 2] + "…" + text[len(text) - (keep - keep // 2):]


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
