/* How the worker answers: the shell from the precache, everything else from the network.
 *
 * Only two kinds of request are touched: navigations under /field/ (answered with the cached
 * shell, whatever the hash route) and the precached static URLs (cache first). The API and
 * the office pages go to the network untouched: the app keeps its own data in IndexedDB.
 */

const PRECACHED = new Set(SHELL.urls.map((url) => new URL(url, self.location.origin).href));

function isShellNavigation(request, url) {
  return request.mode === 'navigate' && url.origin === self.location.origin &&
    url.pathname.startsWith(SHELL.shell);
}

function isPrecached(url) {
  return PRECACHED.has(url.origin + url.pathname);
}

/** The cached shell page; the network only when the cache lost it (storage cleared). */
async function shellFirst() {
  const cache = await caches.open(SHELL.cache);
  const cached = await cache.match(SHELL.shell);
  return cached || fetch(SHELL.shell, { credentials: 'same-origin' });
}

/** Cache first for a precached file, network when it is missing. */
async function cacheFirst(request, url) {
  const cache = await caches.open(SHELL.cache);
  const cached = await cache.match(url.origin + url.pathname);
  return cached || fetch(request);
}

/** The response for a fetch event, or null to let the browser go to the network itself. */
function route(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (isShellNavigation(request, url)) return shellFirst();
  if (isPrecached(url) && request.mode !== 'navigate') return cacheFirst(request, url);
  return null;
}
