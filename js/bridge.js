// wasmqtt: what the wasm client reports (records in one buffer per turn,
// written by src/events.rs, read in wasm memory) turned into events,
// settled promises and MqttErrors; and each received frame written into
// wasm memory. Self-contained (no imports): the browser tests load it too.

const text = new TextDecoder();

// The session store's code (`wasmqtt/store`) is behind STORE: see js/index.js.
const STORE = globalThis.WASMQTT_STORE === true;

// MQTT 5.0 properties by identifier (section 2.2.2.2): name and type.
// b byte, f flag (boolean), s two-byte and l four-byte integer, t string,
// d binary; v (Variable Byte Integer, a list) and p (string pair, an
// object) repeat.
// The Topic Alias (0x23) is resolved by the client, not shown.
const PROPERTIES = {
  1: ['payloadFormatIndicator', 'f'],
  2: ['messageExpiryInterval', 'l'],
  3: ['contentType', 't'],
  8: ['responseTopic', 't'],
  9: ['correlationData', 'd'],
  11: ['subscriptionIdentifiers', 'v'],
  17: ['sessionExpiryInterval', 'l'],
  18: ['assignedClientIdentifier', 't'],
  19: ['serverKeepAlive', 's'],
  21: ['authenticationMethod', 't'],
  22: ['authenticationData', 'd'],
  23: ['requestProblemInformation', 'f'],
  24: ['willDelayInterval', 'l'],
  25: ['requestResponseInformation', 'f'],
  26: ['responseInformation', 't'],
  28: ['serverReference', 't'],
  31: ['reasonString', 't'],
  33: ['receiveMaximum', 's'],
  34: ['topicAliasMaximum', 's'],
  35: ['', 's'],
  36: ['maximumQoS', 'b'],
  37: ['retainAvailable', 'f'],
  38: ['userProperties', 'p'],
  39: ['maximumPacketSize', 'l'],
  40: ['wildcardSubscriptionAvailable', 'f'],
  41: ['subscriptionIdentifierAvailable', 'f'],
  42: ['sharedSubscriptionAvailable', 'f'],
};

// Descriptions of the failure reason codes 0x80 to 0xA2 (section 2.4).
const REASONS = ('unspecified error,malformed packet,protocol error,implementation specific error,'
  + 'unsupported protocol version,client identifier not valid,bad user name or password,not authorized,'
  + 'server unavailable,server busy,banned,server shutting down,bad authentication method,keep alive timeout,'
  + 'session taken over,topic filter invalid,topic name invalid,packet identifier in use,'
  + 'packet identifier not found,receive maximum exceeded,topic alias invalid,packet too large,'
  + 'message rate too high,quota exceeded,administrative action,payload format invalid,retain not supported,'
  + 'QoS not supported,use another server,server moved,shared subscriptions not supported,'
  + 'connection rate exceeded,maximum connect time,subscription identifiers not supported,'
  + 'wildcard subscriptions not supported').split(',');

const describe = (code) => REASONS[code - 128]
  ?? (code === 0 ? 'normal disconnection' : `reason code 0x${code.toString(16)}`);

// Every failure the wasm reports, by the number src/error.rs gives it
// (`Failure`): code, then message. In a message, $d is the detail below,
// $1 and $2 the numbers, $s the text and $r the reason code described.
// src/error.rs checks that both sides agree.
const FAILURES = [
  'INVALID_TOPIC invalid topic name: $d',
  'INVALID_FILTER invalid topic filter: $d',
  'INVALID_FILTER at least one topic filter is needed',
  'INVALID_ARGUMENT cannot encode packet: $d',
  'INVALID_OPTIONS cannot encode packet: $d',
  'QOS_NOT_SUPPORTED server accepts at most QoS $1',
  'PACKET_TOO_LARGE packet of $1 bytes exceeds the server maximum of $2',
  'QUEUE_FULL queue is full ($1 messages)',
  'RETAIN_NOT_SUPPORTED server does not support retained messages',
  'NOT_SUPPORTED server does not support wildcard subscriptions',
  'NOT_SUPPORTED server does not support shared subscriptions',
  'NOT_SUPPORTED server does not support subscription identifiers',
  'NOT_CONNECTED not connected',
  'INVALID_ARGUMENT already connected',
  'NOT_IN_MQTT_3_1_1 not available in MQTT 3.1.1',
  'INVALID_ARGUMENT no authentication method configured',
  'INVALID_ARGUMENT invalid argument',
  'INVALID_OPTIONS invalid option will.topic: $d',
  'INVALID_OPTIONS invalid option reasonCode: is not a DISCONNECT reason code',
  'INVALID_OPTIONS invalid option sessionExpiryInterval: cannot be set when connected with 0',
  'INVALID_OPTIONS invalid option properties',
  'CONNECTION_REFUSED connection refused: $r',
  'SERVER_DISCONNECTED disconnected by server: $r',
  'PROTOCOL_ERROR protocol error: $r',
  'PROTOCOL_ERROR protocol error: unexpected packet',
  'PROTOCOL_ERROR protocol error: server exceeded our receive maximum',
  'PROTOCOL_ERROR protocol error: invalid topic alias $1',
  'PROTOCOL_ERROR protocol error: unknown topic alias $1',
  'PROTOCOL_ERROR protocol error: acknowledgement for unknown packet identifier $1',
  'PROTOCOL_ERROR protocol error: acknowledgement has $1 reason codes for $2 filters',
  'PROTOCOL_ERROR protocol error: session present where no session can exist',
  'PROTOCOL_ERROR protocol error: server sent a session expiry interval in DISCONNECT',
  'PROTOCOL_ERROR protocol error: protocol violation',
  'CONNECT_TIMEOUT no CONNACK within the connect timeout',
  'KEEPALIVE_TIMEOUT keep alive timeout',
  'CONNECTION_LOST connection lost',
  'DISCONNECTED disconnected',
  'REJECTED rejected by server: $r',
  'EXPIRED message expired before it could be sent',
  'SESSION_LOST session lost before the message was acknowledged',
  'FAILED the message could not be sent',
  'CLIENT_ENDED the client was ended',
  'NOT_CONNECTED the connection ended and will not be retried',
  'CONNECT_FAILED cannot open a WebSocket to $s',
  'CONNECT_FAILED cannot open the WebSocket: $s',
  'CREDENTIALS_FAILED the credentials provider failed: $s',
  'SUBSCRIPTION_LOST $s',
  'REQUEST_TIMEOUT no response in time',
];

// Why a topic (0 to 8) or a packet (9 to 21) was refused.
const DETAILS = [
  'topic is empty', 'topic is longer than 65535 bytes', 'topic contains a null character',
  'topic name contains a wildcard', "'#' is not the whole last level", "'+' is not a whole level",
  'invalid share name', 'shared subscription has no topic filter', 'invalid topic',
  'field is longer than 65535 bytes', 'string contains the null character',
  'packet is larger than the protocol allows', 'a property is not allowed in this packet',
  'a property value is out of range', 'reason code is not valid in this packet',
  'reason code has no MQTT 3.1.1 equivalent', 'packet does not exist in MQTT 3.1.1',
  'empty topic name without a topic alias', 'at least one topic filter is needed',
  'no local option on a shared subscription', 'password without user name', 'invalid packet',
];

// Record kinds and message flags, as src/events.rs numbers them
// (src/boundary.rs checks both sides agree).
const K_MESSAGE = 1;
const K_DONE = 3;
const K_CODE = 4;
const K_CODES = 5;
const K_RESPONSE = 6;
const K_REJECT = 7;
const K_ERROR = 8;
const K_CONNECT = 9;
const K_AUTH = 10;
const K_DISCONNECT = 11;
const K_RECONNECTING = 12;
const K_RECONNECT = 13;
const K_STORE = 14;
// Then `close`, `offline` and `end` (EVENTS, from K_CLOSE on).
const K_CLOSE = 15;
const F_QOS = 3;
const F_RETAIN = 4;
const F_DUP = 8;
const F_TOPIC = 16;
const F_PROPERTIES = 32;
const F_IN_FRAME = 64;

const EVENTS = ['close', 'offline', 'end'];
const NO_FILTERS = [];

/**
 * Reads records: one reader for all batches, in place in wasm memory
 * (`live`), which the wasm reuses. What is kept (payloads, the journal)
 * must not stay there: on the first, the rest of the batch is copied once
 * and payloads are views of that copy (a copy per payload measured 2-3x
 * slower at 16 B over a broker that sends many messages per frame).
 */
class Reader {
  b = new Uint8Array();
  i = 0;
  end = 0;
  live = false;

  /** Starts on `bytes` from `i` to `end`; returns this. */
  at(bytes, i = 0, end = bytes.length, live = false) {
    this.b = bytes;
    this.i = i;
    this.end = end;
    this.live = live;
    return this;
  }

  u8() { return this.b[this.i++]; }

  // Integers by hand: no DataView per batch (one fewer object per frame).
  u16be() { return (this.u8() << 8) | this.u8(); }

  u32() { return (this.u8() | (this.u8() << 8) | (this.u8() << 16) | (this.u8() << 24)) >>> 0; }

  u32be() { return ((this.u8() << 24) | (this.u8() << 16) | (this.u8() << 8) | this.u8()) >>> 0; }

  /** The next `n` bytes, as a view to read at once. */
  take(n) { return this.b.subarray(this.i, (this.i += n)); }

  /** The next bytes (u32 length first), as a view that may be kept. */
  bytes() {
    if (this.live) this.at(this.b.slice(this.i, this.end));
    return this.take(this.u32());
  }

  str() { return text.decode(this.take(this.u32())); }

  varint() {
    let n = 0;
    for (let shift = 1, byte = 128; byte & 128; shift *= 128) {
      byte = this.u8();
      n += (byte & 127) * shift;
    }
    return n;
  }

  /** Properties as on the wire (Property Length first) as an object. */
  properties() {
    const o = {};
    const end = this.varint() + this.i;
    while (this.i < end) {
      const [name, type] = PROPERTIES[this.u8()];
      const value = type === 'b' || type === 'f' ? this.u8()
        : type === 's' ? this.u16be()
          : type === 'l' ? this.u32be()
            : type === 'v' ? this.varint()
              : type === 'd' ? this.take(this.u16be()).slice()
                : text.decode(this.take(this.u16be()));
      if (type === 'v') (o[name] ??= []).push(value);
      else if (type === 'p') {
        // User Properties as MQTT.js gives them: { key: value }, a repeated
        // key's values as an array; no prototype, so any key is data.
        const pairs = (o[name] ??= Object.create(null));
        const v = text.decode(this.take(this.u16be()));
        pairs[value] = value in pairs ? [].concat(pairs[value], v) : v;
      } else if (name) o[name] = type === 'f' ? value === 1 : value;
    }
    return o;
  }
}

/** The server's limits from CONNACK properties, with the spec's defaults. */
function serverLimits(p) {
  return {
    receiveMaximum: p.receiveMaximum ?? 65535,
    maximumQoS: p.maximumQoS ?? 2,
    retainAvailable: p.retainAvailable ?? true,
    maximumPacketSize: p.maximumPacketSize,
    topicAliasMaximum: p.topicAliasMaximum ?? 0,
    wildcardSubscriptionAvailable: p.wildcardSubscriptionAvailable ?? true,
    subscriptionIdentifierAvailable: p.subscriptionIdentifierAvailable ?? true,
    sharedSubscriptionAvailable: p.sharedSubscriptionAvailable ?? true,
    serverKeepAlive: p.serverKeepAlive,
    responseInformation: p.responseInformation,
    assignedClientIdentifier: p.assignedClientIdentifier,
    sessionExpiryInterval: p.sessionExpiryInterval,
  };
}

const METRICS = ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut', 'messagesIn', 'messagesOut',
  'inFlight', 'queued', 'reconnects', 'roundTripTime'];

/**
 * One wasm client and its promises. `hooks`: `emit(name, arg)`,
 * `message(topic, payload, packet, filters)`, `MqttError` (class), `url`
 * and optionally `clientId`, `credentials`, `WebSocket` (class) and `store`
 * (`wasmqtt/store` only: `started(wasm)`, `write(journal)`).
 */
export class Connection {
  #inner = null;
  #hooks;
  #pending = new Map();
  #next = 0;
  /**
   * Topics by slot (at most 256: a slot is a byte), as the wasm fills them
   * (src/topics.rs): it sends a slot's topic only when it changes.
   */
  #topics = [];
  /** Filters by index, as the wasm announced them; one-element lists reused. */
  #filters = [];
  #single = [];
  #connack = {};
  #reader = new Reader();
  #connected = false;
  #clientId;
  /** How deep #read is nested (a listener's call into the client). */
  #depth = 0;
  /** The wasm's memory, and a view of it renewed when it grows. */
  #memory = null;
  #heap = new Uint8Array();
  /** Where the wasm takes each frame (WasmClient.inbox), and its room. */
  #inbox = 0;
  #room = 0;
  /** The frame being received: IN_FRAME payloads are views of its end. */
  #frame = null;

  constructor(hooks) {
    this.#hooks = hooks;
    this.#clientId = hooks.clientId ?? '';
  }

  /**
   * Creates the wasm client with `create(events, credentials, socket)`;
   * options it refuses throw an MqttError. `socket()` opens a WebSocket to
   * the hooks' `url` (with their `WebSocket` class, else the global one)
   * offering the one subprotocol name MQTT 5.0 and 3.1.1 both register,
   * `mqtt` [MQTT-6.0.0-3], and hands its events to the wasm: one call per
   * frame. The wasm keeps the socket, and has it closed when done with it.
   * `memory`: the wasm's, where frames are written and records read.
   */
  start(create, memory) {
    this.#memory = memory;
    const { credentials, url, WebSocket: Socket } = this.#hooks;
    // socket(): a new one; socket(ws): the wasm is done with `ws` (queued
    // frames are still sent before the close frame).
    const socket = (old) => {
      if (old) {
        old.onopen = old.onmessage = old.onclose = null;
        return old.close();
      }
      const ws = new (Socket ?? WebSocket)(url, 'mqtt');
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => this.#inner.opened();
      // Text frames are not MQTT [MQTT-6.0.0-1]: ignored.
      // The event's time stamp is on performance.now()'s clock (some
      // WebSocket implementations have none): the wasm asks for no time.
      ws.onmessage = (e) => {
        const frame = e.data;
        if (frame instanceof ArrayBuffer) this.#receive(frame, e.timeStamp || performance.now());
      };
      // `error` is always followed by `close`, which is where the wasm reacts.
      ws.onclose = () => this.#inner.closed();
      return ws;
    };
    try {
      this.#inner = create((at, len) => this.#read(at, len), credentials && (async () => {
        const c = await credentials();
        return [c?.username, c?.password];
      }), socket);
    } catch (e) {
      throw e instanceof Uint8Array ? this.#error(new Reader().at(e)) : e;
    }
    // What the store kept goes into the session before its socket opens.
    if (STORE) this.#hooks.store?.started(this.#inner);
  }

  /** wasm memory as bytes; a new view once it has grown (the old one is then empty). */
  #view() {
    if (this.#heap.byteLength === 0) this.#heap = new Uint8Array(this.#memory.buffer);
    return this.#heap;
  }

  /** A frame into the wasm: written into its inbox, then one call. */
  #receive(frame, time) {
    const n = frame.byteLength;
    if (n > this.#room) {
      this.#inbox = this.#inner.inbox(n);
      this.#room = n;
    }
    this.#view().set(new Uint8Array(frame), this.#inbox);
    this.#frame = frame;
    this.#inner.receive(n, time);
    this.#frame = null;
  }

  /** Up from `connect` to `close`, as the records say (no call into the wasm). */
  get connected() { return this.#connected; }

  /** The Client Identifier: as given, or as the server assigned it (MQTT 5.0). */
  get clientId() { return this.#inner ? this.#clientId : undefined; }

  get server() { return this.#inner ? serverLimits(this.#connack) : undefined; }

  get metrics() {
    const at = this.#inner?.metrics();
    if (!at) return undefined;
    const m = new Float64Array(this.#memory.buffer, at, METRICS.length);
    const o = {};
    METRICS.forEach((k, i) => { if (!Number.isNaN(m[i])) o[k] = m[i]; });
    return o;
  }

  /** After the tab or the network comes back; with `freeze`, before the page is frozen. */
  wake(freeze) { this.#inner?.wake(!!freeze); }

  publish(topic, payload, qos, retain, properties, timeout) {
    return this.#call((id) => this.#inner.publish(id, topic, payload, qos, retain, properties, timeout));
  }

  subscribe(filters, options, properties) {
    return this.#call((id) => this.#inner.subscribe(id, filters, options, properties));
  }

  unsubscribe(filters) {
    return this.#call((id) => this.#inner.unsubscribe(id, filters));
  }

  auth(data) {
    return this.#call((id) => this.#inner.auth(id, data));
  }

  end(force, reasonCode, properties) {
    return this.#call((id) => this.#inner.end(id, force, reasonCode, properties));
  }

  /** A promise the wasm settles by `id`, registered before the call: it may settle during it. */
  #call(f) {
    const id = (this.#next = (this.#next + 1) >>> 0);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, [resolve, reject]);
      f(id);
    });
  }

  #settle(id, ok, value) {
    const p = this.#pending.get(id);
    this.#pending.delete(id);
    p?.[ok ? 0 : 1](value);
  }

  #error(r) {
    const entry = FAILURES[r.u8()] ?? 'FAILED $s';
    const reason = r.u8();
    const values = { d: DETAILS[r.u8()], 1: r.u32(), 2: r.u32(), s: r.str(), r: describe(reason) };
    const at = entry.indexOf(' ');
    return new this.#hooks.MqttError(entry.slice(at + 1).replace(/\$(.)/g, (_, k) => values[k]),
      entry.slice(0, at), reason === 255 ? undefined : reason);
  }

  #message(r) {
    const flags = r.u8();
    const slot = r.u8();
    if (flags & F_TOPIC) this.#topics[slot] = r.str();
    const packet = {
      topic: this.#topics[slot],
      qos: flags & F_QOS,
      retain: (flags & F_RETAIN) !== 0,
      dup: (flags & F_DUP) !== 0,
      payload: flags & F_IN_FRAME ? this.#inFrame(r.u32()) : r.bytes(),
    };
    if (flags & F_PROPERTIES) packet.properties = r.properties();
    return packet;
  }

  /** The last `n` bytes of the frame being received, as a view. */
  #inFrame(n) {
    const f = this.#frame;
    return new Uint8Array(f, f.byteLength - n, n);
  }

  #matched(r) {
    const n = r.u32();
    if (n === 0) return NO_FILTERS;
    if (n === 1) {
      const i = this.#filter(r);
      return (this.#single[i] ??= [this.#filters[i]]);
    }
    const list = [];
    for (let k = 0; k < n; k++) list.push(this.#filters[this.#filter(r)]);
    return list;
  }

  /** A filter's index; a new one (the table's length) is followed by the filter. */
  #filter(r) {
    const i = r.u32();
    if (i === this.#filters.length) this.#filters.push(r.str());
    return i;
  }

  /**
   * Acts on each record as it is read, in wasm memory. A listener may call
   * the client meanwhile: the wasm then writes that call's records to
   * another buffer and hands them over at once (a nested #read, with a
   * reader of its own), so this batch stays where it is, and is found again
   * if wasm memory grew. Only a received frame yields messages and
   * filters, never a call from a listener, so the topics and filters kept
   * here follow the wasm's order. (A store's journal comes first in its
   * batch: it is written before any listener runs.)
   */
  #read(at, len) {
    const r = (this.#depth++ ? new Reader() : this.#reader).at(this.#view(), at, at + len, true);
    const { emit, message } = this.#hooks;
    try {
      while (r.i < r.end) {
        if (r.live) r.b = this.#view();
        const kind = r.u8();
        switch (kind) {
          case K_MESSAGE: { const m = this.#message(r); message(m.topic, m.payload, m, this.#matched(r)); break; }
          case K_DONE: this.#settle(r.u32(), true); break;
          case K_CODE: this.#settle(r.u32(), true, r.u8()); break;
          case K_CODES: {
            const id = r.u32();
            const codes = [];
            for (let n = r.u32(); n > 0; n--) codes.push(r.u8());
            this.#settle(id, true, codes);
            break;
          }
          case K_RESPONSE: this.#settle(r.u32(), true, this.#message(r)); break;
          case K_REJECT: this.#settle(r.u32(), false, this.#error(r)); break;
          case K_ERROR: emit('error', this.#error(r)); break;
          case K_CONNECT: {
            const reasonCode = r.u8();
            const sessionPresent = r.u8() === 1;
            const properties = r.properties();
            this.#connack = properties;
            this.#connected = true;
            this.#clientId = properties.assignedClientIdentifier ?? this.#clientId;
            emit('connect', { reasonCode, sessionPresent, properties });
            break;
          }
          case K_AUTH: emit('auth', { reasonCode: r.u8(), properties: r.properties() }); break;
          case K_DISCONNECT: {
            const d = { reasonCode: r.u8() };
            for (const k of ['reasonString', 'serverReference']) if (r.u8()) d[k] = r.str();
            emit('disconnect', d);
            break;
          }
          case K_RECONNECTING: emit('reconnecting', { attempt: r.u32(), delay: r.u32() }); break;
          case K_RECONNECT: emit('reconnect', r.u32()); break;
          default:
            // The session journal (`wasmqtt/store` only: the core wasm writes none).
            if (STORE && kind === K_STORE) this.#hooks.store.write(r.bytes());
            else {
              if (kind === K_CLOSE) this.#connected = false;
              emit(EVENTS[kind - K_CLOSE], undefined);
            }
        }
      }
    } finally {
      this.#depth--;
    }
  }
}
