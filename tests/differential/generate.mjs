// Random streams, events and views for the differential test. Every
// expression is generated twice at once: as lambdaflow SQL (`lf`) and as the
// DuckDB SQL that means the same (`dk`, through dialect.mjs).
import * as D from './dialect.mjs';

export class Rng {
  constructor(seed) {
    this.s = (seed * 0x9e3779b1) >>> 0 || 1;
  }
  next() {  // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p) { return this.next() < p; }
  pick(a) { return a[Math.floor(this.next() * a.length)]; }
}

const TYPES = ['INT', 'BIGINT', 'DOUBLE', 'TEXT', 'BOOLEAN', 'TIMESTAMP'];
const NAMES = ['a', 'b', 'price', 'zip', 'Qty', 'ts', 'name', 'flag', 'x_1', 'Total'];
const QUOTED = ['Mixed Case', 'ProductName', 'sel"ect', 'größe', 'UPPER'];

// A column: name (as DuckDB knows it), decl (as CREATE STREAM writes it),
// ref() (a reference in a view, case varied for unquoted names).
export function genSchema(rng) {
  const n = rng.int(2, 6);
  const used = new Set();
  const cols = [];
  const types = [...TYPES].sort(() => rng.next() - 0.5);
  for (let i = 0; i < n; ++i) {
    const type = i < types.length && rng.chance(0.8) ? types[i] : rng.pick(TYPES);
    let name, decl, quoted = rng.chance(0.3);
    do {
      name = quoted ? rng.pick(QUOTED) : rng.pick(NAMES) + (used.size ? '' : '');
      if (used.has(name.toLowerCase())) name += i;
    } while (used.has(name.toLowerCase()));
    used.add(name.toLowerCase());
    if (quoted) {
      decl = `"${name.replaceAll('"', '""')}"`;
    } else {
      decl = name;
      name = name.toLowerCase();  // DuckDB side: one canonical spelling
    }
    const c = { name, decl, type, notNull: rng.chance(0.2), quoted };
    c.ref = () => (quoted ? decl : rng.pick([decl, decl.toLowerCase(), decl.toUpperCase()]));
    cols.push(c);
  }
  return cols;
}

// ---------------------------------------------------------------------------
// Events.

const TEXTS = ['', 'a', 'abc', 'product1', 'Product2', 'é', 'ñandú', '日本語', '😀x', 'tab\there', 'quo"te', 'back\\slash',
  'nan', '-nan', 'inf', '-inf', '42', ' 42 ', '+7', '4.5', '1e3', '.9', '-9223372036854775809', '9223372036854775807',
  'true', 'f', 'TRUE', 'yes', "it's", '%_', 'line\nbreak'];
const MIN_TS = -62135596800000, MAX_TS = 253402300799999;

function genValue(rng, type) {
  switch (type) {
    case 'INT':
      return rng.pick([0, 1, -1, 7, 100, -2147483648, 2147483647, rng.int(-1000, 1000), rng.int(-2147483648, 2147483647)]);
    case 'BIGINT':
      return rng.pick([0n, 1n, -1n, 42n, D.INT64_MIN, D.INT64_MAX, BigInt(rng.int(-1e6, 1e6)), 4611686018427387904n,
        BigInt(rng.int(-1000, 1000)) * 1000000000000n]);
    case 'DOUBLE':
      return rng.pick([0, -0, 0.5, -2.25, 1e6, 123.456, 1e-300, 5e-324, 1e300, -1e300, rng.int(-1000, 1000) / 4,
        rng.int(-1e6, 1e6) / 100]);
    case 'TEXT':
      return rng.pick(TEXTS);
    case 'BOOLEAN':
      return rng.chance(0.5);
    case 'TIMESTAMP':
      return rng.pick([MIN_TS, MAX_TS, 0, -1, 1414870541158, 1414870541158 + rng.int(0, 1e9), rng.int(-1e12, 4e12),
        Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2020, 11, 31, 12), -86400000 * 365]);
  }
}

function tsText(rng, ms) {
  const iso = (x) => {
    const d = new Date(x);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
  };
  const form = rng.int(0, 4);
  if (form === 0) return { text: iso(ms).replace('T', ' '), ms };
  if (form === 1) return { text: iso(ms) + 'Z', ms };
  if (form === 2) {  // with an offset: the local time is ms + offset
    const off = rng.pick([120, -300, 330, 0]);
    const local = ms + off * 60000;
    if (local < MIN_TS || local > MAX_TS) return { text: iso(ms) + 'Z', ms };
    const sign = off < 0 ? '-' : '+', a = Math.abs(off);
    return { text: `${iso(local)}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`, ms };
  }
  if (form === 3) {  // date only: midnight
    const day = Math.floor(ms / 86400000) * 86400000;
    return { text: iso(day).slice(0, 10), ms: day };
  }
  const sec = Math.floor(ms / 1000) * 1000;  // no fraction
  return { text: iso(sec).slice(0, 19), ms: sec };
}

// The JSON text of a value of `type`, and the value lambdaflow holds.
function jsonOf(rng, type, v) {
  switch (type) {
    case 'INT':
    case 'BIGINT':
      return { json: String(v), value: BigInt(v) };
    case 'DOUBLE':
      if (Object.is(v, -0)) return { json: '-0.0', value: -0 };
      return { json: rng.chance(0.2) && Number.isInteger(v) ? String(v) : String(v).includes('e') ? String(v) : String(v), value: v };
    case 'TEXT':
      return { json: JSON.stringify(v), value: v };
    case 'BOOLEAN':
      return { json: String(v), value: v };
    case 'TIMESTAMP': {
      if (rng.chance(0.3)) return { json: String(v), value: BigInt(v) };
      const t = tsText(rng, v);
      return { json: JSON.stringify(t.text), value: BigInt(t.ms) };
    }
  }
}

// A JSON value that does not fit a column of `type`.
function misfit(rng, type) {
  switch (type) {
    case 'INT':
      return rng.pick(['2147483648', '-2147483649', '1.5', '"1"', 'true', '1e3']);
    case 'BIGINT':
      return rng.pick(['9223372036854775808', '-9223372036854775809', '0.5', '"7"', '[1]']);
    case 'DOUBLE':
      return rng.pick(['"1.5"', '"nan"', 'true', '1e400', '{}']);
    case 'TEXT':
      return rng.pick(['1', 'false', '["a"]']);
    case 'BOOLEAN':
      return rng.pick(['1', '"true"', '0']);
    case 'TIMESTAMP':
      return rng.pick(['"2014-02-30"', '"2014-11-01 24:00"', '"yesterday"', '"0000-06-01"', '-62135596800001',
        '253402300800000', '-9223372036854775808', '"9999-12-31T23:30:00-01:00"', '1.5', 'true']);
  }
}

export function genEvents(rng, schema) {
  const n = rng.int(0, 1) ? rng.int(20, 300) : rng.int(0, 5);
  const lines = [], accepted = [], misfits = [];
  for (let i = 0; i < n; ++i) {
    const lineNo = i + 1;
    const r = rng.next();
    if (r < 0.015) {
      lines.push(Buffer.from(rng.pick(['{"a":', 'not json', '[1,2]', '{"a":1}}', '"text"', '{"a" 1}'])));
      misfits.push(lineNo);
      continue;
    }
    if (r < 0.02) {
      lines.push(Buffer.from('   '));  // a blank line: skipped, not rejected
      continue;
    }
    if (r < 0.025) {  // invalid UTF-8 in a string value
      const c = schema[0];
      lines.push(Buffer.concat([Buffer.from(`{${JSON.stringify(c.name)}:"a`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
      misfits.push(lineNo);
      continue;
    }
    if (r < 0.03) {  // longer than --max-line-bytes
      lines.push(Buffer.from(`{"pad":"${'x'.repeat(5000)}"}`));
      misfits.push(lineNo);
      continue;
    }
    const fields = [], row = [];
    let fits = true;
    for (const c of schema) {
      const k = JSON.stringify(c.quoted ? c.name : rng.chance(0.9) ? c.decl : c.decl);
      const p = rng.next();
      if (p < 0.08) {  // missing
        row.push(null);
        if (c.notNull) fits = false;
      } else if (p < 0.16) {
        fields.push(`${k}:null`);
        row.push(null);
        if (c.notNull) fits = false;
      } else if (p < 0.19) {
        fields.push(`${k}:${misfit(rng, c.type)}`);
        row.push(null);
        fits = false;
      } else {
        const { json, value } = jsonOf(rng, c.type, genValue(rng, c.type));
        fields.push(`${k}:${json}`);
        row.push(value);
      }
    }
    if (rng.chance(0.1)) fields.push(`"extra_field":{"nested":[1,"x",null]}`);
    fields.sort(() => rng.next() - 0.5);
    lines.push(Buffer.from(`{${fields.join(',')}}`));
    if (fits) accepted.push(row);
    else misfits.push(lineNo);
  }
  return { lines, accepted, misfits };
}

// ---------------------------------------------------------------------------
// Expressions: {lf, dk, type}.

function lit(rng, type) {
  switch (type) {
    case 'INT':
    case 'BIGINT': {
      const v = rng.pick([0, 1, 2, 3, 7, -1, 10, 100, 1000000]);
      return { lf: String(v), dk: `(${v})::BIGINT`, type: 'BIGINT', literal: true };
    }
    case 'DOUBLE': {
      const v = rng.pick(['0.5', '2.5', '-1.25', '100.0', '1e3']);
      return { lf: v, dk: `(${v})::DOUBLE`, type: 'DOUBLE', literal: true };
    }
    case 'TEXT': {
      const v = rng.pick(['a', 'abc', 'é', 'product1', '', "it's", 'x%']);
      const q = `'${v.replaceAll("'", "''")}'`;
      return { lf: q, dk: q, type: 'TEXT', literal: true };
    }
    case 'BOOLEAN': {
      const v = rng.pick(['TRUE', 'FALSE']);
      return { lf: v, dk: v, type: 'BOOLEAN', literal: true };
    }
    case 'TIMESTAMP': {
      const v = rng.pick(['2014-11-01', '2014-11-01 19:35:41.158', '1970-01-01', '2024-02-29 23:00:00']);
      return { lf: `CAST('${v}' AS TIMESTAMP)`, dk: `TIMESTAMP '${v}'`, type: 'TIMESTAMP', literal: true };
    }
  }
}

function colOf(rng, schema, types) {
  const cs = schema.filter((c) => types.includes(c.type));
  if (!cs.length) return null;
  const c = rng.pick(cs);
  return { lf: c.ref(), dk: `t."${c.name.replaceAll('"', '""')}"`, type: c.type };
}

// An expression whose type is one of `types` (INT and BIGINT are one family).
export function genExpr(rng, schema, want, depth = 0) {
  const types = want === 'INT' || want === 'BIGINT' ? ['INT', 'BIGINT'] : [want];
  if (depth >= 3 || rng.chance(0.35)) {
    const c = colOf(rng, schema, types);
    if (c && rng.chance(0.75)) return c;
    return lit(rng, want);
  }
  const sub = (t) => genExpr(rng, schema, t, depth + 1);
  switch (want) {
    case 'INT':
    case 'BIGINT': {
      const k = rng.int(0, 9);
      if (k <= 2) return D.arith(rng.pick(['+', '-', '*', '/', '%']), sub('BIGINT'), sub('BIGINT'), 'BIGINT');
      if (k === 3) return rng.chance(0.5) ? D.neg(sub('BIGINT')) : D.abs(sub('BIGINT'));
      if (k === 4) return { ...(() => { const a = sub('TEXT'); return { lf: `LENGTH(${a.lf})`, dk: `length(${a.dk})` }; })(), type: 'BIGINT' };
      if (k === 5) return D.extract(rng.pick(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond', 'dow', 'doy', 'epoch']), sub('TIMESTAMP'));
      if (k === 6) return D.cast(sub(rng.pick(['DOUBLE', 'TEXT', 'TIMESTAMP'])), rng.pick(['INT', 'BIGINT']));
      if (k === 7) return caseExpr(rng, schema, 'BIGINT', depth);
      if (k === 8) return coalesce(rng, schema, 'BIGINT', depth);
      return sub('BIGINT');
    }
    case 'DOUBLE': {
      const k = rng.int(0, 7);
      if (k <= 2) {
        const a = sub(rng.pick(['DOUBLE', 'BIGINT'])), b = sub('DOUBLE');
        return D.arith(rng.pick(['+', '-', '*', '/', '%']), a, b, 'DOUBLE');
      }
      if (k === 3) return D.cast(sub(rng.pick(['BIGINT', 'TEXT'])), 'DOUBLE');
      if (k === 4) {
        const a = sub('DOUBLE');
        if (rng.chance(0.5)) return { lf: `ROUND(${a.lf})`, dk: `round(${a.dk})`, type: 'DOUBLE' };
        return D.round(a, rng.int(-1, 2));
      }
      if (k === 5) return rng.chance(0.5) ? D.neg(sub('DOUBLE')) : D.abs(sub('DOUBLE'));
      if (k === 6) return caseExpr(rng, schema, 'DOUBLE', depth);
      return coalesce(rng, schema, 'DOUBLE', depth);
    }
    case 'TEXT': {
      const k = rng.int(0, 6);
      if (k === 0) { const a = sub('TEXT'), b = sub('TEXT'); return { lf: `(${a.lf} || ${b.lf})`, dk: `(${a.dk} || ${b.dk})`, type: 'TEXT' }; }
      if (k === 1) return D.caseMap(rng.pick(['LOWER', 'UPPER']), sub('TEXT'));
      if (k === 2) return D.substr(sub('TEXT'), rng.int(-3, 4), rng.chance(0.3) ? undefined : rng.int(0, 5));
      if (k === 3) return D.cast(sub(rng.pick(['BIGINT', 'BOOLEAN'])), 'TEXT');
      if (k === 4) return caseExpr(rng, schema, 'TEXT', depth);
      if (k === 5) return coalesce(rng, schema, 'TEXT', depth);
      return sub('TEXT');
    }
    case 'TIMESTAMP': {
      if (rng.chance(0.6)) {
        const a = sub('TIMESTAMP');
        const u = rng.pick(['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year']);
        return { lf: `DATE_TRUNC('${u}', ${a.lf})`, dk: `date_trunc('${u}', ${a.dk})`, type: 'TIMESTAMP' };
      }
      return coalesce(rng, schema, 'TIMESTAMP', depth);
    }
    case 'BOOLEAN':
      return genBool(rng, schema, depth);
  }
}

function caseExpr(rng, schema, type, depth) {
  const n = rng.int(1, 2);
  let lf = 'CASE', dk = 'CASE';
  if (rng.chance(0.3)) {  // CASE x WHEN v THEN ...
    const t = rng.pick(['BIGINT', 'TEXT']);
    const x = genExpr(rng, schema, t, depth + 1);
    lf += ` ${x.lf}`;
    dk += ` ${x.dk}`;
    for (let i = 0; i < n; ++i) {
      const v = lit(rng, t), r = genExpr(rng, schema, type, depth + 1);
      lf += ` WHEN ${v.lf} THEN ${r.lf}`;
      dk += ` WHEN ${v.dk} THEN ${r.dk}`;
    }
    const e = genExpr(rng, schema, type, depth + 1);
    return { lf: `${lf} ELSE ${e.lf} END`, dk: `${dk} ELSE ${e.dk} END`, type: D.isInt(type) ? 'BIGINT' : type };
  }
  for (let i = 0; i < n; ++i) {
    const c = genBool(rng, schema, depth + 1), r = genExpr(rng, schema, type, depth + 1);
    lf += ` WHEN ${c.lf} THEN ${r.lf}`;
    dk += ` WHEN ${c.dk} THEN ${r.dk}`;
  }
  if (rng.chance(0.7)) {
    const e = genExpr(rng, schema, type, depth + 1);
    lf += ` ELSE ${e.lf}`;
    dk += ` ELSE ${e.dk}`;
  }
  return { lf: lf + ' END', dk: dk + ' END', type: D.isInt(type) ? 'BIGINT' : type };
}

function coalesce(rng, schema, type, depth) {
  const a = genExpr(rng, schema, type, depth + 1), b = genExpr(rng, schema, type, depth + 1);
  return { lf: `COALESCE(${a.lf}, ${b.lf})`, dk: `COALESCE(${a.dk}, ${b.dk})`, type: D.isInt(type) ? 'BIGINT' : type };
}

function comparable(rng, schema, depth) {
  const t = rng.pick(['BIGINT', 'BIGINT', 'DOUBLE', 'TEXT', 'TIMESTAMP', 'BOOLEAN']);
  const fam = D.isNum(t) ? ['BIGINT', 'DOUBLE'] : [t];
  const a = genExpr(rng, schema, rng.pick(fam), depth + 1);
  if (t === 'TIMESTAMP' && !a.literal && rng.chance(0.5)) {
    // A text literal compared with a timestamp reads as one.
    const v = rng.pick(['2014-11-01', '2014-11-01 19:35:41.158', '1970-01-01T00:00:00Z', '2024-02-29 23:00']);
    return [a, { lf: `'${v}'`, dk: `TIMESTAMP '${v.replace('T', ' ').replace('Z', '')}'`, type: 'TIMESTAMP' }];
  }
  return [a, genExpr(rng, schema, rng.pick(fam), depth + 1)];
}

export function genBool(rng, schema, depth = 0) {
  if (depth >= 3) {
    const c = colOf(rng, schema, ['BOOLEAN']);
    if (c) return c;
    const [a, b] = comparable(rng, schema, 3);
    return { lf: `(${a.lf} = ${b.lf})`, dk: `(${a.dk} = ${b.dk})`, type: 'BOOLEAN' };
  }
  const k = rng.int(0, 10);
  if (k <= 2) {
    const [a, b] = comparable(rng, schema, depth);
    const op = rng.pick(['=', '<>', '!=', '<', '<=', '>', '>=']);
    return { lf: `(${a.lf} ${op} ${b.lf})`, dk: `(${a.dk} ${op === '!=' ? '<>' : op} ${b.dk})`, type: 'BOOLEAN' };
  }
  if (k === 3) {
    const a = genBool(rng, schema, depth + 1), b = genBool(rng, schema, depth + 1), op = rng.pick(['AND', 'OR']);
    return { lf: `(${a.lf} ${op} ${b.lf})`, dk: `(${a.dk} ${op} ${b.dk})`, type: 'BOOLEAN' };
  }
  if (k === 4) { const a = genBool(rng, schema, depth + 1); return { lf: `(NOT ${a.lf})`, dk: `(NOT ${a.dk})`, type: 'BOOLEAN' }; }
  if (k === 5) {
    const a = genExpr(rng, schema, rng.pick(['BIGINT', 'TEXT', 'DOUBLE', 'TIMESTAMP']), depth + 1), not = rng.chance(0.3) ? ' NOT' : '';
    return { lf: `(${a.lf} IS${not} NULL)`, dk: `(${a.dk} IS${not} NULL)`, type: 'BOOLEAN' };
  }
  if (k === 6) {  // IN, short or long (a hash set), with mixed integer and decimal items
    const t = rng.pick(['BIGINT', 'DOUBLE', 'TEXT']);
    const x = genExpr(rng, schema, t, depth + 1);
    const n = rng.chance(0.3) ? rng.int(8, 20) : rng.int(1, 4);
    const items = [];
    for (let i = 0; i < n; ++i) items.push(rng.chance(0.05) ? { lf: 'NULL', dk: 'NULL' } : D.isNum(t) ? lit(rng, rng.pick(['BIGINT', 'DOUBLE'])) : lit(rng, t));
    const not = rng.chance(0.3) ? ' NOT' : '';
    return { lf: `(${x.lf}${not} IN (${items.map((i) => i.lf).join(', ')}))`, dk: `(${x.dk}${not} IN (${items.map((i) => i.dk).join(', ')}))`, type: 'BOOLEAN' };
  }
  if (k === 7) {
    const [a, b] = comparable(rng, schema, depth);
    const c = genExpr(rng, schema, D.isNum(a.type) ? 'BIGINT' : a.type, depth + 1);
    const not = rng.chance(0.3) ? ' NOT' : '';
    // DuckDB's BETWEEN does not give NULL for 1 NOT BETWEEN 0 AND NULL
    // (dialect.mjs, 16): written out as the two comparisons.
    return { lf: `(${a.lf}${not} BETWEEN ${b.lf} AND ${c.lf})`, dk: `(${not ? 'NOT ' : ''}((${a.dk}) >= (${b.dk}) AND (${a.dk}) <= (${c.dk})))`, type: 'BOOLEAN' };
  }
  if (k === 8) {
    const a = genExpr(rng, schema, 'TEXT', depth + 1);
    const p = rng.pick(['a%', '%b%', '_', '%', 'product_', '%é%', '']);
    const not = rng.chance(0.3) ? ' NOT' : '';
    return { lf: `(${a.lf}${not} LIKE '${p}')`, dk: `(${a.dk}${not} LIKE '${p}')`, type: 'BOOLEAN' };
  }
  const c = colOf(rng, schema, ['BOOLEAN']);
  if (c) return c;
  return genBool(rng, schema, depth + 1);
}

// ---------------------------------------------------------------------------
// Views.

const AGGS = ['COUNT', 'COUNT', 'SUM', 'MIN', 'MAX', 'AVG', 'APPROX_COUNT_DISTINCT', 'APPROX_QUANTILE'];

function genAggregate(rng, schema) {
  const fn = rng.pick(AGGS);
  const filter = rng.chance(0.3) ? genBool(rng, schema, 1) : null;
  if (fn === 'COUNT' && rng.chance(0.5)) return D.aggregate('COUNT', null, filter);
  let t;
  if (fn === 'APPROX_QUANTILE') {
    const x = { ...genExpr(rng, schema, 'BIGINT', 1), q: rng.pick(['0', '0.25', '0.5', '0.9', '0.99', '1']), median: rng.chance(0.2) };
    return D.aggregate(fn, x, filter);
  }
  if (fn === 'SUM' || fn === 'AVG') t = rng.pick(['BIGINT', 'BIGINT', 'DOUBLE']);
  else t = rng.pick(['BIGINT', 'DOUBLE', 'TEXT', 'TIMESTAMP', 'BOOLEAN']);
  const x = genExpr(rng, schema, t, 1);
  return D.aggregate(fn, x, filter);
}

// A view: keys first, then aggregates and expressions over them.
export function genView(rng, schema, name) {
  const nkeys = rng.pick([0, 1, 1, 2, 3]);
  const keys = [];
  for (let i = 0; i < nkeys; ++i) {
    let k = genExpr(rng, schema, rng.pick(['BIGINT', 'TEXT', 'DOUBLE', 'TIMESTAMP', 'BOOLEAN']), rng.chance(0.6) ? 3 : 1);
    if (!k.dk.includes('t."')) continue;  // a constant key: GROUP BY 7 or (- 3) names a position
    keys.push(k);
  }
  const outputs = [...keys];
  const nk = keys.length;
  const overflowParts = [];
  const naggs = rng.int(1, 4);
  for (let i = 0; i < naggs; ++i) {
    const a = genAggregate(rng, schema);
    if (a.overflowDk) overflowParts.push(a.overflowDk);
    // An expression over aggregates (not over approximate or compensated
    // ones, whose tolerance an expression would scale).
    if (rng.chance(0.25) && D.isNum(a.type) && !a.tolDk && !a.approx && !a.quantile) {
      const b = D.aggregate('COUNT', null, null);
      outputs.push(D.arith(rng.pick(['+', '-', '*', '/']), a, b, a.type === 'DOUBLE' ? 'DOUBLE' : 'BIGINT'));
    } else {
      outputs.push(a);
    }
  }
  const where = rng.chance(0.4) ? genBool(rng, schema, 1) : null;
  let having = null;
  if (rng.chance(0.25)) {
    let a = genAggregate(rng, schema);
    if (a.tolDk || a.quantile) a = D.aggregate('COUNT', null, null);
    if (a.overflowDk) overflowParts.push(a.overflowDk);
    const v = a.type === 'DOUBLE' ? '0.5' : '1';
    if (D.isNum(a.type)) having = { lf: `${a.lf} >= ${v}`, dk: `${a.dk} >= ${v}` };
    else having = { lf: `${a.lf} IS NOT NULL`, dk: `${a.dk} IS NOT NULL` };
  }
  const aliases = outputs.map((_, i) => `c${i}`);
  const lfItems = outputs.map((o, i) => `${o.lf} AS ${aliases[i]}`);
  const groupBy = keys.map((k, i) => rng.pick([k.lf, String(i + 1), aliases[i]]));
  let lfSql = `CREATE VIEW ${name} AS SELECT ${lfItems.join(', ')} FROM s`;
  if (where) lfSql += ` WHERE ${where.lf}`;
  if (nk) lfSql += ` GROUP BY ${groupBy.join(', ')}`;
  if (having) lfSql += ` HAVING ${having.lf}`;
  lfSql += ';';
  const dkItems = outputs.map((o) => (o.type === 'TIMESTAMP' ? `epoch_ms(${o.dk})` : o.dk));
  // Tolerances of DOUBLE SUM/AVG outputs, as extra columns after the outputs.
  const tolerances = [];
  outputs.forEach((o, i) => {
    if (o.tolDk) {
      tolerances.push(i);
      dkItems.push(o.tolDk);
    }
  });
  const tail = ` FROM t${where ? ` WHERE ${where.dk}` : ''}${nk ? ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')}` : ''}`;
  const dkSql = `SELECT ${dkItems.join(', ')}${tail}${having ? ` HAVING ${having.dk}` : ''}`;
  let dkOverflowSql = null;
  if (overflowParts.length) {
    // Any group whose integer SUM leaves BIGINT (HAVING does not save it).
    const cols = overflowParts.map((p, i) => `${p} AS s${i}`);
    const keyCols = keys.map((k, i) => `${k.dk} AS k${i}`);
    const test = overflowParts.map((_, i) => `(s${i} NOT BETWEEN ${D.INT64_MIN} AND ${D.INT64_MAX})`).join(' OR ');
    dkOverflowSql = `SELECT coalesce(bool_or(${test}), FALSE) FROM (SELECT ${[...keyCols, ...cols].join(', ')}${tail})`;
  }
  return {
    name, lfSql, dkSql, dkOverflowSql, nkeys: nk, tolerances,
    outputs: outputs.map((o) => ({ ...o, fromDuck: D.fromDuck(o.type === 'INT' ? 'BIGINT' : o.type) })),
  };
}
