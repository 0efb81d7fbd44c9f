// surge report page: draws everything from the JSON in #surge-data (a
// report) or from the Server-Sent Events at "events" (the live dashboard).
(function () {
  "use strict";
  var PALETTE = ["#1f6fd1", "#e8790c", "#2a9d4b", "#8e44ad", "#c0392b", "#16a2b8", "#b8860b", "#555"];
  var ERR = "#d62728", NOTSENT = "#7f7f7f";
  var PCT_DASH = { p50: [], p90: [6, 3], p99: [2, 2], max: [1, 3] };
  var charts = {};
  window.surgeCharts = charts;
  var app = document.getElementById("app");
  var data = JSON.parse(document.getElementById("surge-data").textContent);
  var shape = ""; // the charts' series layout; a change rebuilds them
  var syncing = false;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function colour(i) { return PALETTE[i % PALETTE.length]; }
  function fmtSec(v) {
    if (v == null) return "";
    var s = Math.abs(v);
    // Milliseconds kept: ticks 0.25s or 0.025s apart read as such.
    if (s < 120) return (Math.round(v * 1000) / 1000) + "s";
    var m = Math.floor(s / 60), r = Math.round(s % 60);
    return (v < 0 ? "-" : "") + m + "m" + (r < 10 ? "0" : "") + r + "s";
  }
  function fmtMS(v) {
    if (v == null) return "";
    if (v === 0) return "0";
    if (v >= 1000) return (Math.round(v) / 1000) + "s";
    if (v >= 1) return (Math.round(v * 100) / 100) + "ms";
    return (Math.round(v * 1000)) + "µs";
  }
  function fmtNines(v) {
    if (v == null) return "";
    var q = 100 * (1 - Math.pow(10, -v));
    return (Math.round(q * 1000) / 1000) + "%";
  }
  function fmtNum(v) {
    if (v == null) return "";
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toPrecision(3) + "G";
    if (a >= 1e6) return +(v / 1e6).toPrecision(3) + "M";
    if (a >= 1e3) return +(v / 1e3).toPrecision(3) + "k";
    return String(+v.toPrecision(3));
  }
  function fmtRate(v) { return v == null ? "" : String(v); }
  function fmtCount(v) { return v == null ? "" : v + (v === 1 ? " request" : " requests"); }
  function width() { return Math.max(320, Math.min(1200, app.clientWidth - 8)); }

  // join aligns tables [x[], y1[], y2[], …] on one ascending x, keeping
  // duplicate x values (every request is its own row); missing values are null.
  function join(tables) {
    if (tables.length === 1) return tables[0];
    var rows = [];
    tables.forEach(function (t, ti) { for (var i = 0; i < t[0].length; i++) rows.push([t[0][i], ti, i]); });
    rows.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var out = [rows.map(function (r) { return r[0]; })];
    tables.forEach(function (t, ti) {
      for (var s = 1; s < t.length; s++) {
        var col = new Array(rows.length);
        for (var r = 0; r < rows.length; r++) col[r] = rows[r][1] === ti ? t[s][rows[r][2]] : null;
        out.push(col);
      }
    });
    return out;
  }

  // Stage and warm-up bands and spike episodes, drawn under the series of
  // the time charts. Only the large charts carry the bands' names.
  function bandsHook(u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, small = u.height < 200;
    data.runs.forEach(function (run) {
      (run.spikes || []).forEach(function (sp) {
        var x0 = u.valToPos(sp.from, "x", true), x1 = u.valToPos(sp.to, "x", true);
        ctx.save();
        ctx.fillStyle = sp.unjudged ? "rgba(127,127,127,0.16)" : "rgba(214,39,40,0.13)";
        ctx.fillRect(x0, top, Math.max(devicePixelRatio, x1 - x0), h);
        ctx.restore();
      });
    });
    if (small) return;
    data.runs.forEach(function (run, ri) {
      (run.stages || []).forEach(function (st, si) {
        var x0 = u.valToPos(st.from, "x", true), x1 = u.valToPos(st.to, "x", true);
        ctx.save();
        ctx.fillStyle = st.kind === "warmup" ? "rgba(160,160,160,0.18)" : (si % 2 ? "rgba(31,111,209,0.06)" : "rgba(31,111,209,0.12)");
        ctx.fillRect(x0, top, Math.max(1, x1 - x0), h);
        ctx.fillStyle = "#444";
        ctx.font = Math.round(11 * devicePixelRatio) + "px sans-serif";
        ctx.fillText((data.runs.length > 1 ? run.name + ": " : "") + st.name, x0 + 4, top + 14 * devicePixelRatio * (1 + ri * 0));
        ctx.restore();
      });
    });
  }

  // Zoom on one time chart zooms them all.
  function syncScale(u, key) {
    if (key !== "x" || syncing) return;
    syncing = true;
    timeKeys().forEach(function (k) {
      var c = charts[k];
      if (c && c !== u) c.setScale("x", { min: u.scales.x.min, max: u.scales.x.max });
    });
    syncing = false;
  }

  // The time charts: the three large ones and the server signals'.
  function timeKeys() {
    return ["latency", "percentiles", "throughput"].concat(Object.keys(charts).filter(function (k) { return k.indexOf("signal-") === 0; }));
  }

  // xRange is the span every time chart shows, so that one second sits at
  // the same place on all of them: from 0 (or the earliest time drawn) to
  // the last window's end, request or reading.
  var xRange = [0, 1];
  function timeRange() {
    var lo = 0, hi = 0;
    data.runs.forEach(function (run) {
      var w = run.windows, n = w.t.length, t = 0;
      if (n) hi = Math.max(hi, w.t[n - 1] + w.width_s);
      run.points.dt_ms.forEach(function (d) { t += d; });
      hi = Math.max(hi, t / 1000);
      ((run.signals || {}).series || []).forEach(function (s) {
        if (s.t.length) { lo = Math.min(lo, s.t[0]); hi = Math.max(hi, s.t[s.t.length - 1]); }
      });
    });
    return [lo, hi > lo ? hi : lo + 1];
  }

  function timeOpts(title, id, series, yLabel, extra) {
    var o = {
      title: title, width: width(), height: 300, series: [{ label: "time", value: function (u, v) { return fmtSec(v); } }].concat(series),
      scales: { x: { time: false } },
      axes: [{ values: function (u, vs) { return vs.map(fmtSec); } }, { label: yLabel, size: 70, values: function (u, vs) { return vs.map(yLabel === "latency" ? fmtMS : yLabel === "per second" ? fmtRate : fmtNum); } }],
      cursor: { sync: { key: "surge-time" }, drag: { x: true, y: false } },
      hooks: { drawAxes: [bandsHook], setScale: [syncScale] },
    };
    for (var k in extra || {}) o[k] = extra[k];
    return o;
  }

  // dots draws each point of a series as a small square: one path of
  // rectangles is far cheaper than uPlot's circles for 100,000s of points.
  function dots(u, si, i0, i1) {
    var p = new Path2D(), xs = u.data[0], ys = u.data[si], sz = (xs.length > 50000 ? 2 : 3) * devicePixelRatio, h = sz / 2;
    var xmin = u.scales.x.min, xmax = u.scales.x.max;
    for (var i = i0; i <= i1; i++) {
      var y = ys[i];
      if (y == null || xs[i] < xmin || xs[i] > xmax) continue;
      p.rect(u.valToPos(xs[i], "x", true) - h, u.valToPos(y, "y", true) - h, sz, sz);
    }
    return { stroke: null, fill: p };
  }

  function latencyTable() {
    var tables = [], series = [];
    data.runs.forEach(function (run, ri) {
      var p = run.points, n = p.dt_ms.length, x = new Array(n), ok = new Array(n), er = new Array(n).fill(null), ns = new Array(n).fill(null), t = 0;
      for (var i = 0; i < n; i++) { t += p.dt_ms[i]; x[i] = t / 1000; ok[i] = p.lat_us[i] / 1000; }
      p.err.forEach(function (i) { er[i] = ok[i]; ok[i] = null; });
      p.not_sent.forEach(function (i) { ns[i] = ok[i]; ok[i] = null; });
      tables.push([x, ok, er, ns]);
      var pre = data.runs.length > 1 ? run.name + " " : "";
      [["ok", colour(ri)], ["error", ERR], ["not sent", NOTSENT]].forEach(function (c) {
        series.push({ label: pre + c[0], stroke: c[1], fill: c[1], paths: dots, points: { show: false }, value: function (u, v) { return fmtMS(v); } });
      });
    });
    return { data: join(tables), series: series };
  }

  function windowTables(fields, names, yfmt) {
    var tables = [], series = [];
    data.runs.forEach(function (run, ri) {
      var w = run.windows, mid = w.t.map(function (t) { return Math.round((t + w.width_s / 2) * 1000) / 1000; });
      tables.push([mid].concat(fields.map(function (f) { return w[f.key]; })));
      var pre = data.runs.length > 1 ? run.name + " " : "";
      fields.forEach(function (f) {
        var c = f.colour || (data.runs.length === 1 && f.solo) || colour(ri);
        series.push({ label: pre + f.label, stroke: c, width: f.width || 1.5, dash: f.dash, spanGaps: data.runs.length > 1,
          scale: f.scale || "y", value: function (u, v) { return yfmt(v); } });
      });
    });
    return { data: join(tables), series: series };
  }

  function histTable() {
    var tables = [], series = [];
    data.runs.forEach(function (run, ri) {
      tables.push([run.hist.ms, run.hist.count]);
      series.push({ label: run.name, stroke: colour(ri), fill: colour(ri) + "33", width: 1.5, spanGaps: data.runs.length > 1,
        paths: uPlot.paths.stepped({ align: 1 }), value: function (u, v) { return fmtCount(v); } });
    });
    return { data: join(tables), series: series };
  }

  function spectrumTable() {
    var tables = [], series = [];
    data.runs.forEach(function (run, ri) {
      tables.push([run.spectrum.nines, run.spectrum.ms.map(function (v) { return Math.max(v, 0.001); })]);
      series.push({ label: run.name, stroke: colour(ri), width: 2, spanGaps: data.runs.length > 1, value: function (u, v) { return fmtMS(v); } });
    });
    return { data: join(tables), series: series };
  }

  // histRange is the distribution's x span over every run: from the
  // lowest bin to the top of the highest (uPlot's log scale would round
  // it out to powers of ten and squeeze the bars into a corner).
  function histRange() {
    var lo = Infinity, hi = 0;
    data.runs.forEach(function (run) {
      var ms = run.hist.ms, n = ms.length;
      if (!n) return;
      lo = Math.min(lo, ms[0]);
      hi = Math.max(hi, n > 1 ? ms[n - 1] * ms[n - 1] / ms[n - 2] : ms[0] * 1.1);
    });
    if (!(hi > lo)) return [1, 10];
    return [lo, hi];
  }

  // logTicks returns tick values between lo and hi on a log axis: the
  // coarsest of 1-, 1-2-5-, 1-2-3-5-7- and 1…9-per-decade grids that puts
  // at least four in the span, so that an axis never has a single label.
  function logTicks(lo, hi) {
    var grids = [[1], [1, 2, 5], [1, 2, 3, 5, 7], [1, 2, 3, 4, 5, 6, 7, 8, 9]], out = [];
    for (var g = 0; g < grids.length; g++) {
      out = [];
      for (var e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
        grids[g].forEach(function (m) {
          var v = +(m * Math.pow(10, e)).toPrecision(6);
          if (v >= lo && v <= hi) out.push(v);
        });
      }
      if (out.length >= 4) return out;
    }
    return out.length >= 2 ? out : [lo, hi];
  }

  function boundsHook(u) {
    var ctx = u.ctx;
    (data.bounds_ms || []).forEach(function (b) {
      var x = u.valToPos(b, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
      ctx.save();
      ctx.strokeStyle = "#c0392b"; ctx.setLineDash([5, 4]); ctx.lineWidth = devicePixelRatio;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.fillStyle = "#c0392b"; ctx.font = Math.round(11 * devicePixelRatio) + "px sans-serif";
      ctx.fillText(fmtMS(b), x + 3, u.bbox.top + 12 * devicePixelRatio);
      ctx.restore();
    });
  }

  var PCTS = [{ key: "p50", label: "p50", solo: "#2a9d4b" }, { key: "p90", label: "p90", solo: "#1f6fd1" },
    { key: "p99", label: "p99", solo: "#e8790c" }, { key: "max", label: "max", solo: "#c0392b" }];
  var RATES = [{ key: "offered", label: "offered/s", dash: [6, 3], solo: "#777" }, { key: "throughput", label: "throughput/s", solo: "#1f6fd1" },
    { key: "errors", label: "errors/s", colour: ERR }, { key: "in_flight", label: "in flight", dash: [2, 2], scale: "n", solo: "#8e44ad" }];

  // signalGroups returns the server-signal series of every run, one group
  // per source and series (runs overlaid in their colours), in the order
  // the report ranked them (named in findings first), at most MAX_SIGNALS,
  // and how many more were recorded.
  var MAX_SIGNALS = 12;
  function signalGroups() {
    var groups = [], byKey = {}, more = 0, sources = {};
    data.runs.forEach(function (run, ri) {
      var sg = run.signals;
      if (!sg) return;
      more += sg.more || 0;
      sg.sources.forEach(function (src) { sources[src.source] = true; });
      sg.series.forEach(function (s, si) {
        var src = sg.sources[s.source] || { source: "" }, k = src.source + " " + s.name, g = byKey[k];
        if (!g) {
          g = byKey[k] = { name: s.name, source: src.source, kind: s.kind, named: false, unjudged: true, rank: si, members: [] };
          groups.push(g);
        }
        g.named = g.named || !!s.named;
        g.unjudged = g.unjudged && !!s.unjudged;
        g.rank = Math.min(g.rank, si);
        g.members.push({ run: ri, s: s, missed: src.missed || [] });
      });
    });
    groups.sort(function (a, b) { return (b.named - a.named) || (a.rank - b.rank); });
    more += Math.max(0, groups.length - MAX_SIGNALS);
    return { groups: groups.slice(0, MAX_SIGNALS), more: more, sources: Object.keys(sources).length };
  }

  // missedHook marks, at the foot of a signal chart, the spans in which its
  // source's readings failed or are missing.
  function missedHook(g) {
    return function (u) {
      var ctx = u.ctx, bottom = u.bbox.top + u.bbox.height, h = 5 * devicePixelRatio;
      g.members.forEach(function (m) {
        m.missed.forEach(function (sp) {
          var x0 = u.valToPos(sp[0], "x", true), x1 = u.valToPos(sp[1], "x", true);
          ctx.save();
          ctx.fillStyle = "rgba(127,127,127,0.18)";
          ctx.fillRect(x0, u.bbox.top, Math.max(devicePixelRatio, x1 - x0), u.bbox.height);
          ctx.fillStyle = ERR;
          ctx.fillRect(x0, bottom - h, Math.max(2 * devicePixelRatio, x1 - x0), h);
          ctx.restore();
        });
      });
    };
  }

  function signalSpecs(sg) {
    var step = uPlot.paths.stepped({ align: 1 });
    return sg.groups.map(function (g, gi) {
      var tables = [], series = [], multi = data.runs.length > 1;
      g.members.forEach(function (m) {
        var c = colour(m.run), pre = multi ? data.runs[m.run].name + " " : "";
        tables.push(m.s.max ? [m.s.t, m.s.v, m.s.max] : [m.s.t, m.s.v]);
        series.push({ label: pre + (g.kind === "counter" ? "per second" : "value"), stroke: c, fill: c + "22", width: 1.5, paths: step,
          points: { show: false }, spanGaps: multi, value: function (u, v) { return fmtNum(v); } });
        if (m.s.max) series.push({ label: pre + "max", stroke: c, width: 1, dash: [2, 2], paths: step, points: { show: false }, spanGaps: multi,
          value: function (u, v) { return fmtNum(v); } });
      });
      var title = g.name + (g.kind === "counter" ? " (increase per second)" : "") + (sg.sources > 1 ? " — " + g.source : "") +
        (g.named ? (g.unjudged ? " — moved with the latency (not judged: the machine was busy)" : " — named in the findings") : "");
      var tbl = { data: join(tables), series: series };
      return ["signal-" + gi, title, tbl, function (t) {
        // One run: the title says it all and the legend would only repeat
        // it; several: the legend names each run's line.
        var o = timeOpts(t, "signal-" + gi, tbl.series, g.kind === "counter" ? "per second" : "value", { height: 140, legend: { show: multi } });
        o.hooks.drawAxes.push(missedHook(g));
        return o;
      }];
    });
  }

  function chartSpecs() {
    PCTS.forEach(function (p) { p.dash = PCT_DASH[p.key]; p.width = p.key === "max" ? 1 : 1.5; });
    var lat = latencyTable(), pct = windowTables(PCTS, null, fmtMS), thr = windowTables(RATES, null, fmtRate),
      hist = histTable(), spec = spectrumTable();
    return [
      ["latency", "Latency of every request (by intended send time)", lat, function (t) {
        return timeOpts(t, "latency", lat.series, "latency", { legend: { live: false } }); }],
      ["percentiles", "Latency percentiles per window", pct, function (t) { return timeOpts(t, "percentiles", pct.series, "latency"); }],
      ["throughput", "Throughput, offered rate, errors (per second) and requests in flight", thr, function (t) {
        var o = timeOpts(t, "throughput", thr.series, "per second");
        o.axes.push({ side: 1, scale: "n", label: "in flight", grid: { show: false } });
        return o; }],
    ].concat(signalSpecs(signalGroups()), [
      ["hist", "Latency distribution (Gatling bounds dashed)", hist, function (t) {
        return { title: t, width: width(), height: 260, series: [{ label: "latency", value: function (u, v) { return fmtMS(v); } }].concat(hist.series),
          scales: { x: { time: false, distr: 3, range: histRange } },
          axes: [{ values: function (u, vs) { return vs.map(fmtMS); }, splits: function (u, ai, lo, hi) { return logTicks(lo, hi); },
            filter: function (u, vs) { return vs; } },
            { label: "requests", size: 70 }],
          hooks: { draw: [boundsHook] } }; }],
      ["spectrum", "Percentile spectrum", spec, function (t) {
        return { title: t, width: width(), height: 260, series: [{ label: "percentile", value: function (u, v) { return fmtNines(v); } }].concat(spec.series),
          scales: { x: { time: false }, y: { distr: 3 } },
          axes: [{ values: function (u, vs) { return vs.map(fmtNines); }, splits: function () { return [0, 1, 2, 3, 4, 5]; } },
            { label: "latency", size: 70, values: function (u, vs) { return vs.map(fmtMS); } }] }; }],
    ]);
  }

  // shareRange sets every time chart's x scale to xRange.
  function shareRange() {
    syncing = true;
    timeKeys().forEach(function (k) { if (charts[k]) charts[k].setScale("x", { min: xRange[0], max: xRange[1] }); });
    syncing = false;
  }

  function signalNote() {
    var sg = signalGroups(), n = 0;
    data.runs.forEach(function (run) { n += run.signals ? run.signals.series.length + (run.signals.more || 0) : 0; });
    var txt = "Server signals recorded during the run on the same time axis: counters as their increase per second over each reading, gauges as their value" +
      " (series named in the findings first, then those that moved most for their level). Spike episodes are shaded red on every time chart;" +
      " at the foot of a signal chart, red marks spans whose readings failed or are missing.";
    if (sg.more > 0) txt += " " + sg.more + " more series recorded (" + n + " in all) are not drawn.";
    return el("p", { id: "signals-note", class: "note" }, txt);
  }

  // findingsBox lists each run's findings, the text report's sentences,
  // under the time charts whose shaded spans and signals they explain.
  function findingsBox() {
    var box = el("section", { id: "findings" }), multi = data.runs.length > 1, any = false;
    box.appendChild(el("h2", null, "Findings"));
    data.runs.forEach(function (run, ri) {
      if (!run.findings || !run.findings.length) return;
      any = true;
      if (multi) {
        var h = el("h3", null, "Run " + run.name);
        h.style.borderLeft = "6px solid " + colour(ri);
        box.appendChild(h);
      }
      var ul = el("ul", { id: "findings-" + ri, class: "findings" });
      run.findings.forEach(function (f) {
        var sub = f.text.indexOf("  ") === 0, li = el("li", sub ? { class: "sub" } : null);
        li.appendChild(el("b", null, f.who));
        li.appendChild(document.createTextNode(": " + (sub ? f.text.slice(2) : f.text)));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    });
    return any ? box : el("section", { id: "findings" });
  }

  function renderCharts() {
    var specs = chartSpecs();
    xRange = timeRange();
    var newShape = specs.map(function (s) { return s[1] + ":" + s[2].series.map(function (x) { return x.label; }).join("|"); }).join("/");
    if (newShape === shape) {
      specs.forEach(function (s) { charts[s[0]].setData(s[2].data); });
      var note = document.getElementById("signals-note");
      if (note) note.replaceWith(signalNote());
      document.getElementById("findings").replaceWith(findingsBox());
      shareRange();
      return;
    }
    shape = newShape;
    var box = document.getElementById("charts");
    box.textContent = "";
    for (var k in charts) { charts[k].destroy(); delete charts[k]; }
    specs.forEach(function (s) {
      if (s[0] === "signal-0") {
        box.appendChild(el("h2", { id: "signals" }, "Server signals"));
        box.appendChild(signalNote());
      }
      var div = el("section", { id: "chart-" + s[0], class: s[0].indexOf("signal-") === 0 ? "chart signal" : "chart" });
      box.appendChild(div);
      charts[s[0]] = new uPlot(s[3](s[1]), s[2].data, div);
      if (s[0] === "throughput") box.appendChild(findingsBox());
    });
    shareRange();
  }

  function table(id, head, rows) {
    var t = el("table", { id: id }), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    var th = el("thead"); th.appendChild(tr); t.appendChild(th);
    var tb = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr");
      r.forEach(function (c, i) { tr.appendChild(el("td", i > 0 && typeof c === "number" ? { class: "num" } : null, c)); });
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    return t;
  }

  function renderTables() {
    var box = document.getElementById("tables");
    box.textContent = "";
    var multi = data.runs.length > 1;
    var head = ["Label", "Requests", "Success", "Rate", "p50", "p90", "p99", "Max", "Errors"];
    var rows = [];
    data.runs.forEach(function (run) {
      run.labels.concat([run.total]).forEach(function (r) {
        var row = [r.label, r.requests, r.success, r.rate, r.p50, r.p90, r.p99, r.max, r.errors];
        rows.push(multi ? [run.name].concat(row) : row);
      });
    });
    box.appendChild(el("h2", null, "Per label"));
    box.appendChild(table("labels", multi ? ["Run"].concat(head) : head, rows));
    data.runs.forEach(function (run, ri) {
      var sec = el("section", { class: "run" });
      var h = el("h2", null, multi ? "Run " + run.name : "Figures");
      h.style.borderLeft = "6px solid " + colour(ri);
      sec.appendChild(h);
      sec.appendChild(table("figures-" + ri, ["Figure", "Value"], run.figures));
      sec.appendChild(table("buckets-" + ri, ["Distribution", "Count", "Ratio"], run.buckets.map(function (b) { return [b.label, b.count, b.ratio]; })));
      run.meta.forEach(function (m) {
        sec.appendChild(table("meta-" + ri, ["Run metadata", ""], [["command", m.command || ""], ["profile", m.profile || ""], ["start", m.start || ""],
          ["duration", m.duration || ""], ["host", m.host || ""], ["targets", (m.targets || []).join("\n")], ["id", m.id || ""]]));
      });
      if (run.signals && run.signals.sources.length) {
        sec.appendChild(table("sources-" + ri, ["Scraped source", "Readings", "Failed", "Last error", "Reading took"],
          run.signals.sources.map(function (s) { return [s.source, s.readings, s.failed, s.last_err || "", s.took]; })));
      }
      var p = run.points;
      sec.appendChild(el("p", { class: "note" }, p.total > p.dt_ms.length ?
        "Latency chart: " + p.dt_ms.length + " of " + p.total + " requests drawn (per time slice: the slowest of each status and a uniform sample)." :
        "Latency chart: all " + p.total + " requests drawn."));
      box.appendChild(sec);
    });
  }

  // renderProgress shows a live run's progress in the header: elapsed of
  // planned time (or requests of the planned count) and a bar.
  function renderProgress() {
    var p = data.progress, box = document.getElementById("progress");
    if (!p) return;
    if (!box) {
      box = el("span", { id: "progress" });
      box.appendChild(el("progress", { max: "1", value: "0" }));
      box.appendChild(el("span", { class: "progress-text" }));
      document.getElementById("status").prepend(box);
    }
    var bar = box.firstChild, txt = box.lastChild, done = null, of = "";
    if (p.planned_s > 0) { done = p.elapsed_s / p.planned_s; of = fmtSec(Math.round(p.elapsed_s)) + " of " + fmtSec(p.planned_s); }
    else if (p.count > 0) { done = p.requests / p.count; of = p.requests + " of " + p.count + " requests, " + fmtSec(Math.round(p.elapsed_s)); }
    else of = fmtSec(Math.round(p.elapsed_s)) + " elapsed, no planned end";
    if (done == null) bar.removeAttribute("value"); else bar.value = Math.min(1, done);
    txt.textContent = of + (done == null ? "" : " (" + Math.min(100, Math.floor(done * 100)) + "%)");
  }

  function render() {
    document.getElementById("title").textContent = data.title;
    renderProgress();
    document.title = data.title;
    if (!document.getElementById("charts")) {
      app.appendChild(el("div", { id: "charts" }));
      app.appendChild(el("div", { id: "tables" }));
    }
    if (data.runs.length === 0) return;
    renderCharts();
    renderTables();
    document.body.setAttribute("data-rendered", String((+document.body.getAttribute("data-rendered") || 0) + 1));
  }

  function live() {
    // The dashboard's per-run token: POST /stop needs it, and with
    // -dashboard-remote every request does.
    var token = data.token || "";
    function withToken(path) { return token ? path + "?token=" + encodeURIComponent(token) : path; }
    var status = document.getElementById("status");
    var stop = el("button", { id: "stop", type: "button" }, "Stop the run");
    var state = el("span", { id: "state" }, "connecting…");
    status.appendChild(state);
    status.appendChild(stop);
    stop.onclick = function () {
      stop.disabled = true;
      state.textContent = "stopping…";
      fetch("stop", { method: "POST", headers: { "X-Surge-Token": token } }).then(function (r) {
        if (!r.ok) state.textContent = "stop refused: " + r.status;
      });
    };
    var es = new EventSource(withToken("events"));
    es.onmessage = function (e) {
      data = JSON.parse(e.data);
      if (!data.done) state.textContent = "running — updated " + new Date().toLocaleTimeString();
      render();
    };
    es.addEventListener("done", function () {
      es.close();
      stop.remove();
      state.textContent = "The run has ended. ";
      state.setAttribute("data-done", "1");
      var a = el("a", { id: "final-report", href: withToken("report.html"), download: "surge-report.html" }, "Download the final HTML report");
      state.appendChild(a);
      // Keep a copy: the server goes away when surge exits.
      fetch(withToken("report.html")).then(function (r) { return r.blob(); }).then(function (b) { a.href = URL.createObjectURL(b); });
    });
    es.onerror = function () { if (!state.getAttribute("data-done")) state.textContent = "disconnected"; };
  }

  window.addEventListener("resize", function () {
    for (var k in charts) charts[k].setSize({ width: width(), height: charts[k].height });
  });
  render();
  if (data.live) live();
})();
