/* Evidence photos, made on the phone: hash the original, resize, burn in a watermark, store.
 *
 * The SHA-256 of the ORIGINAL file is taken first, before anything touches the pixels: it is
 * what ties the upload to what the camera produced. The upload is a JPEG (quality 0.8) at most
 * 1600 px on the long side with a visible watermark: date and time, location if known, the
 * inspector and the visit number. Bytes are kept as ArrayBuffer (Safari loses Blobs in
 * IndexedDB); a small thumbnail stays on the phone after the upload's receipt, the full
 * bytes do not.
 */
import { deletePhoto, getPhoto, storePhotoAndQueue, updatePhoto } from './db.js';
import { newEntry, registerKind } from './outbox.js';
import { sha256Hex } from './sha256.js';
import { localIso, showTime, uuid } from './ui.js';
import { t } from './i18n.js';

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
  const originalSha = await sha256Hex(original);
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
    sha256: await sha256Hex(data), original_sha256: originalSha, bytes: data.byteLength,
    width: canvas.width, height: canvas.height, thumb, location: meta.location || null,
    original: meta.keep_original ? original : null,
    original_type: file.type || 'application/octet-stream', original_bytes: original.byteLength,
    status: 'waiting',
  };
}

/** Store the photo and queue its upload(s) in one transaction. The original, when the bureau
 *  keeps originals, is queued as its own upload with X-Original: 1 and goes after the rest. */
export async function storePhoto(photo, user) {
  const base = {
    photo: photo.uuid, record_id: photo.record_id, visit: photo.visit, created_at: photo.taken_at, user,
  };
  const entries = [newEntry('photo', { ...base, key: photo.uuid, type: photo.type, sha256: photo.sha256, bytes: photo.bytes })];
  if (photo.original) {
    photo.original_uuid = uuid();
    entries.push(newEntry('photo', {
      ...base, key: photo.original_uuid, original: true, type: photo.original_type,
      sha256: photo.original_sha256, bytes: photo.original_bytes,
    }));
  }
  await storePhotoAndQueue(photo, entries);
}

/** Delete a photo that has not left the phone: the photo and its queued upload(s), in one
 *  transaction, under the sync lock (so no sync is sending it meanwhile). Refuses (resolves
 *  false, nothing changed) when an upload of it was sent, is being sent, or may have reached
 *  the server (`maybe_sent`): a photo the server may hold is evidence and never goes quietly.
 *  A refused upload (the server said no) may be deleted. */
export async function deleteUnsentPhoto(uuid) {
  const run = () => deletePhoto(uuid, (photo) => [photo.uuid, photo.original_uuid].filter(Boolean),
    (photo, entries) => !(photo.receipt || photo.original_receipt ||
      entries.some((e) => e.status === 'sent' || e.status === 'sending' || e.maybe_sent)));
  return navigator.locks && navigator.locks.request ? navigator.locks.request('sync', run) : run();
}

/* ---------- uploads (the outbox's kind 'photo') ---------- */

/** The upload: the bytes (the watermarked copy, or the original) read from `photos`, with the
 *  metadata the server checks in headers. After the record and the signatures: the record
 *  lists the photo; originals last. */
registerKind('photo', {
  rank: (entry) => (entry.original ? 3 : 2),
  async toRequest(entry) {
    const photo = await getPhoto(entry.photo);
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
  },
  /** After the receipt: drop the full bytes, keep the thumbnail and the receipt. */
  delivered: (entry, receipt) => updatePhoto(entry.photo, (photo) => {
    if (entry.original) {
      photo.original = null;
      photo.original_receipt = receipt;
    } else {
      photo.data = null;
      photo.receipt = receipt;
      photo.status = 'sent';
    }
  }),
});

export function thumbUrl(photo) {
  const bytes = photo.thumb || photo.data;
  return bytes ? URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' })) : null;
}
