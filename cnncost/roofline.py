"""A per-layer latency estimate on a device: the roofline model over the report's FLOPs and memory traffic.

Each layer that runs takes max(flops / peak FLOP/s, bytes moved / bandwidth) / the op's efficiency (the share of
the roofline it reaches) plus the profile's per-layer overhead, and is compute- or memory-bound by whichever term
is larger. An op's variant (a depthwise conv: the op's `variant`) takes the variant's own efficiency and overhead
when the profile gives them, else the op's, else the profile's defaults. A profile that measured an op at a few
product shapes (`shape_efficiency`; a convolution is a product of (out/groups) rows, (C_in/groups · taps) depth and
one column per output position) gives the layer the efficiency interpolated between the nearest measured shapes instead. The model's time is the layers' sum
(one layer after another, as a forward pass runs them). A layer that moves nothing and computes nothing (a view)
takes no time. Times are seconds as floats: they are estimates, not counts.
"""
from __future__ import annotations

from dataclasses import replace

from cnncost.errors import CnnCostError, Location
from cnncost.ops import OPS


def layer_seconds(row, peak: int, profile) -> tuple[float, str]:
    """(estimated seconds, "compute" or "memory") of one layer."""
    compute = row.flops / peak
    memory = (row.bytes_read + row.bytes_written) / profile.memory_bandwidth
    bound = "compute" if compute > memory else "memory"
    if not (row.flops or row.bytes_read or row.bytes_written):
        return 0.0, bound
    op, in_shapes = OPS[row.op], list(row.input_shapes)
    variant = op.variant(row.attrs, in_shapes)
    efficiency = profile.efficiency_of(row.op, variant, op.product_shape(row.attrs, in_shapes, row.output_shape))
    return max(compute, memory) / efficiency + profile.overhead_seconds(row.op, variant), bound


def estimate(report, profile):
    """The report with `estimated_seconds` and `bound` on every running layer, the total, and the device's name."""
    peak = profile.peak_flops.get(report.dtype)
    if peak is None:
        have = ", ".join(profile.peak_flops)
        raise CnnCostError(f"device profile {profile.name!r} gives no peak_flops for {report.dtype}",
                           Location(profile.path), f"choose --dtype {have.split(', ')[0]}, or add {report.dtype} to its peak_flops")
    layers = []
    for row in report.layers:
        seconds, bound = (0.0, None) if row.unused else layer_seconds(row, peak, profile)
        layers.append(replace(row, estimated_seconds=seconds, bound=bound))
    total = sum(row.estimated_seconds for row in layers)
    return replace(report, layers=tuple(layers), totals=replace(report.totals, estimated_seconds=total), device=profile.name)
