"""Tabular views of a Report: which columns, in which order, with raw values and their human form.

Views only read the report. The table, Markdown and CSV renderers format any view;
CSV writes the raw values, the others the human ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from cnncost import units
from cnncost.analysis import collapse
from cnncost.report import BlockRow, Report, field_dicts


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable  # row -> raw value (int, float, str, list): what CSV writes
    human: Callable = str  # raw value -> the text a person reads
    numeric: bool = True
    key: str = ""  # the CSV header: the JSON key of the same figure, where there is one
    text: Callable | None = None  # row -> shown text, when it needs more than the value (indent, a ⚠ mark)
    shown_in_tables: bool = True  # False: CSV only (e.g. warnings, which tables list under the table)
    drop_order: int = 0  # on a narrow terminal, columns with drop_order 1 go first, then 2, ...; 0 never

    def shown(self, row) -> str:
        return self.text(row) if self.text else self.human(self.value(row))

    def cells(self, rows) -> list[str]:
        """`shown` for every row. A deep network repeats its figures (every bottleneck of a stage has the same
        shape and params), so each distinct value is formatted once: most of a 100k-row table's cells are repeats."""
        if self.text:
            return [self.text(row) for row in rows]
        human, formatted, out = self.human, {}, []
        for value in map(self.value, rows):
            kind = type(value)
            if kind is list and all(type(item) is int for item in value):  # a shape
                value_key = tuple(value)
            elif kind is int or kind is str:  # not float or bool: 1 == 1.0 == True, but they read differently
                value_key = value
            else:
                out.append(human(value))
                continue
            text = formatted.get(value_key)
            if text is None:
                text = formatted[value_key] = human(value)
            out.append(text)
        return out


@dataclass(frozen=True)
class View:
    title: str
    columns: tuple
    rows: tuple
    totals: tuple = ()  # (label, human text) lines under the table
    notes: tuple = ()  # conventions and warnings
    total_row: tuple | None = None  # one raw value per column, or None
    name_column: int = 0  # the column of names, shortened from the middle when a terminal is narrow


def conventions(report: Report) -> str:
    per = f"{report.dtype} = {report.dtype_bytes} B/element"
    batch = f"batch {report.batch} included" if report.batch else ""
    return (
        f"MACs = multiply-accumulates of conv and linear layers (1 MAC = 2 FLOPs); FLOPs = 2·MACs + elementwise ops. "
        f"Activations = memory of each layer's output, {per}, {batch}; 1 KiB = 1024 B. Shapes and params are per sample. "
        f"Receptive field = input pixels one output element sees / input pixels between neighbouring elements (jump)."
    )


def _indent(row, depth) -> str:
    """Under --depth, nest rows under their block's subtotal row."""
    return "  " * row.name.count(".") if depth else ""


def _rf(row) -> str:
    field_ = getattr(row, "receptive_field", ())
    return _rf_text(field_, getattr(row, "global_context", False)) if field_ else ""


@lru_cache(maxsize=4096)  # fields repeat from row to row (a pointwise layer keeps its input's)
def _rf_text(field_: tuple, global_context: bool) -> str:
    sizes = "×".join(str(axis.size) for axis in field_)
    jumps = "×".join(str(axis.jump) for axis in field_)
    if len({axis.size for axis in field_}) == 1 and len({axis.jump for axis in field_}) == 1:
        sizes, jumps = str(field_[0].size), str(field_[0].jump)
    return f"{sizes} /{jumps}" + (" +g" if global_context else "")


def standard_view(report: Report, depth: int | None = None) -> View:
    rows = [row for row in (collapse(report, depth) if depth else report.layers) if not getattr(row, "unused", False)]
    columns = (
        Column("Layer", lambda r: r.name, numeric=False, key="name",
               text=lambda r: _indent(r, depth) + r.name + (" ⚠" if getattr(r, "warnings", ()) else "")),
        Column("Op", lambda r: r.block if isinstance(r, BlockRow) else r.op, numeric=False, key="op", drop_order=3,
               text=lambda r: r.op if not isinstance(r, BlockRow) else f"{r.block} ({r.layers} layers)"),
        Column("Output", lambda r: list(r.output_shape), units.shape, numeric=False, key="output_shape"),
        Column("Params", lambda r: r.params, units.count, key="params"),
        Column("MACs", lambda r: r.macs, units.count, key="macs"),
        Column("FLOPs", lambda r: r.flops, units.count, key="flops", drop_order=1),
        Column("Activations", lambda r: r.activation_bytes, units.size, key="activation_bytes"),
        Column("Receptive field", lambda r: field_dicts(r.receptive_field, getattr(r, "global_context", False)),
               numeric=False, key="receptive_field", text=_rf, drop_order=2),
        Column("Warnings", lambda r: list(getattr(r, "warnings", ())), numeric=False, key="warnings", shown_in_tables=False),
    )
    t = report.totals
    totals = (
        ("Params", f"{_with_short(t.params)}; buffers {t.buffers:,}; parameter memory {units.size(t.param_bytes)}"),
        ("MACs", f"{_with_short(t.macs)} MACs = {units.count(t.flops)} FLOPs with elementwise ops"),
        ("Activations", f"{units.size(t.activation_bytes)} all outputs; input {units.size(t.input_bytes)}"),
        ("Peak (inference)", f"{units.size(t.peak_activation_bytes)} at {t.peak_layer} (liveness, input counted)"),
        ("Peak (eager)", f"{units.size(t.eager_peak_activation_bytes)} at {t.eager_peak_layer} (as PyTorch runs it: "
                         "input and block inputs held, in-place ReLU, op temporaries)"),
        ("Training", f"{units.size(t.training_activation_bytes)} saved for the backward pass (what autograd keeps, each tensor once)"),
    )
    if t.training_total_bytes is not None:
        totals += (("Training step", f"{units.size(t.training_total_bytes)} with {t.optimizer}: params + buffers + gradients + "
                    "optimizer state + saved activations + backward transient (largest output gradient + its inputs' gradients)"),)
    totals += unused_section(report)
    notes = [conventions(report)]
    notes += [f"⚠ {row.name}: {w}" for row in report.layers for w in row.warnings]
    title = f"{report.label} — input {units.shape(report.input_shape)}, batch {report.batch}, {report.dtype}"
    if report.batchnorm_folded:
        title += " — batchnorm folded into the convs (inference)"
    total_row = ("total", "", list(report.output_shape), t.params, t.macs, t.flops, t.activation_bytes, "", "")
    return View(title, columns, tuple(rows), totals, tuple(notes), total_row)


def _with_short(n: int) -> str:
    """'61,100,840 (61.10 M)'; a small figure once ('896', not '896 (896)')."""
    short = units.count(n)
    return f"{n:,}" if short == str(n) else f"{n:,} ({short})"


def unused_section(report: Report) -> tuple:
    """Layers that reach no output, listed apart from the table: their weights count, their work does not."""
    if not report.unused:
        return ()
    params = sum(row.params for row in report.layers if row.unused)
    outputs = ", ".join(report.outputs)
    return (
        ("Unused", f"{len(report.unused)} layers reach no output ({outputs}): {params:,} params counted in the total, "
         f"no MACs or memory (they do not run at inference): {', '.join(report.unused)}"),
    )


def lecture_view(report: Report) -> View:
    """The seed notes' AlexNet columns: Memory KB = KiB of the output, Params k = thousands,
    FLOP M = millions of multiply-adds (the lecture counts one multiply-add as one FLOP)."""
    rows = [row for row in report.layers if not _folded(row) and not row.unused]
    attr = lambda key: lambda r: _axis(r.attrs.get(key))  # noqa: E731
    columns = (
        Column("Layer", lambda r: r.name, numeric=False),
        Column("Input C", lambda r: r.input_shapes[0][0] if r.input_shapes else "", drop_order=1),  # = the row above's output
        Column("Input H/W", lambda r: _spatial(r.input_shapes[0]) if r.input_shapes else "", drop_order=1),
        Column("Filters", lambda r: _op(r).filters(r.attrs) or ""),
        Column("Kernel", attr("kernel")),
        Column("Stride", attr("stride")),
        Column("Pad", lambda r: _axis(r.attrs.get("padding")) if "kernel" in r.attrs else ""),
        Column("Output C", lambda r: r.output_shape[0]),
        Column("Output H/W", lambda r: _spatial(r.output_shape)),
        Column("Memory (KB)", lambda r: r.activation_bytes / 1024, lambda v: f"{v:,.0f}"),
        Column("Params (k)", lambda r: r.params / 1000, lambda v: f"{v:,.0f}"),
        Column("FLOP (M)", lambda r: r.macs / 10**6, lambda v: f"{v:,.1f}"),
    )
    note = (
        f"As in the lecture: FLOP = one multiply-add (MACs), Memory = output KB with 1 KB = 1024 B, "
        f"{report.dtype} ({report.dtype_bytes} B), batch {report.batch}; activation, dropout and normalization rows are folded away."
    )
    return View(f"{report.label} (lecture columns)", columns, tuple(rows), (), (note,))


def kinds_view(report: Report) -> View:
    """`--group-by op`: MACs and params per kind of layer, with shares (MobileNet's Table 2)."""
    columns = (
        Column("Kind", lambda k: k.kind, numeric=False, key="kind"),
        Column("Layers", lambda k: k.layers, key="layers"),
        Column("MACs", lambda k: k.macs, units.count, key="macs"),
        Column("MACs %", lambda k: k.mac_share, lambda v: f"{100 * v:.2f}%", key="mac_share"),
        Column("Params", lambda k: k.params, units.count, key="params"),
        Column("Params %", lambda k: k.param_share, lambda v: f"{100 * v:.2f}%", key="param_share"),
    )
    t = report.totals
    total_row = ("total", len(report.layers), t.macs, 1.0, t.params, 1.0)
    return View(f"{report.label} by kind of layer", columns, report.kinds, (), (conventions(report),), total_row)


def _op(row):
    from cnncost.ops import OPS

    return OPS[row.op]


def _folded(row) -> bool:
    return _op(row).elementwise


def _per_axis(values: tuple) -> str:
    """One number when every axis agrees (as the lecture prints 227 for 227×227), else all of them."""
    if not values:
        return ""
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _axis(value) -> str:
    if value is None or value == "":
        return ""
    return _per_axis(value) if isinstance(value, tuple) else str(value)


def _spatial(shape) -> str:
    return _per_axis(tuple(shape[1:]))
