/* When the outbox is sent: after each save (shortly after, so typing coalesces), on `online`,
 * when the app opens or becomes visible, on a timer with exponential back-off while the app is
 * open, from the "同步" button, and when Background Sync wakes the worker (Chromium only).
 *
 * navigator.locks.request('sync') makes one sync run at a time across every tab of the app;
 * a trigger that finds the lock taken just marks "run again" for the holder in this tab.
 *
 * The sync state (phase: idle, sending, offline, error or auth; a message) is this module's
 * alone: others read it (status()) and change it only through the functions below, so every
 * listener (onChange) hears of every change.
 */
import { AuthRequired, Offline, csrfToken } from './api.js';
import { backoff, nextEntry, resetInterrupted, send } from './outbox.js';
import { askBackgroundSync } from './swbridge.js';
import { t } from './i18n.js';

const AFTER_SAVE_MS = 1500;
let timer = null;
let soon = null;
let failures = 0;
let again = false;
let running = false;
let user = null;
const listeners = new Set();
const state = { phase: 'idle', message: '', next: 0 };

/** The sync state as it is now (a copy): {phase, message, next}. */
export function status() {
  return { ...state };
}

/** `fn(status)` after every change of the sync state. */
export function onChange(fn) {
  listeners.add(fn);
}

function emit(phase, message = '') {
  Object.assign(state, { phase, message });
  listeners.forEach((fn) => fn(status()));
}

/** The session has ended (a 401 outside the outbox: a screen's own request): the phase is
 *  'auth' until a sync is asked for again from the button (syncNow) or a run succeeds. */
export function authRequired(message = '') {
  emit('auth', message);
}

/** The "同步" button: whatever stopped the last run (the session, the network), try again now. */
export function syncNow() {
  emit('idle');
  return requestSync('button');
}

export function setUser(id) {
  user = id;
}

/** Ask for a run: now, or `AFTER_SAVE_MS` after the last save when `afterSave`. */
export function requestSync(reason = 'manual', afterSave = false) {
  if (afterSave) {
    clearTimeout(soon);
    soon = setTimeout(() => requestSync('save'), AFTER_SAVE_MS);
    askBackgroundSync();
    return Promise.resolve();
  }
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request('sync', { ifAvailable: true }, async (lock) => {
      if (!lock) {
        again = true;
        return;
      }
      await runAll(reason);
    });
  }
  if (running) {
    again = true;
    return Promise.resolve();
  }
  running = true;
  return runAll(reason).finally(() => {
    running = false;
  });
}

async function runAll(reason) {
  do {
    again = false;
    await runOnce(reason);
  } while (again && state.phase !== 'auth');
}

async function runOnce(reason) {
  clearTimeout(timer);
  if (!navigator.onLine) {  // surely offline: wait for the `online` event, try nothing
    emit('offline', t('没有网络'));
    return;
  }
  emit('sending', reason);
  try {
    await resetInterrupted();
    let entry = await nextEntry(user);
    // A token kept from earlier in the page's life may be stale (signed out and in again
    // elsewhere, a new session): ask for a fresh one once per run, before sending anything.
    if (entry) await csrfToken(true);
    for (; entry; entry = await nextEntry(user)) {
      await send(entry);
      emit('sending', reason);
    }
    failures = 0;
    emit('idle');
  } catch (error) {
    if (error instanceof AuthRequired) {
      emit('auth', error.message);
      return;
    }
    failures += 1;
    const wait = backoff(failures);
    state.next = Date.now() + wait;
    timer = setTimeout(() => requestSync('timer'), wait);
    emit(error instanceof Offline ? 'offline' : 'error', String(error.message || error));
  }
}
