"""Results of `cnncost check` for people and for CI: terminal text, GitHub annotations, JUnit XML, JSON.

Every renderer reads the SpecResults of cnncost.check and computes nothing but wording.
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

from cnncost import units
from cnncost.budget import LAYER_PREFIX, METRICS
from cnncost.check import worst_exit_code

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # outside XML 1.0's Char
STATUS_WORD = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}
ORIGIN = {"spec": "in the spec", "budgets file": "in the budgets file", "command line": "on the command line"}


def human(key: str, value: int) -> str:
    if METRICS[key] == "seconds":
        return units.duration(value / 1e9)  # latency budgets are held in nanoseconds
    return units.size(value) if METRICS[key] == "bytes" else units.count(value)


def used(check) -> str:
    """Share of the limit used, rounded down to a tenth ('99.9%' never reads as a full 100%); a zero limit
    is either exactly met or infinitely exceeded."""
    if check.limit.value == 0:
        return "0%" if check.actual == 0 else "∞"
    tenths = check.actual * 1000 // check.limit.value
    return f"{tenths // 10}.{tenths % 10}%"


def budget_message(result, check) -> str:
    limit = check.limit
    head = f"{result.name}: {limit.key} budget {limit.text} ({ORIGIN[limit.origin]})"
    if limit.key.startswith(LAYER_PREFIX):
        shown = ", ".join(f"{name} {human(limit.key, value)}" for name, value in check.over[:5])
        more = f" and {len(check.over) - 5} more" if len(check.over) > 5 else ""
        return f"{head}: {len(check.over)} layer(s) over it: {shown}{more}"
    where = f", peak at {check.layer}" if check.layer else ""
    if METRICS[limit.key] == "seconds":
        return f"{head} exceeded: {human(limit.key, check.actual)} > {human(limit.key, limit.value)} ({used(check)} used)"
    return f"{head} exceeded: {check.actual:,} > {limit.value:,} ({used(check)} used{where})"


def problems(result) -> list[tuple]:
    """Every failure of one spec as (message, Location or None), in report order."""
    if result.error:  # with the spec's other independent mistakes, if it had several
        return [(f"{result.name}: {item.message}", item.location) for item in (result.error, *result.findings)]
    out = [(budget_message(result, check), check.limit.location) for check in result.failed_budgets]
    return out + [(f"{result.name}: {finding.message}", finding.location) for finding in result.findings if finding.fails]


def notices(result) -> list[tuple]:
    """Findings of one spec that are reported but do not fail it (layer warnings, unused layers, without --strict)."""
    return [(f"{result.name}: {finding.message}", finding.location) for finding in result.findings if not finding.fails]


NOTICE_HINT = "these do not fail the check: --strict makes them fail, --allow warning or --allow unused hides them"


def summary_line(results) -> str:
    counts = {status: sum(1 for r in results if r.status == status) for status in STATUS_WORD}
    return f"{len(results)} spec(s): {counts['pass']} passed, {counts['fail']} failed, {counts['error']} invalid"


# -- terminal ---------------------------------------------------------------------------------


def to_rich(results):
    """One row per spec: PASS/FAIL and each budgeted metric as actual / limit (% used); failures listed below."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    keys = [key for key in METRICS if any(check.limit.key == key for r in results for check in r.budgets)]
    table = Table(box=box.SIMPLE_HEAVY, title="cnncost check", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("Spec", no_wrap=True)
    table.add_column("Checked")
    for key in keys:
        table.add_column(key, justify="right")
    style = {"pass": "bold green", "fail": "bold red", "error": "bold magenta"}
    for result in results:
        by_key = {check.limit.key: check for check in result.budgets}
        cells = [_cell(by_key[key]) if key in by_key else Text("—", style="dim") for key in keys]
        table.add_row(Text(STATUS_WORD[result.status], style=style[result.status]), Text(result.name), Text(", ".join(result.checks)), *cells)
    lines = [Text(f"✗ {_where(loc)}{message}", style="red") for r in results for message, loc in problems(r)]
    warned = [Text(f"! {_where(loc)}{message}", style="yellow") for r in results for message, loc in notices(r)]
    if warned:
        warned.append(Text(f"  ({NOTICE_HINT})", style="dim"))
    lines += warned
    worst = worst_exit_code(results)
    verdict = Text(summary_line(results), style="bold " + ("green" if worst == 0 else "red"))
    return Group(table, *lines, verdict)


def _cell(check):
    from rich.text import Text

    key = check.limit.key
    text = f"{human(key, check.actual)} / {human(key, check.limit.value)} {used(check)}"
    if check.layer and key.startswith(LAYER_PREFIX):
        text += f" ({check.layer})"
    return Text(text, style=None if check.passed else "bold red")


def _where(location) -> str:
    return f"{location}: " if location else ""


# -- GitHub Actions workflow commands ------------------------------------------------------------


def to_github(results) -> str:
    """`::error file=…,line=…,col=…,title=cnncost::message` per failure (`::warning` for a warning that does not
    fail), then a plain verdict line per spec.

    Escaping as GitHub's runner reads it (actions/toolkit, command.ts): in the message % CR LF become
    %25 %0D %0A; property values also escape ':' and ','.
    """
    lines = []
    for result in results:
        marked = [("error", *item) for item in problems(result)] + [("warning", *item) for item in notices(result)]
        for level, message, location in marked:
            props = {"file": _repo_path(location.file if location else result.path)}
            if location and location.line:
                props["line"] = location.line
                if location.column:
                    props["col"] = location.column
            props["title"] = "cnncost"
            fields = ",".join(f"{name}={_escape_property(str(value))}" for name, value in props.items())
            lines.append(f"::{level} {fields}::{_escape_data(message)}")
    # plain lines are escaped too: a spec path holding a newline must not start a line of its own ("::add-mask::")
    lines += [_escape_data(f"cnncost check: {STATUS_WORD[r.status]} {r.name} ({_repo_path(r.path)})" + (f": {', '.join(r.checks)}" if r.checks else ""))
              for r in results]
    lines.append("cnncost check: " + summary_line(results))
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _repo_path(path: str) -> str:
    """Annotations name files relative to the checkout (GITHUB_WORKSPACE, else the current folder)."""
    root = os.path.abspath(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    full = os.path.abspath(path)
    if os.path.exists(full) and os.path.commonpath([root, full]) == root:
        return os.path.relpath(full, root).replace(os.sep, "/")
    return path


# -- JUnit XML ---------------------------------------------------------------------------------------


def to_junit(results) -> str:
    """One testsuite per run; per spec a testcase `valid` and one per budget. Built with ElementTree, so always well-formed."""
    suite = ET.Element("testsuite", name="cnncost check")
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=_xml(result.name), name="valid", file=_xml(result.path))
        if result.error:
            _fail(case, "error", "invalid", [problems(result)[0]])
        elif any(f.fails for f in result.findings):
            failing = [f for f in result.findings if f.fails]
            _fail(case, "failure", failing[0].check, [(f.message, f.location) for f in failing])
        if notices(result):
            ET.SubElement(case, "system-out").text = _xml("\n".join(f"{_where(loc)}warning: {msg}" for msg, loc in notices(result)))
        for check in result.budgets:
            name = f"{check.limit.key} <= {check.limit.text}"
            budget_case = ET.SubElement(suite, "testcase", classname=_xml(result.name), name=_xml(name), file=_xml(result.path))
            if not check.passed:
                _fail(budget_case, "failure", "budget", [(budget_message(result, check), check.limit.location)])
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(1 for case in cases if case.find("failure") is not None),
        "errors": sum(1 for case in cases if case.find("error") is not None),
        "skipped": 0,
    }
    suite.attrib.update({key: str(value) for key, value in counts.items()})
    root = ET.Element("testsuites", name="cnncost check", **{key: str(counts[key]) for key in ("tests", "failures", "errors")})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _fail(case, tag: str, failure_type: str, items: list) -> None:
    element = ET.SubElement(case, tag, type=failure_type, message=_xml(items[0][0]))
    element.text = _xml("\n".join(f"{_where(location)}{message}" for message, location in items))


def _xml(text: str) -> str:
    """ElementTree escapes markup but not characters XML cannot hold at all (a layer named "\\x01")."""
    return _NOT_XML.sub("\ufffd", text)


# -- JSON --------------------------------------------------------------------------------------------------


def to_json(results, batch: int, dtype: str) -> str:
    from dataclasses import asdict

    def place(location) -> dict:
        return {"file": location.file if location else None, "line": getattr(location, "line", None), "column": getattr(location, "column", None)}

    def budget(check) -> dict:
        limit = check.limit
        return {
            "metric": limit.key, "limit": limit.value, "limit_text": limit.text, "origin": limit.origin,
            **place(limit.location), "actual": check.actual, "passed": check.passed, "layer": check.layer,
            "over": [{"name": name, "value": value} for name, value in check.over],
        }

    def finding(item) -> dict:
        return {"check": item.check, "message": item.message, **place(item.location), "fails": item.fails}

    data = {
        "schema_version": 1,
        "exit_code": worst_exit_code(results),
        "batch": batch,
        "dtype": dtype,
        "specs": [
            {
                "source": r.source, "model": r.name, "path": r.path, "status": r.status,
                "error": finding(r.error) if r.error else None,
                "findings": [finding(item) for item in r.findings],
                "budgets": [budget(check) for check in r.budgets],
                "totals": asdict(r.totals) if r.totals else None,
                "checks": list(r.checks),
            }
            for r in results
        ],
    }
    from cnncost.render.strictjson import dumps

    return dumps(data)
