"""`cnncost report` and `check --report`: the HTML file, and what a real browser (headless Chromium) draws from it.

The browser tests read the DOM after the page's script has run (`--dump-dom`): <body data-cnncost-ready="true">,
one graph node per layer, one edge per input, one table row per layer, and no error recorded by the page in
<body data-cnncost-errors> (uncaught exceptions, console.error, refused resources). Each writes a screenshot under
the test's tmp_path for a person to look at. They skip when Chromium is not installed (`.ci/run` installs it).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

import cnncost
from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium); .ci/run installs it")
# Without these, Chromium reaches for the network (component updates, sync, QUIC probes).
QUIET = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync")

# Hand count: stem.conv, stem.act, body.conv, body.act, add_1, global_avgpool_1 = 6 layers;
# inputs: 1 each, add_1 has 2 = 7 edges.
TINY = """
name: tiny
input: 3x8x8
blocks:
  unit:
    layers:
      - conv2d: {name: conv, out: 4, kernel: 3, padding: 1}
      - relu: {name: act}
layers:
  - unit: {name: stem}
  - unit: {name: body}
  - add: {inputs: [stem.act, body.act]}
  - global_avgpool
"""


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Elements(HTMLParser):
    """The rendered DOM's elements (not the text inside <script>), with their attributes and nesting."""

    def __init__(self, text: str):
        super().__init__()
        self.elements, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        element = {"tag": tag, "text": "", "attrs": attrs, "classes": set((attrs.get("class") or "").split()), "parents": list(self.stack)}
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):  # <rect/>: an element with nothing inside
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data

    def handle_endtag(self, tag):
        if any(e["tag"] == tag for e in self.stack):
            while self.stack.pop()["tag"] != tag:
                pass

    def find(self, tag=None, cls=None, within=None, **attrs):
        return [
            e for e in self.elements
            if (tag is None or e["tag"] == tag) and (cls is None or cls in e["classes"])
            and all(e["attrs"].get(k.replace("_", "-")) == v or (v is True and k.replace("_", "-") in e["attrs"]) for k, v in attrs.items())
            and (within is None or within in [id(p) for p in e["parents"]])
        ]


def browse(page, tmp_path, name: str, fragment: str = "", screenshot: bool = True) -> Elements:
    """Open the file in headless Chromium: the DOM once its script has run, and a screenshot beside it."""
    url = page.resolve().as_uri() + fragment
    dom = subprocess.run([CHROMIUM, *QUIET, f"--user-data-dir={tmp_path / 'profile-dom'}", "--virtual-time-budget=60000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=300)
    assert dom.returncode == 0, dom.stderr[-2000:]
    if screenshot:
        shot = tmp_path / f"{name}.png"
        subprocess.run([CHROMIUM, *QUIET, f"--user-data-dir={tmp_path / 'profile-shot'}", "--virtual-time-budget=60000", "--window-size=1400,1400",
                        f"--screenshot={shot}", url], capture_output=True, timeout=300)
        assert shot.exists() and shot.stat().st_size > 10_000, "no screenshot was written"
    elements = Elements(dom.stdout)
    body = elements.find("body")[0]["attrs"]
    assert json.loads(body["data-cnncost-errors"]) == []
    assert body["data-cnncost-ready"] == "true"
    return elements


def drawn(elements: Elements, section) -> dict:
    """What one model's section shows: layer nodes, block nodes, edges and per-layer table rows."""
    inside = id(section)
    return {
        "layer_nodes": sorted(e["attrs"]["data-layer"] for e in elements.find("g", "node", within=inside, data_layer=True)),
        "block_nodes": sorted(e["attrs"]["data-block"] for e in elements.find("g", "node", within=inside, data_block=True)),
        "edges": sorted((e["attrs"]["data-layer"], e["attrs"]["data-input"]) for e in elements.find("g", "edge", within=inside)),
        "rows": [e["attrs"]["data-layer"] for e in elements.find("tr", within=inside, data_layer=True)],
    }


def write_report(tmp_path, *args) -> object:
    out = tmp_path / "report.html"
    result = run_cli("report", *args, "-o", out)
    assert result.returncode == 0, result.stderr
    return out


@needs_chromium
def test_a_small_spec_draws_every_layer_edge_and_row(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    elements = browse(write_report(tmp_path, spec), tmp_path, "tiny")
    [section] = elements.find("section", "model")
    seen = drawn(elements, section)
    layers = ["stem.conv", "stem.act", "body.conv", "body.act", "add_1", "global_avgpool_1"]
    assert seen["layer_nodes"] == sorted(layers)
    assert seen["edges"] == sorted([("stem.conv", "input"), ("stem.act", "stem.conv"), ("body.conv", "stem.act"), ("body.act", "body.conv"),
                                    ("add_1", "stem.act"), ("add_1", "body.act"), ("global_avgpool_1", "add_1")])
    assert seen["rows"] == layers  # in execution order until a header is clicked
    assert len(elements.find("svg", "timeline", within=id(section))) == 1
    # the table's footer: the terminal's totals and conventions
    footer = elements.find("ul", "footer", within=id(section))[-1]["text"]
    assert "Params: 260" in footer  # stem.conv 4·3·3·3 + 4 = 112, body.conv 4·4·3·3 + 4 = 148
    for convention in ("1 MAC = 2 FLOPs", "float32 = 4 B/element", "batch 1 included", "1 KiB = 1024 B"):
        assert convention in footer


# Appended to a copy of a report: once it is ready, act as a user would and record what the page then shows.
USER = """<script>
(function wait() {
  if (document.body.getAttribute("data-cnncost-ready") !== "true") return setTimeout(wait, 50);
  var section = document.querySelector("section.model"), seen = {};
  var timeline = section.querySelector("svg.timeline"), box = timeline.getBoundingClientRect();  // 900 wide, margins 70 and 10
  timeline.dispatchEvent(new MouseEvent("click", {bubbles: true, clientX: box.left + (70 + 820 * 2 / 6) * box.width / 900, clientY: box.top + 60}));
  seen.timeline = section.querySelector(".details h4").textContent;
  var macs = Array.prototype.filter.call(section.querySelectorAll("table.layers th"), function (th) { return th.textContent === "MACs"; })[0];
  macs.click();
  seen.sorted = Array.prototype.map.call(section.querySelectorAll("table.layers tbody tr"), function (tr) { return tr.getAttribute("data-layer"); });
  var filter = section.querySelector("input.filter");
  filter.value = "conv"; filter.dispatchEvent(new Event("input"));
  seen.filtered = Array.prototype.filter.call(section.querySelectorAll("table.layers tbody tr"), function (tr) { return !tr.hidden; }).length;
  section.querySelector('g.node[data-layer="body.conv"]').dispatchEvent(new MouseEvent("click", {bubbles: true}));
  seen.details = section.querySelector(".details").textContent;
  var svg = section.querySelector("svg.graph"), at = svg.getBoundingClientRect(), view = function () { return svg.getAttribute("viewBox").split(" ").map(Number); };
  seen.view = [view()];
  svg.dispatchEvent(new WheelEvent("wheel", {bubbles: true, cancelable: true, deltaY: -500, clientX: at.left + 100, clientY: at.top + 100}));
  seen.view.push(view());
  svg.dispatchEvent(new MouseEvent("mousedown", {bubbles: true, clientX: at.left + 200, clientY: at.top + 200}));
  window.dispatchEvent(new MouseEvent("mousemove", {clientX: at.left + 150, clientY: at.top + 120}));
  window.dispatchEvent(new MouseEvent("mouseup", {}));
  seen.view.push(view());
  section.querySelector('.details button.toggle[data-block="body"]').click();
  seen.closed = Array.prototype.map.call(section.querySelectorAll("g.node[data-block]"), function (g) { return g.getAttribute("data-block"); });
  document.body.setAttribute("data-user", JSON.stringify(seen));
})();
</script>"""


@needs_chromium
def test_sorting_filtering_clicking_and_collapsing_work_in_the_browser(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    page = write_report(tmp_path, spec)
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", USER + "</body>"), encoding="utf-8")
    seen = json.loads(browse(page, tmp_path, "tiny-user").find("body")[0]["attrs"]["data-user"])
    # MACs, by hand: stem.conv 8·8 outputs × 4 channels × 3·3·3 = 6,912; body.conv 256 × 4·3·3 = 9,216; the rest 0.
    # The first click sorts a numeric column largest first; ties keep execution order.
    assert seen["timeline"] == "stem.act"  # steps: 0 input, 1 stem.conv, 2 stem.act, ... 6 global_avgpool_1
    assert seen["sorted"] == ["body.conv", "stem.conv", "stem.act", "body.act", "add_1", "global_avgpool_1"]
    assert seen["filtered"] == 2  # stem.conv, body.conv
    # body.conv's row: params 4·4·3·3 + 4 = 148, MACs exactly 9,216
    assert "148" in seen["details"] and "9,216" in seen["details"]
    before, zoomed, panned = seen["view"]
    assert zoomed[2] < before[2] and zoomed[3] < before[3]  # the wheel zoomed in: a smaller part of the graph fills the view
    assert panned[0] > zoomed[0] and panned[1] > zoomed[1]  # dragging left and up moved the view right and down
    assert seen["closed"] == ["body"]  # "Collapse body" drew the block as one node


@needs_chromium
def test_a_link_to_a_layer_opens_on_its_row(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    elements = browse(write_report(tmp_path, spec), tmp_path, "tiny-link", "#layer=stem.conv")
    # stem.conv: params 4·3·3·3 + 4 = 112; MACs 8·8·4 outputs × 3·3·3 = 6,912
    [details] = elements.find("aside", "details")
    assert "Params112" in details["text"] and "MACs (exact)6,912" in details["text"]
    broken = browse(tmp_path / "report.html", tmp_path, "tiny-bad-link", "#layer=%E0", screenshot=False)  # not UTF-8: ignored
    assert broken.find("aside", "details")[0]["text"] == "Click a node."
    assert len(elements.find("tr", "picked", data_layer="stem.conv")) == 1


@needs_chromium
def test_depth_draws_closed_blocks_as_one_node(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    elements = browse(write_report(tmp_path, spec, "--depth", "1"), tmp_path, "tiny-depth1")
    seen = drawn(elements, elements.find("section", "model")[0])
    assert seen["block_nodes"] == ["body", "stem"]
    assert seen["layer_nodes"] == ["add_1", "global_avgpool_1"]
    # input→stem, stem→body, stem→add_1, body→add_1, add_1→global_avgpool_1
    assert len(seen["edges"]) == 5
    assert len(seen["rows"]) == 6  # the table keeps every layer
    # the bars show the closed blocks' subtotals: stem = stem.conv (4·3·3·3 + 4 = 112 params, 8·8·4·27 = 6,912 MACs),
    # body = body.conv (4·4·3·3 + 4 = 148 params, 8·8·4·36 = 9,216 MACs)
    [bars] = elements.find("div", "bars")
    titles = [e["text"] for e in elements.find("title", within=id(bars))]
    assert titles == ["stem: 6,912 MACs", "body: 9,216 MACs", "add_1: 0 MACs", "global_avgpool_1: 0 MACs",
                      "stem: 112 Params", "body: 148 Params", "add_1: 0 Params", "global_avgpool_1: 0 Params"]


@needs_chromium
@pytest.mark.slow
def test_densenet201_draws_every_layer_edge_and_row(tmp_path):
    report = cnncost.analyze("densenet201")
    page = write_report(tmp_path, "densenet201")
    elements = browse(page, tmp_path, "densenet201")
    seen = drawn(elements, elements.find("section", "model")[0])
    assert seen["layer_nodes"] == sorted(row.name for row in report.layers)
    assert seen["edges"] == sorted((row.name, name) for row in report.layers for name in row.inputs)
    assert seen["rows"] == [row.name for row in report.layers]
    body = elements.find("body")[0]["attrs"]
    print(f"densenet201: {page.stat().st_size:,} bytes, drawn {body['data-cnncost-drawn-ms']} ms after navigation (headless, virtual time)")


@needs_chromium
def test_several_specs_compare_first_then_a_section_each(tmp_path):
    models = ("alexnet", "vgg16", "resnet50", "mobilenet_v2")
    elements = browse(write_report(tmp_path, *models), tmp_path, "compare")
    sections = elements.find("section", "model")
    assert [s["attrs"]["data-model"] for s in sections] == list(models)
    for model, section in zip(models, sections):
        report = cnncost.analyze(model)
        seen = drawn(elements, section)
        assert len(seen["layer_nodes"]) == len(report.layers)
        assert len(seen["edges"]) == sum(len(row.inputs) for row in report.layers)
        assert len(seen["rows"]) == len(report.layers)
    [comparison] = elements.find("section", "comparison")
    # a bubble per spec that cites a published top-1: vgg16, resnet50, mobilenet_v2 (not the lecture's alexnet, LRN
    # at 227×227, which no published torchvision figure describes)
    assert len(elements.find("g", "bubble", within=id(comparison))) == 3
    assert len(elements.find("table", "totals", within=id(comparison))) == 1


@needs_chromium
def test_check_report_has_a_section_per_spec_with_failing_budgets_highlighted(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: 3x8x8\nlayers:\n  - conv2d: {out: 4, kernel: 9}\n")  # a 9×9 kernel on an 8×8 input
    out = tmp_path / "check.html"
    # resnet18: 11,689,512 params (torchvision ResNet18_Weights.IMAGENET1K_V1) ≤ 20M; alexnet: 61,100,840 > 20M
    result = run_cli("check", "resnet18", "alexnet", bad, "--max-params", "20M", "--allow", "warning", "--report", out)
    assert result.returncode == 2, result.stderr  # the invalid spec decides the exit code
    elements = browse(out, tmp_path, "check")
    sections = {s["attrs"]["data-model"]: s for s in elements.find("section", "model")}
    assert list(sections) == ["resnet18", "alexnet", "bad"]
    verdict = {name: [c for c in elements.find("div", "verdict", within=id(s))][0]["classes"] - {"verdict"} for name, s in sections.items()}
    assert verdict == {"resnet18": {"pass"}, "alexnet": {"fail"}, "bad": {"error"}}
    assert len(elements.find("tr", "fail", within=id(sections["alexnet"]))) == 1
    assert elements.find("tr", "fail", within=id(sections["resnet18"])) == []
    assert len(drawn(elements, sections["resnet18"])["rows"]) == len(cnncost.analyze("resnet18").layers)


def test_the_file_is_self_contained_and_small(tmp_path):
    page = write_report(tmp_path, "densenet201").read_text(encoding="utf-8")
    assert len(page.encode()) < 2 * 1024 * 1024
    for remote in ("http://", "https://", "//cdn", "@import", "url(http"):
        assert remote not in page
    # and the browser refuses anything from elsewhere: every source the page's policy allows is the page itself
    [policy] = [e["attrs"]["content"] for e in Elements(page).find("meta") if e["attrs"].get("http-equiv") == "Content-Security-Policy"]
    directives = dict((part.split()[0], part.split()[1:]) for part in policy.split(";"))
    assert directives["default-src"] == ["'none'"]
    assert {source for sources in directives.values() for source in sources} <= {"'none'", "'unsafe-inline'", "data:"}
    assert "Copyright (c) 2012-2014 Chris Pettitt" in page  # dagre's MIT licence travels with it
    assert "sourceMappingURL" not in page


def test_names_cannot_break_out_of_the_page(tmp_path):
    spec = tmp_path / "evil.yaml"
    spec.write_text('name: "</script><script>alert(1)</script>"\ninput: 3x8x8\nlayers:\n  - relu: {name: "<b>x</b>"}\n')
    page = write_report(tmp_path, spec).read_text(encoding="utf-8")
    assert "</script><script>alert(1)" not in page and "<b>x</b>" not in page


def test_bad_input_leaves_no_file(tmp_path):
    out = tmp_path / "r.html"
    missing = run_cli("report", "no_such_spec", "-o", out)
    assert missing.returncode == 2 and "no_such_spec" in missing.stderr and "Traceback" not in missing.stderr
    assert not out.exists()
    out.write_text("keep")
    again = run_cli("report", "lenet5", "-o", out)
    assert again.returncode == 2 and "--force" in again.stderr and out.read_text() == "keep"


@needs_chromium
def test_unused_layers_1d_3d_and_split_networks_draw_without_an_error(tmp_path):
    # googlenet_aux: auxiliary heads that reach no output, two outputs; shufflenet: chunk, channel_shuffle, concat;
    # conv1d/conv3d: 1-D audio and 3-D video inputs; squeezenet: fire modules' concat
    names = ["googlenet_aux", "shufflenet_v2_x1_0", "conv1d_example", "conv3d_example", "squeezenet1_0"]
    elements = browse(write_report(tmp_path, *names), tmp_path, "kinds-of-network", screenshot=False)
    sections = elements.find("section", "model")
    assert len(sections) == len(names)
    for name, section in zip(names, sections):
        report = cnncost.analyze(name)
        seen = drawn(elements, section)
        assert (len(seen["layer_nodes"]), len(seen["edges"]), len(seen["rows"])) == (
            len(report.layers), sum(len(row.inputs) for row in report.layers), len(report.layers)), name
    unused = cnncost.analyze("googlenet_aux").unused
    assert unused and len(elements.find("g", "unused", within=id(sections[0]), data_layer=True)) == len(unused)


@needs_chromium
def test_past_a_thousand_nodes_blocks_close_or_the_graph_is_left_out(tmp_path):
    """dagre takes about 5 s for 1,500 nodes and overflows its stack near 3,000 (docs/report.md)."""
    repeated = tmp_path / "repeated.yaml"  # 600 instances of a 2-layer block: 1,200 layers, 600 nodes at depth 2
    repeated.write_text("name: repeated\ninput: 4x2x2\nblocks:\n  unit:\n    layers:\n      - relu: {name: a}\n      - relu: {name: b}\n"
                        "layers:\n  - unit: {name: stage, repeat: 600}\n")
    flat = tmp_path / "flat.yaml"  # 1,100 layers and no block to close
    flat.write_text("name: flat\ninput: 4x2x2\nlayers:\n" + "".join(f"  - relu: {{name: r{i}}}\n" for i in range(1100)))
    elements = browse(write_report(tmp_path, repeated, flat), tmp_path, "many", screenshot=False)
    closed, left_out = elements.find("section", "model")
    seen = drawn(elements, closed)
    assert len(seen["block_nodes"]) == 600 and seen["layer_nodes"] == [] and len(seen["rows"]) == 1200
    assert "closed to depth 2" in elements.find("span", "limited", within=id(closed))[0]["text"]
    seen = drawn(elements, left_out)
    assert seen["layer_nodes"] == [] and seen["edges"] == [] and len(seen["rows"]) == 1100
    assert "1101 nodes" in elements.find("p", "too-many", within=id(left_out))[0]["text"]


def test_check_report_refuses_an_existing_file_before_any_work(tmp_path):
    out = tmp_path / "check.html"
    out.write_text("keep")
    result = run_cli("check", "lenet5", "--report", out)
    assert result.returncode == 2 and "--report file already exists" in result.stderr and "--force" in result.stderr
    assert out.read_text() == "keep"


def test_the_page_assets_ship_in_wheels_and_sdists():
    """Every file the page inlines matches the package data in pyproject.toml (a new asset cannot be left out)."""
    import fnmatch
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["cnncost.render"]
    render = root / "cnncost" / "render"
    files = [p.relative_to(render).as_posix() for folder in ("assets", "vendor") for p in (render / folder).iterdir() if p.is_file()]
    assert {"assets/report.js", "assets/report.css", "vendor/dagre.min.js", "vendor/LICENSE.dagre"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_report_takes_spec_arguments(cli, tmp_path):
    """`--set` picks the family member the page describes: MobileNet v1 at α = 0.5 (the paper's Table 6 row)."""
    import cnncost

    target = tmp_path / "half.html"
    result = cli("report", "mobilenet_v1", "--set", "alpha=0.5", "-o", target)
    assert result.returncode == 0, result.stderr
    half = cnncost.analyze("mobilenet_v1", args={"alpha": 0.5})
    full = cnncost.analyze("mobilenet_v1")
    page = target.read_text()
    assert half.totals.params != full.totals.params
    assert f"{half.totals.params:,}" in page and f"{full.totals.params:,}" not in page
    assert cli("report", "mobilenet_v1", "--set", "alpah=0.5", "-o", tmp_path / "x.html").returncode == 2


@needs_chromium
def test_report_with_a_device_shows_the_roofline_table(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    elements = browse(write_report(tmp_path, spec, "--device", "a100-sxm4-40gb"), tmp_path, "roofline", screenshot=False)
    [section] = elements.find("section", "model")
    [table] = elements.find("table", "roofline", within=id(section))
    report = cnncost.analyze(spec, device="a100-sxm4-40gb")
    body_rows = [e for e in elements.find("tr", within=id(table)) if e["text"].strip() and "Layer" not in e["text"]]
    assert len(body_rows) == len(report.layers)
    footer = " ".join(e["text"] for e in elements.find("ul", "footer", within=id(section)))
    assert "Estimated latency" in footer and "a100-sxm4-40gb" in footer


def test_report_without_a_device_has_no_roofline_table(tmp_path):
    page = write_report(tmp_path, "lenet5").read_text()
    assert '"roofline": null' in page or '"roofline":null' in page
