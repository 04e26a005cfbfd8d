"""The `cnncost` command: parse options, call the API, hand the result to a renderer. Nothing else.

Layout: `options` (shared click options) and `output` (where results go) are imported by the command modules,
one per command group; this module only builds the group from them and, in `main`, is the one place that turns
a command's result or error into an exit code. Command modules never import this module, so there is no cycle.
To add a command: write it in its group's module (or a new one) and register it in COMMANDS below.
"""
from __future__ import annotations

import sys

import click

from cnncost.cli import catalog, checking, comparing, interop, reporting, summary, verify
from cnncost.errors import CnnCostError

COMMANDS = (
    summary.summary,
    verify.verify,
    catalog.list_specs,
    catalog.ops,
    catalog.schema,
    checking.check,
    comparing.compare,
    comparing.diff,
    interop.export,
    reporting.report,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cnncost")
def cli():
    """What a convolutional network costs, per layer, before you train it."""


for _command in COMMANDS:
    cli.add_command(_command)


def main(argv=None) -> None:
    """Entry point: every user error becomes one line on stderr and exit code 2; failures exit 1.

    Commands return their exit code (None means 0) and raise CnnCostError for bad input; only here is it exited.
    """
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
