// Turns the client's MqttError events into something a person can act on.

const REFUSED = {
  0x80: 'the broker refused the connection (unspecified error)',
  0x81: 'the broker could not parse our CONNECT',
  0x82: 'the broker reported a protocol error',
  0x84: 'the broker does not speak MQTT 5',
  0x85: 'the broker rejected the client identifier',
  0x86: 'the user name or password is wrong',
  0x87: 'this client is not authorized to connect — the broker probably needs a user name and password',
  0x88: 'the broker is unavailable',
  0x89: 'the broker is busy',
  0x8a: 'this client is banned',
  0x8c: 'the broker does not support this authentication method',
  0x9c: 'the broker asks to use another server',
  0x9d: 'the broker has moved',
  0x9f: 'connections are being rate-limited',
};

const hex = (code) => `0x${code.toString(16).padStart(2, '0').toUpperCase()}`;

/**
 * { title, body, settings } for an `error` event. `everConnected` tells a
 * lost connection from a broker that was never reached.
 */
export function describeError(error, { url, everConnected }) {
  const code = error?.code ?? 'ERROR';
  const reason = error?.reasonCode;
  switch (code) {
    case 'CONNECTION_REFUSED': {
      const why = REFUSED[reason] ?? error.message;
      const credentials = reason === 0x86 || reason === 0x87;
      return {
        title: credentials ? 'The broker rejected the credentials.' : 'The broker refused the connection.',
        body: `${capitalize(why)} (reason code ${hex(reason ?? 0x80)}).${
          credentials ? ' Check the username and password in Settings.' : ''
        }`,
        settings: true,
      };
    }
    case 'CONNECT_FAILED':
    case 'CONNECTION_LOST':
      return everConnected
        ? { title: 'Lost the connection to the broker.', body: 'Reconnecting with backoff…', settings: false }
        : {
            title: `Cannot reach the broker at ${url}.`,
            body: 'Is it running, and is this the right address and port? '
              + 'Start the whole demo with "bash scripts/demo.sh", or change the broker URL in Settings.',
            settings: true,
          };
    case 'CONNECT_TIMEOUT':
      return {
        title: 'The broker did not answer.',
        body: `No CONNACK from ${url} in time. Is it an MQTT 5 WebSocket endpoint?`,
        settings: true,
      };
    case 'KEEPALIVE_TIMEOUT':
      return { title: 'The broker stopped answering.', body: 'Keep-alive timed out; reconnecting…', settings: false };
    case 'SERVER_DISCONNECTED':
      return {
        title: 'The broker closed the connection.',
        body: `${capitalize(error.message)}${reason !== undefined ? ` (reason code ${hex(reason)})` : ''}.`,
        settings: false,
      };
    case 'PROTOCOL_ERROR':
      return { title: 'Protocol error.', body: error.message, settings: false };
    case 'SHARED_OPTIONS_MISMATCH':
      return {
        title: 'Other tabs use this broker with other settings.',
        body: `The dashboard's tabs share one connection to ${url}, opened by the first of them, and this tab's `
          + 'username or password differs from theirs. Use the same settings here, or close the other tabs first.',
        settings: true,
      };
    case 'INVALID_OPTIONS':
    case 'INVALID_URL':
      return { title: 'These settings cannot work.', body: error.message, settings: true };
    default:
      return { title: `Error (${code}).`, body: error?.message ?? String(error), settings: false };
  }
}

function capitalize(text) {
  const s = String(text ?? '');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
