/* The outbox: queue -> store -> request serialiser (after workbox-background-sync's Queue,
 * QueueStore and StorableRequest), with one difference that matters for evidence: an answer
 * counts as success only when it is JSON whose `key` echoes the UUID sent. A captive portal's
 * 200, a proxy's error page or a 5xx put the entry back, in its place, for a later try.
 *
 *   2xx + receipt.key == key  -> sent (receipt kept; a photo's bytes are dropped only now)
 *   409 / 404 / 413 / 415 / 422 / other 4xx -> refused, with the server's reason
 *   401 (or 403: the account must act) -> entry kept, sync stops, "please sign in again"
 *   400/403 csrf_failed        -> fresh token from /api/v1/auth/csrf-token, same request again
 *   5xx, 429, no answer, not JSON -> back to waiting with a back-off; this run stops
 */
import { AuthRequired, Offline, csrfToken, errorMessage, readJson } from './api.js';
import { db } from './db.js';
import { localIso } from './ui.js';
import { signatureDelivered, signatureUpload } from './signdata.js';
import { t } from './i18n.js';

export const BACKOFF_MS = [5_000, 15_000, 60_000, 180_000, 600_000];

export function backoff(attempts) {
  return BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length) - 1] || BACKOFF_MS[0];
}

export async function allEntries() {
  return (await db()).getAll('outbox');
}

/** Entries left 'sending' by a closed tab or a crash go back to 'waiting'. Called under the
 *  sync lock, so no other sync is sending them right now. */
export async function resetInterrupted() {
  const database = await db();
  const tx = database.transaction('outbox', 'readwrite');
  for (const entry of await tx.store.index('status').getAll('sending')) {
    // it may have reached the server: a later save must never replace it
    await tx.store.put({ ...entry, status: 'waiting', attempts: entry.attempts + 1, maybe_sent: true });
  }
  await tx.done;
}

/** The next entry to send: records before photos (the record lists its photos), each in the
 *  order they were queued. Only the signed-in user's entries. */
export async function nextEntry(user) {
  const waiting = (await (await db()).getAllFromIndex('outbox', 'status', 'waiting'))
    .filter((e) => !user || !e.user || e.user === user)
    .sort((a, b) => a.seq - b.seq);
  return waiting.find((e) => e.kind === 'record') ||
    waiting.find((e) => e.kind === 'signature') ||
    waiting.find((e) => e.kind === 'photo' && !e.original) ||
    waiting.find((e) => e.kind === 'photo') || null;
}

/** StorableRequest: the entry as fetch() arguments. Photo bytes are read from `photos`. */
async function toRequest(entry) {
  if (entry.kind === 'record') {
    return {
      url: `/api/v1/field/records/${entry.key}`,
      init: { method: 'PUT', body: entry.body, headers: { 'Content-Type': 'application/json' } },
    };
  }
  if (entry.kind === 'signature') {  // the upload body is built from the stored data
    const signature = await (await db()).get('signatures', entry.key);
    if (!signature || !signature.strokes) throw new Error('签名数据已不在本机');
    return {
      url: `/api/v1/field/signatures/${entry.key}`,
      init: { method: 'PUT', body: JSON.stringify(signatureUpload(signature)), headers: { 'Content-Type': 'application/json' } },
    };
  }
  const photo = await (await db()).get('photos', entry.photo);
  const body = photo && (entry.original ? photo.original : photo.data);
  if (!body) throw new Error(t('照片数据已不在本机'));
  const headers = {
    'Content-Type': entry.type, 'X-Visit': photo.visit, 'X-Content-SHA256': entry.sha256,
    'X-Original-SHA256': photo.original_sha256, 'X-Taken-At': photo.taken_at,
  };
  if (photo.question) headers['X-Question'] = photo.question;
  if (photo.document_copy) headers['X-Document-Copy'] = '1';
  if (entry.original) headers['X-Original'] = '1';
  return { url: `/api/v1/field/photos/${entry.key}`, init: { method: 'PUT', body, headers } };
}

async function update(entry, changes) {
  const next = { ...entry, ...changes };
  await (await db()).put('outbox', next);
  return next;
}

/** After a photo's receipt: drop the full bytes, keep the thumbnail and the receipt. */
async function photoDelivered(entry, receipt) {
  const database = await db();
  const tx = database.transaction('photos', 'readwrite');
  const photo = await tx.store.get(entry.photo);
  if (photo) {
    if (entry.original) {
      photo.original = null;
      photo.original_receipt = receipt;
    } else {
      photo.data = null;
      photo.receipt = receipt;
      photo.status = 'sent';
    }
    await tx.store.put(photo);
  }
  await tx.done;
}

/** Send one entry. Resolves when it was sent or refused; throws AuthRequired or Offline
 *  (after putting the entry back) when the run must stop. */
export async function send(entry, freshToken = false) {
  let request;
  try {
    request = await toRequest(entry);
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
    if (entry.kind === 'photo') await photoDelivered(entry, json);
    if (entry.kind === 'signature') await signatureDelivered(entry, json);
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
