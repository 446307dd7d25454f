#include "server/dashboard.h"

namespace lf {
namespace {

// One page, no external resources: HTML, CSS and vanilla JavaScript that
// draws its own charts on canvases. Once a second it asks for the status
// and the history samples it does not have yet (GET /v1/history?since=T),
// the latest rejected lines (GET /v1/rejects?limit=20), and for each view
// on screen only what it draws: the top groups by the chosen measure
// (GET /v1/views/{name}?order_by=m desc&limit=N) and, when a key is a time
// bucket, the measure per bucket (POST /v1/query ... GROUP BY bucket LIMIT
// 60); never a whole view. The next poll is scheduled when the previous one
// ended, so a slow server is never sent overlapping polls. Data reaches the
// page only as text nodes and canvas text, never as HTML: view rows and
// rejected lines are user data.
constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lambdaflow</title>
<link rel="icon" href="data:,">
<style>
  :root { --fg: #1f2430; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --card: #fff;
          --ok: #15803d; --bad: #b91c1c; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 12px 24px;
           background: var(--card); border-bottom: 1px solid var(--line); }
  h1 { font-size: 18px; margin: 0; }
  #state { font-size: 13px; color: var(--muted); }
  #state::before { content: "\25CF  "; color: var(--muted); }
  #state.ok::before { color: var(--ok); }
  #state.bad { color: var(--bad); }
  #state.bad::before { color: var(--bad); }
  main { padding: 16px 24px; max-width: 1400px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; margin-top: 12px; }
  .card, section, .chart { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
  .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .v { font-size: 22px; font-variant-numeric: tabular-nums; }
  .s { color: var(--muted); font-size: 12px; min-height: 1.4em; }
  section { margin-top: 16px; overflow-x: auto; }
  h2 { font-size: 15px; margin: 0 0 2px; }
  .meta { color: var(--muted); font-size: 12px; margin-bottom: 8px; }
  .err { color: var(--bad); white-space: pre-wrap; }
  #problem:not(:empty) { margin-bottom: 12px; }
  canvas { width: 100%; height: 160px; display: block; }
  .pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 12px 3px 0; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
  th { font-size: 12px; font-weight: 600; cursor: pointer; user-select: none; }
  th.sorted::after { content: " \25BE"; }
  th.sorted.asc::after { content: " \25B4"; }
  .num { text-align: right; }
  .null { color: var(--muted); }
  code.raw { font-size: 12px; white-space: pre; max-width: 480px; overflow: hidden; text-overflow: ellipsis; display: inline-block; }
  textarea { width: 100%; min-height: 64px; font: 13px ui-monospace, monospace; padding: 6px; }
  button, select { font: inherit; }
  .row { display: flex; gap: 8px; align-items: center; margin: 6px 0; flex-wrap: wrap; }
</style>
</head>
<body>
<header><h1>lambdaflow</h1><span id="state">connecting&hellip;</span></header>
<main>
  <div class="err" id="problem"></div>
  <div class="cards" id="cards"></div>
  <table id="source-parts" hidden></table>
  <p id="source-note" class="k"></p>
  <div class="charts">
    <div class="chart"><div class="k">Events per second</div><canvas id="c-rate"></canvas></div>
    <div class="chart"><div class="k">Freshness (ms)</div><canvas id="c-fresh"></canvas></div>
    <div class="chart"><div class="k">Watermarks W and S per partition</div><canvas id="c-wm"></canvas></div>
    <div class="chart"><div class="k">Lag S &minus; W (events)</div><canvas id="c-lag"></canvas></div>
    <div class="chart"><div class="k">Micro-batch duration (ms) &middot; batch swaps</div><canvas id="c-micro"></canvas></div>
    <div class="chart"><div class="k">Batch runs (ms)</div><canvas id="c-batch"></canvas></div>
  </div>
  <div class="s" id="history-note"></div>
  <section id="sql">
    <h2>Ask a question</h2>
    <div class="meta">One SELECT over one view (POST /v1/query); Ctrl+Enter runs it.</div>
    <textarea id="sql-text" spellcheck="false"></textarea>
    <div class="row"><button id="sql-run">Run</button><span class="meta" id="sql-meta"></span></div>
    <div class="err" id="sql-error"></div>
    <div id="sql-result"></div>
  </section>
  <section id="rejects"><h2>Latest rejected lines</h2><div class="meta" id="rejects-meta"></div><div id="rejects-table"></div></section>
  <div id="views"></div>
</main>
<script>
"use strict";
const NUMERIC = new Set(["INT", "BIGINT", "DOUBLE"]);
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
const $ = (id) => document.getElementById(id);
const intFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const num = (n) => (n == null ? "\u2013" : intFmt.format(n));
// Numbers for people: integers grouped, at most two decimals.
const human = (n) => (n == null ? "\u2013" : Number.isInteger(n) ? intFmt.format(n) : decFmt.format(n));
const compact = (n) => Math.abs(n) >= 1e4 ? new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(n) : human(n);
const total = (a) => (Array.isArray(a) ? a.reduce((x, y) => x + y, 0) : null);
const plural = (n, word) => num(n) + " " + word + (n === 1 ? "" : "s");
const list = (a) => (Array.isArray(a) ? "[" + a.map(num).join(", ") + "]" : "\u2013");

function duration(ms) {
  if (ms == null) return "\u2013";
  if (ms < 1000) return Math.round(ms) + " ms";
  const s = ms / 1000;
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}

function bytes(n) {
  if (n == null) return "\u2013";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

// An element with properties and children; strings become text nodes.
function h(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children.filter((c) => c != null));
  return e;
}

async function request(path, init) {
  const r = await fetch(path, Object.assign({ cache: "no-store" }, init));
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error((body && body.detail) || r.status + " " + r.statusText);
    e.status = r.status;
    throw e;
  }
  return body;
}
const get = (path) => request(path);
const query = (sql) => request("/v1/query", { method: "POST", headers: { "Content-Type": "application/json" },
                                              body: JSON.stringify({ sql }) });
const quote = (name) => '"' + String(name).replace(/"/g, '""') + '"';

// ---- charts: drawn on canvases, sized to their box and the pixel ratio ----

function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300, hgt = canvas.clientHeight || 160;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(hgt * dpr)) canvas.height = Math.round(hgt * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  ctx.font = "11px system-ui, sans-serif";
  return { ctx, w, h: hgt };
}

function emptyChart(canvas, text) {
  const { ctx, w, h: hh } = prepare(canvas);
  ctx.fillStyle = "#6b7280";
  ctx.textAlign = "center";
  ctx.fillText(text, w / 2, hh / 2);
}

// series: [{name, color, points: [[x, y], ...]}]; x is ms (time) or any
// number; markers: [{x, label}] drawn as vertical lines.
function lineChart(canvas, series, opts = {}) {
  const pts = series.flatMap((s) => s.points.filter((p) => p[1] != null));
  if (!pts.length) return emptyChart(canvas, opts.empty || "no data yet");
  const { ctx, w, h: hh } = prepare(canvas);
  const left = 52, right = 8, top = 16, bottom = 18;
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(0, ...pts.map((p) => p[1])), y1 = Math.max(...pts.map((p) => p[1]));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const X = (x) => left + ((x - x0) / (x1 - x0)) * (w - left - right);
  const Y = (y) => top + (1 - (y - y0) / (y1 - y0)) * (hh - top - bottom);
  ctx.strokeStyle = "#e5e7eb";
  ctx.fillStyle = "#6b7280";
  ctx.textAlign = "right";
  for (let i = 0; i <= 3; i++) {
    const y = y0 + ((y1 - y0) * i) / 3;
    ctx.beginPath(); ctx.moveTo(left, Y(y)); ctx.lineTo(w - right, Y(y)); ctx.stroke();
    ctx.fillText(compact(Math.abs(y) >= 100 ? Math.round(y) : Math.round(y * 100) / 100), left - 4, Y(y) + 4);
  }
  const xfmt = opts.xFormat || ((x) => new Date(x).toLocaleTimeString());
  ctx.textAlign = "left"; ctx.fillText(xfmt(x0), left, hh - 4);
  ctx.textAlign = "right"; ctx.fillText(xfmt(x1), w - right, hh - 4);
  for (const m of opts.markers || []) {
    if (m.x < x0 || m.x > x1) continue;
    ctx.strokeStyle = "#9ca3af"; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(X(m.x), top); ctx.lineTo(X(m.x), hh - bottom); ctx.stroke();
    ctx.setLineDash([]); ctx.textAlign = "left"; ctx.fillText(m.label, X(m.x) + 2, top + 8);
  }
  let lx = left;
  series.forEach((s, i) => {
    const color = s.color || COLORS[i % COLORS.length];
    ctx.strokeStyle = color; ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    for (const [x, y] of s.points) {
      if (y == null) { pen = false; continue; }
      pen ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y));
      pen = true;
    }
    ctx.stroke();
    ctx.lineWidth = 1;
    // Few points: each is a dot too (a single one would draw no line).
    const shown = s.points.filter((p) => p[1] != null);
    if (shown.length < 40) {
      ctx.fillStyle = color;
      for (const [x, y] of shown) { ctx.beginPath(); ctx.arc(X(x), Y(y), 2.5, 0, 2 * Math.PI); ctx.fill(); }
    }
    if (series.length > 1 || s.name) {
      ctx.fillStyle = color; ctx.textAlign = "left";
      ctx.fillText(s.name, lx, 11);
      lx += ctx.measureText(s.name).width + 12;
    }
  });
}

// Horizontal bars: labels and values, largest first as given.
function barChart(canvas, labels, values) {
  if (!values.length) return emptyChart(canvas, "no groups yet");
  canvas.style.height = Math.max(60, 18 * values.length + 8) + "px";
  const { ctx, w } = prepare(canvas);
  const left = Math.min(200, 12 + Math.max(...labels.map((l) => ctx.measureText(l).width))), right = 70;
  const max = Math.max(...values.map((v) => Math.abs(v || 0)), 1e-9);
  values.forEach((v, i) => {
    const y = 4 + i * 18;
    ctx.fillStyle = "#1f2430"; ctx.textAlign = "right";
    ctx.fillText(labels[i].length > 28 ? labels[i].slice(0, 27) + "\u2026" : labels[i], left - 6, y + 11);
    ctx.fillStyle = "#2563eb";
    ctx.fillRect(left, y + 2, (Math.abs(v || 0) / max) * (w - left - right), 12);
    ctx.fillStyle = "#6b7280"; ctx.textAlign = "left";
    ctx.fillText(human(v), left + (Math.abs(v || 0) / max) * (w - left - right) + 4, y + 11);
  });
}

// ---- status cards and the pipeline's history ----

function card(label, value, sub, partitions) {
  const title = Array.isArray(partitions) && partitions.length > 1 ? "per partition " + list(partitions) : "";
  return h("div", { className: "card", title },
           h("div", { className: "k" }, label), h("div", { className: "v" }, value),
           h("div", { className: "s" }, sub || ""));
}

let samples = [];       // the history, oldest first
let historyOk = true;   // false once the server said it has no /v1/history

function renderStatus(st) {
  const events = st.events || {};
  const last = samples[samples.length - 1];
  const rate = last && last.accepted_per_s != null ? human(last.accepted_per_s) + " events/s" : "";
  $("problem").textContent = st.last_error ? "Last error: " + st.last_error : "";
  const w = st.watermarks || {};
  const logEnd = total(st.log_end), speed = total(w.speed), batch = total(w.batch);
  const sp = st.speed || {};
  $("cards").replaceChildren(
    card("Events accepted", num(events.accepted), rate),
    card("Events rejected", num(events.rejected), "in the dead-letter store"),
    card("Log end", num(logEnd), "sealed " + num(total(st.sealed)) + (st.segments_sealed ? " \u00b7 " + plural(st.segments_sealed, "segment") + " sealed since start" : ""), st.log_end),
    card("Speed watermark S", num(speed), logEnd != null && speed != null ? num(logEnd - speed) + " events behind the log" : "", w.speed),
    card("Batch watermark W", num(batch), speed != null && batch != null ? num(speed - batch) + " events from the speed layer" : "", w.batch),
    card("Batch version", st.batch_version == null ? "none yet" : "v" + st.batch_version,
         (st.batch_age_ms == null ? "" : "age " + duration(st.batch_age_ms) + " \u00b7 ") + plural(st.batch_runs, "run") +
         (st.batch_failures ? " \u00b7 " + num(st.batch_failures) + " failed" : "")),
    card("Freshness", duration(st.freshness_ms), "since the speed layer caught up with the log"),
    card("Speed layer", plural(sp.buckets, "bucket"), bytes(sp.memory_bytes)),
    card("Uptime", duration(st.uptime_s == null ? null : st.uptime_s * 1000), ""));
  renderSource(st);
}

// With a Kafka source: one row per partition (W, S, high watermark, lag,
// state), and retention losses among the problems.
function renderSource(st) {
  const table = $("source-parts");
  const src = st.source;
  table.hidden = !src;
  if (!src) return;
  const w = st.watermarks || {};
  const lost = src.partitions.filter((p) => p.lost);
  if (lost.length) $("problem").textContent += (st.last_error ? " \u00b7 " : "") + lost.map((p) => p.lost.message).join(" \u00b7 ");
  const row = (cells, tag) => h("tr", {}, ...cells.map((c) => h(tag, {}, String(c))));
  // A worker of a group (run --group): who owns each partition; another
  // worker's partition has no lag here.
  const group = st.group;
  const owner = (p) => {
    const o = group && group.partitions[p.partition];
    if (!o) return [];
    if (o.self) return ["this worker (epoch " + o.epoch + ")"];
    return [o.owner ? o.owner + " at " + o.address + " (epoch " + o.epoch + ")" : "no live owner (batch state)"];
  };
  const state = (p) => p.lost ? "lost [" + p.lost.from + ", " + p.lost.to + ")" : p.paused ? "paused" :
    p.owned === false ? "owned elsewhere" : "reading";
  table.replaceChildren(
    row(["partition of " + src.url, "W", "S", "high watermark", "lag", "state"].concat(group ? ["owner"] : []), "th"),
    ...src.partitions.map((p) => row([p.partition, num((w.batch || [])[p.partition]), num((w.speed || [])[p.partition]),
      num(p.high_watermark), p.lag == null ? "\u2014" : num(p.lag), state(p)].concat(owner(p)), "td")));
  if (group && st.rebalances) {
    const r = st.rebalances;
    $("source-note").textContent = "worker " + group.writer + " at " + group.address + " \u00b7 rebalances: " +
      r.gained + " gained, " + r.revoked + " revoked, " + r.lost + " lost \u00b7 queries gathered from other workers: " +
      group.gathers.gathered + " (" + group.gathers.partials_refused + " partials refused, " + group.gathers.fallbacks +
      " answered alone)";
  } else {
    $("source-note").textContent = "";
  }
}

async function pollHistory() {
  if (!historyOk) return;
  const since = samples.length ? samples[samples.length - 1].t : 0;
  try {
    const hist = await get("/v1/history?since=" + since);
    samples = samples.concat(hist.samples || []).slice(-(hist.capacity || 600));
    $("history-note").textContent = "";
  } catch (e) {
    if (e.status === 404) historyOk = false;
    $("history-note").textContent = "history: " + e.message;
  }
}

function renderHistory() {
  const t = (s) => s.t;
  const parts = samples.length ? samples[samples.length - 1].speed.length : 0;
  const per = (key) => Array.from({ length: parts }, (_, p) => samples.map((s) => [t(s), (s[key] || [])[p]]));
  lineChart($("c-rate"), [
    { name: "accepted/s", color: "#16a34a", points: samples.map((s) => [t(s), s.accepted_per_s]) },
    { name: "rejected/s", color: "#dc2626", points: samples.map((s) => [t(s), s.rejected_per_s]) }]);
  lineChart($("c-fresh"), [{ name: "", points: samples.map((s) => [t(s), s.freshness_ms]) }]);
  const wm = [];
  per("batch").forEach((pts, p) => wm.push({ name: "W p" + p, points: pts }));
  per("speed").forEach((pts, p) => wm.push({ name: "S p" + p, points: pts }));
  lineChart($("c-wm"), wm);
  lineChart($("c-lag"), per("lag").map((pts, p) => ({ name: parts > 1 ? "p" + p : "", points: pts })));
  const swaps = [];
  for (let i = 1; i < samples.length; i++)
    if (samples[i].batch_version != null && samples[i].batch_version !== samples[i - 1].batch_version)
      swaps.push({ x: samples[i].t, label: "v" + samples[i].batch_version });
  lineChart($("c-micro"), [{ name: "", points: samples.map((s) => [t(s), s.micro_batch_ms]) }], { markers: swaps });
  const runs = samples.filter((s) => s.batch_run_ms != null).map((s) => [t(s), s.batch_run_ms]);
  lineChart($("c-batch"), [{ name: "", points: runs }], { markers: swaps, empty: "no batch run in the history yet" });
}

// ---- tables ----

// Measures for people; keys (a zip code, an id) as they are.
function cellText(value, isKey) {
  if (value === null) return "NULL";
  return typeof value === "number" && !isKey ? human(value) : String(value);
}

function table(columns, rows, sort, keys) {
  const head = columns.map((c) => {
    const th = h("th", { className: (NUMERIC.has(c.type) ? "num " : "") + (sort && sort.col === c.name ? "sorted" + (sort.asc ? " asc" : "") : ""),
                         title: c.type + (sort ? " \u00b7 click to sort" : "") }, c.name);
    if (sort) th.addEventListener("click", () => sort.set(c.name));
    return th;
  });
  return h("table", {}, h("thead", {}, h("tr", {}, ...head)),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((v, i) => {
      const c = columns[i] || {};
      return h("td", { className: (NUMERIC.has(c.type) ? "num" : "") + (v === null ? " null" : ""),
                       title: typeof v === "number" ? String(v) : "" }, cellText(v, keys && keys.has(c.name)));
    })))));
}

function columnsOf(answer) {
  return (answer.columns || []).map((c, i) => ({ name: typeof c === "string" ? c : c.name,
                                                  type: (answer.types && answer.types[i]) || c.type || "" }));
}

function coverage(a) {
  const w = a.watermarks || {};
  const batch = a.batch_version == null ? "no batch version"
      : "batch v" + a.batch_version + " W " + list(w.batch) + " (age " + duration(a.batch_age_ms) + ")";
  return batch + " \u00b7 speed S " + list(w.speed) + " \u00b7 freshness " + duration(a.freshness_ms);
}

// ---- the SQL box ----

async function runSql() {
  const sql = $("sql-text").value.trim();
  if (!sql) return;
  $("sql-error").textContent = "";
  $("sql-meta").textContent = "running\u2026";
  const t0 = performance.now();
  try {
    const a = await query(sql);
    $("sql-result").replaceChildren(table(columnsOf(a), a.rows || []));
    $("sql-meta").textContent = plural((a.rows || []).length, "row") + " in " + duration(performance.now() - t0) + " \u00b7 " + coverage(a);
  } catch (e) {
    $("sql-result").replaceChildren();
    $("sql-meta").textContent = "";
    $("sql-error").textContent = e.message;
  }
}
$("sql-run").addEventListener("click", runSql);
$("sql-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) runSql(); });

// ---- rejected lines ----

async function pollRejects() {
  try {
    const r = await get("/v1/rejects?limit=20");
    const rows = (r.rejects || []).map((x) => [x.time == null ? null : new Date(x.time).toLocaleTimeString(),
                                               x.input ?? null, x.line ?? null, x.reason ?? null, x.detail ?? null, x.raw ?? null]);
    $("rejects-meta").textContent = rows.length ? "newest first" : "none";
    const cols = ["time", "input", "line", "reason", "detail", "raw"].map((name) => ({ name, type: name === "line" ? "BIGINT" : "TEXT" }));
    const t = table(cols, rows);
    t.querySelectorAll("tbody tr").forEach((tr) => {
      const td = tr.lastChild;
      td.replaceChildren(h("code", { className: "raw", title: td.textContent }, td.textContent));
    });
    $("rejects-table").replaceChildren(t);
  } catch (e) {
    $("rejects-meta").textContent = e.message;
  }
}

// ---- views: a bar chart of the top groups by a measure, a line chart per
// time bucket, and a sortable table of the first rows ----

const TOP = 10, ROWS = 20, BUCKETS = 60;
const views = new Map();  // name -> {def, section, ..., visible}
const observer = "IntersectionObserver" in window
  ? new IntersectionObserver((entries) => entries.forEach((e) => {
      const v = views.get(e.target.dataset.view);
      if (!v) return;
      const was = v.visible;
      v.visible = e.isIntersecting;
      if (v.visible && !was) refreshView(v);  // scrolled into view: draw it now
    }), { rootMargin: "200px" })
  : null;

// The aggregate that folds a measure over the other keys of a time bucket.
function fold(measure) {
  const m = measure.toLowerCase();
  return m.startsWith("min") ? "MIN" : m.startsWith("max") ? "MAX" : m.startsWith("avg") ? "AVG" : "SUM";
}

function viewState(def) {
  const cols = def.columns.map((c) => (typeof c === "string" ? { name: c, type: "" } : c));
  const keys = new Set(def.key_columns || []);
  const measures = cols.filter((c) => NUMERIC.has(c.type) && !keys.has(c.name));
  const time = cols.find((c) => c.type === "TIMESTAMP" && keys.has(c.name));
  // Until the observer has seen it, a view counts as visible if it is among the first few.
  const v = { def, cols, keys, measures, time, visible: !observer || views.size < 6, sort: null };
  v.measure = measures.length ? measures[0].name : null;
  v.select = h("select", { title: "the measure of the charts" }, ...measures.map((m) => h("option", { value: m.name }, m.name)));
  v.select.addEventListener("change", () => { v.measure = v.select.value; refreshView(v); });
  v.meta = h("div", { className: "meta" });
  v.bars = h("canvas", {});
  v.line = time ? h("canvas", {}) : null;
  v.tableBox = h("div", {});
  v.error = h("div", { className: "err" });
  const charts = [h("div", {}, h("div", { className: "k" }, "top " + TOP + " groups"), v.bars)];
  if (v.line) charts.push(h("div", {}, h("div", { className: "k" }, "per " + time.name), v.line));
  v.section = h("section", {}, h("h2", {}, def.name), v.meta,
                measures.length ? h("div", { className: "row" }, h("span", { className: "meta" }, "measure"), v.select) : null,
                measures.length ? h("div", { className: "pair" }, ...charts) : null, v.error, v.tableBox);
  v.section.dataset.view = def.name;
  return v;
}

// A view is asked again once it is due: a second after its last answers,
// or ten times as long as they took, so that a big view costs the server at
// most a tenth of its time however long it takes.
async function refreshView(v) {
  if (v.busy) return;  // its answers are still on their way
  v.busy = true;
  const name = v.def.name, path = "/v1/views/" + encodeURIComponent(name);
  const keyNames = (v.def.key_columns || []).filter((k) => k !== v.measure);
  const started = performance.now();
  // The table's default order is the bars' order: one request serves both.
  const sortedAsBars = !v.sort || (v.sort.col === v.measure && !v.sort.asc);
  try {
    const jobs = [];
    if (v.measure && !sortedAsBars) {
      jobs.push(get(path + "?order_by=" + encodeURIComponent(v.measure + " desc") + "&limit=" + TOP));
    } else jobs.push(null);
    if (v.line && v.measure) {
      const t = quote(v.time.name), m = quote(v.measure);
      jobs.push(query("SELECT " + t + ", " + fold(v.measure) + "(" + m + ") AS " + m + " FROM " + quote(name) +
                      " GROUP BY " + t + " ORDER BY " + t + " DESC LIMIT " + BUCKETS));
    } else jobs.push(null);
    const order = v.sort ? v.sort.col + (v.sort.asc ? " asc" : " desc") : v.measure ? v.measure + " desc" : null;
    jobs.push(get(path + "?limit=" + ROWS + (order ? "&order_by=" + encodeURIComponent(order) : "")));
    const [asked, buckets, rows] = await Promise.all(jobs);
    const top = asked || (v.measure ? { columns: rows.columns, types: rows.types, rows: (rows.rows || []).slice(0, TOP) } : null);
    if (top) {
      const cols = columnsOf(top), mi = cols.findIndex((c) => c.name === v.measure);
      const ki = keyNames.map((k) => cols.findIndex((c) => c.name === k));
      barChart(v.bars, top.rows.map((r) => ki.map((i) => cellText(r[i], true)).join(" \u00b7 ")), top.rows.map((r) => r[mi]));
    }
    if (buckets) {
      const pts = (buckets.rows || []).map((r) => [Date.parse(String(r[0]).replace(" ", "T") + "Z"), r[1]]).reverse();
      lineChart(v.line, [{ name: fold(v.measure) + "(" + v.measure + ")", points: pts }],
                { xFormat: (x) => new Date(x).toISOString().slice(0, 16).replace("T", " ") });
    }
    const cols = columnsOf(rows);
    const sort = { col: v.sort ? v.sort.col : v.measure, asc: v.sort ? v.sort.asc : false,
                   set: (c) => { v.sort = { col: c, asc: v.sort && v.sort.col === c ? !v.sort.asc : false }; refreshView(v); } };
    v.tableBox.replaceChildren(table(cols, rows.rows || [], sort, v.keys));
    const keys = v.def.key_columns && v.def.key_columns.length ? " by " + v.def.key_columns.join(", ") : "";
    const took = performance.now() - started;
    v.every = Math.max(1000, 10 * took);
    v.meta.textContent = plural(v.def.groups, "group") + keys + " \u00b7 " + coverage(rows) +
                         (v.every > 1500 ? " \u00b7 refreshed every " + duration(v.every) + " (answers take " + duration(took) + ")" : "");
    v.error.textContent = "";
  } catch (e) {
    v.error.textContent = e.message;
    v.every = 5000;
  }
  v.due = performance.now() + (v.every || 1000) - 50;
  v.busy = false;
}

async function pollViews() {
  const defs = (await get("/v1/views")).views || [];
  const names = new Set(defs.map((d) => d.name));
  for (const [name, v] of views) if (!names.has(name)) { observer && observer.unobserve(v.section); views.delete(name); }
  for (const d of defs) {
    let v = views.get(d.name);
    if (!v || JSON.stringify(v.def.columns) !== JSON.stringify(d.columns)) {
      if (v && observer) observer.unobserve(v.section);
      v = viewState(d);
      views.set(d.name, v);
      if (observer) observer.observe(v.section);
    }
    v.def = d;
  }
  $("views").replaceChildren(...(defs.length ? defs.map((d) => views.get(d.name).section)
                                             : [h("section", {}, "No views are defined.")]));
  // Only the views on screen are asked for: the page stays light with many views.
  // Not awaited: a big view's answers do not hold up the rest of the page.
  const now = performance.now();
  for (const v of views.values()) if (v.visible && !(v.due > now)) refreshView(v);
  if (!$("sql-text").value && defs.length) {
    const v = views.get(defs[0].name);
    $("sql-text").value = "SELECT * FROM " + quote(defs[0].name) + (v.measure ? " ORDER BY " + quote(v.measure) + " DESC" : "") + " LIMIT 10";
  }
}

function setState(ok, text) {
  $("state").className = ok ? "ok" : "bad";
  $("state").textContent = text;
}

async function poll() {
  try {
    const [status] = await Promise.all([get("/v1/status"), pollHistory(), pollRejects()]);
    renderStatus(status);
    renderHistory();
    await pollViews();
    setState(true, "live \u00b7 updated " + new Date().toLocaleTimeString());
  } catch (e) {
    setState(false, "cannot reach the server: " + e.message);
  }
  setTimeout(poll, 1000);
}

poll();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view DashboardHtml() { return kPage; }

}  // namespace lf
