"""`cnncost diff`: what a change to a spec did to its cost, layer by layer (aligned by structure) and in total."""
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
    """Align the two layer lists as a sequence diff does: a layer the user named is matched by its name, an
    automatically named one (`relu_3`) by its op and block, in graph order; so inserting one conv-bn-relu shows
    three added rows, not every later auto-named layer as changed."""
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(None, [_identity(r) for r in old.layers], [_identity(r) for r in new.layers], autojunk=False)
    changes, unchanged = [], 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = old.layers[i1:i2], new.layers[j1:j2]
        same_ops = len(olds) == len(news) and all(a.op == b.op for a, b in zip(olds, news))
        if tag != "equal" and not same_ops:  # removed layers where they stood, then the new ones
            changes += [LayerChange(row.name, "removed", row, None) for row in olds]
            changes += [LayerChange(row.name, "added", None, row) for row in news]
            continue
        for before, after in zip(olds, news):  # the same layers, or the same ops in place with new settings
            if any(getattr(before, field) != getattr(after, field) for field in COMPARED):
                changes.append(LayerChange(after.name, "changed", before, after))
            else:
                unchanged += 1
    totals = tuple(TotalDelta(key, getattr(old.totals, key), getattr(new.totals, key)) for key in TOTALS)
    return Diff(old, new, tuple(changes), unchanged, totals)


def _identity(row):
    """What makes two layers "the same layer" across versions: the name a user gave, or, for a name the spec
    made up (`<op>_<n>`, cnncost.spec.expand), its op, block, output shape and parameter count, since its
    number shifts whenever a layer is inserted before it."""
    block, _, local = row.name.rpartition(".")
    if local.startswith(row.op + "_") and local[len(row.op) + 1 :].isdigit():
        return (block, row.op, row.output_shape, row.params)
    return row.name


def grown(diff: Diff, percent: Fraction) -> list[TotalDelta]:
    """The guarded totals that grew by more than `percent` (from zero, any growth counts)."""
    out = []
    for total in diff.totals:
        if total.key in GUARDED and total.delta > 0 and (total.ratio is None or total.ratio * 100 > percent):
            out.append(total)
    return out
