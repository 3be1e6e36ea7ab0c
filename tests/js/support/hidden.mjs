// A Chromium whose background tabs are really hidden and throttled.
//
// Pages Playwright opens are never hidden: it turns on focus emulation for
// each, which keeps `document.visibilityState` 'visible' whatever is in
// front, and its default switches turn background throttling off. So this
// starts Chromium itself (new headless mode, without those switches) and
// attaches with `noDefaults`: tabs of the default context then behave like
// a user's tabs, and `page.bringToFront()` on another tab hides them.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS } from './browser.mjs';

/**
 * Starts Chromium with `features` (for --enable-features) and resolves
 * with `{ context, close() }`; `context.newPage()` opens a tab.
 */
export async function launchHideable(features = []) {
  const dir = await mkdtemp(join(tmpdir(), 'wasmqtt-chromium-'));
  const proc = spawn(process.env.CHROMIUM ?? '/usr/bin/chromium', [
    ...CHROMIUM_ARGS,
    '--headless=new',
    // Port 0: Chromium picks one and writes it to DevToolsActivePort.
    '--remote-debugging-port=0',
    '--remote-debugging-address=127.0.0.1',
    `--user-data-dir=${dir}`,
    ...(features.length ? [`--enable-features=${features.join(',')}`] : []),
    'about:blank',
  ], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const close = async (browser) => {
    await browser?.close().catch(() => {});
    proc.kill();
    await exited;
    // Chromium's helper processes may still be writing as it exits.
    await rm(dir, { recursive: true, force: true, maxRetries: 10 });
  };
  let port;
  for (let i = 0; i < 100 && !port && proc.exitCode === null; i++) {
    port = await readFile(join(dir, 'DevToolsActivePort'), 'utf8')
      .then((s) => Number(s.split('\n')[0]) || undefined, () => undefined);
    if (!port) await sleep(100);
  }
  if (!port) {
    await close();
    throw new Error('Chromium did not start its DevTools endpoint');
  }
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true });
  return { context: browser.contexts()[0], close: () => close(browser) };
}
