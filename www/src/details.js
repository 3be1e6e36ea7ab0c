// The detail view: a tile with charts for each selected device, the time
// window the charts show, and that window's data as CSV.

import { FIELDS } from './history.js';
import { $, el } from './frame.js';
import { recall, remember } from './stored.js';
import { DeviceTile } from './tile.js';

/** Detail tiles at most; ticking another drops the oldest. */
const MAX_TILES = 8;
/** Tiles shown before anyone picks: a first look at the charts. */
const FIRST_TILES = 4;
const SELECTED_KEY = 'wasmqtt-dashboard.selected';
const RANGE_KEY = 'wasmqtt-dashboard.range';

export class Details {
  /** Tiles of the selected devices, by id. */
  tiles = new Map();
  /** Ids ticked, oldest first; `saved` once anyone has picked. */
  selected = loadSelection();
  /** Seconds of history the charts show. */
  range = loadRange();

  /**
   * `device(id)`: a known device or undefined; `alerts`: for a new tile's state;
   * `changed(id)`: redraw that device; `onCommand`, `onKill`: a tile's buttons.
   */
  constructor({ device, alerts, changed, onCommand, onKill }) {
    this.device = device;
    this.alerts = alerts;
    this.changed = changed;
    this.tileActions = { onCommand, onKill, onClose: (id) => this.select(id, false) };
  }

  /** A device first heard of: shown if picked, or among the first few. */
  added(device) {
    const { selected } = this;
    if (!selected.saved && selected.size < FIRST_TILES) selected.add(device.id);
    if (selected.has(device.id)) this.show(device);
  }

  select(id, on) {
    const { selected } = this;
    if (on) {
      selected.add(id);
      // Oldest out: a Set keeps insertion order.
      for (const old of [...selected].slice(0, Math.max(0, selected.size - MAX_TILES))) this.select(old, false);
      const device = this.device(id);
      if (device) this.show(device);
    } else {
      selected.delete(id);
      this.tiles.get(id)?.destroy();
      this.tiles.delete(id);
    }
    selected.saved = true;
    remember(SELECTED_KEY, JSON.stringify([...selected]));
    this.changed(id);
    this.updateHint();
  }

  show(device) {
    const { tiles } = this;
    if (tiles.has(device.id)) return;
    const tile = new DeviceTile(device, this.tileActions);
    tiles.set(device.id, tile);
    // Keep the grid sorted by id.
    const after = [...tiles.keys()].sort().find((other) => other > device.id);
    $('grid').insertBefore(tile.root, after ? tiles.get(after).root : null);
    tile.mount();
    tile.update(this.alerts.level(device.id), Date.now());
    tile.draw(this.range, Date.now());
    this.updateHint();
  }

  /** All tiles go (a new connection); the selection stays. */
  clear() {
    for (const tile of this.tiles.values()) tile.destroy();
    this.tiles.clear();
  }

  updateHint() {
    $('details-hint').hidden = this.tiles.size > 0;
  }

  setRange(seconds) {
    this.range = seconds;
    remember(RANGE_KEY, String(seconds));
  }

  /** What the detail charts show, as CSV: one line per reading per device. */
  exportCsv() {
    const now = Date.now() / 1000;
    const lines = ['device,time,temperature_c,humidity_pct,battery_pct,rssi_dbm'];
    for (const id of [...this.tiles.keys()].sort()) {
      const data = this.device(id).history.view(this.range, now);
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
}

function loadSelection() {
  try {
    const saved = JSON.parse(recall(SELECTED_KEY, 'null'));
    if (Array.isArray(saved)) return Object.assign(new Set(saved.map(String)), { saved: true });
  } catch {
    // Start over.
  }
  return Object.assign(new Set(), { saved: false });
}

function loadRange() {
  return Number(recall(RANGE_KEY, null)) || 120;
}
