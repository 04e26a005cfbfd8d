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
    "elu": ("elu", {"alpha": 1.0}, F.elu),
    "elu_alpha": ("elu", {"alpha": 0.3}, lambda t: F.elu(t, 0.3)),
    "mish": ("mish", {}, F.mish),
    "softplus": ("softplus", {"beta": 1.0, "threshold": 20.0}, F.softplus),
    "softplus_sharp": ("softplus", {"beta": 2.0, "threshold": 5.0}, lambda t: F.softplus(t, 2.0, 5.0)),
    "hardtanh": ("hardtanh", {"min": -1.0, "max": 1.0}, F.hardtanh),
    "hardtanh_bounds": ("hardtanh", {"min": -2.0, "max": 0.5}, lambda t: F.hardtanh(t, -2.0, 0.5)),
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


# ------------------------------------------------------------------------- decoders and resampling

CONV_TRANSPOSES = [
    # input shape, kernel, stride, padding, output_padding, dilation, groups, bias
    ((2, 4, 5, 6), (3, 3), (2, 2), (1, 1), (1, 0), (1, 1), 2, True),
    ((2, 6, 4, 4), (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 1, False),  # U-Net up-convolution
    ((2, 8, 1, 1), (4, 4), (1, 1), (0, 0), (0, 0), (1, 1), 1, False),  # DCGAN's first layer
    ((2, 4, 3, 3), (4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1, True),  # DCGAN's later layers
    ((2, 3, 7), (4,), (3,), (2,), (2,), (1,), 1, True),
    ((1, 4, 3, 4, 2), (2, 3, 2), (2, 1, 3), (0, 1, 0), (1, 0, 2), (1, 2, 1), 4, True),  # output_padding < dilation
    ((2, 6, 3, 3), (3, 3), (1, 1), (2, 2), (0, 0), (2, 2), 6, True),  # depthwise, dilated
    ((2, 2, 3, 3), (1, 1), (3, 3), (0, 0), (2, 2), (1, 1), 1, True),  # stride past the kernel: gaps get the bias
]


@pytest.mark.parametrize("shape, kernel, stride, padding, output_padding, dilation, groups, bias", CONV_TRANSPOSES, ids=str)
def test_conv_transpose_matches_torch(shape, kernel, stride, padding, output_padding, dilation, groups, bias):
    nd = len(kernel)
    attrs = dict(out=2 * groups, kernel=kernel, stride=stride, padding=padding, output_padding=output_padding,
                 dilation=dilation, groups=groups, bias=bias)
    x = rand(*shape)
    params, _ = init_weights(f"conv_transpose{nd}d", attrs, [x.shape], np.random.default_rng(1))
    counter = MacCounter()
    y = forward(f"conv_transpose{nd}d", attrs, [x], params, {}, counter)
    w = {k: T(v) for k, v in params.items()}
    reference = getattr(F, f"conv_transpose{nd}d")(T(x), w["weight"], w.get("bias"), stride, padding, output_padding,
                                                    groups, dilation)
    assert_close(y, reference)
    # MACs: every input element meets each of its group's (out/groups)·prod(kernel) weights once
    assert counter.macs == x.size * (attrs["out"] // groups) * int(np.prod(kernel))


@pytest.mark.parametrize("groups", [1, 2])
def test_folding_scales_conv_transpose_output_channels(groups):
    """A batchnorm after a transposed conv folds into weight axis 1 per group: compare with torch running both."""
    from cnncost.kernels import fold_weights

    attrs = dict(out=4, kernel=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), dilation=(1, 1),
                 groups=groups, bias=True)
    x = rand(2, 4, 3, 3)
    conv, _ = init_weights("conv_transpose2d", attrs, [x.shape], np.random.default_rng(1))
    bn, bn_buffers = init_weights("batchnorm", {"eps": 1e-5, "affine": True}, [(2, 4)], np.random.default_rng(2))
    folded = fold_weights("conv_transpose2d", conv, bn, bn_buffers, 1e-5)
    y = forward("conv_transpose2d", attrs, [x], folded, {}, MacCounter())
    unfolded = F.conv_transpose2d(T(x), T(conv["weight"]), T(conv["bias"]), 2, 1, 1, groups)
    reference = F.batch_norm(unfolded, T(bn_buffers["running_mean"]), T(bn_buffers["running_var"]), T(bn["weight"]),
                             T(bn["bias"]), False, 0.1, 1e-5)
    assert_close(y, reference)


INTERPOLATE_MODES = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}
FACTORS = [0.5, 0.7, 1.0, 1.1, 4 / 3, 1.5, 2, 2.5, 3]


@settings(max_examples=150, deadline=None)
@given(mode=st.sampled_from(sorted(INTERPOLATE_MODES)), data=st.data())
def test_upsample_matches_torch_interpolate(mode, data):
    """Every mode, by integer and non-integer factors or to a size, with and without align_corners."""
    nd = data.draw(st.sampled_from(INTERPOLATE_MODES[mode]))
    shape = tuple(data.draw(st.integers(1, 8)) for _ in range(nd))
    corners = data.draw(st.booleans()) if mode != "nearest" else False
    if data.draw(st.booleans()):
        scale = tuple(data.draw(st.sampled_from([f for f in FACTORS if int(f * n) >= 1])) for n in shape)
        attrs, given_ = dict(scale=scale, size=None), dict(scale_factor=scale)
    else:
        size = tuple(data.draw(st.integers(1, 11)) for _ in range(nd))
        attrs, given_ = dict(scale=None, size=size), dict(size=size)
    attrs.update(mode=mode, align_corners=corners)
    x = rand(2, 3, *shape)
    reference = F.interpolate(T(x), mode=mode, align_corners=corners if mode != "nearest" else None, **given_)
    assert_close(ours("upsample", attrs, x)[0], reference)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, padding", [((2, 3, 7), ((2, 3),)), ((2, 3, 5, 6), ((1, 2), (3, 0))),
                                            ((1, 2, 4, 3, 5), ((1, 1), (0, 2), (3, 4)))], ids=str)
def test_pad_matches_torch(mode, shape, padding):
    x = rand(*shape)
    value = 1.5 if mode == "constant" else 0
    y, _ = ours("pad", {"padding": padding, "mode": mode, "value": value}, x)
    torch_pad = [side for pair in reversed(padding) for side in pair]  # torch lists the last axis first
    kwargs = {"value": value} if mode == "constant" else {}
    assert_close(y, F.pad(T(x), torch_pad, mode=mode, **kwargs))


def test_crop_matches_torch_slicing():
    x, like = rand(2, 3, 9, 8), rand(2, 5, 4, 5)
    assert_close(ours("crop", {"size": None, "like": "skip", "offset": None}, x, like)[0], T(x)[:, :, 2:6, 1:6])
    assert_close(ours("crop", {"size": (3, 2), "like": None, "offset": (6, 0)}, x)[0], T(x)[:, :, 6:9, 0:2])


@pytest.mark.parametrize("factor", [1, 2, 3])
def test_pixel_shuffle_and_unshuffle_match_torch(factor):
    x = rand(2, 2 * factor * factor, 3, 4)
    assert_close(ours("pixel_shuffle", {"factor": factor}, x)[0], F.pixel_shuffle(T(x), factor))
    x = rand(2, 3, 3 * factor, 2 * factor)
    assert_close(ours("pixel_unshuffle", {"factor": factor}, x)[0], F.pixel_unshuffle(T(x), factor))


@pytest.mark.parametrize("mode, nd", [("nearest", 1), ("nearest", 2), ("nearest", 3), ("linear", 1), ("bicubic", 2),
                                      ("bilinear", 2), ("trilinear", 3)])
def test_upsample_by_a_factor_that_keeps_the_size(mode, nd):
    """floor(7·1.1) = 7, yet PyTorch resamples such an axis with 1/1.1 in some modes and copies it in others."""
    x = rand(2, 3, *(7,) * nd)
    attrs = dict(scale=(1.1,) * nd, size=None, mode=mode, align_corners=False)
    reference = F.interpolate(T(x), scale_factor=(1.1,) * nd, mode=mode, align_corners=None if mode == "nearest" else False)
    assert_close(ours("upsample", attrs, x)[0], reference)
@pytest.mark.parametrize("per_channel", [False, True])
def test_prelu_matches_torch(per_channel):
    x = rand(2, 4, 5, 5) * 3
    y, w = ours("prelu", {"per_channel": per_channel}, x)
    assert_close(y, F.prelu(T(x), w["weight"]))


@pytest.mark.parametrize("shape, axes", [((2, 8, 3, 4), (1, 2, 0)), ((2, 3, 4, 8), (2, 0, 1)), ((2, 3, 5), (-1, 0)),
                                         ((1, 2, 3, 4, 5), (3, 1, 0, 2))], ids=str)
def test_permute_matches_torch(shape, axes):
    x = rand(*shape)
    per_sample = len(shape) - 1
    assert_close(ours("permute", {"axes": axes}, x)[0], T(x).permute(0, *(a % per_sample + 1 for a in axes)))


@pytest.mark.parametrize("shape, target", [((2, 4, 3, 5), (12, -1)), ((2, 6, 4), (2, 3, 4)), ((2, 60), (-1, 3, 4))], ids=str)
def test_reshape_matches_torch(shape, target):
    x = rand(*shape)
    assert_close(ours("reshape", {"shape": target}, x)[0], T(x).reshape(shape[0], *target))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_scale_matches_torch(axis):
    """ConvNeXt's layer scale: gamma (one value per element of the axis) times the input."""
    x = rand(2, 4, 5, 6)
    y, w = ours("scale", {"axis": axis}, x)
    shape = [1, 1, 1, 1]
    shape[axis + 1 if axis >= 0 else axis] = -1
    assert_close(y, T(x) * w["weight"].reshape(shape))


@pytest.mark.parametrize("a, b", [((2, 3, 4), (2, 4, 5)), ((2, 6, 3, 4), (2, 1, 4, 2)), ((2, 1, 5, 3), (2, 4, 3, 3)),
                                  ((2, 2, 3, 4, 5), (2, 2, 1, 5, 2))], ids=str)
def test_matmul_matches_torch_and_counts_broadcast_macs(a, b):
    x, z = rand(*a), rand(*b, seed=1)
    counter = MacCounter()
    y = forward("matmul", {}, [x, z], {}, {}, counter)
    reference = torch.matmul(T(x), T(z))
    assert_close(y, reference)
    # MACs = every output element (batch and broadcast leading axes included) times K
    assert counter.macs == reference.numel() * a[-1]


@pytest.mark.parametrize("op, reference", [("mean", torch.mean), ("sum", torch.sum), ("amax", torch.amax)])
@pytest.mark.parametrize("axes, keepdims", [((0,), True), ((1, 2), False), ((-1,), False), ((0, 2), True)], ids=str)
def test_reductions_match_torch(op, reference, axes, keepdims):
    x = rand(2, 4, 5, 6)
    dims = tuple(a + 1 if a >= 0 else a for a in axes)
    assert_close(ours(op, {"axes": axes, "keepdims": keepdims}, x)[0], reference(T(x), dim=dims, keepdim=keepdims))
