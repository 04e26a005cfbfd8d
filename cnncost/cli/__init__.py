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
from cnncost.cli.options import quiet_option
from cnncost.cli.output import _utf16
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


class _Group(click.Group):
    def invoke(self, ctx):
        """A closed pipe (`cnncost list | head -1`) means the reader has what it wanted: exit 0, quietly.
        Caught here because click itself turns it into exit code 1, which means "budget exceeded"."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _silence_stdout()
            return 0


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cnncost")
def cli():
    """What a convolutional network costs, per layer, before you train it."""


for _command in COMMANDS:
    quiet_option(_command)  # every command takes --quiet
    cli.add_command(_command)


# click >= 8.2 raises this for a bare `cnncost`; 8.1 prints the help itself (an empty tuple catches nothing).
NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main(argv=None) -> None:
    """Entry point: every user error becomes one line on stderr and exit code 2; failures exit 1.

    Commands return their exit code (None means 0) and raise CnnCostError for bad input; only here is it exited.
    """
    _writable_streams()
    try:
        code = cli.main(args=argv, prog_name="cnncost", standalone_mode=False)
    except CnnCostError as exc:
        for error in getattr(exc, "errors", (exc,)):  # several independent mistakes: one line each
            sys.stderr.write(_one_line(str(error)) + "\n")  # not click.echo, which writes UTF-8 to ASCII-only stderr
        code = exc.exit_code
    except NO_ARGS_IS_HELP as exc:
        click.echo(exc.ctx.get_help(), err=True)
        code = 2
    except click.ClickException as exc:
        exc.show()
        code = 2
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        click.echo("interrupted", err=True)
        # SIGINT 130; SIGTERM 143 and SIGHUP 129 while writing --output (click wraps the interrupt in Abort:
        # `from` it since click 8.2, `from None` in 8.1, which leaves it as the context)
        code = 128 + getattr(exc, "signum", getattr(exc.__cause__ or exc.__context__, "signum", 2))
    except MemoryError:  # a limit tighter than verify's estimate saw: one line, never a numpy traceback
        sys.stderr.write("error: out of memory (lower --batch or --input, or raise the memory limit: ulimit -v, cgroup)\n")
        code = 2
    except BrokenPipeError:  # while printing an error or help
        _silence_stdout()
        code = 0
    sys.exit(code if isinstance(code, int) else 0)


# Glyphs cnncost prints, and what they become on a stream that cannot encode them (LANG=C, a cp1252 console).
ASCII = {"×": "x", "⚠": "!", "—": "-", "–": "-", "✓": "ok", "✗": "X", "≠": "!=", "·": "*", "…": "...", "∝": "~",
         "━": "-", "─": "-", "│": "|", "≤": "<=", "≥": ">=", "→": "->", "∞": "inf", "±": "+-", "√": "sqrt", "²": "^2"}


def _writable_streams() -> None:
    """An ASCII-only terminal or PYTHONIOENCODING=ascii: cnncost's own glyphs get ASCII stand-ins (64x56x56) and any
    other character (a layer named 卷积) a JSON-style `\\u5377` escape, so output stays ASCII, JSON stays valid
    JSON, and nothing ends in a UnicodeEncodeError. Files written with -o are always UTF-8."""
    import codecs

    codecs.register_error("cnncost-escape", _ascii_escape)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding and not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="cnncost-escape")


def _ascii_escape(error: UnicodeEncodeError):
    escaped = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if char in ASCII:
            escaped.append(ASCII[char])
            continue
        escaped += [f"\\u{unit:04x}" for unit in _utf16(code)]
    return "".join(escaped), error.end


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush cannot complain."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _one_line(message: str, limit: int = 1000) -> str:
    """An error stays one readable line: line breaks flattened, and a huge echoed value (a 1 MB name) cut from
    the middle, so the file:line:col in front and the hint at the end survive."""
    message = " ".join(message.splitlines())
    return message if len(message) <= limit else f"{message[: limit * 2 // 3]} … {message[-(limit // 4):]}"
