// Every device heard of, made from the first message naming it and fed by
// the telemetry and status subscriptions.

import { Device } from './fleet.js';

const decoder = new TextDecoder();

/** {prefix}/{id}/{leaf}; the prefix may have several levels. */
function deviceId(topic) {
  const levels = topic.split('/');
  return levels[levels.length - 2];
}

export class FleetState {
  /** Every device heard of, by id. */
  devices = new Map();
  /** Whether the count of online devices needs showing again. */
  countChanged = true;

  /**
   * `table`, `alerts`, `history` (HistorySync), `details`, `commands`: kept
   * in step; `changed(id)`: redraw a device; `sizeChanged()`: the fleet
   * became empty or stopped being empty.
   */
  constructor({ table, alerts, history, details, commands, changed, sizeChanged }) {
    Object.assign(this, { table, alerts, history, details, commands, changed, sizeChanged });
  }

  /** Handler of {prefix}/+/telemetry: a JSON reading. */
  onTelemetry = (topic, payload) => {
    let reading;
    try {
      reading = JSON.parse(decoder.decode(payload));
    } catch {
      return;
    }
    if (!reading || typeof reading !== 'object') return;
    const now = Date.now();
    const device = this.deviceFor(deviceId(topic), now);
    if (device.status === 'unknown') device.setStatus('online', now);
    const bucket = device.telemetry(reading, now);
    if (bucket) this.history.record(device.id, bucket);
    this.changed(device.id);
  };

  /** Handler of {prefix}/+/status: "online", or the will "offline". */
  onStatus = (topic, payload) => {
    const text = decoder.decode(payload).trim().toLowerCase();
    if (!text) return; // a cleared retained message
    const now = Date.now();
    const device = this.deviceFor(deviceId(topic), now);
    const status = text === 'online' ? 'online' : 'offline';
    this.commands.statusHeard(this.details.tiles.get(device.id), status);
    if (device.setStatus(status, now)) {
      this.countChanged = true;
      this.table.reorder = true;
    }
    this.changed(device.id);
  };

  deviceFor(id, now) {
    let device = this.devices.get(id);
    if (device) return device;
    device = new Device(id, now);
    this.history.restore(device);
    this.devices.set(id, device);
    this.details.added(device);
    this.countChanged = true;
    this.sizeChanged();
    return device;
  }

  /** Forgets every device (a new connection). */
  clear() {
    this.details.clear();
    for (const id of this.devices.keys()) {
      this.table.remove(id);
      this.alerts.forget(id);
    }
    this.devices.clear();
    this.countChanged = true;
    this.sizeChanged();
  }
}
