/* cnncost report: draws the figures cnncost put into #cnncost-data. It computes no figure; it lays out
   (dagre), scales charts and sorts the table. When everything is drawn, <body data-cnncost-ready="true">. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("cnncost-data").textContent);
  var INPUT = "input";
  // dagre lays out densenet201's 707 nodes in about 1 s and 1,500 in about 5 s (measured on the loaded 2-core
  // development machine), and overflows its stack near 3,000: past this many nodes, blocks are closed or no graph is drawn.
  var MOST_NODES = 1000;
  var TIMELINE = { W: 900, L: 70, R: 10 };  // the memory timeline's width and its left and right margins
  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
                 "#86bcb6", "#d37295", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d"];

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function el(tag, attrs, html) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (html !== undefined) node.innerHTML = html;
    return node;
  }
  function colorFor(kinds) {
    var map = {};
    kinds.forEach(function (k, i) { map[k] = PALETTE[i % PALETTE.length]; });
    return function (kind) { return map[kind] || "#999"; };
  }
  function short(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function tail(name, n) { return name.length > n ? "…" + name.slice(name.length - n + 1) : name; }  // a layer's own name is at its end
  function si(n) {
    var steps = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < steps.length; i++) if (Math.abs(n) >= steps[i][0]) return (n / steps[i][0]).toFixed(1) + " " + steps[i][1];
    return String(n);
  }
  function binary(n) {
    var steps = [[1099511627776, "TiB"], [1073741824, "GiB"], [1048576, "MiB"], [1024, "KiB"]];
    for (var i = 0; i < steps.length; i++) if (Math.abs(n) >= steps[i][0]) return (n / steps[i][0]).toFixed(1) + " " + steps[i][1];
    return n + " B";
  }

  /* ---- the graph: which node a layer is drawn as, at a depth, with blocks opened or closed by the user ---- */
  function Graph(model, section, index) {
    var self = this;
    this.arrow = "arrow-" + index;
    this.model = model;
    this.blocks = {};
    model.blocks.forEach(function (b) { self.blocks[b.name] = b; });
    this.depth = DATA.depth;  // null: every block open
    this.opened = {};
    this.closed = {};
    this.color = colorFor(model.kind_macs.map(function (k) { return k.kind; }));
    this.maxMacs = Math.max.apply(null, [1].concat(model.layers.map(function (l) { return l.macs; })));
    this.rows = {};
    model.layers.forEach(function (l, i) { self.rows[l.name] = i; });
    this.section = section;
  }
  Graph.prototype.isOpen = function (block) {
    if (this.closed[block]) return false;
    if (this.opened[block]) return true;
    return this.depth === null || this.blocks[block].depth < this.depth;
  };
  Graph.prototype.shownAs = function (name) {
    var parts = name.split(".");
    for (var k = 1; k < parts.length; k++) {
      var prefix = parts.slice(0, k).join(".");
      if (this.blocks[prefix] && !this.isOpen(prefix)) return prefix;
    }
    return name;
  };
  Graph.prototype.layout = function () {
    var self = this, g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 28, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(function () { return {}; });
    g.setNode(INPUT, { width: 150, height: 34, input: true });
    var seen = {}, edges = [];
    this.model.layers.forEach(function (layer) {
      var shown = self.shownAs(layer.name);
      var block = shown !== layer.name ? self.blocks[shown] : null;  // a closed block: its subtotals, from cnncost
      if (!g.hasNode(shown)) g.setNode(shown, { width: 170, height: 40, block: block, layer: block ? null : layer, macs: (block || layer).macs });
      layer.inputs.forEach(function (input, i) {
        var from = input === INPUT ? INPUT : self.shownAs(input);
        if (from === shown) return;  // inside a closed block
        var grouped = from !== input || shown !== layer.name, key = from + "\u0000" + shown;
        if (grouped && seen[key]) return;  // a closed block draws one edge per neighbour
        seen[key] = true;
        var id = layer.name + "#" + i;
        edges.push(id);
        g.setEdge(from, shown, { layer: layer.name, input: input }, id);
      });
    });
    dagre.layout(g);
    this.g = g;
  };
  Graph.prototype.draw = function () {
    var self = this, g = this.g, parts = [];
    g.edges().forEach(function (e) {
      var points = g.edge(e).points.map(function (p) { return p.x.toFixed(1) + "," + p.y.toFixed(1); }).join(" ");
      var label = g.edge(e);
      parts.push('<g class="edge" data-from="' + esc(e.v) + '" data-to="' + esc(e.w) + '" data-layer="' + esc(label.layer) + '" data-input="' + esc(label.input) +
        '"><polyline points="' + points + '" marker-end="url(#' + self.arrow + ')"/></g>');
    });
    g.nodes().forEach(function (name) {
      var n = g.node(name), x = n.x - n.width / 2, y = n.y - n.height / 2;
      var cls = "node", attr = "", fill = "#ddd", title = name, sub = "";
      if (n.input) { cls += " input-node"; sub = "network input"; }
      else if (n.block) { cls += " block-node"; attr = ' data-block="' + esc(name) + '"'; fill = "#c9d3e6"; sub = n.block.kind + " · " + n.block.layers + " layers"; title = n.block.text; }
      else {
        cls += n.layer.unused ? " unused" : "";
        cls += n.layer.warnings.length ? " warned" : "";
        attr = ' data-layer="' + esc(name) + '"'; fill = self.color(n.layer.kind); sub = n.layer.op + " · " + n.layer.kind;
      }
      var bar = Math.max(n.macs > 0 ? 2 : 0, (n.width - 8) * Math.min(1, n.macs / self.maxMacs));
      parts.push('<g class="' + cls + '"' + attr + ' data-name="' + esc(name) + '"><title>' + esc(title) + '</title>' +
        '<rect class="box" x="' + x + '" y="' + y + '" width="' + n.width + '" height="' + n.height + '" rx="4" style="fill:' + fill + '"/>' +
        '<text x="' + n.x + '" y="' + (y + 14) + '">' + esc(tail(name, 26)) + '</text>' +
        '<text class="sub" x="' + n.x + '" y="' + (y + 27) + '">' + esc(short(sub, 28)) + '</text>' +
        (bar ? '<rect class="share" x="' + (x + 4) + '" y="' + (y + n.height - 6) + '" width="' + bar.toFixed(1) + '" height="3"/>' : "") + '</g>');
    });
    var box = this.section.querySelector(".graph-view");
    var width = g.graph().width, height = g.graph().height;
    box.innerHTML = '<svg class="graph" data-width="' + width + '" data-height="' + height + '"><defs><marker id="' + this.arrow + '" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs><g class="viewport">' + parts.join("") + "</g></svg>";
    this.svg = box.querySelector("svg");
    this.fit(false);
  };
  Graph.prototype.fit = function (whole) {
    var box = this.svg.getBoundingClientRect(), w = this.g.graph().width, h = this.g.graph().height;
    var all = Math.min(box.width / w, box.height / h);  // the whole graph; at first, no smaller than readable
    var scale = whole ? all : Math.min(1, box.width / w, Math.max(all, 0.7));
    this.view = { x: (w - box.width / scale) / 2, y: 0, scale: scale };
    this.apply();
  };
  Graph.prototype.apply = function () {
    var box = this.svg.getBoundingClientRect(), v = this.view;
    this.svg.setAttribute("viewBox", [v.x, v.y, box.width / v.scale, box.height / v.scale].map(function (n) { return n.toFixed(1); }).join(" "));
  };
  Graph.prototype.bind = function () {
    var self = this, box = this.section.querySelector(".graph-view"), drag = null;
    box.addEventListener("wheel", function (e) {
      if (!self.g) return;
      e.preventDefault();
      var r = self.svg.getBoundingClientRect(), v = self.view, factor = Math.exp(-e.deltaY * 0.0015);
      var gx = v.x + (e.clientX - r.left) / v.scale, gy = v.y + (e.clientY - r.top) / v.scale;
      v.scale = Math.max(0.02, Math.min(8, v.scale * factor));
      v.x = gx - (e.clientX - r.left) / v.scale; v.y = gy - (e.clientY - r.top) / v.scale;
      self.apply();
    }, { passive: false });
    box.addEventListener("mousedown", function (e) { drag = { x: e.clientX, y: e.clientY, moved: false }; });
    window.addEventListener("mousemove", function (e) {
      if (!drag || !self.g) return;
      self.view.x -= (e.clientX - drag.x) / self.view.scale; self.view.y -= (e.clientY - drag.y) / self.view.scale;
      drag.moved = drag.moved || Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 2;
      drag.x = e.clientX; drag.y = e.clientY; self.apply();
    });
    window.addEventListener("mouseup", function () { setTimeout(function () { drag = null; }, 0); });
    box.addEventListener("click", function (e) {
      if (drag && drag.moved) return;
      var node = e.target.closest(".node");
      if (node) self.show(node.getAttribute("data-name"));
    });
    this.section.querySelector(".depth").addEventListener("change", function (e) {
      self.depth = e.target.value === "all" ? null : Number(e.target.value);
      self.opened = {}; self.closed = {};
      self.redraw();
      drawBars(self.section, self.model, self);
    });
    this.section.querySelector(".fit").addEventListener("click", function () { if (self.g) self.fit(true); });
  };
  Graph.prototype.nodeCount = function () {
    var self = this, seen = {};
    this.model.layers.forEach(function (layer) { seen[self.shownAs(layer.name)] = true; });
    return Object.keys(seen).length + 1;  // and the input
  };
  /* At first, blocks are open to the depth asked for, and closed further while there are too many nodes to lay out. */
  Graph.prototype.limitDepth = function () {
    if (this.nodeCount() <= MOST_NODES || !this.model.blocks.length) return;
    var asked = this.depth, deepest = Math.max.apply(null, [1].concat(this.model.blocks.map(function (b) { return b.depth; })));
    for (var d = Math.min(asked === null ? deepest : asked, deepest); d >= 1; d--) {
      this.depth = d;
      if (this.nodeCount() <= MOST_NODES) break;
    }
    this.section.querySelector(".depth").value = String(this.depth);
    this.section.querySelector(".limited").textContent = this.model.layers.length + " layers: blocks closed to depth " + this.depth +
      " to keep the graph under " + MOST_NODES + " nodes. ";
  };
  Graph.prototype.redraw = function () {
    var count = this.nodeCount();
    if (count > MOST_NODES) {
      this.g = this.svg = null;
      this.section.querySelector(".graph-view").innerHTML = '<p class="too-many">' + count + " nodes at this depth, more than the " + MOST_NODES +
        " this page lays out: choose a smaller depth. The charts and the table below show every layer.</p>";
      return;
    }
    this.layout(); this.draw();
  };
  Graph.prototype.show = function (name) {
    var self = this, panel = this.section.querySelector(".details"), m = this.model, html = "";
    if (this.blocks[name] && !this.rows.hasOwnProperty(name)) {
      var b = this.blocks[name];
      html = "<h4>" + esc(name) + "</h4><p>" + esc(b.text) + '</p><button class="toggle" data-block="' + esc(name) + '">' + (this.isOpen(name) ? "Collapse" : "Expand") + "</button>";
    } else if (name === INPUT) {
      html = "<h4>input</h4><p>The network's input (" + esc(m.heading) + ").</p>";
    } else {
      var row = m.rows[this.rows[name]], layer = m.layers[this.rows[name]];
      html = "<h4>" + esc(name) + "</h4><table>" + m.columns.map(function (c, i) { return "<tr><th>" + esc(c.header) + "</th><td>" + esc(row[i][1]) + "</td></tr>"; }).join("") +
        "<tr><th>Params (exact)</th><td>" + esc(layer.params_text) + "</td></tr><tr><th>MACs (exact)</th><td>" + esc(layer.macs_text) + "</td></tr>" +
        "<tr><th>Inputs</th><td>" + esc(layer.inputs.join(", ")) + "</td></tr><tr><th>Spec</th><td>" + esc(layer.location) + "</td></tr></table>" +
        (layer.unused ? '<p class="warn">Unused: reaches no output; its params count, its MACs and memory do not.</p>' : "") +
        layer.warnings.map(function (w) { return '<p class="warn">⚠ ' + esc(w) + "</p>"; }).join("");
      var parts = name.split(".");
      for (var k = parts.length - 1; k >= 1; k--) {
        var prefix = parts.slice(0, k).join(".");
        if (this.blocks[prefix]) html += '<button class="toggle" data-block="' + esc(prefix) + '">Collapse ' + esc(prefix) + "</button> ";
      }
      var tr = this.section.querySelector('table.layers tr[data-row="' + this.rows[name] + '"]');
      this.section.querySelectorAll("table.layers tr.picked").forEach(function (r) { r.classList.remove("picked"); });
      if (tr) tr.classList.add("picked");
    }
    panel.innerHTML = html;
    panel.querySelectorAll(".toggle").forEach(function (button) {
      button.addEventListener("click", function () {
        var block = button.getAttribute("data-block"), open = self.isOpen(block);
        delete self.opened[block]; delete self.closed[block];
        if (open) self.closed[block] = true; else self.opened[block] = true;
        self.redraw();
        self.show(block);
      });
    });
  };

  /* ---- charts: plain SVG ---- */
  function barChart(items, key, label, color) {
    var W = 900, H = 90, L = 60, max = Math.max.apply(null, [1].concat(items.map(function (it) { return it[key]; })));
    var step = (W - L) / Math.max(1, items.length), out = [];
    items.forEach(function (it, i) {
      var h = (H - 20) * it[key] / max;
      out.push('<rect x="' + (L + i * step).toFixed(2) + '" y="' + (H - 10 - h).toFixed(2) + '" width="' + Math.max(0.6, step - (step > 4 ? 1 : 0)).toFixed(2) + '" height="' + h.toFixed(2) + '" fill="' + color + '"><title>' + esc(it.name + ": " + it[key + "_text"] + " " + label) + "</title></rect>");
    });
    return '<svg class="chart" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="' + esc(label) + '"><text class="axis" x="4" y="14">' + esc(label) + '</text><text class="axis" x="4" y="30">max ' + esc(si(max)) + "</text>" +
      '<line class="base" x1="' + L + '" x2="' + W + '" y1="' + (H - 10) + '" y2="' + (H - 10) + '"/>' + out.join("") + "</svg>";
  }
  function drawBars(section, model, graph) {
    var items = [], seen = {};  // each layer, or the closed block it is in (whose subtotals cnncost gives)
    model.layers.forEach(function (layer) {
      var name = graph.shownAs(layer.name);
      if (!seen[name]) { seen[name] = true; items.push(name === layer.name ? layer : graph.blocks[name]); }
    });
    var per = graph.depth === null ? "per layer" : "per layer or block at depth " + graph.depth;
    section.querySelector(".bars").innerHTML = "<h3>MACs and params " + per + " (execution order)</h3>" +
      barChart(items, "macs", "MACs", "#4e79a7") + barChart(items, "params", "Params", "#f28e2b");
  }
  function timelineChart(model) {
    var W = TIMELINE.W, H = 200, L = TIMELINE.L, T = 30, B = 30, steps = model.timeline, n = steps.length;
    var max = Math.max.apply(null, [1].concat(steps.map(function (s) { return s[1]; })));
    var x = function (i) { return L + (W - L - TIMELINE.R) * (n > 1 ? i / (n - 1) : 0); };
    var y = function (v) { return H - B - (H - B - T) * v / max; };
    var pts = [], peakIndex = 0;
    steps.forEach(function (s, i) { pts.push(x(i).toFixed(1) + "," + y(s[1]).toFixed(1)); if (s[0] === model.peak.layer && peakIndex === 0) peakIndex = i; });
    var px = x(peakIndex), py = y(steps.length ? steps[peakIndex][1] : 0), anchor = px > W * 0.6 ? "end" : "start";
    var ticks = [0, 0.5, 1].map(function (f) { return '<text class="axis" x="' + (L - 4) + '" y="' + (y(max * f) + 4) + '" text-anchor="end">' + esc(binary(max * f)) + "</text>"; }).join("");
    return '<svg class="chart timeline" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="memory timeline">' + ticks +
      '<line class="base" x1="' + L + '" x2="' + W + '" y1="' + (H - B) + '" y2="' + (H - B) + '"/>' +
      '<polyline class="live" points="' + pts.join(" ") + '"/>' +
      '<line class="peak" x1="' + px + '" x2="' + px + '" y1="' + T + '" y2="' + (H - B) + '"/><circle class="peak" cx="' + px + '" cy="' + py + '" r="4"/>' +
      '<text class="peak-label" x="' + (px + (anchor === "end" ? -6 : 6)) + '" y="' + (T - 10) + '" text-anchor="' + anchor + '">peak ' + esc(model.peak.text) + " at " + esc(model.peak.layer) + "</text>" +
      '<text class="axis" x="' + L + '" y="' + (H - 8) + '">step 0 (input)</text><text class="axis" x="' + W + '" y="' + (H - 8) + '" text-anchor="end">step ' + (n - 1) + " (" + esc(steps.length ? steps[n - 1][0] : "") + ")</text>" +
      '<line class="cursor" x1="-10" x2="-10" y1="' + T + '" y2="' + (H - B) + '"/><text class="cursor" x="' + ((W + L) / 2) + '" y="' + (H - 8) + '" text-anchor="middle"></text></svg>';
  }
  /* Hovering the timeline names the step under the pointer; clicking it shows that layer in the graph. */
  function bindTimeline(section, model, graph) {
    var svg = section.querySelector("svg.timeline"), steps = model.timeline, line = svg.querySelector("line.cursor"), label = svg.querySelector("text.cursor");
    function step(e) {
      var box = svg.getBoundingClientRect(), x = (e.clientX - box.left) * TIMELINE.W / box.width;
      var i = Math.round((x - TIMELINE.L) / (TIMELINE.W - TIMELINE.L - TIMELINE.R) * (steps.length - 1));
      return Math.max(0, Math.min(steps.length - 1, i));
    }
    svg.addEventListener("mousemove", function (e) {
      var i = step(e), x = TIMELINE.L + (TIMELINE.W - TIMELINE.L - TIMELINE.R) * (steps.length > 1 ? i / (steps.length - 1) : 0);
      line.setAttribute("x1", x); line.setAttribute("x2", x);
      label.textContent = "step " + i + ": " + steps[i][0] + ", " + steps[i][2] + " live";
    });
    svg.addEventListener("click", function (e) { if (graph.g) pick([graph], steps[step(e)][0]); });
  }

  function kindChart(model, color) {
    var rows = model.kind_macs, W = 900, row = 22, L = 190, H = rows.length * row + 10;
    var max = Math.max.apply(null, [1].concat(rows.map(function (k) { return k.macs; })));
    return '<svg class="chart kinds" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="MACs by kind">' + rows.map(function (k, i) {
      var w = (W - L - 190) * k.macs / max;
      return '<text class="axis" x="' + (L - 6) + '" y="' + (i * row + 16) + '" text-anchor="end">' + esc(short(k.kind, 28)) + '</text><rect x="' + L + '" y="' + (i * row + 4) + '" width="' + w.toFixed(1) + '" height="' + (row - 6) + '" fill="' + color(k.kind) + '"/>' +
        '<text class="axis" x="' + (L + w + 6) + '" y="' + (i * row + 16) + '">' + esc(k.text) + "</text>";
    }).join("") + "</svg>";
  }
  function bubbleChart(comparison) {
    var b = comparison.bubbles, W = 900, H = 420, L = 60, R = 30, T = 30, B = 45;
    if (!b.length) return "<p>No compared model has a published top-1 (reference.top1), so there is no bubble chart.</p>";
    var xs = b.map(function (d) { return d.macs; }), ys = b.map(function (d) { return d.top1; }), ps = b.map(function (d) { return d.params; });
    var xmax = Math.max.apply(null, xs) * 1.15 || 1, ymin = Math.min.apply(null, ys) - 3, ymax = Math.max.apply(null, ys) + 3, pmax = Math.max.apply(null, ps) || 1;
    var x = function (v) { return L + (W - L - R) * v / xmax; }, y = function (v) { return H - B - (H - B - T) * (v - ymin) / (ymax - ymin); };
    var out = b.map(function (d, i) {
      var r = 40 * Math.sqrt(d.params / pmax);  // area ∝ params
      return '<g class="bubble"><title>' + esc(d.text) + '</title><circle cx="' + x(d.macs).toFixed(1) + '" cy="' + y(d.top1).toFixed(1) + '" r="' + r.toFixed(1) + '" fill="' + PALETTE[i % PALETTE.length] + '"/>' +
        '<text x="' + x(d.macs).toFixed(1) + '" y="' + (y(d.top1) - r - 4).toFixed(1) + '" text-anchor="middle">' + esc(d.model) + "</text></g>";
    });
    var axes = '<line class="base" x1="' + L + '" x2="' + (W - R) + '" y1="' + (H - B) + '" y2="' + (H - B) + '"/><line class="base" x1="' + L + '" x2="' + L + '" y1="' + T + '" y2="' + (H - B) + '"/>' +
      '<text class="axis" x="' + ((W + L) / 2) + '" y="' + (H - 10) + '" text-anchor="middle">MACs, batch ' + comparison.batch + '</text><text class="axis" x="14" y="' + ((H - B + T) / 2) + '" transform="rotate(-90 14 ' + ((H - B + T) / 2) + ')" text-anchor="middle">Top-1 accuracy (%), published</text>' +
      [0, xmax / 4, xmax / 2, xmax * 3 / 4].map(function (v) { return '<text class="axis" x="' + x(v) + '" y="' + (H - B + 14) + '" text-anchor="middle">' + esc(si(v)) + "</text>"; }).join("") +
      [ymin, (ymin + ymax) / 2, ymax].map(function (v) { return '<text class="axis" x="' + (L - 4) + '" y="' + (y(v) + 4) + '" text-anchor="end">' + v.toFixed(1) + "</text>"; }).join("");
    return '<svg class="chart bubbles" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="comparing complexity">' + axes + out.join("") + "</svg>";
  }

  /* ---- tables: any terminal view; the per-layer one sortable and filterable ---- */
  function tableHtml(view, cls) {
    var head = "<tr>" + view.columns.map(function (c, i) { return '<th data-col="' + i + '" class="' + (c.numeric ? "num" : "") + '">' + esc(c.header) + "</th>"; }).join("") + "</tr>";
    var body = view.rows.map(function (row, r) {
      return '<tr data-row="' + r + '">' + row.map(function (cell, i) { return '<td class="' + (view.columns[i].numeric ? "num" : "") + '">' + esc(cell[1]) + "</td>"; }).join("") + "</tr>";
    }).join("");
    var foot = (view.totals || []).map(function (t) { return "<li><b>" + esc(t[0]) + ":</b> " + esc(t[1]) + "</li>"; }).join("") +
      (view.notes || []).map(function (n) { return '<li class="note">' + esc(n) + "</li>"; }).join("");
    return '<table class="' + cls + '"><thead>' + head + "</thead><tbody>" + body + "</tbody></table>" + (foot ? '<ul class="footer">' + foot + "</ul>" : "");
  }
  function bindTable(section, model) {
    var table = section.querySelector("table.layers"), tbody = table.tBodies[0], order = { col: -1, dir: 1 };
    var rows = Array.prototype.slice.call(tbody.rows);
    model.layers.forEach(function (layer, i) {
      rows[i].setAttribute("data-layer", layer.name);
      if (layer.unused) rows[i].classList.add("unused");
    });
    table.querySelectorAll("th").forEach(function (th) {
      th.addEventListener("click", function () {
        var col = Number(th.getAttribute("data-col")), numeric = model.columns[col].numeric;
        order.dir = order.col === col ? -order.dir : (numeric ? -1 : 1); order.col = col;
        rows.sort(function (a, b) {
          var x = model.rows[a.getAttribute("data-row")][col], y = model.rows[b.getAttribute("data-row")][col];
          var d = numeric ? x[0] - y[0] : String(x[1]).localeCompare(String(y[1]));
          return d * order.dir || a.getAttribute("data-row") - b.getAttribute("data-row");
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-sorted"); });
        th.setAttribute("data-sorted", order.dir > 0 ? "ascending" : "descending");
      });
    });
    section.querySelector(".filter").addEventListener("input", function (e) {
      var needle = e.target.value.toLowerCase();
      rows.forEach(function (r) { r.hidden = needle && r.getAttribute("data-layer").toLowerCase().indexOf(needle) < 0; });
    });
  }

  function checkHtml(check) {
    var out = '<div class="verdict ' + esc(check.status) + '"><b>' + esc(check.word) + "</b> " + esc(check.path) + "</div>";
    if (check.budgets.length) {
      out += '<table class="budgets"><thead><tr><th>Budget</th><th>Limit</th><th>From</th><th>Measured</th><th>At</th></tr></thead><tbody>' + check.budgets.map(function (b) {
        return '<tr class="' + (b.passed ? "pass" : "fail") + '"><td>' + esc(b.key) + "</td><td>" + esc(b.limit) + "</td><td>" + esc(b.origin) + "</td><td>" + esc(b.actual) + "</td><td>" + esc(b.layer) + "</td></tr>";
      }).join("") + "</tbody></table>";
    }
    return out + check.problems.map(function (p) { return '<p class="fail-line">✗ ' + esc(p.location ? p.location + ": " : "") + esc(p.message) + "</p>"; }).join("");
  }

  function modelSection(model, index) {
    var section = el("section", { "class": "model", "data-model": model.model, id: "model-" + index });
    var html = "<h2>" + esc(model.model) + "</h2>";
    if (model.check) html += checkHtml(model.check);
    if (!model.layers) { section.innerHTML = html; return { section: section }; }
    var maxDepth = Math.max.apply(null, [0].concat(model.blocks.map(function (b) { return b.depth; })));
    var options = '<option value="all">all</option>';
    for (var d = 1; d <= maxDepth; d++) options += '<option value="' + d + '"' + (DATA.depth === d ? " selected" : "") + ">" + d + "</option>";
    html += '<p class="meta">' + esc(model.heading) + "<br>" + esc(model.description || "") + "<br><small>" + esc(model.source || "") + "</small></p>" +
      '<div class="graph-panel"><div class="graph-tools">Blocks open to depth <select class="depth">' + options + '</select> <button class="fit">Fit</button> <span class="limited"></span>' +
      "<span class=\"hint\">wheel: zoom · drag: pan · click a node for its row · colour: kind of layer · bar: MACs against the largest node</span></div>" +
      '<div class="graph-row"><div class="graph-view"><p class="loading">Laying out ' + model.layers.length + ' layers…</p></div><aside class="details"><p>Click a node.</p></aside></div></div>' +
      '<h3>Memory timeline: live activation bytes at each step of inference</h3>' + timelineChart(model) +
      '<p class="note">Inference, nothing in place: a tensor lives from the layer that makes it to its last consumer; a step counts the running layer\'s inputs and output. Peak ' +
      esc(model.peak.text) + " at " + esc(model.peak.layer) + '.</p><div class="bars"></div><h3>MACs by kind of layer</h3>' + kindChart(model, colorFor(model.kind_macs.map(function (k) { return k.kind; }))) +
      tableHtml(model.kinds, "kinds") +
      (model.roofline ? "<h3>" + esc(model.roofline.title) + "</h3>" + tableHtml(model.roofline, "roofline") : "") +
      "<h3>Layers</h3>" + '<input class="filter" type="search" placeholder="filter by name">' + tableHtml(model, "layers");
    section.innerHTML = html;
    var graph = new Graph(model, section, index);
    graph.limitDepth();
    bindTable(section, model);
    bindTimeline(section, model, graph);
    drawBars(section, model, graph);
    return { section: section, graph: graph };
  }

  function linked() {
    try { return decodeURIComponent(location.hash.replace(/^#layer=/, "")); } catch (e) { return ""; }  // a malformed link opens the page as usual
  }
  /* report.html#layer=NAME opens on that layer: its row in the details, the view centred on its node. */
  function pick(graphs, name) {
    graphs.some(function (graph) {
      if (!graph.g || !graph.rows.hasOwnProperty(name)) return false;
      var shown = graph.shownAs(name), node = graph.g.node(shown), box = graph.svg.getBoundingClientRect();
      graph.show(shown);
      graph.view.x = node.x - box.width / graph.view.scale / 2; graph.view.y = node.y - box.height / graph.view.scale / 2;
      graph.apply();
      graph.section.scrollIntoView();
      return true;
    });
  }

  function start() {
    var app = document.getElementById("app");
    app.innerHTML = "";
    app.appendChild(el("header", {}, "<h1>" + esc(DATA.title) + '</h1><p class="meta">' + esc(DATA.generator) + " · " +
      DATA.models.map(function (m, i) { return '<a href="#model-' + i + '">' + esc(m.model) + "</a>"; }).join(" · ") + "</p>"));
    if (DATA.comparison) {
      var c = DATA.comparison;
      app.appendChild(el("section", { "class": "comparison" }, "<h2>Comparing complexity</h2>" + bubbleChart(c) +
        '<p class="note">Bubble area ∝ params (after Canziani et al. 2016, Fig. 2, as in the lecture).' +
        (c.without_top1.length ? " Without a published top-1: " + esc(c.without_top1.join(", ")) + "." : "") + "</p>" + tableHtml(c.table, "totals")));
    }
    var graphs = DATA.models.map(function (model, i) { var part = modelSection(model, i); app.appendChild(part.section); return part.graph; });
    var pending = graphs.filter(Boolean);
    (function next() {  // one layout per task, so the page paints and stays responsive in between
      var graph = pending.shift();
      if (!graph) {
        pick(graphs.filter(Boolean), linked());
        document.body.setAttribute("data-cnncost-drawn-ms", String(Math.round(performance.now())));
        document.body.setAttribute("data-cnncost-ready", "true");
        return;
      }
      graph.redraw(); graph.bind();
      setTimeout(next, 0);
    })();
  }
  setTimeout(start, 0);
})();
