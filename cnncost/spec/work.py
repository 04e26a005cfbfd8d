"""The work of expanding a spec, bounded by construction: every value expansion produces is measured before it
is kept, and everything it produces is charged to one budget (docs/conventions.md "Limits"). A 1 kB spec whose blocks splice
their arguments ten times per level would otherwise build terabytes of text."""
from __future__ import annotations

from cnncost.limits import MAX_EXPANSION_WORK, MAX_TEXT_CHARS


class ExpansionLimit(ValueError):
    """A bound of expansion was reached; the caller adds the spec location."""


class ExpansionWork:
    """Counts what expansion has produced so far: layers, aliases, characters and list items."""

    def __init__(self, limit: int = MAX_EXPANSION_WORK):
        self.limit, self.spent = limit, 0

    def charge(self, units: int) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise ExpansionLimit(
                f"expanding the spec takes more than {self.limit:,} steps (entries, layers and values made)"
            )


def bounded_size(value, limit: int = MAX_TEXT_CHARS) -> int:
    """The size of a value as a tree (characters of text, one per number, items of lists and mappings, nested
    ones counted every time they appear), refused as soon as it passes `limit`: a list may hold the same list
    ten times, so sizes multiply while memory does not, until something prints or copies it."""
    size, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, dict):
            size += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            size += 1
            stack.extend(item)
        else:
            size += 1
        if size > limit:
            raise ExpansionLimit(f"a value made by expansion is over the limit of {limit:,} characters or items")
    return size
