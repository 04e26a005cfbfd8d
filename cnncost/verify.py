"""The second computation: run the network in numpy and compare what it measures with the Report.

The two paths share only the parsed spec. Per layer we compare the predicted output shape with the
array produced, predicted params with the elements the kernel path allocated, and predicted MACs with
the MACs counted from the operands of the matmuls actually executed. Peak activation memory is measured
by our own accounting of live arrays: every array is held until its last reader has run, the input
counts, and the peak is read while a layer's inputs and new output are alive (the same convention as
the analytic model, measured on the real arrays' nbytes).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import chain

from cnncost.analysis import analyze_spec
from cnncost.blasenv import let_blas_threads_sleep
from cnncost import answer_calls_as_api
from cnncost.errors import CnnCostError
from cnncost.gcpause import gc_paused
from cnncost.fold import fold_batchnorm, foldable_pairs
from cnncost.forward import ForwardRun
from cnncost.numpy_memory import memory_estimate, predicted_peak


def relative_error(ours, theirs) -> float:
    """max |theirs − ours| / max |ours|; infinite when the shapes differ."""
    import numpy as np

    if ours.shape != theirs.shape:
        return float("inf")
    if not ours.size:
        return 0.0
    return float(np.abs(ours - theirs).max()) / (float(np.abs(ours).max()) or 1.0)

# The measured peak of the bytes numpy holds in the forward pass may differ from the predicted one by 5% plus
# 1 MiB: kernels allocate small temporaries nobody declares (per-channel scales, index tables, BLAS and Python
# objects). Measured on every bundled model at batch 1: within 0.2% plus 0.75 MiB (lenet5's is 0.7 MiB).
PEAK_RELATIVE, PEAK_ABSOLUTE = 0.05, 1 << 20
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
    def peak_ratio(self) -> float:
        return self.measured_peak / self.predicted_peak if self.predicted_peak else 1.0

    @property
    def peak_ok(self) -> bool:
        return abs(self.measured_peak - self.predicted_peak) <= self.predicted_peak * PEAK_RELATIVE + PEAK_ABSOLUTE

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
            out.append(f"peak memory predicted {self.predicted_peak:,} B, measured {self.measured_peak:,} B "
                       f"(ratio {self.peak_ratio:.3f}; allowed: 5% + 1 MiB)")
        if not self.output_finite:
            out.append("the output has NaN or infinite values")
        if not self.fold_ok:
            out.append(f"folded output differs by {self.fold_error:.2e} (tolerance {FOLD_TOLERANCE:.0e})")
        return out

    @property
    def gmacs_per_second(self) -> float:
        return self.macs / self.forward_seconds / 1e9 if self.forward_seconds else 0.0


def available_memory() -> int:
    """What this process may still allocate: the smallest of MemAvailable, `ulimit -v` and the cgroup limit."""
    from cnncost.memlimit import usable_memory

    return usable_memory()[0]


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
    predicted = predicted_peak(spec.graph, report)
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
    checks, output = check_layers(run, report, reference)
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
        predicted_peak=predicted[0],
        measured_peak=run.peak,
        predicted_peak_layer=predicted[1],
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
    _, output = check_layers(run, analyze_spec(folded_spec, batch=batch))
    scale = float(np.abs(unfolded_output).max()) or 1.0
    return float(np.abs(output - unfolded_output).max()) / scale, len(pairs)


def check_layers(run: ForwardRun, report, reference: dict | None = None) -> tuple[list, object]:
    """Run the forward pass (and each unused layer alone); check every layer against its report row and, given
    another engine's outputs by layer name, against those."""
    rows = {row.name: row for row in report.layers}
    checks = []
    for layer in chain(run.layers(), run.unused_layers(rows)):
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
        del layer, theirs  # the layer's output and weights may be freed before the next one runs
    order = {name: index for index, name in enumerate(rows)}
    checks.sort(key=lambda check: order[check.name])
    return checks, run.output


answer_calls_as_api(__name__)  # cnncost.verify(...) is the public API function, whichever object the name holds
