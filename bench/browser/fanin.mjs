#!/usr/bin/env node
// Native load generator for the fan-in scenario: N MQTT 5 publishers over
// plain TCP, outside the browser. Each connects (hand-built CONNECT), waits for
// CONNACK, then writes its QoS 0 PUBLISH packets in 64 KiB batches, honouring
// the socket's backpressure, and disconnects. Pre-built packets keep its own
// CPU use small: it should never be what limits the browser subscriber.
//
//   node fanin.mjs --host 127.0.0.1 --port 1883 --topic t --publishers 20 --count 2500 --size 64
// Prints one JSON line: { sent, ms, rate }.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    topic: { type: 'string' },
    publishers: { type: 'string', default: '20' },
    count: { type: 'string', default: '2500' },
    size: { type: 'string', default: '64' },
  },
});
const publishers = Number(a.publishers);
const count = Number(a.count);
const size = Number(a.size);

function varint(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}
const str = (s) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
const packet = (first, body) => Buffer.concat([Buffer.from([first]), varint(body.length), body]);

const payload = randomBytes(size);
const publish = packet(0x30, Buffer.concat([str(a.topic), Buffer.from([0]), payload]));
const perBatch = Math.max(1, Math.floor(65536 / publish.length));
const batch = Buffer.concat(Array(perBatch).fill(publish));

function run(i) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(a.port), a.host);
    sock.setNoDelay(true);
    let got = Buffer.alloc(0);
    let started = false;
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([5, 0x02, 0, 60, 0]), str(`fanin-${process.pid}-${i}`)])));
    });
    sock.on('data', (d) => {
      if (started) return;
      got = Buffer.concat([got, d]);
      if (got.length < 4) return;
      if (got[0] !== 0x20 || got[3] !== 0) return reject(new Error(`publisher ${i}: bad CONNACK ${got.toString('hex')}`));
      started = true;
      let left = count;
      const pump = () => {
        while (left > 0) {
          const k = Math.min(left, perBatch);
          left -= k;
          const ok = sock.write(k === perBatch ? batch : batch.subarray(0, k * publish.length));
          if (!ok) return void sock.once('drain', pump);
        }
        sock.end(Buffer.from([0xe0, 0]), () => resolve());
      };
      pump();
    });
  });
}

const t0 = performance.now();
await Promise.all(Array.from({ length: publishers }, (_, i) => run(i)));
const ms = performance.now() - t0;
console.log(JSON.stringify({ sent: publishers * count, ms, rate: (publishers * count) / (ms / 1000) }));
