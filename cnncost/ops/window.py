"""Sliding-window arithmetic shared by convolution and pooling (PyTorch's floor/ceil rules)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from cnncost.ops.base import AXIS_NAMES, OpError


@dataclass(frozen=True)
class Window:
    """What one output index reads along one spatial axis: input indices step·o + first … step·o + last.

    The bounds hold for every output index o and are as tight as an affine rule allows; exact numbers
    (int or Fraction), since upsampling and transposed convolutions step by fractions of an input pixel.
    """

    step: int | Fraction
    first: int | Fraction
    last: int | Fraction


def sliding(kernel_eff: int, stride: int, pad_before: int) -> Window:
    """A kernel sliding over a padded input: window o starts at stride·o − pad and spans kernel_eff taps."""
    return Window(stride, -pad_before, kernel_eff - 1 - pad_before)


def whole(size: int) -> Window:
    """Every output element reads the whole axis (global pooling, flatten)."""
    return Window(size, 0, size - 1)


def effective_kernel(kernel: int, dilation: int) -> int:
    return dilation * (kernel - 1) + 1


def same_padding(size: int, kernel_eff: int, stride: int) -> tuple[int, int]:
    """TensorFlow-style 'same': out = ceil(in / stride); extra padding goes after (equals PyTorch's at stride 1)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel_eff - size, 0)
    return total // 2, total - total // 2


def pads(padding, sizes, kernels_eff, strides) -> list[tuple[int, int]]:
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "same":
        return [same_padding(n, k, s) for n, k, s in zip(sizes, kernels_eff, strides)]
    return [(p, p) for p in padding]


def output_size(size: int, kernel_eff: int, stride: int, pad: tuple[int, int], ceil_mode: bool = False) -> int:
    padded = size + pad[0] + pad[1]
    if kernel_eff > padded:
        raise OpError(f"kernel spans {kernel_eff} but the padded input is only {padded} wide")
    span = padded - kernel_eff
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad[0]:
        out -= 1  # PyTorch: the last window must start inside the input or left padding
    return out


def dropped_warnings(sizes, kernels_eff, strides, pad_list, ceil_mode=False, silence="") -> list[str]:
    """Name how many input rows/cols the floor rule leaves unread when a stride does not divide evenly, and how
    the op's author can silence it (`silence`, the op's own remedy)."""
    if ceil_mode:
        return []
    names = AXIS_NAMES.get(len(sizes), ("elements",) * len(sizes))
    parts = []
    for axis, (n, k, s, (lo, hi)) in enumerate(zip(sizes, kernels_eff, strides, pad_list)):
        unread = (n + lo + hi - k) % s - hi
        if unread > 0 and k >= s:  # a window narrower than its stride skips rows everywhere, by design
            noun = names[axis] if unread > 1 else names[axis][:-1]
            parts.append(f"{unread} {noun} of {n} (stride {s}, window {k}, padding {lo}+{hi})")
    if not parts:
        return []
    tail = f"; {silence}" if silence else ""
    return ["the floor rule leaves the last " + " and ".join(parts) + " unread" + tail]


def envelope(step: int | Fraction, ranges) -> Window:
    """The tightest affine Window around per-output read ranges [(lo, hi), ...] of a non-uniform op
    (adaptive pooling bins that do not divide evenly); exact when the ranges are uniform."""
    ranges = list(ranges)
    return Window(
        step,
        min(lo - step * o for o, (lo, _) in enumerate(ranges)),
        max(hi - step * o for o, (_, hi) in enumerate(ranges)),
    )
