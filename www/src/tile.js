// The detail view of one device: its readings, two charts over the chosen
// range (with legends and units), a command box and Kill.

import uPlot from 'uplot';
import { el, setText } from './frame.js';

const MIN_WINDOW_S = 10;

export const SERIES = {
  temperature: { label: 'Temperature', unit: '°C', color: '#f97316', digits: 1 },
  humidity: { label: 'Humidity', unit: '%', color: '#0ea5e9', digits: 0 },
  battery: { label: 'Battery', unit: '%', color: '#22c55e', digits: 0 },
  rssi: { label: 'Signal', unit: 'dBm', color: '#a855f7', digits: 0 },
};

function themeColors() {
  const css = getComputedStyle(document.documentElement);
  return {
    axis: css.getPropertyValue('--chart-axis').trim() || '#888',
    grid: css.getPropertyValue('--chart-grid').trim() || 'rgba(128,128,128,.15)',
  };
}

const two = (n) => String(n).padStart(2, '0');
function clock(seconds) {
  const d = new Date(seconds * 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function chartOptions(width, height, left, right, { timeLabels }) {
  const { axis, grid } = themeColors();
  const a = SERIES[left];
  const b = SERIES[right];
  const font = '11px system-ui, sans-serif';
  return {
    width,
    height,
    legend: { show: true, live: false },
    cursor: { show: false },
    padding: [6, 4, 0, 0],
    scales: {
      x: { time: true },
      [left]: { auto: true, range: (u, min, max) => pad(min, max, left) },
      [right]: { auto: true, range: (u, min, max) => pad(min, max, right) },
    },
    axes: [
      {
        stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font, space: 80,
        size: timeLabels ? 22 : 4,
        values: (u, vals) => vals.map((v) => (timeLabels ? clock(v) : '')),
      },
      { scale: left, stroke: a.color, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font, size: 38,
        values: (u, vals) => vals.map((v) => v.toFixed(a.digits)) },
      { scale: right, side: 1, stroke: b.color, grid: { show: false }, ticks: { show: false }, font, size: 38,
        values: (u, vals) => vals.map((v) => v.toFixed(b.digits)) },
    ],
    series: [
      {},
      { label: `${a.label} (${a.unit})`, scale: left, stroke: a.color, width: 2, fill: `${a.color}1a`, points: { show: false } },
      { label: `${b.label} (${b.unit})`, scale: right, stroke: b.color, width: 1.6, points: { show: false } },
    ],
  };
}

/** A little headroom so flat lines don't hug the edges. */
function pad(min, max, key) {
  if (min == null || max == null) return [0, 1];
  const span = Math.max(max - min, key === 'temperature' ? 1 : 4);
  const mid = (min + max) / 2;
  return [mid - span * 0.6, mid + span * 0.6];
}

export class DeviceTile {
  constructor(device, { onCommand, onKill, onClose }) {
    const id = device.id;
    this.device = device;
    this.id = id;
    this.shown = '';
    this.dirty = true;
    this.charts = [];

    this.badge = el('span', { class: 'badge', dataset: { status: 'unknown' } }, 'unknown');
    this.seen = el('span', { class: 'seen muted' }, 'no readings yet');
    this.values = {};
    const readings = el('div', { class: 'readings' });
    for (const [key, s] of Object.entries(SERIES)) {
      const value = el('span', { class: 'reading-value' }, '–');
      this.values[key] = value;
      readings.append(
        el('div', { class: 'reading', style: `--series:${s.color}`, dataset: { key } },
          el('span', { class: 'reading-label' }, s.label),
          el('span', { class: 'reading-line' }, value, el('span', { class: 'unit' }, s.unit))),
      );
    }
    this.chartBoxes = [el('div', { class: 'chart chart-main' }), el('div', { class: 'chart chart-small' })];

    this.input = el('input', {
      type: 'text', list: 'command-list', placeholder: 'command, e.g. ping',
      'aria-label': `Command for ${id}`, spellcheck: 'false', autocomplete: 'off',
    });
    this.send = el('button', { type: 'submit', class: 'primary' }, 'Send');
    this.kill = el('button', { type: 'button', class: 'danger', title: `Publish "${id}" to sim/kill` }, 'Kill');
    this.reply = el('output', { class: 'reply muted', 'aria-live': 'polite' });
    const form = el('form', { class: 'command', onsubmit: (e) => {
      e.preventDefault();
      const text = this.input.value.trim() || 'ping';
      onCommand(this, text);
    } }, this.input, this.send, this.kill);
    this.kill.addEventListener('click', () => onKill(this));
    const close = el('button', { type: 'button', class: 'ghost small close', 'aria-label': `Close ${id}`, title: 'Close' }, '×');
    close.addEventListener('click', () => onClose(id));

    this.root = el('article', { class: 'tile', dataset: { device: id, status: 'unknown' } },
      el('header', { class: 'tile-head' },
        el('h3', {}, id), this.badge, this.seen, close),
      readings,
      ...this.chartBoxes,
      form,
      this.reply,
    );
  }

  get status() {
    return this.device.status;
  }

  /** Builds the charts once the tile is in the document (they need its width). */
  mount() {
    const build = () => {
      for (const c of this.charts) c.destroy();
      const width = Math.max(200, this.chartBoxes[0].clientWidth || 320);
      const empty = [[], [], []];
      this.charts = [
        new uPlot(chartOptions(width, 116, 'temperature', 'humidity', { timeLabels: false }), empty, this.chartBoxes[0]),
        new uPlot(chartOptions(width, 84, 'battery', 'rssi', { timeLabels: true }), empty, this.chartBoxes[1]),
      ];
      this.dirty = true;
    };
    build();
    this.rebuild = build;
    this.resizer = new ResizeObserver(() => {
      const width = Math.max(200, this.chartBoxes[0].clientWidth);
      for (const c of this.charts) if (Math.abs(c.width - width) > 1) c.setSize({ width, height: c.height });
    });
    this.resizer.observe(this.chartBoxes[0]);
  }

  destroy() {
    this.resizer?.disconnect();
    for (const c of this.charts) c.destroy();
    this.root.remove();
  }

  /** Brings the text in line with the device (call from a frame). */
  update(alertLevel, now) {
    const d = this.device;
    const state = d.state;
    const kill = d.status !== 'online';
    if (this.shown !== state) {
      this.shown = state;
      this.root.dataset.status = d.status;
      this.root.dataset.state = state;
      this.badge.dataset.status = state;
      this.badge.textContent = state;
    }
    if (this.kill.disabled !== kill && !this.killing) this.kill.disabled = kill;
    if (alertLevel) this.root.dataset.alert = alertLevel;
    else delete this.root.dataset.alert;
    const r = d.latest;
    if (r) {
      for (const [key, s] of Object.entries(SERIES)) {
        setText(this.values[key], Number.isFinite(r[key]) ? r[key].toFixed(s.digits) : '–');
        this.values[key].parentElement.parentElement.classList.toggle('breach', key in d.breaches);
      }
    }
    this.root.dataset.readings = String(d.count);
    const ago = (t) => formatAgo(now - t);
    // Only an offline device says "offline": a revived one reads "online"
    // at once, before its first new reading.
    let seen;
    if (d.status === 'offline') seen = `offline for ${ago(d.statusSince)}`;
    else if (d.lastAt && (d.lastAt >= d.statusSince || d.status !== 'online')) seen = `${d.count} readings · last ${ago(d.lastAt)} ago`;
    else if (d.status === 'online') seen = `online for ${ago(d.statusSince)}, waiting for readings`;
    else seen = 'no readings yet';
    setText(this.seen, seen);
  }

  /** Redraws the charts over the last `range` seconds before `now` (ms). */
  draw(range, now) {
    if (this.charts.length === 0) return;
    const max = now / 1000;
    const data = this.device.history.view(range, max);
    // The window grows with the history, up to the range, then scrolls.
    const first = data.t[0] ?? max;
    const min = max - Math.min(range, Math.max(MIN_WINDOW_S, max - first));
    const pairs = [['temperature', 'humidity'], ['battery', 'rssi']];
    this.charts.forEach((chart, i) => {
      const [a, b] = pairs[i];
      chart.batch(() => {
        chart.setData([data.t, data[a], data[b]], true);
        chart.setScale('x', { min, max });
      });
    });
  }

  showReply(kind, text) {
    this.reply.className = `reply ${kind}`;
    this.reply.textContent = text;
  }
}

export function formatAgo(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
