// The alert list: most urgent first, each with Ack (or Clear once over);
// items are reused by key so a button is never swapped under the pointer.

import { KINDS } from './alerts.js';
import { $, el, setText } from './frame.js';

const ALERTS_SHOWN = 100;

export class AlertList {
  /** The Alerts version last drawn. */
  shown = -1;
  /** Drawn items by alert key, with the state they show. */
  items = new Map();

  /**
   * `thresholds()`: the current ones; `changed(id)`: a device's alert was
   * acknowledged; `ackedAll()`: all were.
   */
  constructor(alerts, { thresholds, changed, ackedAll }) {
    Object.assign(this, { alerts, thresholds, changed });
    $('alerts-ack-all').addEventListener('click', () => {
      alerts.ackAll();
      ackedAll();
    });
  }

  /** Redraws the list if the alerts changed since last time. */
  paint() {
    if (this.shown === this.alerts.version) return;
    this.shown = this.alerts.version;
    const items = this.alerts.sorted();
    const open = items.filter((a) => !a.acked).length;
    setText($('alert-count'), items.length ? `${open} new · ${items.length} listed` : 'none');
    $('alerts-ack-all').disabled = open === 0;
    const shown = items.slice(0, ALERTS_SHOWN);
    const keep = new Set(shown.map((a) => a.key));
    for (const key of this.items.keys()) if (!keep.has(key)) this.items.delete(key);
    const nodes = shown.map((a) => this.item(a));
    const list = $('alert-list');
    if (nodes.length !== list.children.length || nodes.some((n, i) => list.children[i] !== n)) list.replaceChildren(...nodes);
    const more = items.length - ALERTS_SHOWN;
    $('alert-more').hidden = more <= 0;
    $('alert-more').textContent = `… and ${more} more (filter the table by threshold to see them all)`;
  }

  item(a) {
    const kind = KINDS[a.kind];
    const state = `${a.active}/${a.acked}`;
    const old = this.items.get(a.key);
    if (old?.state === state) return old.li;
    const value = a.kind === 'stale'
      ? `over ${this.thresholds().staleAfterS} s without data`
      : `${Number(a.value).toFixed(1)} ${kind.unit}`;
    let action;
    if (a.acked) action = el('span', { class: 'muted small' }, 'acknowledged');
    else {
      action = el('button', { type: 'button', class: 'ghost small', 'aria-label': `Acknowledge ${a.id} ${kind.label}` },
        a.active ? 'Ack' : 'Clear');
      action.addEventListener('click', () => {
        this.alerts.ack(a.key);
        this.changed(a.id);
      });
    }
    const li = el('li', { dataset: { key: a.key, device: a.id, kind: a.kind, acked: String(a.acked), active: String(a.active) } },
      el('span', { class: 'alert-dev' }, a.id),
      el('span', { class: 'alert-what' }, `${kind.label}: ${value}`),
      el('span', { class: 'alert-when muted' }, a.active ? `since ${new Date(a.since).toLocaleTimeString([], { hour12: false })}` : 'cleared'),
      action);
    this.items.set(a.key, { li, state });
    return li;
  }
}
