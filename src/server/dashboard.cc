#include "server/dashboard.h"

namespace lf {
namespace {

// Polls /v1/status and /v1/views, then /v1/views/{name}?limit=20 for each
// view, once a second (the next poll is scheduled when the previous one
// ended, so a slow server is never sent overlapping polls). Data reaches
// the page only as text nodes, never as HTML: view rows are user data.
// Columns are accepted both as names with a parallel "types" array and as
// {"name", "type"} objects.
constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lambdaflow</title>
<style>
  :root { --fg: #1f2430; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --card: #fff;
          --ok: #15803d; --bad: #b91c1c; }
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
  main { padding: 16px 24px; max-width: 1280px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
  .card, section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
  .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .v { font-size: 22px; font-variant-numeric: tabular-nums; }
  .s { color: var(--muted); font-size: 12px; min-height: 1.4em; }
  section { margin-top: 16px; overflow-x: auto; }
  h2 { font-size: 15px; margin: 0 0 2px; }
  .meta { color: var(--muted); font-size: 12px; margin-bottom: 8px; }
  .err { color: var(--bad); }
  #problem:not(:empty) { margin-bottom: 12px; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 12px 3px 0; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
  th { font-size: 12px; font-weight: 600; }
  .num { text-align: right; }
  .null { color: var(--muted); }
</style>
</head>
<body>
<header><h1>lambdaflow</h1><span id="state">connecting&hellip;</span></header>
<main>
  <div class="err" id="problem"></div>
  <div class="cards" id="cards"></div>
  <div id="views"></div>
</main>
<script>
"use strict";
const NUMERIC = new Set(["INT", "BIGINT", "DOUBLE"]);
const $ = (id) => document.getElementById(id);
const num = (n) => (n == null ? "\u2013" : Number(n).toLocaleString("en-US"));
const total = (a) => (Array.isArray(a) ? a.reduce((x, y) => x + y, 0) : null);
const plural = (n, word) => num(n) + " " + word + (n === 1 ? "" : "s");
const list = (a) => (Array.isArray(a) ? "[" + a.join(", ") + "]" : "\u2013");

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

async function get(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error((body && body.detail) || r.status + " " + r.statusText);
  return body;
}

// The per-partition values show on hover: the card holds their sum.
function card(label, value, sub, partitions) {
  const title = Array.isArray(partitions) && partitions.length > 1 ? "per partition " + list(partitions) : "";
  return h("div", { className: "card", title },
           h("div", { className: "k" }, label), h("div", { className: "v" }, value),
           h("div", { className: "s" }, sub || ""));
}

let previous = null;  // the last poll's accepted count and time, for the ingest rate

function renderStatus(st) {
  const now = performance.now();
  const events = st.events || {};
  let rate = "";
  if (previous && events.accepted != null) {
    rate = num(Math.max(0, Math.round((events.accepted - previous.accepted) * 1000 / (now - previous.t)))) +
           " events/s";
  }
  previous = { accepted: events.accepted, t: now };
  $("problem").textContent = st.last_error ? "Last error: " + st.last_error : "";
  const w = st.watermarks || {};
  const logEnd = total(st.log_end), speed = total(w.speed), batch = total(w.batch);
  const speedLayer = st.speed || {};
  $("cards").replaceChildren(
    card("Events accepted", num(events.accepted), rate),
    card("Events rejected", num(events.rejected), "in the dead-letter store"),
    card("Log end", num(logEnd),
         "sealed " + num(total(st.sealed)) + " in " + plural(st.segments ?? st.segments_sealed, "segment"),
         st.log_end),
    card("Speed watermark S", num(speed),
         logEnd != null && speed != null ? num(logEnd - speed) + " events behind the log" : "", w.speed),
    card("Batch watermark W", num(batch),
         speed != null && batch != null ? num(speed - batch) + " events from the speed layer" : "", w.batch),
    card("Batch version", st.batch_version == null ? "none yet" : "v" + st.batch_version,
         (st.batch_age_ms == null ? "" : "age " + duration(st.batch_age_ms) + " \u00b7 ") + plural(st.batch_runs, "run") + (st.batch_failures ? " \u00b7 " + num(st.batch_failures) + " failed" : "")),
    card("Freshness", duration(st.freshness_ms), "since the speed layer caught up with the log"),
    card("Speed layer", plural(speedLayer.buckets, "bucket"),
         (speedLayer.groups == null ? "" : plural(speedLayer.groups, "group") + " \u00b7 ") +
         bytes(speedLayer.memory_bytes)),
    card("Uptime", duration(st.uptime_s == null ? null : st.uptime_s * 1000), ""));
}

function coverage(a) {
  const w = a.watermarks || {};
  const batch = a.batch_version == null ? "no batch version"
      : "batch v" + a.batch_version + " W " + list(w.batch) + " (age " + duration(a.batch_age_ms) + ")";
  return batch + " \u00b7 speed S " + list(w.speed) + " \u00b7 freshness " + duration(a.freshness_ms);
}

function cell(value, column) {
  const align = column && NUMERIC.has(column.type) ? "num" : "";
  if (value === null) return h("td", { className: align + " null" }, "NULL");
  return h("td", { className: align }, String(value));
}

function renderView(meta, answer) {
  const section = h("section", {}, h("h2", {}, meta.name));
  if (answer.error) {
    section.append(h("div", { className: "err" }, answer.error));
    return section;
  }
  const columns = (answer.columns || []).map((c, i) => ({
    name: typeof c === "string" ? c : c.name,
    type: (answer.types && answer.types[i]) || c.type || "",
  }));
  const rows = answer.rows || [];
  const keys = meta.key_columns && meta.key_columns.length ? " by " + meta.key_columns.join(", ") : "";
  section.append(
    h("div", { className: "meta" },
      plural(meta.groups, "group") + keys + " \u00b7 first " + rows.length + " rows \u00b7 " + coverage(answer)),
    h("table", {},
      h("thead", {}, h("tr", {}, ...columns.map((c) =>
        h("th", { className: NUMERIC.has(c.type) ? "num" : "", title: c.type }, c.name)))),
      h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((v, i) => cell(v, columns[i])))))));
  return section;
}

function setState(ok, text) {
  $("state").className = ok ? "ok" : "bad";
  $("state").textContent = text;
}

async function poll() {
  try {
    const [status, views] = await Promise.all([get("/v1/status"), get("/v1/views")]);
    const defs = views.views || [];
    const answers = await Promise.all(defs.map((v) =>
      get("/v1/views/" + encodeURIComponent(v.name) + "?limit=20").catch((e) => ({ error: e.message }))));
    renderStatus(status);
    $("views").replaceChildren(...(defs.length ? defs.map((v, i) => renderView(v, answers[i]))
                                                : [h("section", {}, "No views are defined.")]));
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
