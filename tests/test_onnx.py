"""ONNX export and onnxruntime as a third engine (extra 'onnx'; skipped without it).

The references here are independent of cnncost's rules: onnx.checker, ONNX's own shape inference, and
onnxruntime's own kernels computing each layer from the same weights and input.
"""
import subprocess
import sys

import pytest

from cnncost.analysis import analyze_spec
from cnncost.seeded import layer_weights
from cnncost.spec import load
from cnncost.spec.bundled import bundled_names
from cnncost.verify import verify_spec

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from cnncost.interop.onnx_export import export_model  # noqa: E402


def at_test_size(name):
    """Every bundled spec at 64×64 (as the zoo's verify tests), unless it only fits its own size."""
    spec = load(name)
    if len(spec.graph.input_shape) != 3:
        return spec
    try:
        small = load(name, (spec.graph.input_shape[0], 64, 64))
        analyze_spec(small)
        return small
    except Exception:
        return spec


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_spec_exports_a_valid_model_whose_shapes_onnx_infers_as_we_do(name):
    spec = at_test_size(name)
    model = export_model(spec)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim]
              for v in [*inferred.graph.value_info, *inferred.graph.output]}
    report = analyze_spec(spec)
    for row in report.layers:
        if not row.unused:
            assert shapes[row.name] == ["batch", *row.output_shape], row.name
    assert {node.name for node in model.graph.node} >= {row.name for row in report.layers if not row.unused}


@pytest.mark.parametrize("name", bundled_names())
def test_onnxruntime_agrees_with_numpy_on_every_layer(name):
    result = verify_spec(at_test_size(name), engine="onnxruntime")
    assert result.passed, result.failures[:5]
    compared = [c for c in result.layers if c.engine_error is not None]
    assert len(compared) == sum(1 for c in result.layers if c.name not in load(name).graph.unused())


def test_the_exported_weights_are_the_ones_verify_draws():
    spec = load("lenet5")
    model = export_model(spec, seed=7)
    initializers = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    node = next(n for n in spec.graph.nodes if n.op == "conv2d")
    params, _ = layer_weights(node, [(1, *spec.graph.input_shape)], seed=7)
    assert (initializers[f"{node.name}.weight"] == params["weight"]).all()


def test_a_wrong_onnx_translation_fails_verify(monkeypatch):
    """The engine comparison is a real check: export relu as the identity and verify must fail at that layer."""
    from cnncost.interop import onnx_export

    monkeypatch.setitem(onnx_export.EXPORTERS, "relu", onnx_export._simple("Identity"))
    result = verify_spec(load("lenet5"), engine="onnxruntime")
    assert not result.passed
    assert any("relu" in failure and "onnxruntime differs" in failure for failure in result.failures)


def test_export_command_writes_a_loadable_file(cli, tmp_path):
    target = tmp_path / "alexnet.onnx"
    result = cli("export", "alexnet", "-o", target)
    assert result.returncode == 0, result.stderr
    model = onnx.load(str(target))
    assert model.opset_import[0].version >= 17
    again = cli("export", "alexnet", "-o", target)
    assert again.returncode == 2 and "--force" in again.stderr


def test_verify_engine_onnxruntime_from_the_command_line(cli):
    result = cli("verify", "resnet18", "--input", "3x64x64", "--engine", "onnxruntime", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert '"engine": "onnxruntime"' in result.stdout


def test_without_the_extra_the_commands_say_which_to_install(tmp_path):
    code = (
        "import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
        "from cnncost.cli import main\n"
        f"main(['export', 'alexnet', '-o', {str(tmp_path / 'a.onnx')!r}])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert "pip install 'cnncost[onnx]'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "a.onnx").exists()
