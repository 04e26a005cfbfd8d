"""Budgets for `cnncost check`: limits from a spec, a budgets file or the command line, and how a report measures up.

A budget key is a JSON totals name (`params`, `macs`, `peak_activation_bytes`, ...) or a per-layer limit
(`layer_macs`: no single layer may exceed it), or `latency`: the estimated total on a device (`--device`, totals
`estimated_seconds`), held in whole nanoseconds. Counts read k/M/G, bytes KiB/MiB/GiB, durations ns/us/ms/s
(cnncost.units).
Every source applies; where two set the same key, the tighter limit is the one that counts.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass

from cnncost.errors import CnnCostError, Location
from cnncost.ops.base import unknown_key_message
from cnncost.units import parse_bytes, parse_count, parse_duration

# key -> how its value reads. Total keys name Report.totals fields; `layer_<field>` names a LayerRow field.
METRICS = {
    "params": "count",
    "macs": "count",
    "flops": "count",
    "activation_bytes": "bytes",
    "peak_activation_bytes": "bytes",
    "eager_peak_activation_bytes": "bytes",
    "training_activation_bytes": "bytes",
    "training_total_bytes": "bytes",
    "param_bytes": "bytes",
    "layer_params": "count",
    "layer_macs": "count",
    "layer_flops": "count",
    "layer_activation_bytes": "bytes",
    "latency": "seconds",
}
PARSERS = {"count": parse_count, "bytes": parse_bytes, "seconds": parse_duration}
LAYER_PREFIX = "layer_"


@dataclass(frozen=True)
class Limit:
    key: str
    value: int
    text: str  # as written, e.g. "5M"
    origin: str  # "spec", "budgets file" or "command line"
    location: Location | None = None


@dataclass(frozen=True)
class BudgetCheck:
    """One limit against the report: for a per-layer limit, `actual` is the largest layer and `over` the offenders."""

    limit: Limit
    actual: int
    layer: str = ""  # the layer behind `actual`: the largest one, or where the peak is reached
    over: tuple = ()  # (layer name, value) of every layer over a per-layer limit

    @property
    def passed(self) -> bool:
        return self.actual <= self.limit.value


@dataclass(frozen=True)
class Rule:
    """One entry of a budgets file: a spec name or glob, and its limits."""

    pattern: str
    limits: dict

    def matches(self, name: str, path: str) -> bool:
        candidates = {name, path, os.path.normpath(path), os.path.basename(path), _relative(path)}
        return any(fnmatch.fnmatchcase(candidate.replace(os.sep, "/"), self.pattern) for candidate in candidates)


def read_limits(values: dict, origin: str, locate=lambda key: None) -> dict:
    """Budget keys → Limits; an unknown key or unreadable value is a CnnCostError at `locate(key)`."""
    limits = {}
    for key, text in values.items():
        where = locate(key)
        if key not in METRICS:
            raise CnnCostError(unknown_key_message(key, METRICS, "a budget"), where)
        try:
            value = PARSERS[METRICS[key]](text, f"budget {key!r}")
        except CnnCostError as exc:
            raise CnnCostError(exc.message, where, exc.hint) from None
        limits[key] = Limit(key, value, str(text), origin, where)
    return limits


def spec_limits(spec) -> dict:
    """The spec's own `budget:`. Spec.budget_locs holds where each value starts; its key is on the same line."""
    lines = _lines(spec.path) if spec.budget else []

    def locate(key):
        value = spec.budget_locs.get(key)
        if value is None or value.line is None or value.line > len(lines):
            return value or Location(spec.path)
        column = lines[value.line - 1].rfind(str(key), 0, (value.column or 1) - 1)
        return Location(value.file, value.line, column + 1 if column >= 0 else value.column)

    return read_limits(spec.budget, "spec", locate)


def load_rules(path: str) -> tuple:
    """A budgets file maps spec names or globs to limits:  `mobilenet_*: {params: 5M, macs: 600M}`."""
    from cnncost.spec.yamlload import LocDict, load_yaml, read_spec_text

    if not os.path.isfile(path):
        raise CnnCostError("budgets file not found" if not os.path.exists(path) else "budgets file is not a file", Location(path), "check the --budgets path (or `budgets` under [tool.cnncost])")
    text = read_spec_text(path)
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return ()
    doc = load_yaml(text, path)
    example = "e.g. `mobilenet_*: {params: 5M, macs: 600M}`"
    if not isinstance(doc, LocDict):
        raise CnnCostError("a budgets file must map spec names or globs to limits", getattr(doc, "loc", Location(path)), example)
    rules = []
    for pattern, limits in doc.items():
        if not isinstance(limits, LocDict):
            raise CnnCostError(f"the limits for {pattern!r} must be a mapping", doc.value_loc(pattern), example)
        rules.append(Rule(str(pattern), read_limits(limits, "budgets file", limits.key_loc)))
    return tuple(rules)


def tightest(*sources: dict) -> list:
    """Merge limit sets: per key the lowest limit (the first source wins a tie), in METRICS order."""
    merged = {}
    for limits in sources:
        for key, limit in limits.items():
            if key not in merged or limit.value < merged[key].value:
                merged[key] = limit
    return sorted(merged.values(), key=lambda limit: list(METRICS).index(limit.key))


def measure(limit: Limit, report) -> BudgetCheck:
    if limit.key.startswith(LAYER_PREFIX):
        field = limit.key[len(LAYER_PREFIX):]
        values = [(row.name, getattr(row, field)) for row in report.layers]
        largest = max(values, key=lambda item: item[1], default=("", 0))
        over = tuple((name, value) for name, value in values if value > limit.value)
        return BudgetCheck(limit, largest[1], largest[0], over)
    if limit.key == "latency":
        if report.totals.estimated_seconds is None:
            raise CnnCostError("the budget latency needs a device to estimate it on", limit.location,
                               "add --device PROFILE (a bundled profile or one `cnncost calibrate` wrote)")
        return BudgetCheck(limit, round(report.totals.estimated_seconds * 1e9))
    layer = {"peak_activation_bytes": report.totals.peak_layer, "eager_peak_activation_bytes": report.totals.eager_peak_layer}.get(limit.key, "")
    actual = getattr(report.totals, limit.key)
    if actual is None:  # training_total_bytes exists only for an optimizer
        raise CnnCostError(f"the budget {limit.key} needs an optimizer", limit.location, "add --optimizer sgd|momentum|adam|adamw")
    return BudgetCheck(limit, actual, layer)


def _lines(path: str) -> list:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
