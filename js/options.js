// wasmqtt: options checked and packed for the wasm client. An error names
// the field by its path (`will.qos`); the wasm gets already-valid values,
// with MQTT 5.0 properties in their wire form.

// The session store's code (`wasmqtt/store`) is behind STORE: see js/index.js.
const STORE = globalThis.WASMQTT_STORE === true;

/** Every failure: `code` is stable, `reasonCode` is the MQTT reason code if any. */
export class MqttError extends Error {
  constructor(message, code, reasonCode) {
    super(message);
    this.name = 'MqttError';
    this.code = code;
    this.reasonCode = reasonCode;
  }
}

const encoder = new TextEncoder();

const fail = (field, problem) => {
  throw new MqttError(`invalid option ${field}: ${problem}`, 'INVALID_OPTIONS');
};

/** A payload or binary option as a Uint8Array (`undefined` if absent). */
export function bytes(value, field) {
  if (value == null) return undefined;
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return fail(field, 'expected a string or Uint8Array');
}

// Checks: (value, field) => the value to use. `null` and `undefined`
// never reach them: they mean "not set".
const uint = (max, problem = `must be an integer from 0 to ${max}`, min = 0) =>
  (v, f) => (Number.isInteger(v) && v >= min && v <= max ? v : fail(f, problem));
const U16 = uint(65535);
const U32 = uint(4294967295);
const POSITIVE16 = uint(65535, 'must be a positive integer', 1);
const POSITIVE32 = uint(4294967295, 'must be a positive integer', 1);
const MILLIS = uint(2 ** 53 - 1, 'must be a non-negative integer');
const ZERO_TO_TWO = uint(2, 'must be 0, 1 or 2');
const BOOL = (v, f) => (typeof v === 'boolean' ? v : fail(f, 'must be true or false'));
const STR = (v, f) => (typeof v === 'string' ? v : fail(f, 'must be a string'));
// A UTF-8 Encoded String: no U+0000 [MQTT-1.5.4-2].
const TEXT = (v, f) => (STR(v, f).includes('\0') ? fail(f, 'contains a null character') : v);
const FN = (v, f) => (typeof v === 'function' ? v : fail(f, 'must be a function'));
const TOPIC = (v, f) => {
  TEXT(v, f);
  if (v === '') fail(f, 'topic is empty');
  if (/[+#]/.test(v)) fail(f, 'topic name contains a wildcard');
  return v;
};
const PAIRS = (v, f) => {
  const list = Array.isArray(v)
    ? v
    : Object.entries(typeof v === 'object' ? v : fail(f, 'must be an array of [string, string] pairs'))
      .flatMap(([k, x]) => (Array.isArray(x) ? x : [x]).map((one) => [k, String(one)]));
  for (const p of list) {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') {
      fail(f, 'must be an array of [string, string] pairs');
    }
  }
  return list;
};

const join = (path, k) => (path ? `${path}.${k}` : k);

/** The set fields of `o` (absent: none), each checked by `schema`; an unknown one is an error. */
export function read(o, path, schema) {
  const out = {};
  if (o == null) return out;
  if (typeof o !== 'object') fail(path || 'options', 'must be an object');
  for (const k of Object.keys(o)) {
    const field = join(path, k);
    if (!schema[k]) fail(field, 'is not a known option');
    if (o[k] != null) out[k] = schema[k](o[k], field);
  }
  return out;
}

// Properties: [identifier, check] by option name (MQTT 5.0 section 2.2.2.2).
const MESSAGE = {
  payloadFormatIndicator: [0x01, BOOL],
  messageExpiryInterval: [0x02, U32],
  contentType: [0x03, STR],
  responseTopic: [0x08, TOPIC],
  correlationData: [0x09, bytes],
  userProperties: [0x26, PAIRS],
};
const WILL = { ...MESSAGE, willDelayInterval: [0x18, U32] };
const CONNECT = {
  sessionExpiryInterval: [0x11, U32],
  receiveMaximum: [0x21, POSITIVE16],
  maximumPacketSize: [0x27, POSITIVE32],
  topicAliasMaximum: [0x22, U16],
  requestResponseInformation: [0x19, BOOL],
  requestProblemInformation: [0x17, BOOL],
  userProperties: [0x26, PAIRS],
  authenticationMethod: [0x15, STR],
  authenticationData: [0x16, bytes],
};

const varint = (n) => {
  const out = [];
  do {
    const low = n % 128;
    n = Math.floor(n / 128);
    out.push(n ? low | 128 : low);
  } while (n);
  return out;
};

/** The byte arrays (or arrays of bytes) of `parts`, one after another. */
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, a) => n + a.length, 0));
  let i = 0;
  for (const a of parts) { out.set(a, i); i += a.length; }
  return out;
}

/**
 * Checks the fields of `o` by `table` (name: [property identifier or 0,
 * check]) and encodes the properties as MQTT puts them on the wire:
 * Property Length, then each. Returns [the checked fields, the bytes].
 */
function properties(o, path, table) {
  const schema = {};
  for (const k in table) schema[k] = table[k][1];
  const checked = read(o, path, schema);
  const parts = [];
  let length = 0;
  const put = (a) => { parts.push(a); length += a.length; };
  const blob = (b, f) => {
    if (b.length > 65535) fail(f, 'is longer than 65535 bytes');
    put([b.length >> 8, b.length & 255]);
    put(b);
  };
  for (const k in checked) {
    const [id] = table[k];
    const v = checked[k];
    const f = join(path, k);
    if (!id) continue;
    if (Array.isArray(v)) {
      for (const [key, value] of v) {
        put([id]);
        blob(encoder.encode(key), f);
        blob(encoder.encode(value), f);
      }
    } else if (id === 0x0b) put([id, ...varint(v)]);
    else if (typeof v === 'boolean') put([id, +v]);
    else if (typeof v === 'string') { put([id]); blob(encoder.encode(v), f); }
    else if (v instanceof Uint8Array) { put([id]); blob(v, f); }
    else if (id === 0x21 || id === 0x22) put([id, v >> 8, v & 255]);
    else put([id, v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255]);
  }
  return [checked, concat([varint(length)].concat(parts))];
}

const object = (v, f) => (typeof v === 'object' ? v : fail(f, 'must be an object'));

// The connect options record's tags, as src/options.rs names them (`mod
// field`; src/boundary.rs checks both sides agree).
const O_CLIENT_ID = 1;
const O_USERNAME = 2;
const O_PASSWORD = 3;
const O_KEEPALIVE = 4;
const O_CLEAN = 5;
const O_CONNECT_TIMEOUT = 6;
const O_PING_TIMEOUT = 7;
const O_PROTOCOL_VERSION = 8;
const O_PROPERTIES = 9;
const O_WILL_TOPIC = 10;
const O_WILL_PAYLOAD = 11;
const O_WILL_QOS = 12;
const O_WILL_RETAIN = 13;
const O_WILL_PROPERTIES = 14;
const O_RECONNECT = 15;
const O_RECONNECT_INITIAL_DELAY = 16;
const O_RECONNECT_MAX_DELAY = 17;
const O_RECONNECT_MAX_ATTEMPTS = 18;
const O_RECONNECT_RESET_AFTER = 19;
const O_RESUBSCRIBE = 20;
const O_REQUEUE_UNACKED = 21;
const O_QUEUE_LIMIT = 22;
const O_QUEUE_QOS0 = 23;
const O_AUTO_TOPIC_ALIAS = 24;
const O_RANDOM_SEED = 25;

/**
 * The record src/options.rs reads: each set field as its tag, then a flag
 * (one byte), a whole number (base 128, low digits first) or bytes (their
 * length so, then them; a string as UTF-8), by the value's type.
 */
function record(fields) {
  const parts = [];
  for (const [tag, v] of fields) {
    if (v == null) continue;
    parts.push([tag]);
    if (typeof v === 'boolean') parts.push([+v]);
    else if (typeof v === 'number') parts.push(varint(v));
    else {
      const b = typeof v === 'string' ? encoder.encode(v) : v;
      parts.push(varint(b.length), b);
    }
  }
  return concat(parts);
}

/**
 * `new WasmClient(url, ...connectArgs(url, options))`: the URL checked and
 * the options as the record src/options.rs reads.
 */
export function connectArgs(url, options) {
  let problem;
  try {
    problem = /^(wss?|https?):$/.test(new URL(url).protocol) ? '' : 'must be a ws:// or wss:// URL';
  } catch {
    problem = 'is not a valid URL';
  }
  if (problem) throw new MqttError(`invalid url ${url}: ${problem}`, 'INVALID_URL');
  const o = read(options, '', {
    clientId: TEXT,
    username: TEXT,
    password: bytes,
    keepalive: U16,
    clean: BOOL,
    connectTimeout: MILLIS,
    pingTimeout: MILLIS,
    protocolVersion: (v, f) => (v === 4 || v === 5 ? v : fail(f, 'must be 4 or 5')),
    will: object,
    properties: object,
    reconnect: (v, f) => (typeof v === 'boolean' || typeof v === 'object' ? v : fail(f, 'must be a boolean or an object')),
    resubscribe: BOOL,
    requeueUnacked: BOOL,
    queue: object,
    autoTopicAlias: BOOL,
    credentials: FN,
    // `wasmqtt/store` only, which checks the rest of the options itself;
    // the core entry calls it an unknown option.
    ...(STORE && { store: (v, f) => (typeof v?.open === 'function' ? v : fail(f, 'must be a store from wasmqtt/store')) }),
    // A class with the browser WebSocket's API (Node 20: `ws`'s WebSocket).
    WebSocket: FN,
    // For tests: fixed reconnect jitter.
    randomSeed: (v, f) => (typeof v === 'number' && v >= 0 && v <= 1 ? v : fail(f, 'must be a number from 0 to 1')),
  });
  const will = o.will && read(o.will, 'will', {
    topic: TOPIC,
    payload: bytes,
    qos: ZERO_TO_TWO,
    retain: BOOL,
    properties: object,
  });
  if (will && will.topic === undefined) fail('will.topic', 'is required');
  const reconnect = typeof o.reconnect === 'object' ? read(o.reconnect, 'reconnect', {
    initialDelay: MILLIS, maxDelay: MILLIS, maxAttempts: U32, resetAfter: MILLIS,
  }) : {};
  const queue = read(o.queue, 'queue', { limit: U32, qos0: BOOL });
  const seed = new Uint32Array(1);
  globalThis.crypto?.getRandomValues?.(seed);
  return [record([
    [O_CLIENT_ID, o.clientId],
    [O_USERNAME, o.username],
    [O_PASSWORD, o.password],
    [O_KEEPALIVE, o.keepalive],
    [O_CLEAN, o.clean],
    [O_CONNECT_TIMEOUT, o.connectTimeout],
    [O_PING_TIMEOUT, o.pingTimeout],
    [O_PROTOCOL_VERSION, o.protocolVersion],
    [O_PROPERTIES, properties(o.properties, 'properties', CONNECT)[1]],
    [O_WILL_TOPIC, will?.topic],
    [O_WILL_PAYLOAD, will?.payload],
    [O_WILL_QOS, will?.qos],
    [O_WILL_RETAIN, will?.retain],
    [O_WILL_PROPERTIES, will && properties(will.properties, 'will.properties', WILL)[1]],
    [O_RECONNECT, o.reconnect !== false],
    [O_RECONNECT_INITIAL_DELAY, reconnect.initialDelay],
    [O_RECONNECT_MAX_DELAY, reconnect.maxDelay],
    [O_RECONNECT_MAX_ATTEMPTS, reconnect.maxAttempts],
    [O_RECONNECT_RESET_AFTER, reconnect.resetAfter],
    [O_RESUBSCRIBE, o.resubscribe],
    [O_REQUEUE_UNACKED, o.requeueUnacked],
    [O_QUEUE_LIMIT, queue.limit],
    [O_QUEUE_QOS0, queue.qos0],
    [O_AUTO_TOPIC_ALIAS, o.autoTopicAlias],
    // A whole number below 2^53: the fraction's bits.
    [O_RANDOM_SEED, Math.floor((o.randomSeed ?? (seed[0] / 2 ** 32 || Math.random())) * (2 ** 53 - 1))],
  ])];
}

/**
 * `publish(topic, payload, ...publishArgs(options, request))`: QoS, retain,
 * properties and, for a request only, the timeout in ms.
 */
export function publishArgs(options, request) {
  const [o] = properties(options, '', {
    qos: [0, ZERO_TO_TWO], retain: [0, BOOL], properties: [0, object], timeout: [0, MILLIS],
  });
  if (o.properties?.willDelayInterval != null) fail('properties.willDelayInterval', 'is only for the will');
  return [o.qos ?? 0, !request && (o.retain ?? false),
    properties(o.properties, 'properties', MESSAGE)[1], request ? o.timeout ?? 30000 : undefined];
}

const SUBSCRIBE = {
  // A Variable Byte Integer, 0 excluded.
  subscriptionIdentifier: [0x0b, uint(268435455, 'must be an integer from 1 to 268435455', 1)],
  userProperties: [0x26, PAIRS],
};

/**
 * `subscribe(filters, ...subscribeArgs(options))`: the options byte and the
 * properties, given at the top level or, as in MQTT.js, in `properties`.
 * `handler` is taken by the caller.
 */
export function subscribeArgs(options) {
  const [o, props] = properties(options, '', {
    qos: [0, ZERO_TO_TWO],
    nl: [0, BOOL],
    rap: [0, BOOL],
    rh: [0, ZERO_TO_TWO],
    handler: [0, FN],
    properties: [0, object],
    ...SUBSCRIBE,
  });
  return [(o.qos ?? 0) | (o.nl ? 4 : 0) | (o.rap ? 8 : 0) | ((o.rh ?? 0) << 4),
    o.properties ? properties(o.properties, 'properties', SUBSCRIBE)[1] : props];
}

/** `end(force, ...endArgs(options))`: the reason code and the properties. */
export function endArgs(options) {
  const [o, props] = properties(options, '', {
    reasonCode: [0, uint(255)],
    sessionExpiryInterval: [0x11, U32],
    userProperties: [0x26, PAIRS],
    reasonString: [0x1f, STR],
  });
  return [o.reasonCode ?? 0, props];
}
