/* The visit being worked on: its pack, its record draft and its photos, with one save at a
 * time. Every change goes through change(): applied to the draft in memory, saved to
 * IndexedDB at once (serialised, so revisions never race), then a sync is asked for. */
import { db, getMeta } from './db.js';
import { loadRecord, photosOf, saveRecord } from './record.js';
import { deleteUnsentPhoto, makePhoto, storePhoto } from './photos.js';
import { requestSync } from './sync.js';

export const open = { number: null, pack: null, record: null, photos: [], last: null };
let chain = Promise.resolve();
const listeners = new Set();

/** Call `fn(result)` after each save, until the next screen is drawn (resetListeners). */
export function onSaved(fn) {
  listeners.add(fn);
}

export function resetListeners() {
  listeners.clear();
}

export async function getPack(number) {
  return (await db()).get('packs', number);
}

/** Load a visit into `open` (no-op when it is the one already open). */
export async function load(number) {
  await chain;
  if (open.number === number && open.record) {
    // receipts reach the database, not these objects: bring them in (a sent photo is shown
    // as sent, offers no delete, and its bytes, dropped on the phone, are let go here too)
    const stored = new Map((await photosOf(number)).map((p) => [p.uuid, p]));
    for (const photo of open.photos) {
      const fresh = stored.get(photo.uuid);
      if (fresh) Object.assign(photo, { receipt: fresh.receipt, status: fresh.status, data: fresh.data });
    }
    return open;
  }
  const stored = await getPack(number);
  open.number = number;
  open.pack = stored ? stored.pack : null;
  open.record = await loadRecord(number);
  open.photos = await photosOf(number);
  open.last = null;
  return open;
}

async function user() {
  const me = await getMeta('me');
  return me ? me.id : null;
}

/** Hooks run before each save, in the save chain: `await hook(record, open, options)`. They
 *  may change the draft or set `options.queue = false` (sign.js: signatures voided by a
 *  change, no new revision after a seal that nothing changed). */
export const beforeSave = new Set();

/** Apply `fn` to the draft and save it. Resolves with saveRecord's result. `options.queue`
 *  false: save on the phone only, no new revision (a signature added, a name typed). */
export function change(fn, options = {}) {
  if (fn) fn(open.record);
  const record = open.record;
  chain = chain.then(async () => {
    for (const hook of beforeSave) await hook(record, open, options);
    const result = await saveRecord(record, open.photos, open.pack, await user(), options);
    open.last = result;
    listeners.forEach((cb) => cb(result));
    requestSync('save', true);
    return result;
  });
  return chain;
}

/** Delete a photo that has not been sent (photos.deleteUnsentPhoto), then save the record,
 *  whose next revision no longer lists it. Resolves false when the photo may be on the server:
 *  then nothing changes. */
export async function removePhoto(uuid) {
  await chain;
  if (!(await deleteUnsentPhoto(uuid))) return false;
  const at = open.photos.findIndex((p) => p.uuid === uuid);
  if (at >= 0) open.photos.splice(at, 1);
  await change();
  return true;
}

/** Make, store and queue a photo, then save the record that lists it. */
export async function addPhoto(file, { question, documentCopy, inspector, extra }) {
  const record = open.record;
  const photo = await makePhoto(file, {
    visit: record.visit, record_id: record.record_id, question, document_copy: documentCopy,
    inspector, location: record.arrival && record.arrival.location,
    keep_original: !!(open.pack && open.pack.settings && open.pack.settings.keep_originals),
  });
  if (extra) Object.assign(photo, extra);  // e.g. {authorisation: true} (sign.js)
  await chain;
  await storePhoto(photo, await user());
  open.photos.push(photo);
  return change();
}
