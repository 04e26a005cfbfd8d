"""onnxruntime as a third engine: the exported graph, run with the seeded weights and input verify uses."""
from __future__ import annotations

from cnncost.errors import CnnCostError
from cnncost.graph import INPUT

def layer_outputs(spec, batch: int, seed: int) -> dict:
    """Every used layer's output as onnxruntime computes it, by layer name."""
    try:
        import onnxruntime
    except ImportError:
        raise CnnCostError("--engine onnxruntime needs onnxruntime", None, "pip install 'cnncost[onnx]'") from None
    from cnncost.interop.onnx_export import export_model
    from cnncost.seeded import input_array

    model = export_model(spec, seed, every_layer=True)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL  # run the graph as written
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    values = session.run(names, {INPUT: input_array(seed, batch, spec.graph.input_shape)})
    return dict(zip(names, values))
