"""Ops that only rearrange elements: no parameters, no arithmetic."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import Key, Op, OpError, Saved
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


register(
    Flatten(),
    Passthrough("identity", "pass the input through unchanged"),
    Dropout("dropout", "identity at inference; zeroes a fraction p in training", (Key("p", "fraction", 0.5, "drop probability, 0 to 1"),)),
    ChannelShuffle(),
    Chunk(),
    Split(),
)
