"""`calibrate`: measure this machine with numpy and write a device profile for `--device`."""
from __future__ import annotations

import click

from cnncost.cli.options import force_option, output_option
from cnncost.cli.output import check_output, emit, progress_bar


@click.command()
@click.option("--name", metavar="NAME", help="The profile's name (default: this host's name + '-numpy').")
@output_option
@force_option
def calibrate(name, output, force):
    """Measure this machine with numpy (matrix products, copy bandwidth, one-layer benchmarks of convolutions,
    activations, norms and pooling through verify's forward; about 35-50 s) and write a device profile for
    `summary --device FILE`."""
    from cnncost.calibrate import measure, profile_text, steps

    check_output(output, force=force)
    with progress_bar("calibrate", len(steps())) as advance:
        measured = measure(advance)
    emit(profile_text(measured, name), output)
