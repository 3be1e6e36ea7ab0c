// History across reloads: new averages saved in batches, and those loaded at
// start handed to their devices (now, or when first heard of).

import { HISTORY_S } from './history.js';
import { openHistoryDb } from './history-db.js';

export class HistorySync {
  db = null;
  /** Averages waiting to be saved. */
  pending = [];
  /** Loaded averages of devices not seen yet, by id. */
  restored = new Map();
  /** How many averages have been saved. */
  saved = 0;

  /**
   * Opens the store of `prefix` and loads it into `devices` (Map by id),
   * then calls `loaded()`; does nothing more once `isCurrent()` is false.
   */
  async open(prefix, isCurrent, devices, loaded) {
    this.db?.close();
    this.db = null;
    this.pending = [];
    this.restored = new Map();
    const db = await openHistoryDb(prefix, HISTORY_S);
    if (!isCurrent()) {
      db?.close();
      return;
    }
    this.db = db;
    if (!db) return;
    try {
      for (const { id, t, v } of await db.load(Date.now() / 1000)) {
        const device = devices.get(id);
        if (device) device.history.addBucket(t, v);
        else this.restored.set(id, [...(this.restored.get(id) ?? []), { t, v }]);
      }
    } catch {
      // A broken store only costs the old history.
    }
    loaded();
  }

  /** Gives a device heard of for the first time what was loaded for it. */
  restore(device) {
    for (const { t, v } of this.restored.get(device.id) ?? []) device.history.addBucket(t, v);
    this.restored.delete(device.id);
  }

  /** A finished average (History bucket) of device `id`, to be saved. */
  record(id, bucket) {
    this.pending.push({ id, t: bucket.t, v: bucket.values });
  }

  async save() {
    if (!this.db || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.db.save(batch, Date.now() / 1000);
      this.saved += batch.length;
    } catch {
      // Dropped: the next save tries again with newer averages.
    }
  }
}
