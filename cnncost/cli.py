"""The `cnncost` command: parse options, call the API, hand the result to a renderer. Nothing else."""
from __future__ import annotations

import sys

import click

from cnncost.errors import CnnCostError

FORMATS = ("table", "json", "csv", "markdown")
DTYPES = ("float32", "float16", "bfloat16", "int8")


def _shape(ctx, param, value):
    if value is None:
        return None
    from cnncost.spec import parse_shape

    try:
        return parse_shape(value, None, "--input")
    except CnnCostError as exc:
        raise click.BadParameter(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None


input_option = click.option("--input", "input_shape", callback=_shape, metavar="CxHxW", help="Input shape per sample, overriding the spec's, e.g. 3x224x224.")
batch_option = click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch size (MACs, FLOPs and bytes cover the whole batch).")
dtype_option = click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True, help="Element type for memory figures.")
output_option = click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file (atomically) instead of stdout.")
force_option = click.option("--force", is_flag=True, help="Overwrite an existing --output file.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cnncost")
def cli():
    """What a convolutional network costs, per layer, before you train it."""


@cli.command()
@click.argument("spec")
@input_option
@batch_option
@dtype_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--columns", type=click.Choice(("standard", "lecture")), default="standard", show_default=True, help="lecture: the seed notes' AlexNet columns.")
@click.option("--depth", type=click.IntRange(min=1), help="Fold layers deeper than N into their block's subtotal.")
@click.option("--group-by", type=click.Choice(("op",)), help="One row per kind of layer (1×1 conv, depthwise conv, ...).")
@click.option("--strict", is_flag=True, help="Treat warnings (e.g. a stride that skips input rows) as errors.")
@click.option("--fold-bn", is_flag=True, help="Inference cost after folding each batchnorm into the conv before it.")
@output_option
@force_option
def summary(spec, input_shape, batch, dtype, fmt, columns, depth, group_by, strict, fold_bn, output, force):
    """Per-layer shapes, parameters, MACs, memory and receptive field of SPEC (a file or bundled name)."""
    from cnncost import analyze

    check_output(output, force)
    report = analyze(spec, input=input_shape, batch=batch, dtype=dtype, strict=strict, fold_bn=fold_bn)
    if fmt == "json":
        from cnncost.render.text import to_json

        return emit(to_json(report), output)
    from cnncost.render import views

    if group_by:
        view = views.kinds_view(report)
    elif columns == "lecture":
        view = views.lecture_view(report)
    else:
        view = views.standard_view(report, depth)
    emit_view(view, fmt, output)


@cli.command()
@click.argument("spec")
@input_option
@batch_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random weights and input.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.option("--fold-bn", is_flag=True, help="Also check that folding batchnorm into convs leaves the output unchanged.")
@click.option("--max-memory", metavar="SIZE", help="Refuse runs estimated above this (e.g. 4GiB); default: half the available RAM.")
@output_option
@force_option
def verify(spec, input_shape, batch, seed, fmt, fold_bn, max_memory, output, force):
    """Run SPEC's forward pass in numpy and check every predicted shape, param count, MAC count and the peak memory."""
    from cnncost.spec import load
    from cnncost.units import parse_bytes
    from cnncost.verify import verify_spec

    check_output(output, force)
    limit = parse_bytes(max_memory, "--max-memory") if max_memory else None
    loaded = load(spec, input_shape)
    with progress_bar(f"verify {loaded.name}", len(loaded.graph.nodes) * (2 if fold_bn else 1)) as advance:
        result = verify_spec(loaded, batch=batch, seed=seed, fold_bn=fold_bn, max_memory=limit, progress=advance)
    from cnncost.render import verify as render

    if fmt == "json":
        emit(render.verify_to_json(result), output)
    else:
        emit_rich(render.verify_to_rich(result), output)
    return 0 if result.passed else 1


@cli.command(name="list")
def list_specs():
    """The bundled specs, one line each."""
    from cnncost.spec import load
    from cnncost.spec.bundled import bundled_names
    from cnncost.units import count

    for name in bundled_names():
        spec = load(name)
        from cnncost.analysis import analyze_spec

        totals = analyze_spec(spec).totals
        summary_line = spec.description.strip().splitlines()[0] if spec.description.strip() else ""
        click.echo(f"{name:<20} {count(totals.params):>10} params {count(totals.macs):>10} MACs  {summary_line}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(("text", "markdown")), default="text", show_default=True)
def ops(fmt):
    """Every op the spec format knows, with its keys and defaults."""
    from cnncost.render.opdocs import ops_markdown, ops_text

    click.echo(ops_markdown() if fmt == "markdown" else ops_text(), nl=False)


def check_output(output: str | None, force: bool) -> None:
    if output:
        from cnncost.output import check_writable

        check_writable(output, force)


class progress_bar:
    """A progress bar on stderr when it is a terminal; silent when piped."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.bar = label, total, None

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()
        return False


def emit_view(view, fmt: str, output: str | None) -> None:
    if fmt == "markdown":
        from cnncost.render.text import to_markdown

        return emit(to_markdown(view), output)
    if fmt == "csv":
        from cnncost.render.text import to_csv

        return emit(to_csv(view), output)
    from cnncost.render.table import to_rich

    emit_rich(to_rich(view), output)


def emit(text: str, output: str | None) -> None:
    if output:
        from cnncost.output import write_atomic

        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


def emit_rich(renderable, output: str | None) -> None:
    from rich.console import Console

    if output:
        import io

        buffer = io.StringIO()
        Console(file=buffer, width=160, color_system=None).print(renderable)
        return emit(buffer.getvalue(), output)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(renderable)


def main(argv=None) -> None:
    """Entry point: every user error becomes one line on stderr and exit code 2; failures exit 1."""
    try:
        code = cli.main(args=argv, prog_name="cnncost", standalone_mode=False)
    except CnnCostError as exc:
        click.echo(_one_line(str(exc)), err=True)
        code = exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help(), err=True)
        code = 2
    except click.ClickException as exc:
        exc.show()
        code = 2
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        code = 130
    except BrokenPipeError:
        code = 0
    sys.exit(code if isinstance(code, int) else 0)


def _one_line(message: str, limit: int = 1000) -> str:
    """An error stays one readable line: line breaks flattened, and a huge echoed value (a 1 MB name) cut from
    the middle, so the file:line:col in front and the hint at the end survive."""
    message = " ".join(message.splitlines())
    return message if len(message) <= limit else f"{message[: limit * 2 // 3]} … {message[-(limit // 4):]}"


from cnncost.cli_workflows import check, compare, diff, schema  # noqa: E402  (they import cnncost.cli's options)

for _command in (check, compare, diff, schema):
    cli.add_command(_command)
