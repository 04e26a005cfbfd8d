"""The numpy path against the analytic path: agreement on every bundled spec, and a wrong formula caught."""
import json

import pytest

from cnncost.cli import main
from cnncost.errors import CnnCostError
from cnncost.spec import load, load_text
from cnncost.spec.bundled import bundled_names
from cnncost.verify import verify_spec

# Reduced inputs keep the suite quick; every 224×224 ImageNet spec runs at 3×64×64 (all downsample
# to at least 2×2 there). Specs with other inputs, and those below, run at their own size.
REDUCED = (3, 64, 64)
FULL_SIZE = {  # name -> why it must run at its own size
    "zfnet": "its fixed-size classifier pins in: 9216 (no adaptive pool)",
}


# U-Net's smallest valid input, to keep the suite quick. At its full 572×572 (batch 2) verify passes too, measured /
# predicted peak 1.002 (2026-12-04), once the transposed convolution stopped counting its uncropped scatter target
# twice (tests/test_ops_decoder.py).
# fcn_resnet50 (3×520×520, 153 G MACs) verifies at its own size by hand in about 3 s (docs/decoder-ops.md); the
# suite runs it at 128×128, a multiple of its output stride 8, like the classifiers at 64×64.
OWN_SMALL_SIZE = {"unet": (1, 188, 188), "fcn_resnet50": (3, 128, 128)}


def reduced_input(name):
    spec = load(name)
    if name in OWN_SMALL_SIZE:
        return OWN_SMALL_SIZE[name]
    return REDUCED if spec.graph.input_shape == (3, 224, 224) and name not in FULL_SIZE else None


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_spec_verifies(name):
    result = verify_spec(load(name, reduced_input(name)), batch=2, seed=1)
    assert result.passed, result.failures[:10]
    assert result.macs == sum(c.predicted_macs for c in result.layers) > 0


def test_resnet50_full_size_with_folding():
    result = verify_spec(load("resnet50"), batch=1, fold_bn=True)
    assert result.passed, result.failures[:10]
    assert result.macs == 4_089_184_256  # torchvision's published 4.089 GFLOPS, counted from executed matmuls
    assert result.folded_layers == 53  # every ResNet-50 conv is followed by its own batchnorm


GROUPED = """
name: grouped
input: 8x6x6
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1, groups: 4}
  - batchnorm
  - relu
  - global_avgpool
  - linear: {out: 5}
"""


def test_a_wrong_mac_formula_is_caught(monkeypatch):
    from cnncost.ops.conv import Conv

    # the classic bug: forgetting to divide by groups
    monkeypatch.setattr(Conv, "macs", lambda self, attrs, in_shapes, out: sum(out) and __import__("math").prod(out) * in_shapes[0][0] * __import__("math").prod(attrs["kernel"]))
    result = verify_spec(load_text(GROUPED))
    assert not result.passed
    assert any("conv2d_1: MACs predicted" in f for f in result.failures)


def test_a_wrong_param_formula_is_caught(monkeypatch):
    from cnncost.ops.linear import Linear

    monkeypatch.setattr(Linear, "params", lambda self, attrs, in_shapes: in_shapes[0][-1] * attrs["out"])  # bias forgotten
    result = verify_spec(load_text(GROUPED))
    assert [f for f in result.failures if "params" in f] == ["linear_1: params predicted 40, allocated 45"]


def test_fold_bn_summary_moves_bn_params_into_conv_bias():
    import cnncost

    plain = cnncost.analyze(load_text(GROUPED))
    folded = cnncost.analyze(load_text(GROUPED), fold_bn=True)
    assert [r.op for r in folded.layers] == ["conv2d", "relu", "global_avgpool", "linear"]
    # batchnorm's 2·8 params go; the conv gains an 8-element bias it already had: net −16
    assert folded.totals.params == plain.totals.params - 16
    assert folded.totals.macs == plain.totals.macs


def test_memory_limit_refuses_before_allocating():
    with pytest.raises(CnnCostError) as info:
        verify_spec(load("vgg16"), batch=64, max_memory=1 << 30)
    assert "over the limit of 1.0 GiB" in str(info.value)


def test_cli_verify_json_and_exit_codes(capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "lenet5", "--format", "json", "--batch", "3"])
    assert exit_info.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] and data["batch"] == 3
    assert data["predicted_peak_bytes"] == data["peak_activation_bytes"]["predicted"]
    assert data["measured_peak_bytes"] == data["peak_activation_bytes"]["measured"]
    assert abs(data["peak_ratio"] - 1) <= 0.05 + (1 << 20) / data["predicted_peak_bytes"]

    from cnncost.ops.conv import Conv

    monkeypatch.setattr(Conv, "params", lambda self, attrs, in_shapes: 0)
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "lenet5"])
    assert exit_info.value.code == 1
    assert "FAIL" in capsys.readouterr().out


def test_cli_verify_refuses_huge_runs_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "vgg16", "--input", "3x100000x100000"])
    assert exit_info.value.code == 2
    assert "over the limit" in capsys.readouterr().err


def _kernel_with_workspace(monkeypatch, op, workspace):
    from dataclasses import replace as with_field

    import cnncost.kernels as kernels

    monkeypatch.setitem(kernels._KERNELS, op, with_field(kernels._KERNELS[op], workspace=workspace))


WIDE_CONV = "name: t\ninput: [16, 64, 64]\nlayers:\n  - conv2d: {out: 16, kernel: 3, padding: 1}\n"


def test_verify_measures_the_im2col_workspace(spec_file):
    """One 3×3 conv on 16×64×64: im2col copies 16·9 rows of 64·64 columns, 2.25 MiB, beside a 256 KiB input and
    output. tracemalloc sees it, and the prediction, which adds the kernel's declared workspace, agrees."""
    result = verify_spec(load(str(spec_file(WIDE_CONV))))
    assert result.peak_ok, result.failures
    assert result.measured_peak > 16 * 9 * 64 * 64 * 4


def test_a_wrong_workspace_rule_fails_verify(spec_file, monkeypatch):
    _kernel_with_workspace(monkeypatch, "conv2d", lambda attrs, shape: 0)
    result = verify_spec(load(str(spec_file(WIDE_CONV))))
    assert not result.passed and any("peak memory predicted" in failure for failure in result.failures)


def test_an_overstated_workspace_rule_fails_verify(spec_file, monkeypatch):
    _kernel_with_workspace(monkeypatch, "conv2d", lambda attrs, shape: 16 << 20)
    assert not verify_spec(load(str(spec_file(WIDE_CONV)))).peak_ok
