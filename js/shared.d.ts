// Types for wasmqtt/shared: one MQTT connection per origin and broker URL, shared by every
// open tab. The client has the core client's API (js/index.d.ts).
import type { ClientEvents, ConnectOptions, MqttClient, QoS } from './index.js';

export { MqttError, text, json } from './index.js';
export type * from './index.js';

/** Shared mode's events: the core client's, plus `resend`. */
export interface SharedClientEvents extends ClientEvents {
  /**
   * Without SharedWorker only: the leader tab closed with this tab's QoS 1/2 publish in flight;
   * the new leader sent it again (the broker may see it twice). Its promise settles as usual.
   */
  resend: (publish: { topic: string; qos: QoS }) => void;
}

/**
 * A tab's proxy of the shared connection. `connected`, `clientId`, `server` and `metrics`
 * describe the shared connection (`metrics` as of at most a second ago); `end()` detaches
 * this tab, and the connection ends with the last tab.
 */
export interface SharedClient extends Omit<MqttClient, 'on' | 'off' | 'once' | 'addListener' | 'removeListener'> {
  on<E extends keyof SharedClientEvents>(event: E, listener: SharedClientEvents[E]): this;
  off<E extends keyof SharedClientEvents>(event: E, listener: SharedClientEvents[E]): this;
  once<E extends keyof SharedClientEvents>(event: E, listener: SharedClientEvents[E]): this;
  addListener<E extends keyof SharedClientEvents>(event: E, listener: SharedClientEvents[E]): this;
  removeListener<E extends keyof SharedClientEvents>(event: E, listener: SharedClientEvents[E]): this;
}

/** Shared mode's options: the core's, without `WebSocket` (the connection is not in this tab). */
export type SharedConnectOptions = Omit<ConnectOptions, 'WebSocket'>;

/**
 * Joins the connection to `url` this origin's tabs share, or opens it. Never throws: a tab
 * whose options differ from the first tab's gets an `error` event (MqttError
 * 'SHARED_OPTIONS_MISMATCH') and every call rejects with it.
 */
export function connect(url: string, options?: SharedConnectOptions): SharedClient;
/** Resolves with the client once the shared connection is up; rejects (and ends it) on the first error. */
export function connectAsync(url: string, options?: SharedConnectOptions): Promise<SharedClient>;

declare const shared: {
  connect: typeof connect;
  connectAsync: typeof connectAsync;
  text: typeof import('./index.js').text;
  json: typeof import('./index.js').json;
  MqttError: typeof import('./index.js').MqttError;
};
export default shared;
