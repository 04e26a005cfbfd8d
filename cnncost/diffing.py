"""`cnncost diff`: what a change to a spec did to its cost, layer by layer (matched by name) and in total."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

COMPARED = ("op", "output_shape", "params", "macs", "activation_bytes")  # a layer with any of these different has changed
TOTALS = ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "training_activation_bytes", "param_bytes")
GUARDED = ("params", "macs", "peak_activation_bytes")  # what --fail-on-increase watches


@dataclass(frozen=True)
class LayerChange:
    name: str
    status: str  # added | removed | changed
    old: object  # LayerRow or None
    new: object  # LayerRow or None

    def delta(self, field: str) -> int:
        return (getattr(self.new, field) if self.new else 0) - (getattr(self.old, field) if self.old else 0)


@dataclass(frozen=True)
class TotalDelta:
    key: str
    old: int
    new: int

    @property
    def delta(self) -> int:
        return self.new - self.old

    @property
    def ratio(self) -> Fraction | None:
        """The change as a fraction of the old value; None when the old value is 0."""
        return Fraction(self.delta, self.old) if self.old else None


@dataclass(frozen=True)
class Diff:
    old: object  # Report
    new: object  # Report
    layers: tuple  # LayerChange, in the new spec's order with removed layers where they stood
    unchanged: int
    totals: tuple  # TotalDelta


def diff_reports(old, new) -> Diff:
    before = {row.name: row for row in old.layers}
    after = {row.name: row for row in new.layers}
    changes = []
    for row in new.layers:
        previous = before.get(row.name)
        if previous is None:
            changes.append(LayerChange(row.name, "added", None, row))
        elif any(getattr(previous, field) != getattr(row, field) for field in COMPARED):
            changes.append(LayerChange(row.name, "changed", previous, row))
    changes = _place_removed(old.layers, after, changes)
    unchanged = sum(1 for name in after if name in before) - sum(1 for c in changes if c.status == "changed")
    totals = tuple(TotalDelta(key, getattr(old.totals, key), getattr(new.totals, key)) for key in TOTALS)
    return Diff(old, new, tuple(changes), unchanged, totals)


def grown(diff: Diff, percent: Fraction) -> list[TotalDelta]:
    """The guarded totals that grew by more than `percent` (from zero, any growth counts)."""
    out = []
    for total in diff.totals:
        if total.key in GUARDED and total.delta > 0 and (total.ratio is None or total.ratio * 100 > percent):
            out.append(total)
    return out


def _place_removed(old_layers, after: dict, changes: list) -> list:
    """Each removed layer goes right after the nearest earlier old layer that the new spec still has."""
    position = {name: i for i, name in enumerate(after)}
    keyed = [((position[c.name], 0, 0), c) for c in changes]
    last = -1
    for index, row in enumerate(old_layers):
        if row.name in position:
            last = position[row.name]
        else:
            keyed.append(((last, 1, index), LayerChange(row.name, "removed", row, None)))
    return [change for _, change in sorted(keyed, key=lambda item: item[0])]
