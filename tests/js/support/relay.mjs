// A TCP relay in front of a WebSocket broker that timestamps the MQTT
// packets each client sends (read from its masked WebSocket frames), and
// when each connection opened and closed. Bytes pass through unchanged.
import { connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

/** MQTT packet type names by the high nibble of the first byte. */
const TYPES = ['', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP',
  'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];

/** Reads MQTT packets out of a client's WebSocket byte stream. */
class ClientStream {
  #buf = Buffer.alloc(0);
  #headerDone = false;
  #mqtt = Buffer.alloc(0);

  constructor(onPacket) {
    this.onPacket = onPacket;
  }

  push(chunk) {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    if (!this.#headerDone) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.#buf = this.#buf.subarray(end + 4);
      this.#headerDone = true;
    }
    while (this.#frame());
  }

  // One WebSocket frame (client frames are masked); whether there was one.
  #frame() {
    const b = this.#buf;
    if (b.length < 2) return false;
    let len = b[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return false;
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return false;
      len = Number(b.readBigUInt64BE(2));
      at = 10;
    }
    const masked = (b[1] & 0x80) !== 0;
    const start = at + (masked ? 4 : 0);
    if (b.length < start + len) return false;
    const payload = Buffer.from(b.subarray(start, start + len));
    if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[at + (i & 3)];
    this.#buf = b.subarray(start + len);
    const opcode = b[0] & 0x0f;
    if (opcode === 0 || opcode === 2) this.#packets(payload);
    return true;
  }

  #packets(bytes) {
    this.#mqtt = Buffer.concat([this.#mqtt, bytes]);
    for (;;) {
      const m = this.#mqtt;
      let len = 0;
      let at = 1;
      for (let shift = 0; ; shift += 7) {
        if (at >= m.length) return;
        const byte = m[at++];
        len += (byte & 0x7f) * 2 ** shift;
        if (!(byte & 0x80)) break;
      }
      if (m.length < at + len) return;
      this.onPacket(TYPES[m[0] >> 4]);
      this.#mqtt = m.subarray(at + len);
    }
  }
}

/**
 * Relays to the broker at `brokerUrl` (ws://host:port/path) from a free
 * port. Resolves with `{ url, packets, connections, close() }`: `packets`
 * lists `{ conn, type, at }` (ms, performance.now() of this process),
 * `connections` lists `{ opened, closed }`.
 */
export async function packetRelay(brokerUrl) {
  const target = new URL(brokerUrl);
  const packets = [];
  const connections = [];
  const sockets = new Set();
  const server = createServer((client) => {
    const conn = connections.length;
    const record = { opened: performance.now(), closed: undefined };
    connections.push(record);
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        record.closed ??= performance.now();
        client.destroy();
        upstream.destroy();
      });
    }
    const stream = new ClientStream((type) => packets.push({ conn, type, at: performance.now() }));
    client.on('data', (chunk) => {
      stream.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `ws://127.0.0.1:${server.address().port}${target.pathname}`,
    packets,
    connections,
    close: () => new Promise((ok) => {
      for (const s of sockets) s.destroy();
      server.close(() => ok());
    }),
  };
}
