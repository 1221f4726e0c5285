/* The visit being worked on: its pack, its record draft and its photos, with one save at a
 * time. Every change goes through change(): applied to the draft in memory, saved to
 * IndexedDB at once (serialised, so revisions never race), then a sync is asked for. */
import { db, getMeta } from './db.js';
import { loadRecord, photosOf, saveRecord } from './record.js';
import { makePhoto, storePhoto } from './photos.js';
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
  if (open.number === number && open.record) return open;
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

/** Apply `fn` to the draft and save it. Resolves with saveRecord's result. */
export function change(fn) {
  if (fn) fn(open.record);
  const record = open.record;
  chain = chain.then(async () => {
    const result = await saveRecord(record, open.photos, open.pack, await user());
    open.last = result;
    listeners.forEach((cb) => cb(result));
    requestSync('save', true);
    return result;
  });
  return chain;
}

/** Make, store and queue a photo, then save the record that lists it. */
export async function addPhoto(file, { question, documentCopy, inspector }) {
  const record = open.record;
  const photo = await makePhoto(file, {
    visit: record.visit, record_id: record.record_id, question, document_copy: documentCopy,
    inspector, location: record.arrival && record.arrival.location,
    keep_original: !!(open.pack && open.pack.settings && open.pack.settings.keep_originals),
  });
  await chain;
  await storePhoto(photo, await user());
  open.photos.push(photo);
  return change();
}
