"""Spec arguments (`args:`, `--set`), the grown expression language and `functions:`, and the bundled families
checked against their sources."""
from decimal import Decimal

import pytest

import cnncost
from cnncost.errors import CnnCostError
from cnncost.spec import load_text
from cnncost.spec.expr import FUNCTIONS, ExprError, Function, evaluate

FAMILY = """
name: tiny
args:
  width: 8
  res: 32
  double: "${2 * width}"
functions:
  make_divisible(v, d): max(d, int(v + d / 2) // d * d)
input: 3x${res}x${res}
blocks:
  unit:
    args: {out: null}
    layers:
      - conv2d: {out: $out, kernel: 3, padding: 1, bias: false}
      - conv2d: {out: "${make_divisible(out * 1.5, 8)}", kernel: 1, bias: false}
layers:
  - unit: {out: $width}
  - conv2d: {out: $double, kernel: 1, bias: false}
  - global_avgpool
"""


def assert_published(spec: str, args: dict, params: int, gmacs: str) -> None:
    """Params exactly; MACs in G rounded to the digits the source prints (torchvision's GFLOPS is G multiply-adds)."""
    report = cnncost.analyze(spec, args=args)
    assert report.totals.params == params
    places = -Decimal(gmacs).as_tuple().exponent
    assert round(Decimal(report.totals.macs) / 10**9, places) == Decimal(gmacs)


def assert_verifies_small(spec: str, args: dict) -> None:
    from cnncost.spec import load
    from cnncost.verify import verify_spec

    result = verify_spec(load(spec, (3, 64, 64), args), batch=1, seed=0)
    assert result.passed, result.failures[:5]


# -- expressions ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, value", [
    ("2 ** 10", 1024),
    ("-2 ** 2", -4),  # as Python: the power binds tighter than the minus
    ("2 ** 3 ** 2", 512),  # right-associative: 2 ** 9
    ("2 ** -1", 0.5),
    ("round(2.5)", 2),  # banker's rounding, as Python's round
    ("round(3.5)", 4),
    ("round(2.675, 1)", 2.7),
    ("floor(2.7)", 2),
    ("ceil(2.1)", 3),
    ("int(-2.7)", -2),  # int() truncates towards zero
    ("sqrt(16)", 4.0),
    ("abs(-3)", 3),
    ("[10, 20, 30][1]", 20),
    ("[10, 20, 30][-1]", 30),
    ("1e3", 1000.0),
    ("32 * 0.75", 24.0),
])
def test_expression_values(source, value):
    assert evaluate(source, {}) == value


@pytest.mark.parametrize("source, value", [
    ("range(4)", [0, 1, 2, 3]),
    ("range(2, 5)", [2, 3, 4]),
    ("len([7, 8, 9])", 3),
    ("[2 * x for x in range(4)]", [0, 2, 4, 6]),
    ("[x for x in range(10) if x % 4 == 0]", [0, 4, 8]),
    # a comprehension inside a comprehension: the run length of each distinct width in [8, 8, 16, 24, 24, 24]
    ("[len([w for w in ws if w == v]) for v in [8, 16, 24]]", [2, 1, 3]),
    ("[if(i == 0, 0, ws[i - 1]) for i in range(3)]", [0, 8, 8]),  # i == 0 reads ws[-1], harmless: if() takes both
])
def test_lists_from_formulas(source, value):
    assert evaluate(source, {"ws": [8, 8, 16, 24, 24, 24]}) == value


@pytest.mark.parametrize("source, message", [
    ("[x for x in 3]", "3 is not a list"),
    ("[for x in [1]]", "needs an element before 'for'"),
    ("[x for 1 in [1]]", "expected a name after 'for'"),
    ("[x for x of [1]]", "expected 'in'"),
    ("[x for x in [1] if]", "needs a condition"),
    ("range(20000)", "longer than 10,000 items"),
    ("range(1.5)", "one or two integers"),
    ("len(3)", "takes one list"),
    # 100 lists of 10,000 items is a million steps: refused by the step budget, never built
    ("[[y for y in range(10000)] for x in range(100)]", "more than 100,000 steps"),
])
def test_list_formula_errors(source, message):
    with pytest.raises(ExprError, match=message):
        evaluate(source, {})


def test_require_gives_the_value_or_quotes_the_condition():
    assert evaluate("require(x > 1, 2 * x)", {"x": 3}) == 6
    # a failed condition stops before the value, which here could not be computed (log of a negative)
    with pytest.raises(ExprError, match=r"requirement not met: x > 1 \(x=-3\)"):
        evaluate("require(x > 1, log(x))", {"x": -3})


def test_log_and_exp_are_inverse():
    assert abs(evaluate("log(exp(2))", {}) - 2) < 1e-12


def test_names_index_into_list_arguments():
    assert evaluate("cfg[i] * 2", {"cfg": [1, 2, 3], "i": 2}) == 6


@pytest.mark.parametrize("source, message", [
    ("10 ** 1000", "over the limit"),
    ("2 ** 400", r"over the limit of 10\^100"),
    ("log(0)", "cannot be computed"),
    ("exp(1000)", "cannot be computed"),
    ("[1, 2][2]", "outside a list of 2"),
    ("3[0]", "is not a list"),
    ("[1, 2][0.5]", "must be an integer"),
    ("sqrt(1, 2)", "takes 1 argument"),
])
def test_expression_errors(source, message):
    with pytest.raises(ExprError, match=message):
        evaluate(source, {})


def test_spec_functions_take_named_parameters_and_cannot_recurse():
    functions = {
        "md": Function("md", ("v", "d"), "max(d, int(v + d / 2) // d * d)"),
        "a": Function("a", ("x",), "b(x)"),
        "b": Function("b", ("x",), "a(x)"),
    }
    env = {FUNCTIONS: functions}
    # torchvision's _make_divisible(32 * 0.75, 8) = 24, (int(24 + 4) // 8 * 8 = 24); 0.35 * 32 = 11.2 → 8
    assert evaluate("md(32 * 0.75, 8)", env) == 24
    assert evaluate("md(32 * 0.35, 8)", env) == 8
    with pytest.raises(ExprError, match=r"calls itself \(a → b → a\)"):
        evaluate("a(1)", env)
    with pytest.raises(ExprError, match="takes 2 arguments"):
        evaluate("md(1)", env)


def test_a_fan_out_of_functions_is_bounded_by_steps():
    functions = {"f0": Function("f0", ("x",), "x + 1")}
    for i in range(1, 30):  # each level calls the one below twice: 2^29 calls if unbounded
        functions[f"f{i}"] = Function(f"f{i}", ("x",), f"f{i - 1}(x) + f{i - 1}(x)")
    with pytest.raises(ExprError, match="more than 100,000 steps"):
        evaluate("f29(1)", {FUNCTIONS: functions})


# -- repeat with index_as: each copy its number -----------------------------------------------------------------
STAGES = """
name: stages
args: {widths: [8, 16, 24]}
input: 3x16x16
blocks:
  stage:
    args: {s: null}
    layers:
      - conv2d: {name: conv, out: "${widths[s]}", kernel: 3, padding: 1, bias: false}
layers:
  - stage: {name: trunk, repeat: "${len(widths)}", index_as: s}
"""


def test_index_as_gives_each_copy_its_number():
    spec = load_text(STAGES)
    convs = [node for node in spec.graph.nodes if node.op == "conv2d"]
    assert [(node.name, node.attrs["out"]) for node in convs] == [("trunk.0.conv", 8), ("trunk.1.conv", 16), ("trunk.2.conv", 24)]
    # params: 3·8·9 + 8·16·9 + 16·24·9 = 216 + 1,152 + 3,456
    assert cnncost.analyze(spec).totals.params == 4_824


@pytest.mark.parametrize("change, message", [
    ("repeat: \"${len(widths)}\", index_as: s", None),
    ("index_as: s", "`index_as` only applies with `repeat`"),
    ("repeat: 3, index_as: t", "`index_as: t` must name an argument of block 'stage' \\(its arguments: s\\)"),
])
def test_index_as_errors(change, message):
    text = STAGES.replace('repeat: "${len(widths)}", index_as: s', change)
    if message is None:
        load_text(text)
        return
    with pytest.raises(CnnCostError, match=message):
        load_text(text)


def test_index_as_on_an_op_is_refused():
    with pytest.raises(CnnCostError, match="'relu' is an op, not a block"):
        load_text(STAGES + "  - relu: {repeat: 2, index_as: s}\n")


# -- spec args -------------------------------------------------------------------------------------------------

def test_spec_args_reach_input_blocks_and_functions():
    spec = load_text(FAMILY)
    assert spec.graph.input_shape == (3, 32, 32)
    assert spec.args == {"width": 8, "res": 32, "double": 16}
    outs = [node.attrs["out"] for node in spec.graph.nodes if node.op == "conv2d"]
    # make_divisible(8 * 1.5, 8) = int(12 + 4) // 8 * 8 = 16
    assert outs == [8, 16, 16]


def test_overrides_replace_defaults_before_later_defaults_use_them():
    spec = load_text(FAMILY, args={"width": 16, "res": 64})
    assert spec.graph.input_shape == (3, 64, 64)
    assert spec.args == {"width": 16, "res": 64, "double": 32}
    outs = [node.attrs["out"] for node in spec.graph.nodes if node.op == "conv2d"]
    assert outs == [16, 24, 32]  # make_divisible(24, 8) = 24


def test_unknown_argument_suggests_the_close_one():
    with pytest.raises(CnnCostError, match="no argument 'widht'") as info:
        load_text(FAMILY, args={"widht": 4})
    assert "did you mean 'width'" in str(info.value)


def test_a_non_integer_channel_count_names_the_value():
    with pytest.raises(CnnCostError, match=r"'out' must be an integer, not 12.5"):
        load_text(FAMILY.replace("out: $width}", "out: '${width * 1.5625}'}"))


def test_required_argument_must_be_given():
    text = FAMILY.replace("width: 8", "width: null")
    with pytest.raises(CnnCostError, match="needs argument 'width'"):
        load_text(text)
    assert load_text(text, args={"width": 4}).args["width"] == 4


def test_report_records_args_in_json_and_title():
    report = cnncost.analyze("mobilenet_v1", args={"alpha": 0.75, "res": 192})
    assert report.to_dict()["args"] == {"alpha": 0.75, "res": 192}
    assert report.label == "mobilenet_v1 (alpha=0.75, res=192)"
    assert cnncost.analyze("alexnet").to_dict()["args"] == {}


def test_set_on_the_command_line(cli):
    result = cli("summary", "mobilenet_v1", "--set", "alpha=0.5", "--set", "res=160")
    assert result.returncode == 0, result.stderr
    assert "mobilenet_v1 (alpha=0.5, res=160) — input 3×160×160" in result.stdout
    for command in (("summary", "mobilenet_v1"), ("verify", "mobilenet_v1"), ("check", "mobilenet_v1"),
                    ("compare", "mobilenet_v1", "mobilenet_v1"), ("diff", "mobilenet_v1", "mobilenet_v1")):
        bad = cli(*command, "--set", "alhpa=0.5")
        assert bad.returncode == 2, command
        assert "did you mean 'alpha'" in bad.stderr + bad.stdout, command
        assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("flag", ["alpha", "=3", "alpha="])
def test_malformed_set_is_exit_2(cli, flag):
    result = cli("summary", "mobilenet_v1", "--set", flag)
    assert result.returncode == 2 and "must be NAME=VALUE" in result.stderr


# -- MobileNet v1: Howard et al. 2017 (arXiv:1704.04861) -------------------------------------------------------
# Mult-adds count conv and FC weights' multiply-adds; params count conv and FC weights and the FC bias, no BN
# (tests/test_zoo.py shows 1.0-224 is 568.7 M and 4.21 M, which the paper prints as 569 and 4.2).

def _paper_counts(alpha, res):
    report = cnncost.analyze("mobilenet_v1", args={"alpha": alpha, "res": res})
    weights = sum(row.params for row in report.layers if row.op in ("conv2d", "linear"))
    return report.totals.macs, weights


# Table 6, "MobileNet Width Multiplier" (ρ = 224): million mult-adds, million params. The paper rounds MACs to
# the nearest million and params to 0.1 M; the test allows exactly that rounding.
TABLE_6 = [(1.0, "569", "4.2"), (0.75, "325", "2.6"), (0.5, "149", "1.3"), (0.25, "41", "0.5")]


@pytest.mark.parametrize("alpha, macs, params", TABLE_6)
def test_mobilenet_v1_table_6_width_multiplier(alpha, macs, params):
    counted_macs, counted_params = _paper_counts(alpha, 224)
    assert round(Decimal(counted_macs) / 10**6) == Decimal(macs)
    assert round(Decimal(counted_params) / 10**6, 1) == Decimal(params)


# Table 7, "MobileNet Resolution" (α = 1): params stay 4.2 M. Its MACs are within 1 M but not all rounded to
# nearest: ρ = 160 counts 290.68 M, printed 290 (the FC's 1.02 M left out gives 289.65 → 290, but the same
# rule would print 568, not 569, for ρ = 224). So the allowance for Table 7 is |counted - printed| < 1 M.
TABLE_7 = [(224, 569), (192, 418), (160, 290), (128, 186)]


@pytest.mark.parametrize("res, macs", TABLE_7)
def test_mobilenet_v1_table_7_resolution(res, macs):
    counted_macs, counted_params = _paper_counts(1.0, res)
    assert abs(counted_macs - macs * 10**6) < 10**6
    assert round(Decimal(counted_params) / 10**6, 1) == Decimal("4.2")


def test_mobilenet_v1_reference_follows_the_point():
    assert cnncost.analyze("mobilenet_v1", args={"alpha": 0.5}).reference["top1"] == 63.7  # Table 6
    assert cnncost.analyze("mobilenet_v1", args={"res": 128}).reference["top1"] == 64.4  # Table 7
    assert cnncost.analyze("mobilenet_v1", args={"alpha": 0.5, "res": 128}).reference == {}  # not in the paper


def test_references_match_without_a_default_reference():
    """efficientnet lists only `references:`; an absent `reference:` must not match every point first."""
    assert cnncost.analyze("efficientnet", args={"phi": 1}).reference["top1"] == 78.642  # EfficientNet_B1_Weights.IMAGENET1K_V1


@pytest.mark.parametrize("alpha, res", [(0.25, 64), (0.75, 96)])
def test_mobilenet_v1_members_verify_at_a_small_size(alpha, res):
    from cnncost.spec import load
    from cnncost.verify import verify_spec

    result = verify_spec(load("mobilenet_v1", args={"alpha": alpha, "res": res}), batch=1, seed=0)
    assert result.passed, result.failures[:5]


# -- MobileNet v2 `width` (torchvision's width_mult) -----------------------------------------------------------
# width 1.0: torchvision MobileNet_V2_Weights.IMAGENET1K_V1 metadata, num_params 3,504,872 (tests/test_zoo.py).
# Other widths have no published weights; these counts were computed by building
# torchvision.models.mobilenet_v2(width_mult=w) (torchvision 0.29.1) and summing p.numel() over its parameters.
MOBILENET_V2_PARAMS = {1.0: 3_504_872, 0.5: 1_968_680, 0.75: 2_636_424, 1.4: 6_108_776, 0.35: 1_677_128}


@pytest.mark.parametrize("width, params", MOBILENET_V2_PARAMS.items())
def test_mobilenet_v2_width_matches_torchvision(width, params):
    assert cnncost.analyze("mobilenet_v2", args={"width": width}).totals.params == params


def test_mobilenet_v2_make_divisible_as_torchvision_writes_it():
    # _make_divisible(v, 8) = max(8, int(v + 4) // 8 * 8), plus 8 if that is below 0.9 v
    spec = load_text(open(cnncost.spec.resolve_source("mobilenet_v2")).read(), args={"width": 0.35})
    stem = next(node for node in spec.graph.nodes if node.op == "conv2d")
    assert stem.attrs["out"] == 16  # 32 × 0.35 = 11.2 → int(15.2) // 8 * 8 = 8 < 0.9 × 11.2 = 10.08 → 16
    last = [node for node in spec.graph.nodes if node.op == "conv2d"][-1]
    assert last.attrs["out"] == 1280  # 1280 × max(1.0, 0.35)


def test_mobilenet_v2_member_verifies_at_a_small_size():
    assert_verifies_small("mobilenet_v2", {"width": 0.5})


# -- ShuffleNet V2 `width`: torchvision ShuffleNet_V2_X{0_5,1_0,1_5,2_0}_Weights.IMAGENET1K_V1 metadata ----------
# (num_params exactly; GFLOPS, which counts a multiply-add once, to its published digits)
SHUFFLENET_V2 = {0.5: (1_366_792, "0.04"), 1.0: (2_278_604, "0.145"), 1.5: (3_503_624, "0.296"), 2.0: (7_393_996, "0.583")}


@pytest.mark.parametrize("width, published", SHUFFLENET_V2.items())
def test_shufflenet_v2_width_matches_torchvision_metadata(width, published):
    assert_published("shufflenet_v2", {"width": width}, *published)


def test_shufflenet_v2_member_verifies_at_a_small_size():
    assert_verifies_small("shufflenet_v2", {"width": 0.5})


# -- VGG `config` and `bn`: torchvision VGG{11,13,16,19}[_BN]_Weights.IMAGENET1K_V1 metadata --------------------
# num_params exactly; GFLOPS (a multiply-add counted once) to the published digits; BN adds no MACs
VGG = {
    ("A", False): 132_863_336, ("A", True): 132_868_840, ("B", False): 133_047_848, ("B", True): 133_053_736,
    ("D", False): 138_357_544, ("D", True): 138_365_992, ("E", False): 143_667_240, ("E", True): 143_678_248,
}
VGG_GMACS = {"A": "7.61", "B": "11.31", "D": "15.47", "E": "19.63"}


@pytest.mark.parametrize("config, bn", VGG)
def test_vgg_config_and_bn_match_torchvision_metadata(config, bn):
    assert_published("vgg", {"config": config, "bn": bn}, VGG[config, bn], VGG_GMACS[config])


def test_vgg_unknown_config_is_refused(cli):
    result = cli("summary", "vgg", "--set", "config=C")
    assert result.returncode == 2 and "unknown op or block 'C' (chosen by '$config')" in result.stderr


# -- ResNet family: torchvision *_Weights.IMAGENET1K_V1 metadata (num_params exactly, GFLOPS to its digits) ----
RESNETS = [
    ({"depth": 18}, 11_689_512, "1.814"),  # ResNet18_Weights
    ({"depth": 34}, 21_797_672, "3.664"),  # ResNet34_Weights
    ({"depth": 50}, 25_557_032, "4.089"),  # ResNet50_Weights
    ({"depth": 101}, 44_549_160, "7.801"),  # ResNet101_Weights
    ({"depth": 152}, 60_192_808, "11.514"),  # ResNet152_Weights
    ({"depth": 50, "groups": 32, "width_per_group": 4}, 25_028_904, "4.23"),  # ResNeXt50_32X4D_Weights
    ({"depth": 101, "groups": 32, "width_per_group": 8}, 88_791_336, "16.414"),  # ResNeXt101_32X8D_Weights
    ({"depth": 101, "groups": 64, "width_per_group": 4}, 83_455_272, "15.46"),  # ResNeXt101_64X4D_Weights
    ({"depth": 50, "width": 2}, 68_883_240, "11.398"),  # Wide_ResNet50_2_Weights
    ({"depth": 101, "width": 2}, 126_886_696, "22.753"),  # Wide_ResNet101_2_Weights
]


@pytest.mark.parametrize("args, params, gmacs", RESNETS)
def test_resnet_family_matches_torchvision_metadata(args, params, gmacs):
    assert_published("resnet", args, params, gmacs)


def test_resnet_member_verifies_at_a_small_size():
    assert_verifies_small("resnet", {"depth": 50, "groups": 32, "width_per_group": 4})


# -- MNASNet `alpha`: torchvision MNASNet{0_5,0_75,1_0,1_3}_Weights.IMAGENET1K_V1 metadata ----------------------
MNASNET = {0.5: (2_218_512, "0.104"), 0.75: (3_170_208, "0.215"), 1.0: (4_383_312, "0.314"), 1.3: (6_282_256, "0.526")}


@pytest.mark.parametrize("alpha, published", MNASNET.items())
def test_mnasnet_alpha_matches_torchvision_metadata(alpha, published):
    assert_published("mnasnet", {"alpha": alpha}, *published)


def test_mnasnet_member_verifies_at_a_small_size():
    assert_verifies_small("mnasnet", {"alpha": 0.5})


# -- EfficientNet `phi`: torchvision EfficientNet_B{0..7}_Weights.IMAGENET1K_V1 metadata, at its crop sizes -------
EFFICIENTNET = [
    (5_288_548, "0.386"), (7_794_184, "0.687"), (9_109_994, "1.088"), (12_233_232, "1.827"),
    (19_341_616, "4.394"), (30_389_784, "10.266"), (43_040_704, "19.068"), (66_347_960, "37.746"),
]


@pytest.mark.parametrize("phi", range(8))
def test_efficientnet_phi_matches_torchvision_metadata(phi):
    assert_published("efficientnet", {"phi": phi}, *EFFICIENTNET[phi])


def test_efficientnet_member_verifies_at_a_small_size():
    assert_verifies_small("efficientnet", {"phi": 1})


# -- RegNet: the widths from w0, wa, wm, depth (Radosavovic et al. 2020, Section 3.3); torchvision RegNet_*_Weights ---
# (w0, wa, wm, depth, group_width, se_ratio) as torchvision's regnet_* builders pass them; num_params and GFLOPS
# (G multiply-adds) from the weights enum named. regnet_y_128gf has only SWAG weights; its SWAG_LINEAR_V1 is at 224.
REGNET = {
    "RegNet_Y_400MF_Weights.IMAGENET1K_V1": ((48, 27.89, 2.09, 16, 8, 0.25), 4_344_144, "0.402"),
    "RegNet_Y_800MF_Weights.IMAGENET1K_V1": ((56, 38.84, 2.4, 14, 16, 0.25), 6_432_512, "0.834"),
    "RegNet_Y_1_6GF_Weights.IMAGENET1K_V1": ((48, 20.71, 2.65, 27, 24, 0.25), 11_202_430, "1.612"),
    "RegNet_Y_3_2GF_Weights.IMAGENET1K_V1": ((80, 42.63, 2.66, 21, 24, 0.25), 19_436_338, "3.176"),
    "RegNet_Y_8GF_Weights.IMAGENET1K_V1": ((192, 76.82, 2.19, 17, 56, 0.25), 39_381_472, "8.473"),
    "RegNet_Y_16GF_Weights.IMAGENET1K_V1": ((200, 106.23, 2.48, 18, 112, 0.25), 83_590_140, "15.912"),
    "RegNet_Y_32GF_Weights.IMAGENET1K_V1": ((232, 115.89, 2.53, 20, 232, 0.25), 145_046_770, "32.28"),
    "RegNet_Y_128GF_Weights.IMAGENET1K_SWAG_LINEAR_V1": ((456, 160.83, 2.52, 27, 264, 0.25), 644_812_894, "127.518"),
    "RegNet_X_400MF_Weights.IMAGENET1K_V1": ((24, 24.48, 2.54, 22, 16, 0), 5_495_976, "0.414"),
    "RegNet_X_800MF_Weights.IMAGENET1K_V1": ((56, 35.73, 2.28, 16, 16, 0), 7_259_656, "0.8"),
    "RegNet_X_1_6GF_Weights.IMAGENET1K_V1": ((80, 34.01, 2.25, 18, 24, 0), 9_190_136, "1.603"),
    "RegNet_X_3_2GF_Weights.IMAGENET1K_V1": ((88, 26.31, 2.25, 25, 48, 0), 15_296_552, "3.177"),
    "RegNet_X_8GF_Weights.IMAGENET1K_V1": ((80, 49.56, 2.88, 23, 120, 0), 39_572_648, "7.995"),
    "RegNet_X_16GF_Weights.IMAGENET1K_V1": ((216, 55.59, 2.1, 22, 128, 0), 54_278_536, "15.941"),
    "RegNet_X_32GF_Weights.IMAGENET1K_V1": ((320, 69.86, 2.0, 23, 168, 0), 107_811_560, "31.736"),
}


def _regnet_args(values: tuple) -> dict:
    return dict(zip(("w0", "wa", "wm", "depth", "group_width", "se_ratio"), values))


@pytest.mark.parametrize("weights", REGNET)
def test_regnet_matches_torchvision_metadata(weights):
    values, params, gmacs = REGNET[weights]
    assert_published("regnet", _regnet_args(values), params, gmacs)


def test_regnet_stages_from_the_quantised_widths():
    """regnet_x_400mf by hand: u_j = 24 + 24.48·j for j = 0..21; k_j = round(log(u_j / 24) / log(2.54)) is
    0 for j = 0, 1 for j = 1..2 (u = 48.5, 73.0: log ratios / 0.932 = 0.75, 1.19), 2 for j = 3..9, 3 for j = 10..21;
    widths 24·2.54^k rounded to 8: 24, 61 → 64, 154.8 → 152, 393.3 → 392; stage depths 1, 2, 7, 12. Made
    compatible with group width 16 (torchvision _make_divisible(w, min(16, w))): 24 → 32, 64, 152 → 160, 392 → 400."""
    args = cnncost.analyze("regnet", args=_regnet_args(REGNET["RegNet_X_400MF_Weights.IMAGENET1K_V1"][0])).args
    assert args["stage_depths"] == [1, 2, 7, 12]
    assert args["stage_widths"] == [32, 64, 160, 400]
    assert args["group_widths"] == [16, 16, 16, 16]


def test_regnet_reference_follows_the_point():
    report = cnncost.analyze("regnet", args=_regnet_args(REGNET["RegNet_X_800MF_Weights.IMAGENET1K_V1"][0]))
    assert report.reference["top1"] == 75.212  # RegNet_X_800MF_Weights.IMAGENET1K_V1 acc@1
    assert cnncost.analyze("regnet", args={"depth": 13}).reference == {}


@pytest.mark.parametrize("setting", ["wm=1", "wa=-5", "w0=20", "depth=0"])
def test_regnet_refuses_what_torchvision_refuses(cli, setting):
    """torchvision BlockParams.from_init_params raises "Invalid RegNet settings" unless w0 is a positive multiple
    of 8, wa ≥ 0 and wm > 1; no block at all is refused as well."""
    result = cli("summary", "regnet", "--set", setting)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "requirement not met: w0 > 0 and w0 % 8 == 0 and wa >= 0 and wm > 1 and d >= 1" in result.stderr


def test_regnet_members_verify_at_a_small_size():
    assert_verifies_small("regnet", {})  # regnet_y_400mf: squeeze-excite
    assert_verifies_small("regnet", {**_regnet_args(REGNET["RegNet_X_400MF_Weights.IMAGENET1K_V1"][0]), "depth": 6})


def test_regnet_matches_a_torchvision_built_model():
    """Beside the published metadata: torchvision's RegNet built from other parameters (bottleneck ratio 2,
    five stages), parameters counted by torch."""
    torch = pytest.importorskip("torch")
    regnet = pytest.importorskip("torchvision.models.regnet")
    args = {"w0": 32, "wa": 20.0, "wm": 1.6, "depth": 12, "group_width": 8, "bottleneck_ratio": 0.5, "se_ratio": 0.25}
    block_params = regnet.BlockParams.from_init_params(
        depth=12, w_0=32, w_a=20.0, w_m=1.6, group_width=8, bottleneck_multiplier=0.5, se_ratio=0.25)
    model = regnet.RegNet(block_params, norm_layer=torch.nn.BatchNorm2d)
    report = cnncost.analyze("regnet", args=args)
    assert report.args["stage_widths"] == block_params.widths
    assert report.args["stage_depths"] == block_params.depths
    assert report.totals.params == sum(p.numel() for p in model.parameters())
