/* Evidence photos, made on the phone: hash the original, resize, burn in a watermark, store.
 *
 * The SHA-256 of the ORIGINAL file is taken first, before anything touches the pixels: it is
 * what ties the upload to what the camera produced. The upload is a JPEG (quality 0.8) at most
 * 1600 px on the long side with a visible watermark: date and time, location if known, the
 * inspector and the visit number. Bytes are kept as ArrayBuffer (Safari loses Blobs in
 * IndexedDB); a small thumbnail stays on the phone after the upload's receipt, the full
 * bytes do not.
 */
import { db } from './db.js';
import { localIso, sha256hex, showTime, uuid } from './ui.js';

export const MAX_SIDE = 1600;
export const QUALITY = 0.8;
const THUMB_SIDE = 240;

function canvasBlob(canvas, type, quality) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('toBlob failed'))), type, quality);
  });
}

function drawScaled(bitmap, side) {
  const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** White text on a dark band along the bottom: legible on any photo, in sunlight too. */
export function watermark(canvas, lines) {
  const ctx = canvas.getContext('2d');
  const size = Math.max(14, Math.round(Math.min(canvas.width, canvas.height) / 28));
  const lineHeight = Math.round(size * 1.35);
  const band = lineHeight * lines.length + size;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.55)';
  ctx.fillRect(0, canvas.height - band, canvas.width, band);
  ctx.font = `600 ${size}px "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif`;
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'top';
  lines.forEach((line, i) => {
    ctx.fillText(line, Math.round(size * 0.6), canvas.height - band + Math.round(size / 2) + i * lineHeight,
      canvas.width - size);
  });
}

function place(location) {
  if (!location) return '位置：未取得';
  return `位置：${location.lat.toFixed(5)}, ${location.lon.toFixed(5)}` +
    (location.accuracy ? ` ±${Math.round(location.accuracy)}米` : '');
}

/** Turn a picked file into a stored photo. `meta`: {visit, record_id, question, document_copy,
 *  inspector, location, keep_original}. Throws when the browser cannot decode the file. */
export async function makePhoto(file, meta) {
  const original = await file.arrayBuffer();
  const originalSha = await sha256hex(original);
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([original], { type: file.type || 'image/jpeg' }),
      { imageOrientation: 'from-image' });
  } catch {
    throw new Error('无法读取这张图片（格式不支持或文件已损坏）');
  }
  const takenAt = localIso();
  const canvas = drawScaled(bitmap, MAX_SIDE);
  watermark(canvas, [
    `${showTime(takenAt, true)}  检查编号 ${meta.visit}`,
    place(meta.location),
    `检查人员：${meta.inspector || ''}${meta.document_copy ? '  【文件复印件】' : ''}`,
  ]);
  const data = await (await canvasBlob(canvas, 'image/jpeg', QUALITY)).arrayBuffer();
  const thumb = await (await canvasBlob(drawScaled(canvas, THUMB_SIDE), 'image/jpeg', 0.7)).arrayBuffer();
  bitmap.close && bitmap.close();
  return {
    uuid: uuid(), visit: meta.visit, record_id: meta.record_id, question: meta.question || null,
    document_copy: !!meta.document_copy, taken_at: takenAt, type: 'image/jpeg', data,
    sha256: await sha256hex(data), original_sha256: originalSha, bytes: data.byteLength,
    width: canvas.width, height: canvas.height, thumb, location: meta.location || null,
    original: meta.keep_original ? original : null,
    original_type: file.type || 'application/octet-stream', original_bytes: original.byteLength,
    status: 'waiting',
  };
}

/** Store the photo and queue its upload(s) in one transaction. The original, when the bureau
 *  keeps originals, is queued as its own upload with X-Original: 1 and goes after the rest. */
export async function storePhoto(photo, user) {
  const database = await db();
  const tx = database.transaction(['photos', 'outbox'], 'readwrite');
  await tx.objectStore('photos').put(photo);
  const base = {
    kind: 'photo', photo: photo.uuid, record_id: photo.record_id, visit: photo.visit,
    status: 'waiting', attempts: 0, next_try: 0, receipt: null, error: null,
    created_at: photo.taken_at, user,
  };
  await tx.objectStore('outbox').add({ ...base, key: photo.uuid, type: photo.type, sha256: photo.sha256, bytes: photo.bytes });
  if (photo.original) {
    photo.original_uuid = uuid();
    await tx.objectStore('photos').put(photo);
    await tx.objectStore('outbox').add({
      ...base, key: photo.original_uuid, original: true, type: photo.original_type,
      sha256: photo.original_sha256, bytes: photo.original_bytes,
    });
  }
  await tx.done;
}

/** Delete a photo that has not left the phone: the photo and its queued upload(s), in one
 *  transaction, under the sync lock (so no sync is sending it meanwhile). Refuses (resolves
 *  false, nothing changed) when an upload of it was sent, is being sent, or may have reached
 *  the server (`maybe_sent`): a photo the server may hold is evidence and never goes quietly.
 *  A refused upload (the server said no) may be deleted. */
export async function deleteUnsentPhoto(uuid) {
  const run = async () => {
    const database = await db();
    const tx = database.transaction(['photos', 'outbox'], 'readwrite');
    const photo = await tx.objectStore('photos').get(uuid);
    if (!photo) {
      await tx.done;
      return false;
    }
    const keys = [photo.uuid, photo.original_uuid].filter(Boolean);
    const entries = (await Promise.all(keys.map((key) => tx.objectStore('outbox').index('key').get(key))))
      .filter(Boolean);
    const gone = photo.receipt || photo.original_receipt ||
      entries.some((e) => e.status === 'sent' || e.status === 'sending' || e.maybe_sent);
    if (!gone) {
      for (const entry of entries) await tx.objectStore('outbox').delete(entry.seq);
      await tx.objectStore('photos').delete(uuid);
    }
    await tx.done;
    return !gone;
  };
  return navigator.locks && navigator.locks.request ? navigator.locks.request('sync', run) : run();
}

export function thumbUrl(photo) {
  const bytes = photo.thumb || photo.data;
  return bytes ? URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' })) : null;
}
