"""cnncost: what a convolutional network costs, per layer, before you train it.

    >>> import cnncost
    >>> report = cnncost.analyze("alexnet", batch=8)
    >>> report.totals.params, report.totals.macs

The report is plain data (cnncost.report); nothing here imports numpy.
"""
from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING  # noqa: E402

from cnncost.errors import CnnCostError  # noqa: E402

if TYPE_CHECKING:  # type-only: start-up imports nothing heavy
    from cnncost.compare import Comparison
    from cnncost.devices import Profile
    from cnncost.diffing import Diff
    from cnncost.report import Report
    from cnncost.spec import Spec
    from cnncost.verify import VerifyResult


def analyze(spec: str | Spec, *, input: str | tuple | None = None, batch: int = 1, dtype: str = "float32",
            strict: bool = False, fold_bn: bool = False, optimizer: str | None = None, args: dict | None = None,
            device: str | Profile | None = None) -> Report:
    """Analyse a spec (a file path, a bundled name, or a loaded Spec) and return a Report.

    `input` overrides the spec's input shape ("3x224x224" or a tuple); macs, flops and byte
    totals cover the whole batch; shapes and params are per sample. `fold_bn` analyses the
    inference graph with each batchnorm folded into the conv before it. `optimizer` (sgd, momentum,
    adam, adamw) adds training_total_bytes, one training step's footprint. `args` sets the spec's `args:`
    ({"alpha": 0.5}, as `--set alpha=0.5` does). `device` (a profile file, a bundled profile's name or a
    cnncost.devices.Profile) adds the roofline latency estimate per layer (cnncost.roofline).
    """
    from dataclasses import replace

    from cnncost.analysis import analyze_spec
    from cnncost.spec import Spec, parse_shape

    shape = parse_shape(list(input) if isinstance(input, tuple) else input, None, "--input") if input else None
    loaded = spec if isinstance(spec, Spec) else load(str(spec), input=shape, args=args)
    if fold_bn:
        from cnncost.fold import fold_batchnorm

        loaded = replace(loaded, graph=fold_batchnorm(loaded.graph))
    report = analyze_spec(loaded, batch=batch, dtype=dtype, strict=strict, optimizer=optimizer)
    if fold_bn:
        report = replace(report, batchnorm_folded=True)
    if device is None:
        return report
    from cnncost.devices import Profile, load_profile
    from cnncost.roofline import estimate

    return estimate(report, device if isinstance(device, Profile) else load_profile(str(device)))


def load(text_or_path: str, *, input: str | tuple | None = None, args: dict | None = None) -> Spec:
    """A parsed, validated Spec from YAML text, a file path or a bundled name (`"alexnet"`).

    Text is told from a path by its line breaks: a spec always has several lines."""
    from cnncost.spec import load as load_source
    from cnncost.spec import load_text, parse_shape

    shape = parse_shape(list(input) if isinstance(input, tuple) else input, None, "--input") if input else None
    if "\n" in str(text_or_path):
        return load_text(str(text_or_path), "<text>", shape, args)
    return load_source(str(text_or_path), shape, args)


def diff(old: str | Spec, new: str | Spec, *, input: str | tuple | None = None, batch: int = 1, dtype: str = "float32") -> Diff:
    """What changing spec `old` into `new` does to its cost (layers added, removed, changed; total deltas)."""
    from cnncost.diffing import diff_reports

    return diff_reports(*(analyze(s, input=input, batch=batch, dtype=dtype) for s in (old, new)))


def verify(spec: str | Spec, *, input: str | tuple | None = None, batch: int = 1, seed: int = 0, fold_bn: bool = False,
           max_memory: int | None = None, engine: str = "numpy", args: dict | None = None) -> VerifyResult:
    """Run the spec's forward pass in numpy and check it against the analysis, as `cnncost verify` does.

    The result's `passed` is the verdict and `failures` says what differs; `max_memory` (bytes) refuses runs
    estimated above it (default: half the available RAM). Loads numpy; everything else here does not."""
    from cnncost.spec import Spec
    from cnncost.verify import verify_spec

    loaded = spec if isinstance(spec, Spec) else load(str(spec), input=input, args=args)
    return verify_spec(loaded, batch=batch, seed=seed, fold_bn=fold_bn, max_memory=max_memory, engine=engine)


def compare(*specs: str | Spec, baseline: str | None = None, depth: int | None = None, input: str | tuple | None = None,
            batch: int = 1, dtype: str = "float32", optimizer: str | None = None, args: dict | None = None) -> Comparison:
    """Several models side by side, as `cnncost compare` does: one MetricRow per figure, ratios to the baseline
    (the first model unless `baseline` names another); `depth` adds a row per block at that depth."""
    from cnncost.compare import compare_reports

    if len(specs) < 2:
        raise CnnCostError("compare needs at least two specs", None, "e.g. cnncost.compare('vgg16', 'alexnet')")
    reports = [analyze(s, input=input, batch=batch, dtype=dtype, optimizer=optimizer, args=args) for s in specs]
    return compare_reports(reports, baseline, depth)


_API = {"verify": verify, "compare": compare}


def answer_calls_as_api(module_name: str) -> None:
    """`cnncost.verify` and `cnncost.compare` are both API functions and modules: importing a submodule makes it
    the package's attribute of that name, replacing the function. The module then answers calls as the function
    does, so `cnncost.verify(...)` works whichever of the two the attribute holds."""
    import inspect
    import sys
    import types

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return _API[self.__name__.rpartition(".")[2]](*args, **kwargs)

    module = sys.modules[module_name]
    module.__class__ = CallableModule
    module.__signature__ = inspect.signature(_API[module_name.rpartition(".")[2]])  # what notebooks show for help


__all__ = ["analyze", "load", "diff", "verify", "compare", "CnnCostError", "__version__"]
