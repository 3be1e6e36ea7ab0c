// Thresholds set in the page, and the alerts they raise: each stays listed
// until acknowledged and cleared.

import { recall, remember } from './stored.js';

const KEY = 'wasmqtt-dashboard.thresholds';
export const DEFAULT_THRESHOLDS = { batteryBelow: 20, temperatureAbove: 35, staleAfterS: 5 };

export const KINDS = {
  battery: { label: 'battery low', unit: '%' },
  temperature: { label: 'temperature high', unit: '°C' },
  stale: { label: 'no data', unit: 's' },
};

export function loadThresholds() {
  try {
    const saved = JSON.parse(recall(KEY, '{}'));
    const out = { ...DEFAULT_THRESHOLDS };
    for (const key of Object.keys(out)) if (Number.isFinite(saved?.[key])) out[key] = saved[key];
    return out;
  } catch {
    return { ...DEFAULT_THRESHOLDS };
  }
}

export function saveThresholds(thresholds) {
  remember(KEY, JSON.stringify(thresholds));
}

/**
 * What a device breaches now: { battery?, temperature?, stale? } with the
 * offending value. Stale is judged by the page's own clock, so a silent
 * device is flagged long before the broker's Keep Alive check gives up on it.
 */
export function breaches(device, th, now) {
  const out = {};
  if (device.status === 'offline') return out;
  const r = device.latest;
  if (r && Number.isFinite(r.battery) && r.battery < th.batteryBelow) out.battery = r.battery;
  if (r && Number.isFinite(r.temperature) && r.temperature > th.temperatureAbove) out.temperature = r.temperature;
  const silentMs = now - (device.lastAt || device.statusSince);
  if (device.status === 'online' && silentMs > th.staleAfterS * 1000) out.stale = Math.round(silentMs / 1000);
  return out;
}

export class Alerts {
  constructor() {
    /** key `${id}:${kind}` → { key, id, kind, value, since, active, acked } */
    this.items = new Map();
    this.version = 0;
  }

  /** Brings a device's alerts in line with what it breaches now. */
  update(id, found, now) {
    for (const kind of Object.keys(KINDS)) {
      const key = `${id}:${kind}`;
      const item = this.items.get(key);
      if (kind in found) {
        // The value shown is the one that raised it: the list stays put while readings move.
        if (!item || !item.active) {
          this.items.set(key, { key, id, kind, value: found[kind], since: now, active: true, acked: false });
          this.version++;
        }
      } else if (item?.active) {
        item.active = false;
        if (item.acked) this.items.delete(key);
        this.version++;
      }
    }
  }

  ack(key) {
    const item = this.items.get(key);
    if (!item) return;
    if (item.active) item.acked = true;
    else this.items.delete(key);
    this.version++;
  }

  ackAll() {
    for (const key of [...this.items.keys()]) this.ack(key);
  }

  forget(id) {
    for (const kind of Object.keys(KINDS)) this.items.delete(`${id}:${kind}`);
    this.version++;
  }

  /** 'raised' (active, not acknowledged), 'acked', or '' for a device. */
  level(id) {
    let level = '';
    for (const kind of Object.keys(KINDS)) {
      const item = this.items.get(`${id}:${kind}`);
      if (item?.active && !item.acked) return 'raised';
      if (item?.active) level = 'acked';
    }
    return level;
  }

  /** Unacknowledged first, newest first. */
  sorted() {
    return [...this.items.values()].sort((a, b) => (a.acked - b.acked) || (b.since - a.since));
  }
}
