"""Receptive fields, exactly: per axis of the network input, the size, jump and start of each output element's view.

An output element e along one axis sees the input pixels start + e·jump ± (size − 1)/2: `size` pixels centred at
`start + e·jump`. A layer whose output index o reads its input indices step·o + first … step·o + last (its Window)
maps a field (size r, jump j, start s) to

    jump  j·step,   start  s + j·(first + last)/2,   size  r + j·(last − first).

Several inputs take the union of their windows, so branches whose windows are offset (not nested) come out exact.
An input broadcast over every spatial axis (a squeeze-excite gate, C×1×1) adds no pixels to any one position's
local window: it is left out of the union and the row is marked as having global context when that input saw the
whole image. Values are ints or Fractions (upsampling and transposed convolutions step by fractions of a pixel);
they are exact for uniform windows and an upper bound, within one input step, for non-uniform ones (adaptive
pooling over sizes that do not divide, nearest upsampling by a non-integer factor).

Axes that a permute moved are followed by a layout: for each per-sample axis of the tensor, the network-input
axis it runs along (None for channels or features). A window given for a tensor axis applies to that
network-input axis; one given for an axis holding channels (a linear on channels-last data) adds no pixels.
"""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple


class AxisField(NamedTuple):
    size: int | Fraction  # input pixels one output element sees along this axis
    jump: int | Fraction  # input pixels between neighbouring output elements
    start: int | Fraction = 0  # centre of output element 0's view, in input pixel coordinates

    @property
    def low(self):
        return self.start - (self.size - 1) / Fraction(2)

    @property
    def high(self):
        return self.start + (self.size - 1) / Fraction(2)


class Field(NamedTuple):
    """A layer's receptive field: one AxisField per spatial axis of the network input."""

    axes: tuple
    global_context: bool = False  # the row read a broadcast input that had seen the whole image
    layout: tuple | None = None  # per tensor axis, the network-input axis it runs along; None: in order (C, axis 0, …)

    def covers(self, input_sizes: tuple) -> bool:
        """Whether element 0's view spans the whole input on every axis."""
        return all(f.low <= 0 and f.high >= n - 1 for f, n in zip(self.axes, input_sizes))


def input_field(spatial_axes: int) -> Field:
    return Field((AxisField(1, 1, 0),) * spatial_axes)


def through(inputs: list[Field], broadcast: list[bool], window, input_sizes: tuple, ranks: tuple = (0, 0),
            axis_order: tuple | None = None) -> Field:
    """The field of a layer from its inputs' fields (those broadcast over every spatial axis flagged) and its
    Windows (None: each output element reads only its own position). `ranks` are the per-sample ranks of
    its first input and its output; `axis_order` is given by an op that moves axes."""
    if window is None and axis_order is None and len(inputs) == 1 and not broadcast[0] and ranks[0] == ranks[1]:
        return inputs[0]  # a pointwise layer (ReLU, batchnorm): each output element sees what its input element saw
    local = [f for f, b in zip(inputs, broadcast) if not b] or inputs
    gates = [f for f, b in zip(inputs, broadcast) if b]
    global_context = any(f.global_context for f in local) or any(f.global_context or f.covers(input_sizes) for f in gates)
    merged = union(local)
    layout = inputs[0].layout
    if window is not None and layout is None and len(window) == len(merged):
        merged = tuple(_apply(f, w) for f, w in zip(merged, window))
    elif window is not None and layout is not None and len(window) == len(layout) - 1:
        moved = list(merged)
        for axis, w in zip(layout[1:], window):
            if axis is not None:
                moved[axis] = _apply(merged[axis], w)
        merged = tuple(moved)
    return Field(merged, global_context, _layout_after(layout, ranks, axis_order, len(merged)))


def _layout_after(layout, ranks: tuple, axis_order, spatial: int):
    """The output's layout: permuted by a permute, kept by an op that keeps the rank, else back in order.

    Known gap: ops address windows to axes 1… only, so an axis moved to the front (H×W×C) gets none; a
    flatten or reshape of such a tensor under-reports that axis. Permute back first (as ConvNeXt does)."""
    if axis_order is None:
        return layout if ranks[0] == ranks[1] else None
    in_order = (None, *range(spatial))
    before = layout or (in_order if ranks[0] == spatial + 1 else (None,) * ranks[0])
    after = tuple(before[a] for a in axis_order)
    return None if after == in_order else after


def union(fields: list[Field]) -> tuple:
    """Per axis, the smallest view holding every input's view of element 0; the jump is the largest."""
    if len(fields) == 1:
        return fields[0].axes
    out = []
    for axes in zip(*(f.axes for f in fields)):
        low, high = min(a.low for a in axes), max(a.high for a in axes)
        out.append(AxisField(_exact(high - low + 1), max(a.jump for a in axes), _exact((low + high) / 2)))
    return tuple(out)


def _apply(field: AxisField, window) -> AxisField:
    if window.step == 1 and window.first == 0 and window.last == 0:  # a 1×1 convolution's: the field as it was
        return field
    middle = window.first + window.last  # twice the window's centre offset
    if type(middle) is int and not middle % 2:  # the common case stays in ints: most windows have odd spans
        start = field.start + field.jump * (middle // 2)
    else:
        start = _exact(field.start + field.jump * Fraction(middle, 2))
    return AxisField(
        _exact(field.size + field.jump * (window.last - window.first)),
        _exact(field.jump * window.step),
        start,
    )


def _exact(value):
    """Fractions with denominator 1 become ints, so integer-stride networks print and serialise as before."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value
