/* The visit being worked on: its pack, its record draft and its photos, with one save at a
 * time. Every change goes through change(): applied to the draft in memory, saved to
 * IndexedDB at once (serialised, so revisions never race), then a sync is asked for.
 *
 * A sealed record is locked (locked()): change() leaves it as it is, photos are neither added
 * nor deleted. Only an explicit correction (sign.js startCorrection, `unlock`) or the seal
 * itself (`sealing`) changes it.
 *
 * A visit sealed on another device (serverRecord): when the server holds a sealed record of
 * the visit and the phone has none (or only an older one, all of it sent), the phone adopts the
 * server's record (docs/field-sync.md "A record made on another device"). */
import { AuthRequired, HttpError, Offline, getJson } from './api.js';
import { SEALED_STATUSES } from './constants.js';
import { entriesOfVisit, getMeta, getPack, recordOfVisit, replaceRecord } from './db.js';
import { loadRecord, photosOf, recordFromServer, remotePhotos, saveRecord } from './record.js';
import { deleteUnsentPhoto, makePhoto, storePhoto } from './photos.js';
import { requestSync } from './sync.js';
import { h } from './ui.js';
import { t } from './i18n.js';

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
    // the pack may have been downloaded again meanwhile (a return's comments, a new arrangement)
    const pack = await getPack(number);
    if (pack) open.pack = pack.pack;
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

/** True when the record is sealed: read-only on the phone until a correction is started. */
export function locked(record = open.record) {
  return !!(record && record.seal);
}

/** Apply `fn` to the draft and save it. Resolves with saveRecord's result. `options.queue`
 *  false: save on the phone only, no new revision (a signature added, a name typed).
 *  A sealed record is left alone (resolves `{locked: true}`) unless `options.unlock` (the
 *  start of a correction) or `options.sealing`. */
export function change(fn, options = {}) {
  if (fn && locked() && !options.unlock && !options.sealing) {
    return chain.then(() => ({ queued: false, locked: true, checks: { block: [], warn: [] } }));
  }
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
  if (locked()) return false;
  if (!(await deleteUnsentPhoto(uuid))) return false;
  const at = open.photos.findIndex((p) => p.uuid === uuid);
  if (at >= 0) open.photos.splice(at, 1);
  await change();
  return true;
}

/** Make, store and queue a photo, then save the record that lists it. */
export async function addPhoto(file, { question, documentCopy, inspector, extra }) {
  const record = open.record;
  if (locked(record)) throw new Error(t('记录已签名封存，请先开始更正'));
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

/* ---------- a record made on another device ---------- */

/** A visit whose server record was looked at is looked at again after this long (or when its
 *  pack is downloaded). */
const CHECK_AGAIN_MS = 5 * 60 * 1000;
const FETCH_TIMEOUT_MS = 15000;
const checked = new Map();  // visit number -> {at, result}: the last look, this page

/** `guard(pack)` false: this phone never adopts the visit's record (leader.js: a member of a
 *  split visit sends parts; the leader's phone corrects the visit's record). */
export const adoptGuards = new Set();

/** True when the pack or the visit list says the visit has a sealed record on the server. */
async function sealedOnServer(number, pack) {
  const cached = await getMeta('visits');
  const listed = cached && (cached.list || []).find((v) => v.number === number);
  const visits = [pack && pack.visit, listed].filter(Boolean);
  const statuses = [pack && pack.review && pack.review.status, ...visits.map((v) => v.status)];
  return visits.some((v) => v.returned) || statuses.some((s) => SEALED_STATUSES.includes(s));
}

/** What the server's record state holds: a sealed record, a correction of one not sealed yet
 *  (another device is correcting it), another draft, or nothing. */
function kindOf(state) {
  const body = state && state.body;
  if (!body || body.part) return 'none';
  if (body.seal) return 'sealed';
  if (body.corrects && state.sealed_revision_uuid) return 'correction';
  return 'draft';
}

/** Whether the phone's own record of the visit is in the way: something of it not on the
 *  server (an entry of the visit not sent, a change that is not queued). */
function pendingOn(local, entries) {
  return entries.some((e) => e.status !== 'sent') || !!(local && local.problems && local.problems.length);
}

/** The server's record is newer than the phone's: the phone has none, or an older revision of
 *  the same record, or another record all of whose revisions reached the server before the
 *  server's current record was written (nothing pending: pendingOn). */
function newer(local, state) {
  if (!local) return true;
  if (local.record_id === state.body.record_id) return (local.revision || 0) < state.body.revision;
  return true;
}

/** Replace the phone's record of the visit by the server's, in one transaction (records,
 *  photos, outbox), unless something pending appeared meanwhile. Photos the body lists that
 *  are not on the phone are kept by reference (remotePhotos): they are never uploaded from
 *  here. The phone's photos of the visit that the body does not list have all been sent (they
 *  stay on the server) and leave the phone. Resolves true when adopted. */
function adopt(number, state) {
  const run = async () => {
    const record = recordFromServer(state);
    const listed = remotePhotos(state.body);
    const done = await replaceRecord(number, (local, entries, photos) => {
      if (pendingOn(local, entries) || !newer(local, state)) return null;
      if (local) record.replaced = { record_id: local.record_id, revision: local.revision || 0, sealed: !!local.seal };
      const keep = new Map(listed.map((p) => [p.uuid, p]));
      const put = [];
      const remove = [];
      for (const photo of photos) {
        const entry = keep.get(photo.uuid);
        if (entry) {  // on the phone already: keep its bytes or thumbnail, take the record's marks
          keep.delete(photo.uuid);
          put.push({ ...photo, scene: !!entry.scene, authorisation: !!entry.authorisation });
        } else {
          remove.push(photo.uuid);
        }
      }
      return { record, put: [...put, ...keep.values()], remove };
    });
    return !!done;
  };
  const done = chain.then(run);
  chain = done.then(() => {
    if (open.number === number) open.number = null;  // the next load() reads it
  }, () => {});
  return done;
}

/** Look at the server's record of a visit that has a sealed record there, and adopt it when
 *  the phone has none or only an older one (nothing of it pending). Resolves with
 *  `{phase, blocked, state}`: phase 'none' (the phone's record stands), 'adopted', 'offline',
 *  'auth', 'error' (the fetch failed), 'correction' (another device is correcting the sealed
 *  record: not adopted without the inspector's word, adoptCorrection). `blocked`: the phone
 *  has no record of the visit and must not start an empty one (a second record of a sealed
 *  visit): the screens show serverRecordCard instead. `force`: look again now. */
export async function serverRecord(number, { force = false } = {}) {
  const none = { phase: 'none', blocked: false };
  const stored = await getPack(number);
  const pack = stored && stored.pack;
  if (!pack || [...adoptGuards].some((guard) => !guard(pack)) || !(await sealedOnServer(number, pack))) return none;
  await chain;
  const local = await recordOfVisit(number);
  const last = checked.get(number);
  if (local && !force && last && Date.now() - last.at < CHECK_AGAIN_MS) return last.result;
  if (local && pendingOn(local, await entriesOfVisit(number))) return none;
  const failed = (phase, message = '') => (local ? none : { phase, blocked: true, message });
  if (!navigator.onLine) return failed('offline');
  let state;
  try {
    state = (await getJson(`/api/v1/field/visits/${encodeURIComponent(number)}/record`, { timeout: FETCH_TIMEOUT_MS })).json;
  } catch (error) {
    if (error instanceof AuthRequired) return failed('auth');
    if (error instanceof Offline) return failed('offline');
    return failed('error', error instanceof HttpError ? error.message : String(error.message || error));
  }
  const kind = kindOf(state);
  let result = none;
  if (kind === 'sealed' && newer(local, state)) {
    try {
      result = (await adopt(number, state)) ? { phase: 'adopted', blocked: false, state } : none;
    } catch (error) {
      return failed('error', String(error.message || error));
    }
  } else if (kind === 'correction' && newer(local, state)) {
    result = { phase: 'correction', blocked: !local, state };
  }
  checked.set(number, { at: Date.now(), result: result.phase === 'adopted' ? none : result });
  return result;
}

/** The inspector chose to go on with another device's correction (serverRecord 'correction'):
 *  the phone adopts that unsealed correction (its reason, `corrects`, its changes). */
export async function adoptCorrection(number, state) {
  const adopted = await adopt(number, state);
  checked.delete(number);
  return adopted;
}

/** In place of the record when serverRecord could not give the phone one (`blocked`), or
 *  beside it when another device is correcting it: what happened, and what to do. `done`
 *  runs after a retry or an adoption (the screen is drawn again). */
export function serverRecordCard(number, server, done) {
  if (!server || server.phase === 'none' || server.phase === 'adopted') return null;
  const status = h('p', { class: 'small', role: 'status' });
  const retry = h('button', {
    type: 'button', class: 'primary', id: 'server-record-retry',
    onclick: async () => {
      retry.disabled = true;
      status.textContent = t('正在下载…');
      const again = await serverRecord(number, { force: true });
      if (again.blocked && again.phase === server.phase) {
        status.textContent = again.phase === 'offline' ? t('没有网络，无法下载') : again.message || '';
        retry.disabled = false;
        return;
      }
      done();
    },
  }, t('下载服务器上的记录'));
  if (server.phase === 'correction') {
    const body = server.state.body;
    return h('section', { class: 'card server-record', id: 'server-record' },
      h('h2', {}, t('其他设备正在更正这份记录')),
      h('p', {}, t('服务器上有这份已封存记录的更正（第 {0} 版，尚未封存），理由：{1}', body.revision, body.correction_reason || '')),
      h('p', { class: 'small' }, server.blocked
        ? t('本机还没有这次检查的记录。可以在本机接着这份更正继续修改、签名并封存；请先与正在更正的同事确认，以免两台设备同时更正。')
        : t('本机的记录比服务器上的旧。可以改用服务器上的更正，在本机继续；请先与正在更正的同事确认。')),
      status,
      h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'primary', id: 'adopt-correction',
        onclick: async (e) => {
          e.currentTarget.disabled = true;
          if (await adoptCorrection(number, server.state)) done();
          else status.textContent = t('本机有尚未上传的修改，未下载。');
        },
      }, t('在本机继续这份更正'))));
  }
  const text = server.phase === 'offline'
    ? t('这次检查的记录在其他设备上签名封存，本机还没有这份记录。联网后可下载，下载后才能查看或更正。')
    : server.phase === 'auth' ? t('登录已过期，请重新登录后下载服务器上的记录。')
      : t('无法下载服务器上的记录：{0}', server.message || '');
  return h('section', { class: 'card server-record', id: 'server-record', role: 'alert' },
    h('h2', {}, t('记录在其他设备上，联网后可下载')),
    h('p', {}, text),
    h('p', { class: 'small' }, t('为免出现第二份记录，下载前本机不能填写这次检查。')),
    status,
    h('div', { class: 'actions' }, retry));
}
