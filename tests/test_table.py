"""Tables readable at any width (issue 15, item 4): rendered at 80, 100 and 160 columns, every row stays one
line, no line is wider than the terminal, and no number is cut: columns drop by their stated priority
(FLOPs, then the receptive field, then the op) and names shorten from the middle only when they must."""
import io

import pytest
from rich.console import Console

import cnncost
from cnncost.render.table import to_rich
from cnncost.render.views import standard_view


def render(view, width: int) -> list[str]:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(to_rich(view, width))
    return buffer.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("name", ["alexnet", "densenet121", "mobilenet_v2"])
def test_no_cell_is_cut_or_wrapped(name, width):
    view = standard_view(cnncost.analyze(name))
    lines = render(view, width)
    rule = next(i for i, line in enumerate(lines) if "━━━" in line)
    rows = lines[rule + 1 : rule + 1 + len(view.rows)]
    assert all(len(line) <= width for line in lines[: rule + len(view.rows) + 3])
    numbers = [c for c in view.columns if c.numeric and c.shown_in_tables and c.header in lines[rule - 1]]
    assert numbers, "every width keeps some figures"
    for row, line in zip(view.rows, rows):
        assert line.split()[0] in (row.name, ) or "…" in line.split()[0]  # a whole name, or one shortened from the middle
        assert line.split()[0][:4] == row.name[:4]
        for column in numbers:
            assert column.shown(row) in line, (column.header, line)  # the number, whole, on the row's own line


def test_columns_drop_in_the_stated_order():
    view = standard_view(cnncost.analyze("densenet121"))
    headers_at = {width: render(view, width)[2] for width in (80, 160)}
    assert "FLOPs" in headers_at[160] and "Receptive field" in headers_at[160]
    assert "FLOPs" not in headers_at[80] and "Receptive field" not in headers_at[80] and "Params" in headers_at[80]
    assert "hidden to fit 80 columns: Op, FLOPs, Receptive field" in "\n".join(render(view, 80))
