// The topic explorer: live raw messages under a filter, the retained ones,
// the broker's $SYS statistics and a generic publish form.

import { $, el, onFrame, setText } from './frame.js';

const KEEP = 300;
const SHOW = 120;
const MAX_PAYLOAD = 4096;
const LIST_EVERY_MS = 250;
const decoder = new TextDecoder();

const hex = (bytes) => Array.from(bytes.subarray(0, 256), (b) => b.toString(16).padStart(2, '0')).join(' ')
  + (bytes.length > 256 ? ` … (${bytes.length} bytes)` : '');

/** The payload as text, pretty JSON, or hex. */
export function formatPayload(bytes, format) {
  if (format === 'hex') return hex(bytes);
  const text = decoder.decode(bytes);
  if (format !== 'json') return text;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return `(not JSON) ${text}`;
  }
}

/** MQTT 5 properties in their spec names, one `name: value` each. */
export function formatProperties(p = {}) {
  const out = [];
  if (p.payloadFormatIndicator !== undefined) out.push(`Payload Format: ${p.payloadFormatIndicator ? 'UTF-8' : 'bytes'}`);
  if (p.messageExpiryInterval !== undefined) out.push(`Message Expiry: ${p.messageExpiryInterval} s`);
  if (p.contentType !== undefined) out.push(`Content Type: ${p.contentType}`);
  if (p.responseTopic !== undefined) out.push(`Response Topic: ${p.responseTopic}`);
  if (p.correlationData !== undefined) out.push(`Correlation Data: ${hex(p.correlationData)}`);
  if (p.subscriptionIdentifiers?.length) out.push(`Subscription Id: ${p.subscriptionIdentifiers.join(', ')}`);
  for (const [k, v] of Object.entries(p.userProperties ?? {})) {
    for (const one of [v].flat()) out.push(`${k}=${one}`);
  }
  return out;
}

/** `key=value` lines to User Properties pairs. */
function userProperties(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const at = l.indexOf('=');
    return at < 0 ? [l, ''] : [l.slice(0, at).trim(), l.slice(at + 1).trim()];
  });
}

const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });

export class Explorer {
  constructor() {
    this.client = null;
    this.live = [];
    this.retained = new Map();
    this.sys = new Map();
    this.filter = '';
    this.paused = false;
    this.format = 'text';
    this.received = 0;
    this.soon = null;
    this.draw = () => this.render();

    const watch = $('watch');
    watch.addEventListener('submit', (e) => {
      e.preventDefault();
      this.watch(watch.filter.value.trim());
    });
    watch.format.addEventListener('change', () => {
      this.format = watch.format.value;
      onFrame(this.draw);
    });
    $('watch-pause').addEventListener('click', (e) => {
      this.paused = !this.paused;
      e.currentTarget.setAttribute('aria-pressed', String(this.paused));
      e.currentTarget.textContent = this.paused ? 'Resume' : 'Pause';
      onFrame(this.draw);
    });
    $('publish').addEventListener('submit', (e) => {
      e.preventDefault();
      this.publish(e.currentTarget);
    });
  }

  /** A new client (start or new settings): the old one's messages go. */
  attach(client, live, prefix) {
    this.client = client;
    this.live = [];
    this.retained.clear();
    this.sys.clear();
    this.filter = '';
    const watch = $('watch');
    if (!watch.filter.value) watch.filter.value = `${prefix}/#`;
    // $SYS statistics are retained and small: always listened to.
    client.subscribe('$SYS/#', { qos: 0, handler: live((topic, payload) => {
      this.sys.set(topic, decoder.decode(payload));
      onFrame(this.draw);
    }) }).catch(() => {});
    this.handler = live((topic, payload, packet) => this.message(topic, payload, packet));
    onFrame(this.draw);
  }

  async watch(filter) {
    const c = this.client;
    if (!c || !filter) return;
    if (this.filter && this.filter !== filter) c.unsubscribe(this.filter).catch(() => {});
    this.filter = filter;
    this.live = [];
    this.retained.clear();
    this.received = 0;
    setText($('live-count'), `watching ${filter}`);
    try {
      // Retain As Published: the retain flag shows what the publisher set.
      const [result] = await c.subscribe(filter, { qos: 2, rap: true, handler: this.handler });
      if (result?.reasonCode !== undefined) {
        setText($('live-count'), `${filter}: refused (reason code 0x${result.reasonCode.toString(16)})`);
      }
    } catch (e) {
      setText($('live-count'), `${filter}: ${e?.message ?? e}`);
    }
  }

  message(topic, payload, packet) {
    const bytes = payload.slice(0, MAX_PAYLOAD);
    const at = Date.now();
    this.received++;
    if (packet.retain) {
      if (payload.length === 0) this.retained.delete(topic);
      else this.retained.set(topic, { bytes, at });
    }
    if (this.paused) return;
    this.live.push({ topic, bytes, at, qos: packet.qos, retain: packet.retain, properties: formatProperties(packet.properties) });
    if (this.live.length > KEEP) this.live.splice(0, this.live.length - KEEP);
    // A busy filter (devices/# of a big fleet) rebuilds the list four times
    // a second, not every frame: nobody reads faster.
    this.soon ??= setTimeout(() => {
      this.soon = null;
      onFrame(this.draw);
    }, LIST_EVERY_MS);
  }

  render() {
    if ($('view-explorer').hidden) return;
    if (this.filter) setText($('live-count'), `${this.received.toLocaleString()} messages on ${this.filter}${this.paused ? ' (paused)' : ''}`);
    if (!this.paused) {
      $('live-body').replaceChildren(...this.live.slice(-SHOW).reverse().map((m) => el('tr', { dataset: { topic: m.topic } },
        el('td', { class: 'num' }, clock(m.at)),
        el('td', { class: 'mono' }, m.topic),
        el('td', { class: 'num' }, String(m.qos)),
        el('td', {}, m.retain ? 'retained' : ''),
        el('td', { class: 'props' }, ...m.properties.map((p) => el('span', { class: 'prop' }, p))),
        el('td', { class: 'mono payload' }, formatPayload(m.bytes, this.format)))));
    }
    const retained = [...this.retained].sort(([a], [b]) => (a < b ? -1 : 1));
    setText($('retained-count'), `${retained.length}`);
    $('retained-body').replaceChildren(...retained.slice(0, SHOW * 2).map(([topic, m]) => el('tr', { dataset: { topic } },
      el('td', { class: 'mono' }, topic),
      el('td', { class: 'mono payload' }, formatPayload(m.bytes, this.format)),
      el('td', { class: 'num' }, clock(m.at)))));
    if (this.sys.size) {
      const sys = [...this.sys].sort(([a], [b]) => (a < b ? -1 : 1));
      $('sys').replaceChildren(...sys.map(([topic, value]) => el('div', { dataset: { topic } },
        el('dt', {}, topic.replace(/^\$SYS\/(broker\/)?/, '')), el('dd', {}, value))));
    }
  }

  async publish(form) {
    const out = $('publish-result');
    const c = this.client;
    if (!c) return;
    const properties = {};
    const v = (name) => form.elements[name].value.trim();
    if (v('contentType')) properties.contentType = v('contentType');
    if (v('responseTopic')) properties.responseTopic = v('responseTopic');
    if (v('correlationData')) properties.correlationData = v('correlationData');
    if (v('messageExpiryInterval')) properties.messageExpiryInterval = Number(v('messageExpiryInterval'));
    if (form.elements.payloadFormatIndicator.checked) properties.payloadFormatIndicator = true;
    const users = userProperties(form.elements.userProperties.value);
    if (users.length) properties.userProperties = users;
    const topic = v('topic');
    const qos = Number(form.elements.qos.value);
    out.className = 'muted';
    out.textContent = `publishing to ${topic}…`;
    try {
      const code = await c.publish(topic, form.elements.payload.value, {
        qos, retain: form.elements.retain.checked, properties,
      });
      out.className = 'ok';
      out.textContent = qos === 0
        ? `✓ sent to ${topic} (QoS 0: no acknowledgement)`
        : `✓ ${topic}: ${qos === 1 ? 'PUBACK' : 'PUBCOMP'} reason code 0x${(code ?? 0).toString(16).padStart(2, '0')}${code === 0x10 ? ' (no matching subscribers)' : ''}`;
    } catch (e) {
      out.className = 'err';
      out.textContent = `✗ ${e?.message ?? e}${e?.code ? ` (${e.code})` : ''}`;
    }
  }
}
