"""`list`, `ops` and `schema`: what cnncost knows (bundled specs, ops, the spec format), no model needed."""
from __future__ import annotations

import click

from cnncost.cli.options import force_option, output_option
from cnncost.cli.output import check_output, emit, say


@click.command(name="list")
def list_specs():
    """The bundled specs, one line each."""
    from cnncost.analysis import analyze_spec
    from cnncost.spec import load
    from cnncost.spec.bundled import bundled_names
    from cnncost.units import count

    for name in bundled_names():
        spec = load(name)
        totals = analyze_spec(spec).totals
        summary_line = spec.description.strip().splitlines()[0] if spec.description.strip() else ""
        say(f"{name:<20} {count(totals.params):>10} params {count(totals.macs):>10} MACs  {summary_line}\n")


@click.command()
@click.option("--format", "fmt", type=click.Choice(("text", "markdown")), default="text", show_default=True)
def ops(fmt):
    """Every op the spec format knows, with its keys and defaults."""
    from cnncost.render.opdocs import ops_markdown, ops_text

    if fmt == "markdown":
        return emit(ops_markdown(), None)
    say(ops_text())


@click.command()
@click.option("--draft", type=click.Choice(("2020-12", "7")), default="2020-12", show_default=True, help="JSON Schema version to declare (7 for editors that stop there).")
@output_option
@force_option
def schema(draft, output, force):
    """Print the JSON Schema of the spec format, for editors and validators."""
    from cnncost.render.strictjson import dumps

    from cnncost.schema import spec_schema

    check_output(output, force=force)
    emit(dumps(spec_schema(draft)), output)
