/* The app shell's precache: install it whole or not at all, delete stale versions.
 *
 * `SHELL` (a preamble written by the server, inspection/fieldwork/field_views.py) names the
 * versioned cache ("field-shell-<hash of the shell files>") and the URLs to keep. Plain script,
 * no modules: the server joins precache.js, strategies.js and sw.js into /service-worker.js, so
 * the worker runs on browsers without module workers (older Safari and Firefox).
 */

/** Fetch every shell URL, revalidated with the server, and store them; any failure fails the
 *  install, so a half-filled cache never becomes active. A redirect (the sign-in page, when the
 *  session has ended) is a failure too: the worker would otherwise serve the sign-in page as
 *  the app. `cache: 'no-cache'` asks the server whether what the page has just loaded is still
 *  current (ETag): on a first visit the answers are 304s and nothing is downloaded twice. */
async function precacheShell() {
  const cache = await caches.open(SHELL.cache);
  await Promise.all(SHELL.urls.map(async (url) => {
    const response = await fetch(new Request(url, { cache: 'no-cache', credentials: 'same-origin' }));
    if (!response.ok || response.redirected) {
      throw new Error(`precache: ${url} answered ${response.status}${response.redirected ? ' (redirected)' : ''}`);
    }
    await cache.put(url, response);
  }));
}

/** Delete the caches of earlier shell versions (same prefix, another hash). */
async function deleteStaleCaches() {
  const names = await caches.keys();
  await Promise.all(names
    .filter((name) => name.startsWith(SHELL.prefix) && name !== SHELL.cache)
    .map((name) => caches.delete(name)));
}
