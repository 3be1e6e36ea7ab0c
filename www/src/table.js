// The fleet table: one compact row per device, sortable and filterable.
// Rows are built once and updated in place; the order is recomputed only
// when asked (a sort or filter change, or the once-a-second resort), so
// rows do not jump under the pointer with every message. Only the rows in
// view (and a few around them) are in the document: 500 devices cost the
// layout of about thirty rows.

import { el, setText } from './frame.js';
import { STATE_RANK } from './fleet.js';
import { formatAgo } from './tile.js';

const NUMERIC = {
  temperature: 1,
  humidity: 0,
  battery: 1,
  rssi: 0,
};
/** Row height in px: fixed in style.css (.fleet-table tbody tr). */
const ROW_H = 30;
const OVERSCAN = 8;

export class FleetTable {
  constructor(table, { onToggle, isSelected, onScroll }) {
    this.table = table;
    this.body = table.tBodies[0];
    this.scroller = table.parentElement;
    this.scroller.addEventListener('scroll', onScroll, { passive: true });
    const spacer = () => el('tr', { class: 'spacer', 'aria-hidden': 'true' }, el('td'));
    this.above = spacer();
    this.below = spacer();
    this.shown = [];
    this.rows = new Map();
    this.order = [];
    this.sort = { key: 'state', dir: 1 };
    this.filter = { name: '', state: '', breach: '' };
    this.onToggle = onToggle;
    this.isSelected = isSelected;
    for (const th of table.tHead.querySelectorAll('th[data-sort]')) {
      th.querySelector('button').addEventListener('click', () => this.sortBy(th.dataset.sort));
    }
  }

  sortBy(key) {
    this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 };
    for (const th of this.table.tHead.querySelectorAll('th[data-sort]')) {
      if (th.dataset.sort === key) th.setAttribute('aria-sort', this.sort.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    this.reorder = true;
  }

  setFilter(filter) {
    this.filter = filter;
    this.reorder = true;
  }

  row(device) {
    let row = this.rows.get(device.id);
    if (row) return row;
    const pick = el('input', { type: 'checkbox', 'aria-label': `Chart ${device.id}` });
    pick.addEventListener('change', () => this.onToggle(device.id, pick.checked));
    row = {
      device,
      pick,
      tr: el('tr', { dataset: { device: device.id } }),
      state: el('span', { class: 'badge' }),
      values: Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, el('td', { class: 'num' })])),
      last: el('td', { class: 'num' }),
    };
    row.tr.append(el('td', { class: 'pick' }, pick), el('th', { scope: 'row' }, device.id), el('td', {}, row.state),
      ...Object.values(row.values), row.last);
    this.rows.set(device.id, row);
    this.reorder = true;
    return row;
  }

  remove(id) {
    this.rows.get(id)?.tr.remove();
    this.rows.delete(id);
    this.reorder = true;
  }

  /**
   * Updates one device's row (call from a frame). A row out of view is
   * only marked, and brought up to date when it scrolls into view.
   */
  update(device, alertLevel, now) {
    const row = this.row(device);
    row.alertLevel = alertLevel;
    if (!row.tr.isConnected) {
      row.pending = true;
      return;
    }
    this.refresh(row, now);
  }

  refresh(row, now) {
    row.pending = false;
    const { device, alertLevel } = row;
    const state = device.state;
    if (row.tr.dataset.state !== state) {
      row.tr.dataset.state = state;
      row.state.dataset.status = state;
      row.state.textContent = state;
    }
    if ((row.tr.dataset.alert ?? '') !== alertLevel) {
      if (alertLevel) row.tr.dataset.alert = alertLevel;
      else delete row.tr.dataset.alert;
    }
    const r = device.latest ?? {};
    for (const [key, digits] of Object.entries(NUMERIC)) {
      const v = r[key];
      setText(row.values[key], Number.isFinite(v) ? v.toFixed(digits) : '–');
      row.values[key].classList.toggle('breach', key in device.breaches);
    }
    setText(row.last, device.lastAt ? `${formatAgo(now - device.lastAt)} ago` : '–');
    row.last.classList.toggle('breach', 'stale' in device.breaches);
    row.pick.checked = this.isSelected(device.id);
  }

  matches(device) {
    const { name, state, breach } = this.filter;
    if (name && !device.id.toLowerCase().includes(name.toLowerCase())) return false;
    if (state && device.state !== state) return false;
    if (breach && !(breach in device.breaches)) return false;
    return true;
  }

  compare(a, b) {
    const { key, dir } = this.sort;
    const value = (d) => {
      if (key === 'id') return d.id;
      if (key === 'state') return STATE_RANK[d.state] ?? 9;
      if (key === 'lastAt') return d.lastAt;
      const v = d.latest?.[key];
      return Number.isFinite(v) ? v : -Infinity;
    };
    const va = value(a);
    const vb = value(b);
    const c = va < vb ? -1 : va > vb ? 1 : 0;
    return c * dir || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  /** Re-sorts and re-filters the rows; returns how many match. */
  arrange() {
    this.reorder = false;
    const devices = [...this.rows.values()].map((r) => r.device).filter((d) => this.matches(d));
    devices.sort((a, b) => this.compare(a, b));
    this.order = devices.map((d) => d.id);
    this.scrolled();
    return this.order.length;
  }

  /** Puts the rows in view into the document (after a scroll or arrange). */
  scrolled() {
    const view = Math.ceil((this.scroller.clientHeight || 600) / ROW_H);
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(this.order.length, first + view + 2 * OVERSCAN);
    const shown = this.order.slice(first, last);
    if (shown.length === this.shown.length && shown.every((id, i) => id === this.shown[i])) return;
    this.shown = shown;
    this.above.style.height = `${first * ROW_H}px`;
    this.below.style.height = `${(this.order.length - last) * ROW_H}px`;
    const rows = shown.map((id) => this.rows.get(id));
    const now = Date.now();
    for (const row of rows) if (row.pending) this.refresh(row, now);
    this.body.replaceChildren(this.above, ...rows.map((row) => row.tr), this.below);
  }
}
