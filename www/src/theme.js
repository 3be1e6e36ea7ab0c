// Light, dark or the system's choice, cycled by the header's button and
// remembered.

import { $ } from './frame.js';
import { recall, remember } from './stored.js';

const KEY = 'wasmqtt-dashboard.theme';
const THEMES = ['auto', 'light', 'dark'];

/** Applies the remembered theme now; `applied()` after every change of colours. */
export function wireTheme(applied) {
  let theme = recall(KEY, 'auto');
  const apply = () => {
    if (theme === 'auto') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    $('theme-toggle').textContent = `Theme: ${theme}`;
    applied();
  };
  $('theme-toggle').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    remember(KEY, theme);
    apply();
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => theme === 'auto' && apply());
  apply();
}
