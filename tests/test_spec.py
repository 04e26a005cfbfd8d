"""The spec format: naming, graphs, blocks, repeat, when, expressions, and where errors point."""
import pytest

import cnncost
from cnncost.errors import CnnCostError
from cnncost.receptive import AxisField
from cnncost.spec import load_text
from cnncost.spec.expr import ExprError, evaluate

RESIDUAL = """
name: residual
input: 16x8x8
blocks:
  basic:
    args: {out: null, stride: 1, downsample: false}
    layers:
      - conv2d: {name: conv1, out: $out, kernel: 3, stride: $stride, padding: 1, bias: false}
      - relu: {name: relu}
      - conv2d: {name: conv2, out: $out, kernel: 3, padding: 1, bias: false}
      - conv2d: {name: down, inputs: in, out: $out, kernel: 1, stride: $stride, bias: false, when: $downsample}
      - add: {inputs: [conv2, down]}
layers:
  - basic: {name: layer1, out: 16, repeat: 2}
  - basic: {name: layer2, out: 32, repeat: 2, first: {stride: 2, downsample: true}}
  - global_avgpool
"""


def rows(text, **kw):
    return {row.name: row for row in cnncost.analyze(load_text(text, "net.yaml"), **kw).layers}


def fail(text) -> str:
    with pytest.raises(CnnCostError) as info:
        cnncost.analyze(load_text(text, "net.yaml"))
    return str(info.value)


def test_hierarchical_names_and_skipped_layer_passes_its_input():
    r = rows(RESIDUAL)
    assert "layer1.0.down" not in r  # when: false
    assert r["layer1.0.add_1"].inputs == ("layer1.0.conv2", "input")
    assert r["layer1.1.conv1"].inputs == ("layer1.0.add_1",)
    assert r["layer2.0.down"].inputs == ("layer1.1.add_1",)
    assert r["layer2.0.add_1"].inputs == ("layer2.0.conv2", "layer2.0.down")
    assert r["layer2.1.conv1"].attrs["stride"] == (1, 1)  # `first` applies to copy 0 only
    assert r["layer2.0.conv1"].attrs["stride"] == (2, 2)
    assert r["global_avgpool_1"].output_shape == (32,)


def test_block_subtotals_add_up():
    report = cnncost.analyze(load_text(RESIDUAL))
    blocks = {b.name: b for b in report.blocks}
    assert blocks["layer2"].params == blocks["layer2.0"].params + blocks["layer2.1"].params
    # layer2.0: 3×3 16→32, 3×3 32→32, 1×1 16→32, no biases
    assert blocks["layer2.0"].params == 32 * 16 * 9 + 32 * 32 * 9 + 32 * 16
    assert blocks["layer2"].kind == "basic ×2" and blocks["layer2.0"].kind == "basic"


def test_depth_collapse_shows_blocks_at_that_depth():
    from cnncost.analysis import collapse

    report = cnncost.analyze(load_text(RESIDUAL))
    names = [row.name for row in collapse(report, 1)]
    assert names == ["layer1", "layer2", "global_avgpool_1"]
    # depth 2: each stage heads its blocks, as in a paper's stage table
    assert [row.name for row in collapse(report, 2)][:4] == ["layer1", "layer1.0", "layer1.1", "layer2"]


def test_receptive_field_through_a_residual_is_the_union_of_both_paths():
    r = rows(RESIDUAL)
    # main path of layer1.0: two 3×3 convs (padding 1) see pixels −2…2; the identity path sees 0; the union is 5 wide
    assert r["layer1.0.add_1"].receptive_field == (AxisField(5, 1, 0),) * 2


BRANCHES = """
name: t
input: 1x4x4
layers:
  - conv2d: {name: a, out: 2, kernel: 1}
  - conv2d: {name: b, out: 4, kernel: 1}
  - add: {inputs: [b, b]}
  - concat: {inputs: [a, add_1]}
"""


def test_peak_memory_counts_live_branches():
    report = cnncost.analyze(load_text(BRANCHES))
    e = 16 * 4  # bytes per channel of a 4×4 float32 map
    # at add_1: a (2 ch, still needed by concat), b (4), add_1 (4) alive; input freed after a
    # at concat: a (2), add_1 (4), concat (6) = 12 channels — the peak
    assert report.totals.peak_activation_bytes == 12 * e
    assert report.totals.peak_layer == "concat_1"
    # autograd keeps a's input (1 ch) and b's input, a (2 ch); add and concat keep nothing (PyTorch's
    # derivatives of a sum and a cat need no tensor)
    assert report.totals.training_activation_bytes == (1 + 2) * e


def test_memory_timeline_is_live_bytes_per_step_and_its_maximum_is_the_peak():
    report = cnncost.analyze(load_text(BRANCHES))
    e = 16 * 4  # bytes per channel of a 4×4 float32 map
    # input alone: 1 ch; a runs: input + a = 3; input freed; b runs: a + b = 6; add_1 runs: a + b + add_1 = 10,
    # b freed; concat runs: a + add_1 + concat (2 + 4 + 6) = 12
    assert report.memory_timeline == (("input", 1 * e), ("a", 3 * e), ("b", 6 * e), ("add_1", 10 * e), ("concat_1", 12 * e))


def test_expressions_and_defaults_from_other_args():
    text = """
name: t
input: 8x4x4
blocks:
  b:
    args: {out: null, width: '${out // 4}', big: false}
    layers:
      - conv2d: {out: $width, kernel: 1}
      - conv2d: {out: '${if(big, out * 2, out)}', kernel: 1}
layers:
  - b: {out: 16}
  - b: {out: 16, big: true}
"""
    r = rows(text)
    assert r["b_1.conv2d_1"].output_shape[0] == 4
    assert r["b_1.conv2d_2"].output_shape[0] == 16
    assert r["b_2.conv2d_2"].output_shape[0] == 32


def test_expression_language_is_its_own():
    assert evaluate("2 + 3 * 4", {}) == 14
    assert evaluate("if(x > 1, 10, 20)", {"x": 2}) == 10
    assert evaluate("max(a, 7) // 2", {"a": 3}) == 3
    for attack in ("__import__('os')", "x.__class__", "open('f')", "lambda: 1", "[1]*9**9"):
        with pytest.raises(ExprError):
            evaluate(attack, {"x": 1})


def test_forward_references_are_allowed_and_cycles_refused():
    ok = """
name: t
input: 1x4x4
layers:
  - relu: {name: r, inputs: c}
  - conv2d: {name: c, inputs: input, out: 2, kernel: 1}
"""
    assert list(rows(ok)) == ["c", "r"]
    cyc = """
name: t
input: 1x4x4
layers:
  - relu: {name: a, inputs: b}
  - relu: {name: b, inputs: a}
"""
    assert "cycle: a → b → a" in fail(cyc) or "cycle: b → a → b" in fail(cyc)


@pytest.mark.parametrize(
    "text,message,line",
    [
        ("name: t\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - relu: {inputs: nope}\n", "unknown layer 'nope'", 5),
        ("name: t\ninput: 3x8x8\nlayers:\n  - conv2dd: {out: 4, kernel: 1}\n", "did you mean 'conv2d'", 4),
        ("name: t\ninput: 3x8x8\nlayer:\n  - relu\n", "did you mean 'layers'", 3),
        ("name: t\ninput: 3x8x8\nlayers:\n  - relu: {name: a}\n  - relu: {name: a}\n", "duplicate layer name 'a'", 5),
        ("name: t\ninput: 3x8x8\nlayers:\n  - relu: {repeat: 0}\n", "positive integer", 4),
        ("name: t\ninput: 3x8x8\nlayers:\n  - relu: {repeat: 10001}\n", "over the limit", 4),
        ("name: t\ninput: 3x8x8\nlayers:\n  - add: {inputs: [input, conv2d_1]}\n  - conv2d: {inputs: input, out: 4, kernel: 3}\n", "cannot add", 4),
        ("name: t\ninput: 3x8x8\nlayers:\n  - relu\nname: u\n", "duplicate key 'name'", 5),
        ("name: t\ninput: 3x8x8\nlayers:\n  - relu: !!python/object:os.system {}\n", "not allowed", 4),
        ("name: t\ninput: 3x8x8\nlayers:\n  - relu: {out: [1, 2}\n", "YAML syntax error", 4),
        ("name: t\ninput: 3x8x0\nlayers:\n  - relu\n", "below 1", 2),
        ("name: t\ninput: three\nlayers:\n  - relu\n", "cannot read input shape", 2),
    ],
)
def test_errors_name_file_line_and_problem(text, message, line):
    error = fail(text)
    assert message in error
    assert error.startswith(f"net.yaml:{line}:"), error


BLOCK_ERRORS = """
name: t
input: 3x8x8
blocks:
  a:
    args: {out: null}
    layers:
      - b: {out: $out}
  b:
    args: {out: null}
    layers:
      - a: {out: $out}
layers:
  - {call}
"""


@pytest.mark.parametrize(
    "call,message",
    [
        ("a: {out: 4}", "block 'a' uses itself (a → b → a)"),
        ("a: {}", "block 'a' needs argument 'out'"),
        ("a: {out: 4, wdth: 2}", "unknown key 'wdth' for block 'a'"),
    ],
)
def test_block_errors(call, message):
    assert message in fail(BLOCK_ERRORS.replace("{call}", call))


def test_anchor_bomb_is_refused_quickly():
    lines = ["name: t", "input: 3x8x8", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append("layers: [relu]")
    assert "more than 1,000,000 YAML nodes" in fail("\n".join(lines))


# -- several mistakes at once (issue 15, item 7) -------------------------------------------------------------

MISTAKES = """\
name: on
input: 3x8x8
budget: {parms: 5M}
layers:
  - conv2d: {out: 4, kernal: 3}
  - relu: {nme: x}
  - conv2d: {out: -1, kernel: 3}
"""


def test_independent_mistakes_are_reported_together(cli, spec_file):
    path = spec_file(MISTAKES)
    result = cli("summary", path)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and result.stdout == ""
    assert [line.split(": error: ")[0] for line in lines] == [f"{path}:{where}" for where in ("1:7", "3:10", "5:30", "6:17", "7:19")]
    assert "did you mean 'params'" in lines[1] and "did you mean 'kernel'" in lines[2]


def test_at_most_twenty_mistakes(cli, spec_file):
    layers = "".join(f"  - conv2d: {{out: 4, kernal: 3}}\n" for _ in range(25))
    result = cli("summary", spec_file(f"name: x\ninput: 3x8x8\nlayers:\n{layers}"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 20


def test_a_misspelled_budget_key_is_an_error_in_summary_too(cli, spec_file):
    result = cli("summary", spec_file("name: x\ninput: 3x8x8\nbudget: {parms: 5M}\nlayers:\n  - relu\n"))
    assert result.returncode == 2 and ":3:10: error: unknown key 'parms' for a budget; did you mean 'params'?" in result.stderr


def test_yaml_11_booleans_get_a_hint(cli, spec_file):
    result = cli("summary", spec_file("name: on\ninput: 3x8x8\nlayers:\n  - relu\n"))
    assert result.returncode == 2 and "must be text, not True" in result.stderr and "quote it" in result.stderr


def test_a_misspelled_required_key_is_one_mistake(cli, spec_file):
    result = cli("summary", spec_file("name: x\ninput: 3x8x8\nlayer:\n  - relu\n"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "did you mean 'layers'" in result.stderr


def test_check_lists_every_mistake(cli, spec_file):
    result = cli("check", spec_file(MISTAKES), "--format", "github")
    assert result.returncode == 2 and result.stdout.count("::error ") == 5
