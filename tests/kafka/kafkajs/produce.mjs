// Produces COUNT order events to a Kafka topic with kafkajs (a client
// lambdaflow did not write), keyed by zipcode, in the shape of the example
// views' stream: {"zipcode","ProductName","price","timestamp"}.
//
//   node produce.mjs --brokers HOST:PORT[,...] --topic TOPIC --count N [--seed S]
//
// Prints "sent N" and exits 0 once every batch was acknowledged (acks=-1).
import { Kafka, logLevel } from "kafkajs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const count = Number(args.count ?? 1000);
let state = BigInt(args.seed ?? 1) * 6364136223846793005n + 1442695040888963407n;
const next = (n) => {  // a 64-bit LCG: the same seed gives the same events
  state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
  return Number((state >> 33n) % BigInt(n));
};
const pad = (n, w) => String(n).padStart(w, "0");
const stamp = (ms) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`;
};

const kafka = new Kafka({ clientId: "kafkajs-test", brokers: args.brokers.split(","), logLevel: logLevel.ERROR });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
let ts = Date.UTC(2014, 10, 1, 19, 35, 41, 158);
let sent = 0;
while (sent < count) {
  const messages = [];
  for (let i = 0; i < 500 && sent < count; i++, sent++) {
    const zipcode = 90000 + next(2000);
    const price = 1 + next(100) + (next(10) === 0 ? 0.25 * (1 + next(3)) : 0);
    ts += next(200);
    const event = { zipcode, ProductName: "product" + (1 + next(50)), price, timestamp: stamp(ts) };
    messages.push({ key: String(zipcode), value: JSON.stringify(event) });
  }
  await producer.send({ topic: args.topic, acks: -1, messages });
}
await producer.disconnect();
console.log(`sent ${sent}`);
