"""Generated specs: the analytic numbers agree with the numpy forward pass, and no input crashes cnncost.

1. Random valid networks (convs with random kernel/stride/padding/dilation/groups, pools, linear, norms,
   activations, add/concat/mul/matmul/chunk/split/channel_shuffle branches, permute, reshape, scale,
   mean/sum/amax, transposed convs, upsample, pixel (un)shuffle, pad and crop, at small sizes) → `verify_spec` finds
   every predicted shape, param count, MAC count and the peak equal to what numpy executed.
2. Random mutations of valid specs (keys deleted, duplicated, renamed or retyped, values swapped, text
   truncated, garbage bytes inserted, lines shuffled) → a report or a clean CnnCostError, never anything else;
   and whenever the analytic path accepts a mutant, the numpy path agrees with it.
3. Random text into the YAML loader and the expression language → data or CnnCostError / ExprError.

Example counts come from the Hypothesis profile chosen in tests/conftest.py: a quick one by default, and
CNNCOST_FUZZ=1 for the long run documented in docs/testing.md.
"""
import copy
import random
from math import prod
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnncost
from cnncost.errors import CnnCostError
from cnncost.spec import load, load_text
from cnncost.spec.expr import ExprError, evaluate
from cnncost.spec.yamlload import load_yaml
from cnncost.verify import verify_spec

SLOW_OK = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "silu", "hardswish", "hardsigmoid", "identity")
SMALL_RUN = 64 << 20  # verify's --max-memory for generated specs: they are tiny, mutants may not be


# -- 1. random valid networks --------------------------------------------------------------------------


def flow(settings_: dict) -> str:
    """A layer's settings as a one-line YAML flow mapping."""
    return yaml.safe_dump(settings_, default_flow_style=True, width=10**6).strip()


def shapes_of(text: str) -> dict:
    """Every tensor's per-sample shape, from the analytic path (the generator only needs valid specs)."""
    report = cnncost.analyze(load_text(text))
    return {"input": report.input_shape, **{row.name: row.output_shape for row in report.layers}}


def divisors(n: int) -> list:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def window_layer(draw, op: str, shape: tuple) -> dict:
    """Conv or pool settings that fit `shape` by construction: every window fits its padded axis."""
    spatial = shape[1:]
    pool = "pool" in op
    kernels, strides, pads, dilations = [], [], [], []
    for n in spatial:
        pad = draw(st.integers(0, 2))
        # A dilated max window with padding can land on padding only and give -inf (as in PyTorch, which
        # verify reports as a non-finite output); keep dilation to unpadded axes for pooling.
        dilation = draw(st.sampled_from([1, 1, 2])) if op.startswith("conv") or (op.startswith("max") and not pad) else 1
        low = max(1, 2 * pad) if pool else 1  # PyTorch: pooling pad at most half the kernel
        high = max(low, min((n + 2 * pad - 1) // dilation + 1, low + 3))
        kernel = draw(st.integers(low, high))
        if dilation * (kernel - 1) + 1 > n + 2 * pad:
            dilation = 1
        kernels.append(kernel)
        pads.append(pad)
        dilations.append(dilation)
        strides.append(draw(st.integers(1, 3)))
    attrs = {"kernel": kernels if draw(st.booleans()) or len(set(kernels)) > 1 else kernels[0], "stride": strides}
    attrs["padding"] = pads
    if not op.startswith("avg"):
        attrs["dilation"] = dilations
    if op.startswith("conv"):
        groups = draw(st.sampled_from(divisors(shape[0])))
        attrs.update(out=groups * draw(st.integers(1, 3)), groups=groups, bias=draw(st.booleans()))
        if draw(st.integers(0, 4)) == 0:  # 'same' and 'valid' fit any input at these sizes
            fits = all(d * (k - 1) + 1 <= n for k, d, n in zip(kernels, dilations, spatial))
            attrs["padding"] = draw(st.sampled_from(["same", "valid"])) if fits else pads
    else:
        attrs["ceil_mode"] = draw(st.booleans())
        if op.startswith("avg"):
            attrs["count_include_pad"] = draw(st.booleans())
    return attrs


@st.composite
def decoder_layer(draw, shape: tuple):
    """A transposed conv, an upsample or a pixel (un)shuffle that fits `shape`, growing no axis past 3× (or 12)."""
    rank, channels = len(shape) - 1, shape[0]
    choices = ["conv_transpose", "upsample"] + (["pixel_shuffle", "pixel_unshuffle"] if rank == 2 else [])
    op = draw(st.sampled_from(choices))
    if op == "conv_transpose":
        kernel, stride, dilation = ([draw(st.integers(1, 3)) for _ in range(rank)] for _ in range(3))
        padding = [draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation)]
        output_padding = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
        groups = draw(st.sampled_from(divisors(channels)))
        return f"conv_transpose{rank}d", {"out": groups * draw(st.integers(1, 2)), "kernel": kernel, "stride": stride,
                                          "padding": padding, "output_padding": output_padding, "dilation": dilation,
                                          "groups": groups, "bias": draw(st.booleans())}
    if op == "upsample":
        mode = draw(st.sampled_from(["nearest"] + {1: ["linear"], 2: ["bilinear", "bicubic"], 3: ["trilinear"]}[rank]))
        attrs = {"mode": mode}
        if mode != "nearest" and draw(st.booleans()):
            attrs["align_corners"] = draw(st.booleans())
        if draw(st.booleans()):
            attrs["size"] = [draw(st.integers(1, min(3 * n, 12))) for n in shape[1:]]
        else:
            attrs["scale"] = [draw(st.sampled_from([f for f in (0.5, 0.7, 1, 1.1, 1.5, 2, 3) if int(n * f) >= 1]))
                              for n in shape[1:]]
        return "upsample", attrs
    if op == "pixel_shuffle":
        factor = draw(st.sampled_from([r for r in (1, 2, 3) if channels % (r * r) == 0]))
        return op, {"factor": factor}
    factor = draw(st.sampled_from([r for r in (1, 2, 3) if all(n % r == 0 for n in shape[1:])]))
    return op, {"factor": factor}


@st.composite
def border_layer(draw, tensors: dict, shape: tuple):
    """A pad in any mode within PyTorch's limits, or a crop by size/offset or like an earlier tensor that fits."""
    if draw(st.booleans()):
        mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 3)
        pads = [[draw(st.integers(0, min(3, limit(n)))) for _ in range(2)] for n in shape[1:]]
        attrs = {"padding": pads, "mode": mode}
        if mode == "constant":
            attrs["value"] = draw(st.floats(-2, 2))
        return "pad", attrs
    smaller = [name for name, s in tensors.items() if len(s) == len(shape) and all(a <= b for a, b in zip(s[1:], shape[1:]))]
    if draw(st.booleans()):
        return "crop", {"like": draw(st.sampled_from(smaller))}
    size = [draw(st.integers(1, n)) for n in shape[1:]]
    attrs = {"size": size}
    if draw(st.booleans()):
        attrs["offset"] = [draw(st.integers(0, n - t)) for n, t in zip(shape[1:], size)]
    return "crop", attrs


@st.composite
def next_layer(draw, tensors: dict, current: str, index: int):
    """One layer reading `current` (or, for merges, tensors of fitting shapes): (op, settings)."""
    shape = tensors[current]
    rank = len(shape) - 1
    spatial = ["conv", "conv", "conv", "pool", "pool", "adaptive", "global", "decoder", "decoder", "border"] if rank else []
    choice = draw(st.sampled_from([*spatial, "merge", "merge", "activation", "norm", "route", "linear", "flatten",
                                 "permute", "reshape", "scale", "matmul", "reduce"]))
    if choice == "conv":
        op = f"conv{rank}d"
        return op, draw(window_layer(op, shape))
    if choice == "pool":
        op = f"{draw(st.sampled_from(['max', 'avg']))}pool{rank}d"
        return op, draw(window_layer(op, shape))
    if choice == "adaptive":
        output = [draw(st.integers(1, n + 2)) for n in shape[1:]]
        return f"adaptive_{draw(st.sampled_from(['avg', 'max']))}pool{rank}d", {"output": output}
    if choice == "global":
        return f"global_{draw(st.sampled_from(['avg', 'max']))}pool", {"keepdims": draw(st.booleans())}
    if choice == "decoder":
        return draw(decoder_layer(shape))
    if choice == "border":
        return draw(border_layer(tensors, shape))
    if choice == "linear":
        return "linear", {"out": draw(st.integers(1, 6)), "bias": draw(st.booleans())}
    if choice == "flatten":
        return "flatten", {}
    if choice == "permute":
        return "permute", {"axes": draw(st.permutations(range(len(shape))))}
    if choice == "reshape":  # split the elements into two or three factors, one of them sometimes inferred
        total = prod(shape)
        first = draw(st.sampled_from(divisors(total)))
        sizes = [first, total // first]
        if draw(st.booleans()):
            second = draw(st.sampled_from(divisors(sizes[1])))
            sizes = [first, second, sizes[1] // second]
        if draw(st.booleans()):
            sizes[draw(st.integers(0, len(sizes) - 1))] = -1
        return "reshape", {"shape": sizes}
    if choice == "scale":
        return "scale", {"axis": draw(st.integers(-len(shape), len(shape) - 1))}
    if choice == "reduce":
        axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
        keepdims = draw(st.booleans()) or len(axes) == len(shape)
        return draw(st.sampled_from(["mean", "sum", "amax"])), {"axes": axes, "keepdims": keepdims}
    if choice == "matmul":  # against a tensor whose second-to-last axis matches, or this one's own transpose
        partners = [name for name, s in tensors.items() if len(s) == len(shape) >= 2 and s[-2] == shape[-1]
                    and all(a == b or 1 in (a, b) for a, b in zip(s[:-2], shape[:-2]))]
        if partners:
            return "matmul", {"inputs": [current, draw(st.sampled_from(partners))]}
        return "permute", {"axes": list(range(len(shape)))}
    if choice == "activation":
        op = draw(st.sampled_from([*ACTIVATIONS, "leaky_relu", "gelu", "softmax", "dropout", "prelu", "elu", "mish",
                                   "softplus", "hardtanh"]))
        low = draw(st.floats(-3, 2, allow_nan=False))
        extra = {
            "prelu": {"per_channel": draw(st.booleans())},
            "elu": {"alpha": draw(st.floats(0, 2, allow_nan=False))},
            "softplus": {"beta": draw(st.floats(0.5, 3, allow_nan=False)), "threshold": draw(st.floats(1, 20, allow_nan=False))},
            "hardtanh": {"min": low, "max": low + draw(st.floats(0.1, 3, allow_nan=False))},
            "leaky_relu": {"slope": draw(st.floats(-2, 2, allow_nan=False))},
            "gelu": {"approximate": draw(st.sampled_from(["none", "tanh"]))},
            "softmax": {"axis": draw(st.integers(-len(shape), len(shape) - 1))},
            "dropout": {"p": draw(st.floats(0, 1))},
        }
        return op, extra.get(op, {})
    if choice == "norm":
        op = draw(st.sampled_from(["batchnorm", "instancenorm", "groupnorm", "layernorm", "lrn"]))
        extra = {
            "batchnorm": {"affine": draw(st.booleans())},
            "instancenorm": {"affine": draw(st.booleans())},
            "groupnorm": {"groups": draw(st.sampled_from(divisors(shape[0]))), "affine": draw(st.booleans())},
            "layernorm": {"dims": draw(st.integers(1, len(shape))), "affine": draw(st.booleans())},
            "lrn": {"size": draw(st.integers(1, 5))},
        }
        return op, extra[op]
    channels = shape[0]
    if choice == "route":
        op = draw(st.sampled_from(["chunk", "split", "channel_shuffle"]))
        if op == "chunk":
            chunks = draw(st.integers(1, channels))
            size = -(-channels // chunks)
            return op, {"chunks": chunks, "index": draw(st.integers(0, -(-channels // size) - 1))}
        if op == "split":
            cuts = sorted(draw(st.sets(st.integers(1, channels - 1), max_size=3))) if channels > 1 else []
            sizes = [b - a for a, b in zip([0, *cuts], [*cuts, channels])]
            return op, {"sizes": sizes, "index": draw(st.integers(0, len(sizes) - 1))}
        return op, {"groups": draw(st.sampled_from(divisors(channels)))}
    # merges: partners come from every tensor so far, so branches and residual edges appear
    op = draw(st.sampled_from(["add", "mul", "concat"]))
    if op == "add":
        partners = [name for name, s in tensors.items() if s == shape]
        return op, {"inputs": [current, *draw(st.lists(st.sampled_from(partners), min_size=1, max_size=2))]}
    if op == "mul":
        partners = [name for name, s in tensors.items() if len(s) == len(shape) and all(a == b or 1 in (a, b) for a, b in zip(s, shape))]
        return op, {"inputs": [current, draw(st.sampled_from(partners))]}
    axis = draw(st.integers(0, len(shape) - 1))
    partners = [name for name, s in tensors.items() if len(s) == len(shape) and all(a == b for i, (a, b) in enumerate(zip(s, shape)) if i != axis)]
    return op, {"inputs": [current, *draw(st.lists(st.sampled_from(partners), min_size=1, max_size=2))], "axis": axis}


@st.composite
def networks(draw) -> str:
    """A valid spec text: 1–8 layers on a C, C×L, C×H×W or C×D×H×W input of a few elements per axis."""
    rank = draw(st.integers(0, 3))
    shape = (draw(st.integers(1, 6)), *[draw(st.integers(1, (12, 9, 5)[rank - 1])) for _ in range(rank)])
    text = f"name: generated\ninput: {'x'.join(map(str, shape))}\nlayers:\n"
    tensors, current = {"input": shape}, "input"
    for index in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 4)) == 0:  # sometimes branch from an earlier tensor instead of the last one
            current = draw(st.sampled_from(sorted(tensors)))
        op, settings_ = draw(next_layer(tensors, current, index))
        name = f"l{index}"
        settings_ = {"name": name, **({"inputs": current} if "inputs" not in settings_ else {}), **settings_}
        text += f"  - {op}: {flow(settings_)}\n"
        tensors, current = shapes_of(text), name
    return text


@SLOW_OK
@given(text=networks(), batch=st.integers(1, 2), seed=st.integers(0, 2**16), fold=st.booleans())
def test_analytic_numbers_match_the_numpy_forward_pass(text, batch, seed, fold):
    result = verify_spec(load_text(text), batch=batch, seed=seed, fold_bn=fold, max_memory=SMALL_RUN)
    assert result.passed, (result.failures, text)
    assert [check.name for check in result.layers] == [row.name for row in cnncost.analyze(load_text(text)).layers]


@SLOW_OK
@given(data=st.data(), depth=st.integers(1, 3), channels=st.integers(1, 4), stride=st.integers(1, 2), size=st.integers(3, 9))
def test_blocks_repeats_and_expressions_match_numpy(data, depth, channels, stride, size):
    """The spec language's own features (args, ${...}, repeat/first, when) produce graphs numpy agrees with."""
    width = data.draw(st.integers(1, 3))
    text = f"""
name: blocks
input: {channels}x{size}x{size + 1}
blocks:
  unit:
    args: {{out: null, stride: 1, down: false, width: '${{out * {width}}}'}}
    layers:
      - conv2d: {{name: a, out: $width, kernel: 3, stride: $stride, padding: 1, groups: 1}}
      - batchnorm
      - relu
      - conv2d: {{name: b, out: $out, kernel: 1}}
      - conv2d: {{name: skip, inputs: in, out: $out, kernel: 1, stride: $stride, when: $down}}
      - add: {{inputs: [b, skip]}}
layers:
  - unit: {{name: stage, out: {channels}, repeat: {depth}, first: {{stride: {stride}, down: true}}}}
  - global_avgpool
"""
    result = verify_spec(load_text(text), batch=data.draw(st.integers(1, 2)), seed=data.draw(st.integers(0, 99)), fold_bn=data.draw(st.booleans()))
    assert result.passed, result.failures


# -- 2. mutations of valid specs ---------------------------------------------------------------------------

SEEDS = [
    (Path(__file__).resolve().parents[1] / "specs" / "lenet5.yaml").read_text(),
    """
name: residual
input: 4x8x8
blocks:
  basic:
    args: {out: null, stride: 1, downsample: false}
    layers:
      - conv2d: {name: conv1, out: $out, kernel: 3, stride: $stride, padding: 1, bias: false}
      - batchnorm: {name: bn1}
      - relu: {name: relu}
      - conv2d: {name: conv2, out: $out, kernel: 3, padding: 1, bias: false}
      - conv2d: {name: down, inputs: in, out: $out, kernel: 1, stride: $stride, when: $downsample}
      - add: {inputs: [conv2, down]}
layers:
  - basic: {name: layer1, out: 4, repeat: 2}
  - basic: {name: layer2, out: 8, repeat: 2, first: {stride: 2, downsample: true}}
  - global_avgpool: {keepdims: true}
  - mul: {inputs: [global_avgpool_1, layer2]}
  - flatten
  - linear: {out: 3}
""",
    """
name: shuffle
input: 6x5x5
output: out
layers:
  - chunk: {name: left, chunks: 2, index: 0}
  - split: {name: right, inputs: input, sizes: [2, 4], index: 1}
  - conv2d: {name: mix, inputs: right, out: 3, kernel: 3, padding: same, groups: 1}
  - concat: {inputs: [left, mix]}
  - channel_shuffle: {groups: 3}
  - maxpool2d: {kernel: 3, stride: 2, padding: 1, ceil_mode: true}
  - conv2d: {out: '${2 * 3}', kernel: [1, 3], dilation: [1, 2], padding: [0, 2]}
  - layernorm: {dims: 2}
  - softmax: {name: out, axis: -1}
""",
    """
name: flat
input: 3x16
layers:
  - conv1d: {out: 6, kernel: 3, stride: 2, groups: 3}
  - avgpool1d: {kernel: 2, count_include_pad: false, padding: 1}
  - groupnorm: {groups: 2}
  - lrn: {size: 3}
  - adaptive_maxpool1d: {output: 4}
  - linear: {out: 5}
""",
    """
name: decoder
input: 2x9x8
layers:
  - conv2d: {name: skip, out: 4, kernel: 3}
  - maxpool2d: {kernel: 2}
  - conv_transpose2d: {name: up, out: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1}
  - crop: {name: cut, inputs: skip, like: up}
  - concat: {inputs: [cut, up]}
  - pad: {padding: [[1, 0], 2], mode: reflect}
  - upsample: {scale: [1.5, 2], mode: bilinear, align_corners: true}
  - pixel_unshuffle: {factor: 2}
  - pixel_shuffle: {factor: 2}
  - crop: {size: [4, 5], offset: [1, 0]}
""",
    """
name: modern
input: 4x6x5
outputs: [out, side]
layers:
  - conv2d: {name: dw, out: 4, kernel: 3, padding: 1, groups: 4}
  - permute: {axes: [1, 2, 0]}
  - layernorm: {dims: 1}
  - linear: {out: 8, in: 4}
  - gelu
  - linear: {out: 4}
  - scale: {axis: -1}
  - permute: {name: back, axes: [2, 0, 1]}
  - add: {inputs: [back, dw]}
  - prelu: {per_channel: true}
  - mean: {name: pooled, axes: [0], keepdims: true}
  - amax: {name: peak, inputs: add_1, axes: [0], keepdims: true}
  - concat: {inputs: [pooled, peak]}
  - conv2d: {out: 1, kernel: 7, padding: 3}
  - sigmoid
  - mul: {name: gated, inputs: [add_1, sigmoid_1]}
  - reshape: {name: rows, shape: [4, 30]}
  - matmul: {inputs: [rows, transposed]}
  - softplus: {name: out, beta: 2, threshold: 10}
  - permute: {name: transposed, inputs: rows, axes: [1, 0]}
  - elu: {name: side, inputs: gated, alpha: 0.5}
  - mish: {name: unused_head, inputs: gated}
  - hardtanh: {inputs: unused_head, min: -2, max: 2}
""",
]
REPLACEMENTS = [
    0, -1, 1, 2, 3, 2.5, True, False, None, "", "x", "relu", "in", "input", "same", "$out", "${1 // 0}", "${out * 2}",
    [], [1], [1, 2, 3], {}, {"a": 1}, 10**12, 10**30, 10**101, "3x8x8", "n" * 300, "!!python/object:os.system",
]
KEYS = ["name", "inputs", "repeat", "first", "when", "output", "outputs", "out", "kernel", "stride", "groups", "axis", "axes",
        "layers", "blocks", "args", "padding", "output_padding", "mode", "scale", "size", "like", "offset", "factor",
        "shape", "in", "keepdims"]
GARBAGE = [b"\x00", b"\xff\xfe", b"\t", b"{", b"}", b"[", b"]", b":", b"- ", b"'", b'"', b"&a ", b"*a", b"!!python/object:os.system ",
           b"<<: ", b"\r\n", b"\n  ", b"${", b"%YAML 1.1\n", b"---\n", b"\xe2\x80\xa8", b"\x07", "é".encode(), b"#"]


def paths(node, prefix=()):
    """Every place in a parsed spec: (path to a container, key or index)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix, key
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield prefix, index
            yield from paths(value, (*prefix, index))


def at(tree, path):
    for step in path:
        tree = tree[step]
    return tree


def mutate_tree(tree, rng: random.Random, steps: int):
    """Delete, duplicate, retype, rename and swap, `steps` times, anywhere in the tree."""
    for _ in range(steps):
        places = list(paths(tree))
        if not places:
            return tree
        path, key = rng.choice(places)
        parent = at(tree, path)
        action = rng.choice(["delete", "duplicate", "retype", "rename", "swap"])
        if action == "delete":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(key, parent[key])
        elif action == "retype" or action == "duplicate":
            parent[key] = copy.deepcopy(rng.choice(REPLACEMENTS))  # later steps may mutate it
        elif action == "rename" and isinstance(parent, dict):
            parent[rng.choice(KEYS)] = parent.pop(key)
        else:
            other_path, other_key = rng.choice(places)
            other = at(tree, other_path)
            try:  # copies: swapping a value with one inside it must not make the tree contain itself
                parent[key], other[other_key] = copy.deepcopy(other[other_key]), copy.deepcopy(parent[key])
            except (KeyError, IndexError):  # one place was inside the other
                pass
    return tree


def mutate_bytes(data: bytes, rng: random.Random, steps: int) -> bytes:
    """Truncate, insert garbage, delete a slice, duplicate or swap lines."""
    for _ in range(steps):
        action = rng.choice(["truncate", "insert", "delete", "duplicate_line", "swap_lines"])
        at_ = rng.randrange(len(data) + 1)
        if action == "truncate":
            data = data[:at_]
        elif action == "insert":
            data = data[:at_] + rng.choice(GARBAGE) + data[at_:]
        elif action == "delete":
            data = data[:at_] + data[at_ + rng.randint(1, 20):]
        else:
            lines = data.split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            if action == "duplicate_line":
                lines.insert(i, lines[j])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


def survives(data: bytes) -> None:
    """Load, analyse and (when small) verify a mutant: a result or CnnCostError; numpy agrees with any result."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutant.yaml"
        path.write_bytes(data)
        try:
            spec = load(str(path))
            report = cnncost.analyze(spec)
        except CnnCostError as error:
            assert error.location is None or error.location.file == str(path), str(error)
            return
    if report.totals.macs <= 10**6 and report.totals.peak_activation_bytes <= 1 << 20:
        try:
            result = verify_spec(spec, max_memory=SMALL_RUN)
        except CnnCostError:
            return
        assert result.passed, (result.failures, data.decode(errors="replace"))


@SLOW_OK
@given(seed=st.sampled_from(range(len(SEEDS))), rng=st.randoms(use_true_random=False), steps=st.integers(1, 4))
def test_mutated_spec_trees_fail_cleanly(seed, rng, steps):
    tree = mutate_tree(yaml.safe_load(SEEDS[seed]), rng, steps)
    survives(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False).encode())


@SLOW_OK
@given(seed=st.sampled_from(range(len(SEEDS))), rng=st.randoms(use_true_random=False), steps=st.integers(1, 4))
def test_mutated_spec_bytes_fail_cleanly(seed, rng, steps):
    survives(mutate_bytes(SEEDS[seed].encode(), rng, steps))


# -- 3. random text into the loader and the expression language -----------------------------------------

def pieces(*tokens: str, max_size: int) -> st.SearchStrategy:
    return st.lists(st.sampled_from(tokens), max_size=max_size).map("".join)


YAMLISH = pieces(*"abc123 :-,[]{}'\"!&*#|>%@`?\n\t.$", "name: ", "input: ", "layers:", "relu", "\n- ", "  ", "!!int ", max_size=120)
EXPRISH = pieces(*"0123456789 +-*/%()<>=!,.x_'", "//", "if(", "min(", "max(", " and ", " or ", "not ", "true", "1e308", max_size=80)


@given(text=YAMLISH)
def test_random_text_is_data_or_a_clean_error(text):
    try:
        load_yaml(text, "fuzz.yaml")
    except CnnCostError as error:
        assert str(error).startswith("fuzz.yaml")


@given(source=EXPRISH, x=st.one_of(st.integers(-(10**120), 10**120), st.floats(allow_nan=True), st.booleans()))
def test_random_expressions_are_values_or_expression_errors(source, x):
    try:
        result = evaluate(source, {"x": x})
    except ExprError:
        return
    assert isinstance(result, (int, float, bool))


# -- 4. hostile text everywhere, every output format (issue #16) ---------------------------------------------
# Names and text arguments with escapes, control characters and CI syntax, hostile file names, each through
# every output format: the run ends in a report, a one-line error or a budget failure, and each format keeps
# its invariants (GitHub lines cannot start a new command, JUnit parses, Markdown rows keep their column count,
# JSON parses strictly).

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

from cnncost.cli import main  # noqa: E402

HOSTILE_CHARS = st.sampled_from(list("ab|:,%<>&\"'\\$ {}[]#*!\n\r\t\x00\x01\x07\x1b\x7f\x85\x9b\u2028\ufffe卷🔥")
                                + ["\n::error::", "\r::add-mask::", "%0A", "${x}", "$(x)", "]]>", "<!--"])
PRINTABLE_CHARS = st.sampled_from(list("ab|:,%<>&\"'\\$ {}[]#*!卷🔥\ufffe") + ["::error::", "%0A", "]]>", "<!--", " | "])
# half the time printable (so the run reaches every renderer), half the time with control characters too
HOSTILE_TEXT = st.one_of(st.lists(PRINTABLE_CHARS, min_size=1, max_size=12), st.lists(HOSTILE_CHARS, min_size=1, max_size=12)).map("".join)
FILE_NAME = st.lists(st.sampled_from(list("ab-_.:,%| \n\t\x01\x1b卷") + ["\n::error::", "\r::add-mask::", ".."]), min_size=1, max_size=12).map("".join).filter(
    lambda name: name not in (".", "..") and "/" not in name)
HOSTILE_EXAMPLES = 400 if os.environ.get("CNNCOST_FUZZ") else 15


def cli_in_process(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(arg) for arg in args])
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def hostile_spec(spec_name: str, layer_name: str, argument: str) -> str:
    quoted = lambda text: json.dumps(text)  # a YAML double-quoted scalar: every character spelled as an escape
    return (f"name: {quoted(spec_name)}\ninput: 3x8x8\nbudget: {{params: 1}}\n"
            f"blocks:\n  b:\n    args: {{s: x}}\n    layers:\n      - relu: {{name: {quoted('n' + '${s}')}}}\n"
            f"layers:\n  - conv2d: {{name: {quoted(layer_name)}, out: 2, kernel: 1}}\n  - b: {{s: {quoted(argument)}}}\n")


@settings(max_examples=HOSTILE_EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(spec_name=HOSTILE_TEXT, layer_name=HOSTILE_TEXT, argument=HOSTILE_TEXT, file_name=FILE_NAME)
def test_hostile_text_keeps_every_format_intact(spec_name, layer_name, argument, file_name):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / file_name / "net.yaml"
        path.parent.mkdir()
        path.write_text(hostile_spec(spec_name, layer_name, argument), encoding="utf-8")
        for fmt in ("json", "csv", "markdown", "table"):
            code, out, err = cli_in_process("summary", path, "--format", fmt)
            assert code in (0, 2) and "Traceback" not in err, err
            if code == 2:  # independent mistakes are reported together (issue #15): one whole line each
                assert out == "" and err.endswith("\n") and all(re.search(r"(^|: )error: ", line) for line in err.splitlines()), err
                continue
            if fmt == "json":
                strict_json(out)
            if fmt == "markdown":
                rows = [line for line in out.splitlines() if line.startswith("|")]
                assert len({len(re.split(r"(?<!\\)\|", row)) for row in rows}) == 1, rows
        for fmt in ("github", "junit", "json", "text"):
            code, out, err = cli_in_process("check", path, "lenet5", "--format", fmt)
            assert code in (1, 2) and "Traceback" not in err, err
            if fmt == "github":
                commands = [line for line in re.split(r"\r\n|\r|\n", out) if line.lstrip().startswith("::")]
                assert commands and all(line.startswith("::error file=") for line in commands), commands
            if fmt == "junit":
                assert ET.fromstring(out).get("tests")
            if fmt == "json":
                strict_json(out)
