"""Work done once for figures that repeat (issue 15, item 5: a 100k-layer table in under 5 s).

The analysis keeps each (op, attributes, input shapes)'s figures, the spec keeps each layer's normalized settings,
and the renderers format each distinct value once. Each shortcut must give exactly what working every layer out
afresh gives: these tests compare the two, layer by layer, on bundled models that repeat blocks."""
import pytest

import cnncost
from cnncost.analysis import layer_row
from cnncost.errors import CnnCostError
from cnncost.graph import INPUT
from cnncost.receptive import input_field
from cnncost.render import views
from cnncost.render.table import to_plain

REPEATING = ["resnet50", "densenet121", "googlenet_aux", "convnext_tiny", "mobilenet_v3_large", "efficientnet_b0"]


def afresh(spec) -> list:
    """Every row worked out on its own: layer_row with no shared figures."""
    graph = spec.graph
    shapes, fields, rows = {INPUT: graph.input_shape}, {INPUT: input_field(len(graph.input_shape) - 1)}, []
    unused = set(graph.unused())
    for node in graph.nodes:
        row, fields[node.name] = layer_row(node, shapes, fields, 2, 4 * 2, graph.input_shape[1:], node.name in unused)
        shapes[node.name] = row.output_shape
        rows.append(row)
    return rows


@pytest.mark.parametrize("name", REPEATING)
def test_shared_figures_equal_figures_worked_out_afresh(name):
    spec = cnncost.load(name)
    report = cnncost.analyze(spec, batch=2)
    expected = afresh(spec)
    assert len({(row.op, row.input_shapes) for row in expected}) < len(expected), "the model repeats layers"
    for got, want in zip(report.layers, expected, strict=True):
        assert got == want
        assert got.attrs == want.attrs and got.receptive_field == want.receptive_field


def test_repeated_settings_are_checked_by_their_type_not_only_their_value():
    """`bias: 1` equals `bias: true` in Python; a layer that repeats the first's settings with the wrong type must
    still be refused, not handed the first layer's normalized settings."""
    text = "name: t\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 3, bias: true}\n  - conv2d: {out: 4, kernel: 3, bias: 1}\n"
    with pytest.raises(CnnCostError, match="'bias' must be true or false"):
        cnncost.load(text)


def test_each_layer_owns_its_settings():
    spec = cnncost.load("resnet50")
    convs = [node for node in spec.graph.nodes if node.op == "conv2d"]
    same = [(a, b) for a, b in zip(convs, convs[1:]) if a.attrs == b.attrs]
    assert same and all(a.attrs is not b.attrs for a, b in same)


@pytest.mark.parametrize("name", ["resnet50", "googlenet_aux", "unet"])
def test_cells_are_the_shown_text_of_each_row(name):
    report = cnncost.analyze(name)
    for view in (views.standard_view(report), views.standard_view(report, 2), views.lecture_view(report), views.kinds_view(report)):
        for column in view.columns:
            assert column.cells(view.rows) == [column.shown(row) for row in view.rows], column.header


def test_equal_values_of_other_types_are_formatted_apart():
    column = views.Column("n", lambda value: value, human=repr)
    assert column.cells([1, 1.0, True, 1, [2, 3], (2, 3), [2, 3]]) == ["1", "1.0", "True", "1", "[2, 3]", "(2, 3)", "[2, 3]"]


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("name", ["densenet121", "googlenet_aux"])
def test_plain_text_fitted_to_a_terminal(name, width):
    """What a terminal gets for a table too long for rich: every table line within the width, each row one line,
    names whole or shortened from the middle, every shown figure whole; prose wrapped between words."""
    view = views.standard_view(cnncost.analyze(name))
    lines = to_plain(view, width).splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    rows = lines[rule + 1: rule + 1 + len(view.rows)]
    assert all(len(line) <= width for line in lines)
    headers = lines[rule - 1]
    shown = [column for column in view.columns if column.shown_in_tables and column.header in headers]
    for row, line in zip(view.rows, rows):
        name_cell = line.split()[0]
        assert name_cell == row.name or ("…" in name_cell and row.name.startswith(name_cell.split("…")[0]))
        for column in shown:
            if column.numeric:
                assert column.shown(row) in line
    if width == 80:
        assert "FLOPs" not in headers and "hidden to fit 80 columns: Op, FLOPs, Receptive field" in " ".join(lines)
    if width == 160:
        assert "FLOPs" in headers and "hidden" not in "\n".join(lines)


def test_plain_text_without_a_width_keeps_every_column():
    view = views.standard_view(cnncost.analyze("densenet121"))
    text = to_plain(view)
    assert "hidden" not in text and all(column.header in text.splitlines()[2] for column in view.columns if column.shown_in_tables)
    assert max(map(len, text.splitlines()[: 4 + len(view.rows)])) > 100


def test_an_oversized_document_without_anchors_is_refused_where_the_alias_count_would_refuse_it(tmp_path):
    """A document without `&` has no anchors, so no aliases: the alias-bomb pre-count is skipped (0.9 s of a 100k-layer
    literal spec) and the converter's own count refuses it. A comment holding `&` makes no node but forces the
    pre-count: both must name the same node."""
    from cnncost.spec.yamlload import load_yaml

    body = "name: big\ninput: 3x8x8\nlayers:\n" + "  - [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2]\n" * 50_000
    messages = []
    for text in (body, "# a comment with & in it\n" + body):
        with pytest.raises(CnnCostError, match="more than 1,000,000 YAML nodes") as caught:
            load_yaml(text, "big.yaml")
        messages.append(str(caught.value))
    without, with_comment = messages
    line, column = without.split(":")[1:3]
    assert with_comment.replace(f"big.yaml:{int(line) + 1}:{column}", f"big.yaml:{line}:{column}") == without


class _Terminal:
    """A stdout that says it is a terminal, as a user's shell is."""

    def __init__(self):
        import io

        self.buffer, self.encoding = io.StringIO(), "utf-8"

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("rows", [10, 3000])
def test_a_terminal_gets_plain_text_fitted_to_it_only_for_long_tables(monkeypatch, rows):
    """rich draws up to RICH_ROWS rows (its box-drawing rule ━); longer tables print as plain text (a --- rule),
    fitted to the terminal's width all the same."""
    from cnncost.cli import output

    terminal = _Terminal()
    monkeypatch.setattr(output.sys, "stdout", terminal)
    monkeypatch.setattr(output, "terminal_width", lambda _: 80)
    monkeypatch.setattr(output, "emit_rich", lambda renderable, _: terminal.write(_rich_text(renderable)))
    text = "name: t\ninput: 8x4x4\nlayers:\n  - relu: {repeat: %d}\n" % rows
    output.emit_view(views.standard_view(cnncost.analyze(cnncost.load(text))), "table", None)
    lines = terminal.buffer.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("---") for line in lines) == (rows > output.RICH_ROWS)
    assert any("━" in line for line in lines) == (rows <= output.RICH_ROWS)


def _rich_text(renderable) -> str:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(renderable)
    return buffer.getvalue()
