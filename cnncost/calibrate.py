"""Measure this machine with numpy and write a device profile (`cnncost calibrate -o this-machine.yaml`).

What is measured is what a numpy forward pass meets: float32 matrix products at the shapes convolutions become
(im2col) and linear layers are, whole 3×3 convolutions done the plain numpy way (pad, window view, copy to
columns, one product), copies into newly allocated arrays (a layer writes a new output), an elementwise ufunc,
and the fixed cost of a tiny convolution's few numpy calls. Each figure is the best of several repeats, since a
shared machine only ever slows a run down.

Profile figures: peak_flops.float32 = the fastest product; memory_bandwidth = bytes read and written per second
by the copy; efficiency (the share of the roofline reached: the roofline's time over the measured time) for
conv2d from the median whole convolution (the copies and the product's shape cost what the peak does not show),
for linear from the batch-8 classifier product, and as the default from the elementwise ufunc; overhead = the
tiny convolution's time. The raw figures are kept under `measurements`.
"""
from __future__ import annotations

import os
import platform
import time
from statistics import median

from cnncost.blasenv import let_blas_threads_sleep

# (rows, inner, columns): square products, then im2col shapes of 3×3 convs at batch 8 (ResNet stages at 224×224:
# 8·56·56 positions × 64·9 → 64, ...), then a classifier's linear layer at batch 8.
LINEAR_SHAPE = (8, 4096, 4096)
GEMM_SHAPES = ((512, 512, 512), (1024, 1024, 1024), (25088, 576, 64), (6272, 1152, 128), (1568, 2304, 256),
               (392, 4608, 512), LINEAR_SHAPE)
# 3×3, stride 1, padding 1 convolutions at batch 8: (channels in = out, height = width), ResNet-18's stages.
CONV_SHAPES = ((64, 56), (128, 28), (256, 14))
COPY_ELEMENTS = 8 * 2**20  # 32 MiB of float32, larger than a laptop's last-level cache
ELEMENTWISE_ELEMENTS = 4 * 2**20
STEP_SECONDS = 1.5  # per measurement: 7 products, 3 convolutions and 2 others ≈ 20 s, with set-up about 30 s


def _best(run, seconds: float = STEP_SECONDS) -> float:
    """The fastest of repeated runs within `seconds` (at least 3)."""
    times, spent = [], 0.0
    while len(times) < 3 or spent < seconds:
        start = time.perf_counter()
        run()
        took = time.perf_counter() - start
        times.append(took)
        spent += took
        if len(times) >= 200:
            break
    return min(times)


def steps() -> list:
    """(label, function returning (key, value)) per measurement, so a caller can show progress."""
    import numpy as np

    rng = np.random.default_rng(0)

    def gemm(m, k, n):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        return f"gemm_{m}x{k}x{n}", int(2 * m * k * n / _best(lambda: a @ b))

    def conv(channels, size, batch=8, seconds=STEP_SECONDS):
        """A 3×3, stride 1, padding 1 convolution the plain numpy way; its FLOP/s and its time."""
        x = rng.standard_normal((batch, channels, size, size), dtype=np.float32)
        weight = rng.standard_normal((channels, channels * 9), dtype=np.float32)

        def run():
            padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
            windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # n, c, h, w, 3, 3
            columns = windows.transpose(1, 4, 5, 0, 2, 3).reshape(channels * 9, -1)  # the im2col copy
            return (weight @ columns).reshape(channels, batch, size, size).transpose(1, 0, 2, 3).copy()

        seconds = _best(run, seconds)
        return int(2 * batch * channels * channels * 9 * size * size / seconds), seconds

    def copy():
        source = rng.standard_normal(COPY_ELEMENTS, dtype=np.float32)
        return "copy_bytes_per_second", int(2 * source.nbytes / _best(source.copy))

    def elementwise():
        x = rng.standard_normal(ELEMENTWISE_ELEMENTS, dtype=np.float32)
        return "elementwise_elements_per_second", int(x.size / _best(lambda: np.maximum(x, 0)))

    def whole_conv(channels, size):
        return f"conv3x3_{channels}x{size}x{size}_flops", conv(channels, size)[0]

    return [(f"GEMM {m}×{k}×{n}", lambda s=shape: gemm(*s)) for shape in GEMM_SHAPES for m, k, n in [shape]] + [
        (f"conv 3×3 {c}×{n}×{n}", lambda c=c, n=n: whole_conv(c, n)) for c, n in CONV_SHAPES] + [
        ("copy bandwidth", copy),
        ("elementwise throughput", elementwise),
        ("per-layer overhead", lambda: ("tiny_layer_seconds", conv(4, 4, batch=1, seconds=0.3)[1])),
    ]


def measure(progress=None) -> dict:
    """Every measurement by key; `progress()` is called after each."""
    let_blas_threads_sleep()
    out = {}
    for _, run in steps():
        key, value = run()
        out[key] = value
        if progress:
            progress()
    return out


def _convolutions() -> list:
    from cnncost.ops import OPS

    return sorted(name for name, op in OPS.items() if op.kind == "conv")


def _share(rate: float, roof: float) -> float:
    """A measured rate as a share of its roof, kept within (0, 1] as a profile requires (three decimals)."""
    return min(1.0, max(0.001, round(rate / roof, 3)))


def profile_text(measured: dict, name: str | None = None) -> str:
    """The profile YAML for these measurements (cnncost.devices reads it back)."""
    import yaml

    import numpy as np

    gemms = [value for key, value in measured.items() if key.startswith("gemm_")]
    peak, bandwidth = max(gemms), measured["copy_bytes_per_second"]

    def share(flops: int, moved: int, rate: float) -> float:
        """The roofline's time for this work over the measured time: the share of the roofline reached."""
        return _share(max(flops / peak, moved / bandwidth) * rate / flops, 1.0)

    convs = [share(2 * 8 * c * c * 9 * n * n, 4 * (2 * 8 * c * n * n + c * c * 9), measured[f"conv3x3_{c}x{n}x{n}_flops"])
             for c, n in CONV_SHAPES]
    m, k, n = LINEAR_SHAPE
    linear = share(2 * m * k * n, 4 * (m * k + k * n + m * n), measured[f"gemm_{m}x{k}x{n}"])
    elementwise = share(1, 8, measured["elementwise_elements_per_second"])  # float32: 1 FLOP, 4 B read + 4 written
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    doc = {
        "name": name or f"{platform.node() or 'this-machine'}-numpy",
        "description": f"measured with numpy {np.__version__} by `cnncost calibrate` on {when}",
        "kind": "measured",
        "peak_flops": {"float32": peak},
        "memory_bandwidth": f"{bandwidth}B/s",
        "overhead": f"{max(1, round(measured['tiny_layer_seconds'] * 1e9))}ns",
        # the 2-D convolution stands for every op documented as a convolution (1-D, 3-D, transposed): numpy runs
        # them all as a window copy and a product
        "efficiency": {"default": elementwise, **{op: median(convs) for op in _convolutions()}, "linear": linear},
        "sources": {
            "peak_flops": "the fastest float32 matrix product in measurements (FLOP/s, 2 per multiply-add)",
            "memory_bandwidth": "numpy copy of 32 MiB into a new array: bytes read + written per second",
            "overhead": "a 3×3 conv of 4 channels on a 4×4 map, the numpy way: the fixed cost of a layer's few calls",
            "efficiency": "the roofline's time over the measured time: every convolution, the median 3×3 conv2d's; "
                          "linear, the 8×4096 by 4096×4096 product's; default, numpy.maximum's",
        },
        "measurements": {**measured, "cpu_count": os.cpu_count(), "load_average_1min": load,
                         "machine": platform.machine(), "processor": platform.processor() or ""},
    }
    header = (f"# Measured by `cnncost calibrate` on {when}; the 1-minute load average was {load:.2f} over {os.cpu_count()} CPUs.\n"
              if load is not None else f"# Measured by `cnncost calibrate` on {when}.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
