// The gamepulse live page: snapshots arrive as server-sent events from
// "events" ("history" once per connection, then a "snapshot" per tick) and are
// drawn on <canvas> charts; no library. window.livepage is the page's state
// (the browser test reads it); each chart's canvas carries data-points and
// data-max of what it drew.
"use strict";
(function () {
  const HISTORY_MS = 5 * 60 * 1000;
  const MIN_SPAN_MS = 60 * 1000;
  const STALE_MS = 5000;
  const COLORS = ["#5794f2", "#73bf69", "#f2cc0c", "#ff9830", "#b877d9", "#f2495c", "#8ab8ff", "#96d98d"];

  const state = { snaps: [], latest: null, ticks: 0, histories: 0, received: 0, renders: 0 };
  window.livepage = state;

  const fmt = {
    rate: v => v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2),
    int: v => Math.round(v).toLocaleString("en-US"),
    secs: v => v >= 100 ? v.toFixed(0) + " s" : v >= 1 ? v.toFixed(2) + " s" : (v * 1000).toFixed(0) + " ms",
    pct: v => (v * 100).toFixed(v < 0.1 ? 2 : 1) + " %",
    usd: v => "$" + v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + "/min",
  };
  const show = (v, kind) => v == null ? "—" : (fmt[kind] || fmt.rate)(v);
  const get = (obj, path) => path.split(".").reduce((o, k) => o == null ? null : o[k], obj);

  function compact(v, unit) {
    if (unit === "secs") return v >= 1 || v === 0 ? +v.toFixed(2) + "s" : (v * 1000).toFixed(0) + "ms";
    const p = unit === "usd" ? "$" : "";
    const a = Math.abs(v);
    if (a >= 1e6) return p + +(v / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return p + +(v / 1e3).toFixed(1) + "k";
    return p + +v.toFixed(a >= 10 || v === 0 ? 0 : 2);
  }

  // niceStep is the smallest 1, 2 or 5 times a power of ten that is ≥ v.
  function niceStep(v) {
    if (!(v > 0)) return 1;
    const e = Math.pow(10, Math.floor(Math.log10(v)));
    const f = v / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
  }
  const TIME_STEPS = [10e3, 15e3, 30e3, 60e3, 120e3, 300e3];
  function ago(ms) {
    const s = Math.round(ms / 1000);
    return s < 60 ? "−" + s + "s" : "−" + +(s / 60).toFixed(1) + "m";
  }

  function perGame(field) {
    return snaps => {
      const names = new Set();
      for (const s of snaps) for (const g of s.games || []) names.add(g.game);
      return [...names].sort().map(n => ({
        name: n,
        get: s => { const g = (s.games || []).find(x => x.game === n); return g ? g[field] : null; },
      }));
    };
  }

  const charts = [
    { id: "throughput", unit: "rate", series: () => [
      { name: "gateway accepted", get: s => s.gateway.accepted_per_s },
      { name: "processor consumed", get: s => s.processor.consumed_per_s },
      { name: "loader rows", get: s => s.loader.rows_per_s },
    ] },
    { id: "lag", unit: "int", series: () => [
      { name: "processor", get: s => s.processor.lag_records },
      { name: "loader", get: s => s.loader.lag_records },
    ] },
    { id: "freshness", unit: "secs", threshold: 2, series: () => [
      { name: "freshness p50", get: s => s.loader.freshness_p50_s },
      { name: "freshness p99", get: s => s.loader.freshness_p99_s },
      { name: "watermark delay", get: s => s.processor.watermark_delay_s },
    ] },
    { id: "players", unit: "int", series: perGame("active_players") },
    { id: "revenue", unit: "usd", series: perGame("revenue_usd_per_minute") },
  ];

  function draw(chart, snaps) {
    const cv = document.getElementById("chart-" + chart.id);
    const series = chart.series(snaps);
    const W = cv.clientWidth, H = cv.clientHeight, dpr = window.devicePixelRatio || 1;
    if (cv.width !== Math.round(W * dpr) || cv.height !== Math.round(H * dpr)) {
      cv.width = Math.round(W * dpr);
      cv.height = Math.round(H * dpr);
    }
    const c = cv.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, W, H);
    const L = 52, R = 8, T = 8, B = 20, pw = W - L - R, ph = H - T - B;

    const t1 = snaps.length ? snaps[snaps.length - 1].t : Date.now();
    const span = Math.max(MIN_SPAN_MS, snaps.length ? t1 - snaps[0].t : 0);
    const t0 = t1 - span;
    let max = 0, points = 0;
    for (const s of series) for (const snap of snaps) {
      const v = s.get(snap);
      if (v != null && isFinite(v)) { points++; if (v > max) max = v; }
    }
    const ystep = niceStep(Math.max(max, chart.threshold || 0) * 1.05 / 4);
    const top = ystep * Math.max(1, Math.ceil(Math.max(max, chart.threshold || 0) * 1.05 / ystep));

    c.font = "11px system-ui, sans-serif";
    c.lineWidth = 1;
    c.strokeStyle = "#2c3235";
    c.fillStyle = "#8e8e99";
    c.textAlign = "right";
    c.textBaseline = "middle";
    for (let v = 0; v <= top + ystep / 2; v += ystep) {
      const y = Math.round(T + ph - ph * v / top) + 0.5;
      c.beginPath(); c.moveTo(L, y); c.lineTo(L + pw, y); c.stroke();
      c.fillText(compact(v, chart.unit), L - 6, y);
    }
    c.textBaseline = "top";
    c.textAlign = "center";
    const tstep = TIME_STEPS.find(st => span / st <= 6) || TIME_STEPS[TIME_STEPS.length - 1];
    for (let a = 0; a <= span; a += tstep) {
      const x = Math.round(L + pw * (span - a) / span) + 0.5;
      if (a > 0) { c.beginPath(); c.moveTo(x, T); c.lineTo(x, T + ph); c.stroke(); }
      c.textAlign = a === 0 ? "right" : x - L < 20 ? "left" : "center";
      c.fillText(a === 0 ? "now" : ago(a), x, T + ph + 5);
    }
    if (chart.threshold) {
      const y = T + ph - ph * chart.threshold / top;
      c.save(); c.setLineDash([4, 4]); c.strokeStyle = "#f2495c";
      c.beginPath(); c.moveTo(L, y); c.lineTo(L + pw, y); c.stroke(); c.restore();
    }
    c.lineWidth = 1.6;
    c.lineJoin = "round";
    series.forEach((s, i) => {
      c.strokeStyle = COLORS[i % COLORS.length];
      c.beginPath();
      let pen = false;
      for (const snap of snaps) {
        const v = s.get(snap);
        if (v == null || !isFinite(v)) { pen = false; continue; }
        const x = L + pw * (snap.t - t0) / span, y = T + ph - ph * v / top;
        if (pen) c.lineTo(x, y); else c.moveTo(x, y);
        pen = true;
      }
      c.stroke();
    });
    cv.dataset.points = String(points);
    cv.dataset.max = String(max);
    cv.dataset.series = String(series.length);
    legend(chart, series, snaps[snaps.length - 1]);
  }

  function legend(chart, series, last) {
    const box = document.getElementById("legend-" + chart.id);
    const items = series.map((s, i) => {
      const el = document.createElement("span");
      const sw = document.createElement("span");
      sw.className = "sw";
      sw.style.background = COLORS[i % COLORS.length];
      const val = document.createElement("b");
      val.textContent = last ? show(s.get(last), chart.unit === "usd" ? "usd" : chart.unit) : "—";
      el.append(sw, document.createTextNode(s.name), val);
      return el;
    });
    if (items.length === 0) {
      const el = document.createElement("span");
      el.textContent = "no data";
      items.push(el);
    }
    box.replaceChildren(...items);
  }

  function renderAlerts(alerts) {
    const box = document.getElementById("alerts");
    const list = document.getElementById("alerts-list");
    document.getElementById("alerts-count").textContent = String(alerts.length);
    box.classList.toggle("firing", alerts.length > 0);
    if (alerts.length === 0) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "none: every built-in condition holds";
      list.replaceChildren(li);
      return;
    }
    list.replaceChildren(...alerts.map(a => {
      const li = document.createElement("li");
      li.className = "alert";
      const sev = document.createElement("span");
      sev.className = "sev " + a.severity;
      sev.textContent = a.severity;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = a.name + (a.stage ? " (" + a.stage + ")" : "");
      const since = document.createElement("span");
      since.className = "since";
      since.textContent = a.since ? "since " + new Date(a.since).toLocaleTimeString() : "";
      li.append(sev, name, document.createTextNode(a.message), since);
      return li;
    }));
  }

  function renderLevels(levels) {
    const body = document.getElementById("levels");
    if (!levels.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 5; td.className = "none"; td.textContent = "no level data";
      tr.append(td);
      body.replaceChildren(tr);
      return;
    }
    const worst = levels[0].fail_rate || 1;
    body.replaceChildren(...levels.map(l => {
      const tr = document.createElement("tr");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = Math.round(60 * l.fail_rate / worst) + "px";
      const cells = [l.game, l.level, fmt.rate(l.starts_per_minute), fmt.rate(l.fails_per_minute)].map(t => {
        const td = document.createElement("td"); td.textContent = t; return td;
      });
      const rate = document.createElement("td");
      rate.append(bar, document.createTextNode(fmt.pct(l.fail_rate)));
      tr.append(...cells, rate);
      return tr;
    }));
  }

  let pending = false;
  function scheduleRender() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  function render() {
    const snaps = state.snaps, last = state.latest;
    if (last) {
      for (const el of document.querySelectorAll("[data-field]")) el.textContent = show(get(last, el.dataset.field), el.dataset.fmt);
      for (const el of document.querySelectorAll("[data-stage]")) el.classList.toggle("absent", !get(last, el.dataset.stage + ".present"));
      document.getElementById("biz-games").textContent = last.games.length ? String(last.games.length) : "—";
      renderAlerts(last.alerts || []);
      renderLevels(last.levels || []);
    }
    for (const ch of charts) draw(ch, snaps);
    state.renders++;
  }

  function prep(s) { s.t = Date.parse(s.time); return s; }

  function add(s) {
    state.snaps.push(prep(s));
    state.latest = s;
    const cut = s.t - HISTORY_MS;
    let i = 0;
    while (i < state.snaps.length && state.snaps[i].t < cut) i++;
    if (i) state.snaps.splice(0, i);
  }

  const conn = document.getElementById("conn");
  function setConn(text, cls) { conn.textContent = text; conn.className = "conn " + (cls || ""); }

  let lastArrival = 0;
  function connect() {
    const es = new EventSource("events");
    es.addEventListener("history", ev => {
      state.snaps = [];
      state.latest = null;
      for (const s of JSON.parse(ev.data)) add(s);
      state.histories++;
      state.received++;
      lastArrival = Date.now();
      scheduleRender();
    });
    es.addEventListener("snapshot", ev => {
      add(JSON.parse(ev.data));
      state.ticks++;
      state.received++;
      lastArrival = Date.now();
      setConn("live", "live");
      scheduleRender();
    });
    es.onopen = () => setConn("live", "live");
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) { // the server refused: retry ourselves
        es.close();
        setConn("disconnected, retrying", "down");
        setTimeout(connect, 3000);
      } else {
        setConn("reconnecting…", "down");
      }
    };
  }

  setInterval(() => {
    const el = document.getElementById("updated");
    if (!state.latest) { el.textContent = ""; return; }
    el.textContent = "updated " + new Date(state.latest.t).toLocaleTimeString();
    if (lastArrival && Date.now() - lastArrival > STALE_MS && conn.classList.contains("live")) setConn("stale", "down");
  }, 1000);
  window.addEventListener("resize", scheduleRender);
  connect();
  render();
})();
