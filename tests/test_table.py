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


def _rows_whole(lines: list[str], view, width: int, start: int = 0) -> int:
    """The table of `view` found at or after line `start`: one line per row, no line wider than `width`, and every
    shown figure whole on its row's line. Returns the line after the table."""
    from cnncost.render.table import fit_columns

    rule = next(i for i in range(start, len(lines)) if "━━━" in lines[i])
    rows = lines[rule + 1 : rule + 1 + len(view.rows)]
    assert all(len(line) <= width for line in lines[start : rule + 1 + len(view.rows)])
    assert rule + 1 + len(view.rows) == len(lines) or not lines[rule + 1 + len(view.rows)].strip(), "a row wrapped"
    shown = [c for _, c in fit_columns(view, width) if c.numeric]
    assert shown, "every width keeps some figures"
    for row, line in zip(view.rows, rows):
        for column in shown:
            assert column.shown(row) in line, (column.header, line)
    return rule + 1 + len(view.rows)


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("name", ["alexnet", "resnet50", "densenet121"])
def test_lecture_columns_fit(name, width):
    from cnncost.render.views import lecture_view

    view = lecture_view(cnncost.analyze(name))
    lines = render(view, width)
    _rows_whole(lines, view, width)
    if width == 80:  # the input columns repeat the row above's output: they hide first
        assert "hidden to fit 80 columns: Input C, Input H/W" in "\n".join(lines)


@pytest.mark.parametrize("width", [80, 100, 160])
def test_compare_of_many_models_fits(width):
    from cnncost.render.compare import metrics_view, to_rich as compare_table
    from cnncost.render.table import split_by_columns

    models = ("alexnet", "vgg16", "resnet50", "mobilenet_v2", "densenet121", "efficientnet_b0")
    comparison = cnncost.compare(*models)
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(compare_table(comparison, width))
    lines, at = buffer.getvalue().splitlines(), 0
    parts = split_by_columns(metrics_view(comparison), width)
    assert (len(parts) > 1) == (width < 160)
    for part in parts:
        at = _rows_whole(lines, part, width, at)
    headers = "\n".join(lines)
    assert all(model in headers for model in models)  # every model has its columns, in some part


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("old, new", [("vgg11", "vgg13"), ("densenet121", "densenet169")])
def test_diff_fits(old, new, width):
    from cnncost.render.diff import layers_view, to_rich as diff_table, totals_view

    result = cnncost.diff(old, new)
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(diff_table(result, width))
    lines = buffer.getvalue().splitlines()
    after_totals = _rows_whole(lines, totals_view(result), width)
    _rows_whole(lines, layers_view(result), width, after_totals)
