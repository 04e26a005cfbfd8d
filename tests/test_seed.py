"""The seed notes' numbers (../shared/seed, EECS 498 lectures 7-8), regenerated; their errata recorded."""
import pytest

import cnncost
from cnncost.render.views import lecture_view
from cnncost.spec import load_text

# Seed, "Strided Convolutions" worked example: 3×32×32 input, 10 filters 5×5, stride 1, pad 2.
WORKED_EXAMPLE = """
name: example
input: 3x32x32
layers:
  - conv2d: {out: 10, kernel: 5, stride: 1, padding: 2}
"""


def test_worked_example_shape_params_macs():
    (row,) = cnncost.analyze(load_text(WORKED_EXAMPLE)).layers
    assert row.output_shape == (10, 32, 32)  # 10×((32+4−5)/1+1)²
    assert row.params == 760  # 10·3·5·5 + 10
    assert row.macs == 768_000  # 75 multiply-adds per output · 10·32·32 outputs


# Seed AlexNet table, printed cells: (layer, in C, in H/W, filters, kernel, stride, pad, out C, out H/W,
# memory KB, params k, FLOP M). Blank cells are None.
SEED_ALEXNET = [
    ("conv1", 3, 227, 64, 11, 4, 2, 64, 56, 784, 23, 73),
    ("pool1", 64, 56, None, 3, 2, 0, 64, 27, 182, 0, 0),
    ("conv2", 64, 27, 192, 5, 1, 2, 192, 27, 547, 307, 224),
    ("pool2", 192, 27, None, 3, 2, 0, 192, 13, 127, 0, 0),
    ("conv3", 192, 13, 384, 3, 1, 1, 384, 13, 254, 664, 112),
    ("conv4", 384, 13, 256, 3, 1, 1, 256, 13, 169, 885, 145),
    ("conv5", 256, 13, 256, 3, 1, 1, 256, 13, 169, 590, 100),
    ("pool5", 256, 13, None, 3, 2, 0, 256, 6, 36, 0, 0),
    ("flatten", 256, 6, None, None, None, None, 9216, None, 36, 0, 0),
    ("fc6", 9216, None, None, None, None, None, 4096, None, 16, 37_749, 38),
    ("fc7", 4096, None, None, None, None, None, 4096, None, 16, 16_777, 17),
    ("fc8", 4096, None, None, None, None, None, 1000, None, 4, 4_096, 4),
]
# Cells the seed prints wrongly: (layer, column) -> (printed, correct, why)
ALEXNET_ERRATA = {
    ("conv4", "flop_m"): (145, 149_520_384, "256·13·13 outputs × 384·3·3 = 149,520,384 multiply-adds ≈ 149.5 M"),
    ("fc6", "params_k"): (37_749, 37_752_832, "9216·4096 weights + 4096 biases; the seed omits the bias"),
    ("fc7", "params_k"): (16_777, 16_781_312, "4096·4096 + 4096"),
    ("fc8", "params_k"): (4_096, 4_097_000, "4096·1000 + 1000"),
}


@pytest.fixture(scope="module")
def alexnet_rows():
    report = cnncost.analyze("alexnet")
    view = lecture_view(report)
    return {row.name: row for row in view.rows}, view


def test_lecture_view_lists_the_seed_rows_in_order(alexnet_rows):
    rows, view = alexnet_rows
    assert list(rows) == [printed[0] for printed in SEED_ALEXNET]


@pytest.mark.parametrize("printed", SEED_ALEXNET, ids=[p[0] for p in SEED_ALEXNET])
def test_alexnet_row_matches_the_seed(alexnet_rows, printed):
    rows, view = alexnet_rows
    row = rows[printed[0]]
    shown = {c.header: c.value(row) for c in view.columns}
    layer, in_c, in_hw, filters, kernel, stride, pad, out_c, out_hw, mem_kb, params_k, flop_m = printed
    assert shown["Input C"] == in_c
    assert str(shown["Input H/W"]) == ("" if in_hw is None else str(in_hw))
    assert str(shown["Filters"]) == ("" if filters is None else str(filters))
    assert shown["Kernel"] == ("" if kernel is None else str(kernel))
    assert shown["Stride"] == ("" if stride is None else str(stride))
    assert shown["Pad"] == ("" if pad is None else str(pad))
    assert shown["Output C"] == out_c
    assert str(shown["Output H/W"]) == ("" if out_hw is None else str(out_hw))
    assert round(row.activation_bytes / 1024) == mem_kb  # float32, batch 1, KB = 1024 B
    if (layer, "params_k") in ALEXNET_ERRATA:
        printed_k, correct, _ = ALEXNET_ERRATA[(layer, "params_k")]
        assert row.params == correct and round(row.params / 1000) != printed_k
    else:
        assert round(row.params / 1000) == params_k
    if (layer, "flop_m") in ALEXNET_ERRATA:
        printed_m, correct, _ = ALEXNET_ERRATA[(layer, "flop_m")]
        assert row.macs == correct and round(row.macs / 10**6, 1) == 149.5 and round(row.macs / 10**6) != printed_m
    else:
        assert round(row.macs / 10**6) == flop_m  # the lecture's FLOP is one multiply-add


def test_alexnet_conv1_flops_as_the_seed_derives_them():
    # seed: (64·56·56)·(11·11·3) = 72,855,552
    conv1 = cnncost.analyze("alexnet").layers[0]
    assert conv1.macs == 64 * 56 * 56 * 11 * 11 * 3 == 72_855_552


# Seed LeNet-5 table: (layer, printed output size, weight size)
SEED_LENET = [
    ("conv1", (20, 28, 28), (20, 1, 5, 5)),
    ("pool1", (20, 14, 14), None),
    ("conv2", (50, 14, 14), (50, 20, 5, 5)),
    ("pool2", (50, 7, 7), None),
    ("flatten_1", (2450,), None),
    ("fc1", (50, 7, 7), (2450, 500)),  # erratum: printed 50×7×7, the output of 2450→500 is 500
    ("fc2", (10,), (500, 10)),
]
LENET_ERRATA = {"fc1": ((50, 7, 7), (500,))}


@pytest.mark.parametrize("layer,printed,weights", SEED_LENET, ids=[r[0] for r in SEED_LENET])
def test_lenet5_matches_the_seed(layer, printed, weights):
    rows = {row.name: row for row in cnncost.analyze("lenet5").layers}
    row = rows[layer]
    if layer in LENET_ERRATA:
        wrong, right = LENET_ERRATA[layer]
        assert printed == wrong and row.output_shape == right
    else:
        assert row.output_shape == printed
    if weights:
        bias = weights[0] if len(weights) == 4 else weights[1]
        n = 1
        for d in weights:
            n *= d
        assert row.params == n + bias


def test_vgg_design_rule_equal_cost_per_stage():
    # Seed: a 3×3 conv C→C on C×2H×2W and 2C→2C on 2C×H×W cost the same; vgg16 conv2_2/3_2/4_2:
    # 128·112·112·128·9 = 256·56·56·256·9 = 512·28·28·512·9 = 1,849,688,064
    rows = {row.name: row for row in cnncost.analyze("vgg16").layers}
    expected = 128 * 112 * 112 * 128 * 9
    assert expected == 1_849_688_064
    assert rows["conv2_2"].macs == rows["conv3_2"].macs == rows["conv4_2"].macs == expected
    assert rows["conv3_2"].params == 4 * (rows["conv2_2"].params - 128) + 256  # 36C² vs 9C² weights
