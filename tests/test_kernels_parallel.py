"""Splitting elementwise work and pooling across threads gives the very same bits as one call on the whole array.

The split engages for outputs over 1 MiB (elementwise ops share the parts among threads only when OpenBLAS's
workers are set to sleep, and otherwise run them one after another on the calling thread);
these tests force it on tiny arrays with tiny parts, so cuts between samples, between channels and across
broadcast operands all occur.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from cnncost.kernels import MacCounter, forward, init_weights
from cnncost.kernels import parallel


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


@pytest.fixture
def split(monkeypatch):
    """Every output is cut into parts of about 64 bytes and the parts shared among the workers."""
    monkeypatch.setattr(parallel, "_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "_PART_BYTES", 64)
    monkeypatch.setattr(parallel, "_BLAS_WORKERS_SLEEP", True)


@pytest.fixture
def whole(monkeypatch):
    monkeypatch.setattr(parallel, "_MIN_BYTES", 1 << 62)
    monkeypatch.setattr(parallel, "_BLAS_WORKERS_SLEEP", False)


# -------------------------------------------------------------------------------------------- parts


@pytest.mark.parametrize("shape", [(3, 5, 4, 4), (2, 3), (1, 1, 7), (50,), (4, 1, 2, 3, 2)])
@pytest.mark.parametrize("part_bytes", [4, 24, 64, 1 << 20])
def test_parts_cover_every_element_once(shape, part_bytes):
    hits = np.zeros(shape, dtype=np.int64)
    for index in parallel._parts(shape, 4, part_bytes):
        hits[index] += 1
    assert (hits == 1).all()


def test_parts_cut_samples_then_channels_and_no_deeper():
    # a sample is 5 * 4 * 4 * 4 = 320 bytes, a channel 64: parts of 128 bytes are two channels of one sample
    parts = parallel._parts((3, 5, 4, 4), 4, 128)
    assert parts[0] == (slice(0, 1), slice(0, 2)) and parts[2] == (slice(0, 1), slice(4, 6))
    assert len(parts) == 3 * 3
    # parts of 1 KiB hold whole samples: three at a time
    assert parallel._parts((3, 5, 4, 4), 4, 1024) == [(slice(0, 3),)]
    # a channel larger than a part is still one part
    assert parallel._parts((1, 2, 64, 64), 4, 128) == [(slice(0, 1), slice(0, 1)), (slice(0, 1), slice(1, 2))]


def scale_shift(out, x, scale, shift):
    np.multiply(x, scale, out=out)
    out += shift


def test_filled_at_once_is_the_largest_parts_one_per_core(monkeypatch):
    """What verify's pooling workspace scales by. shufflenet's max pool at batch 8 writes (8, 24, 56, 56) float32:
    a sample is 24·56·56·4 = 301,056 B, so a part is 1 MiB // 301,056 = 3 samples = 903,168 B, and two cores
    fill 1,806,336 B at once, not 2 MiB (that overcount failed `verify shufflenet_v2_x1_0 --batch 8`)."""
    monkeypatch.setattr(parallel, "_WORKERS", 2)
    assert parallel.filled_at_once((8, 24, 56, 56), 4) == 2 * 3 * 301_056
    # one sample of 64·112·112·4 = 3,211,264 B is cut by channels: 1 MiB // 50,176 = 20 channels = 1,003,520 B
    assert parallel.filled_at_once((1, 64, 112, 112), 4) == 2 * 20 * 50_176
    assert parallel.filled_at_once((2, 3), 4) == 24  # under 1 MiB: all of it, in one call
    monkeypatch.setattr(parallel, "_WORKERS", 1)
    assert parallel.filled_at_once((8, 24, 56, 56), 4) == 3 * 301_056


def test_fill_broadcasts_inputs_that_lack_or_stretch_the_cut_axes(split):
    x, per_channel, per_sample = rand(3, 5, 4, 4), rand(5, 1, 1, seed=1), rand(3, 1, 1, 1, seed=2)
    out = parallel.fill(scale_shift, np.empty_like(x), x, per_channel, per_sample)
    np.testing.assert_array_equal(out, x * per_channel + per_sample)


def test_fill_raises_an_error_from_any_part(split):
    def fn(out, x):
        if x.min() == -1:
            raise RuntimeError("the marked part")
        np.copyto(out, x)

    x = np.zeros((4, 6, 2, 2), np.float32)
    x[3, 5, 1, 1] = -1
    with pytest.raises(RuntimeError, match="the marked part"):
        parallel.fill(fn, np.empty_like(x), x)


# ------------------------------------------------------------------------------------- op by op

ELEMENTWISE = [
    ("relu", {}, [(4, 6, 5, 5)]),
    ("relu6", {}, [(4, 6, 5, 5)]),
    ("hardsigmoid", {}, [(4, 6, 5, 5)]),
    ("hardswish", {}, [(1, 6, 5, 5)]),
    ("leaky_relu", {"slope": 0.1}, [(4, 6, 5, 5)]),
    ("batchnorm", {"eps": 1e-5, "affine": True}, [(4, 6, 5, 5)]),
    ("batchnorm", {"eps": 1e-5, "affine": False}, [(1, 6, 7)]),
    ("add", {}, [(4, 6, 5, 5), (4, 6, 5, 5), (4, 6, 5, 5)]),
    ("mul", {}, [(4, 6, 5, 5), (4, 6, 1, 1)]),
    ("mul", {}, [(4, 6, 1, 1), (4, 6, 5, 5)]),  # the later input widens the product
    ("relu", {}, [(3, 40)]),
]

POOLS = [
    ("maxpool2d", dict(kernel=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1), ceil_mode=False), (4, 6, 9, 9)),
    ("maxpool2d", dict(kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(2, 1), ceil_mode=True), (2, 5, 9, 8)),
    ("avgpool2d", dict(kernel=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True, count_include_pad=False), (4, 6, 9, 9)),
    ("avgpool1d", dict(kernel=(4,), stride=(3,), padding=(2,), ceil_mode=False, count_include_pad=True), (3, 4, 11)),
    ("maxpool3d", dict(kernel=(2, 2, 2), stride=(1, 2, 2), padding=(1, 0, 1), dilation=(1, 1, 1), ceil_mode=False), (2, 3, 4, 5, 6)),
    # one channel far larger than a part: the cut stays between (sample, channel) slabs, never inside one
    ("avgpool2d", dict(kernel=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=False, count_include_pad=True), (1, 2, 12, 12)),
]


def outputs(op, attrs, shapes):
    inputs = [rand(*shape, seed=i) for i, shape in enumerate(shapes)]
    params, buffers = init_weights(op, attrs, shapes, np.random.default_rng(1))
    return forward(op, attrs, inputs, params, buffers, MacCounter()), inputs


@pytest.mark.parametrize("op, attrs, shapes", ELEMENTWISE + [(op, attrs, [shape]) for op, attrs, shape in POOLS], ids=str)
def test_split_output_is_bit_identical_to_one_call(monkeypatch, op, attrs, shapes):
    monkeypatch.setattr(parallel, "_MIN_BYTES", 1 << 62)
    monkeypatch.setattr(parallel, "_BLAS_WORKERS_SLEEP", False)
    expected, _ = outputs(op, attrs, shapes)
    monkeypatch.setattr(parallel, "_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "_PART_BYTES", 64)
    monkeypatch.setattr(parallel, "_BLAS_WORKERS_SLEEP", True)
    cuts, cut = [], parallel._parts

    def recorded(*args):
        cuts.append(cut(*args))
        return cuts[-1]

    monkeypatch.setattr(parallel, "_parts", recorded)
    y, inputs = outputs(op, attrs, shapes)
    assert len(cuts) == 1 and len(cuts[0]) > 1
    assert y.dtype == np.float32 and y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)
    assert not any(np.shares_memory(y, x) for x in inputs)


def test_without_sleeping_blas_workers_elementwise_ops_keep_to_the_calling_thread(monkeypatch, whole):
    """Still in parts (batch norm's second pass then reads the first from cache), but no part goes to a worker."""
    monkeypatch.setattr(parallel, "_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "_PART_BYTES", 64)
    submitted, cuts, cut = [], [], parallel._parts

    class Pool:
        def submit(self, *args):
            submitted.append(args)

    monkeypatch.setattr(parallel, "_POOL", Pool())
    monkeypatch.setattr(parallel, "_parts", lambda *args: cuts.append(cut(*args)) or cuts[-1])
    y, (x,) = outputs("batchnorm", {"eps": 1e-5, "affine": True}, [(4, 6, 5, 5)])
    assert submitted == [] and len(cuts) == 1 and len(cuts[0]) > 1
    params, buffers = init_weights("batchnorm", {"eps": 1e-5, "affine": True}, [x.shape], np.random.default_rng(1))
    scale = params["weight"] / np.sqrt(buffers["running_var"] + np.float32(1e-5))
    expected = (x - buffers["running_mean"][:, None, None]) * scale[:, None, None] + params["bias"][:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_still_splits(split):
    """The child gets a pool of its own: the parent's worker threads do not exist there."""
    attrs = POOLS[0][1]
    x = rand(2, 3, 9, 9)
    expected = forward("maxpool2d", attrs, [x], {}, {}, MacCounter())
    pid = os.fork()
    if pid == 0:
        same = np.array_equal(forward("maxpool2d", attrs, [x], {}, {}, MacCounter()), expected)
        os._exit(0 if same else 1)
    assert os.waitpid(pid, 0)[1] == 0
