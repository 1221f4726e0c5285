/* The device's database: IndexedDB through idb, with a versioned schema. The only module that
 * opens it: every other module reads and writes through the named operations below, so the
 * stores' layout and their transactions are in one place. What an operation decides (which
 * revision may be replaced, which photo may go) stays with the module it belongs to, passed in
 * as a plain synchronous function (an IndexedDB transaction ends when it waits on anything
 * else).
 *
 * It is the source of truth on the phone until the server confirms (a receipt).
 *   packs    visit packs for offline use, by visit number
 *   records  the current draft of each visit's record, by record_id (one per visit)
 *   outbox   the upload queue, in order (auto-increment `seq`); `key` is the revision or
 *            photo UUID the server echoes in its receipt
 *   photos   evidence photos: bytes as ArrayBuffer + type (Safari loses Blobs in IndexedDB),
 *            sha256 of the upload and of the original, metadata and a small thumbnail
 *   meta     small values: the signed-in user, the last visit list
 *   signatures  (v2) signatures drawn on the phone: strokes, SVG and PNG (base64) as
 *            data, with their SHA-256; by uuid, index `visit` (static/field/sign.js)
 * A new schema version adds an `if (oldVersion < N)` step; steps are never edited.
 */
import { openDB } from '../vendor/idb/index.js';

export const DB_NAME = 'field-app';
export const DB_VERSION = 2;

let opening = null;

function db() {
  if (!opening) {
    opening = openDB(DB_NAME, DB_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore('packs', { keyPath: 'number' });
          const records = database.createObjectStore('records', { keyPath: 'record_id' });
          records.createIndex('visit', 'visit', { unique: true });
          const outbox = database.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
          outbox.createIndex('key', 'key', { unique: true });
          outbox.createIndex('record', 'record_id');
          outbox.createIndex('status', 'status');
          const photos = database.createObjectStore('photos', { keyPath: 'uuid' });
          photos.createIndex('visit', 'visit');
          database.createObjectStore('meta');
        }
        if (oldVersion < 2) {
          const signatures = database.createObjectStore('signatures', { keyPath: 'uuid' });
          signatures.createIndex('visit', 'visit');
        }
      },
      blocking() {
        // A newer version of the app wants to upgrade the schema in another tab: let it.
        opening.then((database) => database.close());
        opening = null;
      },
    });
  }
  return opening;
}

/** Read-modify-write of one value in one transaction: `change(value)` edits it in place;
 *  nothing happens when the value is gone. */
async function updateOne(store, key, change) {
  const tx = (await db()).transaction(store, 'readwrite');
  const value = await tx.store.get(key);
  if (value) {
    change(value);
    await tx.store.put(value);
  }
  await tx.done;
}

/* ---------- meta ---------- */

export async function getMeta(key) {
  return (await db()).get('meta', key);
}

export async function setMeta(key, value) {
  return (await db()).put('meta', value, key);
}

/* ---------- packs ---------- */

/** The stored pack of a visit: {number, pack, etag, downloaded_at}, or undefined. */
export async function getPack(number) {
  return (await db()).get('packs', number);
}

export async function allPacks() {
  return (await db()).getAll('packs');
}

export async function putPack(stored) {
  return (await db()).put('packs', stored);
}

/* ---------- records ---------- */

/** The draft of a visit's record, or undefined. */
export async function recordOfVisit(visit) {
  return (await db()).getFromIndex('records', 'visit', visit);
}

/** Save the draft and, when `entry` is given, queue it, in one transaction: a crash leaves
 *  either both or neither. The newest record entry of the same record (photo entries share
 *  the index and are stepped over) is overwritten in its place (same seq) when
 *  `replaces(last)` says so; otherwise the entry goes to the end of the queue. */
export async function saveDraft(record, entry, replaces) {
  const tx = (await db()).transaction(['records', 'outbox'], 'readwrite');
  if (entry) {
    // index order is by seq within one record_id
    let cursor = await tx.objectStore('outbox').index('record').openCursor(record.record_id, 'prev');
    while (cursor && cursor.value.kind !== 'record') cursor = await cursor.continue();
    const last = cursor && cursor.value;
    if (last && replaces(last)) {
      await cursor.update({ ...entry, seq: last.seq, replaced: (last.replaced || 0) + 1 });
    } else {
      await tx.objectStore('outbox').add(entry);
    }
  }
  await tx.objectStore('records').put(record);
  await tx.done;
}

/** Replace the phone's record of a visit, in one transaction over records, photos and outbox.
 *  `plan(local, entries, photos)` (the visit's draft, outbox entries and photos as stored) runs
 *  inside it and answers null (nothing changes) or {record, put: [photos], remove: [photo
 *  uuids]}: the visit's draft is replaced by `record`, the photos are written and removed.
 *  Resolves with the plan followed, or null. */
export async function replaceRecord(visit, plan) {
  const tx = (await db()).transaction(['records', 'photos', 'outbox'], 'readwrite');
  const local = await tx.objectStore('records').index('visit').get(visit);
  const entries = (await tx.objectStore('outbox').getAll()).filter((e) => e.visit === visit);
  const photos = await tx.objectStore('photos').index('visit').getAll(visit);
  const next = plan(local, entries, photos);
  if (next) {
    if (local) await tx.objectStore('records').delete(local.record_id);
    for (const uuid of next.remove || []) await tx.objectStore('photos').delete(uuid);
    for (const photo of next.put || []) await tx.objectStore('photos').put(photo);
    await tx.objectStore('records').put(next.record);
  }
  await tx.done;
  return next || null;
}

/* ---------- photos ---------- */

export async function getPhoto(uuid) {
  return (await db()).get('photos', uuid);
}

export async function photosOfVisit(visit) {
  return (await db()).getAllFromIndex('photos', 'visit', visit);
}

/** `change(photo)` edits the stored photo in place (after its upload's receipt). */
export function updatePhoto(uuid, change) {
  return updateOne('photos', uuid, change);
}

/** Store a photo and queue its uploads, in one transaction. */
export async function storePhotoAndQueue(photo, entries) {
  const tx = (await db()).transaction(['photos', 'outbox'], 'readwrite');
  await tx.objectStore('photos').put(photo);
  for (const entry of entries) await tx.objectStore('outbox').add(entry);
  await tx.done;
}

/** Delete a photo and its queued uploads (`keysOf(photo)`: the outbox keys of its uploads),
 *  in one transaction, when `allowed(photo, entries)` says so. Resolves true when deleted. */
export async function deletePhoto(uuid, keysOf, allowed) {
  const tx = (await db()).transaction(['photos', 'outbox'], 'readwrite');
  const photo = await tx.objectStore('photos').get(uuid);
  if (!photo) {
    await tx.done;
    return false;
  }
  const index = tx.objectStore('outbox').index('key');
  const entries = (await Promise.all(keysOf(photo).map((key) => index.get(key)))).filter(Boolean);
  const ok = allowed(photo, entries);
  if (ok) {
    for (const entry of entries) await tx.objectStore('outbox').delete(entry.seq);
    await tx.objectStore('photos').delete(uuid);
  }
  await tx.done;
  return ok;
}

/* ---------- signatures ---------- */

export async function putSignature(signature) {
  await (await db()).put('signatures', signature);
}

export async function getSignature(uuid) {
  return (await db()).get('signatures', uuid);
}

export async function signaturesOfVisit(visit) {
  return (await db()).getAllFromIndex('signatures', 'visit', visit);
}

/** `change(signature)` edits the stored signature in place (after its upload's receipt). */
export function updateSignature(uuid, change) {
  return updateOne('signatures', uuid, change);
}

/** Queue uploads of stored signatures, in one transaction: for each one `queue(signature)`
 *  answers its outbox entry (after marking the signature queued) or null to leave it. */
export async function queueSignatureUploads(uuids, queue) {
  const tx = (await db()).transaction(['signatures', 'outbox'], 'readwrite');
  for (const uuid of uuids) {
    const signature = await tx.objectStore('signatures').get(uuid);
    const entry = signature && queue(signature);
    if (!entry) continue;
    await tx.objectStore('signatures').put(signature);
    await tx.objectStore('outbox').add(entry);
  }
  await tx.done;
}

/** Delete signatures and their queued uploads, in one transaction, each only when
 *  `allowed(entry)` says so (`entry`: its outbox entry, or undefined when never queued). */
export async function deleteSignatures(uuids, allowed) {
  const tx = (await db()).transaction(['signatures', 'outbox'], 'readwrite');
  for (const uuid of uuids) {
    const entry = await tx.objectStore('outbox').index('key').get(uuid);
    if (!allowed(entry)) continue;
    if (entry) await tx.objectStore('outbox').delete(entry.seq);
    await tx.objectStore('signatures').delete(uuid);
  }
  await tx.done;
}

/* ---------- outbox ---------- */

export async function allEntries() {
  return (await db()).getAll('outbox');
}

export async function entriesWithStatus(status) {
  return (await db()).getAllFromIndex('outbox', 'status', status);
}

export async function entryByKey(key) {
  return (await db()).getFromIndex('outbox', 'key', key);
}

export async function entriesOfVisit(visit) {
  return (await allEntries()).filter((e) => e.visit === visit);
}

export async function putEntry(entry) {
  return (await db()).put('outbox', entry);
}

/** Rewrite every entry of a status in one transaction: `change(entry)` answers its new
 *  value. */
export async function rewriteEntries(status, change) {
  const tx = (await db()).transaction('outbox', 'readwrite');
  for (const entry of await tx.store.index('status').getAll(status)) await tx.store.put(change(entry));
  await tx.done;
}
