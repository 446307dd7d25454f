// The DuckDB baseline of bench/eval_bench.sh: runs the two seed views over an
// NDJSON file with read_ndjson and reports the time of each query.
//
//   node duckdb_views.mjs EVENTS.ndjson OUT_DIR [THREADS]
//
// Writes OUT_DIR/revenue_by_product.tsv and OUT_DIR/orders_by_zip_hour.tsv
// (header line, rows sorted by the group columns, hour as epoch milliseconds)
// and prints one JSON line: {"revenue_by_product": seconds, "orders_by_zip_hour": seconds, "version": ...}.

import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [file, outDir, threadsArg] = process.argv.slice(2);
if (!file || !outDir) {
  console.error('usage: node duckdb_views.mjs EVENTS.ndjson OUT_DIR [THREADS]');
  process.exit(2);
}
const threads = Number(threadsArg ?? 2);

const quoted = `'${file.replaceAll("'", "''")}'`;
const source = `read_ndjson(${quoted}, columns={zipcode: 'INTEGER', ProductName: 'VARCHAR', price: 'DOUBLE', timestamp: 'TIMESTAMP'})`;

// The same two views as bench/seed_views.sql.
const views = {
  revenue_by_product: `
    SELECT ProductName, COUNT(*) AS orders, SUM(price) AS revenue,
           MIN(price) AS min_price, MAX(price) AS max_price, AVG(price) AS avg_price
    FROM ${source}
    GROUP BY ProductName`,
  orders_by_zip_hour: `
    SELECT zipcode, DATE_TRUNC('hour', timestamp) AS hour, COUNT(*) AS orders, SUM(price) AS revenue
    FROM ${source}
    GROUP BY zipcode, hour`,
};
// Sorting and formatting of the answers happens after the clock stops.
const exported = {
  revenue_by_product: (t) => `SELECT ProductName, orders, revenue, min_price, max_price, avg_price FROM ${t} ORDER BY ProductName`,
  orders_by_zip_hour: (t) => `SELECT zipcode, epoch_ms(hour) AS hour, orders, revenue FROM ${t} ORDER BY zipcode NULLS FIRST, hour`,
};

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run(`SET threads=${threads}`);
const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];

const result = { version, threads };
for (const [name, sql] of Object.entries(views)) {
  const start = process.hrtime.bigint();
  await conn.run(`CREATE OR REPLACE TEMP TABLE r_${name} AS ${sql}`);
  result[name] = Number(process.hrtime.bigint() - start) / 1e9;

  const rows = (await conn.runAndReadAll(exported[name](`r_${name}`))).getRows();
  const header = exported[name]('x').match(/^SELECT (.*) FROM/)[1].split(', ').map((c) => c.split(' AS ').pop());
  const lines = [header.join('\t')];
  for (const row of rows) lines.push(row.map((v) => (v === null ? '\\N' : String(v))).join('\t'));
  writeFileSync(join(outDir, `${name}.tsv`), lines.join('\n') + '\n');
}
console.log(JSON.stringify(result));
