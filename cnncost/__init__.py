"""cnncost: what a convolutional network costs, per layer, before you train it.

    >>> import cnncost
    >>> report = cnncost.analyze("alexnet", batch=8)
    >>> report.totals.params, report.totals.macs

The report is plain data (cnncost.report); nothing here imports numpy.
"""
from __future__ import annotations

__version__ = "0.1.0"

from cnncost.errors import CnnCostError  # noqa: E402


def analyze(spec, *, input=None, batch: int = 1, dtype: str = "float32", strict: bool = False, fold_bn: bool = False):
    """Analyse a spec (a file path, a bundled name, or a loaded Spec) and return a Report.

    `input` overrides the spec's input shape ("3x224x224" or a tuple); macs, flops and byte
    totals cover the whole batch; shapes and params are per sample. `fold_bn` analyses the
    inference graph with each batchnorm folded into the conv before it.
    """
    from dataclasses import replace

    from cnncost.analysis import analyze_spec
    from cnncost.spec import Spec, load, parse_shape

    shape = parse_shape(list(input) if isinstance(input, tuple) else input, None, "--input") if input else None
    loaded = spec if isinstance(spec, Spec) else load(str(spec), shape)
    if fold_bn:
        from cnncost.fold import fold_batchnorm

        loaded = replace(loaded, graph=fold_batchnorm(loaded.graph))
        return replace(analyze_spec(loaded, batch=batch, dtype=dtype, strict=strict), batchnorm_folded=True)
    return analyze_spec(loaded, batch=batch, dtype=dtype, strict=strict)


__all__ = ["analyze", "CnnCostError", "__version__"]
