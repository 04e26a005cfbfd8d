"""Where a command's result goes: stdout or an --output file (atomically), as text, a rich renderable or a view."""
from __future__ import annotations

import sys

import click


def quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get("cnncost.quiet"))


def note(text: str) -> None:
    """A remark on stderr that --quiet silences (errors are not notes: they always print)."""
    if not quiet():
        click.echo(f"note: {text}", err=True)


def check_output(*paths: str | None, force: bool) -> None:
    """Refuse an unusable --output (or --plot) before any work, so a refusal costs nothing and leaves nothing."""
    from cnncost.output import check_writable

    for path in paths:
        if path:
            check_writable(path, force)


def forced() -> bool:
    """The running command's --force, read where the file is written, so the no-clobber rule is applied when the
    file appears (cnncost.output) without every emit call passing it along."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.params.get("force"))


class progress_bar:
    """A progress bar on stderr when it is a terminal; silent when piped."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.bar = label, total, None

    def __enter__(self):
        if not sys.stderr.isatty() or quiet():
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
    if output or not sys.stdout.isatty():  # for a file or a pipe: plain aligned text, linear in the rows
        from cnncost.render.table import to_plain

        text = to_plain(view)
        return emit(text, output) if output else say(text)
    if len(view.rows) > RICH_ROWS:
        from cnncost.render.table import to_plain

        return say(to_plain(view, terminal_width(output)))
    from cnncost.render.table import to_rich

    emit_rich(to_rich(view, terminal_width(output)), output)


# rich lays a table out cell by cell, about 0.4 ms a row here: 10,000 rows took 4 s. Longer tables, more than a
# screenful many times over, print as plain aligned text fitted to the terminal the same way (columns dropped,
# names shortened), at 100,000 rows in a few seconds.
RICH_ROWS = 2000


def say(text: str) -> None:
    """Text for people, through sys.stdout so that a terminal without UTF-8 gets ASCII stand-ins (cnncost.cli.main);
    data for tools goes through `emit`, which stays lossless."""
    sys.stdout.write(text)
    sys.stdout.flush()


def emit(text: str, output: str | None) -> None:
    if output:
        from cnncost.output import write_atomic

        write_atomic(output, text, force=forced())
    else:  # not click.echo: it writes UTF-8 to an ASCII-only stdout, where cnncost.cli escapes instead
        sys.stdout.write(_json_ascii(text) if text[:1] in "{[" else text)
        sys.stdout.flush()


def _json_ascii(text: str) -> str:
    """A JSON document on a stdout that cannot encode UTF-8 gets `\\u00d7` escapes for every non-ASCII character
    (which JSON allows only inside strings, where the escape means the same character), so it stays lossless;
    tables get readable stand-ins instead (cnncost.cli)."""
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("-", "").replace("_", "")
    if encoding.startswith("utf") or text.isascii():
        return text
    return "".join(c if ord(c) < 128 else "".join(f"\\u{u:04x}" for u in _utf16(ord(c))) for c in text)


def _utf16(code: int) -> list[int]:
    return [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)] if code > 0xFFFF else [code]


def terminal_width(output: str | None) -> int | None:
    """The width tables must fit: the terminal's when printing to one; None (no limit) for files and pipes."""
    if output:
        return None
    from rich.console import Console

    console = Console()
    return console.width if console.is_terminal else None


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
