/* The field app's service worker: listeners only (precache.js and strategies.js do the work).
 *
 * Versioning: the server derives SHELL.cache from a hash of the shell files, so any change
 * makes a new worker. A new worker installs in the background and then WAITS: it is activated
 * only when the page says it is safe (no visit open) by posting {type: 'skip-waiting'}, or
 * when every tab of the app has been closed. It never calls skipWaiting() by itself.
 */

self.addEventListener('install', (event) => {
  event.waitUntil(precacheShell());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(deleteStaleCaches().then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const answer = route(event.request);
  if (answer) event.respondWith(answer);
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'skip-waiting') self.skipWaiting();
  if (data.type === 'version' && event.ports[0]) event.ports[0].postMessage(SHELL.version);
});

/* Background Sync (Chromium only) is a wake-up: the open pages run their own sync, which
 * holds the Web Lock; with no page open, the outbox waits safely in IndexedDB. */
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then((clients) => {
    clients.forEach((client) => client.postMessage({ type: 'sync' }));
  }));
});
