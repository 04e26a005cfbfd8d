"""`summary --columns roofline`: per layer FLOPs, bytes moved and arithmetic intensity, and with --device the
estimated time and which roof bounds it. Reads the report only (cnncost.traffic and cnncost.roofline computed it)."""
from __future__ import annotations

from cnncost import units
from cnncost.render.views import Column, View, conventions
from cnncost.report import Report
from cnncost.traffic import arithmetic_intensity


def _intensity(value: float) -> str:
    return f"{value:.1f}" if value else "-"


def roofline_view(report: Report) -> View:
    rows = [row for row in report.layers if not row.unused]
    # On a narrow terminal the share of time goes first, then FLOPs, then the op (cnncost.render.table)
    columns = [
        Column("Layer", lambda r: r.name, numeric=False, key="name"),
        Column("Op", lambda r: r.op, numeric=False, key="op", drop_order=3),
        Column("FLOPs", lambda r: r.flops, units.count, key="flops", drop_order=2),
        Column("Read", lambda r: r.bytes_read, units.size, key="bytes_read"),
        Column("Written", lambda r: r.bytes_written, units.size, key="bytes_written"),
        Column("FLOP/B", lambda r: r.arithmetic_intensity, _intensity, key="arithmetic_intensity"),
    ]
    t = report.totals
    total_row = ["total", "", t.flops, t.bytes_read, t.bytes_written, arithmetic_intensity(t.flops, t.bytes_read, t.bytes_written)]
    moved = t.bytes_read + t.bytes_written
    totals = [("Traffic", f"{units.size(t.bytes_read)} read + {units.size(t.bytes_written)} written = {units.size(moved)} moved "
                          f"({moved:,} B); {_intensity(total_row[-1])} FLOPs per byte over the whole model")]
    notes = [conventions(report),
             "Read = inputs × batch + weights (params and buffers, once); Written = output × batch; no reuse across "
             "layers; views and dropout move nothing. FLOP/B = FLOPs / (Read + Written)."]
    if report.device:
        share = lambda r: r.estimated_seconds / t.estimated_seconds if t.estimated_seconds else 0.0  # noqa: E731
        columns += [
            Column("Time", lambda r: r.estimated_seconds, units.duration, key="estimated_seconds"),
            Column("Bound", lambda r: r.bound or "", numeric=False, key="bound"),
            Column("Time %", share, lambda v: f"{100 * v:.1f}%", key="time_share", drop_order=1),
        ]
        total_row += [t.estimated_seconds, "", 1.0]
        compute = sum(1 for r in rows if r.bound == "compute")
        totals.append(("Estimated latency", f"{units.duration(t.estimated_seconds)} on {report.device}, batch {report.batch}, "
                                            f"{report.dtype}; {compute} of {len(rows)} layers compute-bound"))
        notes.append("Time = max(FLOPs / peak, (Read + Written) / bandwidth) / the op's efficiency + per-layer overhead, "
                     "from the device profile; an estimate, not a measurement (docs/roofline.md).")
    title = f"{report.label} — memory traffic and arithmetic intensity, batch {report.batch}, {report.dtype}"
    return View(title, tuple(columns), tuple(rows), tuple(totals), tuple(notes), tuple(total_row))
