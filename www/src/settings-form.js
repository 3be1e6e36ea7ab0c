// The settings form: broker, credentials and topic prefix; saving them
// reconnects.

import { $ } from './frame.js';
import { cleanPrefix, defaultBrokerUrl, saveSettings } from './settings.js';

/** `connection` (Connection) is restarted with what is saved. */
export function wireSettingsForm(serverConfig, connection) {
  const form = $('settings');

  const toggle = (open = form.hidden) => {
    form.hidden = !open;
    $('settings-toggle').setAttribute('aria-expanded', String(open));
    if (!open) return;
    const { settings } = connection;
    form.broker.value = settings.broker;
    form.username.value = settings.username;
    form.password.value = settings.password;
    form.prefix.value = settings.prefix;
    $('default-broker').textContent = defaultBrokerUrl(serverConfig);
    form.broker.focus();
  };

  $('settings-toggle').addEventListener('click', () => toggle());
  $('banner-settings').addEventListener('click', () => toggle(true));
  $('settings-reset').addEventListener('click', () => {
    form.broker.value = defaultBrokerUrl(serverConfig);
    form.username.value = '';
    form.password.value = '';
    form.prefix.value = 'devices';
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const settings = {
      broker: form.broker.value.trim(),
      username: form.username.value.trim(),
      password: form.password.value,
      prefix: cleanPrefix(form.prefix.value) || 'devices',
    };
    saveSettings(settings, serverConfig);
    toggle(false);
    connection.start(settings);
  });
}
