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
    the receptive field, then the op); if the table is still too wide with names at their shortest, headers stack
    onto two lines and cells lose their padding (`compact`); only then are names shortened from the middle, so
    that every row stays one line and no number is cut or wrapped."""
    cells = view_cells(view)
    shown = fit_columns(view, width, cells)
    compact = width is not None and _table_width(_cell_widths(view, shown, shortest_name=True, cells=cells), False) > width
    names = _name_width(view, shown, width, compact, cells)
    table = Table(title=view.title, box=box.SIMPLE_HEAVY, show_footer=view.total_row is not None, title_justify="left",
                  padding=(0, 0) if compact else (0, 1))
    for i, column in shown:
        footer = ""
        if view.total_row is not None and view.total_row[i] != "":
            footer = column.human(view.total_row[i])
        header = _stacked(column.header) if compact else column.header
        table.add_column(header, justify="right" if column.numeric else "left", footer=footer, no_wrap=True)
    for row in zip(*_fitted_cells(view, shown, cells, names)):
        table.add_row(*row)
    parts = [table]
    hidden = _hidden_note(view, shown, width)
    if hidden:
        parts.append(Text(hidden, style="dim"))
    for label, text in view.totals:
        parts.append(Text.assemble((f"{label}: ", "bold"), text))
    for note in view.notes:
        parts.append(Text(note, style="yellow" if note.startswith("⚠") else "dim"))
    return Group(*parts)


def split_by_columns(view: View, width: int) -> list[View]:
    """A view too wide for `width` as several tables, each repeating the first column (the row labels) with as many
    of the other columns as fit, in order; the title heads the first, the notes follow the last."""
    from dataclasses import replace

    shown = fit_columns(replace(view, columns=tuple(replace(c, drop_order=0) for c in view.columns)), None)
    label, rest = shown[0], shown[1:]
    widths = dict(zip((i for i, _ in shown), _cell_widths(view, shown)))
    parts, current = [], []
    for i, column in rest:
        if current and _table_width([widths[label[0]], *(widths[j] for j, _ in current), widths[i]]) > width:
            parts.append(current)
            current = []
        current.append((i, column))
    parts.append(current)

    def part(k, columns):
        picked = [label[0], *(i for i, _ in columns)]
        title = view.title if k == 0 else f"(continued, {k + 1} of {len(parts)})"
        return View(title, tuple(view.columns[i] for i in picked), view.rows,
                    view.totals if k == len(parts) - 1 else (), view.notes if k == len(parts) - 1 else (),
                    None if view.total_row is None else tuple(view.total_row[i] for i in picked))

    return [part(k, columns) for k, columns in enumerate(parts)]


def _stacked(header: str) -> str:
    """`Output H/W` → `Output` over `H/W`: a header as wide as its longest word (two lines at most)."""
    words = header.split(" ")
    if len(words) < 2:
        return header
    cut = min(range(1, len(words)), key=lambda k: max(len(" ".join(words[:k])), len(" ".join(words[k:]))))
    return " ".join(words[:cut]) + "\n" + " ".join(words[cut:])


def view_cells(view: View) -> dict[int, list[str]]:
    """Every table column's cells, formatted once for all the width questions asked of them."""
    return {i: column.cells(view.rows) for i, column in enumerate(view.columns) if column.shown_in_tables}


def _cell_widths(view: View, shown, shortest_name: bool = False, compact: bool = False, cells: dict | None = None) -> list[int]:
    """Each shown column's widest cell (header, rows, footer): one pass over the cells, linear in the rows."""
    widths = []
    for i, column in shown:
        header = _stacked(column.header) if compact else column.header
        widest = max(len(line) for line in header.split("\n"))
        widest = max(widest, max(map(len, cells[i] if cells else column.cells(view.rows)), default=0))
        if view.total_row is not None and view.total_row[i] != "":
            widest = max(widest, len(column.human(view.total_row[i])))
        widths.append(min(widest, NAME_MIN) if shortest_name and i == view.name_column else widest)
    return widths


NAME_MIN = 8  # names are never shortened below this


def _table_width(widths, compact: bool = False) -> int:
    # SIMPLE_HEAVY: a space at each edge and between cells, plus (unless compact) a space of padding each side of a cell
    return sum(widths) + (1 if compact else 3) * len(widths) + 1


def fit_columns(view: View, width: int | None, cells: dict | None = None) -> list:
    shown = [(i, column) for i, column in enumerate(view.columns) if column.shown_in_tables]
    if width is None:
        return shown
    for rank in sorted({column.drop_order for _, column in shown if column.drop_order}):
        if _table_width(_cell_widths(view, shown, cells=cells)) <= width:
            break
        shown = [(i, column) for i, column in shown if column.drop_order != rank]
    return shown


def _name_width(view: View, shown, width: int | None, compact: bool = False, cells: dict | None = None) -> int | None:
    if width is None or view.name_column not in dict(shown):
        return None
    widths = _cell_widths(view, shown, compact=compact, cells=cells)
    over = _table_width(widths, compact) - width
    name = widths[[i for i, _ in shown].index(view.name_column)]
    return max(name - over, NAME_MIN) if over > 0 else None


def _fitted_cells(view: View, shown, cells: dict, names: int | None) -> list[list[str]]:
    """The shown columns' cells, by column, with the names shortened from the middle to `names` characters."""
    by_column = [cells[i] for i, _ in shown]
    if names is not None:
        at = [i for i, _ in shown].index(view.name_column)
        by_column[at] = [_middle(name, names) for name in by_column[at]]
    return by_column


def _hidden_note(view: View, shown, width: int | None) -> str | None:
    """Which columns a narrow terminal hid, and how to see them."""
    kept = [column for _, column in shown]
    dropped = [column.header for column in view.columns if column.shown_in_tables and column not in kept]
    return f"(hidden to fit {width} columns: {', '.join(dropped)}; widen the terminal or use --format csv)" if dropped else None


def _middle(text: str, limit: int | None) -> str:
    """`features.denseblock3.denselayer12.conv2` → `features.dens…layer12.conv2`: both ends stay readable."""
    if limit is None or len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep // 2] + "…" + text[len(text) - (keep - keep // 2):]


def to_plain(view: View, width: int | None = None) -> str:
    """The table's cells in aligned columns, one line per row, nothing cut or wrapped. Given a terminal's `width`,
    columns drop and names shorten by the same rules as `to_rich`."""
    cells = view_cells(view)
    shown = fit_columns(view, width, cells)
    columns = [column for _, column in shown]
    body = _fitted_cells(view, shown, cells, _name_width(view, shown, width, cells=cells))  # by column: each width is one max()
    footer = None
    if view.total_row is not None:
        footer = [column.human(view.total_row[i]) if view.total_row[i] != "" else "" for i, column in shown]
    headers = [column.header for column in columns]
    widths = [max(len(header), max(map(len, column_cells), default=0), len(footer[k]) if footer else 0)
              for k, (header, column_cells) in enumerate(zip(headers, body))]

    def padded(column_cells, k) -> list[str]:  # column by column: one str method call per cell, no per-line format parsing
        cell_width, pad = widths[k], str.rjust if columns[k].numeric else str.ljust
        return [pad(cell, cell_width) for cell in column_cells]

    def lines(by_column) -> list[str]:
        return ["  ".join(row).rstrip() for row in zip(*(padded(column_cells, k) for k, column_cells in enumerate(by_column)))]

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    out = [view.title, "", *lines([[h] for h in headers]), rule, *lines(body)]
    if footer:
        out += [rule, *lines([[cell] for cell in footer])]
    out.append("")
    hidden = _hidden_note(view, shown, width)
    prose = ([hidden] if hidden else []) + [f"{label}: {text}" for label, text in view.totals] + list(view.notes)
    if width:  # on a terminal, wrapped between words as rich wraps them
        import textwrap

        prose = [textwrap.fill(text, width, break_on_hyphens=False) for text in prose]
    out += prose
    return "\n".join(out) + "\n"
