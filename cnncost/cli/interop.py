"""`export` and `import`: the bridges between specs and ONNX files or PyTorch modules."""
from __future__ import annotations

import click

from cnncost.cli.options import SEED, force_option, input_option, set_option, spec_argument
from cnncost.cli.output import check_output


@click.command()
@spec_argument()
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The .onnx file to write (atomically).")
@input_option
@set_option
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the weights, the same ones `verify --seed` uses.")
@force_option
def export(spec, output, input_shape, args, seed, force):
    """Write SPEC as an ONNX graph (opset 18) with verify's seeded weights; node names are the layer names."""
    from cnncost.interop.onnx_export import export_file, require_onnx
    from cnncost.spec import load

    require_onnx()
    check_output(output, force=force)
    export_file(load(spec, input_shape, args), output, seed, force)


@click.command(name="import")
@click.argument("source")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The spec file to write (atomically).")
@click.option("--input", "input_text", metavar="CxHxW", help="Input shape per sample; required for a PyTorch factory.")
@click.option("--arg", "args", multiple=True, metavar="KEY=VALUE", help="Keyword argument for a PyTorch factory (repeatable).")
@force_option
def import_model(source, output, input_text, args, force):
    """Write SOURCE as a cnncost spec: an ONNX file (extra 'onnx') or a PyTorch factory `package.module:function`
    traced with torch.fx (extra 'torch'). Params and MACs of the spec equal the model's."""
    from cnncost.output import write_atomic

    check_output(output, force=force)
    if source.endswith(".onnx"):
        from cnncost.interop.onnx_import import import_onnx

        text = import_onnx(source)
    else:
        from cnncost.interop.torch_import import import_torch

        text = import_torch(source, input_text, args)
    write_atomic(output, text, force=force)
