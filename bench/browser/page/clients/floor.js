// The floor: the least work a browser MQTT 5 client can do. A raw WebSocket,
// hand-built CONNECT / SUBSCRIBE / PUBLISH / PUBACK bytes, and a receive path
// that only walks the frames and counts PUBLISH packets (no topic decoding,
// no payload copies, no per-message objects). Publishes are batched: many
// packets per WebSocket frame. What it reaches is what the browser and the
// broker allow; real clients can only come closer to it.

export const name = 'floor';

const enc = new TextEncoder();
const FRAME_BYTES = 64 * 1024;

function varint(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const str = (s) => {
  const b = enc.encode(s);
  return [b.length >> 8, b.length & 0xff, ...b];
};

const packet = (first, body) => Uint8Array.from([first, ...varint(body.length), ...body]);

// Sizes of CONNACK property values, by identifier (-1: UTF-8 string / binary, -2: string pair).
const PROP_SIZE = {
  0x11: 4, 0x12: -1, 0x13: 2, 0x15: -1, 0x16: -1, 0x1a: -1, 0x1c: -1, 0x1f: -1,
  0x21: 2, 0x22: 2, 0x24: 1, 0x25: 1, 0x26: -2, 0x27: 4, 0x28: 1, 0x29: 1, 0x2a: 1,
};

export function open(url, clientId, onMessage, params) {
  // MQTT 5.0, or 3.1.1 (protocol level 4): no properties anywhere.
  const v5 = (params?.protocol ?? 5) === 5;
  const ws = new WebSocket(url, ['mqtt']);
  ws.binaryType = 'arraybuffer';
  let rest = null; // bytes of an incomplete packet from the previous frame
  let onConnack = null;
  let onSuback = null;
  let onPuback = null;
  let receiveMaximum = 65535;
  let nextId = 1;
  const acks = []; // PUBACKs to send for received QoS 1 messages

  function connack(buf, at, end) {
    // flags, reason code, properties
    const code = buf[at + 1];
    if (!v5) return onConnack?.(code);
    let p = at + 2;
    let len = 0, shift = 0, b;
    do { b = buf[p++]; len |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    const stop = Math.min(end, p + len);
    while (p < stop) {
      const id = buf[p++];
      const size = PROP_SIZE[id];
      if (id === 0x21) receiveMaximum = (buf[p] << 8) | buf[p + 1];
      if (size > 0) p += size;
      else if (size === -1) p += 2 + ((buf[p] << 8) | buf[p + 1]);
      else if (size === -2) { p += 2 + ((buf[p] << 8) | buf[p + 1]); p += 2 + ((buf[p] << 8) | buf[p + 1]); }
      else break;
    }
    onConnack?.(code);
  }

  ws.onmessage = (e) => {
    api.frames++;
    let buf = new Uint8Array(e.data);
    if (rest) {
      const joined = new Uint8Array(rest.length + buf.length);
      joined.set(rest);
      joined.set(buf, rest.length);
      buf = joined;
      rest = null;
    }
    let i = 0;
    const n = buf.length;
    while (i < n) {
      const first = buf[i];
      let p = i + 1, len = 0, shift = 0, b;
      do {
        if (p >= n) { b = -1; break; }
        b = buf[p++];
        len |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      if (b === -1 || p + len > n) break;
      const type = first >> 4;
      if (type === 3) {
        const qos = (first >> 1) & 3;
        const topicLen = (buf[p] << 8) | buf[p + 1];
        let q = p + 2 + topicLen;
        if (qos) {
          acks.push(buf[q], buf[q + 1]);
          q += 2;
        }
        let plen = 0; shift = 0;
        if (v5) do { b = buf[q++]; plen |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
        onMessage(p + len - q - plen);
      } else if (type === 4) {
        onPuback?.();
      } else if (type === 2) {
        connack(buf, p, p + len);
      } else if (type === 9) {
        onSuback?.();
      }
      i = p + len;
    }
    if (i < n) rest = buf.slice(i);
    if (acks.length) {
      const out = new Uint8Array(acks.length * 2);
      for (let k = 0, j = 0; k < acks.length; k += 2, j += 4) {
        out[j] = 0x40; out[j + 1] = 2; out[j + 2] = acks[k]; out[j + 3] = acks[k + 1];
      }
      acks.length = 0;
      ws.send(out);
    }
  };

  // One PUBLISH packet per call; QoS 1 packets get fresh ids patched in.
  function template(topic, payload, qos) {
    const t = str(topic);
    // Packet Identifier (patched in) and, in MQTT 5.0, an empty property list.
    const head = [...t, ...(qos ? [0, 0] : []), ...(v5 ? [0] : [])];
    const body = head.length + payload.length;
    const hdr = [0x30 | (qos << 1), ...varint(body)];
    const pkt = new Uint8Array(hdr.length + body);
    pkt.set(hdr);
    pkt.set(head, hdr.length);
    pkt.set(payload, hdr.length + head.length);
    return { pkt, idAt: hdr.length + t.length };
  }
  let cached = null;

  const api = {
    frames: 0,
    get receiveMaximum() { return receiveMaximum; },
    subscribe: (filter, qos) => new Promise((resolve) => {
      onSuback = resolve;
      ws.send(packet(0x82, [0, 1, ...(v5 ? [0] : []), ...str(filter), qos]));
    }),
    publish: (topic, payload, qos) => api.publishMany(topic, payload, qos, 1, null),
    /**
     * `count` copies in one frame; `onAck` per PUBACK (QoS 1). Resolves once
     * sent. `topic` may be a list: the packets then take its topics in turn.
     */
    publishMany(topic, payload, qos, count, onAck) {
      if (!cached || cached.topic !== topic || cached.payload !== payload || cached.qos !== qos) {
        const packets = [].concat(topic).map((t) => template(t, payload, qos));
        cached = { topic, payload, qos, packets, next: 0 };
      }
      const { packets } = cached;
      if (qos && onAck) onPuback = onAck;
      // Frames of at most FRAME_BYTES (at least one packet each).
      const perFrame = Math.max(1, Math.floor(FRAME_BYTES / packets[0].pkt.length));
      for (let done = 0; done < count; done += perFrame) {
        const k = Math.min(perFrame, count - done);
        const batch = [];
        for (let j = 0; j < k; j++) {
          batch.push(packets[cached.next]);
          cached.next = (cached.next + 1) % packets.length;
        }
        const out = new Uint8Array(batch.reduce((n, { pkt }) => n + pkt.length, 0));
        let at = 0;
        for (const { pkt, idAt } of batch) {
          out.set(pkt, at);
          if (qos) {
            const id = nextId;
            nextId = nextId === 0xffff ? 1 : nextId + 1;
            out[at + idAt] = id >> 8;
            out[at + idAt + 1] = id & 0xff;
          }
          at += pkt.length;
        }
        ws.send(out);
      }
      return Promise.resolve();
    },
    end: async () => ws.close(),
  };

  return new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error('websocket error'));
    ws.onopen = () => {
      // CONNECT: "MQTT", level 5 (or 4), Clean Start, keep alive 60, no properties.
      ws.send(packet(0x10, [...str('MQTT'), v5 ? 5 : 4, 0x02, 0, 60, ...(v5 ? [0] : []), ...str(clientId)]));
    };
    onConnack = (code) => (code === 0 ? resolve(api) : reject(new Error(`CONNACK ${code}`)));
  });
}

export async function wasmMemory() {
  return 0;
}
