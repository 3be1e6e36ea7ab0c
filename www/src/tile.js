// One device: its tile, its readings and its two live charts.

import uPlot from 'uplot';

/** Seconds of history each chart shows, at most and at least. */
export const WINDOW_S = 120;
const MIN_WINDOW_S = 10;
/** Most points kept per series: at high rates the window shows what fits. */
const MAX_POINTS = 2400;

export const SERIES = {
  temperature: { label: 'Temperature', unit: '°C', color: '#f97316', digits: 1 },
  humidity: { label: 'Humidity', unit: '%', color: '#0ea5e9', digits: 0 },
  battery: { label: 'Battery', unit: '%', color: '#22c55e', digits: 0 },
  rssi: { label: 'Signal', unit: 'dBm', color: '#a855f7', digits: 0 },
};

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
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
    legend: { show: false },
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
      { label: a.label, scale: left, stroke: a.color, width: 2, fill: `${a.color}1a`, points: { show: false } },
      { label: b.label, scale: right, stroke: b.color, width: 1.6, points: { show: false } },
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
  constructor(id, { onCommand, onKill }) {
    this.id = id;
    this.status = 'unknown';
    this.statusSince = Date.now();
    this.lastAt = 0;
    this.count = 0;
    this.latest = null;
    this.data = { t: [], temperature: [], humidity: [], battery: [], rssi: [] };
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
        el('div', { class: 'reading', style: `--series:${s.color}` },
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
    this.reply = el('output', { class: 'reply muted', 'aria-live': 'polite' }, 'Send a command: the device answers through the response topic.');
    const form = el('form', { class: 'command', onsubmit: (e) => {
      e.preventDefault();
      const text = this.input.value.trim() || 'ping';
      onCommand(this, text);
    } }, this.input, this.send, this.kill);
    this.kill.addEventListener('click', () => onKill(this));

    this.root = el('article', { class: 'tile', dataset: { device: id, status: 'unknown' } },
      el('header', { class: 'tile-head' },
        el('h2', {}, id), this.badge, this.seen),
      readings,
      ...this.chartBoxes,
      form,
      this.reply,
    );
  }

  /** Builds the charts once the tile is in the document (they need its width). */
  mount() {
    const build = () => {
      for (const c of this.charts) c.destroy();
      const width = Math.max(200, this.chartBoxes[0].clientWidth || 320);
      this.charts = [
        new uPlot(chartOptions(width, 116, 'temperature', 'humidity', { timeLabels: false }),
          this.series('temperature', 'humidity'), this.chartBoxes[0]),
        new uPlot(chartOptions(width, 84, 'battery', 'rssi', { timeLabels: true }),
          this.series('battery', 'rssi'), this.chartBoxes[1]),
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

  series(a, b) {
    return [this.data.t, this.data[a], this.data[b]];
  }

  /** A telemetry message arrived. */
  telemetry(reading, now) {
    const ts = Number.isFinite(reading.ts) && Math.abs(reading.ts - now) < 60_000 ? reading.ts : now;
    const d = this.data;
    d.t.push(ts / 1000);
    for (const key of Object.keys(SERIES)) d[key].push(Number.isFinite(reading[key]) ? reading[key] : null);
    const cutoff = now / 1000 - WINDOW_S - 5;
    let drop = 0;
    while (drop < d.t.length && (d.t[drop] < cutoff || d.t.length - drop > MAX_POINTS)) drop++;
    if (drop) for (const arr of Object.values(d)) arr.splice(0, drop);
    this.latest = reading;
    this.lastAt = now;
    this.count++;
    this.dirty = true;
    for (const [key, s] of Object.entries(SERIES)) {
      const v = reading[key];
      this.values[key].textContent = Number.isFinite(v) ? v.toFixed(s.digits) : '–';
    }
    this.root.dataset.readings = String(this.count);
    if (isBatteryLow(reading)) this.root.dataset.battery = 'low';
    else delete this.root.dataset.battery;
  }

  /** The retained status changed. */
  setStatus(status, now) {
    if (status === this.status) return;
    this.status = status;
    this.statusSince = now;
    this.root.dataset.status = status;
    this.badge.dataset.status = status;
    this.badge.textContent = status;
    this.kill.disabled = status !== 'online';
    this.tick(now);
  }

  /** Once a second: the relative times. */
  tick(now) {
    const ago = (t) => formatAgo(now - t);
    if (this.status === 'offline') {
      this.seen.textContent = `offline for ${ago(this.statusSince)}`;
    } else if (this.lastAt) {
      this.seen.textContent = `${this.count} readings · last ${ago(this.lastAt)} ago`;
    }
    this.dirty = true;
  }

  /** Redraws the charts if anything changed, scrolling the time window to `now`. */
  draw(now) {
    if (!this.dirty || this.charts.length === 0) return;
    this.dirty = false;
    // The window grows with the history, up to WINDOW_S, then scrolls.
    const max = now / 1000;
    const first = this.data.t[0] ?? max;
    const min = max - Math.min(WINDOW_S, Math.max(MIN_WINDOW_S, max - first));
    const pairs = [['temperature', 'humidity'], ['battery', 'rssi']];
    this.charts.forEach((chart, i) => {
      chart.batch(() => {
        chart.setData(this.series(...pairs[i]), true);
        chart.setScale('x', { min, max });
      });
    });
  }

  showReply(kind, text) {
    this.reply.className = `reply ${kind}`;
    this.reply.textContent = text;
  }
}

function isBatteryLow(reading) {
  return Number.isFinite(reading.battery) && reading.battery < 15;
}

export function formatAgo(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
