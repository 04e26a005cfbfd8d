"""The one error type users can cause, carrying where in their spec it happened."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a spec file; line and column are 1-based, as editors show them."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
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


class CnnCostErrors(CnnCostError):
    """Several independent mistakes in one input, reported together so a user fixes them in one pass."""

    def __init__(self, errors):
        first = errors[0]
        super().__init__(first.message, first.location, first.hint)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class Mistakes:
    """Collects independent CnnCostErrors, up to `limit`; `raise_if_any` raises them together."""

    limit = 20

    def __init__(self):
        self.errors: list[CnnCostError] = []

    def collecting(self):
        return _Collect(self)

    def add(self, error: CnnCostError) -> None:
        self.errors += getattr(error, "errors", (error,))
        if len(self.errors) >= self.limit:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise CnnCostErrors(self.errors[: self.limit])


class _Collect:
    def __init__(self, mistakes: Mistakes):
        self.mistakes = mistakes

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if isinstance(error, CnnCostError):
            self.mistakes.add(error)
            return True
        return False
