"""`export`: a spec as an ONNX file (extra 'onnx')."""
from __future__ import annotations

import click

from cnncost.cli.options import force_option, input_option
from cnncost.cli.output import check_output


@click.command()
@click.argument("spec")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The .onnx file to write (atomically).")
@input_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the weights, the same ones `verify --seed` uses.")
@force_option
def export(spec, output, input_shape, seed, force):
    """Write SPEC as an ONNX graph (opset 18) with verify's seeded weights; node names are the layer names."""
    from cnncost.interop.onnx_export import export_file, require_onnx
    from cnncost.spec import load

    require_onnx()
    check_output(output, force=force)
    export_file(load(spec, input_shape), output, seed)
