"""The second computation: run the network in numpy and compare what it measures with the Report.

The two paths share only the parsed spec. Per layer we compare the predicted output shape with the
array produced, predicted params with the elements the kernel path allocated, and predicted MACs with
the MACs counted from the operands of the matmuls actually executed. Peak activation memory is measured
by our own accounting of live arrays: every array is held until its last reader has run, the input
counts, and the peak is read while a layer's inputs and new output are alive (the same convention as
the analytic model, measured on the real arrays' nbytes).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from math import prod

from cnncost.analysis import analyze_spec
from cnncost.blasenv import let_blas_threads_sleep
from cnncost.errors import CnnCostError
from cnncost.gcpause import gc_paused
from cnncost.fold import fold_batchnorm, foldable_pairs
from cnncost.graph import INPUT
from cnncost.seeded import input_array, layer_rng, layer_weights


def relative_error(ours, theirs) -> float:
    """max |theirs − ours| / max |ours|; infinite when the shapes differ."""
    import numpy as np

    if ours.shape != theirs.shape:
        return float("inf")
    if not ours.size:
        return 0.0
    return float(np.abs(ours - theirs).max()) / (float(np.abs(ours).max()) or 1.0)

FOLD_TOLERANCE = 1e-4  # float32: max |folded − unfolded| relative to max |unfolded|
ENGINE_TOLERANCE = 1e-4  # float32: max |onnxruntime − numpy| relative to max |numpy|, per layer


@dataclass(frozen=True)
class LayerCheck:
    name: str
    op: str
    predicted_shape: tuple
    actual_shape: tuple
    predicted_params: int
    actual_params: int
    predicted_macs: int
    actual_macs: int
    engine_error: float | None = None  # with a second engine: max |theirs − numpy| / max |numpy| of this output

    @property
    def engine_ok(self) -> bool:
        return self.engine_error is None or self.engine_error <= ENGINE_TOLERANCE

    @property
    def shape_ok(self) -> bool:
        return self.predicted_shape == self.actual_shape

    @property
    def params_ok(self) -> bool:
        return self.predicted_params == self.actual_params

    @property
    def macs_ok(self) -> bool:
        return self.predicted_macs == self.actual_macs

    @property
    def ok(self) -> bool:
        return self.shape_ok and self.params_ok and self.macs_ok and self.engine_ok


@dataclass(frozen=True)
class VerifyResult:
    model: str
    input_shape: tuple
    batch: int
    seed: int
    layers: tuple
    predicted_peak: int
    measured_peak: int
    predicted_peak_layer: str
    measured_peak_layer: str
    estimate_bytes: int
    forward_seconds: float
    macs: int
    output_finite: bool
    fold_error: float | None = None  # max relative difference folded vs unfolded, with --fold-bn
    folded_layers: int = 0
    notes: tuple = field(default=())
    engine: str = "numpy"  # with "onnxruntime", each layer's output is also compared with onnxruntime's

    @property
    def peak_ok(self) -> bool:
        return self.predicted_peak == self.measured_peak

    @property
    def fold_ok(self) -> bool:
        return self.fold_error is None or self.fold_error <= FOLD_TOLERANCE

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.layers) and self.peak_ok and self.output_finite and self.fold_ok

    @property
    def failures(self) -> list[str]:
        out = []
        for c in self.layers:
            if not c.shape_ok:
                out.append(f"{c.name}: shape predicted {c.predicted_shape}, got {c.actual_shape}")
            if not c.params_ok:
                out.append(f"{c.name}: params predicted {c.predicted_params:,}, allocated {c.actual_params:,}")
            if not c.macs_ok:
                out.append(f"{c.name}: MACs predicted {c.predicted_macs:,}, executed {c.actual_macs:,}")
            if not c.engine_ok:
                out.append(f"{c.name}: onnxruntime differs from numpy by {c.engine_error:.2e} (tolerance {ENGINE_TOLERANCE:.0e})")
        if not self.peak_ok:
            out.append(f"peak activation predicted {self.predicted_peak:,} B, measured {self.measured_peak:,} B")
        if not self.output_finite:
            out.append("the output has NaN or infinite values")
        if not self.fold_ok:
            out.append(f"folded output differs by {self.fold_error:.2e} (tolerance {FOLD_TOLERANCE:.0e})")
        return out

    @property
    def gmacs_per_second(self) -> float:
        return self.macs / self.forward_seconds / 1e9 if self.forward_seconds else 0.0


def available_memory() -> int:
    """MemAvailable from /proc/meminfo, else physical memory."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_estimate(graph, report) -> int:
    """Bytes the forward pass needs at most: the largest layer's weights (generated per layer, then
    dropped), the peak of live activations, and the largest workspace of one layer; all float32."""
    rows = {row.name: row for row in report.layers}
    shapes = {INPUT: (report.batch, *graph.input_shape)}
    workspace = 0
    for node in graph.nodes:
        workspace = max(workspace, workspace_bytes(node, shapes[node.inputs[0]]))
        shapes[node.name] = (report.batch, *rows[node.name].output_shape)
    weights = max(((row.params + row.buffers) * 4 for row in report.layers), default=0)
    return weights + report.totals.peak_activation_bytes + workspace


def workspace_bytes(node, input_shape: tuple) -> int:
    """Temporary bytes one layer allocates besides its input and output. A convolution: its im2col chunk.
    Max or average pooling with padding (or ceil_mode) first copies its input into a padded array; along
    each axis that is at most the input, the pad before and max(pad, effective kernel) after, and the
    partial result pooled from it is no larger. LRN pads its squares with size − 1 zero channels. A huge
    pad or window on a tiny input is refused here, not by the OS."""
    from cnncost.kernels import im2col_bytes

    attrs = node.attrs
    if node.op.startswith("conv"):
        return im2col_bytes(node.op, attrs, input_shape)
    if node.op == "lrn":
        n, c, *spatial = input_shape
        return n * (c + attrs["size"] - 1) * prod(spatial) * 4
    if "pool" in node.op and "kernel" in attrs and (any(attrs["padding"]) or attrs["ceil_mode"]):
        n, c, *spatial = input_shape
        dilation = attrs.get("dilation") or (1,) * len(spatial)
        axes = zip(spatial, attrs["kernel"], dilation, attrs["padding"])
        return 2 * n * c * prod(size + p + max(p, d * (k - 1) + 1) for size, k, d, p in axes) * 4
    return 0


def check_indexable(graph, estimate: int) -> None:
    """numpy addresses elements by 64-bit byte offsets, about a setting times the bytes of an array. Where that
    overflows, the setting is one the analysis accepts but that changes nothing (a stride past the end of a
    1-wide output, a dilation of a 1-tap kernel); refuse it instead of failing inside numpy."""
    for node in graph.nodes:
        for key, value in node.attrs.items():
            for number in value if isinstance(value, tuple) else (value,):
                if isinstance(number, int) and number * max(estimate, 1) >= 2**63:
                    shown = f"{number:,}" if number < 10**15 else f"about 10^{len(str(number)) - 1}"
                    raise CnnCostError(
                        f"layer {node.name!r}: {key} {shown} is too large for numpy's 64-bit indexing",
                        node.attr_locs.get(key, node.loc),
                        "a stride or dilation larger than the input changes nothing here; lower it to run verify",
                    )


@gc_paused
def verify_spec(spec, batch: int = 1, seed: int = 0, fold_bn: bool = False, max_memory: int | None = None, progress=None,
                engine: str = "numpy") -> VerifyResult:
    """Analyse, refuse if the run would not fit, then run the forward pass and compare."""
    let_blas_threads_sleep()  # before the kernels load numpy; a no-op if numpy is already loaded
    report = analyze_spec(spec, batch=batch, dtype="float32")
    estimate = memory_estimate(spec.graph, report)
    limit = max_memory if max_memory is not None else available_memory() // 2
    if estimate > limit:
        from cnncost.units import size

        raise CnnCostError(
            f"verify would need about {size(estimate)} (weights + peak activations + im2col or padding workspace), "
            f"over the limit of {size(limit)}",
            None,
            "lower --batch or --input, or raise --max-memory",
        )
    check_indexable(spec.graph, estimate)
    from cnncost.kernels import reuse_freed_memory

    reuse_freed_memory()  # each layer's fresh output reuses freed pages instead of faulting in new ones
    reference = None
    if engine == "onnxruntime":
        from cnncost.interop.ort_engine import layer_outputs

        reference = layer_outputs(spec, batch, seed)
    elif engine != "numpy":
        raise CnnCostError(f"unknown engine {engine!r}", None, "choose numpy or onnxruntime")
    run = ForwardRun(spec.graph, batch, seed, progress)
    checks, output = run.execute(report, reference)
    fold_error, folded = None, 0
    if fold_bn:
        fold_error, folded = _check_folding(spec, batch, seed, output, progress)
    import numpy as np

    return VerifyResult(
        model=spec.name,
        input_shape=spec.graph.input_shape,
        batch=batch,
        seed=seed,
        layers=tuple(checks),
        predicted_peak=report.totals.peak_activation_bytes,
        measured_peak=run.peak,
        predicted_peak_layer=report.totals.peak_layer,
        measured_peak_layer=run.peak_layer,
        estimate_bytes=estimate,
        forward_seconds=run.seconds,
        macs=sum(c.actual_macs for c in checks),
        output_finite=bool(np.isfinite(output).all()),
        fold_error=fold_error,
        folded_layers=folded,
        engine=engine,
    )


def _check_folding(spec, batch, seed, unfolded_output, progress):
    """Run the folded graph with weights folded from the unfolded ones; compare the outputs."""
    import numpy as np

    pairs = foldable_pairs(spec.graph)
    folded_graph = fold_batchnorm(spec.graph)
    folded_spec = replace(spec, graph=folded_graph)
    run = ForwardRun(folded_graph, batch, seed, progress, folds={conv: bn for bn, conv in pairs.items()}, original=spec.graph)
    _, output = run.execute(analyze_spec(folded_spec, batch=batch))
    scale = float(np.abs(unfolded_output).max()) or 1.0
    return float(np.abs(output - unfolded_output).max()) / scale, len(pairs)


@dataclass(frozen=True)
class FinishedLayer:
    """One layer just run by ForwardRun.layers: its output array, the weights it drew, the MACs its matmuls
    executed and the seconds its kernel took."""

    node: object
    output: object
    params: dict
    macs: int
    seconds: float


class ForwardRun:
    """One forward pass over a graph, freeing each array after its last reader, counting live bytes."""

    def __init__(self, graph, batch, seed, progress=None, folds=None, original=None):
        self.graph, self.batch, self.seed, self.progress = graph, batch, seed, progress
        self.folds = folds or {}  # conv name -> batchnorm name folded into it
        self.original = {node.name: node for node in (original or graph).nodes}
        self.nodes = {node.name: node for node in graph.nodes}
        self.peak, self.peak_layer, self.seconds, self.output = 0, INPUT, 0.0, None

    def rng(self, name: str):
        return layer_rng(self.seed, name)

    def input_array(self):
        return input_array(self.seed, self.batch, self.graph.input_shape)

    def weights(self, node, input_shapes):
        if node.name not in self.folds:
            return layer_weights(node, input_shapes, self.seed)
        conv = self.original[node.name]
        params, buffers = layer_weights(conv, input_shapes, self.seed)
        bn = self.original[self.folds[node.name]]
        out_shape = (self.batch, params["weight"].shape[0])
        bn_params, bn_buffers = layer_weights(bn, [out_shape], self.seed)
        return fold_conv_weights(params, bn_params, bn_buffers, bn.attrs["eps"]), buffers

    def execute(self, report, reference: dict | None = None):
        """Check every layer against the report and, given another engine's outputs by layer name, against those."""
        rows = {row.name: row for row in report.layers}
        checks = []
        for layer in [*self.layers(), *self.unused_layers(rows)]:
            row = rows[layer.node.name]
            theirs = (reference or {}).get(layer.node.name)
            checks.append(
                LayerCheck(
                    layer.node.name, layer.node.op, row.output_shape, tuple(layer.output.shape[1:]),
                    row.params, sum(int(a.size) for a in layer.params.values()),
                    row.macs, layer.macs,
                    None if theirs is None else relative_error(layer.output, theirs),
                )
            )
        order = {name: index for index, name in enumerate(rows)}
        checks.sort(key=lambda check: order[check.name])
        return checks, self.output

    def unused_layers(self, rows):
        """Layers that reach no output do not run in the forward pass (nor in PyTorch's eval mode); each is run
        alone on random inputs of its predicted input shapes, so its shape, params and MACs are still checked."""
        from cnncost.kernels import MacCounter, forward

        for name in self.graph.unused():
            node = self.nodes[name]
            rng = self.rng(name)
            shapes = [(self.batch, *(self.graph.input_shape if i == INPUT else rows[i].output_shape)) for i in node.inputs]
            inputs = [rng.standard_normal(shape, dtype="float32") for shape in shapes]
            params, buffers = self.weights(node, shapes)
            counter = MacCounter()
            out = forward(node.op, node.attrs, inputs, params, buffers, counter)
            yield FinishedLayer(node, out, params, counter.macs, 0.0)

    def layers(self):
        """Run the graph, yielding each layer as it finishes; afterwards `output` holds the model output.

        Arrays nobody will read again are freed after the yield, and live bytes are counted for the peak.
        """
        from cnncost.kernels import MacCounter, forward

        readers = {name: len(set(users)) for name, users in self.graph.consumers(used_only=True).items()}
        unused = set(self.graph.unused())
        live = {INPUT: self.input_array()}
        current = self.peak = live[INPUT].nbytes
        for node in self.graph.nodes:
            if node.name in unused:
                continue
            inputs = [live[name] for name in node.inputs]
            params, buffers = self.weights(node, [a.shape for a in inputs])
            counter = MacCounter()
            start = time.perf_counter()
            out = forward(node.op, node.attrs, inputs, params, buffers, counter)
            seconds = time.perf_counter() - start
            self.seconds += seconds
            del inputs
            live[node.name] = out
            current += out.nbytes
            if current > self.peak:
                self.peak, self.peak_layer = current, node.name
            yield FinishedLayer(node, out, params, counter.macs, seconds)
            for name in set(node.inputs):
                readers[name] -= 1
                current -= self.release(live, name, readers)
            current -= self.release(live, node.name, readers)
            if self.progress:
                self.progress()
        self.output = live[self.graph.output]

    def release(self, live: dict, name: str, readers: dict) -> int:
        """Free an array nobody will read again (the model's outputs stay); return the bytes freed."""
        if readers[name] == 0 and name not in self.graph.outputs and name in live:
            return live.pop(name).nbytes
        return 0


def fold_conv_weights(conv: dict, bn: dict, bn_buffers: dict, eps: float) -> dict:
    """w' = w·γ/√(σ²+ε) per output channel; b' = (b − μ)·γ/√(σ²+ε) + β."""
    import numpy as np

    scale = bn_buffers["running_var"] + np.float32(eps)
    scale = (bn.get("weight", np.ones_like(scale)) / np.sqrt(scale)).astype(np.float32)
    weight = conv["weight"] * scale.reshape(-1, *[1] * (conv["weight"].ndim - 1))
    bias = conv.get("bias", np.zeros_like(scale))
    bias = (bias - bn_buffers["running_mean"]) * scale + bn.get("bias", np.zeros_like(scale))
    return {"weight": weight.astype(np.float32), "bias": bias.astype(np.float32)}
