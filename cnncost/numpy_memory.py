"""What verify's numpy forward pass holds in memory: the estimate checked before it runs, and the peak it
predicts for the bytes numpy really allocates (which verify measures with tracemalloc).

Workspaces are declared by each kernel (cnncost.kernels.workspace_bytes); this module only adds them up.
"""
from __future__ import annotations

from cnncost.analysis import liveness_peak
from cnncost.graph import INPUT

F32 = 4


def memory_estimate(graph, report) -> int:
    """Bytes the forward pass needs at most: the largest layer's weights (generated per layer, then
    dropped), the peak of live activations, and the largest workspace of one layer; all float32."""
    from cnncost.kernels import workspace_bytes

    rows = {row.name: row for row in report.layers}
    shapes = {INPUT: (report.batch, *graph.input_shape)}
    workspace = 0
    for node in graph.nodes:
        workspace = max(workspace, workspace_bytes(node.op, node.attrs, shapes[node.inputs[0]]))
        shapes[node.name] = (report.batch, *rows[node.name].output_shape)
    weights = max(((row.params + row.buffers) * F32 for row in report.layers), default=0)
    return weights + report.totals.peak_activation_bytes + workspace


def predicted_peak(graph, report) -> tuple[int, str]:
    """The most bytes numpy holds during verify's forward pass: live activations as the liveness rule frees them
    (input counted), and while a layer runs its weights (drawn for it, dropped after) and its kernel's workspace.
    `report` is the float32 analysis of the same graph."""
    from cnncost.kernels import workspace_bytes

    rows = {row.name: row for row in report.layers}
    shapes = {INPUT: (report.batch, *graph.input_shape), **{name: (report.batch, *row.output_shape) for name, row in rows.items()}}
    running = {
        node.name: (rows[node.name].params + rows[node.name].buffers) * F32 + workspace_bytes(node.op, node.attrs, shapes[node.inputs[0]])
        for node in graph.nodes
    }
    outputs = {name: row.activation_bytes for name, row in rows.items()}
    return liveness_peak(graph, outputs, report.totals.input_bytes, running)
