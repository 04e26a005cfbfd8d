"""ONNX export and onnxruntime as a third engine (extra 'onnx'; skipped without it).

The references here are independent of cnncost's rules: onnx.checker, ONNX's own shape inference, and
onnxruntime's own kernels computing each layer from the same weights and input.
"""
import json
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
    if len(spec.graph.input_shape) != 3 or max(spec.graph.input_shape[1:]) <= 64:
        return spec  # never enlarged: dcgan_generator's 100×1×1 code at 64×64 would make a 1024×1024 image
    from tests.test_verify import OWN_SMALL_SIZE  # U-Net's smallest valid input, and why

    try:
        small = load(name, OWN_SMALL_SIZE.get(name, (spec.graph.input_shape[0], 64, 64)))
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
    assert json.loads(result.stdout)["engine"] == "onnxruntime"


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


# -- import ------------------------------------------------------------------------------------------------------

from cnncost.interop.onnx_import import import_onnx  # noqa: E402
from cnncost.spec import load_text  # noqa: E402

# ONNX has no adaptive pooling or chunk operator: those layers come back as the fixed pooling or split that
# computes the same thing (adaptive pooling only where its bins divide evenly), with the same shapes, params and MACs.
SAME_IN_ONNX = {"chunk": "split", **{f"adaptive_{k}pool{n}d": f"{k}pool{n}d" for k in ("avg", "max") for n in (1, 2, 3)}}


def exported(tmp_path, spec):
    path = tmp_path / f"{spec.name}.onnx"
    path.write_bytes(export_model(spec).SerializeToString())
    return path


# Not read back yet (the import says so, listing the operators): a crop is a Slice over spatial axes.
IMPORT_NOT_YET = {"unet": "crop exports as a spatial Slice, which import does not translate yet"}


@pytest.mark.parametrize("name", bundled_names())
def test_export_then_import_gives_the_same_layers(name, tmp_path):
    if name in IMPORT_NOT_YET:
        pytest.xfail(IMPORT_NOT_YET[name])
    spec = load(name)
    back = load_text(import_onnx(str(exported(tmp_path, spec))))
    ours, theirs = analyze_spec(spec).layers, analyze_spec(back).layers
    assert [(SAME_IN_ONNX.get(r.op, r.op), r.output_shape, r.params, r.macs, r.unused) for r in ours] == \
        [(SAME_IN_ONNX.get(r.op, r.op), r.output_shape, r.params, r.macs, r.unused) for r in theirs]


def test_an_imported_spec_is_readable(tmp_path):
    text = import_onnx(str(exported(tmp_path, load("resnet18"))))
    assert text.startswith("# Imported by cnncost from ")
    lines = [line for line in text.splitlines() if line.startswith("  - ")]
    assert lines[0] == "  - conv2d: {name: conv1, out: 64, kernel: 7, stride: 2, padding: 3, bias: false}"
    assert "  - batchnorm: {name: bn1, eps: 1.0e-05}" in lines
    # `inputs:` only where the graph branches: each residual add, and each downsample conv reading the block input
    assert sum("inputs:" in line for line in lines) == 8 + 3


def test_non_dividing_adaptive_pooling_survives_the_round_trip(tmp_path):
    spec = load_text("name: a\ninput: 3x13x11\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n"
                     "  - adaptive_maxpool2d: {output: [4, 3]}\n  - adaptive_avgpool2d: {output: [3, 2]}\n")
    back = load_text(import_onnx(str(exported(tmp_path, spec))))
    assert [(r.op, r.output_shape) for r in analyze_spec(back).layers][1:] == [("adaptive_maxpool2d", (4, 4, 3)), ("adaptive_avgpool2d", (4, 3, 2))]


def _model(nodes, inputs, outputs, initializers=()):
    from onnx import TensorProto, helper

    graph = helper.make_graph(nodes, "hand_made", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_unsupported_operators_are_listed_with_names_and_counts(tmp_path, cli):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 8, 8])
    nodes = [helper.make_node("Cos", ["x"], ["a"], name="c1"), helper.make_node("Cos", ["a"], ["b"], name="c2"),
             helper.make_node("Sin", ["b"], ["y"], name="s1")]
    path = tmp_path / "trig.onnx"
    path.write_bytes(_model(nodes, [x], [y]).SerializeToString())
    result = cli("import", path, "-o", tmp_path / "trig.yaml")
    assert result.returncode == 2
    assert "unsupported ONNX operators: Cos ×2 (c1, c2); Sin ×1 (s1)" in result.stderr
    assert not (tmp_path / "trig.yaml").exists()


def test_folded_shape_computations_and_gemm_become_flatten_and_linear(tmp_path):
    """torch's `x.view(x.size(0), -1)` then nn.Linear: Shape → Gather → Unsqueeze → Concat → Reshape → Gemm(transB)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 5])
    weights = [numpy_helper.from_array(np.ones((5, 18), np.float32), "w"), numpy_helper.from_array(np.zeros(5, np.float32), "b"),
               numpy_helper.from_array(np.array(0, np.int64), "zero"), numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
               numpy_helper.from_array(np.array([0], np.int64), "axes")]
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]), helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["flat"], name="/Reshape"),
             helper.make_node("Gemm", ["flat", "w", "b"], ["y"], name="/fc/Gemm", transB=1)]
    path = tmp_path / "head.onnx"
    path.write_bytes(_model(nodes, [x], [y], weights).SerializeToString())
    report = analyze_spec(load_text(import_onnx(str(path))))
    assert [(r.name, r.op, r.output_shape, r.params) for r in report.layers] == [("Reshape", "flatten", (18,), 0), ("fc", "linear", (5,), 18 * 5 + 5)]


def test_every_command_reads_an_onnx_file(cli, tmp_path):
    path = exported(tmp_path, load("lenet5"))
    summary = cli("summary", path, "--format", "json")
    assert summary.returncode == 0, summary.stderr
    assert '"params": 1256080' in summary.stdout.replace(" ", "") or '"params":1256080' in summary.stdout
    assert cli("verify", path).returncode == 0
    assert cli("check", path, "--max-params", "2M").returncode == 0
    assert cli("compare", "lenet5", path).returncode == 0
MODERN_OPS = """
name: modern_ops
input: 8x6x5
outputs: [amax_1, matmul_1]
layers:
  - permute: {axes: [1, 2, 0]}
  - layernorm: {dims: 1}
  - linear: {out: 16}
  - reshape: {shape: [30, -1]}
  - reshape: {shape: [6, 5, 16]}
  - permute: {axes: [2, 0, 1], name: back}
  - scale
  - prelu: {per_channel: true}
  - elu: {alpha: 0.5}
  - mish
  - softplus: {beta: 2, threshold: 3}
  - hardtanh: {min: -2, max: 3}
  - prelu: {name: shared}
  - mean: {axes: [1, 2], keepdims: true}
  - sum: {axes: [0]}
  - amax: {axes: [-1]}
  - permute: {axes: [0, 2, 1], inputs: shared, name: transposed}
  - matmul: {inputs: [shared, transposed]}
"""


def test_the_modern_cnn_ops_export_and_agree_with_numpy():
    """permute, reshape, scale, matmul, the reductions and the activations of issue 11, through onnxruntime."""
    from cnncost.spec import load_text

    spec = load_text(MODERN_OPS)
    model = export_model(spec)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, strict_mode=True)
    result = verify_spec(spec, engine="onnxruntime")
    assert result.passed, result.failures[:5]
    assert all(c.engine_error is not None for c in result.layers)
