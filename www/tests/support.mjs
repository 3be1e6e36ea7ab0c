// What the dashboard tests share: the demo stack (scripts/demo.sh
// --no-build), headless Chromium through playwright-core, bounded waits,
// and the artifacts directory.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { stopChild } from '../../tests/support/child.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = resolve(process.env.DASHBOARD_ARTIFACTS ?? join(ROOT, 'target/artifacts/dashboard'));
export const BROKER_BIN = join(ROOT, process.env.CARGO_TARGET_DIR ?? 'target', 'release/wasmqtt-broker');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Deadlines, not sleeps: each wait ends as soon as its condition holds. */
export const STARTUP_MS = 120_000;
export const LIVE_MS = 30_000;

/** Starts and stops everything one test file needs; `errors` collects page errors. */
export class Stack {
  constructor() {
    this.tmp = mkdtempSync(join(tmpdir(), 'wasmqtt-dashboard-test-'));
    this.children = [];
    this.errors = [];
  }

  /** Spawns a process in its own process group, keeping its output for failures. */
  spawn(name, command, args, options = {}) {
    const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    child.output = '';
    const keep = (chunk) => {
      child.output += chunk;
      if (child.output.length > 200_000) child.output = child.output.slice(-100_000);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.name = name;
    this.children.push(child);
    return child;
  }

  /** The demo's stack: broker, simulated devices and the page's server. */
  async demo({ devices, rate, reviveAfter }) {
    for (const [what, path] of [['wasmqtt-broker', BROKER_BIN], ['www/dist', join(ROOT, 'www/dist/index.html')]]) {
      assert.ok(existsSync(path), `${what} is not built (${path}): run bash scripts/dashboard-test.sh`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const ready = join(this.tmp, 'ready.json');
    const demo = this.spawn('scripts/demo.sh', 'bash', [
      'scripts/demo.sh', '--no-build', '--no-open',
      '--devices', String(devices), '--rate', String(rate), '--revive-after', String(reviveAfter),
    ], { env: { ...process.env, DEMO_READY_FILE: ready } });
    demo.info = await until('the demo to be ready', STARTUP_MS,
      () => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')), demo);
    return demo;
  }

  async browser() {
    this.chromium = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return this.chromium;
  }

  /** A page in a fresh context (its own storage) whose errors are recorded. */
  async page(options = {}) {
    return this.tab(await this.context(options));
  }

  /** A fresh context: its tabs share storage, and so the dashboard's one connection. */
  context(options = {}) {
    return this.chromium.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', ...options });
  }

  /** Another page of `context`, its errors recorded. */
  async tab(context) {
    const page = await context.newPage();
    page.on('pageerror', (e) => this.errors.push(e.message));
    return page;
  }

  async close() {
    await this.chromium?.close();
    await Promise.all(this.children.map((child) => stopChild(child, { group: true, graceMs: 10_000 })));
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns a truthy value, or fails after `ms`. */
export async function until(what, ms, check, child) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (child && child.exitCode !== null) {
      throw new Error(`${child.name} exited (${child.exitCode}) while waiting for ${what}:\n${child.output}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${child ? `\n${child.name} output:\n${child.output}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Shows only the devices whose name contains `name` in the table ('' for all). */
export async function findDevice(page, name) {
  await page.locator('#fleet-filter input[name="name"]').fill(name);
  if (name) await page.locator(`#fleet-table tr[data-device="${name}"]`).waitFor({ timeout: LIVE_MS });
}

/** Opens a device's detail tile from its table row, as a person would: find it, tick it. */
export async function openTile(page, id) {
  const tile = page.locator(`.tile[data-device="${id}"]`);
  if (await tile.count() === 0) {
    await findDevice(page, id);
    await page.locator(`#fleet-table tr[data-device="${id}"] input[type="checkbox"]`).check({ timeout: LIVE_MS });
    await findDevice(page, '');
  }
  await tile.waitFor({ timeout: LIVE_MS });
  return tile;
}

/** Clicks a tile's Kill and answers the confirmation with `answer` ('ok' or 'cancel'). */
export async function kill(page, id, answer = 'ok') {
  await page.locator(`.tile[data-device="${id}"] button.danger`).click();
  const dialog = page.locator('dialog#confirm[open]');
  await dialog.waitFor({ timeout: LIVE_MS });
  await dialog.locator(`button[value="${answer}"]`).click();
  await dialog.waitFor({ state: 'detached', timeout: LIVE_MS });
}
