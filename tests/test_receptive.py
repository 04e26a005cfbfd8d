"""Receptive fields against an independent measurement: where the input gradient of one output element is nonzero.

Each network is rebuilt in torch with every weight 1 and every activation the identity, on an input of ones, so
every value is positive and no gradient cancels: the input pixels with a nonzero gradient are exactly those the
element depends on. Max pooling becomes a sum over the same window (a max sends its gradient to one pixel only,
though it reads them all). A gate broadcast over every spatial axis is detached: the rule under test says it adds
no pixels to the local view; that it saw the whole image is checked on the gate itself.

The predicted view of output element e along an axis is start + e·jump ± (size − 1)/2, clipped to the image.
"""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncost
from cnncost.receptive import AxisField
from cnncost.spec import load_text

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _window_sum(x, kernel, stride, pads, dilation):
    """Sum over each window (depthwise conv with ones); pads as (before, after) per spatial axis."""
    flat = [p for before_after in reversed(pads) for p in before_after]
    x = F.pad(x, flat)
    conv = (F.conv1d, F.conv2d, F.conv3d)[len(kernel) - 1]
    channels = x.shape[1]
    weight = torch.ones(channels, 1, *kernel, dtype=x.dtype)
    return conv(x, weight, None, stride, 0, dilation, channels)


def _same_pads(size, kernel_eff, stride):
    """TensorFlow's 'same', written out: out = ceil(n/s); the odd pixel of padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel_eff - size, 0)
    return total // 2, total - total // 2


def _pool_pads(size, kernel_eff, stride, pad, ceil_mode):
    """Zeros around the input so that floor division gives PyTorch's pooled size (ceil_mode: one more window,
    as long as it starts inside the input or the left padding)."""
    span = size + 2 * pad - kernel_eff
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return pad, max((out - 1) * stride + kernel_eff - size - pad, 0)


def _run(node, inputs, shapes):
    a, x = node.attrs, inputs[0]
    op = node.op
    spatial = x.dim() - 2
    if op.startswith("conv_transpose"):  # every weight 1: each output channel sums every input channel's taps
        transpose = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spatial - 1]
        weight = torch.ones(1, a["out"], *a["kernel"], dtype=x.dtype)
        return transpose(x.sum(1, keepdim=True), weight, None, a["stride"], a["padding"], a["output_padding"], 1,
                         a["dilation"])
    if op == "upsample":
        scale = a["scale"]
        given = {"size": list(a["size"])} if a["size"] is not None else \
            {"scale_factor": [float(f) for f in scale] if isinstance(scale, (list, tuple)) else float(scale)}
        return F.interpolate(x, mode=a["mode"], align_corners=a["align_corners"] if a["mode"] != "nearest" else None, **given)
    if op in ("pixel_shuffle", "pixel_unshuffle"):
        return getattr(F, op)(x, a["factor"])
    if op == "pad":  # the fill value has no gradient, so 0 stands for any
        padding = [a["padding"]] * spatial if isinstance(a["padding"], int) else a["padding"]
        pairs = [(p, p) if isinstance(p, int) else p for p in padding]
        return F.pad(x, [side for pair in reversed(pairs) for side in pair], mode=a["mode"])
    if op == "crop":  # as the U-Net paper: the `like` layer's size, centred with the odd pixel after
        size = a["size"] or shapes[a["like"]][1:]
        offset = a["offset"] or [(n - t) // 2 for n, t in zip(x.shape[2:], size)]
        return x[(..., *(slice(o, o + t) for o, t in zip(offset, size)))]
    if op.startswith("conv"):
        eff = [d * (k - 1) + 1 for k, d in zip(a["kernel"], a["dilation"])]
        if a["padding"] == "same":
            pads = [_same_pads(n, k, s) for n, k, s in zip(x.shape[2:], eff, a["stride"])]
        elif a["padding"] == "valid":
            pads = [(0, 0)] * spatial
        else:
            pads = [(p, p) for p in a["padding"]]
        summed = _window_sum(x.sum(1, keepdim=True), a["kernel"], a["stride"], pads, a["dilation"])
        return summed.expand(-1, a["out"], *summed.shape[2:])
    if "pool" in op and "kernel" in a:
        dilation = a.get("dilation", (1,) * spatial)
        eff = [d * (k - 1) + 1 for k, d in zip(a["kernel"], dilation)]
        pads = [_pool_pads(n, k, s, p, a["ceil_mode"]) for n, k, s, p in zip(x.shape[2:], eff, a["stride"], a["padding"])]
        return _window_sum(x, a["kernel"], a["stride"], pads, dilation)
    if op.startswith("adaptive_"):
        return (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[spatial - 1](x, a["output"])
    if op.startswith("global_"):
        return x.sum(tuple(range(2, x.dim())), keepdim=a["keepdims"])
    if op == "add":
        return sum(inputs)
    if op == "mul":
        out = inputs[0]
        for y in inputs[1:]:
            out = out * y
        return out
    if op == "concat":
        return torch.cat(inputs, a["axis"] + 1 if a["axis"] >= 0 else a["axis"])
    if op == "permute":
        return x.permute(0, *(axis % (x.dim() - 1) + 1 for axis in a["axes"]))
    if op in ("mean", "sum", "amax"):  # all positive: a sum reads what the mean or max reads
        return x.sum(tuple(axis % (x.dim() - 1) + 1 for axis in a["axes"]), keepdim=a["keepdims"])
    if op == "linear":  # every weight 1: each output feature sums the last axis
        return x.sum(-1, keepdim=True).expand(*x.shape[:-1], a["out"])
    return x  # batchnorm, activations, dropout: one output per input position, positive here


def reader(spec):
    """A function from an output position to, per spatial axis, the first and last input index with a nonzero
    gradient (None when that element reads no input pixel: a constant border); with no position, of the whole
    output."""
    graph = spec.graph
    shapes = {row.name: row.output_shape for row in cnncost.analyze(spec).layers}
    x = torch.ones(1, *graph.input_shape, dtype=torch.float64, requires_grad=True)
    live = {"input": x}
    for node in graph.nodes:
        out_shape = shapes[node.name]
        inputs = [live[name] for name in node.inputs]
        if len(inputs) > 1:
            inputs = [t.detach() if _is_gate(t, out_shape) else t for t in inputs]
        live[node.name] = _run(node, inputs, shapes)
    out = live[graph.output]

    def read(position=()):
        (grad,) = torch.autograd.grad(out[(0, slice(None), *position)].sum(), x, retain_graph=True)
        nonzero = (grad[0] != 0).any(0)
        if not nonzero.any():
            return None
        views = []
        for axis in range(nonzero.dim()):
            others = tuple(a for a in range(nonzero.dim()) if a != axis)
            hit = nonzero.any(others) if others else nonzero
            where = hit.nonzero().flatten().tolist()
            views.append((where[0], where[-1]))
        return views

    return read


def _is_gate(tensor, out_shape):
    spatial = tensor.shape[2:]
    return len(spatial) > 0 and all(n == 1 for n in spatial) and any(n > 1 for n in out_shape[1:])


def predicted_views(field_axes, position):
    """Per axis, the first and last pixel of the predicted view (they may lie outside the image)."""
    views = []
    for axis, e in zip(field_axes, position):
        centre = axis.start + e * axis.jump
        views.append((centre - (axis.size - 1) / Fraction(2), centre + (axis.size - 1) / Fraction(2)))
    return views


def uniform(node) -> bool:
    """Whether every element of the layer reads the same pattern of inputs, so that its window fits each element
    exactly. Upsampling, strided transposed convs, pixel shuffle and mirroring or wrapping pads read patterns that
    change along the axis: their windows are the envelope (tested op by op in tests/test_ops_decoder.py), and after
    a later stride skips the phases that reach the envelope's ends, the view can be wider than any one element's."""
    if node.op in ("upsample", "pixel_shuffle"):
        return False
    if node.op.startswith("conv_transpose"):
        return all(s == 1 for s in node.attrs["stride"])
    return node.op != "pad" or node.attrs["mode"] == "constant"


def check(text):
    """Along each axis, every element of the last layer (the others at the centre): each pixel it reads lies in its
    predicted view. Where every layer is uniform, the view is also exact: at each end some element reads the pixel
    at that end. An end past the pixels the layer reads at all cannot be measured: the image edge, or a crop's
    (a window reaching into the padding of a cropped map counts pixels of the image the crop cut away)."""
    spec = load_text(text)
    last = cnncost.analyze(spec).layers[-1]
    read = reader(spec)
    out, frame = last.output_shape[1:], read()
    if frame is None:  # nothing reaches the output (a transposed conv whose taps skip what a stride then keeps)
        return last
    exact = all(uniform(node) for node in spec.graph.nodes)
    centre = tuple(n // 2 for n in out)
    for axis, (field, (first, final)) in enumerate(zip(last.receptive_field, frame)):
        low_gaps, high_gaps = [], []
        for e in range(out[axis]):
            position = (*centre[:axis], e, *centre[axis + 1:])
            views = read(position)
            if views is None:
                continue
            (m_low, m_high), (p_low, p_high) = views[axis], predicted_views(last.receptive_field, position)[axis]
            assert p_low <= m_low and m_high <= p_high, (axis, position, (m_low, m_high), (p_low, p_high))
            if p_low >= first:
                low_gaps.append(m_low - p_low)
            if p_high <= final:
                high_gaps.append(p_high - m_high)
        if exact:
            assert min(low_gaps, default=0) == 0 and min(high_gaps, default=0) == 0, (axis, field, low_gaps, high_gaps)
    return last


OFFSET = """
name: offset
input: 1x16
layers:
  - conv1d: {name: a, out: 1, kernel: 3, padding: 1, inputs: input}
  - conv1d: {name: b1, out: 1, kernel: 2, padding: same, inputs: input}
  - conv1d: {name: b2, out: 1, kernel: 2, padding: same}
  - add: {inputs: [a, b2]}
"""


def test_offset_branches_take_the_union_of_their_views():
    # a sees pixels e−1…e+1; b1 sees e…e+1 ('same' puts the odd pad after), b2 sees e…e+2; the union e−1…e+2 is 4
    # wide, where taking the larger branch would say 3
    last = check(OFFSET)
    assert last.receptive_field == (AxisField(4, 1, Fraction(1, 2)),)


SQUEEZE_EXCITE = """
name: se
input: 4x16x16
layers:
  - conv2d: {name: body, out: 8, kernel: 3, padding: 1}
  - global_avgpool: {keepdims: true}
  - conv2d: {out: 2, kernel: 1}
  - relu
  - conv2d: {out: 8, kernel: 1}
  - sigmoid: {name: gate}
  - mul: {name: scaled, inputs: [body, gate]}
  - conv2d: {out: 8, kernel: 3, stride: 2, padding: 1}
"""


def test_a_squeeze_excite_gate_marks_global_context_without_inflating_the_field():
    last = check(SQUEEZE_EXCITE)
    rows = {row.name: row for row in cnncost.analyze(load_text(SQUEEZE_EXCITE)).layers}
    # the gate pools the body's 3-pixel views over all 16 positions: 3 + 15 = 18 pixels (padding included), centred
    # at 7.5, so it sees the whole image; the product keeps the body's 3×3 view, jump 1
    assert rows["gate"].receptive_field == (AxisField(18, 16, Fraction(15, 2)),) * 2
    assert rows["scaled"].receptive_field == (AxisField(3, 1, 0),) * 2
    assert rows["scaled"].global_context and last.global_context and not rows["body"].global_context
    # the strided conv after it: 3 + 2·1 = 5 wide, jump 2
    assert last.receptive_field == (AxisField(5, 2, 0),) * 2


@st.composite
def window_layer(draw, spatial: int, size: int):
    """One conv or pooling layer whose windows fit an axis of `size` pixels, in spec syntax."""
    op = draw(st.sampled_from(["conv", "maxpool", "avgpool"]))
    kernel = draw(st.integers(1, min(size, 4)))
    stride = draw(st.integers(1, 3))
    if op == "conv":
        dilation = draw(st.integers(1, 2)) if (kernel - 1) * 2 + 1 <= size else 1
        padding = draw(st.sampled_from([0, 1, "same"])) if kernel > 1 else 0
        return f"conv{spatial}d: {{out: 2, kernel: {kernel}, stride: {stride}, padding: {padding}, dilation: {dilation}}}"
    padding = draw(st.integers(0, kernel // 2))
    ceil = draw(st.booleans())
    return f"{op}{spatial}d: {{kernel: {kernel}, stride: {stride}, padding: {padding}, ceil_mode: {str(ceil).lower()}}}"


@st.composite
def decoder_layers(draw, spatial: int, shape: tuple, name: str, source: str) -> list:
    """An upsample (nearest or (bi)linear, integer scales), a transposed conv, or a pixel (un)shuffle, in spec lines."""
    ops = ["upsample", "conv_transpose"] + (["pixel_shuffle", "pixel_unshuffle"] if spatial == 2 else [])
    op = draw(st.sampled_from(ops))
    if op == "upsample":
        mode = draw(st.sampled_from(["nearest", "linear" if spatial == 1 else "bilinear"]))
        corners = f", align_corners: {str(draw(st.booleans())).lower()}" if mode != "nearest" else ""
        scale = [draw(st.integers(1, 3)) for _ in range(spatial)]
        return [f"  - upsample: {{name: {name}, inputs: {source}, scale: {scale}, mode: {mode}{corners}}}"]
    if op == "conv_transpose":
        kernel, stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        padding = draw(st.integers(0, dilation * (kernel - 1) // 2))
        extra = draw(st.integers(0, max(stride, dilation) - 1))  # PyTorch: output_padding < max(stride, dilation)
        return [f"  - conv_transpose{spatial}d: {{name: {name}, inputs: {source}, out: 2, kernel: {kernel}, stride: {stride}, "
                f"padding: {padding}, output_padding: {extra}, dilation: {dilation}}}"]
    if op == "pixel_unshuffle":
        factors = [r for r in (2, 3) if all(n % r == 0 for n in shape[1:])]
        if factors:
            return [f"  - pixel_unshuffle: {{name: {name}, inputs: {source}, factor: {draw(st.sampled_from(factors))}}}"]
    r = draw(st.integers(2, 3))  # a 1×1 conv first makes the r² channels per output channel a shuffle needs
    return [f"  - conv2d: {{name: {name}c, inputs: {source}, out: {2 * r * r}, kernel: 1}}",
            f"  - pixel_shuffle: {{name: {name}, factor: {r}}}"]


@st.composite
def border_layer(draw, shape: tuple, name: str, source: str, earlier: dict) -> str:
    """A pad in any mode (within PyTorch's limits), or a crop by size and offset or like an earlier, smaller layer."""
    sizes = shape[1:]
    if draw(st.booleans()):
        mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 3)
        pads = [[draw(st.integers(0, min(3, limit(n)))) for _ in range(2)] for n in sizes]
        return f"  - pad: {{name: {name}, inputs: {source}, padding: {pads}, mode: {mode}}}"
    smaller = [other for other, s in earlier.items() if len(s) == len(shape) and all(a <= b for a, b in zip(s[1:], sizes))]
    if smaller and draw(st.booleans()):
        return f"  - crop: {{name: {name}, inputs: {source}, like: {draw(st.sampled_from(smaller))}}}"
    size = [draw(st.integers(1, n)) for n in sizes]
    offset = [draw(st.integers(0, n - t)) for n, t in zip(sizes, size)]
    return f"  - crop: {{name: {name}, inputs: {source}, size: {size}, offset: {offset}}}"


@st.composite
def networks(draw):
    """A chain of window layers with occasional side branches merged by add or concat, SE gates, and the decoder
    ops: upsampling, transposed convs, pixel (un)shuffle, pad and crop."""
    spatial = draw(st.integers(1, 2))
    size = draw(st.integers(8, 20))
    lines, current, sizes = [], "input", {}
    spec_input = "2x" + "x".join([str(size)] * spatial)
    main = {}  # the chain's layers so far, by name: what a crop may take its size `like`
    for index in range(draw(st.integers(1, 5))):
        choice = draw(st.sampled_from(["chain", "chain", "branch", "gate", "decoder", "border"]))
        name = f"l{index}"
        shape = _shape_of(spec_input, lines, current)
        if shape is None:
            break
        smallest = min(shape[1:])
        before = len(lines)
        if choice == "decoder" and max(shape[1:]) > 24:  # keep the maps small: one gradient per output element
            choice = "chain"
        if choice == "chain":
            lines.append(f"  - {draw(window_layer(spatial, smallest))[:-1]}, name: {name}, inputs: {current}}}")
        elif choice == "branch":
            # two 'same'-padded stride-1 convs of different kernels keep the size, with offset views
            k1, k2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
            merge = draw(st.sampled_from(["add", "concat"]))
            lines.append(f"  - conv{spatial}d: {{out: 2, kernel: {k1}, padding: same, name: {name}a, inputs: {current}}}")
            lines.append(f"  - conv{spatial}d: {{out: 2, kernel: {k2}, padding: same, name: {name}b, inputs: {current}}}")
            lines.append(f"  - {merge}: {{name: {name}, inputs: [{name}a, {name}b]}}")
        elif choice == "gate":
            lines.append(f"  - global_avgpool: {{keepdims: true, name: {name}g, inputs: {current}}}")
            lines.append(f"  - sigmoid: {{name: {name}s}}")
            lines.append(f"  - mul: {{name: {name}, inputs: [{current}, {name}s]}}")
        elif choice == "decoder":
            lines += draw(decoder_layers(spatial, shape, name, current))
        else:
            lines.append(draw(border_layer(shape, name, current, main)))
        if _shape_of(spec_input, lines, name) is None:
            lines = lines[:before]
            break
        main[name] = _shape_of(spec_input, lines, name)
        current = name
    if not lines:
        lines.append(f"  - conv{spatial}d: {{out: 2, kernel: 1, name: l0}}")
    return f"name: random\ninput: {spec_input}\nlayers:\n" + "\n".join(lines) + "\n"


def _shape_of(spec_input, lines, name):
    """The shape of `name` in a partial network, or None where the layers no longer fit."""
    if name == "input" or not lines:
        return tuple(int(n) for n in spec_input.split("x"))
    try:
        spec = load_text(f"name: partial\ninput: {spec_input}\nlayers:\n" + "\n".join(lines) + f"\noutput: {name}\n")
        rows = {row.name: row for row in cnncost.analyze(spec).layers}
    except cnncost.CnnCostError:
        return None
    return rows[name].output_shape


DECODER_EXAMPLES = [  # each decoder op at least once per run, whatever the generator draws
    "input: 2x9\nlayers:\n  - conv_transpose1d: {out: 2, kernel: 3, stride: 2, padding: 1, output_padding: 1, dilation: 2}\n"
    "  - conv1d: {out: 2, kernel: 3}\n",
    "input: 2x7x6\nlayers:\n  - upsample: {scale: [2, 3], mode: bilinear}\n  - conv2d: {out: 2, kernel: 2, stride: 2}\n",
    "input: 2x7\nlayers:\n  - upsample: {scale: [3], mode: linear, align_corners: true}\n  - avgpool1d: {kernel: 3}\n",
    "input: 2x6x5\nlayers:\n  - upsample: {scale: 2}\n  - conv2d: {out: 2, kernel: 3, padding: 1}\n",
    "input: 2x4x6\nlayers:\n  - conv2d: {out: 8, kernel: 1}\n  - pixel_shuffle: {factor: 2}\n  - conv2d: {out: 2, kernel: 3}\n",
    "input: 2x6x6\nlayers:\n  - pixel_unshuffle: {factor: 3}\n  - conv2d: {out: 2, kernel: 2}\n",
    "input: 2x9\nlayers:\n  - pad: {padding: [[2, 3]], mode: reflect}\n  - conv1d: {out: 2, kernel: 2}\n",
    "input: 2x9\nlayers:\n  - pad: {padding: [[1, 3]], mode: replicate}\n  - conv1d: {out: 2, kernel: 2, stride: 2}\n",
    "input: 2x5x4\nlayers:\n  - pad: {padding: [[2, 1], [0, 3]], mode: circular}\n",
    "input: 2x9\nlayers:\n  - pad: {padding: 2}\n  - conv1d: {out: 2, kernel: 3, stride: 2}\n",
    "input: 2x12\nlayers:\n  - conv1d: {name: a, out: 2, kernel: 3}\n  - conv1d: {name: b, out: 2, kernel: 5, stride: 2}\n"
    "  - crop: {inputs: a, like: b}\n  - conv1d: {out: 2, kernel: 3}\n",
    "input: 2x11x10\nlayers:\n  - crop: {size: [5, 4], offset: [4, 1]}\n  - conv2d: {out: 2, kernel: 3, padding: 1}\n",
]


@pytest.mark.parametrize("layers", DECODER_EXAMPLES)
def test_decoder_fields_match_the_gradient_extent_in_torch(layers):
    check("name: decoder\n" + layers)


@settings(max_examples=60, deadline=None)
@given(networks())
def test_every_field_matches_the_gradient_extent_in_torch(text):
    check(text)





CHANNELS_LAST = """
name: channels_last
input: 4x12x11
layers:
  - conv2d: {name: dw, out: 4, kernel: 7, padding: 3, groups: 4}
  - permute: {axes: [1, 2, 0]}
  - layernorm: {dims: 1}
  - linear: {out: 16}
  - linear: {out: 4}
  - sum: {axes: [1], keepdims: true}
  - permute: {axes: [2, 0, 1]}
"""


def test_a_channels_last_mlp_mixes_channels_not_pixels():
    """ConvNeXt's block: the linears after the permute run along channels, so the 7-pixel view stays 7 (a linear's
    whole-last-axis window applied to the width would add 15); a sum over tensor axis 1 (the width, once channels
    are last) reads the whole width: 7 + 10 = 17, centred on column 5."""
    last = check(CHANNELS_LAST)
    assert last.receptive_field == (AxisField(7, 1, 0), AxisField(17, 11, 5))
