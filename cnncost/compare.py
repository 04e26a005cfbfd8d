"""`cnncost compare`: the figures of several reports side by side, each against a baseline model."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from cnncost import answer_calls_as_api
from cnncost.errors import CnnCostError
from cnncost.ops import OPS


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # count | bytes | seconds | int | field (receptive field sizes) | percent (accuracy)

    def read(self, report):
        if self.unit in ("count", "bytes", "seconds"):
            return getattr(report.totals, self.key)
        return _EXTRA[self.key](report)


METRICS = (
    Metric("params", "Params", "count"),
    Metric("macs", "MACs", "count"),
    Metric("flops", "FLOPs", "count"),
    Metric("activation_bytes", "Activation memory", "bytes"),
    Metric("peak_activation_bytes", "Peak memory (inference)", "bytes"),
    Metric("param_bytes", "Parameter memory", "bytes"),
    Metric("training_total_bytes", "Training step memory (with --optimizer)", "bytes"),
    Metric("bytes_read", "Bytes read (no reuse)", "bytes"),
    Metric("bytes_written", "Bytes written", "bytes"),
    Metric("estimated_seconds", "Estimated latency (with --device)", "seconds"),
    Metric("weighted_layers", "Depth (conv + linear layers)", "int"),
    Metric("receptive_field", "Receptive field of the output", "field"),
    Metric("top1", "Top-1 accuracy, published (%)", "percent"),
)


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    unit: str
    values: tuple  # one per model; None where the model has no such figure
    versus: tuple  # per model against the baseline: a ratio, or for accuracy the difference in points; None for the baseline


@dataclass(frozen=True)
class Comparison:
    models: tuple  # column names, unique
    reports: tuple  # one per model
    baseline: int  # index into models
    rows: tuple  # MetricRow


def compare_reports(reports: list, baseline: str | None = None, depth: int | None = None) -> Comparison:
    """With a latency estimate on every report (--device), the models are ranked by it, fastest first; the
    baseline stays the one named, or the first given."""
    base = _baseline_index(reports, _unique_names(reports), baseline)
    if all(report.totals.estimated_seconds is not None for report in reports):
        order = sorted(range(len(reports)), key=lambda i: reports[i].totals.estimated_seconds)
        reports, base = [reports[i] for i in order], order.index(base)
    models = _unique_names(reports)
    rows = []
    for metric in METRICS:
        values = tuple(metric.read(report) for report in reports)
        if all(value is None for value in values):  # e.g. no spec carries a published top-1
            continue
        rows.append(_row(metric.key, metric.label, metric.unit, values, base))
    if depth:
        rows += stage_rows(reports, depth, base)
    return Comparison(models, tuple(reports), base, tuple(rows))


def stage_rows(reports: list, depth: int, base: int) -> list:
    """MACs and params of every block at `depth`, one row each, aligned by block name (None where a model has none)."""
    names = []
    for report in reports:
        names += [block.name for block in report.blocks if block.depth == depth and block.name not in names]
    rows = []
    for name in names:
        found = [next((b for b in report.blocks if b.name == name), None) for report in reports]
        for key, label in (("macs", "MACs"), ("params", "params")):
            values = tuple(getattr(block, key) if block else None for block in found)
            rows.append(_row(f"{name}.{key}", f"{name} {label}", "count", values, base))
    return rows


def _row(key: str, label: str, unit: str, values: tuple, base: int) -> MetricRow:
    reference = values[base]

    def versus(i, value):
        if i == base or value is None or reference is None:
            return None
        if unit == "percent":
            return value - reference
        if unit == "field" or not reference:
            return None
        return value / reference

    return MetricRow(key, label, unit, values, tuple(versus(i, value) for i, value in enumerate(values)))


def _unique_names(reports) -> tuple:
    names = []
    for report in reports:
        name, n = report.model, 2
        while name in names:
            name, n = f"{report.model} ({n})", n + 1
        names.append(name)
    return tuple(names)


def _baseline_index(reports, models: tuple, baseline: str | None) -> int:
    if baseline is None:
        return 0
    for i, report in enumerate(reports):
        if baseline in (models[i], report.model, report.path):
            return i
    close = difflib.get_close_matches(baseline, models, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(models)}"
    raise CnnCostError(f"--baseline {baseline!r} is not one of the compared models", None, hint)


def _top1(report):
    value = report.reference.get("top1")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


_EXTRA = {
    "weighted_layers": lambda report: sum(1 for row in report.layers if OPS[row.op].counts_as_layer),
    "receptive_field": lambda report: tuple(axis.size for axis in report.output_row.receptive_field) if report.layers else (),
    "top1": _top1,
}


answer_calls_as_api(__name__)  # cnncost.compare(...) is the public API function, whichever object the name holds
