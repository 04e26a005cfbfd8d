"""Memory traffic and arithmetic intensity against hand arithmetic (cnncost.traffic's convention written out)."""
import pytest

import cnncost
from cnncost.spec import load_text


def model(layers: str, input_shape: str = "3x32x32", batch: int = 1, dtype: str = "float32"):
    spec = load_text(f"name: t\ninput: {input_shape}\nlayers:\n{layers}")
    return cnncost.analyze(spec, batch=batch, dtype=dtype)


# ShuffleNet V2 (Ma et al., ECCV 2018), section 3, guideline G1 and Table 1: a 1×1 conv without bias on an h×w map
# with c1 input and c2 output channels has MAC = hw(c1 + c2) + c1·c2 memory accesses (elements), and for fixed
# FLOPs B = hw·c1·c2 it is smallest when c1 = c2. Table 1 tests the ratios 1:1, 1:2, 1:6 and 1:12 on a 56×56 map
# with (c1, c2) = (128, 128), (90, 180), (52, 312), (36, 432).
TABLE1 = [(128, 128), (90, 180), (52, 312), (36, 432)]


@pytest.mark.parametrize("c1, c2", TABLE1)
def test_one_by_one_conv_is_shufflenet_v2_memory_access_cost(c1, c2):
    h = w = 56
    row = model(f"  - conv2d: {{out: {c2}, kernel: 1, bias: false}}\n", f"{c1}x{h}x{w}", dtype="int8").layers[0]
    assert row.bytes_read + row.bytes_written == h * w * (c1 + c2) + c1 * c2  # int8: one byte per element
    assert row.macs == h * w * c1 * c2


def test_equal_channels_move_the_fewest_bytes_for_table1_flops():
    moved = []
    for c1, c2 in TABLE1:
        row = model(f"  - conv2d: {{out: {c2}, kernel: 1, bias: false}}\n", f"{c1}x56x56").layers[0]
        moved.append(row.bytes_read + row.bytes_written)
    assert moved == sorted(moved)  # 1:1 < 1:2 < 1:6 < 1:12, as G1 says


def test_conv_reads_input_and_weights_and_writes_output_per_batch():
    # 3×3 conv, 16 → 32 channels on 16×16, bias, batch 4, float16 (2 B): weights 32·16·9 + 32 = 4,640 read once
    row = model("  - conv2d: {out: 32, kernel: 3, padding: 1}\n", "16x16x16", batch=4, dtype="float16").layers[0]
    assert row.bytes_read == (16 * 16 * 16 * 4 + 32 * 16 * 9 + 32) * 2
    assert row.bytes_written == 32 * 16 * 16 * 4 * 2
    flops = 2 * 32 * 16 * 16 * 16 * 9 * 4 + 32 * 16 * 16 * 4  # 2 per MAC + the bias add, whole batch
    assert row.flops == flops
    assert row.arithmetic_intensity == pytest.approx(flops / ((16 * 16 * 16 * 4 + 4640) * 2 + 32 * 16 * 16 * 4 * 2))


def test_batchnorm_reads_its_running_statistics():
    # affine batchnorm over 8 channels: 16 params (weight, bias) + 16 buffers (running mean, var); float32
    row = model("  - batchnorm: {}\n", "8x4x4").layers[0]
    assert row.bytes_read == (8 * 4 * 4 + 16 + 16) * 4
    assert row.bytes_written == 8 * 4 * 4 * 4


def test_add_reads_both_inputs_and_a_broadcast_gate_reads_only_its_own_elements():
    report = model(
        "  - conv2d: {name: a, out: 8, kernel: 1, bias: false}\n"
        "  - add: {name: sum, inputs: [input, a]}\n"
        "  - global_avgpool: {name: gate, keepdims: true}\n"
        "  - mul: {name: scaled, inputs: [sum, gate]}\n",
        "8x4x4",
    )
    rows = {row.name: row for row in report.layers}
    assert rows["sum"].bytes_read == 2 * 8 * 4 * 4 * 4
    assert rows["scaled"].bytes_read == (8 * 4 * 4 + 8 * 1 * 1) * 4


def test_views_and_inference_dropout_move_nothing():
    report = model("  - flatten: {}\n  - dropout: {p: 0.5}\n  - linear: {out: 10}\n", "2x3x3")
    flatten, dropout, linear = report.layers
    assert (flatten.bytes_read, flatten.bytes_written, flatten.arithmetic_intensity) == (0, 0, 0.0)
    assert (dropout.bytes_read, dropout.bytes_written) == (0, 0)
    assert linear.bytes_read == (18 + 18 * 10 + 10) * 4


def test_totals_add_the_running_layers_and_leave_out_unused_ones():
    report = cnncost.analyze("googlenet_aux")
    running = [row for row in report.layers if not row.unused]
    assert report.totals.bytes_read == sum(row.bytes_read for row in running)
    assert report.totals.bytes_written == sum(row.bytes_written for row in running)
    assert report.totals.bytes_read < sum(row.bytes_read for row in report.layers)


def test_json_carries_the_traffic_keys(cli):
    import json

    result = cli("summary", "lenet5", "--format", "json")
    doc = json.loads(result.stdout)
    first = doc["layers"][0]
    assert {"bytes_read", "bytes_written", "arithmetic_intensity"} <= set(first)
    assert "estimated_seconds" not in first and doc["device"] is None
    assert doc["totals"]["bytes_read"] == sum(layer["bytes_read"] for layer in doc["layers"] if not layer["unused"])
