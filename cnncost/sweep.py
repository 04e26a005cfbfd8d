"""A spec's design space, point by point: every combination of argument values → its cost, budgets and front.

A point is one set of the spec's `args:`. Points are independent, so they run in parallel processes (or on a
Dask cluster, cnncost.distributed); results always come back in the order the points were given. The YAML is
parsed once; each point builds and analyses the spec with its args.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from functools import partial

from cnncost.errors import CnnCostError
from cnncost.gcpause import gc_paused

MAX_POINTS = 10_000
# The totals a sweep row shows, all integers; `top1` (published, where a point matches a reference) is the one
# metric that is better larger, so `--best top1` maximises it and the Pareto front keeps its highest values.
METRICS = ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes", "param_bytes")
BETTER_LARGER = ("top1",)
PARALLEL_FROM = 40  # below this many points, starting processes costs more than it saves (measured: docs/design-space.md)


@dataclass(frozen=True)
class Point:
    """One member of the family: its args, its totals, the budget keys it exceeds."""

    args: dict
    metrics: dict  # METRICS -> int, and top1 -> float or None
    over: tuple = ()

    @property
    def fits(self) -> bool:
        return not self.over


@dataclass(frozen=True)
class Sweep:
    model: str
    names: tuple  # the argument names that vary, in --set order
    points: tuple
    limits: tuple  # budget.Limit
    batch: int
    dtype: str


def parse_axes(texts) -> dict:
    """`--set alpha=0.25,0.5 --set res=128,160` → {alpha: [0.25, 0.5], res: [128, 160]}."""
    from cnncost.spec.args import parse_assignment, parse_value

    axes = {}
    for text in texts or ():
        name, values = parse_assignment(text)
        if name in axes:
            raise CnnCostError(f"--set gives {name!r} twice", None, "list its values once: --set alpha=0.5,0.75")
        items = [item for item in values.split(",")]
        if any(not item.strip() for item in items):
            raise CnnCostError(f"--set {text!r} has an empty value", None, "separate values with single commas")
        axes[name] = [parse_value(item) for item in items]
    return axes


def grid(axes: dict) -> list[dict]:
    """Every combination, the last axis varying fastest."""
    total = 1
    for values in axes.values():
        total *= len(values)
        if total > MAX_POINTS:
            raise CnnCostError(f"the grid has more than {MAX_POINTS:,} points", None, "use fewer values, or `cnncost search`")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*axes.values())]


def read_points(path: str) -> list[dict]:
    """`--values FILE.yaml`: a list of mappings, one per point (`- {alpha: 0.5, res: 160}`)."""
    from cnncost.spec.yamlload import load_yaml, read_spec_text

    doc = load_yaml(read_spec_text(path), path)
    if not isinstance(doc, list) or not doc or not all(isinstance(item, dict) for item in doc):
        raise CnnCostError("a values file must be a non-empty list of mappings, e.g. `- {alpha: 0.5, res: 160}`", getattr(doc, "loc", None))
    if len(doc) > MAX_POINTS:
        raise CnnCostError(f"the values file has more than {MAX_POINTS:,} points", doc.loc)
    return [{str(k): v for k, v in item.items()} for item in doc]


@dataclass(frozen=True)
class Job:
    """What every point shares; pickled to each worker once per chunk."""

    text: str
    path: str
    input_shape: tuple | None
    batch: int
    dtype: str
    limits: tuple


def make_job(source: str, *, input_shape=None, batch=1, dtype="float32", limits=()) -> Job:
    from cnncost.spec.bundled import resolve_source
    from cnncost.spec.yamlload import read_spec_text

    path = resolve_source(source)
    return Job(read_spec_text(path), path, input_shape, batch, dtype, tuple(limits))


def evaluate(job: Job, args: dict, doc=None) -> Point:
    """One point; a bad value raises CnnCostError naming the point."""
    from cnncost.analysis import analyze_spec
    from cnncost.budget import measure
    from cnncost.spec import build
    from cnncost.spec.yamlload import load_yaml

    try:
        spec = build(doc if doc is not None else load_yaml(job.text, job.path), job.path, job.input_shape, args)
        report = analyze_spec(spec, batch=job.batch, dtype=job.dtype)
    except CnnCostError as exc:
        from cnncost.report import args_label

        raise CnnCostError(f"at {args_label(args)}: {exc.message}", exc.location, exc.hint) from None
    metrics = {name: getattr(report.totals, name) for name in METRICS}
    metrics["top1"] = report.reference.get("top1")
    over = tuple(limit.key for limit in job.limits if not measure(limit, report).passed)
    return Point(dict(args), metrics, over)


@gc_paused  # measured: the cyclic collector, run during the builds, took a fifth of each point's time (docs/design-space.md)
def _evaluate_chunk(job: Job, chunk: list) -> list:
    from cnncost.spec.yamlload import load_yaml

    doc = load_yaml(job.text, job.path)  # once per chunk; build() never changes it
    return [evaluate(job, args, doc) for args in chunk]


def chunks(points: list, size: int) -> list:
    return [points[i:i + size] for i in range(0, len(points), size)]


def run(job: Job, points: list, *, processes: int | None = None, progress=None, scheduler: str | None = None) -> list:
    """Evaluate every point, in order. The first point runs here first, so a bad spec or argument name fails
    fast with its own message instead of once per worker."""
    first = _evaluate_chunk(job, points[:1])
    if progress:
        progress(1)
    rest = points[1:]
    size = max(1, min(50, len(rest) // 16 or 1))
    if scheduler:
        from cnncost.distributed import map_chunks

        results = map_chunks(scheduler, partial(_evaluate_chunk, job), chunks(rest, size), progress)
    elif len(rest) < PARALLEL_FROM or (processes or os.cpu_count() or 1) == 1:
        results = []
        for chunk in chunks(rest, size):
            results.append(_evaluate_chunk(job, chunk))
            if progress:
                progress(len(chunk))
    else:
        results = _in_processes(job, chunks(rest, size), processes or os.cpu_count() or 1, progress)
    return first + [point for chunk in results for point in chunk]


def _in_processes(job: Job, work: list, processes: int, progress) -> list:
    import multiprocessing

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    results = []
    with context.Pool(min(processes, len(work))) as pool:
        for chunk in pool.imap(partial(_evaluate_chunk, job), work):  # imap keeps the order
            results.append(chunk)
            if progress:
                progress(len(chunk))
    return results


def sweep(source: str, points: list, *, input_shape=None, batch=1, dtype="float32", limits=(), processes=None, progress=None, scheduler=None) -> Sweep:
    if not points:
        raise CnnCostError("no points to evaluate", None, "give values with --set NAME=V1,V2 or --values FILE.yaml")
    job = make_job(source, input_shape=input_shape, batch=batch, dtype=dtype, limits=limits)
    results = run(job, points, processes=processes, progress=progress, scheduler=scheduler)
    model = model_name(job)
    names = tuple(dict.fromkeys(name for point in points for name in point))
    return Sweep(model, names, tuple(results), tuple(limits), batch, dtype)


def model_name(job: Job) -> str:
    from cnncost.spec.yamlload import load_yaml

    doc = load_yaml(job.text, job.path)
    return str(doc.get("name", "")) if isinstance(doc, dict) else ""


def read_metric(text: str) -> tuple[str, bool]:
    """`--best macs` maximises (the largest network that fits), `--best -macs` minimises."""
    minimise = text.startswith("-")
    name = text.lstrip("-")
    if name not in (*METRICS, *BETTER_LARGER):
        from cnncost.ops.base import unknown_key_message

        raise CnnCostError(unknown_key_message(name, (*METRICS, *BETTER_LARGER), "a sweep metric"))
    return name, not minimise


def best(points, metric: str) -> Point | None:
    """The point within budget that maximises the metric (`-metric`: minimises); the first one on a tie."""
    name, maximise = read_metric(metric)
    fitting = [point for point in points if point.fits and point.metrics.get(name) is not None]
    if not fitting:
        return None
    pick = max if maximise else min
    return pick(fitting, key=lambda point: point.metrics[name])


def pareto(points, x: str, y: str) -> list[Point]:
    """The points within budget that no other beats on both metrics (smaller is better, except top1), by x."""
    def key(value, name):
        return -value if name in BETTER_LARGER else value

    usable = [p for p in points if p.fits and p.metrics.get(x) is not None and p.metrics.get(y) is not None]
    usable.sort(key=lambda p: (key(p.metrics[x], x), key(p.metrics[y], y)))
    front, best_y = [], None
    for p in usable:  # sorted by x, a point is on the front when its y beats every point before it
        ky = key(p.metrics[y], y)
        if best_y is None or ky < best_y:
            front.append(p)
            best_y = ky
    return front
