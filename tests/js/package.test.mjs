// The npm package as a user gets it: `npm pack`, installed into a fresh
// Vite 7 project, built with `vite build`, served, and run in Chromium
// against wasmqtt-broker: the core and shared entries, and the store entry
// across a page reload. Type-checked against the packed types too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { brokers, launch, open } from './support/browser.mjs';
import { serve } from './support/server.mjs';

// Bounded: a stuck npm, tsc or vite fails the test instead of hanging the run.
const run = (file, args, options) => promisify(execFile)(file, args, { timeout: 300_000, killSignal: 'SIGKILL', ...options });
const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
let dir;
let browser;
let server;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmqtt-pack-'));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir && !process.env.KEEP_PACK_DIR) await rm(dir, { recursive: true, force: true });
});

async function npm(args, cwd) {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

const APP = `
import { connectAsync, MqttError } from 'wasmqtt';
import { connectAsync as connectShared } from 'wasmqtt/shared';
import { connect as connectStored, indexedDBStore } from 'wasmqtt/store';

const params = new URLSearchParams(location.search);
const topic = 'test/vite/' + Math.random().toString(36).slice(2);

// wasmqtt/store across a reload: the first load publishes at QoS 1 with
// its acknowledgement cut off (its frames dropped) and reloads; the
// second resumes the session and re-sends it, to its own subscription.
async function storeRoundTrip() {
  const id = params.get('store');
  const first = !sessionStorage.getItem(id);
  sessionStorage.setItem(id, 'reloaded');
  let drop = false;
  class Dropping extends WebSocket { send(data) { if (!drop) super.send(data); } }
  const store = indexedDBStore({ name: 'vite-app' });
  const client = connectStored(params.get('broker'), {
    clientId: id, clean: false, properties: { sessionExpiryInterval: 60 }, store, WebSocket: Dropping, reconnect: false,
  });
  let restored = null;
  client.on('restored', (r) => { restored = r; });
  const got = new Promise((resolve) => client.on('message', (t, payload) => resolve(new TextDecoder().decode(payload))));
  await new Promise((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); });
  const storeTopic = 'test/vite/store/' + id;
  if (first) {
    await client.subscribe(storeTopic, { qos: 1 });
    drop = true;
    client.publish(storeTopic, 'kept', { qos: 1 }).catch(() => {});
    await store.flush();
    location.reload();
    return new Promise(() => {});
  }
  const payload = await got;
  await client.end();
  return { restored, payload };
}

async function main() {
  const client = await connectAsync(params.get('broker'));
  const got = new Promise((resolve) => client.on('message', (t, payload) => resolve(new TextDecoder().decode(payload))));
  await client.subscribe(topic, { qos: 1 });
  await client.publish(topic, 'built with vite', { qos: 1 });
  const payload = await got;
  const bad = await client.publish(topic, 'x', { qos: 5 }).catch((e) => e);
  await client.end();
  // Shared mode: its SharedWorker (or, where that cannot load, a leader tab).
  const shared = await connectShared(params.get('broker'), { clientId: 'vite-' + topic.slice(10) });
  const sharedId = shared.clientId;
  await shared.end();
  return { payload, badIsMqttError: bad instanceof MqttError, badCode: bad.code, sharedId };
}

(params.has('store') ? storeRoundTrip() : main()).then(
  (r) => { window.result = { ok: true, ...r }; },
  (e) => { window.result = { ok: false, error: String(e && e.stack || e) }; },
);
`;

const TYPED = `
import { connect, MqttError, type PublishPacket, type SubscribeResult } from 'wasmqtt';
import { connect as connectShared, type SharedClient } from 'wasmqtt/shared';

const client = connect('ws://127.0.0.1:1/mqtt', { clientId: 'typed', reconnect: { initialDelay: 100 } });
client.on('error', (e: MqttError) => void e.code);
client.on('message', (_t: string, _p: Uint8Array, packet: PublishPacket) => void packet.qos);
export const results: Promise<SubscribeResult[]> = client.subscribe('a/+', { qos: 1 });
export const shared: SharedClient = connectShared('ws://127.0.0.1:1/mqtt', { clientId: 'typed' });
shared.on('resend', ({ topic, qos }) => void [topic, qos]);
`;

let installed;

/** Packs the package and installs it into a fresh Vite project, once. */
function viteApp() {
  installed ??= (async () => {
    // 1. Pack: exactly the files the package needs.
    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], root));
    const files = packed[0].files.map((f) => f.path).sort();
    const tarball = join(dir, packed[0].filename);

    // 2. A fresh Vite project that depends on the tarball, without a config file.
    const app = join(dir, 'app');
    await mkdir(app);
    const { version: viteVersion } = JSON.parse(await readFile(join(root, 'node_modules/vite/package.json'), 'utf8'));
    const { version: tsVersion } = JSON.parse(await readFile(join(root, 'node_modules/typescript/package.json'), 'utf8'));
    await writeFile(join(app, 'package.json'), JSON.stringify({
      name: 'wasmqtt-vite-check',
      private: true,
      type: 'module',
      scripts: { build: 'vite build', dev: 'vite' },
      dependencies: { wasmqtt: `file:${tarball}` },
      devDependencies: { vite: viteVersion, typescript: tsVersion },
    }, null, 2));
    await writeFile(join(app, 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>vite app</title><link rel="icon" href="data:,">'
      + '<script type="module" src="/main.js"></script>\n');
    await writeFile(join(app, 'main.js'), APP);
    await writeFile(join(app, 'typed.ts'), TYPED);
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'es2022', module: 'es2022', moduleResolution: 'bundler', lib: ['es2022', 'dom'],
        strict: true, noEmit: true, skipLibCheck: false,
      },
      files: ['typed.ts'],
    }));
    // The registry packages come from the npm cache the repo's install filled.
    await npm(['install', '--prefer-offline'], app);
    return { app, files };
  })();
  return installed;
}

/** Runs the app's page at `url` in Chromium and checks what it reports. */
async function runsInChromium(url) {
  const page = await open(browser, `${url}/?broker=${encodeURIComponent(env.broker)}`);
  const missing = [];
  page.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`); });
  await page.waitForFunction(() => window.result, null, { timeout: 15000 });
  const result = await page.evaluate(() => window.result);
  assert.equal(result.ok, true, result.error);
  assert.equal(result.payload, 'built with vite');
  assert.equal(result.badIsMqttError, true);
  assert.equal(result.badCode, 'INVALID_OPTIONS');
  assert.match(result.sharedId ?? '', /^vite-/);
  assert.deepEqual(page.problems, [], missing.join(', '));
  await page.close();

  // wasmqtt/store: a QoS 1 publish kept in IndexedDB across a reload.
  const id = `vite-store-${Math.random().toString(36).slice(2, 10)}`;
  const stored = await open(browser, `${url}/?broker=${encodeURIComponent(env.broker)}&store=${id}`);
  await stored.waitForFunction(() => window.result, null, { timeout: 15000 });
  const round = await stored.evaluate(() => window.result);
  assert.equal(round.ok, true, round.error);
  assert.deepEqual(round.restored, { inFlight: 1, queued: 0, inbound: 0 });
  assert.equal(round.payload, 'kept');
  assert.deepEqual(stored.problems, []);
  await stored.close();
}

test('npm pack → install into a Vite 7 project → vite build → runs in Chromium', async () => {
  const { app, files } = await viteApp();
  for (const f of ['pkg/index.js', 'pkg/node.js', 'pkg/wasmqtt_bg.wasm', 'pkg/timer-worker.js', 'js/index.d.ts', 'package.json',
    'pkg/shared.js', 'pkg/shared-worker.js', 'js/shared.d.ts',
    // `wasmqtt/store`: its own client bundle and wasm.
    'pkg/store.js', 'pkg/wasmqtt_store_bg.wasm', 'js/store.d.ts']) {
    assert.ok(files.includes(f), `${f} missing from the package: ${files.join(', ')}`);
  }
  assert.ok(files.every((f) => !f.startsWith('src/') && !f.startsWith('tests/') && !f.startsWith('crates/')), files.join(', '));

  // 3. Types resolve from the installed package.
  await run(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: app });

  // 4. Build, and check the wasm was emitted as an asset.
  await run(join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: app });
  const assets = await readdir(join(app, 'dist/assets'));
  const wasm = assets.find((f) => f.endsWith('.wasm') && !f.startsWith('wasmqtt_store'));
  assert.ok(wasm, `no .wasm among the built assets: ${assets.join(', ')}`);
  assert.ok(assets.some((f) => f.startsWith('wasmqtt_store_bg') && f.endsWith('.wasm')),
    `no store wasm among the built assets: ${assets.join(', ')}`);
  // The timer worker a hidden page loads, emitted by Vite's worker handling.
  assert.ok(assets.some((f) => f.startsWith('timer-worker')), `no timer worker among the built assets: ${assets.join(', ')}`);
  // Shared mode's SharedWorker, bundled by Vite with the core it imports.
  assert.ok(assets.some((f) => f.startsWith('shared-worker')), `no shared worker among the built assets: ${assets.join(', ')}`);

  // 5. Serve the build and run it.
  server = await serve(join(app, 'dist'));
  await runsInChromium(server.url);
  assert.ok(server.requests.includes(`/assets/${wasm}`), server.requests.join(', '));
  assert.ok(server.requests.some((r) => /^\/assets\/wasmqtt_store_bg.*\.wasm$/.test(r)), server.requests.join(', '));
});

test('the same project under the Vite dev server, with no configuration', async () => {
  // Dependency pre-bundling moves the package's JS into node_modules/.vite/deps.
  const { app } = await viteApp();
  const { createServer } = await import(pathToFileURL(join(app, 'node_modules/vite/dist/node/index.js')).href);
  const dev = await createServer({ root: app, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } });
  try {
    await dev.listen();
    await runsInChromium(dev.resolvedUrls.local[0].replace(/\/$/, ''));
  } finally {
    await dev.close();
  }
});
