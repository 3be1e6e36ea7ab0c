// What the tabs of shared mode and their hub (js/shared-hub.js) say to each
// other: one message shape per direction, errors as plain records (an
// MqttError does not survive structured cloning), and the options key that
// decides whether a tab may join a connection.
//
// tab -> hub: { from, t: 'hello', url, key, creds, subs } | { from, t: 'call', n, op, a }
//             | { from, t: 'creds', n, ok, v } | { from, t: 'bye', n }
// hub -> tab: { to, t: 'welcome', epoch, state } | { to, t: 'refused', e }
//             | { to, t: 'reply', n, ok, v } | { to, t: 'msgs', m: [[packet, filters], …] }
//             | { to, t: 'creds', n } | { to: '*', t: 'event', name, a, state }
//             | { to: '*', t: 'state', state } | { to: '*', t: 'leader', epoch }
import { MqttError } from './index.js';

/** The Web Lock a tab holds while it lives: its hub watches it to learn when it closes or crashes. */
export const tabLock = (id) => `wasmqtt tab ${id}`;

export const errorToWire = (e) => ({ message: e?.message ?? String(e), code: e?.code ?? 'FAILED', reasonCode: e?.reasonCode });

export const errorFromWire = ({ message, code, reasonCode }) => new MqttError(message, code, reasonCode);

/**
 * The connection a tab asks for, as a string two tabs compare: the URL and
 * every option, keys sorted, bytes as numbers; a credentials provider
 * counts as present or not (functions stay in their tab).
 */
export function optionsKey(url, options) {
  const canon = (v) => {
    if (typeof v === 'function') return true;
    if (ArrayBuffer.isView(v)) return [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
    if (v instanceof ArrayBuffer) return [...new Uint8Array(v)];
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
    }
    return v;
  };
  return JSON.stringify([String(url), canon(options ?? {})]);
}
