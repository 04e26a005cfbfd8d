"""Resampling: upsample (torch.nn.functional.interpolate), pixel_shuffle and pixel_unshuffle.

No parameters and no multiply-accumulates. Where interpolate's output depends on float rounding (the source
index of nearest upsampling by a non-integer factor), the receptive-field window follows PyTorch's own float32
arithmetic, so the bounds hold for the indices PyTorch actually reads.
"""
from __future__ import annotations

import struct
from fractions import Fraction
from math import floor, prod

from cnncost.limits import MAX_COUNT
from cnncost.ops import register
from cnncost.ops.base import Key, Op, OpError, fmt_shape, per_axis
from cnncost.ops.window import Window, envelope

MODES = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}
TAPS = {"nearest": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}  # input taps per output, per axis
EXACT_WINDOW_LIMIT = 65536  # output elements per axis up to which the window is the envelope of every index


class Upsample(Op):
    name = "upsample"
    kind = "resample"
    doc = ("resize every spatial axis as torch.nn.functional.interpolate: out = floor(in·scale), or `size`; "
           "C unchanged")
    flops_doc = "2 per input tap weighed per output element: 0 (nearest), 2·2^axes (linear modes), 2·16 (bicubic)"
    elementwise = False
    keys = (
        Key("scale", "scale", None, "factor for every spatial axis, or one per axis (int or float)"),
        Key("size", "sizes", None, "output size per spatial axis (instead of scale)"),
        Key("mode", "choice", "nearest", "nearest, linear (1-D), bilinear (2-D), bicubic (2-D) or trilinear (3-D)",
            tuple(MODES)),
        Key("align_corners", "bool", False, "interpolating modes: map the corner pixels' centres onto each other"),
    )

    def finish_attrs(self, attrs):
        if (attrs["scale"] is None) == (attrs["size"] is None):
            raise OpError("op 'upsample' needs exactly one of 'scale' and 'size'", "scale" if attrs["scale"] else None)
        if attrs["align_corners"] and attrs["mode"] == "nearest":
            raise OpError("align_corners only applies to the interpolating modes (linear, bilinear, bicubic, "
                          "trilinear), as in PyTorch; received mode='nearest'", "align_corners")
        return attrs

    def check_inputs(self, in_shapes):
        super().check_inputs(in_shapes)
        axes = len(in_shapes[0]) - 1
        if axes not in MODES["nearest"]:
            raise OpError(f"op 'upsample' needs 1 to 3 spatial axes, got an input of shape {fmt_shape(in_shapes[0])}")

    def geometry(self, attrs, in_shape) -> list[tuple[int, int, float | None]]:
        """Per axis (in, out, the scale PyTorch uses for coordinates or None when it uses in/out)."""
        sizes = in_shape[1:]
        mode = attrs["mode"]
        if len(sizes) not in MODES[mode]:
            raise OpError(f"mode {mode!r} resizes {' or '.join(map(str, MODES[mode]))} spatial axes (as in PyTorch), "
                          f"the input {fmt_shape(in_shape)} has {len(sizes)}", "mode")
        if attrs["size"] is not None:
            return [(n, o, None) for n, o in zip(sizes, per_axis(attrs["size"], len(sizes), "size"))]
        out = []
        for n, s in zip(sizes, per_axis(attrs["scale"], len(sizes), "scale")):
            product = n * s  # PyTorch's rule for a float factor: the double product, truncated
            if product > MAX_COUNT:
                raise OpError(f"scale {s} makes an axis of {n} over the limit of 10^100", "scale")
            size = floor(product)
            if size < 1:
                raise OpError(f"scale {s} leaves no output: floor({n}·{s}) = {size}", "scale")
            out.append((n, size, float(s)))
        return out

    def output_shape(self, attrs, in_shapes):
        return (in_shapes[0][0], *(o for _, o, _ in self.geometry(attrs, in_shapes[0])))

    def flops(self, attrs, in_shapes, out_shape):
        mode = attrs["mode"]
        return 0 if mode == "nearest" else 2 * TAPS[mode] ** (len(out_shape) - 1) * prod(out_shape)

    def window(self, attrs, in_shapes):
        mode, corners = attrs["mode"], attrs["align_corners"]
        geometry = self.geometry(attrs, in_shapes[0])
        return [_window(mode, n, o, scale, corners, len(geometry)) for n, o, scale in geometry]


def _f32(x: float) -> float:
    """x rounded to float32, the precision PyTorch computes source coordinates in for float tensors."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _coordinate_scale(n: int, out: int, scale: float | None, corners: bool) -> float:
    """PyTorch's area_pixel_compute_scale, in float32."""
    if corners:
        return _f32(_f32(n - 1) / (out - 1)) if out > 1 else 0.0
    return _f32(1.0 / scale) if scale else _f32(_f32(n) / out)


def copies(mode: str, n: int, out: int, scale: float | None, axes: int) -> bool:
    """Whether output o is input o along this axis. PyTorch (2.13, CPU) copies an axis whose size is unchanged when
    `size` was given, and also when a factor left it unchanged (floor(8·1.1) = 8) in the linear modes and in 2-D
    nearest (bicubic and 1-D or 3-D nearest resample it with the factor's coordinates). Measured, not documented."""
    return out == n and (scale is None or mode in ("linear", "bilinear", "trilinear") or (mode == "nearest" and axes == 2))


def read_range(mode: str, n: int, out: int, step: Fraction, scale: float | None, corners: bool, o: int) -> tuple[int, int]:
    """The first and last input index output o may read along one axis.

    PyTorch's CPU kernels compute the source coordinate in float32, and its forward and backward passes round
    differently (fused multiply-adds; a shortcut for unchanged sizes in one and not the other), so an index
    that exact arithmetic puts on a boundary can land on either side. The range covers both: PyTorch's float32
    coordinate and the exact one (`step`, from the same scale), and the copy of an unchanged axis; taps with
    a weight of exactly zero are left out only where that is exact (a coordinate clamped to 0)."""
    c = _coordinate_scale(n, out, scale, corners)
    if mode == "nearest":
        found = {min(floor(_f32(o * c)), n - 1), min(floor(o * step), n - 1)} | ({o} if out == n else set())
        return min(found), max(found)
    exact = step * o if corners else step * (o + Fraction(1, 2)) - Fraction(1, 2)
    rounded = _f32(c * o) if corners else _f32(_f32(c * _f32(o + 0.5)) - 0.5)
    if mode != "bicubic" and rounded < 0 and exact < 0:
        return 0, 0  # PyTorch clamps the coordinate to 0: the second tap's weight is exactly zero
    first = min(floor(rounded), floor(exact), n - 1)
    last = max(floor(rounded), floor(exact)) + 1
    if mode == "bicubic":
        first, last = first - 1, last + 1
    return min(max(first, 0), n - 1), min(max(last, 0), n - 1)


def _window(mode: str, n: int, out: int, scale: float | None, corners: bool, axes: int) -> Window:
    if copies(mode, n, out, scale, axes):
        return Window(1, 0, 0)
    if corners:
        step = Fraction(n - 1, out - 1) if out > 1 else Fraction(n, out)
    else:
        step = 1 / Fraction(scale) if scale else Fraction(n, out)
    if out <= EXACT_WINDOW_LIMIT and n < 2**24:  # float32 coordinates are exact integers below 2^24
        return envelope(step, (read_range(mode, n, out, step, scale, corners, o) for o in range(out)))
    # A bound: the source coordinate is step·o + (step − 1)/2 up to float rounding; the taps reach 1 or 2 past it.
    reach = {"nearest": (0, 0), "bicubic": (1, 2)}.get(mode, (0, 1))
    centre = 0 if corners else (step - 1) / 2
    return Window(step, min(centre, 0) - 2 - reach[0], max(centre, 0) + 1 + reach[1])


class PixelShuffle(Op):
    """Sub-pixel convolution's rearrangement (Shi et al. 2016) and its inverse: C·r²×H×W ↔ C×rH×rW."""

    kind = "resample"
    elementwise = False
    spatial = 2

    def __init__(self, inverse: bool):
        self.inverse = inverse
        self.name = "pixel_unshuffle" if inverse else "pixel_shuffle"
        self.doc = ("rearrange C×(H·r)×(W·r) into C·r²×H×W (PyTorch pixel_unshuffle)" if inverse else
                    "rearrange C·r²×H×W into C×(H·r)×(W·r) (PyTorch pixel_shuffle, sub-pixel convolution)")
        self.keys = (Key("factor", "int", doc=f"{'downscale' if inverse else 'upscale'} factor r"),)

    def output_shape(self, attrs, in_shapes):
        (c, h, w), r = in_shapes[0], attrs["factor"]
        if self.inverse:
            if h % r or w % r:
                raise OpError(f"factor {r} must divide the spatial size {h}×{w}", "factor")
            return (c * r * r, h // r, w // r)
        if c % (r * r):
            raise OpError(f"factor {r} needs channels divisible by r² = {r * r}, got {c}", "factor")
        return (c // (r * r), h * r, w * r)

    def window(self, attrs, in_shapes):
        """Unshuffle: output o reads r·o … r·o + r − 1. Shuffle: output o reads o // r."""
        r = attrs["factor"]
        return [Window(r, 0, r - 1) if self.inverse else Window(Fraction(1, r), Fraction(-(r - 1), r), 0)] * 2


register(Upsample(), PixelShuffle(inverse=False), PixelShuffle(inverse=True))
