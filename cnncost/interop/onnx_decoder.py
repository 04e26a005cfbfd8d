"""ONNX exporters of the decoder and resampling ops (opset 18): ConvTranspose, Resize, Pad, Slice, DepthToSpace.

Each takes (builder, node, input names, input shapes with batch 1, output shape with batch 1), as in onnx_export.
Where PyTorch's semantics and ONNX's differ, the export spells out PyTorch's: circular padding as slices
concatenated (Pad's "wrap" arrives in opset 19), pixel_unshuffle as reshape-transpose-reshape (SpaceToDepth
orders the channels differently), and an axis that upsample copies gets a scale of 1.
"""
from __future__ import annotations

from cnncost.ops import OPS


def _conv_transpose(b, node, x, shapes, out):
    a, w = node.attrs, b.weights(node, shapes)
    inputs = [x[0], b.constant(f"{node.name}.weight", w["weight"])]  # (C_in, C_out/groups, *kernel) in both
    if "bias" in w:
        inputs.append(b.constant(f"{node.name}.bias", w["bias"]))
    b.add("ConvTranspose", inputs, node.name, kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
          dilations=list(a["dilation"]), group=a["groups"], pads=[*a["padding"], *a["padding"]],
          output_padding=list(a["output_padding"]))


def _upsample(b, node, x, shapes, out):
    from cnncost.ops.resample import copies

    a, n = node.attrs, node.name
    geometry = OPS["upsample"].geometry(a, shapes[0][1:])
    mode = {"nearest": "nearest", "bicubic": "cubic"}.get(a["mode"], "linear")
    if a["align_corners"]:
        transform = "align_corners"
    else:
        transform = "asymmetric" if mode == "nearest" else "pytorch_half_pixel"
    axes = len(geometry)
    attrs = dict(mode=mode, coordinate_transformation_mode=transform, nearest_mode="floor", cubic_coeff_a=-0.75,
                 axes=list(range(2, 2 + axes)))  # the spatial axes only: the batch stays symbolic
    if a["size"] is not None:
        b.add("Resize", [x[0], "", "", b.ints(f"{n}/sizes", [o for _, o, _ in geometry])], n, **attrs)
        return
    scales = [1.0 if copies(a["mode"], i, o, s, axes) else s for i, o, s in geometry]
    b.add("Resize", [x[0], "", b.floats(f"{n}/scales", scales)], n, **attrs)


def _pad(b, node, x, shapes, out):
    a, n = node.attrs, node.name
    pads = OPS["pad"].pads(a, shapes[0][1:])
    if a["mode"] == "circular":  # each axis: its last `before` entries, the axis, its first `after` entries
        current, last = x[0], len(shapes[0]) - 1
        for axis, (size, (before, after)) in enumerate(zip(shapes[0][2:], pads), start=2):
            parts = [_slice(b, current, f"{n}/{axis}/before", axis, size - before, size)] if before else []
            parts += [current] + ([_slice(b, current, f"{n}/{axis}/after", axis, 0, after)] if after else [])
            current = b.add("Concat", parts, n if axis == last else f"{n}/{axis}", axis=axis)
        return
    onnx_pads = [0, 0, *(p for p, _ in pads), 0, 0, *(q for _, q in pads)]
    mode = {"replicate": "edge"}.get(a["mode"], a["mode"])
    inputs = [x[0], b.ints(f"{n}/pads", onnx_pads)]
    if mode == "constant":
        inputs.append(b.floats(f"{n}/value", a["value"]))
    b.add("Pad", inputs, n, mode=mode)


def _slice(b, x, name, axis, start, end):
    return b.add("Slice", [x, b.ints(f"{name}/start", [start]), b.ints(f"{name}/end", [end]),
                           b.ints(f"{name}/axis", [axis])], name)


def _crop(b, node, x, shapes, out):
    box = OPS["crop"].box(node.attrs, [shape[1:] for shape in shapes])
    n, axes = node.name, range(2, 2 + len(box))
    b.add("Slice", [x[0], b.ints(f"{n}/start", [o for o, _ in box]), b.ints(f"{n}/end", [o + t for o, t in box]),
                    b.ints(f"{n}/axes", list(axes))], n)


def _pixel_shuffle(b, node, x, shapes, out):
    b.add("DepthToSpace", x[:1], node.name, blocksize=node.attrs["factor"], mode="CRD")  # PyTorch's channel order


def _pixel_unshuffle(b, node, x, shapes, out):
    (_, c, h, w), r, n = shapes[0], node.attrs["factor"], node.name
    split = b.add("Reshape", [x[0], b.ints(f"{n}/split_shape", [0, c, h // r, r, w // r, r])], f"{n}/split")
    moved = b.add("Transpose", [split], f"{n}/moved", perm=[0, 1, 3, 5, 2, 4])
    b.add("Reshape", [moved, b.ints(f"{n}/shape", [0, c * r * r, h // r, w // r])], n)


EXPORTERS = {
    **{f"conv_transpose{d}d": _conv_transpose for d in (1, 2, 3)},
    "upsample": _upsample,
    "pad": _pad,
    "crop": _crop,
    "pixel_shuffle": _pixel_shuffle,
    "pixel_unshuffle": _pixel_unshuffle,
}
