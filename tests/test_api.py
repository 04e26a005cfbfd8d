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


def test_verify_from_python_passes_and_counts_what_ran():
    """LeNet-5 (lecture notes; LeCun et al. 1998 as bundled): the numpy run executes the analysis' MACs."""
    result = cnncost.verify("lenet5", batch=2)
    assert result.passed and result.failures == [] and result.batch == 2
    assert result.macs == cnncost.analyze("lenet5", batch=2).totals.macs


def test_verify_stays_callable_after_its_module_is_imported():
    """Importing cnncost.verify (the module) replaces the package attribute; calls must still reach the API."""
    import importlib

    importlib.import_module("cnncost.verify")
    import cnncost.compare  # noqa: F401

    assert cnncost.verify("lenet5").passed
    assert cnncost.compare("vgg11", "vgg13").models == ("vgg11", "vgg13")


def test_compare_from_python_rows_and_ratios():
    comparison = cnncost.compare("vgg11", "vgg13")
    params = next(row for row in comparison.rows if row.key == "params")
    assert params.values == (VGG11_PARAMS, VGG13_PARAMS)
    assert params.versus[0] is None and params.versus[1] == VGG13_PARAMS / VGG11_PARAMS


def test_compare_needs_two_models():
    with pytest.raises(cnncost.CnnCostError, match="at least two"):
        cnncost.compare("vgg11")


def test_public_api_is_typed_and_listed():
    import inspect

    for name in ("analyze", "load", "diff", "verify", "compare"):
        assert name in cnncost.__all__
        signature = inspect.signature(getattr(cnncost, name))
        assert signature.return_annotation is not inspect.Signature.empty
        assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values())
