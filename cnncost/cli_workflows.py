"""`check`, `compare`, `diff` and `schema`: thin click commands whose bodies import their work lazily.

cnncost.cli registers these commands at its end, so import cnncost.cli (not this module) first.
"""
from __future__ import annotations

import click

from cnncost.cli import batch_option, dtype_option, emit, emit_rich, emit_view, force_option, input_option, output_option
from cnncost.errors import CnnCostError

# The keys of cnncost.budget.METRICS, as --max-KEY options; spelled out so start-up need not import
# cnncost.budget (tests/test_workflows.py keeps the two lists equal).
BUDGET_KEYS = (
    "params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes",
    "param_bytes", "layer_params", "layer_macs", "layer_flops", "layer_activation_bytes",
)


def budget_options(command):
    for key in reversed(BUDGET_KEYS):
        what = f"any single layer's {key[6:]}" if key.startswith("layer_") else f"total {key}"
        example = "64MiB" if key.endswith("bytes") else "600M"
        command = click.option(f"--max-{key.replace('_', '-')}", f"max_{key}", metavar="LIMIT", help=f"Limit on {what}, e.g. {example}.")(command)
    return command


def check_output(output, force, *more):
    from cnncost.output import check_writable

    for path in (output, *more):
        if path:
            check_writable(path, force)


@click.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--budgets", "budgets_file", type=click.Path(exists=True, dir_okay=False), help="YAML file mapping spec names or globs to limits.")
@budget_options
@input_option
@batch_option
@dtype_option
@click.option("--verify", is_flag=True, help="Also run the independent numpy forward pass and compare.")
@click.option("--allow", type=click.Choice(("warning", "unused")), multiple=True, help="Do not fail on layer warnings or on layers that never reach the output.")
@click.option("--format", "fmt", type=click.Choice(("text", "github", "junit", "json")), default="text", show_default=True)
@output_option
@force_option
def check(specs, budgets_file, input_shape, batch, dtype, verify, allow, fmt, output, force, **maxima):
    """Validate SPECS (files, globs, folders, bundled names) and enforce their budgets.

    Exit 0 when every spec passes, 1 when a budget or check fails, 2 when a spec or argument is invalid.
    """
    from cnncost.budget import load_rules, read_limits
    from cnncost.check import check_spec, expand_sources, worst_exit_code
    from cnncost.render import ci

    check_output(output, force)
    cli_limits = read_limits({key[4:]: text for key, text in maxima.items() if text is not None}, "command line")
    rules = load_rules(budgets_file) if budgets_file else ()
    verifier = _verifier() if verify else None
    settings = dict(rules=rules, cli_limits=cli_limits, batch=batch, dtype=dtype, input_shape=input_shape, verify=verifier, allow=allow)
    results = [check_spec(source, **settings) for source in expand_sources(specs)]
    if fmt == "text":
        emit_rich(ci.to_rich(results), output)
    elif fmt == "json":
        emit(ci.to_json(results, batch, dtype), output)
    else:
        emit(ci.to_github(results) if fmt == "github" else ci.to_junit(results), output)
    return worst_exit_code(results)


def _verifier():
    try:
        from cnncost.verify import verify_spec
    except ImportError as exc:
        raise CnnCostError(f"--verify needs cnncost.verify, which cannot be imported here ({exc})", None, "run without --verify") from None
    return verify_spec


@click.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--baseline", metavar="NAME", help="Model the ratios are taken against (default: the first).")
@click.option("--format", "fmt", type=click.Choice(("table", "markdown", "csv", "json")), default="table", show_default=True)
@click.option("--bars", is_flag=True, help="Draw the main metrics as bars in the terminal.")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.svg|png|pdf", help="Draw top-1 accuracy against MACs, bubble area ∝ params (needs cnncost[plot]).")
@click.option("--depth", type=click.IntRange(min=1), help="Add MACs and params rows for the blocks at depth N, aligned by name.")
@input_option
@batch_option
@dtype_option
@output_option
@force_option
def compare(specs, baseline, fmt, bars, plot, depth, input_shape, batch, dtype, output, force):
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
    check_output(output, force, plot)
    comparison = compare_reports(_analyze_all(specs, input_shape, batch, dtype), baseline, depth)
    if plot:
        from cnncost.render.plot import complexity_chart

        for model in complexity_chart(comparison, plot):
            click.echo(f"note: {model} has no published top-1 (reference.top1) and is left out of {plot}", err=True)
    if bars:
        return emit_rich(render.to_bars(comparison), output)
    if fmt == "json":
        return emit(render.to_json(comparison), output)
    emit_view(render.csv_view(comparison) if fmt == "csv" else render.metrics_view(comparison), fmt, output)


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(("table", "markdown", "json")), default="table", show_default=True)
@click.option("--fail-on-increase", type=click.FloatRange(min=0), metavar="PCT", help="Exit 1 if params, MACs or peak memory grow by more than PCT percent.")
@input_option
@batch_option
@dtype_option
@output_option
@force_option
def diff(old, new, fmt, fail_on_increase, input_shape, batch, dtype, output, force):
    """What changing spec OLD into NEW does to its cost: layers added, removed and changed, and total deltas."""
    from fractions import Fraction

    from cnncost.diffing import diff_reports, grown
    from cnncost.render import diff as render

    check_output(output, force)
    result = diff_reports(*_analyze_all((old, new), input_shape, batch, dtype))
    if fmt == "json":
        emit(render.to_json(result), output)
    elif fmt == "markdown":
        emit(render.to_markdown(result), output)
    else:
        emit_rich(render.to_rich(result), output)
    if fail_on_increase is None:
        return 0
    over = grown(result, Fraction(str(fail_on_increase)))
    for delta in over:
        click.echo(f"error: {delta.key} grew by {render.percent(delta)}, more than the allowed {fail_on_increase:g}%", err=True)
    return 1 if over else 0


@click.command()
@click.option("--draft", type=click.Choice(("2020-12", "7")), default="2020-12", show_default=True, help="JSON Schema version to declare (7 for editors that stop there).")
@output_option
@force_option
def schema(draft, output, force):
    """Print the JSON Schema of the spec format, for editors and validators."""
    import json

    from cnncost.schema import spec_schema

    check_output(output, force)
    emit(json.dumps(spec_schema(draft), indent=2, ensure_ascii=False) + "\n", output)


def _analyze_all(sources, input_shape, batch, dtype) -> list:
    from cnncost import analyze

    return [analyze(source, input=input_shape, batch=batch, dtype=dtype) for source in sources]
