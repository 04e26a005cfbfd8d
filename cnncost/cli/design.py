"""`sweep` and `search`: a family's design space under a budget (docs/design-space.md)."""
from __future__ import annotations

import click

from cnncost.cli.options import FORMATS, batch_option, budget_options, dtype_option, force_option, input_option, output_option, spec_argument
from cnncost.cli.output import check_output, emit, emit_view, progress_bar
from cnncost.errors import CnnCostError

METRIC_NAMES = ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes", "param_bytes", "top1")


def _space_options(command):
    """What sweep and search share: the spec, budgets, output and where the points run."""
    for option in reversed((
        spec_argument(),
        input_option,
        batch_option,
        dtype_option,
        budget_options,
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True),
        click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.svg|png|pdf", help="Draw --y against --x with the Pareto front (needs cnncost[plot])."),
        click.option("--x", "x_metric", type=click.Choice(METRIC_NAMES), default="macs", show_default=True, help="Metric on the plot's x axis."),
        click.option("--y", "y_metric", type=click.Choice(METRIC_NAMES), default="params", show_default=True, help="Metric on the plot's y axis."),
        click.option("--scheduler", metavar="ADDRESS", help="Run the points on this Dask cluster (needs cnncost[dask])."),
        output_option,
        force_option,
    )):
        command = option(command)
    return command


def _limits(maxima: dict) -> tuple:
    from cnncost.budget import read_limits

    return tuple(read_limits({key[4:]: text for key, text in maxima.items() if text is not None}, "command line").values())


def _prepare(plot, output, force, x_metric, y_metric):
    if plot:
        from cnncost.render.sweep import check_plot

        check_plot(plot)
    check_output(output, plot, force=force)


def _finish(result, shown, chosen, front, fmt, output, plot, x_metric, y_metric, title=None):
    from cnncost.render import sweep as render

    if plot:
        from cnncost.sweep import pareto

        render.pareto_chart(result, pareto(result.points, x_metric, y_metric), x_metric, y_metric, plot)
    if fmt == "json":
        emit(render.to_json(result, chosen, front), output)
    else:
        emit_view(render.points_view(result, shown, title), fmt, output)


@click.command()
@_space_options
@click.option("--set", "axes", multiple=True, metavar="NAME=V1,V2,...", help="Values of one of the spec's args (repeatable); the grid is every combination.")
@click.option("--values", "values_file", type=click.Path(exists=True, dir_okay=False), help="YAML list of points instead of a grid: `- {alpha: 0.5, res: 160}`.")
@click.option("--best", metavar="[-]METRIC", help="Show only the point within budget that maximises METRIC (-METRIC: minimises).")
@click.option("--jobs", type=click.IntRange(min=1), help="Processes to use (default: every core).")
def sweep(spec, input_shape, batch, dtype, fmt, plot, x_metric, y_metric, scheduler, output, force, axes, values_file, best, jobs, **maxima):
    """Evaluate SPEC at every combination of --set values: one row per point.

    Exit 0, or 1 when budgets are given (or --best) and no point is within them; 2 for bad input.
    """
    from cnncost import sweep as design

    if axes and values_file:
        raise CnnCostError("give --set values or --values FILE, not both", None, "a values file lists whole points")
    if best:
        design.read_metric(best)
    _prepare(plot, output, force, x_metric, y_metric)
    limits = _limits(maxima)
    points = design.read_points(values_file) if values_file else design.grid(design.parse_axes(axes))
    with progress_bar("sweep", len(points)) as advance:
        result = design.sweep(spec, points, input_shape=input_shape, batch=batch, dtype=dtype, limits=limits, processes=jobs, progress=advance, scheduler=scheduler)
    chosen = design.best(result.points, best) if best else None
    front = design.pareto(result.points, x_metric, y_metric)
    shown = (chosen,) if chosen else (() if best else None)
    title = f"best within budget by {best}: {result.model}" if best else None
    _finish(result, shown, chosen, front, fmt, output, plot, x_metric, y_metric, title)
    if (limits or best) and not any(point.fits for point in result.points):
        click.echo("error: no point is within the budget", err=True)
        return 1
    if best and chosen is None:
        click.echo(f"error: no point within budget has a value for {best.lstrip('-')}", err=True)
        return 1
    return 0


@click.command()
@_space_options
@click.option("--set", "space", multiple=True, metavar="NAME=V1,V2|LO..HI", help="Choices of one of the spec's args (repeatable).")
@click.option("--objective", required=True, metavar="[-]METRIC", help="Maximise METRIC within budget (-METRIC: minimise), e.g. macs.")
@click.option("--samples", type=click.IntRange(min=1, max=10_000), default=200, show_default=True, help="Random points before refinement.")
@click.option("--refine", type=click.IntRange(min=0, max=100), default=5, show_default=True, help="Best points to hill-climb from.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Best points to show.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random points: the same seed, the same search.")
@click.option("--jobs", type=click.IntRange(min=1), help="Processes to use (default: every core).")
def search(spec, input_shape, batch, dtype, fmt, plot, x_metric, y_metric, scheduler, output, force, space, objective, samples, refine, top, seed, jobs, **maxima):
    """Search SPEC's args for the best --objective within the --max-* budgets: random points, then local refinement.

    A search over cost, not accuracy. Exit 0, 1 when no point found is within budget, 2 for bad input.
    """
    from cnncost import search as searching
    from cnncost.sweep import pareto, read_metric

    read_metric(objective)
    _prepare(plot, output, force, x_metric, y_metric)
    limits = _limits(maxima)
    choices = searching.parse_space(space)
    with progress_bar("search", samples) as advance:
        result, ranked = searching.search(spec, choices, objective, samples=samples, refine=refine, seed=seed, input_shape=input_shape,
                                          batch=batch, dtype=dtype, limits=limits, processes=jobs, progress=advance, scheduler=scheduler)
    front = pareto(result.points, x_metric, y_metric)
    title = f"cnncost search: {result.model}, best {min(top, len(ranked))} by {objective} of {len(result.points)} points (seed {seed})"
    _finish(result, tuple(ranked[:top]), ranked[0] if ranked else None, front, fmt, output, plot, x_metric, y_metric, title)
    if not ranked:
        click.echo("error: no point found is within the budget", err=True)
        return 1
    return 0
