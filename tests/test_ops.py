"""Each op's rules against hand arithmetic (the formula written out in the test, not taken from the code)."""
import pytest

import cnncost
from cnncost.errors import CnnCostError
from cnncost.ops import OPS
from cnncost.receptive import AxisField
from cnncost.spec import load_text


def layer(op_line: str, input_shape: str = "3x32x32", batch: int = 1, dtype: str = "float32"):
    spec = load_text(f"name: t\ninput: {input_shape}\nlayers:\n  - {op_line}\n")
    report = cnncost.analyze(spec, batch=batch, dtype=dtype)
    return report.layers[-1]


def test_conv_grouped_params_and_macs():
    row = layer("conv2d: {out: 64, kernel: 3, padding: 1, groups: 4}", "32x16x16")
    assert row.output_shape == (64, 16, 16)
    assert row.params == 64 * (32 // 4) * 3 * 3 + 64
    assert row.macs == 64 * 16 * 16 * (32 // 4) * 9
    assert row.kind == "3×3 conv (grouped)"


def test_depthwise_conv():
    row = layer("conv2d: {out: 32, kernel: 3, stride: 2, padding: 1, groups: 32, bias: false}", "32x112x112")
    assert row.output_shape == (32, 56, 56)  # floor((112+2−3)/2)+1
    assert row.params == 32 * 1 * 9
    assert row.macs == 32 * 56 * 56 * 9
    assert row.kind == "depthwise conv"


@pytest.mark.parametrize("groups, channels, variant", [(1, 32, None), (32, 32, "depthwise"), (4, 32, "grouped"), (2, 4, "grouped")])
def test_conv_variant_is_depthwise_when_every_channel_is_its_own_group(groups, channels, variant):
    attrs = {"groups": groups, "kernel": (3, 3), "stride": (1, 1), "padding": (1, 1)}  # 3×3: not pointwise
    assert OPS["conv2d"].variant(attrs, [(channels, 8, 8)]) == variant


def test_conv_dilation_and_per_axis_lists():
    row = layer("conv2d: {out: 8, kernel: [1, 7], padding: [0, 6], dilation: [1, 2]}", "4x10x20")
    # H: 10+0−1+1 = 10; W: 20+12−(2·6+1)+1 = 20
    assert row.output_shape == (8, 10, 20)
    assert row.macs == 8 * 10 * 20 * 4 * 7
    # W: the dilated kernel spans 2·6+1 = 13 pixels; padding 6 centres it, so element 0's view starts at 0
    assert row.receptive_field == (AxisField(1, 1, 0), AxisField(13, 1, 0))


def test_conv_same_padding_tensorflow_rule():
    row = layer("conv2d: {out: 8, kernel: 3, stride: 2, padding: same}", "3x15x15")
    assert row.output_shape == (8, 8, 8)  # ceil(15/2)
    assert row.warnings == ()


def test_conv1d_and_conv3d():
    assert layer("conv1d: {out: 16, kernel: 80, stride: 4}", "1x8000").output_shape == (16, (8000 - 80) // 4 + 1)
    row = layer("conv3d: {out: 64, kernel: 3, padding: 1}", "3x16x112x112")
    assert row.output_shape == (64, 16, 112, 112)
    assert row.params == 64 * 3 * 27 + 64
    assert row.macs == 64 * 16 * 112 * 112 * 3 * 27


def test_stride_warning_names_dropped_rows():
    row = layer("maxpool2d: {kernel: 3, stride: 2}", "64x56x56")
    assert row.output_shape == (64, 27, 27)
    assert "1 row of 56" in row.warnings[0] and "1 col of 56" in row.warnings[0]


def test_strict_turns_the_warning_into_an_error():
    spec = load_text("name: t\ninput: 64x56x56\nlayers:\n  - maxpool2d: {kernel: 3, stride: 2}\n", "net.yaml")
    with pytest.raises(CnnCostError) as info:
        cnncost.analyze(spec, strict=True)
    assert "net.yaml:4" in str(info.value)


def test_pool_ceil_mode_pytorch_rule():
    # GoogLeNet: 112 → maxpool 3/2 ceil → ceil((112−3)/2)+1 = 56
    assert layer("maxpool2d: {kernel: 3, stride: 2, ceil_mode: true}", "64x112x112").output_shape == (64, 56, 56)
    # last window must start inside the input: 5 + pad 1, k 2, s 2, ceil → ceil(5/2)+1 = 4, start 6 ≥ 5+1 → 3
    assert layer("maxpool1d: {kernel: 2, stride: 2, padding: 1, ceil_mode: true}", "1x5").output_shape == (1, 3)


def test_linear_on_3d_input_counts_every_position():
    row = layer("linear: {out: 10}", "4x7x32")
    assert row.output_shape == (4, 7, 10)
    assert row.macs == 4 * 7 * 32 * 10
    assert row.params == 32 * 10 + 10


def test_batchnorm_params_are_affine_and_buffers_separate():
    row = layer("batchnorm", "64x8x8")
    assert (row.params, row.buffers, row.macs) == (128, 128, 0)
    assert row.flops == 2 * 64 * 8 * 8


def test_norm_params():
    assert layer("groupnorm: {groups: 8}", "64x8x8").params == 128
    assert layer("instancenorm", "64x8x8").params == 0
    assert layer("layernorm", "4x8x8").params == 2 * 4 * 8 * 8
    assert layer("layernorm: {dims: 1}", "4x8x8").params == 2 * 8


def test_batch_and_dtype_scale_costs_not_params():
    one = layer("conv2d: {out: 8, kernel: 3}", "3x10x10")
    eight = layer("conv2d: {out: 8, kernel: 3}", "3x10x10", batch=8, dtype="float16")
    assert eight.macs == 8 * one.macs and eight.params == one.params
    assert eight.activation_bytes == 8 * 8 * 8 * 8 * 2  # elements × batch × 2 bytes


def test_adaptive_and_global_pool():
    assert layer("adaptive_avgpool2d: {output: 7}", "512x14x14").output_shape == (512, 7, 7)
    assert layer("global_avgpool", "512x7x7").output_shape == (512,)
    assert layer("global_avgpool: {keepdims: true}", "512x7x7").output_shape == (512, 1, 1)


def test_flops_convention_conv_with_bias():
    row = layer("conv2d: {out: 4, kernel: 1}", "2x3x3")
    macs = 4 * 9 * 2
    assert row.flops == 2 * macs + 4 * 9  # 2 per MAC + one bias add per output element


@pytest.mark.parametrize(
    "line,shape,message",
    [
        ("conv2d: {out: 8, kernel: 11}", "3x8x8", "kernel spans 11"),
        ("conv2d: {out: 8, kernel: 3, groups: 2}", "3x8x8", "groups=2 must divide"),
        ("conv2d: {out: 8, kernel: 3}", "3x8", "expects a C×H×W input"),
        ("linear: {out: 0}", "8", "at least 1"),
        ("conv2d: {out: 8, kernel: 3, strid: 2}", "3x8x8", "did you mean 'stride'"),
        ("conv2d: {out: 8.5, kernel: 3}", "3x8x8", "must be an integer"),
        ("conv2d: {out: true, kernel: 3}", "3x8x8", "must be an integer"),
        ("conv2d: {kernel: 3}", "3x8x8", "needs key 'out'"),
        ("conv2d: {out: 8, kernel: [3, 3, 3]}", "3x8x8", "one per spatial axis"),
        ("maxpool2d: {kernel: 2, padding: 2}", "3x8x8", "at most half the kernel"),
        ("dropout: {p: 1.5}", "3x8x8", "between 0 and 1"),
        ("dropout: {p: .nan}", "3x8x8", "not a finite number"),
    ],
)
def test_bad_hyperparameters_name_the_problem_and_line(line, shape, message):
    with pytest.raises(CnnCostError) as info:
        cnncost.analyze(load_text(f"name: t\ninput: {shape}\nlayers:\n  - {line}\n", "net.yaml"))
    assert message in str(info.value)
    assert "net.yaml:4:" in str(info.value)
