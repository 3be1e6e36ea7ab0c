// The packed package in Node, installed into a fresh project: Node 22 with
// no configuration (its global WebSocket, the wasm read from disk), and
// the Node running the tests (20 here) with the `ws` package's WebSocket
// passed as an option.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { brokers } from './support/browser.mjs';
import { pack, project, root, run } from './support/pack.mjs';

const env = brokers();
const NODE_22 = join(root, 'node_modules/node/bin/node');
let dir;
let app;

// Subscribes, publishes to itself, reads the message as text, ends; the
// process must then exit by itself (no timer or socket left behind).
const SCRIPT = `
import { connectAsync } from 'wasmqtt';
const [broker, mode] = process.argv.slice(2);
const options = mode === 'ws' ? { WebSocket: (await import('ws')).WebSocket } : {};
const client = await connectAsync(broker, options).catch((e) => {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
  process.exit(0);
});
const topic = 'test/node/' + Math.random().toString(36).slice(2);
const got = new Promise((resolve) => client.on('message', (_t, p) => resolve(new TextDecoder().decode(p))));
await client.subscribe(topic, { qos: 1 });
await client.publish(topic, 'hello from ' + process.version, { qos: 1 });
const payload = await got;
await client.end();
console.log(JSON.stringify({ payload, version: process.version }));
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmqtt-node-'));
  const { tarball } = await pack(dir);
  const { version } = JSON.parse(await readFile(join(root, 'node_modules/ws/package.json'), 'utf8'));
  app = join(dir, 'app');
  await project(app, tarball, {}, { ws: version });
  await writeFile(join(app, 'client.mjs'), SCRIPT);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function client(node, ...args) {
  const { stdout } = await run(node, ['client.mjs', env.broker, ...args], { cwd: app, timeout: 30_000 })
    // The minified bundle's source line would bury the message.
    .catch((e) => { throw new Error(`${node} exited with ${e.code}: ${e.stderr.slice(-2000)}`); });
  return JSON.parse(stdout.trim().split('\n').pop());
}

test('Node 22: import and connect with no configuration', async () => {
  const r = await client(NODE_22);
  assert.match(r.version, /^v22\./);
  assert.equal(r.payload, `hello from ${r.version}`);
});

test(`Node ${process.version}: the ws package's WebSocket as the WebSocket option`, async () => {
  const r = await client(process.execPath, 'ws');
  assert.equal(r.version, process.version);
  assert.equal(r.payload, `hello from ${r.version}`);
});

test(`Node ${process.version} without a WebSocket: CONNECT_FAILED says so`, {
  skip: typeof WebSocket === 'function' && 'this Node has a global WebSocket',
}, async () => {
  const r = await client(process.execPath);
  assert.equal(r.code, 'CONNECT_FAILED', JSON.stringify(r));
  assert.match(r.message, /WebSocket is not defined/);
});
