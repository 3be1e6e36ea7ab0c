// Types for wasmqtt's public API.

export type QoS = 0 | 1 | 2;
export type Payload = string | Uint8Array | ArrayBuffer | ArrayBufferView;
export type UserProperties = Record<string, string | string[]> | Array<[string, string]>;

/** Application message properties (MQTT 5.0). */
export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: string | Uint8Array;
  userProperties?: UserProperties;
}

export interface WillProperties extends PublishProperties {
  willDelayInterval?: number;
}

export interface ConnectProperties {
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumPacketSize?: number;
  topicAliasMaximum?: number;
  requestResponseInformation?: boolean;
  requestProblemInformation?: boolean;
  userProperties?: UserProperties;
  authenticationMethod?: string;
  authenticationData?: string | Uint8Array;
}

export interface ReconnectOptions {
  /** Ceiling of the first delay in ms (default 1000). */
  initialDelay?: number;
  /** Largest delay in ms (default 30000). */
  maxDelay?: number;
  /** Give up after this many attempts in a row (default: never). */
  maxAttempts?: number;
  /** A connection up this long (ms) resets the attempt count (default 10000). */
  resetAfter?: number;
}

export interface ConnectOptions {
  clientId?: string;
  username?: string;
  password?: string | Uint8Array;
  /** Seconds; 0 turns keep-alive off (default 60). */
  keepalive?: number;
  /** Clean Start on the first connection (default true). */
  clean?: boolean;
  /** Milliseconds to wait for CONNACK (default 30000). */
  connectTimeout?: number;
  /** Milliseconds to wait for PINGRESP (default: half the keep-alive). */
  pingTimeout?: number;
  /** 5 (default) or 4 for MQTT 3.1.1. */
  protocolVersion?: 4 | 5;
  will?: {
    topic: string;
    payload?: Payload;
    qos?: QoS;
    retain?: boolean;
    properties?: WillProperties;
  };
  properties?: ConnectProperties;
  /** Exponential backoff with full jitter, or false to stay down. */
  reconnect?: boolean | ReconnectOptions;
  /** Subscribe again when the server lost the session (default true). */
  resubscribe?: boolean;
  /** Re-send unacknowledged QoS 1/2 messages when the server lost the session (default true). */
  requeueUnacked?: boolean;
  /** Messages waiting while offline or over the server's Receive Maximum. */
  queue?: { limit?: number; qos0?: boolean };
  /** Use Topic Aliases within the server's maximum. */
  autoTopicAlias?: boolean;
  /** Called before every (re)connect, for expiring tokens. */
  credentials?: () => Promise<{ username?: string; password?: string | Uint8Array }>;
  /**
   * The WebSocket class to use (default: the global one). For Node 20 and
   * other runtimes without one, e.g. `WebSocket` from the `ws` package.
   */
  WebSocket?: new (url: string, protocol: string) => unknown;
  /**
   * Where the session's QoS 1/2 state is kept so it survives a page reload: a store from
   * `wasmqtt/store` (`indexedDBStore()`), passed to the `connect` of `wasmqtt/store` (the
   * same client over a wasm built with the store; the core `wasmqtt` entry has none of it and
   * calls `store` an unknown option). Needs `clientId`, `clean: false` and, in MQTT 5.0,
   * `properties.sessionExpiryInterval` > 0. Without one (the default) the session lives in
   * memory only.
   */
  store?: SessionStore;
}

/** A store from `wasmqtt/store`; the client calls these, applications call `flush()`. */
export interface SessionStore {
  /** Resolves once what the client was asked to do so far is stored. */
  flush(): Promise<void>;
  /** @internal The client has the store read what it kept before it starts. */
  open(client: MqttClient, options: ConnectOptions, error: typeof MqttError): Promise<void>;
  /**
   * @internal The client's wasm started: the store restores what it kept into it, and tells
   * it later how many journal batches have committed (some output waits for them).
   */
  started(wasm: { restore(records: Uint8Array): number[]; committed(batches: number): void; storeFailed(): void }): void;
  /** @internal A batch of the session's journal. */
  write(journal: Uint8Array): void;
}

/** What a store brought back (the `restored` event). */
export interface RestoredCounts {
  /** Publishes that were sent and not yet acknowledged: re-sent (DUP) if the server kept the session. */
  inFlight: number;
  /** Publishes that had not been sent yet. */
  queued: number;
  /** QoS 2 messages already delivered to this client and awaiting PUBREL: not delivered again. */
  inbound: number;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  properties?: PublishProperties;
}

export interface RequestOptions extends PublishOptions {
  /** Milliseconds to wait for the response (default 30000). */
  timeout?: number;
}

export interface SubscribeOptions {
  qos?: QoS;
  /** This subscription's own message handler (see `messages()` for an async iterator). */
  handler?: MessageHandler;
  /** No Local. */
  nl?: boolean;
  /** Retain As Published. */
  rap?: boolean;
  /** Retain Handling: 0 send, 1 send if new, 2 do not send. */
  rh?: 0 | 1 | 2;
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
  /** MQTT.js's place for the two above; used instead of them when given. */
  properties?: { subscriptionIdentifier?: number; userProperties?: UserProperties };
}

/** The object form: each filter with its own options (one SUBSCRIBE each). */
export type SubscriptionMap = Record<string, SubscribeOptions>;

export type SubscribeResult = { topic: string; qos: QoS } | { topic: string; reasonCode: number };

export interface EndOptions {
  reasonCode?: number;
  sessionExpiryInterval?: number;
  reasonString?: string;
  userProperties?: UserProperties;
}

/** Properties as received, with Uint8Array for binary ones. */
export interface ReceivedProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  subscriptionIdentifiers?: number[];
  /**
   * As in MQTT.js: `{ key: value }`, the values of a key sent more than once
   * as an array (`{ tag: ['a', 'b'] }`). The object has no prototype.
   */
  userProperties?: Record<string, string | string[]>;
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  maximumQoS?: QoS;
  retainAvailable?: boolean;
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifierAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
}

export interface PublishPacket {
  topic: string;
  /**
   * A view into the buffer of the WebSocket frame the message came in
   * (no copy per message); `payload.slice()` for a copy of its own when
   * keeping many payloads of large frames.
   */
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  properties?: ReceivedProperties;
}

export interface ConnAckPacket {
  sessionPresent: boolean;
  reasonCode: number;
  properties: ReceivedProperties;
}

export interface DisconnectPacket {
  reasonCode: number;
  reasonString?: string;
  serverReference?: string;
}

export interface AuthPacket {
  reasonCode: number;
  properties: ReceivedProperties;
}

export interface ServerLimits {
  receiveMaximum: number;
  maximumQoS: QoS;
  retainAvailable: boolean;
  maximumPacketSize?: number;
  topicAliasMaximum: number;
  wildcardSubscriptionAvailable: boolean;
  subscriptionIdentifierAvailable: boolean;
  sharedSubscriptionAvailable: boolean;
  serverKeepAlive?: number;
  responseInformation?: string;
  assignedClientIdentifier?: string;
  sessionExpiryInterval?: number;
}

export interface Metrics {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  messagesIn: number;
  messagesOut: number;
  inFlight: number;
  queued: number;
  reconnects: number;
  roundTripTime?: number;
}

export type MessageHandler = (topic: string, payload: Uint8Array, packet: PublishPacket) => void;

/**
 * `close` follows every connection that ends (then `offline` if it had been up and was lost,
 * not ended by `end()`); `end` comes last, once, after `end()`.
 */
export interface ClientEvents {
  connect: (connack: ConnAckPacket) => void;
  message: MessageHandler;
  reconnecting: (next: { attempt: number; delay: number }) => void;
  reconnect: (attempt: number) => void;
  offline: () => void;
  close: () => void;
  disconnect: (packet: DisconnectPacket) => void;
  error: (error: MqttError) => void;
  end: () => void;
  auth: (packet: AuthPacket) => void;
  /**
   * The page is being frozen (tab freezing, or the back/forward cache): the connection is
   * closed now; the `error` ('CONNECTION_LOST'), `close`, `offline` and `reconnecting` that
   * follow come from the freeze, not from the network.
   */
  freeze: () => void;
  /** The frozen page was thawed: the client reconnects at once and resumes its session. */
  resume: () => void;
  /**
   * A store (`options.store`) brought back the session of an earlier page, before the first
   * connect. Their promises died with that page: these publishes settle without one;
   * `metrics.inFlight` and `metrics.queued` count them down.
   */
  restored: (counts: RestoredCounts) => void;
}

/** Every `MqttError.code` the package produces. */
export type MqttErrorCode =
  // Options and arguments: the message names the field (e.g. `will.qos`).
  | 'INVALID_OPTIONS' | 'INVALID_URL' | 'INVALID_TOPIC' | 'INVALID_FILTER' | 'NOT_IN_MQTT_3_1_1'
  | 'INVALID_ARGUMENT'
  // Server limits (from CONNACK).
  | 'QOS_NOT_SUPPORTED' | 'RETAIN_NOT_SUPPORTED' | 'NOT_SUPPORTED' | 'PACKET_TOO_LARGE'
  // Operations: REJECTED has the PUBACK/PUBREC `reasonCode`; NOT_CONNECTED is offline QoS 0
  // without queueing, or the connection ended for good (refused, out of reconnect attempts,
  // reconnect off); FAILED: a message that could not be sent for another reason.
  | 'REJECTED' | 'EXPIRED' | 'SESSION_LOST' | 'QUEUE_FULL' | 'NOT_CONNECTED' | 'CLIENT_ENDED'
  | 'REQUEST_TIMEOUT' | 'FAILED'
  // The connection (`error` events): CONNECT_FAILED is a WebSocket that never opened (port
  // closed, wrong path, subprotocol refused; the message names the URL), CONNECTION_LOST one
  // that was open; CONNECTION_REFUSED has the CONNACK `reasonCode`, SERVER_DISCONNECTED the
  // DISCONNECT's, PROTOCOL_ERROR the one we sent; DISCONNECTED: ended for another reason.
  | 'CONNECT_FAILED' | 'CONNECTION_LOST' | 'CONNECTION_REFUSED' | 'SERVER_DISCONNECTED'
  | 'PROTOCOL_ERROR' | 'CONNECT_TIMEOUT' | 'KEEPALIVE_TIMEOUT' | 'CREDENTIALS_FAILED'
  | 'SUBSCRIPTION_LOST' | 'DISCONNECTED'
  // The session store (`wasmqtt/store`): STORE_LOCKED rejects the client (another tab holds
  // the session); the others are `error` events after which the client goes on from memory.
  | 'STORE_LOCKED' | 'STORE_UNAVAILABLE' | 'STORE_FAILED' | 'STORE_CORRUPT'
  // The wasm module did not load (the message names the URL and what came back).
  | 'INIT_FAILED'
  // Shared mode (wasmqtt/shared): a tab asked for other connection options than the tab that
  // opened the shared connection; a QoS 0 publish, request or auth was in flight when the
  // leader tab closed (it may or may not have been sent).
  | 'SHARED_OPTIONS_MISMATCH' | 'SHARED_LEADER_LOST';

/** Every failure the client reports. */
export class MqttError extends Error {
  readonly name: 'MqttError';
  /** Stable code: compare with `===`; a typo fails to compile. */
  readonly code: MqttErrorCode;
  /** The MQTT reason code involved, if any. */
  readonly reasonCode?: number;
  constructor(message: string, code: MqttErrorCode, reasonCode?: number);
}

/** MQTT.js-style completion callback, called besides settling the promise. */
export type Callback<T> = (error: MqttError | null, result?: T) => void;

export class MqttClient {
  readonly connected: boolean;
  readonly clientId: string | undefined;
  readonly server: ServerLimits | undefined;
  readonly metrics: Metrics | undefined;
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  off<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  once<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  /** Same as `on` (MQTT.js's name). */
  addListener<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  /** Same as `off` (MQTT.js's name). */
  removeListener<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  /** Removes the listeners of `event`, or of every event. */
  removeAllListeners(event?: keyof ClientEvents): this;
  listenerCount(event: keyof ClientEvents): number;
  /**
   * Settles on PUBACK (QoS 1) or PUBCOMP (QoS 2) with the PUBACK/PUBREC reason code (0 or
   * 0x10 No matching subscribers), or for QoS 0 with `undefined` once the bytes are handed to
   * the WebSocket. A reason code of 0x80 or more rejects (MqttError 'REJECTED').
   */
  publish(topic: string, payload: Payload, options?: PublishOptions, callback?: Callback<number | undefined>): Promise<number | undefined>;
  publish(topic: string, payload: Payload, callback: Callback<number | undefined>): Promise<number | undefined>;
  request(topic: string, payload: Payload, options?: RequestOptions): Promise<PublishPacket>;
  /**
   * A function argument is an MQTT.js-style callback(error, results), never a message
   * handler: a subscription's own handler is `options.handler`.
   */
  subscribe(filters: string | string[] | SubscriptionMap, options?: SubscribeOptions, callback?: Callback<SubscribeResult[]>): Promise<SubscribeResult[]>;
  subscribe(filters: string | string[] | SubscriptionMap, callback: Callback<SubscribeResult[]>): Promise<SubscribeResult[]>;
  /** Resolves with the UNSUBACK reason code of each filter. */
  unsubscribe(filters: string | string[], options?: Record<string, never>, callback?: Callback<number[]>): Promise<number[]>;
  unsubscribe(filters: string | string[], callback: Callback<number[]>): Promise<number[]>;
  messages(filter: string, options?: SubscribeOptions): AsyncIterableIterator<{ topic: string; payload: Uint8Array; packet: PublishPacket }>;
  auth(data?: string | Uint8Array): Promise<void>;
  end(force?: boolean, options?: EndOptions, callback?: Callback<void>): Promise<void>;
  end(force: boolean, callback: Callback<void>): Promise<void>;
  end(options: EndOptions, callback?: Callback<void>): Promise<void>;
  end(callback: Callback<void>): Promise<void>;
  publishAsync: MqttClient['publish'];
  subscribeAsync: MqttClient['subscribe'];
  unsubscribeAsync: MqttClient['unsubscribe'];
  endAsync: MqttClient['end'];
}

/**
 * Loads the wasm module (done for you by connect, from `wasmqtt_bg.wasm` beside the package's
 * JS). Call it first to host the wasm elsewhere: a URL, or the bytes, a Response or a compiled
 * module (or a promise of one). Only the first call counts.
 */
export function init(source?: string | URL | Response | BufferSource | WebAssembly.Module
  | Promise<Response | BufferSource | WebAssembly.Module>): Promise<void>;
/** A payload (or any bytes) as UTF-8 text: MQTT.js's `payload.toString()`. */
export function text(payload: Uint8Array): string;
/** A payload parsed as JSON (UTF-8): MQTT.js's `JSON.parse(payload.toString())`. */
export function json<T = unknown>(payload: Uint8Array): T;
/**
 * Starts connecting and returns the client at once. Never throws: bad options or URL
 * are an `error` event (MqttError 'INVALID_OPTIONS') and reject every call.
 */
export function connect(url: string, options?: ConnectOptions): MqttClient;
/** Resolves with the client on CONNACK; rejects (and ends the client) on the first error. */
export function connectAsync(url: string, options?: ConnectOptions): Promise<MqttClient>;

/** `import mqtt from 'wasmqtt'`, as with MQTT.js. */
declare const wasmqtt: {
  connect: typeof connect;
  connectAsync: typeof connectAsync;
  init: typeof init;
  text: typeof text;
  json: typeof json;
  MqttClient: typeof MqttClient;
  MqttError: typeof MqttError;
};
export default wasmqtt;
