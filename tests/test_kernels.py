"""The numpy kernels against direct, loop-by-loop readings of each op's definition.

References here are written from PyTorch's documentation (torch.nn.Conv2d, MaxPool2d, AvgPool2d,
AdaptiveAvgPool2d, LocalResponseNorm, ...), in float64 and deliberately slow; inputs are tiny.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cnncost.kernels import KERNEL_OPS, MacCounter, counted_matmul, forward, init_weights, workspace_bytes
from cnncost.kernels import conv as conv_module
from cnncost.kernels import linear as linear_module

RTOL, ATOL = 1e-4, 1e-5


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def run(op, attrs, *inputs, params=None, buffers=None):
    """forward() with fresh weights unless given; returns (output, params, buffers, macs)."""
    if params is None:
        params, buffers = init_weights(op, attrs, [x.shape for x in inputs], np.random.default_rng(1))
    counter = MacCounter()
    y = forward(op, attrs, list(inputs), params, buffers, counter)
    assert y.dtype == np.float32
    return y, params, buffers, counter.macs


# ---------------------------------------------------------------------------------------------- conv


def conv_attrs(out, kernel, stride=None, padding=None, dilation=None, groups=1, bias=True):
    nd = len(kernel)
    return dict(out=out, kernel=kernel, stride=stride or (1,) * nd, padding=padding or (0,) * nd,
                dilation=dilation or (1,) * nd, groups=groups, bias=bias)


def naive_conv(x, w, b, stride, pads, dilation, groups):
    """y[n, o, p] = b[o] + sum over the group's channels and kernel taps of x_padded[n, c, p*stride + j*dilation] w[o, c, j]."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    xp = np.pad(x, [(0, 0), (0, 0), *pads])
    out_ch, per_group, *kernel = w.shape
    # an output position exists wherever the whole dilated window fits in the padded input
    out = [len(range(0, size - d * (k - 1), s)) for size, k, s, d in zip(xp.shape[2:], kernel, stride, dilation)]
    y = np.zeros((x.shape[0], out_ch, *out))
    for n, o, *pos in itertools.product(range(x.shape[0]), range(out_ch), *map(range, out)):
        g = o // (out_ch // groups)
        window = tuple(slice(p * s, p * s + d * (k - 1) + 1, d) for p, s, d, k in zip(pos, stride, dilation, kernel))
        y[(n, o, *pos)] = np.sum(xp[(n, slice(g * per_group, (g + 1) * per_group), *window)] * w[o])
        y[(n, o, *pos)] += 0 if b is None else b[o]
    return y


CONV_CASES = {
    # name: (input shape, attrs, explicit (before, after) pads per axis)
    "plain_3x3": ((2, 3, 6, 6), conv_attrs(4, (3, 3)), [(0, 0), (0, 0)]),
    "padded_strided": ((2, 3, 7, 6), conv_attrs(5, (3, 3), (2, 2), (1, 1)), [(1, 1), (1, 1)]),
    "rect_kernel_stride": ((1, 2, 9, 8), conv_attrs(3, (3, 2), (2, 3), (1, 0)), [(1, 1), (0, 0)]),
    "dilated": ((2, 2, 9, 9), conv_attrs(3, (3, 3), dilation=(2, 3), padding=(2, 1)), [(2, 2), (1, 1)]),
    "grouped": ((2, 6, 5, 5), conv_attrs(4, (3, 3), groups=2, padding=(1, 1)), [(1, 1), (1, 1)]),
    "depthwise": ((2, 5, 6, 6), conv_attrs(5, (3, 3), (2, 2), (1, 1), groups=5), [(1, 1), (1, 1)]),
    "depthwise_multiplier": ((1, 3, 5, 5), conv_attrs(6, (3, 3), groups=3, bias=False), [(0, 0), (0, 0)]),
    "pointwise": ((3, 4, 5, 5), conv_attrs(6, (1, 1)), [(0, 0), (0, 0)]),
    "pointwise_stride2": ((2, 4, 5, 5), conv_attrs(6, (1, 1), (2, 2)), [(0, 0), (0, 0)]),
    "no_bias": ((2, 3, 5, 5), conv_attrs(2, (3, 3), bias=False), [(0, 0), (0, 0)]),
    "conv1d": ((2, 3, 11), conv_attrs(4, (3,), (2,), (1,), (2,)), [(1, 1)]),
    "conv3d": ((2, 2, 5, 4, 6), conv_attrs(3, (3, 2, 3), (1, 2, 2), (1, 0, 1)), [(1, 1), (0, 0), (1, 1)]),
    "conv3d_grouped": ((1, 4, 4, 4, 4), conv_attrs(2, (1, 3, 3), groups=2, padding=(0, 1, 1)), [(0, 0), (1, 1), (1, 1)]),
    "valid": ((1, 2, 6, 5), conv_attrs(3, (3, 3), padding="valid"), [(0, 0), (0, 0)]),
    # TensorFlow 'same': out = ceil(in/stride), total pad = (out-1)*stride + k - in, odd pixel after.
    "same_stride1": ((1, 2, 6, 5), conv_attrs(3, (3, 3), padding="same"), [(1, 1), (1, 1)]),
    "same_even_kernel": ((1, 2, 6, 6), conv_attrs(3, (4, 2), padding="same"), [(1, 2), (0, 1)]),
    # in=8, k=3, s=2: out 4, total = 3*2 + 3 - 8 = 1 -> (0, 1); in=7: out 4, total = 2 -> (1, 1)
    "same_stride2": ((1, 2, 8, 7), conv_attrs(3, (3, 3), (2, 2), "same"), [(0, 1), (1, 1)]),
    # in=7, k=3, d=2, s=1: total = 6 + 4 + 1 - 7 = 4 -> (2, 2)
    "same_dilated": ((1, 2, 7, 7), conv_attrs(2, (3, 3), dilation=(2, 2), padding="same"), [(2, 2), (2, 2)]),
}


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_matches_definition(case):
    shape, attrs, pads = CONV_CASES[case]
    op = f"conv{len(attrs['kernel'])}d"
    x = rand(*shape)
    y, params, _, _ = run(op, attrs, x)
    expected = naive_conv(x, params["weight"], params.get("bias"), attrs["stride"], pads, attrs["dilation"], attrs["groups"])
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


CHUNKINGS = {
    # name: ((columns of one sample, bytes of one output row's columns) -> (_MIN_COLUMNS, _CHUNK_BYTES), plan check)
    "several_samples_per_matmul": (lambda cols, row: (2 * cols, 1 << 30), lambda p: p.samples == 2),
    "one_sample_whole": (lambda cols, row: (cols, 1 << 30), lambda p: p.samples == 1 and p.rows == p.out[0]),
    "bands_of_rows": (lambda cols, row: (cols, 2 * row), lambda p: p.samples == 1 and p.rows == 2 < p.out[0]),
    "one_row_when_cap_is_tiny": (lambda cols, row: (cols, 1), lambda p: p.rows == 1),
}
CHUNKED_CASES = ["padded_strided", "grouped", "depthwise", "conv1d", "conv3d"]


@pytest.mark.parametrize("chunking", CHUNKINGS, ids=str)
@pytest.mark.parametrize("case", CHUNKED_CASES + ["pointwise"], ids=str)
def test_conv_chunking_does_not_change_result(monkeypatch, chunking, case):
    """Only the rows of a sample can be split; a pointwise conv never needs to."""
    shape, attrs, pads = CONV_CASES[case]
    if case == "pointwise" and chunking in ("bands_of_rows", "one_row_when_cap_is_tiny"):
        chunking = "one_sample_whole"
    settings, expect = CHUNKINGS[chunking]
    out = conv_module._plan(attrs, shape).out
    row_bytes = 4 * shape[1] * math.prod(attrs["kernel"]) * math.prod(out[1:])
    min_columns, cap = settings(math.prod(out), row_bytes)
    monkeypatch.setattr(conv_module, "_MIN_COLUMNS", min_columns)
    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", cap)
    assert expect(conv_module._plan(attrs, shape))
    x = rand(*shape)
    y, params, _, _ = run(f"conv{len(shape) - 2}d", attrs, x)
    expected = naive_conv(x, params["weight"], params.get("bias"), attrs["stride"], pads, attrs["dilation"], attrs["groups"])
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


def test_pointwise_conv_multiplies_the_input_without_a_copy(monkeypatch):
    monkeypatch.setattr(conv_module, "_MIN_DIRECT_COLUMNS", 25)
    assert conv_module._plan(conv_attrs(8, (1, 1)), (2, 4, 5, 5)).direct
    assert not conv_module._plan(conv_attrs(8, (1, 1)), (2, 4, 4, 4)).direct  # 16 columns: batched with a copy


@pytest.mark.parametrize("case", ["pointwise", "grouped_pointwise"])
def test_direct_pointwise_conv_matches_definition(monkeypatch, case):
    """All samples (and groups) in one batched matmul of the input as it lies."""
    monkeypatch.setattr(conv_module, "_MIN_DIRECT_COLUMNS", 1)
    shape, attrs = ((3, 4, 5, 5), conv_attrs(6, (1, 1))) if case == "pointwise" else ((2, 6, 3, 4), conv_attrs(4, (1, 1), groups=2))
    assert conv_module._plan(attrs, shape).direct
    x = rand(*shape)
    y, params, _, macs = run("conv2d", attrs, x)
    expected = naive_conv(x, params["weight"], params["bias"], (1, 1), [(0, 0)] * 2, (1, 1), attrs["groups"])
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)
    assert macs == shape[0] * attrs["out"] * (shape[1] // attrs["groups"]) * shape[2] * shape[3]


@pytest.mark.parametrize("min_direct_columns", [1, 1000], ids=["direct", "copied"])
def test_conv_accepts_a_channel_slice_view(monkeypatch, min_direct_columns):
    monkeypatch.setattr(conv_module, "_MIN_DIRECT_COLUMNS", min_direct_columns)
    x = rand(2, 6, 5, 5)[:, 1:4]
    attrs = conv_attrs(2, (1, 1))
    y, params, _, _ = run("conv2d", attrs, x)
    expected = naive_conv(x, params["weight"], params["bias"], (1, 1), [(0, 0)] * 2, (1, 1), 1)
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------------------------- MACs


@pytest.mark.parametrize(
    "shape, attrs, out_spatial",
    [
        # (7 + 2 - 3)//2 + 1 = 4 rows, (6 + 2 - 3)//2 + 1 = 3 columns
        ((2, 3, 7, 6), conv_attrs(5, (3, 3), (2, 2), (1, 1)), (4, 3)),
        ((2, 6, 5, 5), conv_attrs(4, (3, 3), groups=2, padding=(1, 1)), (5, 5)),
        ((2, 5, 6, 6), conv_attrs(5, (3, 3), (2, 2), (1, 1), groups=5), (3, 3)),
        ((3, 4, 5, 5), conv_attrs(6, (1, 1)), (5, 5)),
        # (11 + 2 - 2*2 - 1)//2 + 1 = 5
        ((2, 3, 11), conv_attrs(4, (3,), (2,), (1,), (2,)), (5,)),
        ((2, 2, 5, 4, 6), conv_attrs(3, (3, 2, 3), (1, 2, 2), (1, 0, 1)), (5, 2, 3)),
    ],
)
def test_conv_macs_are_out_channels_times_positions_times_window(shape, attrs, out_spatial):
    n, c_in = shape[:2]
    y, _, _, macs = run(f"conv{len(shape) - 2}d", attrs, rand(*shape))
    assert y.shape[2:] == out_spatial
    assert macs == attrs["out"] * math.prod(out_spatial) * (c_in // attrs["groups"]) * math.prod(attrs["kernel"]) * n


def test_linear_macs_are_batch_times_in_times_out():
    _, _, _, macs = run("linear", {"out": 7, "bias": True}, rand(4, 10))
    assert macs == 4 * 10 * 7


def test_linear_macs_count_every_leading_position():
    _, _, _, macs = run("linear", {"out": 7, "bias": False}, rand(4, 3, 10))
    assert macs == 4 * 3 * 10 * 7


def test_counted_matmul_counts_broadcast_batch():
    counter = MacCounter()
    counted_matmul(rand(5, 1, 2, 3), rand(4, 3, 6), counter)
    assert counter.macs == 5 * 4 * 2 * 3 * 6


@pytest.mark.parametrize("op, attrs, shape", [("relu", {}, (2, 3, 4, 4)), ("maxpool2d", dict(
    kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False), (2, 3, 4, 4)),
    ("batchnorm", {"eps": 1e-5, "affine": True}, (2, 3, 4, 4)), ("add", {}, (2, 3, 4, 4))])
def test_ops_without_matmuls_count_no_macs(op, attrs, shape):
    inputs = [rand(*shape, seed=s) for s in range(2 if op == "add" else 1)]
    assert run(op, attrs, *inputs)[3] == 0


# ------------------------------------------------------------------------------------------ im2col


def test_pointwise_conv_needs_no_workspace():
    assert workspace_bytes("conv2d", conv_attrs(64, (1, 1)), (8, 256, 56, 56)) == 0


def test_workspace_bytes_counts_padded_copy_and_column_matrix():
    # one sample of 8x8 is 64 columns; the whole sample is one chunk of 4*9 rows
    padded = 1 * 4 * 10 * 10 * 4
    columns = 4 * 9 * 64 * 4
    assert workspace_bytes("conv2d", conv_attrs(8, (3, 3), padding=(1, 1)), (1, 4, 8, 8)) == padded + columns


def test_workspace_bytes_is_zero_for_other_ops():
    assert workspace_bytes("relu", {}, (1, 4, 8, 8)) == 0


# ------------------------------------------------------------------------------------------ pooling


def pool_attrs(kernel, stride=None, padding=None, dilation=None, ceil_mode=False, count_include_pad=True):
    nd = len(kernel)
    return dict(kernel=kernel, stride=stride or kernel, padding=padding or (0,) * nd, dilation=dilation or (1,) * nd,
                ceil_mode=ceil_mode, count_include_pad=count_include_pad)


def pool_out(size, k, s, p, d, ceil_mode):
    """torch.nn.MaxPool2d's documented output size, with the rule that the last window must start inside."""
    span = (size + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(span) if ceil_mode else math.floor(span)) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= size + p else out


def naive_pool(x, attrs, reduction):
    """Each output: max or mean over the window's taps start + j*d (start = i*s - p) that fall inside the input.

    Average divides by the window clipped to the padded input (count_include_pad) or by the real taps.
    """
    x = x.astype(np.float64)
    spatial = x.shape[2:]
    d = attrs.get("dilation", (1,) * len(spatial))
    geometry = list(zip(spatial, attrs["kernel"], attrs["stride"], attrs["padding"], d))
    out = [pool_out(n, k, s, p, dd, attrs["ceil_mode"]) for n, k, s, p, dd in geometry]
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in itertools.product(*map(range, out)):
        taps, divisor = [], 1
        for i, (n, k, s, p, dd) in zip(pos, geometry):
            start = i * s - p
            taps.append([t for t in range(start, start + dd * (k - 1) + 1, dd) if 0 <= t < n])
            divisor *= min(start + k, n + p) - start if attrs.get("count_include_pad") else len(taps[-1])
        window = x[(..., *np.ix_(*taps))].reshape(x.shape[:2] + (-1,))
        y[(..., *pos)] = window.max(-1) if reduction == "max" else window.sum(-1) / divisor
    return y


MAX_CASES = {
    "2x2": ((2, 3, 6, 6), pool_attrs((2, 2))),
    "3x3_s2_p1": ((2, 2, 7, 8), pool_attrs((3, 3), (2, 2), (1, 1))),
    "ceil_mode": ((1, 2, 7, 7), pool_attrs((2, 2), (2, 2), ceil_mode=True)),
    "ceil_mode_padded": ((1, 2, 6, 5), pool_attrs((3, 3), (2, 2), (1, 1), ceil_mode=True)),
    "ceil_mode_last_window_dropped": ((1, 1, 5, 5), pool_attrs((2, 2), (2, 2), (1, 1), ceil_mode=True)),
    "dilated": ((1, 2, 9, 9), pool_attrs((3, 3), (1, 2), (1, 0), (2, 2))),
    "1d": ((2, 3, 10), pool_attrs((3,), (2,), (1,), ceil_mode=True)),
    "3d": ((1, 2, 5, 6, 4), pool_attrs((2, 3, 2), (2, 2, 1), (1, 1, 0))),
}


@pytest.mark.parametrize("case", MAX_CASES, ids=str)
def test_maxpool_matches_definition(case):
    shape, attrs = MAX_CASES[case]
    x = rand(*shape)
    y = run(f"maxpool{len(shape) - 2}d", attrs, x)[0]
    np.testing.assert_array_equal(y, naive_pool(x, attrs, "max").astype(np.float32))


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_pad():
    # 5 + 2 - 2 = 5, ceil(5/2) + 1 = 4 windows; the 4th starts at 3*2 = 6 >= 5 + 1, so 3 remain
    attrs = MAX_CASES["ceil_mode_last_window_dropped"][1]
    assert run("maxpool2d", attrs, rand(1, 1, 5, 5))[0].shape == (1, 1, 3, 3)


AVG_CASES = {
    "2x2": ((2, 3, 6, 6), pool_attrs((2, 2))),
    "padded_include": ((2, 2, 7, 7), pool_attrs((3, 3), (2, 2), (1, 1))),
    "padded_exclude": ((2, 2, 7, 7), pool_attrs((3, 3), (2, 2), (1, 1), count_include_pad=False)),
    "ceil_include": ((1, 2, 6, 5), pool_attrs((3, 3), (2, 2), (1, 1), ceil_mode=True)),
    "ceil_exclude": ((1, 2, 6, 5), pool_attrs((3, 3), (2, 2), (1, 1), ceil_mode=True, count_include_pad=False)),
    "ceil_unpadded": ((1, 2, 7, 7), pool_attrs((2, 2), (2, 2), ceil_mode=True)),
    "1d": ((2, 3, 10), pool_attrs((4,), (3,), (2,), ceil_mode=True)),
    "3d": ((1, 2, 5, 6, 4), pool_attrs((2, 3, 2), (2, 2, 1), (1, 1, 0), count_include_pad=False)),
}


@pytest.mark.parametrize("case", AVG_CASES, ids=str)
def test_avgpool_matches_definition(case):
    shape, attrs = AVG_CASES[case]
    x = rand(*shape)
    y = run(f"avgpool{len(shape) - 2}d", attrs, x)[0]
    np.testing.assert_allclose(y, naive_pool(x, attrs, "mean"), rtol=RTOL, atol=ATOL)


def naive_adaptive(x, output, reduction):
    """Bin i along an axis of n covers [floor(i*n/out), ceil((i+1)*n/out))."""
    x = x.astype(np.float64)
    y = np.zeros(x.shape[:2] + tuple(output))
    for pos in itertools.product(*map(range, output)):
        box = tuple(slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in zip(pos, x.shape[2:], output))
        window = x[(..., *box)].reshape(x.shape[:2] + (-1,))
        y[(..., *pos)] = window.max(-1) if reduction == "max" else window.mean(-1)
    return y


ADAPTIVE_CASES = [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), (5, 5)), ((1, 2, 4, 6), (6, 8)), ((2, 3, 10), (3,)),
                  ((1, 2, 5, 7, 3), (2, 3, 2)), ((1, 2, 6, 6), (1, 1))]


@pytest.mark.parametrize("reduction", ["max", "avg"])
@pytest.mark.parametrize("shape, output", ADAPTIVE_CASES, ids=str)
def test_adaptive_pool_matches_definition(reduction, shape, output):
    x = rand(*shape)
    y = run(f"adaptive_{reduction}pool{len(shape) - 2}d", {"output": output}, x)[0]
    np.testing.assert_allclose(y, naive_adaptive(x, output, "max" if reduction == "max" else "mean"), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 4)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pools_reduce_every_spatial_axis(shape, keepdims):
    x = rand(*shape)
    flat = x.reshape(2, 3, -1).astype(np.float64)
    expected_shape = (2, 3) + ((1,) * (len(shape) - 2) if keepdims else ())
    avg = run("global_avgpool", {"keepdims": keepdims}, x)[0]
    mx = run("global_maxpool", {"keepdims": keepdims}, x)[0]
    np.testing.assert_allclose(avg, flat.mean(-1).reshape(expected_shape), rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(mx, flat.max(-1).reshape(expected_shape).astype(np.float32))


# ------------------------------------------------------------------------------------ normalisation


def per_channel(v, ndim):
    return np.asarray(v, dtype=np.float64).reshape((-1,) + (1,) * (ndim - 2))


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 4), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_uses_running_statistics(shape, affine):
    attrs = {"eps": 1e-3, "affine": affine}
    x = rand(*shape)
    y, params, buffers, _ = run("batchnorm", attrs, x)
    nd = x.ndim
    expected = (x - per_channel(buffers["running_mean"], nd)) / np.sqrt(per_channel(buffers["running_var"], nd) + 1e-3)
    if affine:
        expected = expected * per_channel(params["weight"], nd) + per_channel(params["bias"], nd)
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


def standardized(v, eps):
    """(v - mean) / sqrt(biased variance + eps) over all of v."""
    return (v - v.mean()) / np.sqrt(v.var() + eps)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4), (1, 2, 3, 2, 3)])
def test_instancenorm_normalises_each_sample_and_channel(shape):
    x = rand(*shape)
    y, params, _, _ = run("instancenorm", {"eps": 1e-5, "affine": True}, x)
    expected = np.empty(shape)
    for n, c in itertools.product(range(shape[0]), range(shape[1])):
        expected[n, c] = standardized(x[n, c].astype(np.float64), 1e-5) * params["weight"][c] + params["bias"][c]
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("groups", [1, 2, 6])
def test_groupnorm_normalises_channel_groups(groups):
    x = rand(2, 6, 3, 4)
    y, params, _, _ = run("groupnorm", {"groups": groups, "eps": 1e-5, "affine": True}, x)
    per = 6 // groups
    expected = np.empty(x.shape)
    for n, g in itertools.product(range(2), range(groups)):
        expected[n, g * per : (g + 1) * per] = standardized(x[n, g * per : (g + 1) * per].astype(np.float64), 1e-5)
    expected = expected * per_channel(params["weight"], 4) + per_channel(params["bias"], 4)
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("dims, normalized", [(1, (5,)), (2, (4, 5)), (None, (3, 4, 5))])
def test_layernorm_normalises_trailing_axes(dims, normalized):
    x = rand(2, 3, 4, 5)
    y, params, _, _ = run("layernorm", {"eps": 1e-5, "affine": True, "dims": dims}, x)
    assert params["weight"].shape == normalized
    lead = x.shape[: 4 - len(normalized)]
    expected = np.empty(x.shape)
    for index in itertools.product(*map(range, lead)):
        expected[index] = standardized(x[index].astype(np.float64), 1e-5) * params["weight"] + params["bias"]
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


def test_layernorm_without_affine_has_no_params():
    y, params, _, _ = run("layernorm", {"eps": 1e-5, "affine": False, "dims": 1}, rand(3, 4))
    assert params == {}
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-6)


@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(2, 7, 3, 3), (2, 6, 4)])
def test_lrn_sums_squares_over_a_channel_window(size, shape):
    attrs = {"size": size, "alpha": 1e-2, "beta": 0.75, "k": 2.0}
    x = rand(*shape)
    y = run("lrn", attrs, x)[0]
    a = x.astype(np.float64)
    expected = np.empty(a.shape)
    for c in range(shape[1]):
        # window [c - size//2, c + (size-1)//2], clipped to real channels
        window = a[:, max(c - size // 2, 0) : c + (size - 1) // 2 + 1]
        expected[:, c] = a[:, c] / (2.0 + 1e-2 / size * (window**2).sum(1)) ** 0.75
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


# -------------------------------------------------------------------------------------- activations


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


def hardsigmoid(v):
    return min(max(v + 3, 0), 6) / 6


SCALAR_DEFINITIONS = {
    "relu": ({}, lambda v: max(v, 0.0)),
    "relu6": ({}, lambda v: min(max(v, 0.0), 6.0)),
    "sigmoid": ({}, sigmoid),
    "tanh": ({}, math.tanh),
    "silu": ({}, lambda v: v * sigmoid(v)),
    "hardsigmoid": ({}, hardsigmoid),
    "hardswish": ({}, lambda v: v * hardsigmoid(v)),
    "leaky_relu": ({"slope": 0.1}, lambda v: v if v >= 0 else 0.1 * v),
    "gelu": ({"approximate": "none"}, lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2)))),
    "gelu_tanh": ({"approximate": "tanh"},
                  lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))),
}


@pytest.mark.parametrize("name", SCALAR_DEFINITIONS, ids=str)
def test_activation_matches_scalar_definition(name):
    attrs, scalar = SCALAR_DEFINITIONS[name]
    x = rand(2, 3, 5, 5) * 4
    x[0, 0, 0, :3] = [-90.0, 90.0, 0.0]  # saturation and the kink
    y = run(name.removesuffix("_tanh"), attrs, x)[0]
    expected = np.vectorize(scalar)(x.astype(np.float64))
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("bound_elements", [4, 150, 1 << 18], ids=["part larger than the bound", "exact", "ample"])
@pytest.mark.parametrize("name", ["relu", "relu6"])
def test_clamps_agree_whether_the_bound_is_an_array_view_or_a_scalar(monkeypatch, name, bound_elements):
    """relu and relu6 compare against a view of a constant array when it is large enough, else a scalar."""
    from cnncost.kernels import activation

    bounds = {value: np.full(bound_elements, value, np.float32) for value in activation._BOUNDS}
    monkeypatch.setattr(activation, "_BOUNDS", bounds)
    x = rand(2, 3, 5, 5) * 8
    x[0, 0, 0, :4] = [np.nan, -0.0, 6.0, np.inf]
    scalar = SCALAR_DEFINITIONS[name][1]
    expected = np.array([scalar(v) if not np.isnan(v) else np.nan for v in x.ravel().tolist()], np.float32)
    np.testing.assert_array_equal(run(name, {}, x)[0].ravel(), expected)


@pytest.mark.parametrize("axis, array_axis", [(0, 1), (1, 2), (-1, 3)])
def test_softmax_normalises_the_per_sample_axis(axis, array_axis):
    x = rand(2, 3, 4, 5) * 10
    y = run("softmax", {"axis": axis}, x)[0]
    e = np.exp(x.astype(np.float64))
    np.testing.assert_allclose(y, e / e.sum(array_axis, keepdims=True), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------------------- linear


@pytest.mark.parametrize("max_rows_weight_first", [0, 1000], ids=["rows_first", "weight_first"])
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 6)])
def test_linear_is_x_times_weight_transposed_plus_bias(monkeypatch, shape, max_rows_weight_first):
    """Either order of the product (x @ W.T, or W @ x.T transposed back) gives the same contiguous result."""
    monkeypatch.setattr(linear_module, "_MAX_ROWS_WEIGHT_FIRST", max_rows_weight_first)
    x = rand(*shape)
    y, params, _, macs = run("linear", {"out": 5, "bias": True}, x)
    assert y.flags.c_contiguous and macs == math.prod(shape[:-1]) * 6 * 5
    w, b = params["weight"].astype(np.float64), params["bias"]
    expected = np.empty(shape[:-1] + (5,))
    for index in np.ndindex(*shape[:-1]):
        expected[index] = [sum(x[index][i] * w[o, i] for i in range(6)) + b[o] for o in range(5)]
    np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------------------- merge and reshape


def test_add_sums_all_inputs():
    xs = [rand(2, 3, 4, seed=s) for s in range(3)]
    np.testing.assert_allclose(run("add", {}, *xs)[0], xs[0] + xs[1] + xs[2], rtol=RTOL)


def test_add_leaves_its_inputs_alone():
    xs = [rand(2, 3, seed=s) for s in range(3)]
    before = [x.copy() for x in xs]
    run("add", {}, *xs)
    for x, b in zip(xs, before):
        np.testing.assert_array_equal(x, b)


def test_mul_broadcasts_a_channel_gate():
    x, gate = rand(2, 3, 4, 4), rand(2, 3, 1, 1, seed=1)
    y = run("mul", {}, x, gate)[0]
    assert y.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(y[1, 2], x[1, 2] * gate[1, 2, 0, 0], rtol=RTOL)


def test_mul_broadcasts_up_to_a_later_input():
    y = run("mul", {}, rand(2, 3, 1, 1), rand(2, 3, 1, 1, seed=1), rand(2, 3, 4, 4, seed=2))[0]
    assert y.shape == (2, 3, 4, 4)


@pytest.mark.parametrize("axis, other_shape, joined", [(0, (2, 4, 4, 4), (2, 7, 4, 4)), (2, (2, 3, 4, 5), (2, 3, 4, 9)),
                                                     (-1, (2, 3, 4, 5), (2, 3, 4, 9))])
def test_concat_joins_along_per_sample_axis(axis, other_shape, joined):
    a, other = rand(2, 3, 4, 4), rand(*other_shape, seed=1)
    y = run("concat", {"axis": axis}, a, other)[0]
    assert y.shape == joined
    np.testing.assert_array_equal(y[:, :3, :4, :4], a)


def test_flatten_keeps_batch():
    x = rand(2, 3, 4, 5)
    np.testing.assert_array_equal(run("flatten", {}, x)[0], x.reshape(2, 60))


def test_channel_shuffle_interleaves_groups():
    # groups=2 over 6 channels: (0 1 2 | 3 4 5) -> 0 3 1 4 2 5
    x = np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1)
    y = run("channel_shuffle", {"groups": 2}, x)[0]
    assert y.ravel().tolist() == [0, 3, 1, 4, 2, 5]


@pytest.mark.parametrize("index, channels", [(0, [0, 1, 2]), (2, [6, 7, 8]), (3, [9])])
def test_chunk_takes_ceil_sized_pieces(index, channels):
    # torch.chunk(10 channels, 4) -> sizes 3, 3, 3, 1
    x = np.arange(10, dtype=np.float32).reshape(1, 10, 1)
    assert run("chunk", {"chunks": 4, "index": index}, x)[0].ravel().tolist() == channels


def test_chunk_beyond_the_last_piece_is_an_error():
    # torch.chunk(6 channels, 4) -> sizes 2, 2, 2: there is no fourth piece
    with pytest.raises(ValueError):
        run("chunk", {"chunks": 4, "index": 3}, np.zeros((1, 6, 1), np.float32))


def test_split_takes_the_indexed_slice():
    x = np.arange(6, dtype=np.float32).reshape(1, 6, 1)
    assert run("split", {"sizes": (1, 3, 2), "index": 1}, x)[0].ravel().tolist() == [1, 2, 3]


@pytest.mark.parametrize("op, attrs", [("dropout", {"p": 0.5}), ("identity", {})])
def test_inference_no_ops_return_the_input(op, attrs):
    x = rand(2, 3)
    np.testing.assert_array_equal(run(op, attrs, x)[0], x)


# ---------------------------------------------------------------------------------------- weights


@pytest.mark.parametrize(
    "attrs, c_in, weight_shape",
    [
        (conv_attrs(8, (3, 3)), 4, (8, 4, 3, 3)),
        (conv_attrs(8, (3, 3), groups=2), 4, (8, 2, 3, 3)),
        (conv_attrs(6, (5,), groups=6), 6, (6, 1, 5)),
        (conv_attrs(4, (1, 3, 3), bias=False), 2, (4, 2, 1, 3, 3)),
    ],
)
def test_conv_weight_is_out_by_in_per_group_by_kernel(attrs, c_in, weight_shape):
    shape = (2, c_in) + (9,) * len(attrs["kernel"])
    params, buffers = init_weights(f"conv{len(attrs['kernel'])}d", attrs, [shape], np.random.default_rng(0))
    assert params["weight"].shape == weight_shape
    assert ("bias" in params) == attrs["bias"]
    assert buffers == {}


def test_conv_bias_has_one_entry_per_output_channel():
    params, _ = init_weights("conv2d", conv_attrs(8, (3, 3)), [(1, 4, 5, 5)], np.random.default_rng(0))
    assert params["bias"].shape == (8,)


def test_linear_weight_is_out_by_in():
    params, _ = init_weights("linear", {"out": 10, "bias": True}, [(2, 3, 20)], np.random.default_rng(0))
    assert params["weight"].shape == (10, 20) and params["bias"].shape == (10,)


@pytest.mark.parametrize("op, attrs, shape, fan_in", [
    ("conv2d", conv_attrs(256, (3, 3), groups=2), (1, 128, 9, 9), 64 * 9),
    ("linear", {"out": 512, "bias": True}, (2, 300), 300),
])
def test_weights_have_he_variance_within_the_uniform_bound(op, attrs, shape, fan_in):
    """Var = 2/fan_in keeps activations O(1) through deep ReLU stacks; uniform on ±√(6/fan_in) has exactly that."""
    params, _ = init_weights(op, attrs, [shape], np.random.default_rng(0))
    w, bound = params["weight"].astype(np.float64), math.sqrt(6 / fan_in)
    assert params["weight"].dtype == np.float32 and np.abs(w).max() <= bound
    assert abs(w.var() / (2 / fan_in) - 1) < 0.03 and abs(w.mean()) < 0.01 * bound
    bias_bound = 1 / math.sqrt(fan_in)
    assert np.abs(params["bias"]).max() <= bias_bound and np.abs(params["bias"]).max() > bias_bound / 2


def test_batchnorm_has_affine_params_and_running_buffers():
    params, buffers = init_weights("batchnorm", {"eps": 1e-5, "affine": True}, [(2, 16, 4, 4)], np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {"weight": (16,), "bias": (16,)}
    assert {k: v.shape for k, v in buffers.items()} == {"running_mean": (16,), "running_var": (16,)}
    assert (buffers["running_var"] > 0).all()


def test_batchnorm_without_affine_still_has_running_buffers():
    params, buffers = init_weights("batchnorm", {"eps": 1e-5, "affine": False}, [(2, 16)], np.random.default_rng(0))
    assert params == {} and set(buffers) == {"running_mean", "running_var"}


def test_weights_are_float32_and_reproducible():
    attrs = conv_attrs(8, (3, 3))
    first, _ = init_weights("conv2d", attrs, [(1, 4, 5, 5)], np.random.default_rng(3))
    again, _ = init_weights("conv2d", attrs, [(1, 4, 5, 5)], np.random.default_rng(3))
    assert all(v.dtype == np.float32 for v in first.values())
    np.testing.assert_array_equal(first["weight"], again["weight"])


def test_weightless_ops_return_empty_dicts():
    assert init_weights("relu", {}, [(1, 2)], np.random.default_rng(0)) == ({}, {})


def test_every_listed_op_has_a_kernel():
    assert {"conv2d", "linear", "batchnorm", "relu", "add", "concat", "flatten", "lrn"} <= KERNEL_OPS


def test_unknown_op_names_the_op():
    with pytest.raises(KeyError, match="warp_drive"):
        forward("warp_drive", {}, [rand(1, 2)], {}, {}, MacCounter())


def test_reuse_freed_memory_applies_on_glibc_and_kernels_still_run():
    """Process-wide, so it runs in a child interpreter."""
    import platform
    import subprocess
    import sys

    script = (
        "import numpy as np; from cnncost.kernels import reuse_freed_memory, forward, MacCounter;"
        "print(reuse_freed_memory());"
        "print(forward('relu', {}, [np.full((8, 64, 128, 128), -1, np.float32)], {}, {}, MacCounter()).max())"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    applied, relu_max = result.stdout.split()
    assert applied == str(platform.libc_ver()[0] == "glibc")
    assert float(relu_max) == 0.0


def test_folding_a_batchnorm_into_a_conv_scales_each_output_channel():
    """w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β, written out for 2 output channels: γ = (2, 6), σ² = (3, 8),
    ε = 1, μ = (1, 2), β = (0.5, 0), conv bias (1, 1) → scales (2/2, 6/3) = (1, 2), biases (0.5, −2)."""
    from cnncost.kernels import fold_weights

    conv = {"weight": np.ones((2, 1, 1, 1), np.float32), "bias": np.ones(2, np.float32)}
    bn = {"weight": np.array([2, 6], np.float32), "bias": np.array([0.5, 0], np.float32)}
    stats = {"running_mean": np.array([1, 2], np.float32), "running_var": np.array([3, 8], np.float32)}
    folded = fold_weights("conv2d", conv, bn, stats, 1.0)
    assert folded["weight"].shape == (2, 1, 1, 1) and folded["weight"].ravel().tolist() == [1.0, 2.0]
    assert folded["bias"].tolist() == [0.5, -2.0]


@pytest.mark.parametrize("op", ["sigmoid", "silu"])
def test_sigmoid_and_silu_hold_no_temporary(op):
    """On a 4 MiB input the kernel fills its output part by part (parallel.elementwise), computing in the output
    itself: besides the output, nothing the size of a part, measured with tracemalloc. Written whole it held five
    input-sized arrays (efficientnet_b0 at batch 8 measured twice verify's predicted peak); with a sign mask,
    a part-sized e^-|x| and its mask per core."""
    import tracemalloc

    x = np.random.default_rng(0).standard_normal((8, 32, 64, 64), dtype=np.float32)
    tracemalloc.start()
    y = forward(op, {}, [x], {}, {}, MacCounter())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak - y.nbytes <= 64 * 1024


@pytest.mark.parametrize("op", ["sigmoid", "silu"])
def test_sigmoid_never_overflows_and_keeps_the_far_tail_within_its_stated_bound(op):
    """e^-x is capped at e^88, so no overflow (raised as an error here) and no NaN; below x = -88 sigmoid's
    true value is under e^-88 = 6.05e-39 and the kernel returns 1 / (1 + e^88), the same bound."""
    values = [-1000.0, -100.0, -88.0, -87.0, 0.0, 87.0, 1000.0]
    x = np.array(values, dtype=np.float32).reshape(1, 7, 1, 1)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 (e^-1000) is exact enough
        y = run(op, {}, x)[0].ravel().astype(np.float64)
    capped = 1 / (1 + math.exp(88))
    sig = [capped, capped, capped, 1 / (1 + math.exp(87)), 0.5, 1 / (1 + math.exp(-87)), 1.0]
    expected = [s * v for s, v in zip(sig, values)] if op == "silu" else sig
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=0)
