// Where the page connects and what it listens to.
//
// Precedence: the address's query (?broker=…&username=…&prefix=…), then the
// defaults. The default broker URL is ws://<this page's host>:<port>/mqtt,
// with the port from ?wsPort=… or from config.json (written by
// scripts/demo.sh next to the served files). The password never goes in the
// address: it lives in this tab's sessionStorage.

const PASSWORD_KEY = 'wasmqtt-dashboard.password';
const FALLBACK_WS_PORT = 8080;

/** Loads config.json if the server has one; {} otherwise. */
export async function loadServerConfig() {
  try {
    const res = await fetch('./config.json', { cache: 'no-store' });
    if (!res.ok) return {};
    const json = await res.json();
    return json && typeof json === 'object' ? json : {};
  } catch {
    return {};
  }
}

function hostForUrl(hostname) {
  if (!hostname) return 'localhost';
  return hostname.includes(':') ? `[${hostname}]` : hostname;
}

/** The broker URL to use when the user did not choose one. */
export function defaultBrokerUrl(config, params = new URLSearchParams(location.search)) {
  const port = Number(params.get('wsPort') ?? config.wsPort ?? FALLBACK_WS_PORT);
  const path = config.wsPath ?? '/mqtt';
  return `ws://${hostForUrl(location.hostname)}:${port}${path}`;
}

export function readSettings(config) {
  const params = new URLSearchParams(location.search);
  let password = '';
  try {
    password = sessionStorage.getItem(PASSWORD_KEY) ?? '';
  } catch {
    // Storage can be disabled; the password then lasts until reload.
  }
  return {
    broker: params.get('broker') || defaultBrokerUrl(config, params),
    username: params.get('username') ?? '',
    password,
    prefix: cleanPrefix(params.get('prefix') ?? '') || 'devices',
  };
}

/** Saves settings: the address keeps what differs from the defaults. */
export function saveSettings(settings, config) {
  const params = new URLSearchParams(location.search);
  const set = (key, value, fallback) => {
    if (value && value !== fallback) params.set(key, value);
    else params.delete(key);
  };
  set('broker', settings.broker, defaultBrokerUrl(config, params));
  set('username', settings.username, '');
  set('prefix', settings.prefix, 'devices');
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  try {
    if (settings.password) sessionStorage.setItem(PASSWORD_KEY, settings.password);
    else sessionStorage.removeItem(PASSWORD_KEY);
  } catch {
    // See readSettings.
  }
}

/** A topic prefix without wildcards or surrounding slashes. */
export function cleanPrefix(prefix) {
  return prefix.trim().replace(/^\/+|\/+$/g, '');
}
