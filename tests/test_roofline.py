"""The roofline estimate against hand arithmetic, and device profiles: bundled ones load, bad ones exit 2 at file:line."""
import json

import pytest

import cnncost
from cnncost.devices import bundled_names, load_profile
from cnncost.spec import load_text

# A made-up device with round figures, so the arithmetic below is easy to follow: 1 GFLOP/s, 1 GB/s.
PROFILE = """\
name: round
kind: measured
peak_flops: {float32: 1G}
memory_bandwidth: 1GB/s
overhead: 10us
efficiency: {default: 0.5, linear: 1.0}
"""


@pytest.fixture
def device(tmp_path):
    path = tmp_path / "round.yaml"
    path.write_text(PROFILE)
    return str(path)


def estimated(layers: str, input_shape: str, device: str, **kwargs):
    spec = load_text(f"name: t\ninput: {input_shape}\nlayers:\n{layers}")
    return cnncost.analyze(spec, device=device, **kwargs)


def test_a_big_conv_is_compute_bound_at_its_efficiency(device):
    # 3×3 conv 64 → 64 on 32×32, no bias: MACs 64·32·32·64·9 = 37,748,736, FLOPs twice that = 75,497,472;
    # bytes: input 65,536·4 + weights 36,864·4 read, output 65,536·4 written = 671,744 B.
    row = estimated("  - conv2d: {out: 64, kernel: 3, padding: 1, bias: false}\n", "64x32x32", device).layers[0]
    compute = 75_497_472 / 10**9
    memory = 671_744 / 10**9
    assert compute > memory and row.bound == "compute"
    assert row.estimated_seconds == pytest.approx(compute / 0.5 + 10e-6)  # the default efficiency 0.5


def test_an_elementwise_op_is_memory_bound(device):
    # relu over 64×32×32 floats: 65,536 FLOPs; reads and writes 65,536·4 B each = 524,288 B
    row = estimated("  - relu: {}\n", "64x32x32", device).layers[0]
    assert row.bound == "memory"
    assert row.estimated_seconds == pytest.approx(524_288 / 10**9 / 0.5 + 10e-6)  # the default efficiency 0.5


def test_an_op_named_in_efficiency_uses_its_own_factor(device):
    # linear 1000 → 1000, batch 64: MACs 64,000,000, FLOPs 128,000,000 + 64,000 (bias) at efficiency 1.0
    row = estimated("  - linear: {out: 1000}\n", "1000", device, batch=64).layers[0]
    assert row.bound == "compute"
    assert row.estimated_seconds == pytest.approx(128_064_000 / 10**9 + 10e-6)


# The same round device, with a depthwise convolution's own efficiency and overhead (the optional keys that
# `cnncost calibrate` writes): `conv2d depthwise` is an op name and one of its Op.variants.
VARIANTS = PROFILE + "op_overhead: {conv2d depthwise: 200us}\n"
VARIANTS = VARIANTS.replace("linear: 1.0", "linear: 1.0, conv2d depthwise: 0.1")


def test_a_depthwise_conv_takes_its_variants_efficiency_and_overhead(tmp_path):
    path = tmp_path / "variants.yaml"
    path.write_text(VARIANTS)
    # depthwise 3×3 over 64×32×32, no bias: MACs 64·32·32·9 = 589,824, FLOPs 1,179,648 (1.18 ms at 1 GFLOP/s);
    # bytes: input 65,536·4 + weights 576·4 read, output 65,536·4 written = 526,592 B (0.53 ms at 1 GB/s)
    row = estimated("  - conv2d: {out: 64, kernel: 3, padding: 1, groups: 64, bias: false}\n", "64x32x32", str(path)).layers[0]
    assert row.bound == "compute"
    assert row.estimated_seconds == pytest.approx(1_179_648 / 10**9 / 0.1 + 200e-6)


def test_a_dense_conv_keeps_the_plain_figures_when_only_a_variant_is_named(tmp_path):
    path = tmp_path / "variants.yaml"
    path.write_text(VARIANTS)
    # as test_a_big_conv_is_compute_bound_at_its_efficiency: 75,497,472 FLOPs at the default 0.5, overhead 10 µs
    row = estimated("  - conv2d: {out: 64, kernel: 3, padding: 1, bias: false}\n", "64x32x32", str(path)).layers[0]
    assert row.estimated_seconds == pytest.approx(75_497_472 / 10**9 / 0.5 + 10e-6)


def test_a_grouped_conv_falls_back_to_the_ops_efficiency_then_the_default(tmp_path):
    path = tmp_path / "variants.yaml"
    path.write_text(VARIANTS.replace("linear: 1.0,", "linear: 1.0, conv2d: 0.25,"))
    # 3×3, 64 → 64 in 4 groups on 32×32, no bias: MACs 64·32·32·16·9 = 9,437,184, FLOPs 18,874,368; bytes
    # 65,536·4 + 9,216·4 read + 65,536·4 written = 561,152 B: compute-bound at conv2d's 0.25 (no `conv2d grouped`)
    row = estimated("  - conv2d: {out: 64, kernel: 3, padding: 1, groups: 4, bias: false}\n", "64x32x32", str(path)).layers[0]
    assert row.estimated_seconds == pytest.approx(18_874_368 / 10**9 / 0.25 + 10e-6)


def test_views_take_no_time_and_the_total_adds_the_layers(device):
    report = estimated("  - relu: {}\n  - flatten: {}\n  - linear: {out: 10}\n", "4x2x2", device)
    relu, flatten, linear = report.layers
    assert flatten.estimated_seconds == 0.0
    assert report.totals.estimated_seconds == pytest.approx(relu.estimated_seconds + linear.estimated_seconds)
    assert report.device == "round"


def test_summary_json_with_device_carries_the_contract_keys(cli, device):
    doc = json.loads(cli("summary", "resnet18", "--device", device, "--format", "json").stdout)
    assert doc["device"] == "round"
    for layer in doc["layers"]:
        assert layer["bound"] in ("compute", "memory") and layer["estimated_seconds"] >= 0
    assert doc["totals"]["estimated_seconds"] == pytest.approx(sum(layer["estimated_seconds"] for layer in doc["layers"]))
    assert {"bytes_read", "bytes_written"} <= set(doc["totals"])


@pytest.mark.parametrize("name", bundled_names())
def test_bundled_profiles_load_and_cite_their_figures(name):
    profile = load_profile(name)
    assert profile.kind == "published"
    assert {"peak_flops", "memory_bandwidth"} <= set(profile.sources)
    assert profile.peak_flops["float32"] > 0 and profile.memory_bandwidth > 0


def test_a100_figures_are_its_data_sheet():
    # NVIDIA A100 data sheet (r4, 2021): FP32 19.5 TFLOPS, FP16 tensor 312 TFLOPS dense, 1,555 GB/s (40GB SXM)
    profile = load_profile("a100-sxm4-40gb")
    assert profile.peak_flops["float32"] == 19_500_000_000_000
    assert profile.peak_flops["float16"] == 312 * 10**12
    assert profile.memory_bandwidth == 1_555 * 10**9


@pytest.mark.parametrize(
    "text, where, message",
    [
        (PROFILE.replace("kind: measured", "kind: measured\ncolour: red"), ":3:1:", "unknown key 'colour'"),
        (PROFILE.replace("float32: 1G", "float32: fast"), ":3:23:", "cannot read peak_flops float32"),
        (PROFILE.replace("float32: 1G", "float64: 1G"), ":3:14:", "unknown key 'float64'"),
        (PROFILE.replace("1GB/s", "-1GB/s"), ":4:19:", "cannot read memory_bandwidth"),
        (PROFILE.replace("10us", "10"), ":5:11:", "write a duration with its unit"),
        (PROFILE.replace("default: 0.5", "default: 1.5"), ":6:23:", "above 0 and at most 1"),
        (PROFILE.replace("linear: 1.0", "lineer: 1.0"), ":6:28:", "did you mean 'linear'"),
        (PROFILE.replace("linear: 1.0", "conv2d wide: 0.1"), ":6:28:", "unknown key 'conv2d wide'"),
        (PROFILE + "op_overhead: {conv2d: 200}\n", ":7:23:", "write a duration with its unit"),
        (PROFILE + "op_overhead: {default: 2us}\n", ":7:15:", "unknown key 'default' for op_overhead"),
        (PROFILE.replace("kind: measured", "kind: guessed"), ":2:7:", "kind"),
        (PROFILE.replace("kind: measured", "kind: published"), ":1:1:", "must cite its sources"),
        (PROFILE.replace("memory_bandwidth: 1GB/s\n", ""), ":1:1:", "needs `memory_bandwidth`"),
        ("- just\n- a list\n", ":1:1:", "must be a mapping"),
        ("name: x\n  bad: [indent\n", ":2:", ""),
    ],
)
def test_bad_profiles_exit_2_with_one_line_at_file_line(cli, tmp_path, text, where, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = cli("summary", "lenet5", "--device", path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert f"{path}{where}" in result.stderr and message in result.stderr
    assert result.stdout == ""


def test_unknown_profile_name_suggests_a_bundled_one(cli):
    result = cli("summary", "lenet5", "--device", "a100")
    assert result.returncode == 2
    assert "neither a file nor a bundled device profile" in result.stderr and "a100-sxm4-40gb" in result.stderr


def test_a_dtype_the_profile_lacks_exits_2(cli):
    result = cli("summary", "lenet5", "--device", "snapdragon-x-elite-gpu", "--dtype", "int8")
    assert result.returncode == 2
    assert "no peak_flops for int8" in result.stderr and "snapdragon-x-elite-gpu.yaml" in result.stderr


def test_compare_with_device_ranks_by_estimated_latency(cli):
    # On the A100 profile VGG-16 (15.5 GMACs) must come out slower than MobileNetV2 (0.30 GMACs): ranked fastest first
    doc = json.loads(cli("compare", "vgg16", "mobilenet_v2", "--device", "a100-sxm4-40gb", "--format", "json").stdout)
    names = [model["name"] for model in doc["models"]]
    seconds = [model["metrics"]["estimated_seconds"] for model in doc["models"]]
    assert names == ["mobilenet_v2", "vgg16"] and seconds == sorted(seconds)
    assert doc["baseline"] == "vgg16" and doc["device"] == "a100-sxm4-40gb"  # the baseline stays the first given


@pytest.mark.parametrize("limit, code", [("1s", 0), ("10us", 1)])
def test_check_max_latency_passes_under_and_fails_over_the_budget(cli, device, limit, code):
    # lenet5 on the round device: about 0.85 MFLOPs at 1 GFLOP/s × 0.5 plus 10 µs per layer, a few ms
    report = cnncost.analyze("lenet5", device=device)
    assert 10e-6 < report.totals.estimated_seconds < 1
    result = cli("check", "lenet5", "--device", device, "--max-latency", limit, "--format", "json")
    assert result.returncode == code, result.stderr
    budget = json.loads(result.stdout)["specs"][0]["budgets"][0]
    assert budget["metric"] == "latency" and budget["actual"] == round(report.totals.estimated_seconds * 1e9)


@pytest.mark.parametrize("args, message", [
    (("--max-latency", "10ms"), "--max-latency needs --device"),
    (("--device", "a100-sxm4-40gb", "--max-latency", "10"), "write a duration with its unit"),
    (("--device", "a100-sxm4-40gb", "--max-latency", "fast"), "cannot read budget 'latency'"),
])
def test_check_max_latency_usage_errors_exit_2(cli, args, message):
    result = cli("check", "lenet5", *args)
    assert result.returncode == 2 and message in result.stderr


def test_latency_budget_in_a_spec_needs_a_device(cli, spec_file):
    path = spec_file("name: t\ninput: 3x8x8\nbudget: {latency: 5ms}\nlayers:\n  - relu: {}\n")
    result = cli("check", path, "--format", "json")
    assert result.returncode == 2
    assert "needs a device" in json.loads(result.stdout)["specs"][0]["error"]["message"]


def test_durations_read_exactly_in_nanoseconds():
    from cnncost.units import parse_duration

    assert parse_duration("10ms") == 10 * 10**6
    assert parse_duration("2.5us") == 2_500
    assert parse_duration("1s") == 10**9


def test_roofline_csv_headers_are_the_json_keys(cli, device):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(cli("summary", "lenet5", "--columns", "roofline", "--device", device, "--format", "csv").stdout)))
    layers = json.loads(cli("summary", "lenet5", "--device", device, "--format", "json").stdout)["layers"]
    assert [row["name"] for row in rows] == [layer["name"] for layer in layers]
    for row, layer in zip(rows, layers):
        for key in ("bytes_read", "bytes_written", "flops"):
            assert int(row[key]) == layer[key]
        assert float(row["estimated_seconds"]) == pytest.approx(layer["estimated_seconds"]) and row["bound"] == layer["bound"]
