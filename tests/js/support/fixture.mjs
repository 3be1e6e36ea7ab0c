// The page most tests run in: tests/js/fixtures/index.html, which loads the
// shipped package as `window.wasmqtt` and the test helpers as `window.h`,
// served from the repository root in headless Chromium.
import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { launch, open } from './browser.mjs';
import { serve } from './server.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Opens the fixture page before the calling file's tests and closes it,
 * its browser and its server after them. The page is `fixture.page` once
 * the tests run (`page.problems` lists its errors). With `clean`, every
 * test must leave the page without uncaught errors (unhandled rejections
 * included) or console errors.
 */
export function fixturePage({ clean = false } = {}) {
  const fixture = { page: null };
  let browser;
  let server;
  before(async () => {
    [browser, server] = await Promise.all([launch(), serve(root)]);
    fixture.page = await open(browser, `${server.url}/tests/js/fixtures/index.html`);
    await fixture.page.waitForFunction(() => window.wasmqtt && window.h);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  if (clean) {
    afterEach(async () => {
      await fixture.page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
      assert.deepEqual(fixture.page.problems.splice(0), []);
    });
  }
  return fixture;
}
