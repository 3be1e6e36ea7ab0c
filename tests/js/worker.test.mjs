// The package inside a dedicated Web Worker (module worker), in Chromium.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { brokers, launch, open } from './support/browser.mjs';
import { serve } from './support/server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
let browser;
let server;

before(async () => {
  [browser, server] = await Promise.all([launch(), serve(root)]);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a module worker connects, subscribes, publishes and receives', async () => {
  const page = await open(browser, `${server.url}/tests/js/fixtures/index.html`);
  const r = await page.evaluate(({ broker }) => new Promise((resolve, reject) => {
    const worker = new Worker('/tests/js/fixtures/worker.mjs', { type: 'module' });
    const timer = setTimeout(() => reject(new Error('the worker did not answer')), 15000);
    worker.onerror = (e) => { clearTimeout(timer); reject(new Error(`worker error: ${e.message}`)); };
    worker.onmessage = ({ data }) => {
      if (data.ready) {
        worker.postMessage({ broker });
        return;
      }
      clearTimeout(timer);
      worker.terminate();
      resolve(data);
    };
  }), env);
  assert.equal(r.ok, true, r.error);
  assert.equal(r.inWorker, true);
  assert.equal(r.granted[0].qos, 1);
  assert.equal(r.ack, 0);
  assert.equal(r.topic, true);
  assert.equal(r.payload, 'from a worker');
  assert.deepEqual(r.iterated, ['one', 'two']);
  assert.equal(r.bad.isMqttError, true);
  assert.equal(r.bad.code, 'INVALID_OPTIONS');
  assert.equal(r.metrics.messagesIn, 3);
  assert.match(r.clientId, /^worker-/);
  assert.deepEqual(page.problems, []);
  // The worker fetched the package and its wasm itself.
  for (const path of ['/pkg/index.js', '/pkg/wasmqtt_bg.wasm']) {
    assert.ok(server.requests.includes(path), `${path} was not requested`);
  }
});
