"""The numpy kernels against torch.nn.functional on the same inputs and weights (skipped without torch)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncost.kernels import MacCounter, forward, init_weights

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-4, 1e-5


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def ours(op, attrs, *inputs, seed=1):
    """Our output with fresh weights, and the weights as torch tensors for the reference call."""
    params, buffers = init_weights(op, attrs, [x.shape for x in inputs], np.random.default_rng(seed))
    y = forward(op, attrs, list(inputs), params, buffers, MacCounter())
    weights = {k: torch.from_numpy(v) for k, v in {**params, **buffers}.items()}
    return y, weights


def assert_close(y, reference):
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, reference.numpy(), rtol=RTOL, atol=ATOL)


T = torch.from_numpy

# -------------------------------------------------------------------------------------------- conv

CONVS = [
    # input shape, kernel, stride, padding, dilation, groups, bias
    ((2, 3, 9, 8), (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    ((2, 4, 11, 10), (3, 3), (2, 2), (1, 1), (1, 1), 2, False),
    ((2, 6, 8, 8), (3, 3), (2, 1), (1, 1), (1, 1), 6, True),  # depthwise
    ((2, 3, 12, 12), (7, 7), (2, 2), (3, 3), (1, 1), 1, False),  # ResNet stem
    ((2, 4, 9, 9), (3, 3), (1, 1), (2, 2), (2, 2), 1, True),  # dilated
    ((2, 8, 5, 5), (1, 1), (1, 1), (0, 0), (1, 1), 4, True),  # grouped pointwise
    ((2, 8, 6, 6), (1, 1), (2, 2), (0, 0), (1, 1), 1, False),  # downsampling shortcut
    ((2, 3, 17), (5,), (3,), (2,), (1,), 1, True),
    ((1, 4, 5, 6, 7), (3, 3, 3), (1, 2, 1), (1, 1, 0), (1, 1, 2), 2, True),
]


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation, groups, bias", CONVS, ids=str)
def test_conv_matches_torch(shape, kernel, stride, padding, dilation, groups, bias):
    nd = len(kernel)
    attrs = dict(out=2 * groups, kernel=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    x = rand(*shape)
    y, w = ours(f"conv{nd}d", attrs, x)
    reference = getattr(F, f"conv{nd}d")(T(x), w["weight"], w.get("bias"), stride, padding, dilation, groups)
    assert_close(y, reference)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("size, stride", [(8, 2), (7, 2), (9, 3), (6, 1)])
def test_same_padding_is_tensorflows(size, stride):
    """Stride 1 must equal torch's padding='same'; any stride equals torch after TF's explicit asymmetric pad."""
    attrs = dict(out=3, kernel=(3, 4), stride=(stride, stride), padding="same", dilation=(1, 1), groups=1, bias=True)
    x = rand(1, 2, size, size + 1)
    y, w = ours("conv2d", attrs, x)
    if stride == 1:
        reference = F.conv2d(T(x), w["weight"], w["bias"], padding="same")
    else:
        pads = []
        for n, k in zip(x.shape[2:], (3, 4)):
            total = max((-(-n // stride) - 1) * stride + k - n, 0)
            pads.append((total // 2, total - total // 2))
        padded = F.pad(T(x), (*pads[1], *pads[0]))
        reference = F.conv2d(padded, w["weight"], w["bias"], stride=stride)
    assert_close(y, reference)


# -------------------------------------------------------------------------------------------- pools


@st.composite
def pool_geometry(draw, nd):
    """Random windows torch accepts: padding at most half the kernel, at least one output."""
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    size = tuple(draw(st.integers(d * (k - 1) + 1, 9)) for k, d in zip(kernel, dilation))
    return size, kernel, stride, padding, dilation, draw(st.booleans())


@settings(max_examples=60, deadline=None)
@given(nd=st.sampled_from([1, 2, 3]), data=st.data())
def test_maxpool_matches_torch(nd, data):
    size, kernel, stride, padding, dilation, ceil_mode = data.draw(pool_geometry(nd))
    attrs = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    x = rand(2, 3, *size)
    y, _ = ours(f"maxpool{nd}d", attrs, x)
    reference = getattr(F, f"max_pool{nd}d")(T(x), kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    assert_close(y, reference)


@settings(max_examples=60, deadline=None)
@given(nd=st.sampled_from([1, 2, 3]), include_pad=st.booleans(), data=st.data())
def test_avgpool_matches_torch(nd, include_pad, data):
    size, kernel, stride, padding, _, ceil_mode = data.draw(pool_geometry(nd))
    attrs = dict(kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=include_pad)
    x = rand(2, 3, *size)
    y, _ = ours(f"avgpool{nd}d", attrs, x)
    reference = getattr(F, f"avg_pool{nd}d")(T(x), kernel, stride, padding, ceil_mode, include_pad)
    assert_close(y, reference)


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("shape, output", [((2, 3, 7, 9), (3, 4)), ((2, 3, 13), (5,)), ((1, 2, 5, 7, 6), (2, 3, 4)),
                                           ((2, 3, 4, 4), (7, 6)), ((2, 3, 14, 14), (7, 7))], ids=str)
def test_adaptive_pool_matches_torch(kind, shape, output):
    nd = len(output)
    x = rand(*shape)
    y, _ = ours(f"adaptive_{kind}pool{nd}d", {"output": output}, x)
    assert_close(y, getattr(F, f"adaptive_{kind}_pool{nd}d")(T(x), output))


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_global_pool_matches_torch(kind):
    x = rand(2, 5, 6, 7)
    y, _ = ours(f"global_{kind}pool", {"keepdims": True}, x)
    assert_close(y, getattr(F, f"adaptive_{kind}_pool2d")(T(x), 1))


# ------------------------------------------------------------------------------------ normalisation


@pytest.mark.parametrize("shape", [(4, 5), (2, 5, 7), (2, 5, 4, 4), (2, 5, 3, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_matches_torch_inference(shape, affine):
    x = rand(*shape)
    y, w = ours("batchnorm", {"eps": 1e-3, "affine": affine}, x)
    reference = F.batch_norm(T(x), w["running_mean"], w["running_var"], w.get("weight"), w.get("bias"), False, 0.1, 1e-3)
    assert_close(y, reference)


@pytest.mark.parametrize("shape", [(2, 4, 9), (2, 4, 5, 6), (2, 4, 3, 4, 2)])
def test_instancenorm_matches_torch(shape):
    x = rand(*shape)
    y, w = ours("instancenorm", {"eps": 1e-5, "affine": True}, x)
    assert_close(y, F.instance_norm(T(x), weight=w["weight"], bias=w["bias"], eps=1e-5))


@pytest.mark.parametrize("groups", [1, 3, 6])
def test_groupnorm_matches_torch(groups):
    x = rand(2, 6, 5, 4)
    y, w = ours("groupnorm", {"groups": groups, "eps": 1e-5, "affine": True}, x)
    assert_close(y, F.group_norm(T(x), groups, w["weight"], w["bias"], 1e-5))


@pytest.mark.parametrize("dims", [1, 2, None])
def test_layernorm_matches_torch(dims):
    x = rand(2, 3, 4, 5)
    y, w = ours("layernorm", {"eps": 1e-5, "affine": True, "dims": dims}, x)
    normalized = x.shape[1:] if dims is None else x.shape[-dims:]
    assert_close(y, F.layer_norm(T(x), normalized, w["weight"], w["bias"], 1e-5))


@pytest.mark.parametrize("size", [1, 2, 4, 5])
@pytest.mark.parametrize("shape", [(2, 7, 4, 4), (2, 6, 5), (1, 5, 2, 3, 2)])
def test_lrn_matches_torch(size, shape):
    attrs = {"size": size, "alpha": 1e-2, "beta": 0.75, "k": 2.0}
    x = rand(*shape)
    y, _ = ours("lrn", attrs, x)
    assert_close(y, F.local_response_norm(T(x), size, 1e-2, 0.75, 2.0))


# -------------------------------------------------------------------------------------- activations

ACTIVATIONS = {
    # case: (op, attrs, torch reference)
    "relu": ("relu", {}, F.relu),
    "relu6": ("relu6", {}, F.relu6),
    "sigmoid": ("sigmoid", {}, torch.sigmoid),
    "tanh": ("tanh", {}, torch.tanh),
    "silu": ("silu", {}, F.silu),
    "hardswish": ("hardswish", {}, F.hardswish),
    "hardsigmoid": ("hardsigmoid", {}, F.hardsigmoid),
    "leaky_relu": ("leaky_relu", {"slope": 0.2}, lambda t: F.leaky_relu(t, 0.2)),
    "gelu": ("gelu", {"approximate": "none"}, F.gelu),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}, lambda t: F.gelu(t, approximate="tanh")),
    "softmax_channels": ("softmax", {"axis": 0}, lambda t: F.softmax(t, dim=1)),
    "softmax_last": ("softmax", {"axis": -1}, lambda t: F.softmax(t, dim=-1)),
}


@pytest.mark.parametrize("case", ACTIVATIONS, ids=str)
def test_activation_matches_torch(case):
    op, attrs, reference = ACTIVATIONS[case]
    x = rand(2, 4, 6, 6) * 5
    assert_close(ours(op, attrs, x)[0], reference(T(x)))


# ------------------------------------------------------------------------------- linear and the rest


@pytest.mark.parametrize("shape", [(4, 9), (2, 3, 9)])
def test_linear_matches_torch(shape):
    x = rand(*shape)
    y, w = ours("linear", {"out": 6, "bias": True}, x)
    assert_close(y, F.linear(T(x), w["weight"], w["bias"]))


def test_add_mul_concat_match_torch():
    a, b, gate = rand(2, 3, 4, 4), rand(2, 3, 4, 4, seed=1), rand(2, 3, 1, 1, seed=2)
    assert_close(ours("add", {}, a, b, a)[0], T(a) + T(b) + T(a))
    assert_close(ours("mul", {}, a, gate)[0], T(a) * T(gate))
    assert_close(ours("concat", {"axis": 0}, a, b)[0], torch.cat([T(a), T(b)], dim=1))


def test_flatten_matches_torch():
    x = rand(2, 3, 4, 5)
    assert_close(ours("flatten", {}, x)[0], torch.flatten(T(x), 1))


def test_identity_and_inference_dropout_match_torch():
    x = rand(2, 3, 4, 5)
    assert_close(ours("identity", {}, x)[0], torch.nn.Identity()(T(x)))
    assert_close(ours("dropout", {"p": 0.5}, x)[0], F.dropout(T(x), 0.5, training=False))


@pytest.mark.parametrize("groups", [2, 3, 4])
def test_channel_shuffle_matches_torch(groups):
    x = rand(2, 12, 3, 3)
    assert_close(ours("channel_shuffle", {"groups": groups}, x)[0], F.channel_shuffle(T(x), groups))


@pytest.mark.parametrize("channels, chunks", [(10, 4), (12, 3), (7, 2)])
def test_chunk_matches_torch(channels, chunks):
    x = rand(2, channels, 3)
    for index, piece in enumerate(torch.chunk(T(x), chunks, dim=1)):
        assert_close(ours("chunk", {"chunks": chunks, "index": index}, x)[0], piece)


def test_split_matches_torch():
    x = rand(2, 9, 3)
    for index, piece in enumerate(torch.split(T(x), [2, 3, 4], dim=1)):
        assert_close(ours("split", {"sizes": (2, 3, 4), "index": index}, x)[0], piece)
