"""`report`: one self-contained HTML file with the graph, the charts and the table of one or more specs."""
from __future__ import annotations

import click

from cnncost.cli.options import batch_option, device_option, dtype_option, force_option, input_option, output_option, set_option, spec_argument
from cnncost.cli.output import check_output, emit


@click.command()
@spec_argument("specs", nargs=-1, required=True)
@input_option
@set_option
@batch_option
@dtype_option
@click.option("--depth", type=click.IntRange(min=1), help="Open blocks down to depth N in the graph and the per-block bars (default: all open).")
@device_option
@output_option
@force_option
def report(specs, input_shape, args, batch, dtype, depth, device, output, force):
    """Write an HTML report of SPECS: graph, charts, sortable table; with several specs, a comparison first.

    The file is self-contained (no network when opened): e.g. `cnncost report resnet50 -o r.html`.
    """
    from cnncost import analyze
    from cnncost.render.html import report_html

    check_output(output, force=force)
    if device:
        from cnncost.devices import load_profile

        device = load_profile(device)  # read once, before any spec
    settings = dict(input=input_shape, args=args, batch=batch, dtype=dtype, device=device)
    reports = [analyze(spec, **settings) for spec in specs]
    comparison = None
    if len(reports) > 1:
        from cnncost.compare import compare_reports

        comparison = compare_reports(reports)
    emit(report_html(reports, comparison, depth), output)
