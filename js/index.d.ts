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
  /** No Local. */
  nl?: boolean;
  /** Retain As Published. */
  rap?: boolean;
  /** Retain Handling: 0 send, 1 send if new, 2 do not send. */
  rh?: 0 | 1 | 2;
  subscriptionIdentifier?: number;
  userProperties?: Array<[string, string]>;
}

export type SubscribeResult = { topic: string; qos: QoS } | { topic: string; reasonCode: number };

export interface EndOptions {
  reasonCode?: number;
  sessionExpiryInterval?: number;
  reasonString?: string;
  userProperties?: Array<[string, string]>;
}

/** Properties as received, with Uint8Array for binary ones. */
export interface ReceivedProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  subscriptionIdentifiers?: number[];
  userProperties?: Array<[string, string]>;
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
}

/**
 * Every failure the client reports. `code` is one of:
 * - options and arguments: 'INVALID_OPTIONS' (the message names the field, e.g. `will.qos`),
 *   'INVALID_TOPIC', 'INVALID_FILTER', 'NOT_IN_MQTT_3_1_1', 'INVALID_ARGUMENT';
 * - server limits (from CONNACK): 'QOS_NOT_SUPPORTED', 'RETAIN_NOT_SUPPORTED', 'NOT_SUPPORTED',
 *   'PACKET_TOO_LARGE';
 * - operations: 'REJECTED' (with the PUBACK/PUBREC `reasonCode`), 'EXPIRED', 'SESSION_LOST',
 *   'QUEUE_FULL', 'NOT_CONNECTED' (offline QoS 0 without queueing, or the connection ended for
 *   good: refused, out of reconnect attempts, reconnect off), 'CLIENT_ENDED', 'REQUEST_TIMEOUT';
 * - the connection (`error` events): 'CONNECTION_REFUSED' (CONNACK `reasonCode`),
 *   'SERVER_DISCONNECTED' (DISCONNECT `reasonCode`), 'PROTOCOL_ERROR' (the `reasonCode` we sent),
 *   'CONNECT_TIMEOUT', 'KEEPALIVE_TIMEOUT', 'CONNECTION_LOST', 'CREDENTIALS_FAILED',
 *   'SUBSCRIPTION_LOST', 'INIT_FAILED' (the wasm module did not load).
 */
export class MqttError extends Error {
  readonly name: 'MqttError';
  /** Stable code, e.g. 'CONNECTION_REFUSED', 'QUEUE_FULL', 'REJECTED', 'INVALID_OPTIONS'. */
  readonly code: string;
  /** The MQTT reason code involved, if any. */
  readonly reasonCode?: number;
  constructor(message: string, code: string, reasonCode?: number);
}

export class MqttClient {
  readonly connected: boolean;
  readonly clientId: string | undefined;
  readonly server: ServerLimits | undefined;
  readonly metrics: Metrics | undefined;
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  off<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  once<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<number | undefined>;
  request(topic: string, payload: Payload, options?: RequestOptions): Promise<PublishPacket>;
  subscribe(filters: string | string[], options?: SubscribeOptions, handler?: MessageHandler): Promise<SubscribeResult[]>;
  subscribe(filters: string | string[], handler: MessageHandler): Promise<SubscribeResult[]>;
  unsubscribe(filters: string | string[]): Promise<number[]>;
  messages(filter: string, options?: SubscribeOptions): AsyncIterableIterator<{ topic: string; payload: Uint8Array; packet: PublishPacket }>;
  auth(data?: string | Uint8Array): Promise<void>;
  end(force?: boolean, options?: EndOptions): Promise<void>;
  end(options: EndOptions): Promise<void>;
  endAsync(force?: boolean, options?: EndOptions): Promise<void>;
}

/** Loads the wasm module (done for you by connect). */
export function init(moduleOrPath?: string | URL | Response | BufferSource | WebAssembly.Module): Promise<unknown>;
/**
 * Starts connecting and returns the client at once. Never throws: bad options or URL
 * are an `error` event (MqttError 'INVALID_OPTIONS') and reject every call.
 */
export function connect(url: string, options?: ConnectOptions): MqttClient;
/** Resolves with the client on CONNACK; rejects (and ends the client) on the first error. */
export function connectAsync(url: string, options?: ConnectOptions): Promise<MqttClient>;
