"""`cnncost check`: validate many specs and hold each to its budgets, reporting every spec however others fare.

A spec passes when it loads, its shapes fit, every budget holds and, with --verify, the numpy forward pass agrees.
Layer warnings and unused layers (reaching no output: an auxiliary head) are reported but fail it only with `strict`.
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from cnncost.budget import BudgetCheck, measure, spec_limits, tightest
from cnncost.errors import CnnCostError, Location

EXIT_CODES = {"pass": 0, "fail": 1, "error": 2}


@dataclass(frozen=True)
class Finding:
    """A failed check that is not a budget: a warning, unused layers, a verification mismatch, an invalid spec."""

    check: str  # "invalid", "warning", "unused" or "verify"
    message: str
    location: Location | None = None
    fails: bool = True  # False: reported only (a layer warning or unused layers, without --strict)


@dataclass(frozen=True)
class SpecResult:
    source: str  # as given on the command line
    name: str
    path: str
    budgets: tuple = ()  # BudgetCheck
    findings: tuple = ()  # Finding
    error: Finding | None = None  # the spec could not be analysed
    totals: object = None  # report.Totals, when analysed
    report: object = None  # the whole report.Report, when analysed (for `check --report`)
    checks: tuple = ()  # what was checked, in words ("shapes", "2 budgets", "numpy verify"), so a pass says what it means

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        failed = any(f.fails for f in self.findings) or any(not check.passed for check in self.budgets)
        return "fail" if failed else "pass"

    @property
    def failed_budgets(self) -> list[BudgetCheck]:
        return [check for check in self.budgets if not check.passed]


def expand_sources(args, skipped: list | None = None) -> list[str]:
    """Files and bundled names as given; a folder → every *.yaml/*.yml in it that looks like a spec (others, such
    as a budgets.yaml beside the specs, are appended to `skipped`); a glob → its files, in order, once each."""
    out = []
    for arg in args:
        if os.path.isdir(arg):
            found = sorted(p for pattern in ("*.yaml", "*.yml") for p in glob.glob(os.path.join(glob.escape(arg), pattern)))
            if not found:
                raise CnnCostError("no *.yaml or *.yml files in this folder", Location(arg))
            others = [path for path in found if not looks_like_spec(path)]
            found = [path for path in found if path not in others]
            if skipped is not None:
                skipped += others
        elif not os.path.exists(arg) and any(char in arg for char in "*?["):
            found = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
            if not found:
                raise CnnCostError(f"no file matches {arg!r}", None, "check the pattern; quote it so that cnncost expands it, not the shell")
        else:
            found = [arg]
        out += [path for path in found if path not in out]
    return out


def looks_like_spec(path: str) -> bool:
    """A YAML file with no top-level spec key at all (a budgets file) is not a spec; one that does not parse or has
    a misspelled key still is, so that check reports its mistakes instead of skipping it."""
    import yaml

    from cnncost.spec import TOP_KEYS

    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return True
    return not isinstance(doc, dict) or any(key in doc for key in TOP_KEYS) or not doc


def check_spec(source: str, *, rules=(), cli_limits=None, batch=1, dtype="float32", input_shape=None, args=None, verify=None, allow=(),
               optimizer=None, strict=False, device=None) -> SpecResult:
    """Check one spec; a CnnCostError becomes the result's `error` so that the other specs still run.
    `allow` names finding checks ("warning", "unused") that are not reported; those fail only if `strict`;
    `device` (a devices.Profile) adds the latency estimate a `latency` budget reads."""
    from cnncost.analysis import analyze_spec
    from cnncost.spec import load

    name = path = source
    try:
        spec = load(source, input_shape, args)
        name, path = spec.name, spec.path
        own = spec_limits(spec)
        report = analyze_spec(spec, batch=batch, dtype=dtype, optimizer=optimizer)
        if device is not None:
            from cnncost.roofline import estimate

            report = estimate(report, device)
        limits = tightest(own, *(rule.limits for rule in rules if rule.matches(spec.name, spec.path)), cli_limits or {})
        budgets = tuple(measure(limit, report) for limit in limits)
        findings = [f for f in layer_findings(spec, report, strict) if f.check not in allow]
        findings += verify_findings(spec, verify) if verify else []
        checks = ("shapes", "unused layers" if "unused" not in allow else "", f"{len(budgets)} budget(s)" if budgets else "",
                  "numpy verify" if verify else "")
    except MemoryError:  # past every estimate (a cgroup or ulimit tighter than it looked): this spec only
        return SpecResult(source, name, path, error=Finding("invalid", "ran out of memory (lower --batch or --input, or run without --verify)", Location(path)))
    except CnnCostError as exc:
        if exc.location and path == source:  # failed while loading: the error names the resolved file
            path = exc.location.file
        found = [Finding("invalid", e.message + (f" ({e.hint})" if e.hint else ""), e.location) for e in getattr(exc, "errors", (exc,))]
        return SpecResult(source, name, path, findings=tuple(found[1:]), error=found[0])
    return SpecResult(source, name, path, budgets, tuple(findings), None, report.totals, report, tuple(c for c in checks if c))


def layer_findings(spec, report, strict=True) -> list[Finding]:
    where = {node.name: node.loc for node in spec.graph.nodes}
    out = [
        Finding("warning", f"layer {row.name!r}: {warning}", where[row.name], fails=strict)
        for row in report.layers
        for warning in row.warnings
    ]
    if report.unused:
        names = ", ".join(report.unused)
        out.append(
            Finding(
                "unused",
                f"{len(report.unused)} layer(s) never reach the output: {names} (they do not run: their params count, "
                "their MACs do not; list them in `outputs:` if they should run, or remove them)",
                where[report.unused[0]],
                fails=strict,
            )
        )
    return out


def verify_findings(spec, verify) -> list[Finding]:
    result = verify(spec, batch=1, seed=0)
    if result.passed:
        return []
    return [Finding("verify", f"numpy cross-check: {failure}", Location(spec.path)) for failure in result.failures or ["failed"]]


def worst_exit_code(results) -> int:
    return max((EXIT_CODES[result.status] for result in results), default=0)
