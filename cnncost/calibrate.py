"""Measure this machine with numpy and write a device profile (`cnncost calibrate -o this-machine.yaml`).

What is measured is what a numpy forward pass meets: float32 matrix products at the shapes convolutions become
(im2col) and linear layers are, copies into newly allocated arrays (a layer writes a new output), an elementwise
ufunc, and one-layer micro-benchmarks run through verify's own numpy forward (cnncost.forward): dense, depthwise
and grouped convolutions, a linear layer, activations, normalizations, merges and pooling at typical stage shapes,
plus a tiny convolution for the fixed cost of a layer. Each figure is the best of several repeats, since a
shared machine only ever slows a run down.

Profile figures: peak_flops.float32 = the fastest product; memory_bandwidth = bytes read and written per second
by the copy; overhead = the tiny layer's time; efficiency (the share of the roofline reached) per op, and per
variant of an op (`conv2d depthwise`), = the roofline's time over the measured time less the overhead, the
median over that key's micro-benchmarks; the default from the elementwise ufunc. The micro-benchmarks are single
synthetic layers, never the bundled models the validation benchmark times: nothing is fitted to those. The raw
figures are kept under `measurements`.
"""
from __future__ import annotations

import os
import platform
import time
from statistics import median

from cnncost.blasenv import let_blas_threads_sleep

# (rows, inner, columns): square products, then im2col shapes of 3×3 convs at batch 8 (ResNet stages at 224×224:
# 8·56·56 positions × 64·9 → 64, ...), then a classifier's linear layer at batch 8. The fastest is the peak.
GEMM_SHAPES = ((512, 512, 512), (1024, 1024, 1024), (25088, 576, 64), (6272, 1152, 128), (1568, 2304, 256),
               (392, 4608, 512), (8, 4096, 4096))
# One-layer micro-benchmarks, each run through verify's numpy forward at batch 8: (label, the efficiency key it
# measures, input shape, the layers). The layer named `timed` is timed. Shapes are typical stage shapes of
# ImageNet networks (ResNet, MobileNet, ResNeXt, ConvNeXt); no bundled model is run, and nothing is fitted to
# any model's measured time. An efficiency key measured more than once gets the median. A convolution's rate
# depends on the shape of the product it runs as (Op.product_shape: a few filters, a shallow window or a small
# map each leave most of the product's rate unused), so the convolutions span those shapes, from CIFAR's
# 32×32 stem to 112×112 maps, 3 to 512 filters, 9 to 2,304 deep, and each is kept as a `shape_efficiency`;
# so do the linear layers, from a classifier on one vector (a matrix-vector product per sample) to ConvNeXt's
# channels-last MLP on every position of a 56×56 map.
LAYERS = (
    ("conv3x3_64x56x56", "conv2d", "64x56x56", "conv2d: {name: timed, out: 64, kernel: 3, padding: 1}"),
    ("conv3x3_128x28x28", "conv2d", "128x28x28", "conv2d: {name: timed, out: 128, kernel: 3, padding: 1}"),
    ("conv3x3_256x14x14", "conv2d", "256x14x14", "conv2d: {name: timed, out: 256, kernel: 3, padding: 1}"),
    ("conv1x1_32x56x56", "conv2d pointwise", "32x56x56", "conv2d: {name: timed, out: 64, kernel: 1}"),
    ("conv1x1_128x28x28", "conv2d pointwise", "128x28x28", "conv2d: {name: timed, out: 128, kernel: 1}"),
    ("conv1x1_256x56x56", "conv2d pointwise", "256x56x56", "conv2d: {name: timed, out: 64, kernel: 1}"),
    ("conv1x1_512x7x7", "conv2d pointwise", "512x7x7", "conv2d: {name: timed, out: 512, kernel: 1}"),
    ("conv7x7s2_3x224x224", "conv2d", "3x224x224", "conv2d: {name: timed, out: 64, kernel: 7, stride: 2, padding: 3}"),
    ("conv3x3_32x112x112", "conv2d", "32x112x112", "conv2d: {name: timed, out: 32, kernel: 3, padding: 1}"),
    ("conv3x3_32x112x112_to3", "conv2d", "32x112x112", "conv2d: {name: timed, out: 3, kernel: 3, padding: 1}"),
    ("conv3x3_3x32x32", "conv2d", "3x32x32", "conv2d: {name: timed, out: 16, kernel: 3, padding: 1}"),
    ("conv3x3_16x16x16", "conv2d", "16x16x16", "conv2d: {name: timed, out: 32, kernel: 3, padding: 1}"),
    ("depthwise3x3_32x112x112", "conv2d depthwise", "32x112x112", "conv2d: {name: timed, out: 32, kernel: 3, padding: 1, groups: 32}"),
    ("depthwise3x3_96x56x56", "conv2d depthwise", "96x56x56", "conv2d: {name: timed, out: 96, kernel: 3, padding: 1, groups: 96}"),
    ("depthwise3x3_384x14x14", "conv2d depthwise", "384x14x14", "conv2d: {name: timed, out: 384, kernel: 3, padding: 1, groups: 384}"),
    ("depthwise3x3_768x7x7", "conv2d depthwise", "768x7x7", "conv2d: {name: timed, out: 768, kernel: 3, padding: 1, groups: 768}"),
    ("depthwise5x5_256x28x28", "conv2d depthwise", "256x28x28", "conv2d: {name: timed, out: 256, kernel: 5, padding: 2, groups: 256}"),
    ("depthwise7x7_192x28x28", "conv2d depthwise", "192x28x28", "conv2d: {name: timed, out: 192, kernel: 7, padding: 3, groups: 192}"),
    ("grouped3x3_128x56x56_g32", "conv2d grouped", "128x56x56", "conv2d: {name: timed, out: 128, kernel: 3, padding: 1, groups: 32}"),
    ("grouped3x3_512x14x14_g32", "conv2d grouped", "512x14x14", "conv2d: {name: timed, out: 512, kernel: 3, padding: 1, groups: 32}"),
    ("linear_4096x4096", "linear", "4096", "linear: {name: timed, out: 4096}"),
    ("linear_1280_to1000", "linear", "1280", "linear: {name: timed, out: 1000}"),
    ("linear_56x56x96_to384", "linear", "56x56x96", "linear: {name: timed, out: 384}"),
    ("linear_7x7x3072_to768", "linear", "7x7x3072", "linear: {name: timed, out: 768}"),
    ("relu_64x112x112", "relu", "64x112x112", "relu: {name: timed}"),
    ("relu6_96x56x56", "relu6", "96x56x56", "relu6: {name: timed}"),
    ("silu_96x56x56", "silu", "96x56x56", "silu: {name: timed}"),
    ("sigmoid_96x56x56", "sigmoid", "96x56x56", "sigmoid: {name: timed}"),
    ("hardswish_96x56x56", "hardswish", "96x56x56", "hardswish: {name: timed}"),
    ("gelu_56x56x384", "gelu", "56x56x384", "gelu: {name: timed}"),
    ("batchnorm_64x112x112", "batchnorm", "64x112x112", "batchnorm: {name: timed}"),
    ("layernorm_56x56x96", "layernorm", "56x56x96", "layernorm: {name: timed, dims: 1}"),
    ("lrn5_64x55x55", "lrn", "64x55x55", "lrn: {name: timed, size: 5}"),
    ("add_256x28x28", "add", "256x28x28", "relu: {name: other}\n  - add: {name: timed, inputs: [input, other]}"),
    ("mul_256x28x28", "mul", "256x28x28", "relu: {name: other}\n  - mul: {name: timed, inputs: [input, other]}"),
    ("concat_2x128x28x28", "concat", "128x28x28", "relu: {name: other}\n  - concat: {name: timed, inputs: [input, other]}"),
    ("permute_96x56x56", "permute", "96x56x56", "permute: {name: timed, axes: [1, 2, 0]}"),
    ("maxpool3x3s2_64x112x112", "maxpool2d", "64x112x112", "maxpool2d: {name: timed, kernel: 3, stride: 2, padding: 1}"),
    ("avgpool2x2_256x28x28", "avgpool2d", "256x28x28", "avgpool2d: {name: timed, kernel: 2, stride: 2}"),
    ("pixel_shuffle3_18x56x56", "pixel_shuffle", "18x56x56", "pixel_shuffle: {name: timed, factor: 3}"),
)
# Layers on 4 channels of 4×4 at batch 1: what a layer costs when it does almost nothing. A ReLU gives `overhead`
# (any layer's dispatch); a convolution's few dozen numpy calls (padding, window copy, product) and a linear
# layer's product cost more, so they give their own `op_overhead`. A pointwise convolution skips the window copy
# (one product over the input as it lies, once its map has 128 positions: hence 16×16), so it has its own.
TINY_LAYERS = (
    ("tiny_relu", "overhead", "4x4x4", "relu: {name: timed}"),
    ("tiny_conv3x3", "conv2d", "4x4x4", "conv2d: {name: timed, out: 4, kernel: 3, padding: 1}"),
    ("tiny_conv1x1", "conv2d pointwise", "4x16x16", "conv2d: {name: timed, out: 4, kernel: 1}"),
    ("tiny_depthwise3x3", "conv2d depthwise", "4x4x4", "conv2d: {name: timed, out: 4, kernel: 3, padding: 1, groups: 4}"),
    ("tiny_grouped3x3", "conv2d grouped", "4x4x4", "conv2d: {name: timed, out: 4, kernel: 3, padding: 1, groups: 2}"),
    ("tiny_linear", "linear", "4", "linear: {name: timed, out: 4}"),
)
TINY_SECONDS = 0.3
BATCH = 8
COPY_ELEMENTS = 8 * 2**20  # 32 MiB of float32, larger than a laptop's last-level cache
ELEMENTWISE_ELEMENTS = 4 * 2**20
STEP_SECONDS = 1.0  # per product; each layer gets LAYER_SECONDS per round: 7 × 1.0 + 2 × 37 × 0.3 + the rest ≈ 35 s
LAYER_SECONDS = 0.3
# The layers are timed in two rounds some 15 s apart, each keeping its fastest: another process's burst of work
# slows a two-thread product tenfold or more while it lasts. Two rounds outlast a short burst, not a CPU busy
# throughout (docs/roofline.md).
ROUNDS = 2


def _fastest(sample, seconds: float) -> float:
    """The least of the times `sample()` returns (a list per call), called until there are at least 3 and
    `seconds` have passed, or there are 200."""
    times, started = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - started < seconds:
        times += sample()
        if len(times) >= 200:
            break
    return min(times)


def _best(run, seconds: float = STEP_SECONDS) -> float:
    """The fastest of repeated runs within `seconds` (at least 3)."""

    def once() -> list:
        start = time.perf_counter()
        run()
        return [time.perf_counter() - start]

    return _fastest(once, seconds)


def layer_spec(layer: tuple, batch: int = BATCH):
    """The one-layer spec of a micro-benchmark (its analysis gives the FLOPs and bytes, its forward the time)."""
    from cnncost.spec import load_text

    label, _, shape, layers = layer
    return load_text(f"name: {label}\ninput: {shape}\nlayers:\n  - {layers}\n", f"<calibrate {label}>")


def layer_seconds(layer: tuple, batch: int = BATCH, seconds: float | None = None) -> float:
    """The fastest time verify's numpy forward takes for the micro-benchmark's `timed` layer."""
    from cnncost.forward import ForwardRun

    graph = layer_spec(layer).graph
    return _fastest(lambda: [done.seconds for done in ForwardRun(graph, batch, seed=0).layers() if done.node.name == "timed"],
                    LAYER_SECONDS if seconds is None else seconds)


def steps() -> list:
    """(label, function returning (key, value)) per measurement, so a caller can show progress."""
    import numpy as np

    rng = np.random.default_rng(0)

    def gemm(m, k, n):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        return f"gemm_{m}x{k}x{n}", int(2 * m * k * n / _best(lambda: a @ b))

    def copy():
        source = rng.standard_normal(COPY_ELEMENTS, dtype=np.float32)
        return "copy_bytes_per_second", int(2 * source.nbytes / _best(source.copy))

    def elementwise():
        x = rng.standard_normal(ELEMENTWISE_ELEMENTS, dtype=np.float32)
        return "elementwise_elements_per_second", int(x.size / _best(lambda: np.maximum(x, 0)))

    layers = [(layer[0], lambda layer=layer: (f"{layer[0]}_seconds", layer_seconds(layer))) for layer in LAYERS]
    return [(f"GEMM {m}×{k}×{n}", lambda s=shape: gemm(*s)) for shape in GEMM_SHAPES for m, k, n in [shape]] + layers + [
        ("copy bandwidth", copy),
        ("elementwise throughput", elementwise),
    ] + [(layer[0], lambda layer=layer: (f"{layer[0]}_seconds", layer_seconds(layer, batch=1, seconds=TINY_SECONDS)))
         for layer in TINY_LAYERS] + layers * (ROUNDS - 1)


def measure(progress=None) -> dict:
    """Every measurement by key (a time measured in several rounds: the least); `progress()` is called after each."""
    let_blas_threads_sleep()
    out = {}
    for _, run in steps():
        key, value = run()
        out[key] = min(value, out.get(key, value)) if key.endswith("_seconds") else value
        if progress:
            progress()
    return out


def _convolutions() -> list:
    from cnncost.ops import OPS

    return sorted(name for name, op in OPS.items() if op.kind == "conv")


def _share(rate: float, roof: float) -> float:
    """A measured rate as a share of its roof, kept within (0, 1] as a profile requires (three decimals)."""
    return min(1.0, max(0.001, round(rate / roof, 3)))


def overheads(measured: dict) -> dict:
    """Seconds per overhead key (`overhead`, or an op and variant that has its own) from the tiny layers."""
    return {key: measured[f"{label}_seconds"] for label, key, _, _ in TINY_LAYERS}


def layer_shares(measured: dict, peak: int, bandwidth: int) -> list:
    """Per micro-benchmark, (its efficiency key, its product shape or None, the roofline's time over the measured
    time less the layer's overhead: the estimate adds that back, cnncost.roofline)."""
    from cnncost.analysis import analyze_spec
    from cnncost.devices import most_specific
    from cnncost.ops import OPS

    fixed = overheads(measured)
    shares = []
    for layer in LAYERS:
        (row,) = [row for row in analyze_spec(layer_spec(layer), batch=BATCH).layers if row.name == "timed"]
        roof = max(row.flops / peak, (row.bytes_read + row.bytes_written) / bandwidth)
        op, _, variant = layer[1].partition(" ")
        overhead = most_specific(fixed, op, variant or None, fixed["overhead"])
        spent = max(measured[f"{layer[0]}_seconds"] - overhead, 1e-9)
        shape = OPS[row.op].product_shape(row.attrs, list(row.input_shapes), row.output_shape)
        shares.append((layer[1], shape, _share(roof, spent)))
    return shares


def efficiencies(shares: list) -> dict:
    """Per efficiency key, the median over its micro-benchmarks."""
    by_key: dict = {}
    for key, _, share in shares:
        by_key.setdefault(key, []).append(share)
    return {key: round(median(values), 3) for key, values in by_key.items()}


def shape_efficiencies(shares: list) -> dict:
    """Per efficiency key, the measured product shapes, as a profile's shape_efficiency lists them."""
    from cnncost.devices import SHAPE_KEYS

    shapes: dict = {}
    for key, shape, share in shares:
        if shape:
            shapes.setdefault(key, []).append(dict(zip(SHAPE_KEYS, (*shape, share))))
    return shapes


def every_convolution(values: dict) -> dict:
    """conv2d's figures (per variant) for every op documented as a convolution (1-D, 3-D, transposed): numpy runs
    them all as a window copy and a product, and their depthwise and grouped variants as a batched product."""
    return {f"{op}{key[6:]}": value for op in _convolutions() for key, value in values.items() if key.startswith("conv2d")}


def every_op(values: dict) -> dict:
    """A profile's figures per op: conv2d's for every convolution, the others' as measured."""
    return {**every_convolution(values), **{key: value for key, value in values.items() if not key.startswith("conv2d")}}


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1e9))}ns"


def profile_text(measured: dict, name: str | None = None) -> str:
    """The profile YAML for these measurements (cnncost.devices reads it back)."""
    import yaml

    import numpy as np

    gemms = [value for key, value in measured.items() if key.startswith("gemm_")]
    peak, bandwidth, fixed = max(gemms), measured["copy_bytes_per_second"], overheads(measured)
    shares = layer_shares(measured, peak, bandwidth)
    layers, shapes = efficiencies(shares), shape_efficiencies(shares)
    efficiency = {"default": _share(measured["elementwise_elements_per_second"] * 8, bandwidth),  # 4 B read + 4 written
                  **every_op(layers)}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    doc = {
        "name": name or f"{platform.node() or 'this-machine'}-numpy",
        "description": f"measured with numpy {np.__version__} by `cnncost calibrate` on {when}",
        "kind": "measured",
        "peak_flops": {"float32": peak},
        "memory_bandwidth": f"{bandwidth}B/s",
        "overhead": _duration(fixed["overhead"]),
        "op_overhead": {key: _duration(value) for key, value in every_op(fixed).items() if key != "overhead"},
        "efficiency": efficiency,
        # convolutions only: a linear layer takes the median of its benchmarks, its shapes are not interpolated
        "shape_efficiency": every_convolution(shapes),
        "sources": {
            "peak_flops": "the fastest float32 matrix product in measurements (FLOP/s, 2 per multiply-add)",
            "memory_bandwidth": "numpy copy of 32 MiB into a new array: bytes read + written per second",
            "overhead": "a ReLU of 4 channels on a 4×4 map at batch 1 through verify's numpy forward: the fixed cost of a layer",
            "op_overhead": "the same for a 3×3 convolution (dense, depthwise, grouped: every convolution op takes "
                           "conv2d's), a 1×1 convolution on 4 channels of 16×16 (pointwise) and a linear layer of 4 features",
            "efficiency": "the roofline's time over the measured time less the overhead, for one-layer micro-benchmarks "
                          "at batch 8 through verify's numpy forward (median per key; every convolution op takes "
                          "conv2d's, per variant); default, numpy.maximum's share of the copy bandwidth",
            "shape_efficiency": "the same share for each convolution micro-benchmark, at its product shape (rows: "
                                "filters per group, depth: input channels per group × taps, columns: output positions)",
        },
        "measurements": {**measured, "cpu_count": os.cpu_count(), "load_average_1min": load,
                         "machine": platform.machine(), "processor": platform.processor() or ""},
    }
    header = (f"# Measured by `cnncost calibrate` on {when}; the 1-minute load average was {load:.2f} over {os.cpu_count()} CPUs.\n"
              if load is not None else f"# Measured by `cnncost calibrate` on {when}.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
