// What the page says about its connection: the header's state, the error
// banner, and the message shown while no device has been heard of.

import { describeError } from './errors.js';
import { $ } from './frame.js';

const LABELS = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
};

let state = 'connecting';
let countdown = null;

/** One of the keys of LABELS. */
export const connState = () => state;

export function setConnState(next, detail) {
  if (next !== 'reconnecting' && countdown) {
    clearInterval(countdown);
    countdown = null;
  }
  state = next;
  $('conn').dataset.state = next;
  $('conn-label').textContent = LABELS[next];
  setConnDetail(detail ?? '');
  document.title = `${next === 'connected' ? '●' : '○'} wasmqtt · device monitor`;
}

export function setConnDetail(text) {
  $('conn-detail').textContent = text;
}

/** "Reconnecting: attempt N in 1.2 s", counted down until the attempt. */
export function startCountdown(attempt, delay) {
  const due = Date.now() + delay;
  setConnState('reconnecting', '');
  const show = () => {
    const left = Math.max(0, due - Date.now()) / 1000;
    setConnDetail(`attempt ${attempt} in ${left.toFixed(1)} s`);
  };
  show();
  countdown = setInterval(show, 100);
}

/** An error explained in the banner; `context` is { url, everConnected }. */
export function showError(e, context) {
  const { title, body, settings: offerSettings } = describeError(e, context);
  showBanner(title, body, offerSettings);
  $('banner').dataset.code = e?.code ?? '';
}

export function showBanner(title, body, offerSettings) {
  $('banner-title').textContent = title;
  $('banner-body').textContent = body;
  $('banner-settings').hidden = !offerSettings;
  $('banner').hidden = false;
}

export function hideBanner() {
  $('banner').hidden = true;
  $('banner').dataset.code = '';
}

/** The placeholder of an empty fleet: hidden once a device is known. */
export function updateEmpty(deviceCount, prefix) {
  const empty = $('empty');
  empty.hidden = deviceCount > 0;
  if (deviceCount > 0) return;
  $('empty-text').textContent = state === 'connected'
    ? `Connected. Waiting for devices to publish on ${prefix}/+/telemetry …`
    : 'Not connected to the broker yet.';
}
