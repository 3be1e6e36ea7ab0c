// The page's one MQTT client: made from the settings, replaced when they
// change, its events shown in the header and its messages handed on. It is
// wasmqtt's shared mode: every tab of the dashboard on one broker URL uses
// one connection, so every tab passes the same options (no client id of its
// own: the broker assigns the connection one).

import { connect } from 'wasmqtt/shared';
import { $ } from './frame.js';
import { connState, hideBanner, setConnDetail, setConnState, showBanner, showError, startCountdown } from './status.js';

export const KEEPALIVE_S = 10;

export class Connection {
  client = null;
  /** Bumped for every new client, so late events of an old one are ignored. */
  generation = 0;
  everConnected = false;

  /**
   * `hooks`: reset() before a new client; opened(prefix, isCurrent) as it is
   * made; stateChanged() on connect and close; telemetry and status
   * (topic, payload) for the fleet's subscriptions; attach(client, live,
   * prefix) for listeners of their own.
   */
  constructor(settings, hooks) {
    this.settings = settings;
    this.hooks = hooks;
  }

  /**
   * (Re)connects with `settings`; the previous client, if any, ends first:
   * a tab alone on the shared connection can then change its credentials
   * (the connection closes and reopens), while a tab whose other tabs still
   * hold it with other credentials is refused (SHARED_OPTIONS_MISMATCH).
   */
  async start(settings = this.settings) {
    this.settings = settings;
    const gen = ++this.generation;
    const old = this.client;
    this.client = null;
    this.everConnected = false;
    this.hooks.reset();
    hideBanner();
    $('f-telemetry').textContent = `${settings.prefix}/+/telemetry`;
    $('f-status').textContent = `${settings.prefix}/+/status`;
    setConnState('connecting', `to ${settings.broker}`);
    this.hooks.opened(settings.prefix, () => gen === this.generation);
    await old?.end(true).catch(() => {});
    if (gen !== this.generation) return;

    // Never throws: bad options come as an `error` event.
    const c = connect(settings.broker, {
      keepalive: KEEPALIVE_S,
      connectTimeout: 10_000,
      username: settings.username || undefined,
      password: settings.password || undefined,
      reconnect: { initialDelay: 1000, maxDelay: 15_000 },
    });
    this.client = c;
    const live = (fn) => (...args) => { if (gen === this.generation) fn(...args); };
    const showErr = live((e) => this.showError(e));

    c.on('connect', live(() => {
      this.everConnected = true;
      hideBanner();
      setConnState('connected', settings.broker);
      this.hooks.stateChanged();
    }));
    c.on('reconnecting', live(({ attempt, delay }) => startCountdown(attempt, delay)));
    c.on('reconnect', live((attempt) => setConnState('connecting', `attempt ${attempt}…`)));
    c.on('close', live(() => {
      if (connState() !== 'reconnecting') setConnState('offline', '');
      this.hooks.stateChanged();
    }));
    c.on('disconnect', live((packet) => {
      if (packet?.reasonString) setConnDetail(packet.reasonString);
    }));
    c.on('end', live(() => setConnState('offline', 'stopped')));
    c.on('error', live((e) => {
      this.showError(e);
      // Settings that cannot work never connect: say so instead of "Connecting…".
      if (e?.code === 'INVALID_OPTIONS' || e?.code === 'INVALID_URL') setConnState('offline', 'check the settings');
      // Refused by the connection other tabs share: this tab stays off it.
      if (e?.code === 'SHARED_OPTIONS_MISMATCH') setConnState('offline', 'other tabs use other settings');
    }));

    const { prefix } = settings;
    c.subscribe(`${prefix}/+/telemetry`, { qos: 0, handler: live(this.hooks.telemetry) })
      .then(live(checkGranted))
      .catch(showErr);
    c.subscribe(`${prefix}/+/status`, { qos: 1, handler: live(this.hooks.status) })
      .then(live(checkGranted))
      .catch(showErr);
    this.hooks.attach(c, live, prefix);
  }

  showError(e) {
    showError(e, { url: this.settings.broker, everConnected: this.everConnected });
  }
}

function checkGranted(results) {
  for (const r of results) {
    if (r.reasonCode !== undefined) {
      showBanner('The broker refused a subscription.',
        `${r.topic}: reason code 0x${r.reasonCode.toString(16).toUpperCase()} (not authorized?).`, true);
    }
  }
}
