"""Ops that combine several inputs: residual add, elementwise multiply, channel concat."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import Key, Op, OpError, Saved, fmt_shape
from cnncost.ops.window import sliding, whole


class Add(Op):
    name = "add"
    kind = "merge"
    doc = "elementwise sum of inputs of one shape (residual connection)"
    arity = (2, None)
    flops_doc = "inputs−1 per output element"
    elementwise = False
    in_place = True  # torchvision's `out += identity`; a sum's backward keeps nothing

    def output_shape(self, attrs, in_shapes):
        first = in_shapes[0]
        for shape in in_shapes[1:]:
            if shape != first:
                raise OpError(f"cannot add shapes {fmt_shape(first)} and {fmt_shape(shape)}")
        return first

    def flops(self, attrs, in_shapes, out_shape):
        return (len(in_shapes) - 1) * prod(out_shape)


class Mul(Add):
    name = "mul"
    doc = "elementwise product with broadcasting (squeeze-excite gating: C×H×W · C×1×1)"
    in_place = False

    def saved(self, attrs, in_shapes, out_shape):
        """Each factor, for the other's gradient."""
        return tuple(Saved(input=i) for i in range(len(in_shapes)))

    def output_shape(self, attrs, in_shapes):
        out = in_shapes[0]
        for shape in in_shapes[1:]:
            out = _broadcast(out, shape)
        return out


def _broadcast(a: tuple, b: tuple) -> tuple:
    """NumPy's rule, axis by axis. Ranks must match: with the batch axis in front, NumPy would align a
    shorter per-sample shape against the batch (C·H·W · C is an error in PyTorch too)."""
    if len(a) != len(b):
        raise OpError(f"cannot broadcast shapes {fmt_shape(a)} and {fmt_shape(b)}: they have different numbers of axes "
                      "(keep the pooled axes, e.g. global_avgpool with keepdims: true)")
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise OpError(f"cannot broadcast shapes {fmt_shape(a)} and {fmt_shape(b)}")
        out.append(max(x, y))
    return tuple(out)


class Concat(Op):
    name = "concat"
    kind = "merge"
    doc = "join inputs along one axis (default channels); other axes must match"
    keys = (Key("axis", "axis", 0, "per-sample axis to join along; 0 = channels"),)
    arity = (2, None)
    elementwise = False

    def output_shape(self, attrs, in_shapes):
        first, axis = in_shapes[0], attrs["axis"]
        if not -len(first) <= axis < len(first):
            raise OpError(f"axis {axis} is out of range for shape {fmt_shape(first)}", "axis")
        axis %= len(first)
        for shape in in_shapes[1:]:
            if len(shape) != len(first) or any(x != y for i, (x, y) in enumerate(zip(first, shape)) if i != axis):
                raise OpError(f"cannot concat {fmt_shape(first)} and {fmt_shape(shape)} along axis {axis}")
        return (*first[:axis], sum(s[axis] for s in in_shapes), *first[axis + 1:])


class MatMul(Op):
    """Batched matrix product over the last two per-sample axes (non-local and attention blocks inside CNNs).

    Receptive field: out[..., m, n] reads a whole row of the first input and a whole column of the second, and
    the two inputs' fields are united before the window applies, so each of the last two axes that is spatial
    reads its whole length; batch axes in front of them are read position by position.
    """

    name = "matmul"
    kind = "merge"
    doc = "batched matrix product over the last two per-sample axes, (…, M, K) @ (…, K, N), leading axes broadcast"
    arity = (2, 2)
    elementwise = False
    flops_doc = "2·MACs; MACs = prod(broadcast leading axes)·M·K·N"

    def output_shape(self, attrs, in_shapes):
        a, b = in_shapes
        if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
            raise OpError(f"matmul needs (…, M, K) and (…, K, N) per sample, got {fmt_shape(a)} and {fmt_shape(b)}")
        return (*_broadcast(a[:-2], b[:-2]), a[-2], b[-1])

    def macs(self, attrs, in_shapes, out_shape):
        return prod(out_shape) * in_shapes[0][-1]

    def window(self, attrs, in_shapes):
        shape = in_shapes[0]
        spatial = shape[1:]
        return [sliding(1, 1, 0) if axis < len(shape) - 2 else whole(n) for axis, n in enumerate(spatial, 1)] or None


register(Add(), Mul(), Concat(), MatMul())
