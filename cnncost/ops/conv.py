"""Convolution 1d/2d/3d: MACs = C_out · prod(out spatial) · (C_in / groups) · prod(kernel); and its transpose."""
from __future__ import annotations

from fractions import Fraction
from math import prod

from cnncost.ops import register
from cnncost.ops.base import SAVES_INPUT, Key, Op, OpError
from cnncost.ops.window import Window, dropped_warnings, effective_kernel, output_size, pads, sliding


class Conv(Op):
    kind = "conv"
    elementwise = False
    counts_as_layer = True
    absorbs_batchnorm = True
    flops_doc = "2·MACs, plus 1 per output element for the bias add"
    # depthwise, grouped: one small product per group, far below a dense product's rate; pointwise (1×1, stride 1,
    # unpadded): the input already is the product's right-hand matrix, so no window copy and little fixed cost
    variants = ("depthwise", "grouped", "pointwise")

    def __init__(self, spatial: int):
        self.spatial = spatial
        self.name = f"conv{spatial}d"
        self.doc = f"{spatial}-D convolution (PyTorch Conv{spatial}d)"
        self.keys = (
            Key("out", "int", doc="output channels (filters)"),
            Key("kernel", "ints", doc="kernel size: int or one per spatial axis"),
            Key("stride", "ints", 1, "step between windows"),
            Key("padding", "padding", 0, "zeros added on each side: int, per-axis list, 'same' or 'valid'"),
            Key("dilation", "ints", 1, "spacing between kernel taps"),
            Key("groups", "int", 1, "channel groups; groups = C_in makes it depthwise"),
            Key("bias", "bool", True, "add a learned bias per output channel"),
        )

    def geometry(self, attrs, in_shape):
        sizes = in_shape[1:]
        kernels = [effective_kernel(k, d) for k, d in zip(attrs["kernel"], attrs["dilation"])]
        return sizes, kernels, pads(attrs["padding"], sizes, kernels, attrs["stride"])

    def output_shape(self, attrs, in_shapes):
        (in_shape,) = in_shapes
        channels, groups = in_shape[0], attrs["groups"]
        if channels % groups or attrs["out"] % groups:
            raise OpError(f"groups={groups} must divide both input channels {channels} and out={attrs['out']}", "groups")
        return (attrs["out"], *self.output_sizes(attrs, in_shape))

    def output_sizes(self, attrs, in_shape) -> tuple:
        sizes, kernels, pad_list = self.geometry(attrs, in_shape)
        return tuple(output_size(n, k, s, p) for n, k, s, p in zip(sizes, kernels, attrs["stride"], pad_list))

    def params(self, attrs, in_shapes):
        weights = attrs["out"] * (in_shapes[0][0] // attrs["groups"]) * prod(attrs["kernel"])
        return weights + (attrs["out"] if attrs["bias"] else 0)

    def macs(self, attrs, in_shapes, out_shape):
        return prod(out_shape) * (in_shapes[0][0] // attrs["groups"]) * prod(attrs["kernel"])

    def flops(self, attrs, in_shapes, out_shape):
        return 2 * self.macs(attrs, in_shapes, out_shape) + (prod(out_shape) if attrs["bias"] else 0)

    def saved(self, attrs, in_shapes, out_shape):
        return SAVES_INPUT  # for the weight gradient (the weight itself is a parameter)

    def window(self, attrs, in_shapes):
        _, kernels, pad_list = self.geometry(attrs, in_shapes[0])
        return [sliding(k, s, before) for k, s, (before, _) in zip(kernels, attrs["stride"], pad_list)]

    def warnings(self, attrs, in_shapes):
        if attrs["padding"] == "same":
            return []
        sizes, kernels, pad_list = self.geometry(attrs, in_shapes[0])
        return dropped_warnings(sizes, kernels, attrs["stride"], pad_list, silence="to read them, pad so that the last window reaches the end, or use `padding: same`")

    def filters(self, attrs):
        return attrs["out"]

    def variant(self, attrs, in_shapes):
        groups = attrs["groups"]
        if groups > 1:
            return "depthwise" if groups == in_shapes[0][0] else "grouped"
        unpadded = attrs["padding"] in ("same", "valid") or not any(attrs["padding"])  # 'same' pads a 1×1 by 0
        return "pointwise" if all(k == 1 for k in attrs["kernel"]) and all(s == 1 for s in attrs["stride"]) and unpadded else None

    def product_shape(self, attrs, in_shapes, out_shape):
        """im2col: (out/groups filters) × (C_in/groups · taps) @ (C_in/groups · taps) × (output positions)."""
        return attrs["out"] // attrs["groups"], in_shapes[0][0] // attrs["groups"] * prod(attrs["kernel"]), prod(out_shape[1:])

    def kind_of(self, attrs, in_shapes):
        if self.variant(attrs, in_shapes) == "depthwise":
            return "depthwise conv"
        if all(k == 1 for k in attrs["kernel"]):
            return "1×1 conv" if self.spatial == 2 else "pointwise conv"
        kernel = "×".join(map(str, attrs["kernel"]))
        return f"{kernel} conv" + (" (grouped)" if attrs["groups"] > 1 else "")


class ConvTranspose(Conv):
    """The transpose (gradient) of a convolution: each input pixel scatters a kernel-sized patch into the output.

    Only what differs from Conv is overridden (as tinygrad's ConvTranspose2d(Conv2d)): the output size, the
    MACs (every input pixel meets every tap once), the window, and the weight layout (C_in, C_out/groups, *k).
    The params come out the same as Conv's formula: C_in·(C_out/groups) = C_out·(C_in/groups).
    """

    flops_doc = "2·MACs, plus 1 per output element for the bias add (MACs = C_in·in pixels·(C_out/groups)·kernel)"

    def __init__(self, spatial: int):
        super().__init__(spatial)
        self.name = f"conv_transpose{spatial}d"
        self.doc = (f"{spatial}-D transposed convolution (PyTorch ConvTranspose{spatial}d): "
                    "out = (in−1)·stride − 2·padding + dilation·(kernel−1) + output_padding + 1")
        out, kernel, stride, _, dilation, groups, bias = self.keys
        self.keys = (
            out, kernel, stride,
            Key("padding", "counts", 0, "dilation·(kernel−1) − padding zeros added on each side of the input"),
            Key("output_padding", "counts", 0, "extra rows/cols added at the end of each axis; less than max(stride, dilation)"),
            dilation, groups, bias,
        )

    def finish_attrs(self, attrs):
        for p, s, d in zip(attrs["output_padding"], attrs["stride"], attrs["dilation"]):
            if p >= max(s, d):
                raise OpError(
                    f"output_padding must be smaller than stride or dilation (as in PyTorch); received "
                    f"output_padding={list(attrs['output_padding'])}, stride={list(attrs['stride'])}, "
                    f"dilation={list(attrs['dilation'])}",
                    "output_padding",
                )
        return attrs

    def output_sizes(self, attrs, in_shape):
        sizes = []
        for n, k, s, p, q, d in zip(in_shape[1:], attrs["kernel"], attrs["stride"], attrs["padding"],
                                    attrs["output_padding"], attrs["dilation"]):
            size = (n - 1) * s - 2 * p + d * (k - 1) + q + 1
            if size < 1:
                raise OpError(f"padding {p} leaves no output: (in−1)·stride − 2·padding + dilation·(kernel−1) "
                              f"+ output_padding + 1 = ({n}−1)·{s} − 2·{p} + {d}·({k}−1) + {q} + 1 = {size}", "padding")
            sizes.append(size)
        return tuple(sizes)

    def macs(self, attrs, in_shapes, out_shape):
        return prod(in_shapes[0]) * (attrs["out"] // attrs["groups"]) * prod(attrs["kernel"])

    def product_shape(self, attrs, in_shapes, out_shape):
        """col2im: (out/groups · taps) × (C_in/groups) @ (C_in/groups) × (input positions), then the patches are summed."""
        return attrs["out"] // attrs["groups"] * prod(attrs["kernel"]), in_shapes[0][0] // attrs["groups"], prod(in_shapes[0][1:])

    def window(self, attrs, in_shapes):
        """Output o receives input i iff o = i·s − p + t·d for a tap t in 0…k−1."""
        return [
            Window(Fraction(1, s), Fraction(p - (k - 1) * d, s), Fraction(p, s))
            for k, s, p, d in zip(attrs["kernel"], attrs["stride"], attrs["padding"], attrs["dilation"])
        ]

    def warnings(self, attrs, in_shapes):
        gaps = [f"{s} > {effective_kernel(k, d)}" for k, s, d in zip(attrs["kernel"], attrs["stride"], attrs["dilation"])
                if s > effective_kernel(k, d)]
        if not gaps:
            return []
        return [f"the stride is larger than the kernel's span ({', '.join(gaps)}): some outputs receive no input, only the bias"]

    def kind_of(self, attrs, in_shapes):
        return "×".join(map(str, attrs["kernel"])) + " transposed conv"


register(Conv(1), Conv(2), Conv(3))
register(*(ConvTranspose(n) for n in (1, 2, 3)))
