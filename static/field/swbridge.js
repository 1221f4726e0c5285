/* The bridge to the service worker (after squoosh's sw-bridge): registration, the waiting
 * new version, the order to take over, and Background Sync. The page decides when an update
 * may take over (app.js: only while no visit is open); this module only carries it out.
 *
 * A new version installs in the background and waits (service-worker/sw.js never skips
 * waiting by itself). It is offered once it is installed while an older worker controls the
 * page; applyUpdate() tells it to take over, and the page reloads once when it has.
 */

let waiting = null;
let reloadOnChange = false;

/** Register the worker (scope /). `onUpdate()`: a new version is waiting (updateWaiting() is
 *  now true); `onSync()`: the worker passed on a Background Sync wake-up. Checks for a new
 *  version every 30 minutes while the app is open. */
export async function startWorker({ onUpdate, onSync }) {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.register('/service-worker.js', { scope: '/' });
  const offer = () => {
    if (registration.waiting && navigator.serviceWorker.controller) {
      waiting = registration.waiting;
      onUpdate();
    }
  };
  offer();
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    if (worker) worker.addEventListener('statechange', () => worker.state === 'installed' && offer());
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // only after applyUpdate(): the first install's claim() changes nothing
    if (reloadOnChange) location.reload();
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'sync') onSync();
  });
  setInterval(() => registration.update().catch(() => {}), 30 * 60 * 1000);
}

/** True when a new version is installed and waiting. */
export function updateWaiting() {
  return !!waiting;
}

/** Tell the waiting version to take over; the page reloads when it has. */
export function applyUpdate() {
  if (!waiting) return;
  reloadOnChange = true;
  waiting.postMessage({ type: 'skip-waiting' });
}

/** Background Sync where the browser has it: a wake-up for the open pages, nothing more (the
 *  pages send the outbox themselves). */
export function askBackgroundSync() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready
    .then((registration) => registration.sync && registration.sync.register('outbox'))
    .catch(() => {});
}
