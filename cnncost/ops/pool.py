"""Pooling: no parameters and no multiply-accumulates; FLOPs count the comparisons or additions."""
from __future__ import annotations

from fractions import Fraction
from math import prod

from cnncost.ops import register
from cnncost.ops.base import SAVES_INPUT, Key, Op, OpError, Saved, per_sample_axes
from cnncost.ops.window import Window, dropped_warnings, effective_kernel, envelope, output_size, sliding, whole


def _saved_by(reduction: str, out_shape: tuple) -> tuple:
    """Windowed and adaptive pooling save their input; max pooling also the int64 index of each output's maximum."""
    if reduction == "max":
        return (Saved(input=0), Saved(elements=prod(out_shape), element_bytes=8))
    return SAVES_INPUT


class Pool(Op):
    family = "pooling"
    elementwise = False

    def __init__(self, kind: str, spatial: int):
        self.reduction, self.spatial = kind, spatial
        self.name = f"{kind}pool{spatial}d"
        self.doc = f"{spatial}-D {kind} pooling (PyTorch {kind.capitalize()}Pool{spatial}d)"
        self.flops_doc = "kernel−1 comparisons per output element" if kind == "max" else "kernel adds+divide per output element"
        keys = [
            Key("kernel", "ints", doc="window size: int or one per spatial axis"),
            Key("stride", "ints", None, "step between windows (default: the kernel size)"),
            Key("padding", "ints", 0, "implicit padding on each side (−inf for max, 0 for avg)"),
        ]
        if kind == "max":
            keys.append(Key("dilation", "ints", 1, "spacing between window taps"))
        keys.append(Key("ceil_mode", "bool", False, "round the output size up instead of down"))
        if kind == "avg":
            keys.append(Key("count_include_pad", "bool", True, "divide by the full window including padding"))
        self.keys = tuple(keys)

    def finish_attrs(self, attrs):
        if attrs["stride"] is None:
            attrs["stride"] = attrs["kernel"]
        attrs.setdefault("dilation", (1,) * self.spatial)
        for k, p in zip(attrs["kernel"], attrs["padding"]):
            if 2 * p > k:
                raise OpError(f"padding {p} must be at most half the kernel {k} (as in PyTorch)", "padding")
        if self.reduction == "avg":
            attrs.pop("dilation")
        return attrs

    def geometry(self, attrs, in_shape):
        dilation = attrs.get("dilation", (1,) * self.spatial)
        kernels = [effective_kernel(k, d) for k, d in zip(attrs["kernel"], dilation)]
        return in_shape[1:], kernels, [(p, p) for p in attrs["padding"]]

    def output_shape(self, attrs, in_shapes):
        sizes, kernels, pad_list = self.geometry(attrs, in_shapes[0])
        spatial = (
            output_size(n, k, s, p, attrs["ceil_mode"]) for n, k, s, p in zip(sizes, kernels, attrs["stride"], pad_list)
        )
        return (in_shapes[0][0], *spatial)

    def flops(self, attrs, in_shapes, out_shape):
        window = prod(attrs["kernel"])
        return prod(out_shape) * (window - 1 if self.reduction == "max" else window)

    def window(self, attrs, in_shapes):
        _, kernels, pad_list = self.geometry(attrs, in_shapes[0])
        return [sliding(k, s, before) for k, s, (before, _) in zip(kernels, attrs["stride"], pad_list)]

    def saved(self, attrs, in_shapes, out_shape):
        return _saved_by(self.reduction, out_shape)

    def warnings(self, attrs, in_shapes):
        sizes, kernels, pad_list = self.geometry(attrs, in_shapes[0])
        silence = "to read them, set `ceil_mode: true` (PyTorch's partial last window) or pad the input"
        return dropped_warnings(sizes, kernels, attrs["stride"], pad_list, attrs["ceil_mode"], silence)


class AdaptivePool(Op):
    """PyTorch's adaptive pooling: bin i spans [floor(i·n/o), ceil((i+1)·n/o))."""

    family = "pooling"
    elementwise = False
    flops_doc = "one comparison or add per input element"

    def __init__(self, kind: str, spatial: int):
        self.reduction, self.spatial = kind, spatial
        self.name = f"adaptive_{kind}pool{spatial}d"
        self.doc = f"{spatial}-D adaptive {kind} pooling to a fixed output size"
        self.keys = (Key("output", "ints", doc="output size: int or one per spatial axis"),)

    def output_shape(self, attrs, in_shapes):
        return (in_shapes[0][0], *attrs["output"])

    def saved(self, attrs, in_shapes, out_shape):
        return _saved_by(self.reduction, out_shape)

    def flops(self, attrs, in_shapes, out_shape):
        return prod(in_shapes[0])

    def window(self, attrs, in_shapes):
        return [_bins(n, o) for n, o in zip(in_shapes[0][1:], attrs["output"])]


def _bins(size: int, out: int) -> Window:
    """Bin i reads [floor(i·n/o), ceil((i+1)·n/o) − 1]: uniform when o divides n. Otherwise the affine envelope
    of every bin, exact for up to 65,536 bins; beyond that a bound from the rounding (each end moves < 1 pixel)."""
    if size % out == 0:
        return sliding(size // out, size // out, 0)
    step = Fraction(size, out)
    if out > 65536:
        return Window(step, -1, step)
    return envelope(step, ((i * size // out, -(-(i + 1) * size // out) - 1) for i in range(out)))


class GlobalPool(Op):
    """Pools each channel over all spatial positions; keepdims leaves C×1×…×1 (for squeeze-excite)."""

    family = "pooling"
    elementwise = False
    flops_doc = "one comparison or add per input element"

    def __init__(self, kind: str):
        self.reduction = kind
        self.name = f"global_{kind}pool"
        self.doc = f"global {kind} pooling over every spatial axis"
        self.keys = (Key("keepdims", "bool", False, "keep the spatial axes as size 1"),)

    def check_inputs(self, in_shapes):
        super().check_inputs(in_shapes)
        if len(in_shapes[0]) < 2:
            raise OpError(f"op {self.name!r} needs spatial axes to pool over, got a flat input of shape {in_shapes[0]}")

    def output_shape(self, attrs, in_shapes):
        shape = in_shapes[0]
        return (shape[0], *[1] * (len(shape) - 1)) if attrs["keepdims"] else (shape[0],)

    def saved(self, attrs, in_shapes, out_shape):
        """A global max (amax) keeps its input and output to find the maxima; a mean keeps nothing."""
        return (Saved(input=0), Saved(output=True)) if self.reduction == "max" else ()

    def flops(self, attrs, in_shapes, out_shape):
        return prod(in_shapes[0])

    def window(self, attrs, in_shapes):
        return [whole(n) for n in in_shapes[0][1:]]


class Reduce(Op):
    """mean, sum or amax over a list of per-sample axes (CBAM's channel pooling: mean over axis 0, keepdims).

    Receptive field: every reduced spatial axis is read whole; the others position by position (None when no
    spatial axis is reduced).
    """

    family = "reduction"
    elementwise = False
    flops_doc = "one add or comparison per input element"

    def __init__(self, name: str, doc: str):
        self.name, self.doc = name, doc
        self.keys = (
            Key("axes", "axis_list", doc="per-sample axes to reduce, 0 = channels, negative from the end"),
            Key("keepdims", "bool", False, "keep the reduced axes as size 1"),
        )

    def output_shape(self, attrs, in_shapes):
        shape = in_shapes[0]
        axes = per_sample_axes(attrs["axes"], shape, "axes")
        if attrs["keepdims"]:
            return tuple(1 if i in axes else n for i, n in enumerate(shape))
        if len(axes) == len(shape):
            raise OpError(f"axes {list(attrs['axes'])} reduce every axis of {shape}; set keepdims: true or keep one axis", "axes")
        return tuple(n for i, n in enumerate(shape) if i not in axes)

    def flops(self, attrs, in_shapes, out_shape):
        return prod(in_shapes[0])

    def window(self, attrs, in_shapes):
        shape = in_shapes[0]
        axes = per_sample_axes(attrs["axes"], shape, "axes")
        if not any(axis in axes for axis in range(1, len(shape))):
            return None
        return [whole(n) if axis in axes else sliding(1, 1, 0) for axis, n in enumerate(shape[1:], 1)]


register(*(Pool(kind, n) for kind in ("max", "avg") for n in (1, 2, 3)))
register(*(AdaptivePool(kind, n) for kind in ("avg", "max") for n in (1, 2, 3)))
register(GlobalPool("avg"), GlobalPool("max"))
register(
    Reduce("mean", "mean over the given per-sample axes (torch.mean(x, dims))"),
    Reduce("sum", "sum over the given per-sample axes (torch.sum(x, dims))"),
    Reduce("amax", "maximum over the given per-sample axes (torch.amax(x, dims))"),
)
