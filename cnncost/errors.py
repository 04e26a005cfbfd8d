"""The one error type users can cause, carrying where in their spec it happened."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Location:
    """A place in a spec file; line and column are 1-based, as editors show them."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:  # every report row records its layer's location as text
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class CnnCostError(Exception):
    """Anything a user can cause: bad spec, bad flag, missing file. The CLI turns it into exit code 2."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        tail = f" ({self.hint})" if self.hint else ""
        return f"{where}error: {self.message}{tail}"


class ShapeWarningError(CnnCostError):
    """A warning promoted to an error by --strict."""
