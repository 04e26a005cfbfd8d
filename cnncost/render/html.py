"""`cnncost report`: one self-contained HTML file — the graph, the charts and the table — for a person to look at.

The renderer only reads: Reports (cnncost.report), a Comparison (cnncost.compare) and check results
(cnncost.check). It puts them into the page as JSON, with the terminal's own views (cnncost.render.views) as the
table columns, so the page shows the figures and conventions the terminal shows. The page's script
(assets/report.js) draws; the layout of the graph is dagre's (vendor/, MIT), inlined so that opening the file
needs no network. Nothing here computes a figure.
"""
from __future__ import annotations

import html
import json
from importlib import resources

from cnncost import __version__, units
from cnncost.render import views

DAGRE = "@dagrejs/dagre 3.1.3 (MIT)"  # the graph layout, vendored unmodified
# What the page may load: nothing but itself. Any http(s) resource, font or image from elsewhere is refused.
CONTENT_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def report_html(reports, comparison=None, depth: int | None = None) -> str:
    """The page for `cnncost report`: a section per report; with several, the comparison first."""
    models = [model_data(report) for report in reports]
    return page(_title(reports), models, comparison_data(comparison) if comparison else None, depth)


def check_html(results, depth: int | None = None) -> str:
    """The page for `cnncost check --report`: a section per checked spec, in the order checked, headed by its verdict."""
    from cnncost.render.ci import summary_line

    models = [dict(model_data(result.report) if result.report else {"model": result.name}, check=check_data(result)) for result in results]
    return page(f"cnncost check — {summary_line(results)}", models, None, depth)


def page(title: str, models: list, comparison: dict | None, depth: int | None) -> str:
    data = {"generator": f"cnncost {__version__}", "title": title, "depth": depth, "models": models, "comparison": comparison}
    return TEMPLATE.format(
        title=html.escape(title),
        policy=CONTENT_POLICY,
        css=_asset("assets/report.css"),
        data=_script_json(data),
        dagre=_dagre(),
        js=_asset("assets/report.js"),
    )


def model_data(report) -> dict:
    """One model as the page reads it: the terminal's table columns (raw value for sorting, text for showing),
    the graph's nodes and edges, the per-block and per-kind subtotals and the memory timeline."""
    table = views.standard_view(report)
    t = report.totals
    return {
        "model": report.model,
        "description": report.description,
        "source": report.source,
        "heading": table.title,
        "columns": [{"header": c.header, "numeric": c.numeric} for c in table.columns],
        "rows": [[_cell(c, row) for c in table.columns] for row in report.layers],
        "totals": [list(line) for line in table.totals],
        "notes": list(table.notes),
        "layers": [_layer(row) for row in report.layers],
        "blocks": [
            {"name": b.name, "kind": b.block, "depth": b.depth, "layers": b.layers, "macs": b.macs, "params": b.params,
             "macs_text": f"{b.macs:,}", "params_text": f"{b.params:,}",
             "text": f"{b.block}: {b.layers} layers, {units.count(b.params)} params, {units.count(b.macs)} MACs"}
            for b in report.blocks
        ],
        "kinds": _view_data(views.kinds_view(report)),
        "kind_macs": [{"kind": k.kind, "macs": k.macs, "text": f"{units.count(k.macs)} MACs ({100 * k.mac_share:.1f}%)"} for k in report.kinds],
        "timeline": [[name, live, units.size(live)] for name, live in report.memory_timeline],
        "peak": {"layer": t.peak_layer, "text": units.size(t.peak_activation_bytes)},
        "roofline": _roofline(report),
    }


def _roofline(report) -> dict | None:
    """With --device: the terminal's `--columns roofline` table (time and bound per layer), else nothing."""
    if report.device is None:
        return None
    from cnncost.render.roofline import roofline_view

    return _view_data(roofline_view(report))


def _layer(row) -> dict:
    return {
        "name": row.name,
        "op": row.op,
        "kind": row.kind,
        "inputs": list(row.inputs),
        "macs": row.macs,
        "params": row.params,
        "macs_text": f"{row.macs:,}",
        "params_text": f"{row.params:,}",
        "warnings": list(row.warnings),
        "unused": row.unused,
        "location": row.location,
    }


def _cell(column, row) -> list:
    value = column.value(row)
    return [value if column.numeric else None, column.human(value)]


def _view_data(view) -> dict:
    """Any terminal view as a plain table: headers, rows of [raw, text] cells, footer lines and notes."""
    return {
        "title": view.title,
        "columns": [{"header": c.header, "numeric": c.numeric} for c in view.columns],
        "rows": [[_cell(c, row) for c in view.columns] for row in view.rows],
        "totals": [list(line) for line in view.totals],
        "notes": list(view.notes),
    }


def comparison_data(comparison) -> dict:
    """Side-by-side totals (the terminal's `compare` table) and the bubbles of the comparing-complexity chart."""
    from cnncost.render.compare import metrics_view

    rows = {row.key: row for row in comparison.rows}
    bubbles = []
    if "top1" in rows:
        for i, model in enumerate(comparison.models):
            if rows["top1"].values[i] is not None:
                bubbles.append({"model": model, "top1": rows["top1"].values[i], "macs": rows["macs"].values[i], "params": rows["params"].values[i],
                                "text": f"{model}: top-1 {rows['top1'].values[i]:.2f}%, {units.count(rows['macs'].values[i])} MACs, {units.count(rows['params'].values[i])} params"})
    missing = [model for model in comparison.models if model not in {b["model"] for b in bubbles}]
    return {"table": _view_data(metrics_view(comparison)), "bubbles": bubbles, "without_top1": missing, "batch": comparison.reports[0].batch}


def check_data(result) -> dict:
    """A checked spec's verdict as the terminal gives it: every budget (failing ones flagged) and every problem."""
    from cnncost.render import ci

    budgets = [
        {"key": c.limit.key, "limit": c.limit.text, "origin": ci.ORIGIN[c.limit.origin], "layer": c.layer, "passed": c.passed,
         "actual": f"{c.actual:,} ({ci.human(c.limit.key, c.actual)}, {ci.used(c)} used)"}
        for c in result.budgets
    ]
    problems = [{"message": message, "location": str(location or "")} for message, location in ci.problems(result)]
    return {"status": result.status, "word": ci.STATUS_WORD[result.status], "path": result.path, "budgets": budgets, "problems": problems}


def _title(reports) -> str:
    return f"cnncost report — {', '.join(report.model for report in reports)}"


def _asset(name: str) -> str:
    return resources.files("cnncost.render").joinpath(name).read_text(encoding="utf-8")


def _dagre() -> str:
    """The vendored dagre under its licence text, without the source-map line (the map is not shipped)."""
    text = "\n".join(line for line in _asset("vendor/dagre.min.js").splitlines() if not line.startswith("//# sourceMappingURL="))
    return f"/*! {DAGRE}, vendor/README.md\n{_asset('vendor/LICENSE.dagre').replace('*/', '* /')}*/\n{text}"


def _script_json(data) -> str:
    """JSON that cannot end its <script> element early: `<`, `>` and `&` written as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body data-cnncost-ready="false" data-cnncost-errors="[]">
<script>
/* First, before anything can fail: record uncaught errors, console errors and refused resources on <body>,
   where a test (or a person) reads them. */
(function () {{
  var errors = [];
  function record(message) {{ errors.push(String(message)); document.body.setAttribute("data-cnncost-errors", JSON.stringify(errors)); }}
  window.addEventListener("error", function (e) {{ record(e.message || "error"); }});
  window.addEventListener("unhandledrejection", function (e) {{ record("unhandled rejection: " + e.reason); }});
  document.addEventListener("securitypolicyviolation", function (e) {{ record("refused " + e.blockedURI); }});
  var original = console.error;
  console.error = function () {{ record(Array.prototype.join.call(arguments, " ")); return original.apply(console, arguments); }};
}})();
</script>
<div id="app"><p class="loading">Drawing the report…</p></div>
<script type="application/json" id="cnncost-data">{data}</script>
<script>
{dagre}
</script>
<script>
{js}
</script>
</body>
</html>
"""
