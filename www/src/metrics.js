// The metrics bar: the client's counters, rates since the last sample, and
// how many devices are online.

import { $ } from './frame.js';

function formatBytes(n) {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const formatRate = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

export class MetricsBar {
  previous = null;

  /** `keepaliveS`: when the first round-trip time can be expected. */
  constructor(keepaliveS) {
    this.keepaliveS = keepaliveS;
  }

  /** Shows a sample of MqttClient.metrics (nothing without a client). */
  update(m) {
    const now = performance.now();
    if (!m) return;
    const { previous } = this;
    const dt = previous ? (now - previous.at) / 1000 : 0;
    const rate = (key) => (previous && dt > 0 ? Math.max(0, (m[key] - previous.m[key]) / dt) : 0);
    $('m-msg-in').textContent = `${formatRate(rate('messagesIn'))}/s`;
    $('m-msg-in-total').textContent = `${m.messagesIn.toLocaleString()} total`;
    $('m-msg-out').textContent = `${formatRate(rate('messagesOut'))}/s`;
    $('m-msg-out-total').textContent = `${m.messagesOut.toLocaleString()} total`;
    $('m-bytes-in').textContent = formatBytes(m.bytesIn);
    $('m-bytes-in-rate').textContent = `${formatBytes(rate('bytesIn'))}/s`;
    $('m-bytes-out').textContent = formatBytes(m.bytesOut);
    $('m-bytes-out-rate').textContent = `${formatBytes(rate('bytesOut'))}/s`;
    $('m-inflight').textContent = String(m.inFlight);
    $('m-queued').textContent = `${m.queued} queued`;
    $('m-rtt').textContent = m.roundTripTime === undefined ? '–' : `${m.roundTripTime} ms`;
    $('m-rtt-sub').textContent = m.roundTripTime === undefined
      ? `after ${this.keepaliveS} s idle`
      : 'PINGREQ → PINGRESP';
    $('m-reconnects').textContent = String(m.reconnects);
    this.previous = { at: now, m };
  }

  /** "online / known". */
  showDevices(devices) {
    let online = 0;
    for (const d of devices.values()) if (d.status === 'online') online++;
    $('m-devices').textContent = `${online} / ${devices.size}`;
  }
}
