"""What every op declares: its keys, and its shape, parameter, cost and receptive-field rules.

Shapes are per sample (no batch dimension): (C,), (C, L), (C, H, W) or (C, D, H, W).
Every rule is a pure function of the input shapes and the normalized attributes, in Python ints.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from math import prod
from typing import Any

REQUIRED = object()
AXIS_NAMES = {1: ("cols",), 2: ("rows", "cols"), 3: ("depth slices", "rows", "cols")}


class OpError(ValueError):
    """A rule cannot be applied (shapes do not fit); the caller adds the layer and location."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Key:
    """One hyperparameter: its type, default and a line for the docs."""

    name: str
    type: str  # int | count | ints | counts | sizes | padding | pairs | scale | layer | bool | float | fraction | choice | int_list | axis | axis_list | shape
    default: Any = REQUIRED
    doc: str = ""
    choices: tuple = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Saved:
    """One tensor an op's backward pass keeps (what autograd saves): one of its inputs, its output, or a tensor
    of its own of `elements` per sample (per batch when per_sample is False), each `element_bytes` large
    (None: the report's dtype)."""

    input: int | None = None
    output: bool = False
    elements: int = 0
    element_bytes: int | None = None
    per_sample: bool = True


SAVES_INPUT, SAVES_OUTPUT = (Saved(input=0),), (Saved(output=True),)


class Op:
    """Base op: elementwise, shape-preserving, no parameters, no MACs; subclasses override."""

    name = ""
    kind = "other"  # the kind of layer for `--group-by op`, unless kind_of says more
    doc = ""
    keys: tuple[Key, ...] = ()
    spatial: int | None = None  # number of spatial axes the op requires, None = any
    arity: tuple[int, int | None] = (1, 1)
    flops_per_element = 0  # elementwise FLOPs per output element (the documented convention)
    flops_doc = "0"
    elementwise = True  # shape-preserving; the lecture view folds these rows into the layer before
    counts_as_layer = False  # a weighted layer that papers count in a network's depth (VGG-16's 16)
    absorbs_batchnorm = False  # a batchnorm reading only this layer folds into its weights at inference
    in_place = False  # overwrites its first input when nothing else reads it (torchvision's ReLU(inplace=True))
    view = False  # its output is a view of its first input's storage (flatten, a channel slice)
    view_at_inference = False  # a view at inference only (dropout in eval mode returns its input)
    layer_keys: tuple[str, ...] = ()  # keys whose value names a layer: it becomes one more input, after `inputs`
    variants: tuple[str, ...] = ()  # kinds of this op that run differently, for a device profile's efficiency

    @property
    def moves_data(self) -> bool:
        """Whether inference reads its inputs and writes a new output (cnncost.traffic); a view moves nothing."""
        return not (self.view or self.view_at_inference)

    def normalize(self, raw: dict) -> dict:
        """Check keys and types, fill defaults; raise OpError(key=...) for the offending key."""
        known = {key.name: key for key in self.keys}
        for name in raw:
            if name not in known:
                raise OpError(unknown_key_message(name, known, f"op {self.name!r}"), key=name)
        attrs = {}
        for key in self.keys:
            if key.name in raw:
                attrs[key.name] = coerce(key, raw[key.name], self.spatial)
            elif key.required:
                raise OpError(f"op {self.name!r} needs key {key.name!r} ({key.doc})")
            else:
                attrs[key.name] = coerce(key, key.default, self.spatial) if key.default is not None else None
        return self.finish_attrs(attrs)

    def finish_attrs(self, attrs: dict) -> dict:
        return attrs

    def check_inputs(self, in_shapes: list[tuple]) -> None:
        low, high = self.arity
        if len(in_shapes) < low or (high is not None and len(in_shapes) > high):
            want = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            raise OpError(f"op {self.name!r} takes {want} input(s), got {len(in_shapes)}")
        if self.spatial is not None:
            for shape in in_shapes:
                if len(shape) != self.spatial + 1:
                    raise OpError(
                        f"op {self.name!r} expects a C×{'×'.join('DHW'[3 - self.spatial:])} input "
                        f"({self.spatial + 1} dims per sample), got {fmt_shape(shape)}"
                    )

    def output_shape(self, attrs: dict, in_shapes: list[tuple]) -> tuple:
        return in_shapes[0]

    def value_inputs(self, count: int) -> int:
        """How many of the `count` inputs (the first ones) the op reads values from; the rest lend only a shape."""
        return count

    def params(self, attrs: dict, in_shapes: list[tuple]) -> int:
        return 0

    def buffers(self, attrs: dict, in_shapes: list[tuple]) -> int:
        return 0

    def macs(self, attrs: dict, in_shapes: list[tuple], out_shape: tuple) -> int:
        return 0

    def flops(self, attrs: dict, in_shapes: list[tuple], out_shape: tuple) -> int:
        """FLOPs per sample: 2 per MAC plus the op's documented elementwise cost."""
        return 2 * self.macs(attrs, in_shapes, out_shape) + self.flops_per_element * prod(out_shape)

    def saved(self, attrs: dict, in_shapes: list[tuple], out_shape: tuple) -> tuple[Saved, ...]:
        """What the backward pass needs kept from the forward (PyTorch's autograd); nothing by default."""
        return ()

    def eager_workspace(self, attrs: dict, in_shapes: list[tuple], out_shape: tuple) -> int:
        """Elements per sample of the temporaries PyTorch's eager implementation holds at its peak while the op
        runs, besides its inputs and output (tensors only, not a kernel's internal scratch); none by default."""
        return 0

    def window(self, attrs: dict, in_shapes: list[tuple]):
        """Per spatial axis (effective kernel, stride) for the receptive field, or None if pointwise."""
        return None

    def axis_order(self, attrs: dict, in_shapes: list[tuple]) -> tuple | None:
        """For an op that moves axes (permute): output axis i is input axis order[i]. None: axes stay put."""
        return None

    def warnings(self, attrs: dict, in_shapes: list[tuple]) -> list[str]:
        return []

    def filters(self, attrs: dict) -> int | None:
        """How many filters the layer slides over its input (the lecture's "Filters" column), if any."""
        return None

    def variant(self, attrs: dict, in_shapes: list[tuple]) -> str | None:
        """Which of `variants` this layer is (a device profile may give it its own efficiency); None: plain."""
        return None

    def product_shape(self, attrs: dict, in_shapes: list[tuple], out_shape: tuple) -> tuple[int, int, int] | None:
        """The matrix product the layer lowers to, per group and sample: (rows, depth, columns). A product's rate
        depends on its shape, so a device profile may measure a few (`shape_efficiency`); None: not a product."""
        return None

    def kind_of(self, attrs: dict, in_shapes: list[tuple]) -> str:
        """The kind of layer for `--group-by op` (a depthwise conv is not a 3×3 conv)."""
        return self.kind


def settings_key(op: str, settings: dict) -> tuple | None:
    """A hashable key for an op's settings, for work done once per distinct layer. It holds the values' types,
    since 1, 1.0 and True are equal in Python but not in a spec (`bias: 1` is an error); None when a value cannot
    be hashed (a list)."""
    key = (op, tuple(settings.items()), tuple(map(type, settings.values())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def unknown_key_message(name: str, known, what: str) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(known) or 'none'}"
    return f"unknown key {name!r} for {what}{hint}"


def per_sample_axes(axes, shape: tuple, key: str) -> tuple:
    """Axes counted per sample (0 = channels, negative from the end) as non-negative indices, each once."""
    rank = len(shape)
    bad = [a for a in axes if not -rank <= a < rank]
    if bad:
        raise OpError(f"{key} {list(axes)}: axis {bad[0]} is out of range for the {rank} per-sample axes of {fmt_shape(shape)}", key)
    out = tuple(a % rank for a in axes)
    if len(set(out)) != len(out):
        raise OpError(f"{key} {list(axes)} names an axis twice (per-sample shape {fmt_shape(shape)})", key)
    return out


def fmt_shape(shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "scalar"


def coerce(key: Key, value, spatial: int | None):
    key_type = key.type
    if key_type in ("int", "count", "axis"):
        return _int(key, value, minimum={"int": 1, "count": 0, "axis": None}[key_type])
    if key_type == "ints":
        return _per_axis(key, value, spatial, minimum=0 if key.name == "padding" else 1)
    if key_type in ("counts", "sizes"):
        return _axes(key, value, spatial, lambda item: _int(key, item, 0 if key_type == "counts" else 1))
    if key_type == "pairs":
        return _pairs(key, value, spatial)
    if key_type == "scale":
        return _scale(key, value, spatial)
    if key_type == "layer":
        if not isinstance(value, str) or not value:
            raise OpError(f"{key.name!r} must be a layer name, not {value!r}", key.name)
        return value
    if key_type == "padding":
        if isinstance(value, str):
            if value not in ("same", "valid"):
                raise OpError(f"{key.name!r} must be an integer, a list, 'same' or 'valid', not {value!r}", key.name)
            return value
        return _per_axis(key, value, spatial, minimum=0)
    if key_type == "bool":
        if not isinstance(value, bool):
            raise OpError(f"{key.name!r} must be true or false, not {value!r}", key.name)
        return value
    if key_type in ("float", "fraction"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise OpError(f"{key.name!r} must be a number, not {value!r}", key.name)
        if key_type == "fraction" and not 0 <= value <= 1:
            raise OpError(f"{key.name!r} must be between 0 and 1, not {value!r}", key.name)
        return float(value)
    if key_type == "choice":
        if value not in key.choices:
            raise OpError(f"{key.name!r} must be one of {', '.join(map(str, key.choices))}, not {value!r}", key.name)
        return value
    if key_type == "int_list":
        if not isinstance(value, list) or not value:
            raise OpError(f"{key.name!r} must be a non-empty list of integers, not {value!r}", key.name)
        return tuple(_int(key, item, minimum=1) for item in value)
    if key_type in ("axis_list", "shape"):  # per-sample axes (negative from the end), or sizes with one −1: the op checks range
        if not isinstance(value, list) or not value:
            raise OpError(f"{key.name!r} must be a non-empty list of integers, not {value!r}", key.name)
        return tuple(_int(key, item, minimum=None) for item in value)
    raise AssertionError(key_type)


def _int(key: Key, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        raise OpError(f"{key.name!r} must be an integer, not {value!r}", key.name)
    if minimum is not None and value < minimum:
        raise OpError(f"{key.name!r} must be at least {minimum}, not {value}", key.name)
    return value


def _per_axis(key: Key, value, spatial: int | None, minimum: int) -> tuple:
    """An int means the same on every spatial axis; a list gives one value per axis."""
    count = spatial or 1
    if isinstance(value, list):
        if len(value) != count:
            raise OpError(f"{key.name!r} needs {count} value(s), one per spatial axis, got {len(value)}", key.name)
        return tuple(_int(key, item, minimum) for item in value)
    return (_int(key, value, minimum),) * count


def _axes(key: Key, value, spatial: int | None, item):
    """One value for every spatial axis, or a list of one per axis. An op that takes any rank (spatial None)
    keeps a single value as it is and checks a list's length against its input in `per_axis`."""
    if isinstance(value, list):
        if not value or len(value) > 3 or (spatial and len(value) != spatial):
            want = f"{spatial} value(s)" if spatial else "1 to 3 values"
            raise OpError(f"{key.name!r} needs {want}, one per spatial axis, got {value!r}", key.name)
        return tuple(item(v) for v in value)
    return (item(value),) * spatial if spatial else item(value)


def per_axis(value, axes: int, key: str, pairs: bool = False) -> tuple:
    """A key's value for each of an input's `axes` spatial axes: a single value repeats, a list must fit.
    With pairs, a single value is one (before, after) pair."""
    single = isinstance(value[0], int) if pairs else not isinstance(value, tuple)
    if single:
        return (value,) * axes
    if len(value) != axes:
        raise OpError(f"{key!r} gives {len(value)} values but the input has {axes} spatial axes", key)
    return value


def _pairs(key: Key, value, spatial: int | None):
    """Padding per axis as (before, after): an int for every side, one int per axis, or [before, after] per axis."""

    def pair(item):
        if isinstance(item, list):
            if len(item) != 2:
                raise OpError(f"{key.name!r}: each axis takes [before, after], not {item!r}", key.name)
            return (_int(key, item[0], 0), _int(key, item[1], 0))
        count = _int(key, item, 0)
        return (count, count)

    return _axes(key, value, spatial, pair)


def _scale(key: Key, value, spatial: int | None):
    """A positive factor (int or float) for every spatial axis, or one per axis."""

    def factor(item):
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not 0 < item < float("inf"):
            raise OpError(f"{key.name!r} must be a positive number or a list of them, not {value!r}", key.name)
        return item

    return _axes(key, value, spatial, factor)
