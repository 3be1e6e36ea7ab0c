// A tile's buttons: a command as MQTT 5 request/response with a timeout, and
// Kill, confirmed first and proven by the will the broker publishes.

import { confirmAction } from './confirm.js';

const COMMAND_TIMEOUT_MS = 5000;
const decoder = new TextDecoder();

function formatReply(reply) {
  if (reply && typeof reply === 'object') {
    return Object.entries(reply).map(([k, v]) => `${k} ${v}`).join(' · ');
  }
  return String(reply);
}

export class Commands {
  /** `connection`: its current client and settings are used. */
  constructor(connection) {
    this.connection = connection;
  }

  send = async (tile, text) => {
    const c = this.connection.client;
    if (!c) return;
    tile.send.disabled = true;
    tile.showReply('pending', `→ ${text} … waiting up to ${COMMAND_TIMEOUT_MS / 1000} s for the reply`);
    const started = performance.now();
    try {
      const response = await c.request(`${this.connection.settings.prefix}/${tile.id}/commands`, text, {
        qos: 1,
        timeout: COMMAND_TIMEOUT_MS,
      });
      const ms = Math.round(performance.now() - started);
      const raw = decoder.decode(response.payload);
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        body = { ok: true, reply: raw };
      }
      if (body.ok === false) tile.showReply('err', `✗ ${text}: ${body.error ?? raw}  (${ms} ms)`);
      else tile.showReply('ok', `✓ ${text}: ${formatReply(body.reply ?? body)}  (${ms} ms)`);
    } catch (e) {
      if (e?.code === 'REQUEST_TIMEOUT') {
        tile.showReply('err', `✗ ${text}: no reply within ${COMMAND_TIMEOUT_MS / 1000} s${tile.status === 'offline' ? ' — the device is offline' : ''}`);
      } else {
        tile.showReply('err', `✗ ${text}: ${e?.message ?? e}${e?.code ? ` (${e.code})` : ''}`);
      }
    } finally {
      tile.send.disabled = false;
    }
  };

  kill = async (tile) => {
    const c = this.connection.client;
    if (!c) return;
    const sure = await confirmAction(`Kill ${tile.id}?`,
      `The simulated device drops its connection without saying goodbye, as a crash would; `
      + `the broker then publishes its will ("offline"). It comes back after its revive delay.`,
      `Kill ${tile.id}`);
    if (!sure || this.connection.client !== c) return;
    tile.kill.disabled = true;
    tile.killing = true;
    try {
      tile.killSentAt = performance.now();
      await c.publish('sim/kill', tile.id, { qos: 1 });
      if (tile.killSentAt !== undefined) {
        tile.showReply('pending', `☠ kill sent: ${tile.id} drops its socket without DISCONNECT; waiting for its will…`);
      }
    } catch (e) {
      tile.killing = false;
      tile.kill.disabled = tile.status !== 'online';
      tile.showReply('err', `✗ kill: ${e?.message ?? e}`);
    }
  };

  /** A status message for the device of `tile` (if shown): ends a pending kill. */
  statusHeard(tile, status) {
    if (!tile) return;
    if (status === 'offline' && tile.killSentAt !== undefined) {
      const ms = Math.round(performance.now() - tile.killSentAt);
      tile.showReply('ok', `☠ killed: the broker published ${tile.id}'s will ("offline") ${ms} ms after the kill`);
    }
    tile.killSentAt = undefined;
    tile.killing = false;
  }
}
