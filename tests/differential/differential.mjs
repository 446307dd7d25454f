// Differential test: random streams, events and views, evaluated by
// `lambdaflow eval` and by DuckDB over the same accepted events.
//
//   node differential.mjs --bin LAMBDAFLOW [--seeds N] [--first S] [--keep DIR] [--verbose]
//
// Per seed: a random stream (every type, NOT NULL, quoted and mixed-case
// names), random NDJSON lines (NULLs, missing fields, integer extremes,
// NaN/inf texts, multi-byte text, every timestamp form, and lines that do
// not fit), and random views over the documented subset (WHERE, GROUP BY
// expressions, every aggregate with FILTER, HAVING, expressions over
// aggregates). Checked: the rejected lines are exactly the generated misfits;
// every view equals DuckDB's answer over the accepted rows (doubles within a
// relative 1e-9); a view whose integer SUM leaves BIGINT fails in lambdaflow
// with the others still written. Where lambdaflow's documented semantics
// differ from DuckDB's, the DuckDB side is written to lambdaflow's meaning:
// every such translation is in dialect.mjs. A failing seed prints its files'
// directory (kept) and the first difference; exit status 1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Rng, genSchema, genEvents, genView } from './generate.mjs';
import { duckType, duckLiteral, sameValue, parseTsvValue } from './dialect.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const bin = opt('--bin');
const seeds = Number(opt('--seeds', 30));
const first = Number(opt('--first', 1));
const keepDir = opt('--keep');
const verbose = args.includes('--verbose');
if (!bin) {
  console.error('usage: node differential.mjs --bin LAMBDAFLOW [--seeds N] [--first S] [--keep DIR] [--verbose]');
  process.exit(2);
}
// DuckDB's npm package, installed by scripts/install-deps.sh --bench.
const require = createRequire(join(here, '..', '..', 'bench', 'package.json'));
let duckdb;
try {
  duckdb = require('@duckdb/node-api');
} catch (e) {
  console.error('differential: SKIPPED: @duckdb/node-api is not installed; run scripts/install-deps.sh --bench');
  process.exit(77);
}

const instance = await duckdb.DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run('SET threads=1');
// DuckDB's expression rewriter turns `1 <= TRY_CAST(h AS BIGINT)` into a
// comparison with h itself, which is false rather than NULL when h is out
// of range (dialect.mjs, 17): the meaning, not the speed, is under test.
await conn.run(`SET disabled_optimizers = 'expression_rewriter'`);

const stats = { seeds: 0, views: 0, compared: 0, duckdb_refused: 0, overflow_views: 0, rows: 0, rejects: 0, lines: 0 };

async function loadTable(schema, rows) {
  await conn.run('DROP TABLE IF EXISTS t');
  const cols = schema.map((c) => `"${c.name.replaceAll('"', '""')}" ${duckType(c.type)}`).join(', ');
  await conn.run(`CREATE TABLE t (${cols})`);
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values = chunk.map((r) => '(' + schema.map((c, k) => duckLiteral(c.type, r[k])).join(', ') + ')').join(', ');
    await conn.run(`INSERT INTO t VALUES ${values}`);
  }
}

// lambdaflow's TSV of a view -> rows of typed values.
function readTsv(path, types) {
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();  // the last newline
  return lines.slice(1).map((l) => l.split('\t').map((cell, k) => parseTsvValue(cell, types[k])));
}

function keyOf(row, nkeys) {
  // Numbers as text so that NaN, inf and NULL stay apart; -0.0 is 0.0.
  return JSON.stringify(row.slice(0, nkeys).map((v) => (typeof v === 'bigint' || typeof v === 'number' ? String(v) : v)));
}

function compareView(view, got, want) {
  if (got.length !== want.length) return `row count: lambdaflow ${got.length}, DuckDB ${want.length}`;
  const byKey = new Map();
  for (const r of want) byKey.set(keyOf(r, view.nkeys), r);
  for (const r of got) {
    const w = byKey.get(keyOf(r, view.nkeys));
    if (!w) return `group ${keyOf(r, view.nkeys)} is not in DuckDB's answer`;
    for (let k = 0; k < r.length; ++k) {
      const t = view.tolerances.indexOf(k);
      const tol = t >= 0 ? Number(w[view.outputs.length + t]) : undefined;
      if (!sameValue(r[k], w[k], view.outputs[k], tol)) {
        return `group ${keyOf(r, view.nkeys)} column ${k + 1} (${view.outputs[k].lf}): lambdaflow ${fmt(r[k])}, DuckDB ${fmt(w[k])}`;
      }
    }
  }
  return null;
}
const fmt = (v) => (typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v)) ? `${v}` : JSON.stringify(v) ?? String(v));

async function runSeed(seed) {
  const rng = new Rng(seed);
  const schema = genSchema(rng);
  const { lines, accepted, misfits } = genEvents(rng, schema);
  const views = [];
  const nviews = rng.int(2, 5);
  for (let i = 0; i < nviews; ++i) views.push(genView(rng, schema, `v${i}`));

  const dir = mkdtempSync(join(keepDir ?? tmpdir(), `lf-diff-${seed}-`));
  const ddl = `CREATE STREAM s (${schema.map((c) => `${c.decl} ${c.type}${c.notNull ? ' NOT NULL' : ''}`).join(', ')});\n`;
  writeFileSync(join(dir, 'views.sql'), ddl + views.map((v) => v.lfSql).join('\n') + '\n');
  writeFileSync(join(dir, 'events.ndjson'), Buffer.concat(lines.map((l) => Buffer.concat([l, Buffer.from('\n')]))));
  writeFileSync(join(dir, 'duckdb.sql'), views.map((v) => v.dkSql + ';').join('\n') + '\n');

  let exitCode = 0;
  try {
    execFileSync(bin, ['eval', '--views', join(dir, 'views.sql'), '--out', join(dir, 'out'), '--rejects',
      join(dir, 'rejects.jsonl'), '--threads', '2', '--max-line-bytes', '4096', join(dir, 'events.ndjson')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    exitCode = e.status ?? -1;
    if (exitCode !== 1) return { dir, error: `lambdaflow eval exited ${exitCode}: ${e.stderr}` };
  }
  // Rejected lines: exactly the misfits.
  const rejected = readFileSync(join(dir, 'rejects.jsonl'), 'utf8').split('\n').filter((l) => l)
    .map((l) => JSON.parse(l).line);
  const want = [...misfits].sort((a, b) => a - b);
  stats.lines += lines.length;
  stats.rejects += rejected.length;
  if (JSON.stringify(rejected) !== JSON.stringify(want)) {
    return { dir, error: `rejected lines ${JSON.stringify(rejected)}, expected ${JSON.stringify(want)}` };
  }
  await loadTable(schema, accepted);
  let anyFailed = false;
  for (const view of views) {
    stats.views++;
    let overflow = false;
    try {
      if (view.dkOverflowSql) {
        const r = (await conn.runAndReadAll(view.dkOverflowSql)).getRows();
        overflow = r[0][0] === true;
      }
    } catch (e) {
      stats.duckdb_refused++;
      if (verbose) console.error(`seed ${seed} ${view.name}: DuckDB refused the overflow check: ${e.message}`);
      continue;
    }
    const out = join(dir, 'out', `${view.name}.tsv`);
    if (overflow) {
      stats.overflow_views++;
      anyFailed = true;
      if (existsSync(out)) return { dir, error: `${view.name}: an integer SUM leaves BIGINT, but lambdaflow wrote the view` };
      continue;
    }
    if (!existsSync(out)) return { dir, error: `${view.name}: lambdaflow wrote no answer (eval exit ${exitCode})` };
    let wantRows;
    try {
      wantRows = (await conn.runAndReadAll(view.dkSql)).getRows();
    } catch (e) {
      // DuckDB raises where lambdaflow answers (e.g. a DOUBLE overflow in
      // arithmetic): not comparable, counted.
      stats.duckdb_refused++;
      if (verbose) console.error(`seed ${seed} ${view.name}: DuckDB refused: ${e.message}`);
      continue;
    }
    const gotRows = readTsv(out, view.outputs.map((o) => o.type));
    const diff = compareView(view, gotRows,
      wantRows.map((r) => r.map((v, k) => (k < view.outputs.length ? view.outputs[k].fromDuck(v) : v))));
    if (diff) return { dir, error: `${view.name}: ${diff}\n  lambdaflow: ${view.lfSql}\n  DuckDB:     ${view.dkSql}` };
    stats.compared++;
    stats.rows += gotRows.length;
  }
  if ((exitCode === 1) !== anyFailed) return { dir, error: `eval exit ${exitCode}, expected ${anyFailed ? 1 : 0}` };
  return { dir, error: null };
}

let failures = 0;
if (keepDir) mkdirSync(keepDir, { recursive: true });
for (let seed = first; seed < first + seeds; ++seed) {
  const { dir, error } = await runSeed(seed);
  stats.seeds++;
  if (error) {
    failures++;
    console.error(`differential: seed ${seed} FAILED: ${error}\n  files: ${dir}`);
    if (failures >= 5) break;
  } else if (!keepDir) {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`differential: ${JSON.stringify(stats)}`);
process.exit(failures ? 1 : 0);
