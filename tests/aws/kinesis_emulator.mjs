// A Kinesis emulator for lambdaflow's tests and by-hand runs: kinesalite
// (npm), in memory, streams created and changed without delay.
//
//   node kinesis_emulator.mjs [--port P] [--stream NAME --shards N]...
//
// Listens on 127.0.0.1 (port P, or any free one), creates the named streams,
// then prints one JSON line on stdout: {"port": P}. Runs until killed.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const kinesalite = require('kinesalite');

const args = process.argv.slice(2);
let port = 0;
const streams = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--stream') streams.push({ name: args[++i], shards: 1 });
  else if (args[i] === '--shards' && streams.length > 0) streams[streams.length - 1].shards = Number(args[++i]);
  else {
    console.error(`kinesis_emulator: unknown argument ${args[i]}`);
    process.exit(2);
  }
}

const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const bound = server.address().port;

function call(action, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: bound,
        method: 'POST',
        path: '/',
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': `Kinesis_20131202.${action}`,
          'X-Amz-Date': '20240101T000000Z',
          // kinesalite checks the header's shape, not the signature.
          Authorization:
            'AWS4-HMAC-SHA256 Credential=emulator/20240101/us-east-1/kinesis/aws4_request, ' +
            'SignedHeaders=host;x-amz-date, Signature=0',
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${action}: ${text}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

for (const s of streams) await call('CreateStream', { StreamName: s.name, ShardCount: s.shards });
console.log(JSON.stringify({ port: bound }));
