// The dashboard: one wasmqtt client, a fleet table, alerts, detail tiles
// with history, and a topic explorer. This file only wires the parts together.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { AlertList } from './alert-list.js';
import { Alerts } from './alerts.js';
import { Commands } from './commands.js';
import { Connection, KEEPALIVE_S } from './connection.js';
import { wireControls } from './controls.js';
import { Details } from './details.js';
import { Explorer } from './explorer.js';
import { FleetState } from './fleet-state.js';
import { $, onFrame } from './frame.js';
import { HistorySync } from './history-sync.js';
import { MetricsBar } from './metrics.js';
import { loadServerConfig, readSettings } from './settings.js';
import { wireSettingsForm } from './settings-form.js';
import { connState, updateEmpty } from './status.js';
import { FleetTable } from './table.js';
import { wireTabs } from './tabs.js';
import { wireTheme } from './theme.js';
import { formatAgo } from './tile.js';
import { View } from './view.js';

const SAVE_EVERY_MS = 10_000;

const serverConfig = await loadServerConfig();

// The parts call each other only through the callbacks given here.
const alerts = new Alerts();
const history = new HistorySync();
const metrics = new MetricsBar(KEEPALIVE_S);
const changed = (id) => view.changed(id);
const emptyChanged = () => updateEmpty(fleet.devices.size, connection.settings.prefix);
const connection = new Connection(readSettings(serverConfig), {
  reset: () => fleet.clear(),
  opened: (prefix, isCurrent) => history.open(prefix, isCurrent, fleet.devices, () => {
    for (const id of details.tiles.keys()) changed(id);
  }),
  stateChanged: emptyChanged,
  telemetry: (topic, payload) => fleet.onTelemetry(topic, payload),
  status: (topic, payload) => fleet.onStatus(topic, payload),
  attach: (client, live, prefix) => explorer.attach(client, live, prefix),
});
const commands = new Commands(connection);
const details = new Details({
  device: (id) => fleet.devices.get(id),
  alerts,
  changed,
  onCommand: commands.send,
  onKill: commands.kill,
});
const table = new FleetTable($('fleet-table'), {
  onToggle: (id, on) => details.select(id, on),
  isSelected: (id) => details.selected.has(id),
  onScroll: () => onFrame(() => table.scrolled()),
});
const explorer = new Explorer();
const fleet = new FleetState({
  table, alerts, history, details, commands, changed, sizeChanged: emptyChanged,
});
const alertList = new AlertList(alerts, {
  thresholds: () => view.thresholds,
  changed,
  ackedAll: () => view.redraw(fleet.devices.keys()),
});
const view = new View({ fleet, details, alerts, table, alertList, metrics });

wireControls({ view, table, details });
wireTabs((tab) => (tab.id === 'tab-explorer' ? onFrame(explorer.draw) : view.tick()));
wireSettingsForm(serverConfig, connection);
setInterval(() => history.save(), SAVE_EVERY_MS);
setInterval(() => {
  metrics.update(connection.client?.metrics);
  view.tick();
}, 1000);
// Chart axes take their colours from CSS when built.
wireTheme(() => {
  for (const tile of details.tiles.values()) tile.rebuild?.();
  view.redraw(details.tiles.keys());
});

connection.start();

// For tests and the curious: window.dashboard.client is this tab's client of
// the shared connection (wasmqtt/shared).
window.dashboard = {
  get client() { return connection.client; },
  get state() { return connState(); },
  get historySaved() { return history.saved; },
  devices: fleet.devices,
  tiles: details.tiles,
  alerts,
  table,
  formatAgo,
};
