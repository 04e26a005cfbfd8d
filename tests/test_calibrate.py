"""`cnncost calibrate`: its profile reads back as a valid measured profile; --output's rules hold. Timing figures
are machine-dependent, so only their form and the arithmetic from measurement to profile are checked."""
import pytest

from cnncost import calibrate
from cnncost.devices import read_profile
from cnncost.spec.yamlload import load_yaml


@pytest.fixture
def quick(monkeypatch):
    """Tiny shapes, a few of the micro-benchmarks and no minimum time: the same code paths in under a second."""
    monkeypatch.setattr(calibrate, "STEP_SECONDS", 0.0)
    monkeypatch.setattr(calibrate, "LAYER_SECONDS", 0.0)
    monkeypatch.setattr(calibrate, "TINY_SECONDS", 0.0)
    monkeypatch.setattr(calibrate, "GEMM_SHAPES", ((32, 32, 32), (64, 16, 8), (2, 32, 32)))
    monkeypatch.setattr(calibrate, "LAYERS", (
        ("conv", "conv2d", "4x6x6", "conv2d: {name: timed, out: 4, kernel: 3, padding: 1}"),
        ("dw", "conv2d depthwise", "4x6x6", "conv2d: {name: timed, out: 4, kernel: 3, padding: 1, groups: 4}"),
        ("relu", "relu", "4x6x6", "relu: {name: timed}"),
        ("add", "add", "4x6x6", "relu: {name: other}\n  - add: {name: timed, inputs: [input, other]}"),
    ))
    monkeypatch.setattr(calibrate, "COPY_ELEMENTS", 1024)
    monkeypatch.setattr(calibrate, "ELEMENTWISE_ELEMENTS", 1024)


def test_measurements_become_a_profile_that_reads_back(quick):
    calls = []
    measured = calibrate.measure(lambda: calls.append(1))
    assert len(calls) == len(calibrate.steps())
    profile = read_profile(load_yaml(calibrate.profile_text(measured, "here"), "here.yaml"), "here.yaml")
    assert profile.name == "here" and profile.kind == "measured"
    assert profile.peak_flops["float32"] == max(v for k, v in measured.items() if k.startswith("gemm_"))
    assert profile.memory_bandwidth == measured["copy_bytes_per_second"]
    assert {"default", "conv2d", "conv2d depthwise", "relu", "add"} <= set(profile.efficiency)
    assert all(0 < share <= 1 for share in profile.efficiency.values())
    assert {"conv2d", "conv2d depthwise", "conv2d grouped", "linear"} <= set(profile.op_overhead_ns)


def test_every_bundled_micro_benchmark_is_a_valid_one_layer_spec():
    for layer in calibrate.LAYERS + calibrate.TINY_LAYERS:
        assert [node.name for node in calibrate.layer_spec(layer).graph.nodes][-1] == "timed"


# A made-up machine with round figures: peak 100 GFLOP/s, copy 10 GB/s; fixed costs per layer 20 µs (a ReLU),
# 200 µs (a 3×3 conv), 100 µs (depthwise), 150 µs (grouped), 30 µs (linear).
ROUND = {"gemm_1x1x1": 100 * 10**9, "copy_bytes_per_second": 10 * 10**9,
         "elementwise_elements_per_second": 625_000_000,  # 8 B each: 5 GB/s of the 10 → 0.5
         "tiny_relu_seconds": 20e-6, "tiny_conv3x3_seconds": 200e-6, "tiny_depthwise3x3_seconds": 100e-6,
         "tiny_grouped3x3_seconds": 150e-6, "tiny_conv1x1_seconds": 40e-6, "tiny_linear_seconds": 30e-6}
HAND_LAYERS = (
    ("conv", "conv2d", "64x56x56", "conv2d: {name: timed, out: 64, kernel: 3, padding: 1}"),
    ("dw", "conv2d depthwise", "96x56x56", "conv2d: {name: timed, out: 96, kernel: 3, padding: 1, groups: 96}"),
    ("relu", "relu", "64x112x112", "relu: {name: timed}"),
)


def round_profile(monkeypatch, seconds: dict):
    monkeypatch.setattr(calibrate, "LAYERS", HAND_LAYERS)
    measured = {**ROUND, **{f"{label}_seconds": value for label, value in seconds.items()}}
    return read_profile(load_yaml(calibrate.profile_text(measured), "p.yaml"), "p.yaml")


def test_a_conv_efficiency_is_the_rooflines_time_over_the_measured_time_less_its_overhead(monkeypatch):
    # 3×3 conv 64 → 64 on 56×56 at batch 8, with bias: MACs 8·64·56·56·64·9 = 924,844,032, FLOPs twice that
    # + 8·64·56·56 (bias) = 1,851,293,696: 18.513 ms at 100 GFLOP/s, more than its 12,992,768 B take at 10 GB/s
    # (input 6,422,528 + weights 36,928·4 read, output 6,422,528 written). Measured 92.7 ms, of which 0.2 ms is
    # a conv's fixed cost: 18.513 / 92.5 = 0.200
    profile = round_profile(monkeypatch, {"conv": 0.0927, "dw": 0.02, "relu": 0.01})
    assert profile.efficiency["conv2d"] == 0.2
    assert profile.efficiency["conv3d"] == profile.efficiency["conv_transpose2d"] == 0.2  # every convolution


def test_a_depthwise_conv_gets_its_own_efficiency(monkeypatch):
    # depthwise 3×3 over 96×56×56 at batch 8, with bias: FLOPs 2·8·96·56·56·9 + 8·96·56·56 = 45,760,512
    # (0.458 ms at peak); bytes 9,633,792 + 960·4 read + 9,633,792 written = 19,271,424 (1.927 ms at 10 GB/s):
    # memory-bound. Measured 19.371424 ms less its 0.1 ms fixed cost: 1.9271424 / 19.271424 = 0.1
    profile = round_profile(monkeypatch, {"conv": 0.0927, "dw": 0.019371424, "relu": 0.01})
    assert profile.efficiency["conv2d depthwise"] == profile.efficiency["conv1d depthwise"] == 0.1
    assert profile.efficiency["conv2d"] == 0.2


def test_each_convolution_benchmark_is_kept_at_its_product_shape(monkeypatch):
    # the two benchmarks above: the 3×3 conv 64 → 64 on 56×56 is a product of 64 rows, 64·9 = 576 deep, 56·56 =
    # 3,136 columns at 0.2; the depthwise 3×3 over 96 channels 1 row, 9 deep, 3,136 columns at 0.1
    profile = round_profile(monkeypatch, {"conv": 0.0927, "dw": 0.019371424, "relu": 0.01})
    assert profile.shape_efficiency["conv2d"] == profile.shape_efficiency["conv_transpose3d"] == ((64, 576, 3136, 0.2),)
    assert profile.shape_efficiency["conv2d depthwise"] == ((1, 9, 3136, 0.1),)
    assert "relu" not in profile.shape_efficiency


def test_a_layer_timed_in_two_rounds_keeps_its_faster_time(quick, monkeypatch):
    times = iter([0.003, 0.002, 0.001, 0.004] * 2)  # conv, dw, relu, add: first round, then second
    monkeypatch.setattr(calibrate, "layer_seconds", lambda layer, batch=8, seconds=None: next(times) if batch == 8 else 1e-5)
    measured = calibrate.measure()
    assert [measured[f"{label}_seconds"] for label in ("conv", "dw", "relu", "add")] == [0.003, 0.002, 0.001, 0.004]
    times = iter([0.003, 0.002, 0.001, 0.004] + [0.001, 0.003, 0.001, 0.002])
    measured = calibrate.measure()
    assert [measured[f"{label}_seconds"] for label in ("conv", "dw", "relu", "add")] == [0.001, 0.002, 0.001, 0.002]


def test_an_elementwise_ops_efficiency_and_the_overheads(monkeypatch):
    # relu over 64×112×112 at batch 8: 6,422,528 floats read and written, 51,380,224 B (5.138 ms at 10 GB/s);
    # measured 10.296 ms less a ReLU's 20 µs: 5.138 / 10.276 = 0.5
    profile = round_profile(monkeypatch, {"conv": 0.0927, "dw": 0.02, "relu": 0.0102960448})
    assert profile.efficiency["relu"] == 0.5
    assert profile.efficiency["default"] == 0.5  # numpy.maximum: 625 M floats/s · 8 B of 10 GB/s
    assert profile.overhead_ns == 20_000
    assert profile.op_overhead_ns["conv2d"] == profile.op_overhead_ns["conv3d"] == 200_000
    assert profile.op_overhead_ns["conv2d depthwise"] == 100_000
    assert profile.op_overhead_ns["conv_transpose2d grouped"] == 150_000
    assert profile.op_overhead_ns["linear"] == 30_000
    assert profile.op_overhead_ns["conv2d pointwise"] == 40_000


def test_calibrate_refuses_to_overwrite_without_force(cli, tmp_path):
    target = tmp_path / "here.yaml"
    target.write_text("keep me\n")
    result = cli("calibrate", "-o", target)
    assert result.returncode == 2 and "--force" in result.stderr
    assert target.read_text() == "keep me\n"
