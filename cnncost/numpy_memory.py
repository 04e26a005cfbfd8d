"""What verify's numpy forward pass holds in memory: the estimate checked before it runs.

Workspaces are declared by each kernel (cnncost.kernels.workspace_bytes); this module only adds them up.
"""
from __future__ import annotations

from cnncost.graph import INPUT


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
    weights = max(((row.params + row.buffers) * 4 for row in report.layers), default=0)
    return weights + report.totals.peak_activation_bytes + workspace
