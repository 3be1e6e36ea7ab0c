// Headless Chromium through playwright-core (the system's Chromium; no
// browser download), plus the broker URLs scripts/brokers.sh exported.
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through scripts/js-test.sh, which starts the brokers`);
  return v;
}

/** Broker URLs and the auth broker's user, for passing into pages. */
export function brokers() {
  return {
    broker: env('WASMQTT_BROKER_WS'),
    auth: env('WASMQTT_BROKER_AUTH_WS'),
    mosquitto: env('WASMQTT_MOSQUITTO_WS'),
    user: env('WASMQTT_AUTH_USER'),
    password: env('WASMQTT_AUTH_PASSWORD'),
    scramUser: env('WASMQTT_SCRAM_USER'),
    scramPassword: env('WASMQTT_SCRAM_PASSWORD'),
  };
}

/**
 * Opens `url` in a new page that records uncaught errors and console
 * errors; `page.problems` lists them.
 */
export async function open(browser, url) {
  const page = await browser.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return page;
}
