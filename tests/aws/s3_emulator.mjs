// An S3 emulator for lambdaflow's tests: s3rver (npm), which serves the S3
// API from a directory, optionally behind a shim that adds what s3rver
// lacks and what the tests need to provoke:
//
// - conditional writes: a PUT or CompleteMultipartUpload with
//   `If-None-Match: *` is refused with 412 when the key exists, `If-Match`
//   when the ETag differs (s3rver itself ignores both and overwrites);
//   checks and writes of one key are serialized, so of racing creators
//   exactly one wins;
// - SigV4 verification: s3rver does not check V4 signatures, so the shim
//   recomputes each one (credentials S3RVER/S3RVER, s3rver's own) and the
//   payload hash, and answers 403 SignatureDoesNotMatch with the canonical
//   request it expected;
// - faults, set through the control endpoint POST /_shim/fault?kind=...:
//     kind=status&status=503&count=N[&method=PUT][&prefix=P]
//                                                  answer N requests (of objects
//                                                  whose key starts with P, if
//                                                  given) with that status (503
//                                                  SlowDown) without passing them on;
//     kind=lose&count=N[&method=PUT]               pass N requests on (the write
//                                                  happens) and drop the answer:
//                                                  the connection is destroyed;
//     kind=delay&ms=T&count=N[&method=PUT]         pass N requests on and answer
//                                                  T ms later (past a client's
//                                                  timeout: the write happened);
//   POST /_shim/conditional?put=0|1&complete=0|1: stop (0) or resume (1)
//     enforcing conditions on PUT / on CompleteMultipartUpload, to play a
//     store that honours one and not the other;
//   GET /_shim/stats: requests seen, by method; POST /_shim/reset clears faults and counts.
//
//   node --openssl-legacy-provider s3_emulator.mjs --dir DIR [--bucket NAME]... [--bare]
//
// (s3rver makes its ListObjectsV2 continuation tokens with DES, which
// OpenSSL 3 keeps in its legacy provider; the tokens hold '/', '+' and '=',
// which the signature must encode.)
//
// Prints one JSON line on stdout once listening: {"port": P, "s3rver_port": Q};
// `port` is the shim's, or s3rver's own with --bare (no shim: the test of a
// store that ignores conditional writes). Runs until killed.
import crypto from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

const args = process.argv.slice(2);
let dir = null;
let bare = false;
const buckets = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--dir') dir = args[++i];
  else if (args[i] === '--bucket') buckets.push(args[++i]);
  else if (args[i] === '--bare') bare = true;
  else {
    console.error(`s3_emulator: unknown argument ${args[i]}`);
    process.exit(2);
  }
}
if (!dir) {
  console.error('s3_emulator: --dir DIR is required');
  process.exit(2);
}

const s3rver = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
const inner = await s3rver.run();

if (bare) {
  console.log(JSON.stringify({ port: inner.port, s3rver_port: inner.port }));
} else {
  const shim = http.createServer(handle);
  shim.keepAliveTimeout = 60000;
  await new Promise((resolve) => shim.listen(0, '127.0.0.1', resolve));
  console.log(JSON.stringify({ port: shim.address().port, s3rver_port: inner.port }));
}

// ---- the shim ----

let faults = [];
const enforce = { put: true, complete: true };
let stats = { requests: 0, methods: {} };
const keyLocks = new Map();

function uriEncode(s, encodeSlash) {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-._~]/.test(c) || (c === '/' && !encodeSlash)) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data).digest();
}

// Recomputes the request's SigV4 signature as S3 does: the path decoded and
// encoded again, the query's names and values decoded, encoded and sorted.
function checkSignature(req, rawPath, rawQuery, body) {
  const auth = req.headers['authorization'];
  if (!auth) return 'no Authorization header';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `malformed Authorization header: ${auth}`;
  const [, key, day, region, signedHeaders, signature] = m;
  if (key !== ACCESS_KEY) return `unknown access key ${key}`;
  const amzDate = req.headers['x-amz-date'] || '';
  if (amzDate.slice(0, 8) !== day) return `x-amz-date ${amzDate} is not of the credential's day ${day}`;
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) return 'no x-amz-content-sha256 header';
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== crypto.createHash('sha256').update(body).digest('hex')) {
    return 'x-amz-content-sha256 does not match the body (XAmzContentSHA256Mismatch)';
  }
  const path = rawPath.split('/').map((seg) => uriEncode(decodeURIComponent(seg), true)).join('/');
  const pairs = rawQuery
    ? rawQuery.split('&').map((kv) => {
        const eq = kv.indexOf('=');
        const k = eq < 0 ? kv : kv.slice(0, eq);
        const v = eq < 0 ? '' : kv.slice(eq + 1);
        return [uriEncode(decodeURIComponent(k), true), uriEncode(decodeURIComponent(v), true)];
      })
    : [];
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return 'host is not signed';
  const headers = names
    .map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = `${req.method}\n${path}\n${query}\n${headers}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${crypto.createHash('sha256').update(canonical).digest('hex')}`;
  let k = hmac('AWS4' + SECRET_KEY, day);
  k = hmac(k, region);
  k = hmac(k, 's3');
  k = hmac(k, 'aws4_request');
  const expected = hmac(k, toSign).toString('hex');
  if (expected !== signature) return `signature mismatch; expected canonical request:\n${canonical}`;
  return null;
}

function xmlError(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function forward(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: '127.0.0.1', port: inner.port, method, path: url, headers },
      (up) => {
        const chunks = [];
        up.on('data', (c) => chunks.push(c));
        up.on('end', () => resolve({ status: up.statusCode, headers: up.headers, body: Buffer.concat(chunks) }));
        up.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

// `key`: the object key of a path-style request (after "/BUCKET/").
function takeFault(method, key) {
  for (const f of faults) {
    if (f.count > 0 && (!f.method || f.method === method) && (!f.prefix || key.startsWith(f.prefix))) {
      f.count -= 1;
      return f;
    }
  }
  return null;
}

async function withKeyLock(key, fn) {
  const prev = keyLocks.get(key) || Promise.resolve();
  let release;
  const mine = new Promise((r) => (release = r));
  const tail = prev.then(() => mine);
  keyLocks.set(key, tail);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (keyLocks.get(key) === tail) keyLocks.delete(key);
  }
}

function control(req, res, url) {
  const p = url.searchParams;
  if (req.method === 'POST' && url.pathname === '/_shim/fault') {
    faults.push({
      kind: p.get('kind'),
      status: Number(p.get('status') || 503),
      count: Number(p.get('count') || 1),
      method: p.get('method') || null,
      prefix: p.get('prefix') || null,
      ms: Number(p.get('ms') || 0),
    });
  } else if (req.method === 'POST' && url.pathname === '/_shim/conditional') {
    if (p.has('put')) enforce.put = p.get('put') === '1';
    if (p.has('complete')) enforce.complete = p.get('complete') === '1';
  } else if (req.method === 'POST' && url.pathname === '/_shim/reset') {
    faults = [];
    stats = { requests: 0, methods: {} };
  } else if (!(req.method === 'GET' && url.pathname === '/_shim/stats')) {
    res.writeHead(404);
    res.end();
    return;
  }
  const body = JSON.stringify({ ...stats, faults_left: faults.reduce((n, f) => n + f.count, 0) });
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(body);
}

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, 'http://shim');
  if (url.pathname.startsWith('/_shim/')) return control(req, res, url);
  stats.requests += 1;
  stats.methods[req.method] = (stats.methods[req.method] || 0) + 1;

  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const bad = checkSignature(req, rawPath, rawQuery, body);
  if (bad) return xmlError(res, 403, 'SignatureDoesNotMatch', bad);

  const fault = takeFault(req.method, decodeURIComponent(rawPath).split('/').slice(2).join('/'));
  if (fault && fault.kind === 'status') {
    return xmlError(res, fault.status, fault.status === 503 ? 'SlowDown' : 'InternalError', 'injected by the shim');
  }
  const creates =
    (enforce.put && req.method === 'PUT' && !url.searchParams.has('partNumber')) ||
    (enforce.complete && req.method === 'POST' && url.searchParams.has('uploadId'));
  const ifNoneMatch = req.headers['if-none-match'];
  const ifMatch = req.headers['if-match'];
  const conditional = creates && (ifNoneMatch || ifMatch);

  const pass = async () => {
    if (conditional) {
      const head = await forward('HEAD', rawPath, {}, Buffer.alloc(0));  // anonymous: s3rver lets it through
      const exists = head.status === 200;
      if (ifNoneMatch === '*' && exists) {
        return xmlError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      if (ifMatch && (!exists || head.headers['etag'] !== ifMatch)) {
        return xmlError(res, exists ? 412 : 404, exists ? 'PreconditionFailed' : 'NoSuchKey', 'If-Match did not hold');
      }
    }
    const headers = { ...req.headers };
    delete headers['if-none-match'];
    delete headers['if-match'];
    const up = await forward(req.method, req.url, headers, body);
    if (fault && fault.kind === 'lose') {
      req.socket.destroy();  // applied, but the client never hears of it
      return;
    }
    if (fault && fault.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    res.writeHead(up.status, up.headers);
    res.end(up.body);
  };
  try {
    if (conditional) await withKeyLock(rawPath, pass);
    else await pass();
  } catch (e) {
    xmlError(res, 500, 'InternalError', `shim: ${e.message}`);
  }
}
