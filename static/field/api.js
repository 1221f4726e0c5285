/* The network edge: JSON reads and the CSRF token, with errors the app can act on.
 *
 * AuthRequired: the session has ended (401). The app keeps everything and asks the inspector
 * to sign in again. Offline: no answer at all, or not one from our server (a captive portal
 * answering HTML counts as offline). HttpError: the server said no.
 */

export class AuthRequired extends Error {}
export class Offline extends Error {}
export class HttpError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let token = null;

/** Our server's JSON, or null when the answer is not JSON (a portal, a proxy page). */
export async function readJson(response) {
  const type = response.headers.get('Content-Type') || '';
  if (!type.includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

export function errorMessage(json, status) {
  const error = json && json.error;
  if (!error) return `HTTP ${status}`;
  const fields = error.fields ? Object.entries(error.fields)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : JSON.stringify(v)}`).join('; ') : '';
  return fields ? `${error.message} (${fields})` : error.message;
}

/** GET our server's JSON. `timeout` (ms): give up then, as when offline (a server that does
 *  not answer must not keep a screen from being drawn). */
export async function getJson(path, { timeout = 0 } = {}) {
  let response;
  const abort = timeout && typeof AbortController === 'function' ? new AbortController() : null;
  const timer = abort ? setTimeout(() => abort.abort(), timeout) : null;
  try {
    response = await fetch(path, {
      credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: abort ? abort.signal : undefined,
    });
  } catch (error) {
    throw new Offline(String(error));
  } finally {
    clearTimeout(timer);
  }
  const json = await readJson(response);
  if (response.status === 401) throw new AuthRequired(errorMessage(json, 401));
  if (json === null) throw new Offline(`no JSON from ${path} (HTTP ${response.status})`);
  if (!response.ok) throw new HttpError(response.status, errorMessage(json, response.status), json);
  return { json, response };
}

/** A small JSON write outside the outbox (the interface language, the leader's arrangement):
 *  a fresh CSRF token, the body as JSON; the same errors as getJson. */
export async function sendJson(method, path, body) {
  const csrf = await csrfToken(true);
  let response;
  try {
    response = await fetch(path, {
      method, credentials: 'same-origin', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf },
    });
  } catch (error) {
    throw new Offline(String(error));
  }
  const json = await readJson(response);
  if (response.status === 401) throw new AuthRequired(errorMessage(json, 401));
  if (json === null) throw new Offline(`no JSON from ${path} (HTTP ${response.status})`);
  if (!response.ok) throw new HttpError(response.status, errorMessage(json, response.status), json);
  return json;
}

/** PUT our server's JSON (sendJson). */
export function putJson(path, body) {
  return sendJson('PUT', path, body);
}

/** The CSRF token for writes: asked once, again when `fresh` (after a csrf_failed answer). */
export async function csrfToken(fresh = false) {
  if (!token || fresh) {
    const { json } = await getJson('/api/v1/auth/csrf-token');
    token = json.csrf_token;
  }
  return token;
}
