// The dashboard: one wasmqtt client, a fleet table, alerts, detail tiles
// with history, and a topic explorer.

import 'uplot/dist/uPlot.min.css';
import './style.css';
// Where the page gets its connection: a connection shared by the tabs of
// this page would come from the package's shared entry point here instead.
import { connect } from 'wasmqtt';
import { DeviceTile, formatAgo } from './tile.js';
import { describeError } from './errors.js';
import { cleanPrefix, defaultBrokerUrl, loadServerConfig, readSettings, saveSettings } from './settings.js';
import { Device } from './fleet.js';
import { FleetTable } from './table.js';
import { Alerts, KINDS, breaches, loadThresholds, saveThresholds } from './alerts.js';
import { FIELDS, HISTORY_S } from './history.js';
import { openHistoryDb } from './history-db.js';
import { Explorer } from './explorer.js';
import { confirmAction } from './confirm.js';
import { el, onFrame, setText } from './frame.js';

const $ = (id) => document.getElementById(id);
const COMMAND_TIMEOUT_MS = 5000;
const KEEPALIVE_S = 10;
/** Detail tiles at most; ticking another drops the oldest. */
const MAX_TILES = 8;
/** Tiles shown before anyone picks: a first look at the charts. */
const FIRST_TILES = 4;
const SAVE_EVERY_MS = 10_000;
const ALERTS_SHOWN = 100;

const serverConfig = await loadServerConfig();
let settings = readSettings(serverConfig);

// ----- state ---------------------------------------------------------------

let client = null;
/** Bumped for every new client, so late events of an old one are ignored. */
let generation = 0;
let everConnected = false;
let countdown = null;
/** Every device heard of, by id. */
const devices = new Map();
/** Detail tiles of the selected devices, by id. */
const tiles = new Map();
const dirty = new Set();
const alerts = new Alerts();
let thresholds = loadThresholds();
let range = (() => {
  try {
    return Number(localStorage.getItem('wasmqtt-dashboard.range')) || 120;
  } catch {
    return 120;
  }
})();
let selected = loadSelection();
const decoder = new TextDecoder();
const table = new FleetTable($('fleet-table'), {
  onToggle: (id, on) => select(id, on),
  isSelected: (id) => selected.has(id),
  onScroll: () => onFrame(() => table.scrolled()),
});
const explorer = new Explorer();

/** History: averages waiting to be saved, and those loaded for devices not seen yet. */
let historyDb = null;
let pending = [];
let restored = new Map();
let historySaved = 0;

// ----- connection ----------------------------------------------------------

function start() {
  const gen = ++generation;
  const old = client;
  client = null;
  old?.end(true).catch(() => {});
  everConnected = false;
  clearDevices();
  hideBanner();
  updateFooter();
  setConnState('connecting', `to ${settings.broker}`);
  openHistory(gen);

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
  explorer.attach(c, live, prefix);
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
  const now = Date.now();
  const device = deviceFor(deviceId(topic), now);
  if (device.status === 'unknown') device.setStatus('online', now);
  const bucket = device.telemetry(reading, now);
  if (bucket) pending.push({ id: device.id, t: bucket.t, v: bucket.values });
  changed(device.id);
}

function onStatus(topic, payload) {
  const text = decoder.decode(payload).trim().toLowerCase();
  if (!text) return; // a cleared retained message
  const now = Date.now();
  const device = deviceFor(deviceId(topic), now);
  const status = text === 'online' ? 'online' : 'offline';
  const tile = tiles.get(device.id);
  if (tile && status === 'offline' && tile.killSentAt !== undefined) {
    const ms = Math.round(performance.now() - tile.killSentAt);
    tile.showReply('ok', `☠ killed: the broker published ${tile.id}'s will ("offline") ${ms} ms after the kill`);
  }
  if (tile) {
    tile.killSentAt = undefined;
    tile.killing = false;
  }
  if (device.setStatus(status, now)) {
    countChanged = true;
    table.reorder = true;
  }
  changed(device.id);
}

// ----- devices, selection, tiles ---------------------------------------------

function deviceFor(id, now) {
  let device = devices.get(id);
  if (device) return device;
  device = new Device(id, now);
  for (const { t, v } of restored.get(id) ?? []) device.history.addBucket(t, v);
  restored.delete(id);
  devices.set(id, device);
  if (!selected.saved && selected.size < FIRST_TILES) selected.add(id);
  if (selected.has(id)) showTile(device);
  countChanged = true;
  updateEmpty();
  return device;
}

function clearDevices() {
  for (const tile of tiles.values()) tile.destroy();
  tiles.clear();
  for (const id of devices.keys()) {
    table.remove(id);
    alerts.forget(id);
  }
  devices.clear();
  countChanged = true;
  updateEmpty();
}

function loadSelection() {
  try {
    const saved = JSON.parse(localStorage.getItem('wasmqtt-dashboard.selected') ?? 'null');
    if (Array.isArray(saved)) return Object.assign(new Set(saved.map(String)), { saved: true });
  } catch {
    // Start over.
  }
  return Object.assign(new Set(), { saved: false });
}

function select(id, on) {
  if (on) {
    selected.add(id);
    // Oldest out: a Set keeps insertion order.
    for (const old of [...selected].slice(0, Math.max(0, selected.size - MAX_TILES))) select(old, false);
    const device = devices.get(id);
    if (device) showTile(device);
  } else {
    selected.delete(id);
    tiles.get(id)?.destroy();
    tiles.delete(id);
  }
  selected.saved = true;
  try {
    localStorage.setItem('wasmqtt-dashboard.selected', JSON.stringify([...selected]));
  } catch {
    // Not remembered, then.
  }
  changed(id);
  updateDetailsHint();
}

function showTile(device) {
  if (tiles.has(device.id)) return;
  const tile = new DeviceTile(device, { onCommand: sendCommand, onKill: killDevice, onClose: (id) => select(id, false) });
  tiles.set(device.id, tile);
  // Keep the grid sorted by id.
  const after = [...tiles.keys()].sort().find((other) => other > device.id);
  $('grid').insertBefore(tile.root, after ? tiles.get(after).root : null);
  tile.mount();
  tile.update(alerts.level(device.id), Date.now());
  tile.draw(range, Date.now());
  updateDetailsHint();
}

function updateDetailsHint() {
  $('details-hint').hidden = tiles.size > 0;
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
  const sure = await confirmAction(`Kill ${tile.id}?`,
    `The simulated device drops its connection without saying goodbye, as a crash would; `
    + `the broker then publishes its will ("offline"). It comes back after its revive delay.`,
    `Kill ${tile.id}`);
  if (!sure || client !== c) return;
  tile.kill.disabled = true;
  tile.killing = true;
  try {
    tile.killSentAt = performance.now();
    await c.publish('sim/kill', tile.id, { qos: 1 });
    if (tile.killSentAt !== undefined) {
      tile.showReply('pending', `☠ kill sent: ${tile.id} drops its socket without DISCONNECT; waiting for its will…`);
    }
  } catch (e) {
    tile.killing = false;
    tile.kill.disabled = tile.status !== 'online';
    tile.showReply('err', `✗ kill: ${e?.message ?? e}`);
  }
}

// ----- drawing: at most once per animation frame ----------------------------

let countChanged = true;
let alertsShown = -1;

function changed(id) {
  dirty.add(id);
  onFrame(paint);
}

function paint() {
  const now = Date.now();
  for (const id of dirty) {
    const device = devices.get(id);
    if (!device) continue;
    device.breaches = breaches(device, thresholds, now);
    alerts.update(id, device.breaches, now);
    const level = alerts.level(id);
    table.update(device, level, now);
    const tile = tiles.get(id);
    if (tile) {
      tile.update(level, now);
      tile.draw(range, now);
    }
  }
  dirty.clear();
  if (table.reorder) setText($('fleet-count'), `${table.arrange()} of ${devices.size} shown`);
  if (alertsShown !== alerts.version) renderAlerts();
  if (countChanged) updateDeviceCount();
}

/** Once a second everything ages: staleness, "last seen", the charts' window. */
function tick() {
  for (const id of devices.keys()) dirty.add(id);
  table.reorder = true;
  onFrame(paint);
}

/** Alert list items by key, reused so a button is never swapped under the pointer. */
const alertItems = new Map();

function renderAlerts() {
  alertsShown = alerts.version;
  const items = alerts.sorted();
  const open = items.filter((a) => !a.acked).length;
  setText($('alert-count'), items.length ? `${open} new · ${items.length} listed` : 'none');
  $('alerts-ack-all').disabled = open === 0;
  const shown = items.slice(0, ALERTS_SHOWN);
  const keep = new Set(shown.map((a) => a.key));
  for (const key of alertItems.keys()) if (!keep.has(key)) alertItems.delete(key);
  const nodes = shown.map(alertItem);
  const list = $('alert-list');
  if (nodes.length !== list.children.length || nodes.some((n, i) => list.children[i] !== n)) list.replaceChildren(...nodes);
  const more = items.length - ALERTS_SHOWN;
  $('alert-more').hidden = more <= 0;
  $('alert-more').textContent = `… and ${more} more (filter the table by threshold to see them all)`;
}

function alertItem(a) {
  const kind = KINDS[a.kind];
  const state = `${a.active}/${a.acked}`;
  const old = alertItems.get(a.key);
  if (old?.state === state) return old.li;
  const value = a.kind === 'stale'
    ? `over ${thresholds.staleAfterS} s without data`
    : `${Number(a.value).toFixed(1)} ${kind.unit}`;
  let action;
  if (a.acked) action = el('span', { class: 'muted small' }, 'acknowledged');
  else {
    action = el('button', { type: 'button', class: 'ghost small', 'aria-label': `Acknowledge ${a.id} ${kind.label}` },
      a.active ? 'Ack' : 'Clear');
    action.addEventListener('click', () => {
      alerts.ack(a.key);
      changed(a.id);
    });
  }
  const li = el('li', { dataset: { key: a.key, device: a.id, kind: a.kind, acked: String(a.acked), active: String(a.active) } },
    el('span', { class: 'alert-dev' }, a.id),
    el('span', { class: 'alert-what' }, `${kind.label}: ${value}`),
    el('span', { class: 'alert-when muted' }, a.active ? `since ${new Date(a.since).toLocaleTimeString([], { hour12: false })}` : 'cleared'),
    action);
  alertItems.set(a.key, { li, state });
  return li;
}

$('alerts-ack-all').addEventListener('click', () => {
  alerts.ackAll();
  for (const id of devices.keys()) dirty.add(id);
  onFrame(paint);
});

// ----- thresholds, filters, range, export -------------------------------------

const thresholdForm = $('thresholds');
for (const [key, value] of Object.entries(thresholds)) thresholdForm.elements[key].value = String(value);
thresholdForm.addEventListener('input', () => {
  const next = { ...thresholds };
  for (const key of Object.keys(next)) {
    const v = thresholdForm.elements[key].valueAsNumber;
    if (Number.isFinite(v)) next[key] = v;
  }
  thresholds = next;
  saveThresholds(thresholds);
  tick();
});
thresholdForm.addEventListener('submit', (e) => e.preventDefault());

const filterForm = $('fleet-filter');
filterForm.addEventListener('input', () => {
  table.setFilter({ name: filterForm.elements.name.value.trim(), state: filterForm.elements.state.value, breach: filterForm.elements.breach.value });
  onFrame(paint);
});
filterForm.addEventListener('submit', (e) => e.preventDefault());
for (const th of $('fleet-table').tHead.querySelectorAll('th[data-sort] button')) th.addEventListener('click', () => onFrame(paint));

$('range').value = String(range);
$('range').addEventListener('change', () => {
  range = Number($('range').value);
  try {
    localStorage.setItem('wasmqtt-dashboard.range', String(range));
  } catch {
    // Not remembered, then.
  }
  for (const id of tiles.keys()) dirty.add(id);
  onFrame(paint);
});

/** What the detail charts show, as CSV: one line per reading per device. */
function exportCsv() {
  const now = Date.now() / 1000;
  const lines = ['device,time,temperature_c,humidity_pct,battery_pct,rssi_dbm'];
  for (const id of [...tiles.keys()].sort()) {
    const data = devices.get(id).history.view(range, now);
    data.t.forEach((t, i) => {
      lines.push([id, new Date(t * 1000).toISOString(), ...FIELDS.map((k) => data[k][i] ?? '')].join(','));
    });
  }
  const url = URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' }));
  const a = el('a', { href: url, download: `wasmqtt-history-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
$('export-csv').addEventListener('click', exportCsv);

// ----- history across reloads -------------------------------------------------

async function openHistory(gen) {
  historyDb?.close();
  historyDb = null;
  pending = [];
  restored = new Map();
  const db = await openHistoryDb(settings.prefix, HISTORY_S);
  if (gen !== generation) {
    db?.close();
    return;
  }
  historyDb = db;
  if (!db) return;
  try {
    for (const { id, t, v } of await db.load(Date.now() / 1000)) {
      const device = devices.get(id);
      if (device) device.history.addBucket(t, v);
      else restored.set(id, [...(restored.get(id) ?? []), { t, v }]);
    }
  } catch {
    // A broken store only costs the old history.
  }
  for (const id of tiles.keys()) changed(id);
}

async function saveHistory() {
  if (!historyDb || pending.length === 0) return;
  const batch = pending;
  pending = [];
  try {
    await historyDb.save(batch, Date.now() / 1000);
    historySaved += batch.length;
  } catch {
    // Dropped: the next save tries again with newer averages.
  }
}
setInterval(saveHistory, SAVE_EVERY_MS);

// ----- tabs ------------------------------------------------------------------

const tabs = [$('tab-fleet'), $('tab-explorer')];
function showTab(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !on;
  }
  if (tab.id === 'tab-explorer') onFrame(explorer.draw);
  else tick();
}
for (const t of tabs) {
  t.addEventListener('click', () => showTab(t));
  t.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const next = tabs[(tabs.indexOf(t) + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    showTab(next);
  });
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
  empty.hidden = devices.size > 0;
  if (devices.size > 0) return;
  $('empty-text').textContent = connState === 'connected'
    ? `Connected. Waiting for devices to publish on ${settings.prefix}/+/telemetry …`
    : 'Not connected to the broker yet.';
}

function updateDeviceCount() {
  countChanged = false;
  let online = 0;
  for (const d of devices.values()) if (d.status === 'online') online++;
  $('m-devices').textContent = `${online} / ${devices.size}`;
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
  tick();
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
  for (const [id, tile] of tiles) {
    tile.rebuild?.();
    dirty.add(id);
  }
  onFrame(paint);
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
  get historySaved() { return historySaved; },
  devices,
  tiles,
  alerts,
  table,
  formatAgo,
};
