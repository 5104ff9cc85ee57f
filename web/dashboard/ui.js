// Confirmation dialog and notices (the visible result of every action).
import { $, fill, h } from './dom.js';

/** Asks before a change; resolves true when confirmed. Uses the page's <dialog id="confirm">. */
export const confirmAction = (title, message, confirmLabel) =>
  new Promise((resolve) => {
    const dialog = $('#confirm');
    fill($('#confirm-title'), title);
    fill($('#confirm-message'), message);
    const ok = $('#confirm-ok');
    ok.textContent = confirmLabel;
    const done = (answer) => {
      dialog.removeEventListener('close', onClose);
      ok.removeEventListener('click', onOk);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = (e) => {
      e.preventDefault();
      done(true);
    };
    const onClose = () => done(false);
    ok.addEventListener('click', onOk);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    $('#confirm-cancel').focus();
  });

/** Shows a notice: kind 'ok' | 'error' | 'info'; errors carry a hint of what to do next. */
export const notify = (text, kind = 'ok', hint = '') => {
  const box = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('strong', {}, text), hint ? h('div', { class: 'hint' }, hint) : null);
  const close = h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss', onclick: () => box.remove() }, '×');
  box.prepend(close);
  $('#toasts').append(box);
  setTimeout(() => box.remove(), kind === 'error' ? 15_000 : 6_000);
  return box;
};

/** An error for display: message plus what to do next. */
export const notifyError = (what, err) => notify(`${what}: ${err.message}`, 'error', err.hint ?? '');

/** A status badge. */
export const badge = (status) => h('span', { class: `badge badge-${status}` }, status);

/** A progress bar with its percentage. */
export const progressBar = (percent, status) =>
  h(
    'div',
    { class: `progress progress-${status}`, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': percent },
    h('div', { class: 'progress-fill', style: { width: `${percent}%` } }),
    h('span', { class: 'progress-text' }, `${percent}%`),
  );
