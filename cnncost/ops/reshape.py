"""Ops that only rearrange elements: no parameters, no arithmetic."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import Key, Op, OpError, Saved, fmt_shape, per_sample_axes
from cnncost.ops.window import whole


class Flatten(Op):
    name = "flatten"
    family = "reshape"
    doc = "flatten every per-sample axis into one (PyTorch flatten(x, 1))"
    elementwise = False
    view = True

    def output_shape(self, attrs, in_shapes):
        return (prod(in_shapes[0]),)

    def window(self, attrs, in_shapes):
        return [whole(n) for n in in_shapes[0][1:]] or None


class Passthrough(Op):
    family = "other"

    view = True

    def __init__(self, name: str, doc: str, keys: tuple = ()):
        self.name, self.doc, self.keys = name, doc, keys


class Dropout(Passthrough):
    view = False
    moves_data = False  # at inference it returns its input (PyTorch's eval mode); training draws a mask

    def saved(self, attrs, in_shapes, out_shape):
        """Training mode on the CPU: input × a float32 mask of kept elements scaled by 1/(1 − p), and a product
        saves both factors. (CUDA's fused kernel saves only a 1-byte mask.)"""
        return (Saved(input=0), Saved(elements=prod(in_shapes[0])))


class ChannelShuffle(Op):
    name = "channel_shuffle"
    family = "reshape"
    doc = "interleave channel groups (ShuffleNet): C → (groups, C/groups) → transpose → C"
    keys = (Key("groups", "int", doc="number of groups"),)

    def output_shape(self, attrs, in_shapes):
        if in_shapes[0][0] % attrs["groups"]:
            raise OpError(f"groups={attrs['groups']} must divide the {in_shapes[0][0]} channels", "groups")
        return in_shapes[0]


class Chunk(Op):
    name = "chunk"
    family = "reshape"
    doc = "take one of `chunks` equal channel slices (torch.chunk: slices of ceil(C/chunks))"
    keys = (Key("chunks", "int", doc="number of slices"), Key("index", "count", doc="which slice, from 0"))
    elementwise = False
    view = True

    def output_shape(self, attrs, in_shapes):
        channels = in_shapes[0][0]
        size = -(-channels // attrs["chunks"])
        start = attrs["index"] * size
        if start >= channels:
            raise OpError(f"index {attrs['index']} is past the last chunk of {channels} channels", "index")
        return (min(size, channels - start), *in_shapes[0][1:])


class Split(Op):
    name = "split"
    family = "reshape"
    doc = "take one channel slice of given sizes (torch.split with a list)"
    keys = (Key("sizes", "int_list", doc="slice sizes, summing to C"), Key("index", "count", doc="which slice, from 0"))
    elementwise = False
    view = True

    def output_shape(self, attrs, in_shapes):
        sizes, channels = attrs["sizes"], in_shapes[0][0]
        if sum(sizes) != channels:
            raise OpError(f"sizes {list(sizes)} sum to {sum(sizes)}, not the {channels} input channels", "sizes")
        if attrs["index"] >= len(sizes):
            raise OpError(f"index {attrs['index']} but only {len(sizes)} sizes", "index")
        return (sizes[attrs["index"]], *in_shapes[0][1:])


class Permute(Op):
    """Reorder the per-sample axes (ConvNeXt's channels-last MLP: C×H×W → H×W×C and back).

    Receptive field: None. A permute only moves data, and fields are kept per axis of the network input, not
    per axis of the tensor, so they pass through unchanged; its `axis_order` lets the analysis apply later
    ops' windows (a linear on the last axis, now channels) to the axes they really slide along.
    """

    name = "permute"
    family = "reshape"
    doc = "reorder the per-sample axes (torch.permute without the batch axis; 0 = channels)"
    keys = (Key("axes", "axis_list", doc="a permutation of the per-sample axes, e.g. [1, 2, 0] for channels-last"),)
    elementwise = False

    def output_shape(self, attrs, in_shapes):
        shape = in_shapes[0]
        if len(attrs["axes"]) != len(shape):
            raise OpError(f"axes {list(attrs['axes'])} must list each of the {len(shape)} per-sample axes of "
                          f"{fmt_shape(shape)} once", "axes")
        return tuple(shape[a] for a in self.axis_order(attrs, in_shapes))

    def axis_order(self, attrs, in_shapes):
        return per_sample_axes(attrs["axes"], in_shapes[0], "axes")


class Reshape(Op):
    """View the per-sample elements in another shape (torch.reshape without the batch axis).

    Receptive field: None when the spatial sizes stay as they are (then nothing moves); otherwise elements
    change axis, so every output element is taken to read the whole of every spatial axis.
    """

    name = "reshape"
    family = "reshape"
    doc = "view the per-sample elements in another shape; one size may be −1 (inferred)"
    keys = (Key("shape", "shape", doc="per-sample sizes, e.g. [64, -1]; the element count must not change"),)
    elementwise = False

    def output_shape(self, attrs, in_shapes):
        shape, given = in_shapes[0], attrs["shape"]
        if given.count(-1) > 1 or any(n == 0 or n < -1 for n in given):
            raise OpError(f"shape {list(given)} must hold sizes of at least 1 and at most one −1", "shape")
        known, total = prod(n for n in given if n != -1), prod(shape)
        if -1 in given and total % known == 0:
            given = tuple(total // known if n == -1 else n for n in given)
        if prod(given) != total:
            raise OpError(f"shape {list(attrs['shape'])} does not hold the {total} elements of {fmt_shape(shape)}", "shape")
        return given

    def window(self, attrs, in_shapes):
        shape = in_shapes[0]
        if self.output_shape(attrs, in_shapes)[1:] == shape[1:]:
            return None
        return [whole(n) for n in shape[1:]] or None


register(
    Flatten(),
    Permute(),
    Reshape(),
    Passthrough("identity", "pass the input through unchanged"),
    Dropout("dropout", "identity at inference; zeroes a fraction p in training", (Key("p", "fraction", 0.5, "drop probability, 0 to 1"),)),
    ChannelShuffle(),
    Chunk(),
    Split(),
)
