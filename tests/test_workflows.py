"""`cnncost check`, `compare`, `diff` and `schema` as a user and a CI job run them.

Every expected number is worked out by hand here or cited; none is read back from cnncost.
Commands run in-process (cnncost.cli.main) to keep the file fast.
"""
import csv
import io
import json
import re
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
import yaml

from tests.conftest import ROOT

# conv 3→8, 3×3, padding 1, on 3×8×8, then relu. By hand:
#   params = 8·3·3·3 + 8 (bias) = 224;  MACs = 8·8·8 outputs · 3·3·3 = 13,824
#   float32 bytes: input 3·64·4 = 768, conv and relu outputs 8·64·4 = 2,048 each;
#   peak while relu runs = conv out + relu out = 4,096 (the input is freed after conv)
TINY = """\
name: tiny
input: 3x8x8
budget:
  params: {params}
  macs: 13824
layers:
  - conv2d: {{name: conv, out: 8, kernel: 3, padding: 1}}
  - relu
"""
TINY_PARAMS, TINY_MACS, TINY_PEAK = 224, 13_824, 4_096


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys):
    def call(*args) -> Result:
        from cnncost.cli import main

        with pytest.raises(SystemExit) as exit_info:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(exit_info.value.code, captured.out, captured.err)

    return call


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Work in a fresh folder, so spec paths in messages and annotations are short and relative."""
    monkeypatch.chdir(tmp_path)

    def write(name: str, text: str) -> str:
        (tmp_path / name).write_text(text)
        return name

    return write


def tiny(params=TINY_PARAMS) -> str:
    return TINY.format(params=params)


# -- check: budgets from the spec, a budgets file and the command line ---------------------------------


def test_check_passes_at_exactly_the_budget(run, here):
    result = run("check", here("net.yaml", tiny(params=224)))
    assert result.code == 0, result
    assert "PASS" in result.out and "tiny" in result.out


def test_check_fails_one_over_the_budget(run, here):
    result = run("check", here("net.yaml", tiny(params=223)))
    assert result.code == 1
    assert "FAIL" in result.out
    assert "224 > 223" in result.out and "net.yaml:4:3" in result.out


def test_budget_values_take_units(run, here):
    here("net.yaml", tiny(params="0.224k"))  # 0.224 × 10³ = 224
    assert run("check", "net.yaml").code == 0
    assert run("check", "net.yaml", "--max-peak-activation-bytes", "4KiB").code == 0  # 4 × 1024 = 4,096
    assert run("check", "net.yaml", "--max-peak-activation-bytes", "4095").code == 1


def test_budgets_file_matches_names_and_paths(run, here):
    here("net.yaml", tiny())
    here("tight.yaml", '"tin*":\n  macs: 13k\n')  # 13,000 < 13,824
    here("by_path.yaml", '"*net.yaml":\n  macs: 13k\n')
    here("other.yaml", "resnet*:\n  macs: 1k\n")
    failed = run("check", "net.yaml", "--budgets", "tight.yaml")
    assert failed.code == 1 and "13,824 > 13,000" in failed.out and "budgets file" in failed.out
    assert run("check", "net.yaml", "--budgets", "by_path.yaml").code == 1
    assert run("check", "net.yaml", "--budgets", "other.yaml").code == 0


def test_command_line_limits(run, here):
    here("net.yaml", tiny())
    assert run("check", "net.yaml", "--max-macs", "13824", "--max-flops", "1M").code == 0
    result = run("check", "net.yaml", "--max-params", "200")
    assert result.code == 1 and "on the command line" in result.out


def test_the_tighter_of_two_limits_counts(run, here):
    here("net.yaml", tiny(params=300))
    data = json.loads(run("check", "net.yaml", "--max-params", "200", "--format", "json").out)
    (params,) = [b for b in data["specs"][0]["budgets"] if b["metric"] == "params"]
    assert params["limit"] == 200 and params["origin"] == "command line" and params["actual"] == TINY_PARAMS
    data = json.loads(run("check", "net.yaml", "--max-params", "1M", "--format", "json").out)
    (params,) = [b for b in data["specs"][0]["budgets"] if b["metric"] == "params"]
    assert params["limit"] == 300 and params["origin"] == "spec" and params["passed"]


def test_per_layer_limit_names_the_layer(run, here):
    here("net.yaml", tiny())
    result = run("check", "net.yaml", "--max-layer-macs", "10k")
    assert result.code == 1
    assert "1 layer(s) over it: conv" in result.out


def test_vgg16_params_against_torchvision(run):
    # torchvision VGG16_Weights.IMAGENET1K_V1: num_params 138,357,544
    assert run("check", "vgg16", "--max-params", "138357544").code == 0
    assert run("check", "vgg16", "--max-params", "138357543").code == 1


# -- check: what else fails, and exit codes ------------------------------------------------------------


def test_stride_warning_is_shown_and_fails_only_with_strict(run, here):
    # 3×3 stride 2 on 8 rows, no padding: out = ⌊(8 − 3)/2⌋ + 1 = 3 windows reading rows 0..6; row 7 unread
    here("net.yaml", "name: s\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 3, stride: 2}\n")
    result = run("check", "net.yaml")
    assert result.code == 0 and "net.yaml:4:5" in result.out and "unread" in result.out and "--strict" in result.out
    strict = run("check", "net.yaml", "--strict")
    assert strict.code == 1 and "net.yaml:4:5" in strict.out
    assert run("check", "net.yaml", "--strict", "--allow", "warning").code == 0
    assert "unread" not in run("check", "net.yaml", "--allow", "warning").out


@pytest.mark.parametrize("name", ["alexnet", "squeezenet1_0", "squeezenet1_1"])
def test_bundled_specs_with_warnings_pass_check_on_day_one(run, name):
    # each has a 3-wide window at stride 2 whose floor rule leaves one row unread, as in its paper/torchvision
    assert run("check", name).code == 0


def test_a_pool_warning_says_how_to_silence_it_and_that_remedy_works(run, here):
    # max pool 3, stride 2 on 8 rows: ⌊(8 − 3)/2⌋ + 1 = 3 windows read rows 0..6, row 7 unread;
    # with ceil_mode: ⌈(8 − 3)/2⌉ + 1 = 4 windows, the last one starting at row 6 reads row 7
    pool = "name: p\ninput: 3x8x8\nlayers:\n  - maxpool2d: {{kernel: 3, stride: 2{extra}}}\n"
    here("net.yaml", pool.format(extra=""))
    warned = run("check", "net.yaml")
    assert "ceil_mode: true" in warned.out
    here("fixed.yaml", pool.format(extra=", ceil_mode: true"))
    assert "unread" not in run("check", "fixed.yaml", "--strict").out
    assert run("check", "fixed.yaml", "--strict").code == 0


def test_check_folder_skips_a_budgets_file_with_a_note(run, here):
    here("net.yaml", tiny())
    here("budgets.yaml", "tiny: {params: 1k}\n")
    result = run("check", ".", "--budgets", "budgets.yaml")
    assert result.code == 0, result
    assert "budgets.yaml: skipped, not a spec" in result.err and "1 spec(s)" in result.out


def test_a_misspelled_spec_in_a_folder_is_still_checked(run, here):
    here("net.yaml", "name: x\ninput: 3x8x8\nlayer:\n  - relu\n")
    result = run("check", ".")
    assert result.code == 2 and "skipped" not in result.err


def test_junit_file_beside_github_annotations(run, here):
    here("net.yaml", tiny(params=100))
    result = run("check", "net.yaml", "--format", "github", "--junit-xml", "report.xml")
    assert result.code == 1 and result.out.startswith("::error file=net.yaml")
    suite = ET.parse("report.xml").getroot()
    assert suite.get("failures") == "1" and suite.get("tests") == "3"  # valid, params <= 100, macs <= 13824


def test_missing_budgets_file_is_one_line_exit_2(run, here):
    result = run("check", "lenet5", "--budgets", "nope.yaml")
    assert result.code == 2 and result.err.count("\n") == 1 and "nope.yaml: error: budgets file not found" in result.err


def test_pyproject_holds_check_defaults(run, here):
    here("net.yaml", "name: s\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 3, stride: 2}\n")
    here("budgets.yaml", "s: {params: 1}\n")  # params = 4·3·3·3 + 4 = 112 > 1
    here("pyproject.toml", "[project]\nname = 'x'\n\n[tool.cnncost]\nstrict = true\n")
    assert run("check", "net.yaml").code == 1
    assert run("check", "net.yaml", "--no-strict").code == 0
    here("pyproject.toml", "[tool.cnncost]\nbudgets = 'budgets.yaml'\n")
    assert "params budget 1 (in the budgets file) exceeded: 112 > 1" in run("check", "net.yaml").out


def test_pyproject_unknown_key_is_an_error_with_its_line(run, here):
    here("pyproject.toml", "[tool.cnncost]\nstrict = true\nbudget = 'b.yaml'\n")
    result = run("check", "lenet5")
    assert result.code == 2 and "pyproject.toml:3:1: error: unknown key 'budget'" in result.err and "did you mean 'budgets'" in result.err


def test_unreachable_layer_fails(run, here):
    here("net.yaml", "name: d\ninput: 3x8x8\nlayers:\n  - conv2d: {name: dead, out: 4, kernel: 1}\n  - relu: {inputs: input}\n")
    result = run("check", "net.yaml")
    assert result.code == 1 and "never reach the output: dead" in result.out
    assert run("check", "net.yaml", "--allow", "unused").code == 0


def test_a_broken_spec_does_not_stop_the_others(run, here):
    here("good.yaml", tiny())
    here("broken.yaml", "name: b\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 3, strid: 2}\n")
    result = run("check", "good.yaml", "broken.yaml", "lenet5", "--format", "json")
    assert result.code == 2
    statuses = {spec["source"]: spec["status"] for spec in json.loads(result.out)["specs"]}
    assert statuses == {"good.yaml": "pass", "broken.yaml": "error", "lenet5": "pass"}
    text = run("check", "good.yaml", "broken.yaml", "lenet5")
    assert text.code == 2 and "broken.yaml:4:" in text.out and "did you mean 'stride'" in text.out
    assert "lenet5" in text.out and "1 invalid" in text.out


def test_worst_exit_code_wins(run, here):
    here("over.yaml", tiny(params=1))
    here("missing_layers.yaml", "name: m\ninput: 3x8x8\n")
    assert run("check", "over.yaml").code == 1
    assert run("check", "over.yaml", "missing_layers.yaml").code == 2


def test_unknown_budget_key_suggests_the_nearest(run, here):
    here("net.yaml", "name: t\ninput: 3x8x8\nbudget:\n  params: 1M\n  parms: 3\nlayers:\n  - relu\n")
    result = run("check", "net.yaml")
    assert result.code == 2
    assert "net.yaml:5:3" in result.out and "unknown key 'parms'" in result.out and "did you mean 'params'" in result.out
    here("budgets.yaml", "tiny:\n  peak_activation: 1MiB\n")
    here("ok.yaml", tiny())
    bad_file = run("check", "ok.yaml", "--budgets", "budgets.yaml")
    assert bad_file.code == 2 and bad_file.out == ""
    assert "budgets.yaml:2:3" in bad_file.err and "did you mean 'peak_activation_bytes'" in bad_file.err


def test_unreadable_limits_are_exit_2(run, here):
    here("net.yaml", tiny())
    result = run("check", "net.yaml", "--max-params", "5 apples")
    assert result.code == 2 and "5 apples" in result.err and "Traceback" not in result.err


def test_globs_and_folders(run, here):
    here("a.yaml", tiny())
    here("b.yml", tiny().replace("name: tiny", "name: tiny_b"))
    by_glob = run("check", "*.y*ml", "--format", "json")
    assert [s["model"] for s in json.loads(by_glob.out)["specs"]] == ["tiny", "tiny_b"]
    by_folder = run("check", ".", "--format", "json")
    assert len(json.loads(by_folder.out)["specs"]) == 2


def test_glob_matching_nothing_is_exit_2(run, here):
    result = run("check", "models/*.yaml")
    assert result.code == 2 and "no file matches 'models/*.yaml'" in result.err and result.out == ""


# -- check: CI formats ---------------------------------------------------------------------------------------


def test_github_annotation_points_at_the_budget_line(run, here):
    here("net.yaml", tiny(params=100))
    result = run("check", "net.yaml", "--format", "github")
    assert result.code == 1
    (annotation,) = [line for line in result.out.splitlines() if line.startswith("::error")]
    # `params: 100` is line 4, its key in column 3; '%' in the message is escaped as %25
    assert annotation.startswith("::error file=net.yaml,line=4,col=3,title=cnncost::tiny: params budget 100")
    assert "224.0%25 used" in annotation


def test_github_annotation_for_a_shape_error_points_at_the_layer(run, here):
    here("net.yaml", "name: k\ninput: 3x8x8\nlayers:\n  - relu\n  - conv2d: {out: 4, kernel: 30}\n")
    result = run("check", "net.yaml", "--format", "github")
    assert result.code == 2
    assert re.search(r"^::error file=net\.yaml,line=5,col=\d+,title=cnncost::k: layer 'conv2d_1'", result.out, re.M)


def test_github_escapes_property_values():
    from cnncost.render.ci import _escape_data, _escape_property

    assert _escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    assert _escape_data("a:b,c%d\r\n") == "a:b,c%25d%0D%0A"


def test_junit_counts(run, here):
    here("net.yaml", tiny(params=100))  # 2 budgets: params fails, macs passes
    here("broken.yaml", "name: b\ninput: 3x8x8\nlayers:\n  - nope\n")
    result = run("check", "net.yaml", "broken.yaml", "lenet5", "--format", "junit")
    assert result.code == 2
    root = ET.fromstring(result.out)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    # net: valid + 2 budgets; broken: valid; lenet5: valid
    assert len(cases) == 5 and suite.get("tests") == "5"
    assert suite.get("failures") == root.get("failures") == "1" and suite.get("errors") == "1"
    (failure,) = suite.iter("failure")
    assert "params budget 100" in failure.get("message") and "net.yaml:4:3" in failure.text
    (error,) = suite.iter("error")
    assert "unknown op or block 'nope'" in error.get("message")


def test_junit_stays_well_formed_with_odd_names(run, here):
    here("net.yaml", 'name: "a<b>&"\ninput: 3x8x8\nbudget: {params: 1}\nlayers:\n  - conv2d: {out: 2, kernel: 1}\n')
    root = ET.fromstring(run("check", "net.yaml", "--format", "junit").out)
    assert root.find("testsuite/testcase").get("classname").startswith("a<b>&")


def test_output_file_is_atomic_and_not_clobbered(run, here, tmp_path):
    here("net.yaml", tiny())
    assert run("check", "net.yaml", "--format", "junit", "-o", "report.xml").code == 0
    ET.parse(tmp_path / "report.xml")
    again = run("check", "net.yaml", "--format", "junit", "-o", "report.xml")
    assert again.code == 2 and "--force" in again.err
    assert run("check", "net.yaml", "-o", "report.xml", "--force").code == 0
    assert list(tmp_path.glob(".cnncost-*")) == []


def test_verify_unavailable_is_a_clear_error(run, here, monkeypatch):
    monkeypatch.setitem(sys.modules, "cnncost.verify", None)  # as if the module were missing
    result = run("check", here("net.yaml", tiny()), "--verify")
    assert result.code == 2 and "--verify needs cnncost.verify" in result.err


def test_verify_failures_fail_the_check(run, here, monkeypatch):
    import types

    class Failed:
        passed, failures = False, ["conv: MACs predicted 13,824, executed 1"]

    fake = types.ModuleType("cnncost.verify")
    fake.verify_spec = lambda spec, batch=1, seed=0: Failed()
    monkeypatch.setitem(sys.modules, "cnncost.verify", fake)
    result = run("check", here("net.yaml", tiny()), "--verify", "--format", "json")
    assert result.code == 1
    (finding,) = json.loads(result.out)["specs"][0]["findings"]
    assert finding["check"] == "verify" and "executed 1" in finding["message"]


def test_verify_passes_on_lenet5(run):
    pytest.importorskip("cnncost.verify")
    assert run("check", "lenet5", "--verify").code == 0


def test_budget_options_are_the_budget_keys():
    from cnncost.budget import METRICS
    from cnncost.cli.options import BUDGET_KEYS

    assert BUDGET_KEYS == tuple(METRICS)


# -- compare -----------------------------------------------------------------------------------------------

# torchvision weights metadata (num_params): VGG11 132,863,336; VGG16 138,357,544; AlexNet 61,100,840
TORCHVISION_PARAMS = {"vgg11": 132_863_336, "vgg16": 138_357_544, "alexnet": 61_100_840}


def test_compare_markdown_params_row(run):
    result = run("compare", "vgg11", "vgg16", "alexnet", "--format", "markdown")
    assert result.code == 0
    (row,) = [line for line in result.out.splitlines() if line.startswith("| Params |")]
    v11, v16, alex = (TORCHVISION_PARAMS[m] for m in ("vgg11", "vgg16", "alexnet"))
    assert row == (
        f"| Params | {v11 / 1e6:.2f} M | {v16 / 1e6:.2f} M ({v16 / v11:.2f}×) | {alex / 1e6:.2f} M ({alex / v11:.2f}×) |"
    )
    assert "| Metric | vgg11 (baseline) | vgg16 | alexnet |" in result.out


def test_compare_csv_raw_figures_and_ratios(run):
    result = run("compare", "vgg11", "vgg16", "alexnet", "--format", "csv", "--baseline", "alexnet")
    rows = {row["metric"]: row for row in csv.DictReader(io.StringIO(result.out))}
    for model, params in TORCHVISION_PARAMS.items():
        assert int(rows["params"][model]) == params
    assert float(rows["params"]["vgg16 vs alexnet"]) == pytest.approx(138_357_544 / 61_100_840, abs=1e-6)
    assert "alexnet vs alexnet" not in rows["params"]
    # depth in weighted layers: VGG-16 has 13 conv + 3 fc, VGG-11 8 + 3, AlexNet 5 + 3 (the papers' names)
    assert (rows["weighted_layers"]["vgg16"], rows["weighted_layers"]["vgg11"], rows["weighted_layers"]["alexnet"]) == ("16", "11", "8")
    # published top-1, torchvision metadata: VGG16_Weights 71.592, VGG11_Weights 69.02; the bundled alexnet (LRN,
    # 227×227) has none, as torchvision's top-1 is for a different network
    assert float(rows["top1"]["vgg16"]) - float(rows["top1"]["vgg11"]) == pytest.approx(71.592 - 69.02)
    assert rows["top1"]["alexnet"] == ""


def test_compare_receptive_field_of_the_output(run, here):
    # two 3×3 convs, stride 1: 1 + 2 + 2 = 5; with a 2×2 stride-2 pool between them: 1 + 2 + 1 + 2·2 = 8
    here("a.yaml", "name: a\ninput: 1x16x16\nlayers:\n  - conv2d: {out: 1, kernel: 3}\n  - conv2d: {out: 1, kernel: 3}\n")
    here("b.yaml", "name: b\ninput: 1x16x16\nlayers:\n  - conv2d: {out: 1, kernel: 3}\n  - maxpool2d: {kernel: 2}\n  - conv2d: {out: 1, kernel: 3}\n")
    data = json.loads(run("compare", "a.yaml", "b.yaml", "--format", "json").out)
    fields = {m["name"]: m["metrics"]["receptive_field"] for m in data["models"]}
    assert fields == {"a": [5, 5], "b": [8, 8]}
    assert data["baseline"] == "a"
    assert data["models"][1]["versus_baseline"]["params"] == 1.0  # both: 2 convs of 1·1·9 + 1 = 10 params


def test_compare_needs_two_specs_and_a_known_baseline(run):
    assert run("compare", "vgg11").code == 2
    result = run("compare", "vgg11", "vgg16", "--baseline", "vgg61")
    assert result.code == 2 and "did you mean 'vgg16'" in result.err


def test_compare_bars(run):
    result = run("compare", "alexnet", "vgg16", "--bars")
    assert result.code == 0 and "█" in result.out and "Peak memory" in result.out


def test_compare_depth_aligns_stages(run):
    result = run("compare", "mobilenet_v1", "shufflenet_v2_x1_0", "--depth", "1", "--format", "csv")
    rows = {row["metric"]: row for row in csv.DictReader(io.StringIO(result.out))}
    assert rows["stage2.macs"]["mobilenet_v1"] and rows["stage2.macs"]["shufflenet_v2_x1_0"]
    assert rows["stage5.macs"]["shufflenet_v2_x1_0"] == ""  # ShuffleNetV2 has stages 2–4 only


def test_plot_without_matplotlib_says_how_to_install(run, here, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    result = run("compare", "alexnet", "vgg16", "--plot", "chart.svg")
    assert result.code == 2
    assert "pip install 'cnncost[plot]'" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "chart.svg").exists()


def test_plot_writes_an_svg(run, here, tmp_path):
    pytest.importorskip("matplotlib")
    result = run("compare", "alexnet", "vgg16", "lenet5", "--plot", "chart.svg")
    assert result.code == 0 and "lenet5 has no published top-1" in result.err
    svg = ET.parse(tmp_path / "chart.svg").getroot()
    assert svg.tag.endswith("svg")


def test_plot_refuses_other_formats(run, here):
    result = run("compare", "alexnet", "vgg16", "--plot", "chart.jpg")
    assert result.code == 2 and ".svg" in result.err


# -- diff -----------------------------------------------------------------------------------------------------

OLD = "name: net\ninput: 3x8x8\nlayers:\n  - conv2d: {{name: conv, out: {width}, kernel: 3, padding: 1}}\n  - relu: {{name: act}}\n  - conv2d: {{name: head, out: 4, kernel: 1}}\n"
# width 8 → 16, by hand:
#   conv params 8·27 + 8 = 224 → 16·27 + 16 = 448;   MACs 64·8·27 = 13,824 → 27,648
#   head params 4·8 + 4 = 36 → 4·16 + 4 = 68;        MACs 64·4·8 = 2,048 → 4,096
#   act: no params or MACs; output 8×8×8 → 16×8×8, activation 2,048 B → 4,096 B
#   totals: params 260 → 516 (+256, +98.46 %); MACs 15,872 → 31,744 (+100 %)
#   peak (while act runs, conv out + act out): 4,096 → 8,192 B (+100 %)


def test_diff_of_one_changed_layer(run, here):
    here("old.yaml", OLD.format(width=8))
    here("new.yaml", OLD.format(width=16))
    data = json.loads(run("diff", "old.yaml", "new.yaml", "--format", "json").out)
    changes = {layer["name"]: layer for layer in data["layers"]}
    assert set(changes) == {"conv", "act", "head"} and data["unchanged_layers"] == 0
    assert (changes["conv"]["old"]["params"], changes["conv"]["new"]["params"]) == (224, 448)
    assert (changes["head"]["old"]["macs"], changes["head"]["new"]["macs"]) == (2_048, 4_096)
    assert changes["act"]["new"]["output_shape"] == [16, 8, 8]
    assert data["totals"]["params"] == {"old": 260, "new": 516, "delta": 256, "percent": pytest.approx(25600 / 260)}
    assert data["totals"]["macs"]["delta"] == 15_872
    assert data["totals"]["peak_activation_bytes"]["new"] == 8_192


def test_diff_added_and_removed_layers_in_place(run, here):
    here("old.yaml", OLD.format(width=8))
    here("new.yaml", OLD.format(width=8).replace("  - relu: {name: act}\n", "  - gelu: {name: smooth}\n"))
    data = json.loads(run("diff", "old.yaml", "new.yaml", "--format", "json").out)
    # as in a text diff: the removed layer where it stood (after conv), then the one that took its place
    assert [(layer["name"], layer["status"]) for layer in data["layers"]] == [("act", "removed"), ("smooth", "added")]
    assert data["unchanged_layers"] == 2


def test_diff_markdown_for_a_pull_request(run, here):
    here("old.yaml", OLD.format(width=8))
    here("new.yaml", OLD.format(width=16))
    result = run("diff", "old.yaml", "new.yaml", "--format", "markdown")
    assert "| params | 260 | 516 | +256 | +98.5% |" in result.out
    assert "<details><summary>Layers: 0 added, 0 removed, 3 changed, 0 unchanged</summary>" in result.out
    assert "| ~ | conv | conv2d | 8×8×8 → 16×8×8 | +224 | +13.82 k | +2.0 KiB |" in result.out


def test_fail_on_increase(run, here):
    here("old.yaml", OLD.format(width=8))
    here("new.yaml", OLD.format(width=16))
    assert run("diff", "old.yaml", "new.yaml", "--fail-on-increase", "100").code == 0  # MACs and peak exactly +100 %
    result = run("diff", "old.yaml", "new.yaml", "--fail-on-increase", "99.9")
    assert result.code == 1 and "macs grew by +100.0%" in result.err and "params" not in result.err
    assert run("diff", "new.yaml", "old.yaml", "--fail-on-increase", "0").code == 0  # shrinking never fails


# -- schema ---------------------------------------------------------------------------------------------------


def validate(instance, schema, root=None) -> bool:
    """The small part of JSON Schema 2020-12 that cnncost's schema uses (jsonschema is not a dependency)."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(instance, root["$defs"][name], root)
    types = schema.get("type")
    if types is not None:
        checks = {
            "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "null": lambda v: v is None,
        }
        if not any(checks[t](instance) for t in ([types] if isinstance(types, str) else types)):
            return False
    if "enum" in schema and instance not in schema["enum"]:
        return False
    if "anyOf" in schema and not any(validate(instance, s, root) for s in schema["anyOf"]):
        return False
    if isinstance(instance, (int, float)) and "minimum" in schema and instance < schema["minimum"]:
        return False
    if isinstance(instance, str) and "pattern" in schema and not re.search(schema["pattern"], instance):
        return False
    if isinstance(instance, list):
        if not schema.get("minItems", 0) <= len(instance) <= schema.get("maxItems", len(instance)):
            return False
        if "items" in schema and not all(validate(item, schema["items"], root) for item in instance):
            return False
    if isinstance(instance, dict):
        if not schema.get("minProperties", 0) <= len(instance) <= schema.get("maxProperties", len(instance)):
            return False
        if any(key not in instance for key in schema.get("required", ())):
            return False
        for key, value in instance.items():
            if key in schema.get("properties", {}):
                sub = schema["properties"][key]
            else:
                sub = schema.get("additionalProperties", True)
            if sub is False or (isinstance(sub, dict) and not validate(value, sub, root)):
                return False
    return True


@pytest.fixture(scope="module")
def spec_schema():
    from cnncost.schema import spec_schema

    return spec_schema()


def test_schema_command_prints_draft_2020_12(run):
    result = run("schema")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_covers_the_spec_keys_and_every_op(spec_schema):
    from cnncost.ops import OPS
    from cnncost.spec import REQUIRED_TOP, TOP_KEYS

    assert list(spec_schema["properties"]) == list(TOP_KEYS)
    assert spec_schema["required"] == list(REQUIRED_TOP)
    conv = spec_schema["$defs"]["op.conv2d"]
    assert conv["required"] == ["out", "kernel"] and conv["properties"]["stride"]["default"] == 1
    assert {name.removeprefix("op.") for name in spec_schema["$defs"] if name.startswith("op.")} == set(OPS)


def test_schema_accepts_every_bundled_spec(spec_schema):
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        assert validate(doc, spec_schema), path.name


@pytest.mark.parametrize(
    "layer, valid",
    [
        ("relu", True),
        ({"conv2d": {"out": 4, "kernel": [1, 7], "padding": "same"}}, True),
        ({"conv2d": {"out": "${width * 4}", "kernel": 3}}, True),
        ({"my_block": {"anything": 1, "repeat": 2}}, True),  # block names cannot be known to a schema
        ({"conv2d": {"out": 4, "kernel": 3, "strid": 2}}, False),
        ({"conv2d": {"out": 4}}, False),
        ({"conv2d": {"out": 4, "kernel": [1, 2, 3]}}, False),
        ({"maxpool2d": {"kernel": 2, "padding": "sam"}}, False),
        ({"relu": None, "tanh": None}, False),
    ],
)
def test_schema_judges_layers(spec_schema, layer, valid):
    assert validate({"name": "t", "input": "3x8x8", "layers": [layer]}, spec_schema) is valid


def test_schema_budget_keys(spec_schema):
    base = {"name": "t", "input": [3, 8, 8], "layers": ["relu"]}
    assert validate({**base, "budget": {"params": "5M", "peak_activation_bytes": "64MiB", "layer_macs": 1000}}, spec_schema)
    assert not validate({**base, "budget": {"parms": "5M"}}, spec_schema)
    assert not validate({**base, "budget": {"params": "5MiB"}}, spec_schema)  # counts take k/M/G


def test_schema_with_jsonschema(spec_schema):
    import jsonschema  # in the test extra: a real validator, never skipped

    jsonschema.Draft202012Validator.check_schema(spec_schema)
    validator = jsonschema.Draft202012Validator(spec_schema)
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text()))), path.name


# -- packaging and start-up --------------------------------------------------------------------------------------


def test_pre_commit_hook():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "cnncost-check" and hook["entry"] == "cnncost check" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("specs/net.yaml") and files.search("net.yml") and not files.search("net.json")


def test_readme_budgets_file_example_loads(tmp_path):
    from cnncost.budget import load_rules

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Checking specs in CI"):]
    example = re.search(r"```yaml\n( *# budgets\.yaml\n.*?) *```", section, re.S).group(1)
    (tmp_path / "budgets.yaml").write_text(textwrap.dedent(example))
    rules = load_rules(str(tmp_path / "budgets.yaml"))
    assert rules and all(rule.limits for rule in rules)


def test_summary_does_not_load_the_workflow_modules():
    import subprocess

    code = (
        "import sys\nfrom cnncost.cli import main\ntry:\n main(['summary', 'lenet5', '--format', 'json'])\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[-1] in ('budget', 'check', 'compare', 'diffing', 'schema', 'ci', 'plot')), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stderr.strip() == "[]", result.stderr


def test_diff_aligns_auto_named_layers_by_structure(run, here):
    # a conv-bn-relu 8→8 inserted before the 8→16 and 16→32 ones: a sequence alignment shows exactly those three
    # layers added, where matching by name would pair the new conv2d_1 (8→8) with the old conv2d_1 (8→16) and
    # report every later, renumbered layer as changed
    unit = "  - conv2d: {{out: {}, kernel: 3, padding: 1}}\n  - batchnorm\n  - relu\n"
    head = "name: n\ninput: 8x8x8\nlayers:\n"
    here("old.yaml", head + unit.format(16) + unit.format(32))
    here("new.yaml", head + unit.format(8) + unit.format(16) + unit.format(32))
    data = json.loads(run("diff", "old.yaml", "new.yaml", "--format", "json").out)
    assert [(layer["status"], layer["new"]["op"]) for layer in data["layers"]] == [("added", "conv2d"), ("added", "batchnorm"), ("added", "relu")]


def test_diff_matches_user_named_layers_by_name(run, here):
    here("old.yaml", "name: n\ninput: 3x8x8\nlayers:\n  - conv2d: {name: stem, out: 8, kernel: 3}\n  - relu: {name: act}\n")
    here("new.yaml", "name: n\ninput: 3x8x8\nlayers:\n  - conv2d: {name: stem, out: 16, kernel: 3}\n  - relu: {name: act}\n")
    data = json.loads(run("diff", "old.yaml", "new.yaml", "--format", "json").out)
    # stem: 8·3·9 + 8 = 224 params → 16·3·9 + 16 = 448; act's output shape changes 8×6×6 → 16×6×6
    assert [(layer["name"], layer["status"]) for layer in data["layers"]] == [("stem", "changed"), ("act", "changed")]
    assert data["layers"][0]["old"]["params"] == 224 and data["layers"][0]["new"]["params"] == 448
