// The page's two tabs, fleet and explorer: click or the arrow keys.

import { $ } from './frame.js';

/** `shown(tab)`: called with the tab element just selected. */
export function wireTabs(shown) {
  const tabs = [$('tab-fleet'), $('tab-explorer')];
  const show = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    shown(tab);
  };
  for (const t of tabs) {
    t.addEventListener('click', () => show(t));
    t.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const next = tabs[(tabs.indexOf(t) + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      next.focus();
      show(next);
    });
  }
}
