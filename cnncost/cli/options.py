"""Options several commands share, declared once so their spelling and help stay the same everywhere."""
from __future__ import annotations

import click

from cnncost.errors import CnnCostError

FORMATS = ("table", "json", "csv", "markdown")
DTYPES = ("float32", "float16", "bfloat16", "int8")

# The keys of cnncost.budget.METRICS, as --max-KEY options; spelled out so start-up need not import
# cnncost.budget (tests/test_workflows.py keeps the two lists equal).
BUDGET_KEYS = (
    "params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "eager_peak_activation_bytes",
    "training_activation_bytes", "training_total_bytes", "param_bytes", "layer_params", "layer_macs", "layer_flops", "layer_activation_bytes",
    "latency",
)


class UserNumber(click.ParamType):
    """A number typed on the command line, read by one of cnncost.units' parsers (the one place numbers are
    validated); a refusal is click's usage error, exit 2."""

    def __init__(self, parser: str, metavar: str):
        self.parser, self.name = parser, metavar

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value  # a default, already a number
        from cnncost import units

        try:
            return getattr(units, self.parser)(value, f"--{param.name.replace('_', '-')}" if param else "value")
        except CnnCostError as exc:
            self.fail(exc.message + (f" ({exc.hint})" if exc.hint else ""), param, ctx)


PERCENT = UserNumber("parse_percent", "PCT")
SEED = UserNumber("parse_seed", "SEED")
SIZE = UserNumber("parse_bytes", "SIZE")


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
def _stdout_dash(ctx, param, value):
    return None if value == "-" else value


def complete_spec(ctx, param, incomplete):
    """Shell completion of a SPEC: bundled names that start with what was typed, then files."""
    from click.shell_completion import CompletionItem

    from cnncost.spec.bundled import bundled_names

    names = [CompletionItem(name) for name in bundled_names() if name.startswith(incomplete)]
    return names + [CompletionItem(incomplete, type="file")]


def spec_argument(name: str = "spec", **kwargs):
    """A SPEC argument: a file, a bundled name, or `-` for stdin; completes bundled names and files."""
    return click.argument(name, shell_complete=complete_spec, **kwargs)


def set_quiet(ctx, param, value):
    if value:
        ctx.meta["cnncost.quiet"] = True


quiet_option = click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=set_quiet, help="No notes or progress on stderr; errors still print.")
output_option = click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), callback=_stdout_dash, help="Write to this file (atomically) instead of stdout; `-` is stdout.")
# Spelled out so start-up need not import cnncost.training (tests/test_training_memory.py keeps them equal).
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
optimizer_option = click.option(
    "--optimizer", type=click.Choice(OPTIMIZERS),
    help="Add training_total_bytes: params + gradients + this optimizer's state + saved activations + backward transient.",
)
force_option = click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
device_option = click.option(
    "--device", metavar="PROFILE",
    help="Estimate latency per layer on this device: a profile file (cnncost calibrate writes one) or a bundled name.",
)


def _overrides(ctx, param, value):
    from cnncost.spec.args import parse_overrides

    return parse_overrides(value)


set_option = click.option(
    "--set", "args", multiple=True, callback=_overrides, metavar="NAME=VALUE",
    help="Set one of the spec's `args:` (repeatable), e.g. --set alpha=0.75 --set res=192.",
)


def budget_options(command):
    """One --max-KEY option per budget metric."""
    for key in reversed(BUDGET_KEYS):
        what = f"any single layer's {key[6:]}" if key.startswith("layer_") else f"total {key}"
        example = "64MiB" if key.endswith("bytes") else "600M"
        if key == "latency":
            what, example = "the estimated latency on --device", "10ms"
        command = click.option(f"--max-{key.replace('_', '-')}", f"max_{key}", metavar="LIMIT", help=f"Limit on {what}, e.g. {example}.")(command)
    return command
