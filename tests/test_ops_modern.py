"""Issue 11's modern-CNN ops (permute, reshape, scale, matmul, reductions, prelu/elu/mish/softplus/hardtanh) and
`linear`'s `in` key, each rule against hand arithmetic written out here (not taken from the code)."""
from fractions import Fraction

import pytest

import cnncost
from cnncost.errors import CnnCostError
from cnncost.receptive import AxisField
from cnncost.spec import load_text


def rows(layers: str, input_shape: str = "8x6x5"):
    text = f"name: t\ninput: {input_shape}\nlayers:\n" + "".join(f"  - {line}\n" for line in layers.strip().splitlines())
    return cnncost.analyze(load_text(text, "net.yaml")).layers


def layer(line: str, input_shape: str = "8x6x5"):
    return rows(line, input_shape)[-1]


def refused(layers: str, input_shape: str, *fragments, line: int = 4):
    with pytest.raises(CnnCostError) as info:
        rows(layers, input_shape)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert f"net.yaml:{line}:" in str(info.value)


UNCHANGED = (AxisField(1, 1, 0), AxisField(1, 1, 0))


# ------------------------------------------------------------------------------------------ permute, reshape


def test_permute_moves_axes_and_costs_nothing():
    row = layer("permute: {axes: [1, 2, 0]}")  # C×H×W → H×W×C
    assert row.output_shape == (6, 5, 8)
    assert (row.params, row.macs, row.flops) == (0, 0, 0)
    assert row.receptive_field == UNCHANGED  # fields follow the network input's axes; data only moves


def test_permute_accepts_negative_axes():
    assert layer("permute: {axes: [-1, 0, 1]}").output_shape == (5, 8, 6)


@pytest.mark.parametrize("axes, message", [("[0, 0, 1]", "names an axis twice"), ("[0, 1]", "each of the 3"),
                                           ("[0, 1, 3]", "axis 3 is out of range")])
def test_permute_must_be_a_permutation(axes, message):
    refused(f"permute: {{axes: {axes}}}", "8x6x5", message, f"axes {axes}")


def test_reshape_infers_one_size():
    row = layer("reshape: {shape: [8, -1]}")
    assert row.output_shape == (8, 6 * 5)
    assert (row.params, row.macs, row.flops) == (0, 0, 0)


def test_reshape_that_moves_spatial_elements_reads_whole_axes():
    row = layer("reshape: {shape: [8, 30]}")
    # every output element may come from anywhere in the 6×5 plane: H 6 wide, W 5 wide
    assert row.receptive_field == (AxisField(6, 6, Fraction(5, 2)), AxisField(5, 5, 2))
    assert layer("reshape: {shape: [8, 6, 5]}").receptive_field == UNCHANGED


@pytest.mark.parametrize("shape, message", [("[7, -1]", "does not hold the 240 elements"),
                                            ("[-1, -1]", "at most one −1"), ("[8, 0, 30]", "at least 1")])
def test_reshape_errors_name_the_shape(shape, message):
    refused(f"reshape: {{shape: {shape}}}", "8x6x5", message)


def test_channels_last_mlp_costs_what_a_1x1_conv_costs():
    """ConvNeXt's permute → layernorm(dims 1) → linear → permute equals a 1×1 conv in params and MACs."""
    mlp = rows("permute: {axes: [1, 2, 0]}\nlayernorm: {dims: 1}\nlinear: {out: 32}\npermute: {axes: [2, 0, 1]}")
    assert mlp[-1].output_shape == (32, 6, 5)
    assert mlp[1].params == 2 * 8  # layer norm over the 8 channels only
    assert mlp[2].params == 8 * 32 + 32
    assert mlp[2].macs == 6 * 5 * 8 * 32  # every position times in × out
    conv = layer("conv2d: {out: 32, kernel: 1}")
    assert (mlp[2].params, mlp[2].macs) == (conv.params, conv.macs)


# ----------------------------------------------------------------------------------------------- scale


def test_scale_is_one_parameter_per_channel_and_no_macs():
    row = layer("scale", "96x56x56")
    assert row.output_shape == (96, 56, 56)
    assert (row.params, row.macs) == (96, 0)
    assert row.flops == 96 * 56 * 56  # one multiply per element
    assert row.kind == "layer scale"  # not grouped with the linear layers


def test_scale_along_another_axis():
    assert layer("scale: {axis: -1}").params == 5
    refused("scale: {axis: 3}", "8x6x5", "axis 3 is out of range")


# ---------------------------------------------------------------------------------------------- matmul


def test_matmul_broadcasts_leading_axes_and_counts_m_k_n():
    out = rows("identity: {name: q}\nmean: {axes: [0], keepdims: true}\npermute: {name: k, axes: [0, 2, 1]}\n"
               "matmul: {inputs: [q, k]}", "4x3x6")
    row = out[-1]
    # (4, 3, 6) @ (1, 6, 3): leading axis 4 broadcast with 1 → 4; M 3, K 6, N 3
    assert row.output_shape == (4, 3, 3)
    assert row.macs == 4 * 3 * 6 * 3
    assert row.flops == 2 * row.macs
    assert row.params == 0


def test_matmul_needs_inner_sizes_to_agree():
    refused("identity: {name: a}\nmatmul: {inputs: [a, a]}", "4x3x6", "(…, M, K) and (…, K, N)", "4×3×6 and 4×3×6", line=5)


# -------------------------------------------------------------------------------------------- reductions


@pytest.mark.parametrize("op", ["mean", "sum", "amax"])
def test_channel_reduction_keeps_the_spatial_field(op):
    """CBAM's channel pooling: reduce axis 0 with keepdims → 1×H×W, one add or comparison per input element."""
    row = layer(f"{op}: {{axes: [0], keepdims: true}}", "16x7x7")
    assert row.output_shape == (1, 7, 7)
    assert (row.params, row.macs, row.flops) == (0, 0, 16 * 7 * 7)
    assert row.receptive_field == UNCHANGED


def test_spatial_reduction_reads_whole_axes_and_drops_them():
    row = layer("mean: {axes: [1, 2]}", "16x7x5")
    assert row.output_shape == (16,)
    assert row.receptive_field == (AxisField(7, 7, 3), AxisField(5, 5, 2))
    only_width = layer("amax: {axes: [-1]}", "16x7x5")
    assert only_width.output_shape == (16, 7)
    assert only_width.receptive_field == (AxisField(1, 1, 0), AxisField(5, 5, 2))


def test_reducing_every_axis_needs_keepdims():
    refused("sum: {axes: [0, 1, 2]}", "16x7x5", "reduce every axis")
    assert layer("sum: {axes: [0, 1, 2], keepdims: true}", "16x7x5").output_shape == (1, 1, 1)


# --------------------------------------------------------------------------------------------- activations


def test_prelu_has_one_or_c_slopes():
    assert layer("prelu", "64x8x8").params == 1
    assert layer("prelu: {per_channel: true}", "64x8x8").params == 64


@pytest.mark.parametrize("op, per_element", [("prelu", 2), ("elu", 4), ("softplus", 4), ("mish", 10), ("hardtanh", 2)])
def test_activation_flops_per_element_as_documented(op, per_element):
    row = layer(op, "4x3x5")
    assert (row.output_shape, row.macs) == ((4, 3, 5), 0)
    assert row.flops == per_element * 4 * 3 * 5


def test_hardtanh_needs_min_below_max():
    refused("hardtanh: {min: 1, max: -1}", "4x3x5", "min < max", "min=1.0 and max=-1.0")


# ------------------------------------------------------------------------------------------- linear `in`


def test_linear_in_accepts_the_size_it_was_built_for():
    row = layer("flatten\nlinear: {out: 10, in: 240}")
    assert row.params == 240 * 10 + 10


def test_linear_in_names_both_sizes_and_suggests_adaptive_pooling():
    refused("flatten\nlinear: {out: 10, in: 9216}", "8x6x5", "in: 9216", "receives 240", "adaptive_avgpool2d", line=5)
