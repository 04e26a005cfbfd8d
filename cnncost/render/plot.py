"""The seed notes' "comparing complexity" chart: top-1 accuracy against MACs, bubble area ∝ params.

After Canziani, Paszke and Culurciello, "An Analysis of Deep Neural Network Models for Practical
Applications" (2016), Fig. 2, as shown in the seed lecture. Needs the `plot` extra (matplotlib).
"""
from __future__ import annotations

import io
import math
import os

from cnncost.errors import CnnCostError, Location

FORMATS = ("svg", "png", "pdf")
LARGEST_BUBBLE = 2500  # points², the area of the model with the most params


def check_plot(path: str) -> None:
    """Fail before any work: a format matplotlib is not asked for, or matplotlib missing."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise CnnCostError(f"--plot writes {', '.join('.' + f for f in FORMATS)} files, not {'.' + ext if ext else 'a name without one'}", Location(path))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CnnCostError("--plot needs matplotlib, which is not installed", None, "pip install 'cnncost[plot]'") from None


def complexity_chart(comparison, path: str, force: bool = False) -> list[str]:
    """Write the chart atomically; return the models left out for want of a published top-1."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    from cnncost.output import write_atomic

    rows = {row.key: row for row in comparison.rows}
    accuracy = rows["top1"].values if "top1" in rows else (None,) * len(comparison.models)
    shown = [i for i, top1 in enumerate(accuracy) if top1 is not None]
    if not shown:
        raise CnnCostError("--plot needs a published top-1 accuracy in at least one spec", None, "add `reference: {top1: 71.6}`")
    macs = [rows["macs"].values[i] / 1e9 for i in shown]
    params = [rows["params"].values[i] for i in shown]
    top1 = [accuracy[i] for i in shown]
    largest = max(params) or 1

    figure = Figure(figsize=(8, 5.5), layout="constrained")
    axes = figure.add_subplot()
    areas = [LARGEST_BUBBLE * p / largest for p in params]
    axes.scatter(macs, top1, s=areas, c=range(len(shown)), cmap="tab10", vmin=0, vmax=9, alpha=0.55, edgecolors="black", linewidths=0.5)
    for i, x, y, area in zip(shown, macs, top1, areas):  # each label just above its bubble (radius √(area/π) points)
        lift = (area / math.pi) ** 0.5 + 2
        axes.annotate(comparison.models[i], (x, y), xytext=(0, lift), textcoords="offset points", ha="center", va="bottom", fontsize=9)
    axes.set_xlabel(f"MACs (G), batch {comparison.reports[0].batch}")
    axes.set_ylabel("Top-1 accuracy (%), published")
    axes.set_title("Comparing complexity: bubble area ∝ parameters")
    axes.margins(0.15)
    axes.grid(alpha=0.3)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=ext, metadata={"Date": None} if ext in ("svg", "pdf") else None)
    write_atomic(path, buffer.getvalue(), force=force)
    return [model for i, model in enumerate(comparison.models) if i not in shown]
