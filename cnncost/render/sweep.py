"""A sweep or search as a table, JSON, and a plot of two metrics with the Pareto front. Reads, computes nothing."""
from __future__ import annotations

import io
import json
import os

from cnncost import units
from cnncost.render.views import Column, View

HEADERS = {
    "params": ("Params", units.count),
    "macs": ("MACs", units.count),
    "flops": ("FLOPs", units.count),
    "activation_bytes": ("Activations", units.size),
    "peak_activation_bytes": ("Peak (inference)", units.size),
    "training_activation_bytes": ("Training act.", units.size),
    "param_bytes": ("Param memory", units.size),
    "top1": ("Top-1 % (published)", lambda v: "" if v is None else f"{v:g}"),
}
NOTE = (
    "MACs = multiply-accumulates of conv and linear layers (1 MAC = 2 FLOPs); bytes are output activations or "
    "weights at {dtype}, batch {batch} included; 1 KiB = 1024 B. Top-1 is the spec's published figure, where the "
    "point matches a `reference`."
)


def points_view(result, points=None, title: str | None = None) -> View:
    """One row per point: its args, its metrics, and which budgets it breaks."""
    columns = [Column(name, lambda p, name=name: p.args.get(name, ""), _arg, numeric=False) for name in result.names]
    for key, (header, human) in HEADERS.items():
        columns.append(Column(header, lambda p, key=key: p.metrics.get(key), lambda v, human=human: "" if v is None else human(v)))
    if result.limits:
        columns.append(Column("Budget", lambda p: "over: " + ", ".join(p.over) if p.over else "fits", numeric=False))
    fits = sum(point.fits for point in result.points)
    shown = result.points if points is None else points
    heading = title or f"cnncost sweep: {result.model}, {len(result.points)} points" + (f", {fits} within budget" if result.limits else "")
    return View(heading, tuple(columns), tuple(shown), (), (NOTE.format(dtype=result.dtype, batch=result.batch),))


def _arg(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def to_json(result, best=None, front=()) -> str:
    """`points` in input order; `best` and `pareto` repeat the chosen points' args."""
    doc = {
        "model": result.model,
        "batch": result.batch,
        "dtype": result.dtype,
        "args": list(result.names),
        "budgets": {limit.key: limit.value for limit in result.limits},
        "points": [{"args": p.args, **p.metrics, "fits": p.fits, "over": list(p.over)} for p in result.points],
        "best": best.args if best else None,
        "pareto": [p.args for p in front],
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def check_plot(path: str) -> None:
    from cnncost.render.plot import check_plot as check

    check(path)


def pareto_chart(result, front, x: str, y: str, path: str) -> None:
    """Every point within budget (grey), over budget (light crosses), the Pareto front as a line; atomically."""
    from matplotlib.figure import Figure

    from cnncost.output import write_atomic

    figure = Figure(figsize=(8, 5.5), layout="constrained")
    axes = figure.add_subplot()
    scale = {key: (1e6 if key in ("params", "macs", "flops") else 2**20) for key in HEADERS if key != "top1"}

    def values(points, key):
        return [p.metrics[key] / scale.get(key, 1) for p in points if p.metrics.get(x) is not None and p.metrics.get(y) is not None]

    def label(key):
        unit = "" if key == "top1" else (" (M)" if scale[key] == 1e6 else " (MiB)")
        return HEADERS[key][0] + unit

    inside = [p for p in result.points if p.fits]
    over = [p for p in result.points if not p.fits]
    axes.scatter(values(inside, x), values(inside, y), s=14, color="tab:blue", alpha=0.5, label="within budget")
    if over:
        axes.scatter(values(over, x), values(over, y), s=14, color="tab:red", marker="x", alpha=0.4, label="over budget")
    if front:
        axes.plot(values(front, x), values(front, y), "-o", color="black", markersize=5, label="Pareto front")
        for p in front[:12]:
            axes.annotate(", ".join(f"{k}={_arg(v)}" for k, v in p.args.items()), (p.metrics[x] / scale.get(x, 1), p.metrics[y] / scale.get(y, 1)),
                          xytext=(4, 4), textcoords="offset points", fontsize=7)
    axes.set_xlabel(label(x))
    axes.set_ylabel(label(y))
    axes.set_title(f"{result.model}: {len(result.points)} points, batch {result.batch}, {result.dtype}")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=ext, dpi=110, metadata={"Date": None} if ext in ("svg", "pdf") else None)
    write_atomic(path, buffer.getvalue())
