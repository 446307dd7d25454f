// The DuckDB baseline of bench/batch_bench.sh: loads an NDJSON file into an
// in-memory table once, then runs the two seed views over that table RUNS
// times and reports the time of each query.
//
//   node duckdb_table.mjs EVENTS.ndjson OUT_DIR [THREADS] [RUNS]
//
// Writes OUT_DIR/revenue_by_product.tsv and OUT_DIR/orders_by_zip_hour.tsv in
// the format of bench/duckdb_views.mjs (header line, rows sorted by the group
// columns, hour as epoch milliseconds) and prints one JSON line:
//   {"load": seconds, "rows": N, "revenue_by_product": best seconds,
//    "orders_by_zip_hour": best seconds, "runs": {view: [seconds, ...]}, "version": ...}

import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [file, outDir, threadsArg, runsArg] = process.argv.slice(2);
if (!file || !outDir) {
  console.error('usage: node duckdb_table.mjs EVENTS.ndjson OUT_DIR [THREADS] [RUNS]');
  process.exit(2);
}
const threads = Number(threadsArg ?? 2);
const runs = Number(runsArg ?? 3);

const quoted = `'${file.replaceAll("'", "''")}'`;
const source = `read_ndjson(${quoted}, columns={zipcode: 'INTEGER', ProductName: 'VARCHAR', price: 'DOUBLE', timestamp: 'TIMESTAMP'})`;

// The same two views as bench/seed_views.sql, over the loaded table.
const views = {
  revenue_by_product: `
    SELECT ProductName, COUNT(*) AS orders, SUM(price) AS revenue,
           MIN(price) AS min_price, MAX(price) AS max_price, AVG(price) AS avg_price
    FROM events
    GROUP BY ProductName`,
  orders_by_zip_hour: `
    SELECT zipcode, DATE_TRUNC('hour', timestamp) AS hour, COUNT(*) AS orders, SUM(price) AS revenue
    FROM events
    GROUP BY zipcode, hour`,
};
// Sorting and formatting of the answers happens after the clock stops.
const exported = {
  revenue_by_product: (t) => `SELECT ProductName, orders, revenue, min_price, max_price, avg_price FROM ${t} ORDER BY ProductName`,
  orders_by_zip_hour: (t) => `SELECT zipcode, epoch_ms(hour) AS hour, orders, revenue FROM ${t} ORDER BY zipcode NULLS FIRST, hour`,
};

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run(`SET threads=${threads}`);
const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];

let start = process.hrtime.bigint();
await conn.run(`CREATE TABLE events AS SELECT * FROM ${source}`);
const load = seconds(start);
const rows = Number((await conn.runAndReadAll('SELECT COUNT(*) FROM events')).getRows()[0][0]);

const result = { version, threads, rows, load, runs: {} };
for (const name of Object.keys(views)) result.runs[name] = [];
// Runs alternate between the views, as a batch recompute computes both.
for (let i = 0; i < runs; ++i) {
  for (const [name, sql] of Object.entries(views)) {
    start = process.hrtime.bigint();
    await conn.run(`CREATE OR REPLACE TEMP TABLE r_${name} AS ${sql}`);
    result.runs[name].push(seconds(start));
  }
}
for (const name of Object.keys(views)) {
  result[name] = Math.min(...result.runs[name]);
  const out = (await conn.runAndReadAll(exported[name](`r_${name}`))).getRows();
  const header = exported[name]('x').match(/^SELECT (.*) FROM/)[1].split(', ').map((c) => c.split(' AS ').pop());
  const lines = [header.join('\t')];
  for (const row of out) lines.push(row.map((v) => (v === null ? '\\N' : String(v))).join('\t'));
  writeFileSync(join(outDir, `${name}.tsv`), lines.join('\n') + '\n');
}
console.log(JSON.stringify(result));
