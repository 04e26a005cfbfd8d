"""The `cnncost` command: parse options, call the API, hand the result to a renderer. Nothing else.

Layout: `options` (shared click options) and `output` (where results go) are imported by the command modules,
one per command group; this module only builds the group from them and, in `main`, is the one place that turns
a command's result or error into an exit code. Command modules never import this module, so there is no cycle.
To add a command: write it in its group's module (or a new one) and register it in COMMANDS below.
"""
from __future__ import annotations

import sys

import click

from cnncost.cli import calibrate, catalog, checking, comparing, design, interop, reporting, summary, verify
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
    interop.import_model,
    design.sweep,
    design.search,
    reporting.report,
    calibrate.calibrate,
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
    _writable_streams()
    try:
        code = cli.main(args=argv, prog_name="cnncost", standalone_mode=False)
    except CnnCostError as exc:
        sys.stderr.write(_one_line(str(exc)) + "\n")  # not click.echo, which writes UTF-8 to ASCII-only stderr
        code = exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help(), err=True)
        code = 2
    except click.ClickException as exc:
        exc.show()
        code = 2
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        click.echo("interrupted", err=True)
        # SIGINT 130; SIGTERM 143 and SIGHUP 129 while writing --output (click wraps the interrupt in Abort)
        code = 128 + getattr(exc, "signum", getattr(exc.__cause__, "signum", 2))
    except MemoryError:  # a limit tighter than verify's estimate saw: one line, never a numpy traceback
        sys.stderr.write("error: out of memory (lower --batch or --input, or raise the memory limit: ulimit -v, cgroup)\n")
        code = 2
    except BrokenPipeError:
        code = 0
    sys.exit(code if isinstance(code, int) else 0)


def _writable_streams() -> None:
    """An ASCII-only terminal or PYTHONIOENCODING=ascii: characters it cannot show (×, —, a layer named 卷积)
    are written as JSON-style `\\u00d7` escapes, so output stays ASCII, JSON stays valid JSON, and nothing ends
    in a UnicodeEncodeError. Files written with -o are always UTF-8."""
    import codecs

    codecs.register_error("cnncost-escape", _json_escape)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding and not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="cnncost-escape")


def _json_escape(error: UnicodeEncodeError):
    escaped = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        pairs = [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)] if code > 0xFFFF else [code]
        escaped += [f"\\u{unit:04x}" for unit in pairs]
    return "".join(escaped), error.end


def _one_line(message: str, limit: int = 1000) -> str:
    """An error stays one readable line: line breaks flattened, and a huge echoed value (a 1 MB name) cut from
    the middle, so the file:line:col in front and the hint at the end survive."""
    message = " ".join(message.splitlines())
    return message if len(message) <= limit else f"{message[: limit * 2 // 3]} … {message[-(limit // 4):]}"
