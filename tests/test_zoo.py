"""Every bundled spec against its cited numbers.

Sources: torchvision's published weights metadata (exact `num_params`; the "GFLOPS" column, which counts one
multiply-add once, conv and linear only, at 224×224); Howard et al. 2017 (MobileNets) Tables 1, 2 and 8;
He et al. 2016 (ResNet) Table 1. The table below is copied from those sources, independently of the specs.
"""
from decimal import Decimal

import pytest

import cnncost
from cnncost.spec.bundled import bundled_names

# name: (params exactly, GMACs as published)
TORCHVISION = {
    "alexnet": (61_100_840, None),
    "vgg11": (132_863_336, "7.61"),
    "vgg13": (133_047_848, None),
    "vgg16": (138_357_544, "15.47"),
    "vgg19": (143_667_240, "19.63"),
    "vgg16_bn": (138_365_992, "15.47"),
    "resnet18": (11_689_512, "1.814"),
    "resnet34": (21_797_672, "3.664"),
    "resnet50": (25_557_032, "4.089"),
    "resnet101": (44_549_160, "7.801"),
    "resnet152": (60_192_808, "11.514"),
    "resnext50_32x4d": (25_028_904, "4.23"),
    "wide_resnet50_2": (68_883_240, "11.398"),
    "densenet121": (7_978_856, "2.834"),
    "densenet169": (14_149_480, "3.36"),
    "densenet201": (20_013_928, "4.291"),
    "googlenet": (6_624_904, "1.498"),
    "mobilenet_v2": (3_504_872, "0.301"),
    "shufflenet_v2_x1_0": (2_278_604, "0.145"),
    "squeezenet1_0": (1_248_424, "0.819"),
    "squeezenet1_1": (1_235_496, "0.349"),
    "convnext_tiny": (28_589_128, "4.456"),  # ConvNeXt_Tiny_Weights.IMAGENET1K_V1
    "efficientnet_b0": (5_288_548, "0.386"),  # EfficientNet_B0_Weights.IMAGENET1K_V1
    "mobilenet_v3_large": (5_483_032, "0.217"),  # MobileNet_V3_Large_Weights.IMAGENET1K_V1 (V2 weights: same model)
    "fcn_resnet50": (35_322_218, "152.717"),  # FCN_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1, at 520×520, both heads
}
REQUIRED_ZOO = set(TORCHVISION) | {"lenet5", "zfnet", "mobilenet_v1", "vgg11_bn", "vgg13_bn", "vgg19_bn", "googlenet_aux", "resnet50_v1"}


def rounds_to(value: int, published: str, scale: int) -> bool:
    """Does value/scale, rounded to the published number of decimals, equal the published figure?"""
    places = -Decimal(published).as_tuple().exponent
    return round(Decimal(value) / scale, places) == Decimal(published)


@pytest.fixture(scope="module")
def reports():
    return {}


def report_of(name, cache={}):
    if name not in cache:
        cache[name] = cnncost.analyze(name)
    return cache[name]


def test_every_required_model_is_bundled():
    missing = REQUIRED_ZOO - set(bundled_names())
    assert not missing, f"missing bundled specs: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_params_exact_and_macs_round_to_published(name):
    params, gmacs = TORCHVISION[name]
    totals = report_of(name).totals
    assert totals.params == params
    if gmacs:
        assert rounds_to(totals.macs, gmacs, 10**9), f"{totals.macs:,} does not round to {gmacs} G"


def test_resnet50_macs_exactly():
    assert report_of("resnet50").totals.macs == 4_089_184_256


def test_convnext_tiny_macs_as_torchvision_counts():
    # ConvNeXt_Tiny_Weights.IMAGENET1K_V1: GFLOPS 4.456 (conv and linear multiply-adds). Written out per stage:
    # stem 56²·96·3·16; per block at side s, width d: s²·d·49 (depthwise 7×7) + 2·s²·d·4d (the MLP);
    # downsampling 2×2 convs; the 768 → 1000 head.
    stem = 56 * 56 * 96 * 3 * 16
    blocks = sum(n * (s * s * d * 49 + 2 * s * s * d * 4 * d) for n, s, d in [(3, 56, 96), (3, 28, 192), (9, 14, 384), (3, 7, 768)])
    downsample = sum(s * s * d_out * d_in * 4 for s, d_in, d_out in [(28, 96, 192), (14, 192, 384), (7, 384, 768)])
    assert report_of("convnext_tiny").totals.macs == stem + blocks + downsample + 768 * 1000


@pytest.mark.parametrize("name, line, features, other_input, other_features", [
    ("alexnet", "fc6", 256 * 6 * 6, (3, 259, 259), 256 * 7 * 7),  # 259: conv1 63, pool 31, pool 15, pool 7
    ("zfnet", "fc6", 256 * 6 * 6, (3, 256, 256), 256 * 7 * 7),
    ("lenet5", "fc1", 50 * 7 * 7, (1, 32, 32), 50 * 8 * 8),
])
def test_fixed_size_classifiers_pin_their_input(name, line, features, other_input, other_features):
    """The reference networks have no adaptive pool, so their first linear takes exactly one feature count."""
    from cnncost.errors import CnnCostError
    from cnncost.spec import load

    assert cnncost.analyze(load(name)).layers  # the published input passes
    with pytest.raises(CnnCostError) as info:
        cnncost.analyze(load(name, other_input))
    message = str(info.value)
    assert f"{name}.yaml:" in message and f"layer {line!r}" in message
    assert f"in: {features}" in message and f"receives {other_features}" in message and "adaptive" in message


def test_mobilenet_v3_large_nonlinearities_follow_table_1():
    # Howard et al. 2019, Table 1 (MobileNetV3-Large), column NL: RE in bnecks 1-6, HS in 7-15; stem and last
    # conv HS. The depthwise conv's activation (features.N.block.1.2) shows each block's choice.
    ops = {row.name: row.op for row in report_of("mobilenet_v3_large").layers}
    table_1 = ["relu"] * 6 + ["hardswish"] * 9
    assert [ops[f"features.{n}.block.1.2"] for n in range(1, 16)] == table_1
    assert ops["features.0.2"] == ops["features.16.2"] == "hardswish"
    gates = [row.op for row in report_of("mobilenet_v3_large").layers if row.name.endswith("scale_activation")]
    assert gates == ["hardsigmoid"] * 8  # SE in bnecks 4, 5, 6, 11, 12, 13, 14, 15


def test_efficientnet_b0_uses_silu_and_sigmoid_gates():
    # Tan & Le 2019 (Swish = SiLU throughout; SE gates are sigmoids); torchvision efficientnet_b0
    ops = {row.op for row in report_of("efficientnet_b0").layers if row.op in ("relu", "relu6", "silu", "sigmoid", "hardswish")}
    assert ops == {"silu", "sigmoid"}


def test_vgg16_macs_exactly():
    assert report_of("vgg16").totals.macs == 15_470_264_320


@pytest.mark.parametrize("name", sorted(bundled_names()))
def test_bundled_spec_carries_a_source_and_agrees_with_its_reference(name):
    report = report_of(name)
    assert report.source, f"{name} cites no source"
    reference = report.reference
    if "params" in reference:
        published = str(reference["params"])
        if published.isdigit():
            assert report.totals.params == int(published)
        else:  # e.g. "4.2M" as a paper prints it
            assert rounds_to(report.totals.params, published[:-1], {"k": 10**3, "M": 10**6}[published[-1]])
    if "macs" in reference:
        published = str(reference["macs"])
        assert rounds_to(report.totals.macs, published[:-1], {"M": 10**6, "G": 10**9}[published[-1]])
    if name in TORCHVISION and "params" in reference:
        assert int(reference["params"]) == TORCHVISION[name][0]  # the spec's metadata matches the cited table


def test_vgg_bn_params_are_vgg_plus_two_per_conv_channel():
    for depth in (11, 13, 16, 19):
        plain, bn = report_of(f"vgg{depth}"), report_of(f"vgg{depth}_bn")
        conv_channels = sum(row.output_shape[0] for row in plain.layers if row.op == "conv2d")
        assert bn.totals.params == plain.totals.params + 2 * conv_channels
        assert bn.totals.macs == plain.totals.macs


def test_mobilenet_v1_as_the_paper_counts():
    # Howard et al. 2017, Table 8: 1.0 MobileNet-224 has 569 M mult-adds and 4.2 M parameters
    # (conv and FC weights; BN not counted). The precise figures: 568.7 M and 4.21 M.
    report = report_of("mobilenet_v1")
    weights = sum(row.params for row in report.layers if row.op in ("conv2d", "linear"))
    assert rounds_to(report.totals.macs, "568.7", 10**6) and rounds_to(report.totals.macs, "569", 10**6)
    assert rounds_to(weights, "4.21", 10**6) and rounds_to(weights, "4.2", 10**6)


# Howard et al. 2017, Table 2 "Resource per layer type": (mult-adds %, params %).
# Its printed 1.19% for Conv 3×3 is a typo for 1.91% (the column must sum to 100).
MOBILENET_TABLE2 = {
    "1×1 conv": ("94.86", "74.59"),
    "depthwise conv": ("3.06", "1.06"),
    "3×3 conv": ("1.91", "0.02"),
    "linear": ("0.18", "24.33"),
}
MOBILENET_TABLE2_ERRATUM = ("3×3 conv", "1.19", "1.91")


def test_mobilenet_v1_table2_by_kind_of_layer():
    report = report_of("mobilenet_v1")
    kinds = {k.kind: k for k in report.kinds}
    # the paper's shares count weights only (no BN, no FC bias)
    weights = {row.kind: 0 for row in report.layers}
    for row in report.layers:
        if row.op in ("conv2d", "linear"):
            weights[row.kind] += row.params - (row.output_shape[-1] if row.op == "linear" else 0)
    total_weights = sum(weights.values())
    for kind, (mac_share, param_share) in MOBILENET_TABLE2.items():
        assert rounds_to(kinds[kind].macs * 100, mac_share, report.totals.macs), kind
        assert rounds_to(weights[kind] * 100, param_share, total_weights), kind
    kind, printed, correct = MOBILENET_TABLE2_ERRATUM
    assert not rounds_to(kinds[kind].macs * 100, printed, report.totals.macs)
    assert rounds_to(kinds[kind].macs * 100, correct, report.totals.macs)


def test_resnet50_stride_placement_explains_3_8_vs_4_1_gmacs():
    # He et al. 2016, Table 1: ResNet-50 "3.8×10⁹ FLOPs" (multiply-adds), stride 2 in the first 1×1 of a stage;
    # torchvision (stride on the 3×3, "ResNet v1.5"): 4.089 G. Erratum-like: the paper truncates, the
    # exact count is 3,857,973,248 ≈ 3.86 G (which rounds to 3.9).
    v1, v15 = report_of("resnet50_v1"), report_of("resnet50")
    assert v1.totals.macs // 10**8 == 38 and rounds_to(v1.totals.macs, "3.86", 10**9)
    assert v1.totals.params == v15.totals.params


def test_resnet50_depth_2_reads_like_the_stage_table():
    from cnncost.analysis import collapse

    rows = collapse(report_of("resnet50"), 1)
    stages = {row.name: row for row in rows if row.name.startswith("layer")}
    # He et al. 2016 Table 1, 50-layer column: conv2_x..conv5_x outputs 56², 28², 14², 7²; ×3, ×4, ×6, ×3 blocks
    assert [stages[f"layer{i}"].output_shape for i in (1, 2, 3, 4)] == [(256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]
    blocks = [b for b in report_of("resnet50").blocks if b.depth == 2 and b.name.startswith("layer")]
    assert [sum(1 for b in blocks if b.name.startswith(f"layer{i}.")) for i in (1, 2, 3, 4)] == [3, 4, 6, 3]
