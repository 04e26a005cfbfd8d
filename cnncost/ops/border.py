"""Borders: pad (torch.nn.functional.pad) and crop (the U-Net's crop-and-copy). No parameters, no arithmetic."""
from __future__ import annotations

from cnncost.ops import register
from cnncost.ops.base import AXIS_NAMES, Key, Op, OpError, fmt_shape, per_axis
from cnncost.ops.window import Window


def _spatial_axes(op: Op, shape: tuple) -> int:
    if not 2 <= len(shape) <= 4:
        raise OpError(f"op {op.name!r} needs a C×L, C×H×W or C×D×H×W input, got {fmt_shape(shape)}")
    return len(shape) - 1


class Pad(Op):
    name = "pad"
    kind = "border"
    doc = ("grow each spatial axis by (before, after) elements, as torch.nn.functional.pad (lists in spec axis order, "
           "first spatial axis first)")
    elementwise = False
    keys = (
        Key("padding", "pairs", doc="int for every side, one int per spatial axis, or [before, after] per axis"),
        Key("mode", "choice", "constant", "constant, reflect (mirror without the edge), replicate (repeat the edge) "
            "or circular (wrap around)", ("constant", "reflect", "replicate", "circular")),
        Key("value", "float", 0, "the fill of constant padding"),
    )

    def finish_attrs(self, attrs):
        if attrs["value"] and attrs["mode"] != "constant":
            raise OpError(f"value only applies to mode 'constant' (as in PyTorch); received mode={attrs['mode']!r}, "
                          f"value={attrs['value']}", "value")
        return attrs

    def pads(self, attrs, in_shape) -> tuple:
        axes = _spatial_axes(self, in_shape)
        pads = per_axis(attrs["padding"], axes, "padding", pairs=True)
        mode, names = attrs["mode"], AXIS_NAMES[axes]
        for name, n, (before, after) in zip(names, in_shape[1:], pads):
            if mode == "reflect" and max(before, after) >= n:
                raise OpError(f"reflect padding must be smaller than the input (as in PyTorch): {name} has {n}, "
                              f"padding {before}+{after}", "padding")
            if mode == "circular" and max(before, after) > n:
                raise OpError(f"circular padding can be at most the input size (as in PyTorch): {name} has {n}, "
                              f"padding {before}+{after}", "padding")
        return pads

    def output_shape(self, attrs, in_shapes):
        pads = self.pads(attrs, in_shapes[0])
        return (in_shapes[0][0], *(n + before + after for n, (before, after) in zip(in_shapes[0][1:], pads)))

    def window(self, attrs, in_shapes):
        """Output o reads input o − before, or, in the border, the index the mode maps it to (none for constant)."""
        mode = attrs["mode"]
        windows = []
        for n, (before, after) in zip(in_shapes[0][1:], self.pads(attrs, in_shapes[0])):
            if mode == "constant":
                windows.append(Window(1, -before, -before))
            elif mode == "reflect":  # o = 0 reads `before`; the last output reads 0, from n + before + after − 1
                windows.append(Window(1, -before - 2 * after, before))
            elif mode == "replicate":  # the border repeats index 0 or n − 1
                windows.append(Window(1, -before - after, 0))
            else:  # circular: the left border reads the end of the input, the right border its start
                windows.append(Window(1, -before - (n if after else 0), (n if before else 0) - before))
        return windows


class Crop(Op):
    """Cut a window out of every spatial axis; with `like`, the size of another layer (U-Net's crop-and-copy)."""

    name = "crop"
    kind = "border"
    doc = ("cut each spatial axis to `size`, or to the spatial size of layer `like`; centred (the odd pixel of an "
           "uneven margin is cut after) unless `offset` is given")
    elementwise = False
    view = True  # PyTorch's slicing x[..., a:b, c:d] shares the input's storage
    arity = (1, 2)
    layer_keys = ("like",)
    keys = (
        Key("size", "sizes", None, "output size per spatial axis"),
        Key("like", "layer", None, "a layer whose spatial size to crop to (instead of size); it becomes an input"),
        Key("offset", "counts", None, "first kept index per spatial axis (default: centred)"),
    )

    def finish_attrs(self, attrs):
        if (attrs["size"] is None) == (attrs["like"] is None):
            raise OpError("op 'crop' needs exactly one of 'size' and 'like'", "size" if attrs["size"] else None)
        return attrs

    def value_inputs(self, count: int) -> int:
        return 1  # the `like` layer lends its shape only

    def box(self, attrs, in_shapes) -> list[tuple[int, int]]:
        """Per spatial axis (offset, size)."""
        if len(in_shapes) != (2 if attrs["like"] else 1):
            raise OpError("op 'crop' reads one input (and the `like` layer's shape); give other layers by `like`")
        shape = in_shapes[0]
        axes = _spatial_axes(self, shape)
        if attrs["like"]:
            if len(in_shapes[1]) != len(shape):
                raise OpError(f"`like` layer {attrs['like']!r} has shape {fmt_shape(in_shapes[1])}, which has a different "
                              f"number of axes than the input {fmt_shape(shape)}", "like")
            target = in_shapes[1][1:]
        else:
            target = per_axis(attrs["size"], axes, "size")
        if attrs["offset"] is not None:
            offsets = per_axis(attrs["offset"], axes, "offset")
        else:
            offsets = [(n - t) // 2 for n, t in zip(shape[1:], target)]
        for name, n, t, start in zip(AXIS_NAMES[axes], shape[1:], target, offsets):
            if t > n or start + t > n:
                where = f" from {start}" if attrs["offset"] is not None else ""
                raise OpError(f"cannot cut {t} {name}{where} out of {n}",
                              "offset" if attrs["offset"] is not None else "like" if attrs["like"] else "size")
        return list(zip(offsets, target))

    def output_shape(self, attrs, in_shapes):
        return (in_shapes[0][0], *(t for _, t in self.box(attrs, in_shapes)))

    def window(self, attrs, in_shapes):
        return [Window(1, start, start) for start, _ in self.box(attrs, in_shapes)]


register(Pad(), Crop())
