// The dashboard: one wasmqtt client, a tile per device, live metrics.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { connect } from 'wasmqtt';
import { DeviceTile, formatAgo } from './tile.js';
import { describeError } from './errors.js';
import { cleanPrefix, defaultBrokerUrl, loadServerConfig, readSettings, saveSettings } from './settings.js';

const $ = (id) => document.getElementById(id);
const COMMAND_TIMEOUT_MS = 5000;
const KEEPALIVE_S = 10;

const serverConfig = await loadServerConfig();
let settings = readSettings(serverConfig);

// ----- state ---------------------------------------------------------------

let client = null;
/** Bumped for every new client, so late events of an old one are ignored. */
let generation = 0;
let everConnected = false;
let countdown = null;
const tiles = new Map();
const decoder = new TextDecoder();

// ----- connection ----------------------------------------------------------

function start() {
  const gen = ++generation;
  const old = client;
  client = null;
  old?.end(true).catch(() => {});
  everConnected = false;
  clearTiles();
  hideBanner();
  updateFooter();
  setConnState('connecting', `to ${settings.broker}`);

  let c;
  try {
    c = connect(settings.broker, {
      clientId: `dashboard-${Math.random().toString(36).slice(2, 10)}`,
      keepalive: KEEPALIVE_S,
      connectTimeout: 10_000,
      username: settings.username || undefined,
      password: settings.password || undefined,
      reconnect: { initialDelay: 1000, maxDelay: 15_000 },
    });
  } catch (e) {
    showError(e);
    setConnState('offline', '');
    return;
  }
  client = c;
  const live = (fn) => (...args) => { if (gen === generation) fn(...args); };

  c.on('connect', live(() => {
    everConnected = true;
    hideBanner();
    setConnState('connected', settings.broker);
    updateEmpty();
  }));
  c.on('reconnecting', live(({ attempt, delay }) => startCountdown(attempt, delay)));
  c.on('reconnect', live((attempt) => setConnState('connecting', `attempt ${attempt}…`)));
  c.on('close', live(() => {
    if (connState !== 'reconnecting') setConnState('offline', '');
    updateEmpty();
  }));
  c.on('disconnect', live((packet) => {
    if (packet?.reasonString) $('conn-detail').textContent = packet.reasonString;
  }));
  c.on('end', live(() => setConnState('offline', 'stopped')));
  c.on('error', live((e) => {
    showError(e);
    // Settings that cannot work never connect: say so instead of "Connecting…".
    if (e?.code === 'INVALID_OPTIONS' || e?.code === 'INVALID_URL') setConnState('offline', 'check the settings');
  }));

  const prefix = settings.prefix;
  c.subscribe(`${prefix}/+/telemetry`, { qos: 0, handler: live(onTelemetry) })
    .then(live((r) => checkGranted(r)))
    .catch(live(showError));
  c.subscribe(`${prefix}/+/status`, { qos: 1, handler: live(onStatus) })
    .then(live((r) => checkGranted(r)))
    .catch(live(showError));
}

function checkGranted(results) {
  for (const r of results) {
    if (r.reasonCode !== undefined) {
      showBanner('The broker refused a subscription.',
        `${r.topic}: reason code 0x${r.reasonCode.toString(16).toUpperCase()} (not authorized?).`, true);
    }
  }
}

function deviceId(topic) {
  // {prefix}/{id}/{leaf}; the prefix may have several levels.
  const levels = topic.split('/');
  return levels[levels.length - 2];
}

function onTelemetry(topic, payload) {
  let reading;
  try {
    reading = JSON.parse(decoder.decode(payload));
  } catch {
    return;
  }
  if (!reading || typeof reading !== 'object') return;
  const tile = tileFor(deviceId(topic));
  if (tile.status === 'unknown') tile.setStatus('online', Date.now());
  tile.telemetry(reading, Date.now());
  scheduleDraw();
}

function onStatus(topic, payload) {
  const text = decoder.decode(payload).trim().toLowerCase();
  if (!text) return; // a cleared retained message
  const tile = tileFor(deviceId(topic));
  const status = text === 'online' ? 'online' : 'offline';
  if (status === 'offline' && tile.killSentAt !== undefined) {
    const ms = Math.round(performance.now() - tile.killSentAt);
    tile.showReply('ok', `☠ killed: the broker published ${tile.id}'s will ("offline") ${ms} ms after the kill`);
  }
  tile.killSentAt = undefined;
  tile.setStatus(status, Date.now());
  updateDeviceCount();
}

// ----- tiles ---------------------------------------------------------------

function tileFor(id) {
  let tile = tiles.get(id);
  if (tile) return tile;
  tile = new DeviceTile(id, { onCommand: sendCommand, onKill: killDevice });
  tiles.set(id, tile);
  // Keep the grid sorted by id.
  const grid = $('grid');
  const after = [...tiles.keys()].sort().find((other) => other > id);
  grid.insertBefore(tile.root, after ? tiles.get(after).root : null);
  tile.mount();
  updateEmpty();
  updateDeviceCount();
  return tile;
}

function clearTiles() {
  for (const tile of tiles.values()) tile.destroy();
  tiles.clear();
  updateDeviceCount();
  updateEmpty();
}

async function sendCommand(tile, text) {
  const c = client;
  if (!c) return;
  tile.send.disabled = true;
  tile.showReply('pending', `→ ${text} … waiting up to ${COMMAND_TIMEOUT_MS / 1000} s for the reply`);
  const started = performance.now();
  try {
    const response = await c.request(`${settings.prefix}/${tile.id}/commands`, text, {
      qos: 1,
      timeout: COMMAND_TIMEOUT_MS,
    });
    const ms = Math.round(performance.now() - started);
    const raw = decoder.decode(response.payload);
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      body = { ok: true, reply: raw };
    }
    if (body.ok === false) tile.showReply('err', `✗ ${text}: ${body.error ?? raw}  (${ms} ms)`);
    else tile.showReply('ok', `✓ ${text}: ${formatReply(body.reply ?? body)}  (${ms} ms)`);
  } catch (e) {
    if (e?.code === 'REQUEST_TIMEOUT') {
      tile.showReply('err', `✗ ${text}: no reply within ${COMMAND_TIMEOUT_MS / 1000} s${tile.status === 'offline' ? ' — the device is offline' : ''}`);
    } else {
      tile.showReply('err', `✗ ${text}: ${e?.message ?? e}${e?.code ? ` (${e.code})` : ''}`);
    }
  } finally {
    tile.send.disabled = false;
  }
}

function formatReply(reply) {
  if (reply && typeof reply === 'object') {
    return Object.entries(reply).map(([k, v]) => `${k} ${v}`).join(' · ');
  }
  return String(reply);
}

async function killDevice(tile) {
  const c = client;
  if (!c) return;
  tile.kill.disabled = true;
  try {
    tile.killSentAt = performance.now();
    await c.publish('sim/kill', tile.id, { qos: 1 });
    if (tile.killSentAt !== undefined) {
      tile.showReply('pending', `☠ kill sent: ${tile.id} drops its socket without DISCONNECT; waiting for its will…`);
    }
  } catch (e) {
    tile.kill.disabled = tile.status !== 'online';
    tile.showReply('err', `✗ kill: ${e?.message ?? e}`);
  }
}

// ----- drawing -------------------------------------------------------------

let drawQueued = false;
function scheduleDraw() {
  if (drawQueued) return;
  drawQueued = true;
  // At most ~8 redraws a second however fast telemetry comes.
  setTimeout(() => requestAnimationFrame(() => {
    drawQueued = false;
    const now = Date.now();
    for (const tile of tiles.values()) tile.draw(now);
  }), 120);
}

// ----- connection state ----------------------------------------------------

let connState = 'connecting';
const LABELS = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
};

function setConnState(state, detail) {
  if (state !== 'reconnecting' && countdown) {
    clearInterval(countdown);
    countdown = null;
  }
  connState = state;
  $('conn').dataset.state = state;
  $('conn-label').textContent = LABELS[state];
  $('conn-detail').textContent = detail ?? '';
  document.title = `${state === 'connected' ? '●' : '○'} wasmqtt · device monitor`;
}

function startCountdown(attempt, delay) {
  const due = Date.now() + delay;
  setConnState('reconnecting', '');
  const show = () => {
    const left = Math.max(0, due - Date.now()) / 1000;
    $('conn-detail').textContent = `attempt ${attempt} in ${left.toFixed(1)} s`;
  };
  show();
  countdown = setInterval(show, 100);
}

// ----- banner --------------------------------------------------------------

function showError(e) {
  const { title, body, settings: offerSettings } = describeError(e, { url: settings.broker, everConnected });
  showBanner(title, body, offerSettings);
  $('banner').dataset.code = e?.code ?? '';
}

function showBanner(title, body, offerSettings) {
  $('banner-title').textContent = title;
  $('banner-body').textContent = body;
  $('banner-settings').hidden = !offerSettings;
  $('banner').hidden = false;
}

function hideBanner() {
  $('banner').hidden = true;
  $('banner').dataset.code = '';
}

function updateEmpty() {
  const empty = $('empty');
  empty.hidden = tiles.size > 0;
  if (tiles.size > 0) return;
  $('empty-text').textContent = connState === 'connected'
    ? `Connected. Waiting for devices to publish on ${settings.prefix}/+/telemetry …`
    : 'Not connected to the broker yet.';
}

function updateDeviceCount() {
  const online = [...tiles.values()].filter((t) => t.status === 'online').length;
  $('m-devices').textContent = `${online} / ${tiles.size}`;
}

function updateFooter() {
  $('f-telemetry').textContent = `${settings.prefix}/+/telemetry`;
  $('f-status').textContent = `${settings.prefix}/+/status`;
}

// ----- metrics -------------------------------------------------------------

let previous = null;
function formatBytes(n) {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
const formatRate = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

function updateMetrics() {
  const m = client?.metrics;
  const now = performance.now();
  if (!m) return;
  const dt = previous ? (now - previous.at) / 1000 : 0;
  const rate = (key) => (previous && dt > 0 ? Math.max(0, (m[key] - previous.m[key]) / dt) : 0);
  $('m-msg-in').textContent = `${formatRate(rate('messagesIn'))}/s`;
  $('m-msg-in-total').textContent = `${m.messagesIn.toLocaleString()} total`;
  $('m-msg-out').textContent = `${formatRate(rate('messagesOut'))}/s`;
  $('m-msg-out-total').textContent = `${m.messagesOut.toLocaleString()} total`;
  $('m-bytes-in').textContent = formatBytes(m.bytesIn);
  $('m-bytes-in-rate').textContent = `${formatBytes(rate('bytesIn'))}/s`;
  $('m-bytes-out').textContent = formatBytes(m.bytesOut);
  $('m-bytes-out-rate').textContent = `${formatBytes(rate('bytesOut'))}/s`;
  $('m-inflight').textContent = String(m.inFlight);
  $('m-queued').textContent = `${m.queued} queued`;
  $('m-rtt').textContent = m.roundTripTime === undefined ? '–' : `${m.roundTripTime} ms`;
  $('m-rtt-sub').textContent = m.roundTripTime === undefined
    ? `after ${KEEPALIVE_S} s idle`
    : 'PINGREQ → PINGRESP';
  $('m-reconnects').textContent = String(m.reconnects);
  previous = { at: now, m };
}

setInterval(() => {
  updateMetrics();
  const now = Date.now();
  for (const tile of tiles.values()) tile.tick(now);
  scheduleDraw();
}, 1000);

// ----- settings form -------------------------------------------------------

const form = $('settings');

function fillForm() {
  form.broker.value = settings.broker;
  form.username.value = settings.username;
  form.password.value = settings.password;
  form.prefix.value = settings.prefix;
  $('default-broker').textContent = defaultBrokerUrl(serverConfig);
}

function toggleSettings(open = form.hidden) {
  form.hidden = !open;
  $('settings-toggle').setAttribute('aria-expanded', String(open));
  if (open) {
    fillForm();
    form.broker.focus();
  }
}

$('settings-toggle').addEventListener('click', () => toggleSettings());
$('banner-settings').addEventListener('click', () => toggleSettings(true));
$('settings-reset').addEventListener('click', () => {
  form.broker.value = defaultBrokerUrl(serverConfig);
  form.username.value = '';
  form.password.value = '';
  form.prefix.value = 'devices';
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  settings = {
    broker: form.broker.value.trim(),
    username: form.username.value.trim(),
    password: form.password.value,
    prefix: cleanPrefix(form.prefix.value) || 'devices',
  };
  saveSettings(settings, serverConfig);
  toggleSettings(false);
  start();
});

// ----- theme ---------------------------------------------------------------

const THEMES = ['auto', 'light', 'dark'];
let theme = (() => {
  try {
    return localStorage.getItem('wasmqtt-dashboard.theme') ?? 'auto';
  } catch {
    return 'auto';
  }
})();

function applyTheme() {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  $('theme-toggle').textContent = `Theme: ${theme}`;
  // Chart axes take their colours from CSS when built.
  for (const tile of tiles.values()) tile.rebuild?.();
  scheduleDraw();
}

$('theme-toggle').addEventListener('click', () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  try {
    localStorage.setItem('wasmqtt-dashboard.theme', theme);
  } catch {
    // Not remembered, then.
  }
  applyTheme();
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => theme === 'auto' && applyTheme());

// ----- go ------------------------------------------------------------------

applyTheme();
start();

// For tests and the curious: window.dashboard.client is the live MqttClient.
window.dashboard = {
  get client() { return client; },
  get state() { return connState; },
  tiles,
  formatAgo,
};
