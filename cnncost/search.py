"""`cnncost search`: random search plus local refinement over a space too big for a grid.

A search over cost, not accuracy (accuracy needs training): it finds, say, the widest or deepest member of a
family under a MAC budget. Each argument has a list of choices (`--set depth=1..6`, `--set width=16,24,32`).
Random points first, then hill-climbing from the best few: every neighbour (one argument moved to the next or
previous choice) is tried until none improves. Points run through cnncost.sweep, so results arrive in order
and a seed makes the whole search reproducible, on one core, two, or a cluster.
"""
from __future__ import annotations

import random
import re
import sys

from cnncost.errors import CnnCostError
from cnncost.sweep import MAX_POINTS, Sweep, make_job, model_name, read_metric, run

_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")


def parse_space(texts) -> dict:
    """`--set width=16,24,32` (choices) or `--set depth=1..6` (every integer, both ends included)."""
    from cnncost.spec.args import parse_assignment
    from cnncost.sweep import parse_axes

    space = {}
    for text in texts or ():
        name, values = parse_assignment(text)
        match = _RANGE.match(values)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if high < low or high - low >= MAX_POINTS:
                raise CnnCostError(f"--set {text!r}: a range must run upwards over at most {MAX_POINTS:,} values")
            if name in space:
                raise CnnCostError(f"--set gives {name!r} twice")
            space[name] = list(range(low, high + 1))
        else:
            (axis, choices), = parse_axes([text]).items()
            if axis in space:
                raise CnnCostError(f"--set gives {name!r} twice")
            space[axis] = choices
    if not space:
        raise CnnCostError("search needs a space", None, "give choices with --set NAME=V1,V2 or --set NAME=LO..HI")
    return space


def search(source: str, space: dict, objective: str, *, samples: int = 200, refine: int = 5, seed: int = 0,
           input_shape=None, batch=1, dtype="float32", limits=(), processes=None, progress=None, scheduler=None):
    """Return (Sweep of every point evaluated, in order; the best points within budget, best first)."""
    name, maximise = read_metric(objective)
    job = make_job(source, input_shape=input_shape, batch=batch, dtype=dtype, limits=limits)
    rng = random.Random(seed)
    names = list(space)
    seen, evaluated = set(), []

    def key(point):
        return tuple(point[n] for n in names)

    def evaluate(points):
        fresh = []
        for point in points:
            if key(point) not in seen:
                seen.add(key(point))
                fresh.append(point)
        if fresh:
            evaluated.extend(run(job, fresh, processes=processes, progress=progress, scheduler=scheduler))

    size = 1
    for choices in space.values():
        size *= len(choices)
    evaluate([decode(index, space) for index in distinct_indices(rng, size, samples)])
    for _ in range(MAX_POINTS):  # hill-climb from the best few until no neighbour improves
        if len(evaluated) >= MAX_POINTS:
            break
        before = len(evaluated)
        evaluate([neighbour for point in ranked(evaluated, name, maximise)[:refine] for neighbour in neighbours(point.args, space)])
        if len(evaluated) == before:
            break
    result = Sweep(model_name(job), tuple(names), tuple(evaluated), tuple(limits), batch, dtype)
    return result, ranked(evaluated, name, maximise)


def distinct_indices(rng: random.Random, size: int, samples: int) -> list:
    """`samples` different points of the space (all of it when it is smaller), numbered 0..size-1."""
    if size <= sys.maxsize:
        return rng.sample(range(size), min(samples, size))
    return [rng.randrange(size) for _ in range(samples)]  # duplicates are dropped when evaluated


def decode(index: int, space: dict) -> dict:
    """Point number `index`, the last argument varying fastest (as sweep's grid)."""
    point = {}
    for name in reversed(space):
        index, i = divmod(index, len(space[name]))
        point[name] = space[name][i]
    return {name: point[name] for name in space}


def ranked(points, name: str, maximise: bool) -> list:
    """Points within budget, best first; ties keep the order they were found in."""
    fitting = [p for p in points if p.fits and p.metrics.get(name) is not None]
    return sorted(fitting, key=lambda p: -p.metrics[name] if maximise else p.metrics[name])


def neighbours(args: dict, space: dict) -> list:
    """Every point one step away along one argument's choices, then every trade of one argument a step up for
    another a step down (under a budget, the better point often needs both at once)."""
    def moved(point, name, step):
        index = space[name].index(point[name]) + step
        return {**point, name: space[name][index]} if 0 <= index < len(space[name]) else None

    out = [p for name in space for step in (-1, 1) if (p := moved(args, name, step))]
    for up in space:
        for down in space:
            if up != down and (p := moved(args, up, 1)) and (q := moved(p, down, -1)):
                out.append(q)
    return out
