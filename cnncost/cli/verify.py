"""`verify`: the independent numpy forward pass, checked against the analytic report."""
from __future__ import annotations

import click

from cnncost.cli.options import SEED, SIZE, batch_option, force_option, input_option, output_option, set_option, spec_argument
from cnncost.cli.output import check_output, emit, emit_rich, progress_bar


@click.command()
@spec_argument()
@input_option
@set_option
@batch_option
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the random weights and input.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.option("--fold-bn", is_flag=True, help="Also check that folding batchnorm into convs leaves the output unchanged.")
@click.option("--max-memory", type=SIZE, help="Refuse runs estimated above this (e.g. 4GiB); default: half the available RAM.")
@click.option("--engine", type=click.Choice(("numpy", "onnxruntime")), default="numpy", show_default=True,
              help="onnxruntime: also run the exported ONNX graph (same weights and input) and compare every layer's output (extra 'onnx').")
@output_option
@force_option
def verify(spec, input_shape, args, batch, seed, fmt, fold_bn, max_memory, engine, output, force):
    """Run SPEC's forward pass in numpy and check every predicted shape, param count, MAC count and the peak memory."""
    from cnncost.spec import load
    from cnncost.verify import verify_spec

    check_output(output, force=force)
    limit = max_memory
    loaded = load(spec, input_shape, args)
    with progress_bar(f"verify {loaded.name}", len(loaded.graph.nodes) * (2 if fold_bn else 1)) as advance:
        result = verify_spec(loaded, batch=batch, seed=seed, fold_bn=fold_bn, max_memory=limit, progress=advance, engine=engine)
    from cnncost.render import verify as render

    if fmt == "json":
        emit(render.verify_to_json(result), output)
    else:
        emit_rich(render.verify_to_rich(result), output)
    return 0 if result.passed else 1
