"""`summary`: one model's cost, layer by layer. Imports no numpy (tests check start-up imports)."""
from __future__ import annotations

import click

from cnncost.cli.options import (FORMATS, batch_option, device_option, dtype_option, force_option, input_option, optimizer_option, output_option,
                                 set_option, spec_argument)
from cnncost.cli.output import check_output, emit, emit_view
from cnncost.gcpause import gc_paused


@click.command()
@spec_argument()
@input_option
@set_option
@batch_option
@dtype_option
@optimizer_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--columns", type=click.Choice(("standard", "lecture", "roofline")), default="standard", show_default=True,
              help="lecture: the AlexNet table's columns from the UM-CV lecture notes on CNN architectures; "
                   "roofline: bytes moved, FLOPs per byte and, with --device, estimated time.")
@click.option("--depth", type=click.IntRange(min=1), help="Fold layers deeper than N into their block's subtotal.")
@click.option("--group-by", type=click.Choice(("op",)), help="One row per kind of layer (1×1 conv, depthwise conv, ...).")
@click.option("--strict", is_flag=True, help="Treat warnings (e.g. a stride that skips input rows) as errors.")
@click.option("--fold-bn", is_flag=True, help="Inference cost after folding each batchnorm into the conv before it.")
@device_option
@output_option
@force_option
@gc_paused  # not only while loading and analysing: the view and its text hold one object per cell (100k rows: 1.7 s of GC)
def summary(spec, input_shape, args, batch, dtype, optimizer, fmt, columns, depth, group_by, strict, fold_bn, device, output, force):
    """Per-layer shapes, parameters, MACs, memory and receptive field of SPEC (a file or bundled name)."""
    from cnncost import analyze

    check_output(output, force=force)
    report = analyze(spec, input=input_shape, args=args, batch=batch, dtype=dtype, strict=strict, fold_bn=fold_bn, optimizer=optimizer,
                     device=device)
    if fmt == "json":
        from cnncost.render.text import to_json

        return emit(to_json(report), output)
    from cnncost.render import views

    if group_by:
        view = views.kinds_view(report)
    elif columns == "lecture":
        view = views.lecture_view(report)
    elif columns == "roofline" or device:
        from cnncost.render.roofline import roofline_view

        view = roofline_view(report)
    else:
        view = views.standard_view(report, depth)
    emit_view(view, fmt, output)
