"""`cnncost calibrate`: its profile reads back as a valid measured profile; --output's rules hold. Timing figures
are machine-dependent, so only their form and the arithmetic from measurement to profile are checked."""
import pytest

from cnncost import calibrate
from cnncost.devices import read_profile
from cnncost.spec.yamlload import load_yaml


@pytest.fixture
def quick(monkeypatch):
    """Tiny shapes and no minimum time: the same code paths in well under a second."""
    monkeypatch.setattr(calibrate, "STEP_SECONDS", 0.0)
    monkeypatch.setattr(calibrate, "LINEAR_SHAPE", (2, 32, 32))
    monkeypatch.setattr(calibrate, "GEMM_SHAPES", ((32, 32, 32), (64, 16, 8), (2, 32, 32)))
    monkeypatch.setattr(calibrate, "CONV_SHAPES", ((4, 6), (8, 4)))
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
    assert {"default", "conv2d", "linear"} <= set(profile.efficiency)
    assert all(0 < share <= 1 for share in profile.efficiency.values())


def test_efficiency_is_the_rooflines_time_over_the_measured_time():
    # peak 100 GFLOP/s, 10 GB/s. A 3×3 conv of 64 channels on 56×56 at batch 8: FLOPs 2·8·64·64·9·56·56 =
    # 1,849,688,064, roofline time 18.5 ms (compute); measured at 20 GFLOP/s (92.5 ms): efficiency 0.2.
    measured = {"gemm_1x1x1": 100 * 10**9, "copy_bytes_per_second": 10 * 10**9, "tiny_layer_seconds": 2e-5,
                "elementwise_elements_per_second": 625_000_000,  # 8 B each: 5 GB/s of the 10 → 0.5
                "gemm_8x4096x4096": 20 * 10**9}
    measured.update({f"conv3x3_{c}x{n}x{n}_flops": 20 * 10**9 for c, n in calibrate.CONV_SHAPES})
    profile = read_profile(load_yaml(calibrate.profile_text(measured), "p.yaml"), "p.yaml")
    assert profile.efficiency["conv2d"] == 0.2
    assert profile.efficiency["conv3d"] == profile.efficiency["conv_transpose2d"] == 0.2  # every convolution
    assert profile.efficiency["default"] == 0.5
    # linear 8×4096 @ 4096×4096: 268,435,456 FLOPs (2.7 ms at peak) but 67,371,008 B (6.7 ms at 10 GB/s): memory
    # is the roof; measured at 20 GFLOP/s it takes 13.4 ms, so it reaches 6.74 / 13.42 = 0.502 of it
    assert profile.efficiency["linear"] == 0.502
    assert profile.overhead_ns == 20_000


def test_calibrate_refuses_to_overwrite_without_force(cli, tmp_path):
    target = tmp_path / "here.yaml"
    target.write_text("keep me\n")
    result = cli("calibrate", "-o", target)
    assert result.returncode == 2 and "--force" in result.stderr
    assert target.read_text() == "keep me\n"
