"""A VerifyResult as a rich table or JSON; reads the result, computes nothing."""
from __future__ import annotations

from cnncost.render.strictjson import dumps

from cnncost import units

PASS, FAIL = "✓", "✗"


def _mark(ok: bool) -> str:
    return PASS if ok else FAIL


def verify_to_dict(result) -> dict:
    return {
        "schema_version": 1,
        "model": result.model,
        "input_shape": list(result.input_shape),
        "batch": result.batch,
        "seed": result.seed,
        "passed": result.passed,
        "failures": result.failures,
        "method": "numpy float32 forward pass on seeded random weights; MACs counted from executed matmul operands; "
        "peak = the bytes numpy allocates, measured with tracemalloc, against the prediction: live activations "
        "(freed after last reader, input counted) + the running layer's weights and kernel workspace",
        "peak_activation_bytes": {"predicted": result.predicted_peak, "measured": result.measured_peak,
                                  "predicted_layer": result.predicted_peak_layer, "measured_layer": result.measured_peak_layer},
        "measured_peak_bytes": result.measured_peak,
        "predicted_peak_bytes": result.predicted_peak,
        "peak_ratio": round(result.peak_ratio, 4),
        "memory_estimate_bytes": result.estimate_bytes,
        "forward_seconds": round(result.forward_seconds, 4),
        "gmacs_per_second": round(result.gmacs_per_second, 2),
        "fold_bn": None if result.fold_error is None else {"folded_layers": result.folded_layers, "max_relative_error": result.fold_error},
        "engine": result.engine,
        "layers": [
            {
                "name": c.name, "op": c.op,
                "shape": {"predicted": list(c.predicted_shape), "actual": list(c.actual_shape), "ok": c.shape_ok},
                "params": {"predicted": c.predicted_params, "actual": c.actual_params, "ok": c.params_ok},
                "macs": {"predicted": c.predicted_macs, "actual": c.actual_macs, "ok": c.macs_ok},
                **({} if c.engine_error is None else {"engine": {"max_relative_error": c.engine_error, "ok": c.engine_ok}}),
            }
            for c in result.layers
        ],
    }


def verify_to_json(result) -> str:
    """Compact, one document per line, like `summary --format json` (pipe to `jq` to read)."""
    return dumps(verify_to_dict(result), compact=True)


def verify_to_rich(result, all_rows: bool = False):
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    title = f"verify {result.model} — input {units.shape(result.input_shape)}, batch {result.batch}, seed {result.seed}"
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    compared = result.engine != "numpy"
    columns = [("Layer", False), ("Op", False), ("Shape", False), ("", False), ("Params", True), ("", False), ("MACs", True), ("", False)]
    columns += [(f"vs {result.engine}", True), ("", False)] if compared else []
    for header, right in columns:
        table.add_column(header, justify="right" if right else "left")
    for c in result.layers:
        shape = units.shape(c.actual_shape) if c.shape_ok else f"{units.shape(c.predicted_shape)} ≠ {units.shape(c.actual_shape)}"
        params = f"{c.actual_params:,}" if c.params_ok else f"{c.predicted_params:,} ≠ {c.actual_params:,}"
        macs = f"{c.actual_macs:,}" if c.macs_ok else f"{c.predicted_macs:,} ≠ {c.actual_macs:,}"
        engine = ([f"{c.engine_error:.1e}", _mark(c.engine_ok)] if c.engine_error is not None else ["not run", ""]) if compared else []
        table.add_row(c.name, c.op, shape, _mark(c.shape_ok), params, _mark(c.params_ok), macs, _mark(c.macs_ok), *engine)
    lines = [table]
    peak = (f"{units.size(result.measured_peak)} measured at {result.measured_peak_layer}, {units.size(result.predicted_peak)} "
            f"predicted at {result.predicted_peak_layer} (ratio {result.peak_ratio:.3f})")
    lines.append(Text.assemble(("Peak memory: ", "bold"), peak, f"  {_mark(result.peak_ok)}"))
    if result.fold_error is not None:
        lines.append(Text.assemble(("BN folding: ", "bold"), f"{result.folded_layers} batchnorms folded; folded vs unfolded output max relative error {result.fold_error:.1e}  {_mark(result.fold_ok)}"))
    lines.append(Text(f"Output finite: {_mark(result.output_finite)}.  Forward pass {result.forward_seconds:.2f} s, {result.gmacs_per_second:.1f} GMAC/s; memory estimate {units.size(result.estimate_bytes)}.", style="dim"))
    lines.append(Text("Method: numpy float32 forward on seeded random weights; params = elements allocated; MACs counted from the operands of the matmuls executed; peak = bytes numpy allocates (tracemalloc) vs predicted live arrays + the running layer's weights and workspace, within 5% + 1 MiB.", style="dim"))
    engine_checks = sum(c.engine_error is not None for c in result.layers)
    if compared:
        lines.append(Text(f"Engine: each layer's output from {result.engine} (the exported ONNX graph, same weights and input) "
                          f"against numpy: max |difference| / max |numpy| ≤ 1e-4.", style="dim"))
    checks = 3 * len(result.layers) + engine_checks + 2 + (result.fold_error is not None)
    if result.passed:
        lines.append(Text(f"PASS: all {checks} checks agree", style="bold green"))
    else:
        lines.append(Text(f"FAIL: {len(result.failures)} of {checks} checks disagree", style="bold red"))
        lines += [Text(f"  {failure}", style="red") for failure in result.failures]
    return Group(*lines)
