/*
 * finnstream's chart page: Price, Volume, average price*volume and VWAP
 * for the chosen symbols, from GET /api/v1/series, updated every second.
 *
 * A full load asks for the whole range at about one point per pixel; each
 * update then asks only from the newest bucket on (with the same bucket
 * size), replaces that bucket and appends what is new, and drops what
 * slid out of the range.  With http_auth_token set, the first 401 asks
 * for the token once (or it comes in the URL as #token=...) and every
 * request sends it as a bearer header.
 *
 * For tests and scripts, the page says what it shows in data attributes:
 * body[data-ready], body[data-updates], body[data-error], and on every
 * panel data-points (values drawn), data-drawn (symbols with a value),
 * data-last and data-last-t (the newest value of the first symbol and its
 * time, ms) and data-loaded-t (that time at the last full load).
 */
(function () {
  "use strict";

  var PALETTE = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9",
    "#f2495c", "#8ab8ff", "#fade2a", "#96d98d", "#ff9830"];
  var UPDATE_MS = 1000;
  var MAX_POINTS = 2000;

  var token = null;
  var asked = false;
  var symbols = [];
  var rangeMs = 300000;
  var panels = [];
  var updates = 0;
  var timer = null;
  var generation = 0;

  function $(sel) { return document.querySelector(sel); }

  function setStatus(text) { $("#status").textContent = text; }

  function setError(text) {
    document.body.dataset.error = text || "";
    if (text) setStatus(text);
  }

  function readToken() {
    var m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m) {
      token = decodeURIComponent(m[1]);
      try { sessionStorage.setItem("finnstream-token", token); } catch (e) {}
      history.replaceState(null, "", location.pathname + location.search);
      return;
    }
    try { token = sessionStorage.getItem("finnstream-token"); } catch (e) {}
  }

  /* fetch with the bearer token; a 401 asks for the token once. */
  function api(path, body) {
    var init = {headers: {}};
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (token) init.headers.Authorization = "Bearer " + token;
    return fetch(path, init).then(function (r) {
      if (r.status === 401 && !asked) {
        asked = true;
        var t = window.prompt("This finnstream asks for a token " +
          "(http_auth_token):");
        if (t) {
          token = t;
          try { sessionStorage.setItem("finnstream-token", t); } catch (e) {}
          return api(path, body);
        }
      }
      if (!r.ok) {
        return r.json().then(function (j) {
          throw new Error((j && j.message) || ("HTTP " + r.status));
        }, function () { throw new Error("HTTP " + r.status); });
      }
      return r.json();
    });
  }

  function seriesUrl(metric, from, to, points, interval) {
    var q = "metric=" + encodeURIComponent(metric) +
      "&symbols=" + encodeURIComponent(symbols.join(",")) +
      "&from=" + from + "&to=" + to + "&points=" + points;
    if (interval) q += "&interval=" + interval;
    return "/api/v1/series?" + q;
  }

  /* uPlot's data from an answer: [times in s, one column per symbol]. */
  function toColumns(ans) {
    var cols = ans.columns || {};
    var out = [(cols.time || []).map(function (t) { return t / 1000; })];
    symbols.forEach(function (s) {
      var c = cols[s];
      out.push(c ? c.slice() : out[0].map(function () { return null; }));
    });
    return out;
  }

  /* Numbers as people read them: 8 significant digits at most, and
   * large axis values compact (1.5M). */
  function fmtNum(v) {
    return String(Number(v.toPrecision(8)));
  }

  var compact = window.Intl ? new Intl.NumberFormat("en",
    {notation: "compact", maximumFractionDigits: 2}) : null;

  function axisValues(u, splits) {
    return splits.map(function (v) {
      if (v === null || v === undefined) return "";
      return Math.abs(v) >= 100000 && compact ? compact.format(v) :
        String(Number(v.toPrecision(6)));
    });
  }

  /* Prices of symbols far apart (a coin at 60,000 beside a stock at
   * 190) share a chart on a log scale, so each one's moves show. */
  function wantsLog(p) {
    if (p.metric !== "price" && p.metric !== "vwap") return false;
    var lo = Infinity, hi = 0;
    for (var k = 1; k < p.data.length; k++) {
      p.data[k].forEach(function (v) {
        if (v !== null && v > 0) { if (v < lo) lo = v; if (v > hi) hi = v; }
      });
    }
    return hi > 0 && hi / lo > 20;
  }

  function makeChart(p) {
    var width = Math.max(300, p.chartEl.clientWidth);
    var log = wantsLog(p);
    var opts = {
      width: width,
      height: 260,
      series: [{}].concat(symbols.map(function (s, i) {
        return {label: s, stroke: PALETTE[i % PALETTE.length], width: 1.5,
          spanGaps: true, points: {show: false}};
      })),
      axes: [
        {stroke: "#8e8e8e", grid: {stroke: "#2c3235"}, ticks: {stroke: "#2c3235"}},
        {stroke: "#8e8e8e", grid: {stroke: "#2c3235"}, ticks: {stroke: "#2c3235"},
          size: 70, values: axisValues}
      ],
      scales: {x: {time: true}, y: log ? {distr: 3} : {}},
      cursor: {drag: {x: false, y: false}}
    };
    if (p.plot) p.plot.destroy();
    p.chartEl.textContent = "";
    p.scaleEl.textContent = log ? "log scale" : "";
    p.plot = new window.uPlot(opts, p.data, p.chartEl);
  }

  function describe(p) {
    var n = 0, drawn = 0, last = null, lastT = null;
    for (var k = 1; k < p.data.length; k++) {
      var col = p.data[k], m = 0;
      for (var i = 0; i < col.length; i++) if (col[i] !== null) m++;
      n += m;
      if (m > 0) drawn++;
    }
    p.el.dataset.drawn = String(drawn);
    var first = p.data[1] || [];
    for (var j = first.length - 1; j >= 0; j--) {
      if (first[j] !== null) { last = first[j]; lastT = p.data[0][j]; break; }
    }
    p.el.dataset.points = String(n);
    p.el.dataset.last = last === null ? "" : String(last);
    p.el.dataset.lastT = lastT === null ? "" : String(lastT * 1000);
    p.lastEl.textContent = last === null ? "no data in this range" :
      symbols[0] + ": " + fmtNum(last) + " at " +
      new Date(lastT * 1000).toISOString().replace("T", " ").slice(0, 19) +
      " UTC";
  }

  function fullLoad(p) {
    var to = Date.now();
    var from = rangeMs === "all" ? "all" : to - rangeMs;
    var points = Math.min(MAX_POINTS, Math.max(60, p.chartEl.clientWidth));
    return api(seriesUrl(p.metric, from, to, points)).then(function (ans) {
      p.interval = ans.interval_ms;
      p.data = toColumns(ans);
      makeChart(p);
      describe(p);
      p.el.dataset.loadedT = p.el.dataset.lastT;
    });
  }

  /* Only what is new: from the newest bucket on, the same bucket size. */
  function refresh(p) {
    var times = p.data[0];
    var to = Date.now();
    var from = times.length ? times[times.length - 1] * 1000 : to - 60000;
    var url = seriesUrl(p.metric, from, to, MAX_POINTS, p.interval);
    return api(url).then(function (ans) {
      var add = toColumns(ans);
      if (add[0].length === 0) return;
      var cut = add[0][0];
      var keep = 0;
      while (keep < times.length && times[keep] < cut) keep++;
      var lo = 0;
      if (rangeMs !== "all") {
        var oldest = (to - rangeMs - p.interval) / 1000;
        while (lo < keep && times[lo] < oldest) lo++;
      }
      p.data = p.data.map(function (col, k) {
        return col.slice(lo, keep).concat(add[k]);
      });
      p.plot.setData(p.data);
      describe(p);
    });
  }

  function loadAll() {
    var gen = ++generation;
    if (timer) { clearTimeout(timer); timer = null; }
    setStatus("loading...");
    return Promise.all(panels.map(fullLoad)).then(function () {
      if (gen !== generation) return;
      if (!document.body.dataset.ready && performance.mark)
        performance.mark("finnstream-ready");
      document.body.dataset.ready = "1";
      setError("");
      setStatus("live, updated every second");
      schedule(gen);
    }, function (e) {
      setError(e.message);
      schedule(gen);
    });
  }

  function schedule(gen) {
    timer = setTimeout(function () {
      if (gen !== generation) return;
      var t0 = performance.now();
      Promise.all(panels.map(function (p) {
        return p.plot ? refresh(p) : fullLoad(p);
      })).then(function () {
        if (gen !== generation) return;
        updates++;
        document.body.dataset.updates = String(updates);
        setError("");
        setStatus("live: update " + updates + " took " +
          Math.round(performance.now() - t0) + " ms");
        schedule(gen);
      }, function (e) {
        setError(e.message);
        schedule(gen);
      });
    }, UPDATE_MS);
  }

  function pickedSymbols() {
    var sel = $("#symbols");
    return Array.prototype.filter.call(sel.options, function (o) {
      return o.selected;
    }).map(function (o) { return o.value; });
  }

  function setRange(r) {
    rangeMs = r === "all" ? "all" : Number(r);
    Array.prototype.forEach.call(document.querySelectorAll(".ranges button"),
      function (b) { b.classList.toggle("active", b.dataset.range === String(r)); });
  }

  function start() {
    if (typeof window.uPlot !== "function") {
      $("#missing").hidden = false;
      setError("the chart library (uPlot) is not installed");
      return;
    }
    readToken();
    panels = Array.prototype.map.call(document.querySelectorAll(".panel"),
      function (el) {
        return {el: el, metric: el.dataset.metric,
          chartEl: el.querySelector(".chart"),
          lastEl: el.querySelector(".last"),
          scaleEl: el.querySelector(".scale"), data: [[]], plot: null,
          interval: 1000};
      });
    var params = new URLSearchParams(location.search);
    setRange(params.get("range") || "300000");
    document.querySelectorAll(".ranges button").forEach(function (b) {
      b.addEventListener("click", function () {
        setRange(b.dataset.range);
        loadAll();
      });
    });
    $("#symbols").addEventListener("change", function () {
      var s = pickedSymbols();
      if (s.length) { symbols = s; loadAll(); }
    });
    window.addEventListener("resize", function () {
      panels.forEach(function (p) {
        if (p.plot) p.plot.setSize({width: Math.max(300, p.chartEl.clientWidth),
          height: 260});
      });
    });
    loadSymbols(params);
  }

  /* The daemon's symbols; until one has trades, ask again. */
  function loadSymbols(params) {
    api("/grafana/variable", {payload: {target: "symbols"}}).then(function (list) {
      var sel = $("#symbols");
      var wanted = (params.get("symbols") || "").split(",").filter(Boolean);
      var names = list.map(function (x) { return x.value; });
      if (!wanted.length) wanted = names.slice(0, 4);
      sel.textContent = "";
      names.forEach(function (n) {
        var o = document.createElement("option");
        o.value = o.textContent = n;
        o.selected = wanted.indexOf(n) >= 0;
        sel.appendChild(o);
      });
      symbols = wanted.filter(function (n) { return names.indexOf(n) >= 0; });
      if (!symbols.length) {
        setError("no symbols have trades yet");
        setTimeout(function () { loadSymbols(params); }, 2000);
        return;
      }
      loadAll();
    }, function (e) {
      setError(e.message);
      setTimeout(function () { loadSymbols(params); }, 2000);
    });
  }

  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", start);
  else
    start();
})();
