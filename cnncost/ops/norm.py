"""Normalization layers. Learned affine scale and shift are parameters; running statistics are buffers."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import Key, Op, OpError, Saved

EPS = Key("eps", "float", 1e-5, "added to the variance")


class BatchNorm(Op):
    name = "batchnorm"
    kind = "normalization"
    doc = "batch normalization over the channel axis (PyTorch BatchNorm1d/2d/3d), inference mode"
    keys = (EPS, Key("affine", "bool", True, "learn a scale and shift per channel (2·C parameters)"))
    flops_per_element = 2
    flops_doc = "2 per element (scale and shift, statistics folded at inference)"

    def params(self, attrs, in_shapes):
        return 2 * in_shapes[0][0] if attrs["affine"] else 0

    def buffers(self, attrs, in_shapes):
        return 2 * in_shapes[0][0]  # running mean and variance

    def saved(self, attrs, in_shapes, out_shape):
        """Training mode: its input and the batch's mean and inverse std per channel (not its output)."""
        return (Saved(input=0), Saved(elements=2 * in_shapes[0][0], per_sample=False))


class StatNorm(Op):
    """Norms that compute statistics per sample: 5 FLOPs per element for them, plus 2 for the affine."""

    kind = "normalization"
    flops_doc = "5 per element (mean, variance, normalize), +2 with affine"

    def flops(self, attrs, in_shapes, out_shape):
        return prod(out_shape) * (7 if attrs["affine"] else 5)

    def params(self, attrs, in_shapes):
        return 2 * in_shapes[0][0] if attrs["affine"] else 0

    def saved(self, attrs, in_shapes, out_shape):
        """Its input and a mean and inverse std per normalized group of each sample."""
        return (Saved(input=0), Saved(elements=2 * self.statistics(attrs, in_shapes[0])))

    def statistics(self, attrs, shape) -> int:
        return shape[0]  # per sample: one per channel


class InstanceNorm(StatNorm):
    name = "instancenorm"
    doc = "instance normalization: per sample and channel over the spatial axes"
    keys = (EPS, Key("affine", "bool", False, "learn a scale and shift per channel"))


class GroupNorm(StatNorm):
    name = "groupnorm"
    doc = "group normalization: per sample over groups of channels"
    keys = (Key("groups", "int", doc="number of channel groups"), EPS, Key("affine", "bool", True, "per-channel scale and shift"))

    def output_shape(self, attrs, in_shapes):
        if in_shapes[0][0] % attrs["groups"]:
            raise OpError(f"groups={attrs['groups']} must divide the {in_shapes[0][0]} channels", "groups")
        return in_shapes[0]

    def statistics(self, attrs, shape):
        return attrs["groups"]


class LayerNorm(StatNorm):
    name = "layernorm"
    doc = "layer normalization over the trailing `dims` per-sample axes"
    keys = (
        Key("dims", "int", None, "how many trailing axes to normalize (default: all per-sample axes)"),
        EPS,
        Key("affine", "bool", True, "learn a scale and shift per normalized element"),
    )

    def normalized_shape(self, attrs, shape):
        dims = attrs["dims"] or len(shape)
        if dims > len(shape):
            raise OpError(f"dims={dims} but the input {shape} has only {len(shape)} axes", "dims")
        return shape[len(shape) - dims:]

    def output_shape(self, attrs, in_shapes):
        self.normalized_shape(attrs, in_shapes[0])
        return in_shapes[0]

    def params(self, attrs, in_shapes):
        return 2 * prod(self.normalized_shape(attrs, in_shapes[0])) if attrs["affine"] else 0

    def statistics(self, attrs, shape):
        return prod(shape) // prod(self.normalized_shape(attrs, shape))


class LocalResponseNorm(Op):
    name = "lrn"
    kind = "normalization"
    doc = "local response normalization across channels (AlexNet; PyTorch LocalResponseNorm)"
    keys = (
        Key("size", "int", doc="number of neighbouring channels"),
        Key("alpha", "float", 1e-4, "scale"),
        Key("beta", "float", 0.75, "exponent"),
        Key("k", "float", 1.0, "additive constant"),
    )
    flops_doc = "2·size + 3 per element (squares and sums over the window, then scale, power, divide)"

    def flops(self, attrs, in_shapes, out_shape):
        return prod(out_shape) * (2 * attrs["size"] + 3)

    def saved(self, attrs, in_shapes, out_shape):
        """PyTorch's local_response_norm is composed of differentiable steps: the input (squared, and divided),
        the squares padded by size − 1 channels (average-pooled), the scaled sum (raised to beta) and its power
        (the divisor)."""
        channels, spatial = in_shapes[0][0], prod(in_shapes[0][1:])
        return (Saved(input=0), Saved(elements=(channels + attrs["size"] - 1) * spatial), Saved(elements=2 * channels * spatial))

    def eager_workspace(self, attrs, in_shapes, out_shape):
        """F.local_response_norm at inference: the squares padded by size − 1 channels while they are pooled, then
        the pooled sum with two links of `.mul(alpha).add(k).pow(beta)` at once: two input-sized arrays."""
        channels, spatial = in_shapes[0][0], prod(in_shapes[0][1:])
        return max(2 * channels * spatial, (channels + attrs["size"] - 1) * spatial)


register(BatchNorm(), InstanceNorm(), GroupNorm(), LayerNorm(), LocalResponseNorm())
