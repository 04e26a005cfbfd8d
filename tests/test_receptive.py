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


def measured_views(spec, position):
    """Per spatial axis, the first and last input index with a nonzero gradient for output `position`."""
    graph = spec.graph
    shapes = {row.name: row.output_shape for row in cnncost.analyze(spec).layers}
    x = torch.ones(1, *graph.input_shape, dtype=torch.float64, requires_grad=True)
    live = {"input": x}
    for node in graph.nodes:
        out_shape = shapes[node.name]
        inputs = [live[name] for name in node.inputs]
        inputs = [t.detach() if _is_gate(t, out_shape) else t for t in inputs]
        live[node.name] = _run(node, inputs, shapes)
    out = live[graph.output]
    out[(0, slice(None), *position)].sum().backward()
    nonzero = (x.grad[0] != 0).any(0)
    views = []
    for axis in range(nonzero.dim()):
        others = tuple(a for a in range(nonzero.dim()) if a != axis)
        hit = nonzero.any(others) if others else nonzero
        where = hit.nonzero().flatten().tolist()
        views.append((where[0], where[-1]))
    return views


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


def agree(measured, predicted, size) -> bool:
    """Every read pixel lies in the predicted view, and each end of the view that lies inside the image is read.
    An end past the image edge cannot be measured (and, with a jump above 1, the last pixel inside may be a hole)."""
    (m_low, m_high), (p_low, p_high) = measured, predicted
    inside = p_low <= m_low and m_high <= p_high
    return inside and (p_low < 0 or m_low == p_low) and (p_high > size - 1 or m_high == p_high)


def check(text):
    spec = load_text(text)
    report = cnncost.analyze(spec)
    last = report.layers[-1]
    position = tuple(n // 2 for n in last.output_shape[1:])
    measured = measured_views(spec, position)
    predicted = predicted_views(last.receptive_field, position)
    assert all(agree(m, p, n) for m, p, n in zip(measured, predicted, spec.graph.input_shape[1:])), (measured, predicted)
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
def networks(draw):
    """A chain of window layers with occasional side branches merged by add or concat, and SE gates."""
    spatial = draw(st.integers(1, 2))
    size = draw(st.integers(8, 20))
    lines, current, sizes = [], "input", {}
    spec_input = "2x" + "x".join([str(size)] * spatial)
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["chain", "chain", "branch", "gate"]))
        name = f"l{index}"
        shape = _shape_of(spec_input, lines, current)
        if shape is None:
            break
        smallest = min(shape[1:])
        if kind == "chain":
            lines.append(f"  - {draw(window_layer(spatial, smallest))[:-1]}, name: {name}, inputs: {current}}}")
        elif kind == "branch":
            # two 'same'-padded stride-1 convs of different kernels keep the size, with offset views
            k1, k2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
            merge = draw(st.sampled_from(["add", "concat"]))
            lines.append(f"  - conv{spatial}d: {{out: 2, kernel: {k1}, padding: same, name: {name}a, inputs: {current}}}")
            lines.append(f"  - conv{spatial}d: {{out: 2, kernel: {k2}, padding: same, name: {name}b, inputs: {current}}}")
            lines.append(f"  - {merge}: {{name: {name}, inputs: [{name}a, {name}b]}}")
        else:
            lines.append(f"  - global_avgpool: {{keepdims: true, name: {name}g, inputs: {current}}}")
            lines.append(f"  - sigmoid: {{name: {name}s}}")
            lines.append(f"  - mul: {{name: {name}, inputs: [{current}, {name}s]}}")
        if _shape_of(spec_input, lines, name) is None:
            lines = lines[: -1 if kind == "chain" else -3]
            break
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
