"""cnncost from Python and notebooks (issue 15, item 9). Figures: torchvision's weights metadata."""
import pytest

import cnncost
from tests.conftest import ROOT

VGG11_PARAMS, VGG13_PARAMS = 132_863_336, 133_047_848  # VGG11_Weights / VGG13_Weights.IMAGENET1K_V1 num_params


def test_repr_is_one_short_line():
    text = repr(cnncost.analyze("vgg11"))
    assert "\n" not in text and len(text) < 200 and "vgg11" in text and f"{VGG11_PARAMS:,} params" in text


def test_notebook_shows_an_html_table_row_per_layer():
    report = cnncost.analyze("lenet5")
    html = report._repr_html_()
    assert html.count("<table>") == 1
    assert html.count("<tr>") == len(report.layers) + 2  # header, one per layer, totals
    assert "<script" not in html and "conv1" in html


def test_html_escapes_layer_names(tmp_path):
    report = cnncost.analyze(cnncost.load("name: t\ninput: 3x8x8\nlayers:\n  - relu: {name: '<b>x'}\n"))
    assert "&lt;b&gt;x" in report._repr_html_() and "<b>x" not in report._repr_html_()


def test_load_takes_text_a_path_or_a_name():
    text = (ROOT / "specs" / "lenet5.yaml").read_text()
    from_text, from_path, by_name = cnncost.load(text), cnncost.load(str(ROOT / "specs" / "lenet5.yaml")), cnncost.load("lenet5")
    assert from_text.name == from_path.name == by_name.name == "lenet5"
    assert [n.name for n in from_text.graph.nodes] == [n.name for n in by_name.graph.nodes]


def test_diff_from_python():
    result = cnncost.diff("vgg11", "vgg13")
    params = next(delta for delta in result.totals if delta.key == "params")
    assert (params.old, params.new) == (VGG11_PARAMS, VGG13_PARAMS)


def test_to_pandas_columns_are_the_json_keys():
    pandas = pytest.importorskip("pandas")
    report = cnncost.analyze("vgg11")
    frame = report.to_pandas()
    assert isinstance(frame, pandas.DataFrame) and list(frame.columns) == list(report.to_dict()["layers"][0])
    assert int(frame["params"].sum()) == VGG11_PARAMS
