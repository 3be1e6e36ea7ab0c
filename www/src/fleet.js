// What the page knows about each device, whatever is on screen.

import { History } from './history.js';

/** Worst first: the order of the table's default sort. */
export const STATE_RANK = { offline: 0, alert: 1, stale: 2, unknown: 3, online: 4 };

export class Device {
  constructor(id, now) {
    this.id = id;
    this.status = 'unknown';
    this.statusSince = now;
    this.lastAt = 0;
    this.count = 0;
    this.latest = null;
    this.history = new History();
    /** From alerts.breaches(): what it breaches now. */
    this.breaches = {};
  }

  /** offline, stale, alert, online or unknown. */
  get state() {
    if (this.status !== 'online') return this.status;
    if ('stale' in this.breaches) return 'stale';
    if ('battery' in this.breaches || 'temperature' in this.breaches) return 'alert';
    return 'online';
  }

  /** A reading arrived; returns the history bucket it completed, if any. */
  telemetry(reading, now) {
    const ts = Number.isFinite(reading.ts) && Math.abs(reading.ts - now) < 60_000 ? reading.ts : now;
    this.latest = reading;
    this.lastAt = now;
    this.count++;
    return this.history.add(ts / 1000, reading);
  }

  /** Returns whether it changed. */
  setStatus(status, now) {
    if (status === this.status) return false;
    this.status = status;
    this.statusSince = now;
    return true;
  }
}
