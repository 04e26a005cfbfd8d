"""A profile's `shape_efficiency`: the product shape a convolution runs as, the interpolation between measured
shapes (hand arithmetic), its use by the estimate, and bad entries exiting 2 at file:line."""
import pytest

from test_roofline import PROFILE as ROUND

import cnncost
from cnncost.devices import efficiency_at, load_profile
from cnncost.ops import OPS
from cnncost.spec import load_text

# The round device of test_roofline (1 GFLOP/s, 1 GB/s, 10 µs a layer, default efficiency 0.5, linear 1.0), with
# conv2d measured at two product shapes and its pointwise variant at one.
PROFILE = ROUND + """\
shape_efficiency:
  conv2d:
    - {rows: 64, depth: 576, columns: 1024, efficiency: 0.8}
    - {rows: 1, depth: 9, columns: 1024, efficiency: 0.1}
  conv2d pointwise:
    - {rows: 64, depth: 64, columns: 1024, efficiency: 0.4}
"""


@pytest.fixture
def device(tmp_path):
    path = tmp_path / "round.yaml"
    path.write_text(PROFILE)
    return str(path)


def only_layer(layers: str, input_shape: str, device: str):
    return cnncost.analyze(load_text(f"name: t\ninput: {input_shape}\nlayers:\n{layers}"), device=device).layers[0]


@pytest.mark.parametrize("op, attrs, in_shape, expected", [
    # im2col: rows = out / groups, depth = C_in / groups · taps, columns = output positions
    ("conv2d", "{out: 64, kernel: 3, padding: 1}", "64x32x32", (64, 64 * 9, 32 * 32)),
    ("conv2d", "{out: 96, kernel: 3, stride: 2, groups: 96}", "96x33x33", (1, 9, 16 * 16)),  # (33 − 3) / 2 + 1 = 16
    ("conv1d", "{out: 8, kernel: 5, groups: 2}", "4x20", (4, 2 * 5, 16)),
    # col2im: rows = out / groups · taps, depth = C_in / groups, columns = input positions
    ("conv_transpose2d", "{out: 32, kernel: 4, stride: 2, padding: 1}", "64x7x7", (32 * 16, 64, 49)),
    # a linear layer: rows = out features, depth = in features, columns = the leading positions of its input
    ("linear", "{out: 1000}", "1280", (1000, 1280, 1)),
    ("linear", "{out: 384}", "56x56x96", (384, 96, 56 * 56)),
])
def test_a_convolution_or_linear_layer_runs_as_one_product_of_this_shape(op, attrs, in_shape, expected):
    row = cnncost.analyze(load_text(f"name: t\ninput: {in_shape}\nlayers:\n  - {op}: {attrs}\n")).layers[0]
    assert OPS[op].product_shape(row.attrs, list(row.input_shapes), row.output_shape) == expected


@pytest.mark.parametrize("attrs, variant", [
    ("{out: 8, kernel: 1}", "pointwise"),
    ("{out: 8, kernel: 1, padding: same}", "pointwise"),  # a 1×1 window needs no padding
    ("{out: 8, kernel: 1, stride: 2}", None),  # strided: the kernel copies the windows first
    ("{out: 8, kernel: 1, padding: 1}", None),
    ("{out: 8, kernel: 3}", None),
    ("{out: 8, kernel: 1, groups: 2}", "grouped"),
])
def test_the_pointwise_variant_is_a_1x1_unstrided_unpadded_dense_convolution(attrs, variant):
    row = cnncost.analyze(load_text(f"name: t\ninput: 4x8x8\nlayers:\n  - conv2d: {attrs}\n")).layers[0]
    assert OPS["conv2d"].variant(row.attrs, list(row.input_shapes)) == variant


def test_a_measured_shape_gets_its_own_efficiency():
    assert efficiency_at(((64, 576, 1024, 0.8), (1, 9, 1024, 0.1)), (64, 576, 1024)) == 0.8


def test_halfway_between_two_shapes_is_their_geometric_mean():
    # (2, 1, 1) is one doubling from (1, 1, 1) and from (4, 1, 1): equal weights, √(0.8 · 0.2) = 0.4
    assert efficiency_at(((1, 1, 1, 0.8), (4, 1, 1, 0.2)), (2, 1, 1)) == pytest.approx(0.4)


def test_the_nearer_shape_weighs_more_by_the_fourth_power_of_the_distance():
    # (1, 1, 2) is 1 doubling from (1, 1, 1) and 2 from (1, 1, 8): weights 1/1⁴ and 1/2⁴ = 1/16;
    # log2 efficiency = (1·log2 0.5 + 1/16·log2 0.125) / (1 + 1/16) = (−1 − 3/16) / (17/16) = −19/17
    assert efficiency_at(((1, 1, 1, 0.5), (1, 1, 8, 0.125)), (1, 1, 2)) == pytest.approx(2 ** (-19 / 17))


def test_a_dense_conv_at_a_measured_shape_takes_that_shapes_efficiency(device):
    # 3×3 conv 64 → 64 on 32×32, no bias: product (64, 576, 1024); 75,497,472 FLOPs (75.5 ms at 1 GFLOP/s) over
    # 671,744 B (0.67 ms at 1 GB/s): compute-bound, at the shape's 0.8 instead of the default 0.5
    row = only_layer("  - conv2d: {out: 64, kernel: 3, padding: 1, bias: false}\n", "64x32x32", device)
    assert row.estimated_seconds == pytest.approx(75_497_472 / 10**9 / 0.8 + 10e-6)


def test_a_variant_measured_at_shapes_interpolates_only_among_its_own(device):
    # 1×1 conv 64 → 64 on 32×32, no bias: the pointwise variant's one shape (64, 64, 1024), efficiency 0.4
    # (conv2d's own shapes are not consulted); FLOPs 2·64·64·1024 = 8,388,608, bytes (65,536 + 4,096 + 65,536)·4
    # = 540,672: compute-bound
    row = only_layer("  - conv2d: {out: 64, kernel: 1, bias: false}\n", "64x32x32", device)
    assert row.estimated_seconds == pytest.approx(8_388_608 / 10**9 / 0.4 + 10e-6)


def test_ops_without_shapes_keep_their_efficiency(device):
    # relu over 64×32×32: 524,288 B at the default 0.5, as in test_roofline
    row = only_layer("  - relu: {}\n", "64x32x32", device)
    assert row.estimated_seconds == pytest.approx(524_288 / 10**9 / 0.5 + 10e-6)


def test_a_profile_without_shape_efficiency_reads_as_before(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(PROFILE.split("shape_efficiency:")[0])
    assert load_profile(str(path)).shape_efficiency == {}


@pytest.mark.parametrize("entries, where, message", [
    ("  relu:\n    - {rows: 1, depth: 1, columns: 1, efficiency: 0.5}\n", ":8:3:", "unknown key 'relu' for shape_efficiency"),
    ("  conv2d: 0.5\n", ":8:11:", "must be a list of {rows, depth, columns, efficiency}"),
    ("  conv2d:\n    - {rows: 1, depth: 1, efficiency: 0.5}\n", ":9:7:", "needs exactly rows, depth, columns, efficiency"),
    ("  conv2d:\n    - {rows: 0, depth: 1, columns: 1, efficiency: 0.5}\n", ":9:14:", "rows of a shape_efficiency entry of conv2d must be a whole number above 0"),
    ("  conv2d:\n    - {rows: 1, depth: 2.5, columns: 1, efficiency: 0.5}\n", ":9:24:", "depth of a shape_efficiency entry"),
    ("  conv2d:\n    - {rows: 1, depth: 1, columns: 1, efficiency: 1.5}\n", ":9:51:", "must be above 0 and at most 1"),
])
def test_bad_shape_efficiency_exits_2_with_one_line_at_file_line(cli, tmp_path, entries, where, message):
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.split("shape_efficiency:")[0] + "shape_efficiency:\n" + entries)
    result = cli("summary", "lenet5", "--device", path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert f"{path}{where}" in result.stderr and message in result.stderr
