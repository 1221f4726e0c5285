/* The outbox: queue -> store -> request serialiser (after workbox-background-sync's Queue,
 * QueueStore and StorableRequest), with one difference that matters for evidence: an answer
 * counts as success only when it is JSON whose `key` echoes the UUID sent. A captive portal's
 * 200, a proxy's error page or a 5xx put the entry back, in its place, for a later try.
 *
 *   2xx + receipt.key == key  -> sent (receipt kept; the kind's `delivered` runs)
 *   409 / 404 / 413 / 415 / 422 / other 4xx -> refused, with the server's reason
 *   401 (or 403: the account must act) -> entry kept, sync stops, "please sign in again"
 *   400/403 csrf_failed        -> fresh token from /api/v1/auth/csrf-token, same request again
 *   5xx, 429, no answer, not JSON -> back to waiting with a back-off; this run stops
 *
 * The queue knows no kind of entry. Each kind registers itself from its own module
 * (registerKind: record.js, photos.js, signdata.js): how an entry becomes a request, what its
 * receipt changes on the phone, and its rank in the queue.
 */
import { AuthRequired, Offline, csrfToken, errorMessage, readJson } from './api.js';
import { allEntries, entriesWithStatus, putEntry, rewriteEntries } from './db.js';
import { localIso } from './ui.js';
import { t } from './i18n.js';

export const BACKOFF_MS = [5_000, 15_000, 60_000, 180_000, 600_000];

export function backoff(attempts) {
  return BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length) - 1] || BACKOFF_MS[0];
}

const kinds = new Map();

/** Register a kind of entry: `{rank(entry), toRequest(entry), delivered(entry, receipt)}`.
 *  rank: lower goes first (then the order queued); toRequest: resolves with `{url, init}`
 *  (fetch's arguments) or throws when the entry cannot be sent (it is then refused);
 *  delivered: runs after the receipt (optional). */
export function registerKind(kind, handler) {
  kinds.set(kind, handler);
}

/** A new entry of `kind`, waiting: the queue's bookkeeping plus the kind's own fields. */
export function newEntry(kind, fields) {
  return {
    kind, status: 'waiting', attempts: 0, next_try: 0, receipt: null, error: null, ...fields,
  };
}

export { allEntries };

/** Entries left 'sending' by a closed tab or a crash go back to 'waiting'. Called under the
 *  sync lock, so no other sync is sending them right now. */
export function resetInterrupted() {
  // it may have reached the server: a later save must never replace it
  return rewriteEntries('sending', (entry) => ({ ...entry, status: 'waiting', attempts: entry.attempts + 1, maybe_sent: true }));
}

/** The next entry to send: by the rank of its kind (records before signatures before photos:
 *  the record lists its photos), each rank in the order queued. Only the signed-in user's
 *  entries; entries of a kind nobody registered wait. */
export async function nextEntry(user) {
  const waiting = (await entriesWithStatus('waiting'))
    .filter((e) => (!user || !e.user || e.user === user) && kinds.has(e.kind))
    .map((e) => ({ e, rank: kinds.get(e.kind).rank(e) }))
    .sort((a, b) => a.rank - b.rank || a.e.seq - b.e.seq);
  return waiting.length ? waiting[0].e : null;
}

async function update(entry, changes) {
  const next = { ...entry, ...changes };
  await putEntry(next);
  return next;
}

/** Send one entry. Resolves when it was sent or refused; throws AuthRequired or Offline
 *  (after putting the entry back) when the run must stop. */
export async function send(entry, freshToken = false) {
  const kind = kinds.get(entry.kind);
  let request;
  try {
    request = await kind.toRequest(entry);
  } catch (error) {
    await update(entry, { status: 'refused', error: String(error.message || error) });
    return;
  }
  entry = await update(entry, { status: 'sending', last_try: localIso() });
  let token;
  try {
    token = await csrfToken(freshToken);
  } catch (error) {  // the request itself never left: the entry is as it was
    await putBack(entry, error instanceof AuthRequired ? null : String(error.message || error),
      !(error instanceof AuthRequired), false);
    if (error instanceof AuthRequired) throw error;
    throw new Offline(String(error));
  }
  let response;
  let json;
  try {
    response = await fetch(request.url, {
      ...request.init, credentials: 'same-origin',
      headers: { ...request.init.headers, Accept: 'application/json', 'X-CSRFToken': token },
    });
    json = await readJson(response);
  } catch (error) {
    await putBack(entry, String(error.message || error), true, true);
    throw new Offline(String(error));
  }
  const status = response.status;
  if ((status === 200 || status === 201) && json && json.key === entry.key) {
    await update(entry, { status: 'sent', receipt: json, error: null, sent_at: localIso() });
    if (kind.delivered) await kind.delivered(entry, json);
    return;
  }
  const code = json && json.error && json.error.code;
  if ((status === 400 || status === 403) && code === 'csrf_failed' && !freshToken) {
    await update(entry, { status: 'waiting' });
    return send({ ...entry, status: 'waiting' }, true);
  }
  if (status === 401 || status === 403) {
    await putBack(entry, errorMessage(json, status), false, false);
    throw new AuthRequired(errorMessage(json, status));
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429 && json) {
    await update(entry, { status: 'refused', error: errorMessage(json, status), refused_at: localIso() });
    return;
  }
  const why = json ? errorMessage(json, status) : t('HTTP {0}：不是服务器的回执', status);
  await putBack(entry, why, true, true);
  throw new Offline(why);
}

/** Back to waiting, in the same place in the queue (same seq), with a back-off when counted.
 *  `maybeSent`: the PUT went out and no receipt came back, so the server may hold it. */
async function putBack(entry, error, counts, maybeSent) {
  const attempts = entry.attempts + (counts ? 1 : 0);
  await update(entry, {
    status: 'waiting', attempts, error,
    next_try: counts ? Date.now() + backoff(attempts) : 0,
    maybe_sent: !!(entry.maybe_sent || maybeSent),
  });
}
