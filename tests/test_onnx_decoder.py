"""The decoder ops exported to ONNX and run by onnxruntime agree with the numpy kernels layer by layer
(extra 'onnx'; skipped without it). onnxruntime's ConvTranspose, Resize, Pad, Slice and DepthToSpace are the
independent reference here; ONNX's own shape inference checks the shapes."""
import pytest

from cnncost.analysis import analyze_spec
from cnncost.spec import load_text
from cnncost.verify import verify_spec

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from cnncost.interop.onnx_export import export_model  # noqa: E402

DECODER = """
name: decoder
input: 2x13x12
layers:
  - conv2d: {name: skip, out: 4, kernel: 3}
  - maxpool2d: {kernel: 2}
  - conv_transpose2d: {name: up, out: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2}
  - crop: {name: cut, inputs: skip, like: up}
  - concat: {inputs: [cut, up]}
  - pixel_unshuffle: {factor: 2}
  - pixel_shuffle: {factor: 2}
  - pad: {padding: [[1, 0], 2], mode: PAD_MODE}
  - upsample: {UPSAMPLE}
  - crop: {size: [4, 5], offset: [1, 0]}
"""
ONE_D = """
name: decoder1d
input: 3x9
layers:
  - conv_transpose1d: {out: 4, kernel: 4, stride: 3, padding: 1, output_padding: 2, dilation: 2}
  - pad: {padding: 2, mode: circular}
  - upsample: {scale: 1.5, mode: linear}
"""
THREE_D = """
name: decoder3d
input: 2x3x4x5
layers:
  - conv_transpose3d: {out: 4, kernel: [2, 3, 2], stride: [2, 1, 3], padding: [0, 1, 1], groups: 2}
  - pad: {padding: [1, [0, 2], 1], mode: replicate}
  - upsample: {size: [5, 7, 9], mode: trilinear}
"""


@pytest.mark.parametrize("pad_mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("upsample", ["scale: 2", "scale: [1.5, 2.5], mode: bilinear", "size: [9, 7], mode: bicubic",
                                      "scale: 2, mode: bilinear, align_corners: true", "scale: [0.5, 3]"])
def test_onnxruntime_agrees_on_the_decoder_ops(pad_mode, upsample):
    spec = load_text(DECODER.replace("PAD_MODE", pad_mode).replace("UPSAMPLE", upsample))
    model = export_model(spec)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim]
              for v in [*inferred.graph.value_info, *inferred.graph.output]}
    for row in analyze_spec(spec).layers:
        # ONNX's inference of Resize loses the batch's name (it multiplies it by a scale), so only its being symbolic
        assert isinstance(shapes[row.name][0], str) and shapes[row.name][1:] == list(row.output_shape), row.name
    result = verify_spec(spec, batch=2, engine="onnxruntime")
    assert result.passed, result.failures


@pytest.mark.parametrize("text", [ONE_D, THREE_D], ids=["1d", "3d"])
def test_onnxruntime_agrees_in_one_and_three_dimensions(text):
    result = verify_spec(load_text(text), engine="onnxruntime")
    assert result.passed, result.failures
