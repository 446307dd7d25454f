// The dashboard in a real browser: the system's headless Chromium driven by
// playwright-core, against a real `lambdaflow run` fed with events. Checks
// that the page loads with no console error, that its charts render and
// change as events arrive, that the SQL box answers, that hostile values
// (a view group and a rejected line holding markup) are shown as text, that
// numbers are formatted for people and that columns sort. Screenshots go to
// --out. Exits 0 (pass), 1 (fail) or 77 (skipped: no browser, or a server
// without GET /v1/history and GET /v1/rejects).
//
//   node tests/browser/dashboard_test.mjs --bin build/src/cli/lambdaflow --out build/browser-artifacts
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const bin = arg("--bin");
const out = arg("--out", "browser-artifacts");
const chromiumPath = arg("--chromium", "/usr/bin/chromium");
const SKIP = 77;

const HOSTILE_PRODUCT = "<script>window.__pwned=1</script>";
const HOSTILE_LINE = '<img src=x onerror="window.__pwned=2"> not json';

let server, browser, dir;
let failures = 0;
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode == null) {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}

async function startServer() {
  dir = mkdtempSync(join(tmpdir(), "lf-browser-"));
  server = spawn(bin, ["run", "--data", join(dir, "data"), "--listen", "127.0.0.1:0", "--batch-interval", "1",
                       "--seal-age", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  server.stderr.on("data", (d) => (stderr += d));
  return await new Promise((resolve, reject) => {
    let stdout = "";
    server.stdout.on("data", (d) => {
      stdout += d;
      const m = stdout.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.once("exit", (code) => reject(new Error("lambdaflow run exited (" + code + "): " + stderr)));
  });
}

async function post(url, body) {
  const r = await fetch(url + "/v1/events", { method: "POST", body });
  if (!r.ok) throw new Error("POST /v1/events: " + r.status + " " + (await r.text()));
  return r.json();
}

function produce(url, count, seed) {
  execFileSync(bin, ["produce", "--quiet", "--to", url, "--count", String(count), "--seed", String(seed)],
               { stdio: ["ignore", "ignore", "pipe"] });
}

// How many pixels of a canvas are drawn, and its image, in the page.
const canvasState = (page, selector) =>
  page.$eval(selector, (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
    return { ink, image: c.toDataURL() };
  });

async function waitFor(what, fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(200);
  }
  check(false, what + " (timed out)");
  return false;
}

async function main() {
  if (!bin || !existsSync(bin)) {
    console.error("dashboard_test: --bin must name the lambdaflow binary");
    return 1;
  }
  if (!existsSync(chromiumPath)) {
    console.error("dashboard_test: SKIPPED: no Chromium at " + chromiumPath + " (scripts/install-deps.sh installs it)");
    return SKIP;
  }
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    console.error("dashboard_test: SKIPPED: playwright-core is not installed in tests/browser (scripts/install-deps.sh)");
    return SKIP;
  }
  mkdirSync(out, { recursive: true });
  const url = await startServer();
  for (const route of ["/v1/history", "/v1/rejects"]) {
    if ((await fetch(url + route)).status === 404) {
      console.error("dashboard_test: SKIPPED: this server has no GET " + route + " yet");
      return SKIP;
    }
  }

  // Events before the page opens: seed events, a hostile product that is
  // the top group by orders, and a rejected line holding markup.
  produce(url, 2000, 1);
  const hostile = Array.from({ length: 3000 }, () =>
    JSON.stringify({ zipcode: 95126, ProductName: HOSTILE_PRODUCT, price: 10.5, timestamp: "2014-11-01 19:35:41.158" }))
    .join("\n") + "\n";
  await post(url, hostile);
  await post(url, HOSTILE_LINE + "\n");

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  page.on("pageerror", (e) => errors.push("page error: " + e.message));
  page.on("requestfailed", (r) => errors.push("request failed: " + r.url()));
  await page.goto(url + "/", { waitUntil: "load" });

  await page.waitForSelector("#state.ok", { timeout: 15000 });
  check(true, "the page loads and reaches the server");
  await waitFor("the history has two samples", async () =>
    (await page.$eval("#c-rate", () => samples.length)) >= 2);
  await waitFor("the view revenue_by_product is drawn", async () =>
    (await canvasState(page, 'section[data-view="revenue_by_product"] canvas')).ink > 0);
  const rate0 = await canvasState(page, "#c-rate");
  const bars0 = await canvasState(page, 'section[data-view="revenue_by_product"] canvas');
  check(rate0.ink > 0, "the events-per-second chart is drawn");
  check((await canvasState(page, "#c-wm")).ink > 0, "the watermarks chart is drawn");
  await page.screenshot({ path: join(out, "dashboard-1-loaded.png"), fullPage: true });

  // More events: the charts must change.
  produce(url, 20000, 2);
  await waitFor("the events-per-second chart changes as events arrive", async () =>
    (await canvasState(page, "#c-rate")).image !== rate0.image);
  await waitFor("the bar chart changes as events arrive", async () =>
    (await canvasState(page, 'section[data-view="revenue_by_product"] canvas')).image !== bars0.image);
  await page.screenshot({ path: join(out, "dashboard-2-after-events.png"), fullPage: true });

  // The SQL box.
  await page.fill("#sql-text", "SELECT ProductName, orders FROM revenue_by_product ORDER BY orders DESC LIMIT 3");
  await page.click("#sql-run");
  await waitFor("the SQL box answers with 3 rows", async () =>
    (await page.$$eval("#sql-result tbody tr", (rows) => rows.length)) === 3);
  const sqlMeta = await page.textContent("#sql-meta");
  check(/3 rows/.test(sqlMeta) && /speed S/.test(sqlMeta), "the SQL answer shows its watermarks: " + sqlMeta);
  const firstCell = await page.textContent("#sql-result tbody tr td");
  check(firstCell === HOSTILE_PRODUCT, "the SQL answer's top product is the hostile one, as text");

  // Hostile values are text: no script ran, no element was injected.
  const cells = await page.$$eval('section[data-view="revenue_by_product"] td', (tds) => tds.map((t) => t.textContent));
  check(cells.includes(HOSTILE_PRODUCT), "the hostile view value is shown as text in the view's table");
  await waitFor("the rejected line is listed", async () =>
    ((await page.textContent("#rejects-table")) || "").includes(HOSTILE_LINE));
  check(await page.evaluate(() => window.__pwned === undefined), "no hostile script ran");
  check(await page.evaluate(() => document.querySelectorAll("script").length === 1 && !document.querySelector("main img")),
        "no element was injected");

  // Numbers for people: at most two decimals, digits grouped.
  const nums = await page.$$eval('section[data-view="revenue_by_product"] td.num', (tds) => tds.map((t) => t.textContent));
  check(nums.length > 0 && nums.every((t) => /^-?\d{1,3}(,\d{3})*(\.\d{1,2})?$/.test(t)),
        "view numbers are formatted for people: " + nums.slice(0, 6).join(" | "));

  const zip = await page.$eval('section[data-view="orders_by_zip_hour"] tbody td', (td) => td.textContent);
  check(/^\d{5}$/.test(zip), "a key (a zip code) is shown as it is, not grouped: " + zip);

  // Sorting by a column asks the server again, sorted.
  await page.click('section[data-view="revenue_by_product"] th:text-is("max_price")');
  await waitFor("clicking a column sorts by it", async () =>
    (await page.$$eval('section[data-view="revenue_by_product"] th.sorted', (t) => t.map((x) => x.textContent)))
      .includes("max_price"));
  await page.screenshot({ path: join(out, "dashboard-3-sql-and-sort.png"), fullPage: true });

  check(errors.length === 0, "no console error" + (errors.length ? ": " + errors.join("; ") : ""));

  // Last, as the browser logs the 400 answer itself: a bad query shows its error.
  await page.fill("#sql-text", "SELECT nope FROM revenue_by_product");
  await page.click("#sql-run");
  await waitFor("a bad query shows its error", async () =>
    /nope/.test((await page.textContent("#sql-error")) || ""));
  return failures ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error("dashboard_test: " + (e.stack || e));
  code = 1;
} finally {
  await cleanup();
}
console.log(code === 0 ? "dashboard_test: passed" : code === SKIP ? "dashboard_test: skipped" : "dashboard_test: FAILED");
process.exit(code);
