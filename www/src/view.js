// Drawing: messages only mark devices as changed, and those are redrawn at
// most once per animation frame; once a second everything ages (staleness,
// "last seen", the charts' window).

import { breaches, loadThresholds } from './alerts.js';
import { $, onFrame, setText } from './frame.js';

export class View {
  /** Ids of the devices to redraw in the next frame. */
  dirty = new Set();
  thresholds = loadThresholds();

  /** `fleet` (FleetState), `details`, `alerts`, `table`, `alertList`, `metrics`: what is drawn. */
  constructor({ fleet, details, alerts, table, alertList, metrics }) {
    Object.assign(this, { fleet, details, alerts, table, alertList, metrics });
  }

  changed = (id) => {
    this.dirty.add(id);
    onFrame(this.paint);
  };

  /** Redraws these devices (and whatever else changed) in the next frame. */
  redraw(ids = []) {
    for (const id of ids) this.dirty.add(id);
    onFrame(this.paint);
  }

  /** Everything again, re-sorting the table: time has passed. */
  tick = () => {
    this.table.reorder = true;
    this.redraw(this.fleet.devices.keys());
  };

  paint = () => {
    const { fleet, details, alerts, table } = this;
    const { devices } = fleet;
    const now = Date.now();
    for (const id of this.dirty) {
      const device = devices.get(id);
      if (!device) continue;
      device.breaches = breaches(device, this.thresholds, now);
      alerts.update(id, device.breaches, now);
      const level = alerts.level(id);
      table.update(device, level, now);
      const tile = details.tiles.get(id);
      if (tile) {
        tile.update(level, now);
        tile.draw(details.range, now);
      }
    }
    this.dirty.clear();
    if (table.reorder) setText($('fleet-count'), `${table.arrange()} of ${devices.size} shown`);
    this.alertList.paint();
    if (fleet.countChanged) {
      fleet.countChanged = false;
      this.metrics.showDevices(devices);
    }
  };
}
