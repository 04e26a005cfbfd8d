"""`check`: validate specs and enforce their budgets, for CI. (Named apart from cnncost.check, which does the work.)"""
from __future__ import annotations

import click

from cnncost.cli.options import (batch_option, budget_options, device_option, dtype_option, force_option, input_option, optimizer_option,
                                 output_option, set_option, spec_argument)
from cnncost.cli.output import check_output, emit, emit_rich, note
from cnncost.errors import CnnCostError


@click.command()
@spec_argument("specs", nargs=-1, required=True)
@click.option("--budgets", "budgets_file", metavar="FILE", help="YAML file mapping spec names or globs to limits.")
@budget_options
@input_option
@set_option
@batch_option
@dtype_option
@optimizer_option
@device_option
@click.option("--verify", is_flag=True, help="Also run the independent numpy forward pass and compare.")
@click.option("--allow", type=click.Choice(("warning", "unused")), multiple=True, help="Do not report layer warnings, or layers that never reach an output.")
@click.option("--strict/--no-strict", default=None, help="Fail on layer warnings and unused layers too (by default they are printed and pass).")
@click.option("--format", "fmt", type=click.Choice(("text", "github", "junit", "json")), default="text", show_default=True)
@click.option("--junit-xml", "junit_file", type=click.Path(dir_okay=False), metavar="FILE", help="Also write a JUnit XML report to FILE, whatever --format prints.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False), metavar="FILE.html", help="Also write an HTML report: a section per spec, failing budgets highlighted.")
@output_option
@force_option
def check(specs, budgets_file, input_shape, args, batch, dtype, optimizer, device, verify, allow, strict, fmt, junit_file, report_file, output, force,
          **maxima):
    """Validate SPECS (files, globs, folders, bundled names) and enforce their budgets.

    Exit 0 when every spec passes, 1 when a budget or check fails, 2 when a spec or argument is invalid.
    Defaults for --budgets, --allow and --strict may sit in pyproject.toml under [tool.cnncost].
    """
    from cnncost.budget import load_rules, read_limits
    from cnncost.check import check_spec, expand_sources, worst_exit_code
    from cnncost.config import check_defaults, find_pyproject
    from cnncost.render import ci

    check_output(output, force=force)
    from cnncost.output import check_writable

    for path, option in ((junit_file, "--junit-xml"), (report_file, "--report")):
        if path:
            check_writable(path, force, option)
    defaults = check_defaults(find_pyproject())
    budgets_file = budgets_file or defaults.budgets
    strict = defaults.strict if strict is None else strict
    cli_limits = read_limits({key[4:]: text for key, text in maxima.items() if text is not None}, "command line")
    rules = load_rules(budgets_file) if budgets_file else ()
    verifier = _verifier() if verify else None
    if "latency" in cli_limits and not device:
        raise CnnCostError("--max-latency needs --device: the latency is estimated on a device profile", None,
                           "add --device a100-sxm4-40gb (bundled) or a profile `cnncost calibrate -o FILE` wrote")
    if device:
        from cnncost.devices import load_profile

        device = load_profile(device)
    allow = tuple(dict.fromkeys((*defaults.allow, *allow)))
    settings = dict(rules=rules, cli_limits=cli_limits, batch=batch, dtype=dtype, input_shape=input_shape, args=args, verify=verifier, allow=allow,
                    optimizer=optimizer, strict=strict, device=device)
    skipped: list = []
    sources = expand_sources(specs, skipped)
    for path in skipped:
        note(f"{path}: skipped, not a spec (no `name`, `input` or `layers` at the top)")
    results = [check_spec(source, **settings) for source in sources]
    if junit_file:
        from cnncost.output import write_atomic

        write_atomic(junit_file, ci.to_junit(results), force=force, option="--junit-xml")
    if report_file:
        from cnncost.output import write_atomic
        from cnncost.render.html import check_html

        write_atomic(report_file, check_html(results), force=force, option="--report")
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
