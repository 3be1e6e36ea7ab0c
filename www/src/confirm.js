// A modal question before anything destructive (a <dialog>: focus is
// trapped, Escape cancels).

import { $ } from './frame.js';

/** Resolves true when the person chose `action`, false on Cancel or Escape. */
export function confirmAction(title, body, action) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-body').textContent = body;
  $('confirm-ok').textContent = action;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}
