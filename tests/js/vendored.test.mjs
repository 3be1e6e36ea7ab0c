// The package's files copied into one folder of a site (vendoring, a CDN,
// an esbuild output directory): the JS finds the wasm beside itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { brokers, launch, open } from './support/browser.mjs';
import { pack, run } from './support/pack.mjs';
import { serve } from './support/server.mjs';

const env = brokers();
let dir;
let browser;
let server;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmqtt-vendored-'));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const PAGE = `<!doctype html><meta charset="utf-8"><title>vendored</title>
<script type="module">
  import { connectAsync } from './vendor/wasmqtt/index.js';
  const broker = new URLSearchParams(location.search).get('broker');
  (async () => {
    const client = await connectAsync(broker);
    const topic = 'test/vendored/' + Math.random().toString(36).slice(2);
    const got = new Promise((resolve) => client.on('message', (_t, p) => resolve(new TextDecoder().decode(p))));
    await client.subscribe(topic, { qos: 1 });
    await client.publish(topic, 'from one folder', { qos: 1 });
    const payload = await got;
    await client.end();
    return payload;
  })().then((payload) => { window.result = { payload }; }, (e) => { window.result = { error: String(e) }; });
</script>
`;

test('index.js and the wasm copied into one folder load and connect', async () => {
  const { tarball } = await pack(dir);
  await run('tar', ['-xzf', tarball, '-C', dir], { timeout: 30_000 });
  const site = join(dir, 'site');
  const vendor = join(site, 'vendor/wasmqtt');
  await mkdir(vendor, { recursive: true });
  for (const f of ['index.js', 'wasmqtt_bg.wasm']) await copyFile(join(dir, 'package/pkg', f), join(vendor, f));
  await writeFile(join(site, 'index.html'), PAGE);
  server = await serve(site);
  const page = await open(browser, `${server.url}/?broker=${encodeURIComponent(env.broker)}`);
  await page.waitForFunction(() => window.result, null, { timeout: 15_000 });
  const result = await page.evaluate(() => window.result);
  assert.deepEqual(result, { payload: 'from one folder' }, server.requests.join(', '));
  assert.ok(server.requests.includes('/vendor/wasmqtt/wasmqtt_bg.wasm'), server.requests.join(', '));
  assert.deepEqual(page.problems, []);
});

test('without the wasm beside it: INIT_FAILED names the URL and what came back', async () => {
  // The package was unpacked by the test above; this folder lacks the wasm.
  const site = join(dir, 'site-missing');
  await mkdir(join(site, 'vendor/wasmqtt'), { recursive: true });
  await copyFile(join(dir, 'package/pkg/index.js'), join(site, 'vendor/wasmqtt/index.js'));
  await writeFile(join(site, 'index.html'), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
  import { connectAsync } from './vendor/wasmqtt/index.js';
  connectAsync('ws://127.0.0.1:1/mqtt').catch((e) => { window.result = { code: e.code, message: e.message }; });
</script>
`);
  const missing = await serve(site);
  try {
    const page = await browser.newPage();
    await page.goto(`${missing.url}/`);
    await page.waitForFunction(() => window.result, null, { timeout: 15_000 });
    const r = await page.evaluate(() => window.result);
    assert.equal(r.code, 'INIT_FAILED');
    assert.equal(r.message,
      `cannot load the wasm module from ${missing.url}/vendor/wasmqtt/wasmqtt_bg.wasm: got 404 text/plain`);
    await page.close();
  } finally {
    await missing.close();
  }
});
