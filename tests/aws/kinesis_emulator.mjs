// A Kinesis emulator for lambdaflow's tests: kinesalite (npm), in memory,
// streams created and changed without delay.
//
//   node kinesis_emulator.mjs
//
// Prints one JSON line on stdout once listening: {"port": P}. Runs until killed.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const kinesalite = require('kinesalite');

const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
