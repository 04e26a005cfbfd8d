"""Memory traffic per layer: the bytes a layer reads and writes at inference, for the roofline (cnncost.roofline).

Convention (stated in the report's `conventions`): a layer reads each input it takes values from (elements ×
batch × bytes per element) and its weights (params + buffers, once per batch), and writes its output (elements
× batch × bytes per element). Nothing is reused across layers: every input comes from main memory, however
recently it was written. A view (flatten, a channel slice) and inference no-ops (dropout) move nothing.
For a bias-free 1×1 conv at batch 1 this is ShuffleNetV2's memory access cost, MAC = hw(c1 + c2) + c1·c2
elements (Ma et al. 2018, section 2, guideline G1).
"""
from __future__ import annotations

from math import prod

CONVENTION = (
    "bytes_read = value inputs × batch + params + buffers (weights once per batch), bytes_written = output × batch, "
    "at the dtype's bytes per element; no reuse across layers (every input read from main memory); views and "
    "dropout move nothing; arithmetic_intensity = flops / (bytes_read + bytes_written)"
)


def layer_traffic(op, in_shapes: list, out_shape: tuple, weights: int, batch: int, dtype_bytes: int) -> tuple[int, int]:
    """(bytes_read, bytes_written) of one layer; `weights` is its params + buffers (elements)."""
    if not op.moves_data:
        return 0, 0
    read = sum(prod(shape) for shape in in_shapes[: op.value_inputs(len(in_shapes))]) * batch + weights
    return read * dtype_bytes, prod(out_shape) * batch * dtype_bytes


def arithmetic_intensity(flops: int, bytes_read: int, bytes_written: int) -> float:
    """FLOPs per byte moved; 0.0 for a layer that moves nothing."""
    moved = bytes_read + bytes_written
    return flops / moved if moved else 0.0
