"""`compare` and `diff`: several models side by side, or what changing one spec into another costs."""
from __future__ import annotations

import click

from cnncost.cli.options import (PERCENT, batch_option, device_option, dtype_option, force_option, input_option, optimizer_option, output_option,
                                 set_option, spec_argument)
from cnncost.cli.output import check_output, emit, emit_rich, emit_view, note, terminal_width
from cnncost.errors import CnnCostError


@click.command()
@spec_argument("specs", nargs=-1, required=True)
@click.option("--baseline", metavar="NAME", help="Model the ratios are taken against (default: the first).")
@click.option("--format", "fmt", type=click.Choice(("table", "markdown", "csv", "json")), default="table", show_default=True)
@click.option("--bars", is_flag=True, help="Draw the main metrics as bars in the terminal.")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.svg|png|pdf", help="Draw top-1 accuracy against MACs, bubble area ∝ params (needs cnncost[plot]).")
@click.option("--depth", type=click.IntRange(min=1), help="Add MACs and params rows for the blocks at depth N, aligned by name.")
@input_option
@set_option
@batch_option
@dtype_option
@optimizer_option
@device_option
@output_option
@force_option
def compare(specs, baseline, fmt, bars, plot, depth, input_shape, args, batch, dtype, optimizer, device, output, force):
    """Compare models side by side: one column per model, one row per metric, with ratios to the baseline."""
    from cnncost.compare import compare_reports
    from cnncost.render import compare as render

    if len(specs) < 2:
        raise CnnCostError("compare needs at least two specs", None, "e.g. `cnncost compare vgg16 alexnet`")
    if bars and fmt != "table":
        raise CnnCostError("--bars draws in the terminal and cannot be combined with --format", None, "drop one of them")
    if plot:
        from cnncost.render.plot import check_plot

        check_plot(plot)
    check_output(output, plot, force=force)
    comparison = compare_reports(_analyze_all(specs, input_shape, args, batch, dtype, optimizer, device), baseline, depth)
    if plot:
        from cnncost.render.plot import complexity_chart

        for model in complexity_chart(comparison, plot, force):
            note(f"{model} has no published top-1 (reference.top1) and is left out of {plot}")
    if bars:
        return emit_rich(render.to_bars(comparison), output)
    if fmt == "json":
        return emit(render.to_json(comparison), output)
    if fmt == "table" and terminal_width(output):
        return emit_rich(render.to_rich(comparison, terminal_width(output)), output)
    emit_view(render.csv_view(comparison) if fmt == "csv" else render.metrics_view(comparison), fmt, output)


@click.command()
@spec_argument("old")
@spec_argument("new")
@click.option("--format", "fmt", type=click.Choice(("table", "markdown", "json")), default="table", show_default=True)
@click.option("--fail-on-increase", type=PERCENT, help="Exit 1 if params, MACs or peak memory grow by more than PCT percent.")
@input_option
@set_option
@batch_option
@dtype_option
@output_option
@force_option
def diff(old, new, fmt, fail_on_increase, input_shape, args, batch, dtype, output, force):
    """What changing spec OLD into NEW does to its cost: layers added, removed and changed, and total deltas."""
    from cnncost.diffing import diff_reports, grown
    from cnncost.render import diff as render

    check_output(output, force=force)
    result = diff_reports(*_analyze_all((old, new), input_shape, args, batch, dtype))
    if fmt == "json":
        emit(render.to_json(result), output)
    elif fmt == "markdown":
        emit(render.to_markdown(result), output)
    else:
        emit_rich(render.to_rich(result, terminal_width(output)), output)
    if fail_on_increase is None:
        return 0
    over = grown(result, fail_on_increase)
    for delta in over:
        click.echo(f"error: {delta.key} grew by {render.percent(delta)}, more than the allowed {float(fail_on_increase):g}%", err=True)
    return 1 if over else 0


def _analyze_all(sources, input_shape, args, batch, dtype, optimizer=None, device=None) -> list:
    from cnncost import analyze

    if device:
        from cnncost.devices import load_profile

        device = load_profile(device)  # read once, and before any spec, so a bad profile is the first error
    return [analyze(source, input=input_shape, args=args, batch=batch, dtype=dtype, optimizer=optimizer, device=device)
            for source in sources]
