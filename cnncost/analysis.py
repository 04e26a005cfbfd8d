"""Walk a graph with the op rules: shapes, costs, receptive fields, memory timeline and its peak → a Report."""
from __future__ import annotations

from math import prod
from typing import NamedTuple

from cnncost.gcpause import gc_paused
from cnncost.eager import eager_peak
from cnncost.errors import CnnCostError, Location, ShapeWarningError
from cnncost.graph import INPUT, BlockNesting
from cnncost.limits import MAX_COUNT
from cnncost.ops import OPS
from cnncost.ops.base import OpError, fmt_shape, settings_key
from cnncost.receptive import Field, input_field, through
from cnncost.traffic import layer_traffic
from cnncost.training import OPTIMIZER_STATE, backward_transient_bytes, saved_activation_bytes, training_total_bytes
from cnncost.report import DTYPE_BYTES, BlockRow, KindRow, LayerRow, Report, Totals


@gc_paused
def analyze_spec(spec, batch: int = 1, dtype: str = "float32", strict: bool = False, optimizer: str | None = None) -> Report:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CnnCostError(f"batch must be a positive integer, not {batch!r}")
    if optimizer is not None and optimizer not in OPTIMIZER_STATE:
        raise CnnCostError(f"unknown optimizer {optimizer!r}", None, f"choose one of {', '.join(OPTIMIZER_STATE)}")
    if dtype not in DTYPE_BYTES:
        raise CnnCostError(f"unknown dtype {dtype!r}", None, f"choose one of {', '.join(DTYPE_BYTES)}")
    graph = spec.graph
    element_bytes = DTYPE_BYTES[dtype] * batch
    shapes = {INPUT: graph.input_shape}
    fields = {INPUT: input_field(len(graph.input_shape) - 1)}
    rows = []
    unused = set(graph.unused())
    rules: dict = {}  # one analysis: batch and dtype are fixed, so a layer's figures follow from (op, attrs, input shapes)
    for node in graph.nodes:
        row, fields[node.name] = layer_row(node, shapes, fields, batch, element_bytes, graph.input_shape[1:], node.name in unused, rules)
        if strict and row.warnings:
            raise ShapeWarningError(f"layer {node.name!r}: {row.warnings[0]}", node.loc, "--strict turns warnings into errors")
        shapes[node.name] = row.output_shape
        rows.append(row)
    input_bytes = prod(graph.input_shape) * element_bytes
    if input_bytes > MAX_COUNT:
        raise CnnCostError("the input's bytes (shape × batch × dtype size) go over the limit of 10^100", None, "lower --input or --batch")
    timeline = liveness_timeline(graph, {row.name: row.activation_bytes for row in rows}, input_bytes)
    peak, peak_layer = max(timeline, key=lambda step: step[1])[::-1]
    eager, eager_layer = eager_peak(graph, rows, input_bytes, spec.block_instances, element_bytes)
    params = sum(row.params for row in rows)
    run = [row for row in rows if not row.unused]  # unused layers hold weights but do not run
    activation_bytes = sum(row.activation_bytes for row in run)
    saved = saved_activation_bytes(graph, rows, input_bytes, DTYPE_BYTES[dtype], batch)
    buffers = sum(row.buffers for row in rows)
    total = None
    if optimizer:
        transient = backward_transient_bytes(rows, input_bytes)
        total = training_total_bytes(params * DTYPE_BYTES[dtype], buffers * DTYPE_BYTES[dtype], optimizer, saved, transient)
    totals = Totals(
        params=params,
        buffers=buffers,
        macs=sum(row.macs for row in run),
        flops=sum(row.flops for row in run),
        activation_bytes=activation_bytes,
        input_bytes=input_bytes,
        param_bytes=params * DTYPE_BYTES[dtype],
        peak_activation_bytes=peak,
        peak_layer=peak_layer,
        training_activation_bytes=saved,
        optimizer=optimizer,
        training_total_bytes=total,
        eager_peak_activation_bytes=eager,
        eager_peak_layer=eager_layer,
        bytes_read=sum(row.bytes_read for row in run),
        bytes_written=sum(row.bytes_written for row in run),
    )
    check_totals(totals, spec)
    return Report(
        model=spec.name,
        path=spec.path,
        description=spec.description,
        source=spec.source,
        input_shape=graph.input_shape,
        batch=batch,
        dtype=dtype,
        layers=tuple(rows),
        blocks=block_rows(spec.block_instances, rows),
        totals=totals,
        reference=spec.reference,
        unused=tuple(row.name for row in rows if row.unused),
        outputs=graph.outputs,
        kinds=breakdown(rows, totals),
        args=dict(spec.args),
        memory_timeline=timeline,
    )


class Rules(NamedTuple):
    """What a layer's op rules give for its attributes and input shapes: everything in a row but its receptive field."""

    output_shape: tuple
    window: object
    axis_order: tuple | None
    warnings: tuple
    read: int  # the first `read` inputs lend values; the rest only their shapes
    params: int
    buffers: int
    macs: int  # whole batch, as the row
    flops: int
    kind: str
    bytes_read: int
    bytes_written: int


def layer_row(node, shapes: dict, fields: dict, batch: int, element_bytes: int, input_sizes: tuple,
              unused: bool = False, rules: dict | None = None) -> tuple[LayerRow, Field]:
    """`rules`, when given, keeps each (op, attrs, input shapes)'s Rules for the next layer that repeats them:
    deep networks repeat their blocks, and a 100k-layer spec is mostly repeats."""
    in_shapes = [shapes[name] for name in node.inputs]
    settings = settings_key(node.op, node.attrs) if rules is not None else None  # None: not hashable, worked out afresh
    key = (settings, tuple(in_shapes)) if settings is not None else None
    found = rules.get(key) if key is not None else None
    if found is None:
        found = op_rules(node, in_shapes, batch, element_bytes)
        if key is not None:
            rules[key] = found
    read = found.read
    field_ = through([fields[name] for name in node.inputs[:read]], [_broadcast(shape, found.output_shape) for shape in in_shapes[:read]],
                     found.window, input_sizes, (len(in_shapes[0]), len(found.output_shape)), found.axis_order)
    row = LayerRow(
        name=node.name,
        op=node.op,
        inputs=node.inputs,
        input_shapes=tuple(in_shapes),
        output_shape=found.output_shape,
        params=found.params,
        buffers=found.buffers,
        macs=found.macs,
        flops=found.flops,
        activation_bytes=prod(found.output_shape) * element_bytes,
        receptive_field=field_.axes,
        global_context=field_.global_context,
        unused=unused,
        warnings=found.warnings,
        kind=found.kind,
        attrs=node.attrs,
        location=str(node.loc),
        bytes_read=found.bytes_read,
        bytes_written=found.bytes_written,
    )
    check_size(row, node)
    return row, field_


def op_rules(node, in_shapes: list, batch: int, element_bytes: int) -> Rules:
    op = OPS[node.op]
    try:
        op.check_inputs(in_shapes)
        out = op.output_shape(node.attrs, in_shapes)
        if any(d < 1 for d in out):
            raise OpError(f"output shape {fmt_shape(out)} has an empty dimension")
        window = op.window(node.attrs, in_shapes)
        axis_order = op.axis_order(node.attrs, in_shapes)
        warnings = tuple(op.warnings(node.attrs, in_shapes))
    except OpError as exc:
        seen = ", ".join(f"{name} {fmt_shape(shape)}" for name, shape in zip(node.inputs, in_shapes))
        where = node.attr_locs.get(exc.key, node.loc) if exc.key else node.loc
        raise CnnCostError(f"layer {node.name!r} ({node.op}): {exc} [input: {seen or 'none'}]", where) from None
    params, buffers = op.params(node.attrs, in_shapes), op.buffers(node.attrs, in_shapes)
    bytes_read, bytes_written = layer_traffic(op, in_shapes, out, params + buffers, batch, element_bytes // batch)
    return Rules(out, window, axis_order, warnings, op.value_inputs(len(in_shapes)), params, buffers,
                 op.macs(node.attrs, in_shapes, out) * batch, op.flops(node.attrs, in_shapes, out) * batch,
                 op.kind_of(node.attrs, in_shapes), bytes_read, bytes_written)


def check_size(row: LayerRow, node) -> None:
    """Refuse figures no network reaches. Past MAX_COUNT, numbers stop being printable (Python caps int→str at
    4,300 digits) and receptive-field jumps, multiplied layer after layer, stop being cheap; an output dimension
    is bounded too, since activation bytes are at least as large."""
    field_ = [n for axis in row.receptive_field for n in (axis.size, axis.jump, abs(axis.start))]
    if max(row.params, row.buffers, row.macs, row.flops, row.activation_bytes, row.bytes_read, *field_) <= MAX_COUNT:
        return
    figures = {"params": row.params, "buffers": row.buffers, "MACs": row.macs, "FLOPs": row.flops,
               "activation bytes": row.activation_bytes, "bytes read": row.bytes_read, "receptive field": max(field_, default=0)}
    over = [name for name, value in figures.items() if value > MAX_COUNT]
    raise CnnCostError(
        f"layer {node.name!r} ({node.op}): {', '.join(over)} go over the limit of 10^100",
        node.loc,
        "check the input shape, --batch and this layer's settings",
    )


def check_totals(totals: Totals, spec) -> None:
    """The documented bound holds for sums too: a thousand layers just under 10^100 each must not add up past it."""
    over = [name for name, value in vars(totals).items() if isinstance(value, int) and value > MAX_COUNT]
    if over:
        raise CnnCostError(
            f"the totals ({', '.join(over)}) go over the limit of 10^100", Location(spec.path), "check the input shape, --batch and the layers' settings"
        )


def _broadcast(shape: tuple, out: tuple) -> bool:
    """An input of size 1 on every spatial axis, spread over a larger output (a squeeze-excite gate)."""
    return len(shape) == len(out) > 1 and all(n == 1 for n in shape[1:]) and any(n > 1 for n in out[1:])


def liveness_peak(graph, output_bytes: dict, input_bytes: int, running: dict | None = None) -> tuple[int, str]:
    """The largest step of the timeline, and its layer."""
    layer, peak = max(liveness_timeline(graph, output_bytes, input_bytes, running), key=lambda step: step[1])
    return peak, layer


def liveness_timeline(graph, output_bytes: dict, input_bytes: int, running: dict | None = None) -> tuple:
    """Live activation bytes at each step of inference, as (layer, bytes) in execution order, the input first.
    Run in execution order, free each tensor after its last consumer, nothing in place. A step is taken while
    its layer runs: its inputs and its new output are both alive, and `running` bytes of its own (weights,
    workspace) if given. Unused layers do not run and have no step."""
    remaining = graph.readers()
    unused = set(graph.unused())
    live = {INPUT: input_bytes}
    current = input_bytes
    steps = [(INPUT, input_bytes)]
    for node in graph.nodes:
        if node.name in unused:
            continue
        live[node.name] = output_bytes[node.name]
        current += output_bytes[node.name]
        steps.append((node.name, current + (running or {}).get(node.name, 0)))
        for name in set(node.inputs):
            remaining[name] -= 1
            if remaining[name] == 0 and name not in graph.outputs:
                current -= live.pop(name)
        if remaining[node.name] == 0 and node.name not in graph.outputs:
            current -= live.pop(node.name)
    return tuple(steps)


def block_rows(instances, rows) -> tuple:
    """Subtotals for every block instance and repeat, from the rows under its name (one pass over rows)."""
    sums = {instance.name: [0, 0, 0, 0, 0] for instance in instances}
    nesting = BlockNesting(sums)
    for row in rows:
        for block in nesting.around(row.name):
            totals = sums[block]
            totals[0] += 1
            totals[1] += row.params
            if not row.unused:
                totals[2] += row.macs
                totals[3] += row.flops
                totals[4] += row.activation_bytes
    by_name = {row.name: row for row in rows}
    out = []
    for instance in instances:
        layers, params, macs, flops, activation_bytes = sums[instance.name]
        last = by_name.get(instance.output)
        out.append(
            BlockRow(
                name=instance.name,
                block=instance.block,
                depth=instance.name.count(".") + 1,
                layers=layers,
                output_shape=last.output_shape if last else (),
                receptive_field=last.receptive_field if last else (),
                params=params,
                macs=macs,
                flops=flops,
                activation_bytes=activation_bytes,
            )
        )
    return tuple(out)


def breakdown(rows, totals) -> tuple:
    """MACs and params per kind of layer, largest first, with shares of the totals."""
    kinds: dict[str, list] = {}
    for row in rows:
        kinds.setdefault(row.kind, []).append(row)
    out = []
    for kind, members in kinds.items():
        params, macs = sum(r.params for r in members), sum(r.macs for r in members if not r.unused)
        out.append(KindRow(kind, len(members), params, macs, params / (totals.params or 1), macs / (totals.macs or 1)))
    return tuple(sorted(out, key=lambda k: (-k.macs, -k.params, k.kind)))


def collapse(report: Report, depth: int) -> list:
    """Rows for `--depth N`, read like a paper's stage table: each block above depth N appears as a
    subtotal row heading its members, blocks at depth N as one subtotal row, leaves down to depth N."""
    blocks = {block.name: block for block in report.blocks}
    out, shown = [], set()
    for row in report.layers:
        parts = row.name.split(".")
        for end in range(1, min(len(parts), depth + 1)):
            name = ".".join(parts[:end])
            if name in blocks and name not in shown:
                shown.add(name)
                out.append(blocks[name])
        if len(parts) <= depth:
            out.append(row)
        elif ".".join(parts[:depth]) not in blocks:
            out.append(row)
    return out
