/* Signatures as data: measuring, hashing, storing and queueing them. No DOM here:
 * the signing pad is sign.js. The contract is docs/field-sync.md and the server's
 * inspection/fieldwork/signing.py (PUT /api/v1/field/signatures/<uuid>).
 *
 * A signature is kept in IndexedDB (`signatures`) as data, never as a Blob: the stroke points
 * with their timing (signature_pad's toData()), the SVG text, the PNG as base64, and the
 * SHA-256 of each (strokes: of their canonical JSON, seal.js; SVG: of its UTF-8 text; PNG: of
 * its bytes). It is queued in the outbox only when the record is sealed; the strokes and the
 * SVG leave the phone only after the server's receipt (the PNG stays for the record view).
 */
import { SIGNATURE_LIMITS, SIGNER_KINDS } from './constants.js';
import {
  deleteSignatures, getSignature, putSignature, queueSignatureUploads,
  signaturesOfVisit, updateSignature,
} from './db.js';
import { newEntry, registerKind } from './outbox.js';
import { canonicalize } from './seal.js';
import { sha256Hex } from './sha256.js';
import { localIso } from './ui.js';

/* The server's thresholds (signing.py), in CSS pixels of the signing canvas and device pixels
 * of the PNG. */
export const { MIN_POINTS, MIN_LENGTH, MIN_BOX_LONG, MIN_BOX_SHORT, MIN_INK_PIXELS } = SIGNATURE_LIMITS;

/** {points, length, width, height} of signature_pad strokes, as the server measures them. */
export function measure(strokes) {
  let points = 0;
  let length = 0;
  const xs = [];
  const ys = [];
  for (const stroke of strokes || []) {
    let previous = null;
    for (const p of stroke.points || []) {
      points += 1;
      xs.push(p.x);
      ys.push(p.y);
      if (previous) length += Math.hypot(p.x - previous.x, p.y - previous.y);
      previous = p;
    }
  }
  if (!xs.length) return { points: 0, length: 0, width: 0, height: 0 };
  return { points, length, width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
}

/** Why these strokes are no signature (null: they are one). */
export function tooSmall(strokes, inkPixels = Infinity) {
  const m = measure(strokes);
  if (!m.points) return 'empty';
  if (m.points < MIN_POINTS || m.length < MIN_LENGTH || Math.max(m.width, m.height) < MIN_BOX_LONG ||
      Math.min(m.width, m.height) < MIN_BOX_SHORT || inkPixels < MIN_INK_PIXELS) return 'small';
  return null;
}

/** Ink pixels of a canvas as the server counts them in the PNG: opaque (alpha >= 128) and
 *  darker than light grey (luminance < 200). */
export function inkPixels(canvas) {
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] >= 128 && 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2] < 200) ink += 1;
  }
  return ink;
}

function base64Bytes(b64) {
  const raw = atob(b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** Only the fields the server knows of each point; numbers as they are. */
function cleanStrokes(strokes) {
  return strokes.map((s) => ({
    ...s, points: s.points.map((p) => ({ x: p.x, y: p.y, time: p.time, pressure: p.pressure ?? null })),
  }));
}

/** The stored signature: `{strokes, svg, pngDataUrl, width, height}` from the pad, the signer
 *  (`{kind: 'inspector', user_id, name}`, `{kind: 'representative', name, role}` or
 *  `{kind: 'witness', name}`) and the content hash it signs. */
export async function makeSignature({ uuid, visit, record_id, signer, signs, strokes, svg, pngDataUrl, width, height, display }) {
  // the server refuses any other signer: better not to keep a signature it will never take
  if (!SIGNER_KINDS.includes(signer.kind)) throw new Error(`unknown signer kind: ${signer.kind}`);
  const png = pngDataUrl.replace(/^data:image\/png;base64,/, '');
  const clean = cleanStrokes(strokes);
  return {
    uuid, visit, record_id, signer, signs, signed_at: localIso(), strokes: clean,
    strokes_sha256: await sha256Hex(canonicalize(clean)), svg, svg_sha256: await sha256Hex(svg),
    png, png_sha256: await sha256Hex(base64Bytes(png)), width, height, status: 'draft',
    display: display || null,  // the ink cropped, for the screen and printing (not uploaded)
  };
}

/** The entry a sealed record lists for this signature (SignatureRefSchema). The signer as
 *  the server knows it: an inspector by user id (and, on a joint visit's record, the
 *  department whose part they sign), others by name (and role). */
export function signatureRef(s) {
  const signer = s.signer.kind === 'inspector'
    ? { kind: 'inspector', user_id: s.signer.user_id, ...(s.signer.department_id ? { department_id: s.signer.department_id } : {}) }
    : s.signer.kind === 'representative'
      ? { kind: 'representative', name: s.signer.name, role: s.signer.role }
      : { kind: 'witness', name: s.signer.name };
  return {
    uuid: s.uuid, signer, signs: s.signs, signed_at: s.signed_at,
    strokes_sha256: s.strokes_sha256, svg_sha256: s.svg_sha256, png_sha256: s.png_sha256,
  };
}

/** The upload body (SignatureUploadSchema). */
export function signatureUpload(s) {
  const ref = signatureRef(s);
  return {
    visit: s.visit, signer: ref.signer, signs: s.signs, signed_at: s.signed_at,
    strokes: s.strokes, strokes_sha256: s.strokes_sha256, svg: s.svg, svg_sha256: s.svg_sha256,
    png: s.png, png_sha256: s.png_sha256,
  };
}

export async function storeSignature(signature) {
  await putSignature(signature);
}

export async function signaturesOf(visit) {
  return signaturesOfVisit(visit);
}

/** Queue the uploads of these signatures (at sealing), in one transaction. */
export async function queueSignatures(uuids, user) {
  await queueSignatureUploads(uuids, (s) => {
    if (s.status !== 'draft') return null;
    s.status = 'queued';
    return newEntry('signature', {
      key: s.uuid, record_id: s.record_id, visit: s.visit, signer: s.signer, created_at: localIso(), user,
    });
  });
}

/** Voided signatures: those never sent leave the phone and the outbox; one that may have
 *  reached the server stays queued (the server keeps it, unlisted). */
export async function discardSignatures(uuids) {
  await deleteSignatures(uuids, (entry) => !entry || (entry.status === 'waiting' && !entry.maybe_sent));
}

/* ---------- uploads (the outbox's kind 'signature') ---------- */

/** The upload body is built from the stored data; after the record that lists the signature,
 *  before the photos. After the server's receipt the strokes and the SVG leave the phone; the
 *  PNG and the receipt stay. */
registerKind('signature', {
  rank: () => 1,
  async toRequest(entry) {
    const signature = await getSignature(entry.key);
    if (!signature || !signature.strokes) throw new Error('签名数据已不在本机');
    return {
      url: `/api/v1/field/signatures/${entry.key}`,
      init: { method: 'PUT', body: JSON.stringify(signatureUpload(signature)), headers: { 'Content-Type': 'application/json' } },
    };
  },
  delivered: (entry, receipt) => updateSignature(entry.key, (s) => {
    s.strokes = null;
    s.svg = null;
    s.status = 'sent';
    s.receipt = receipt;
  }),
});
