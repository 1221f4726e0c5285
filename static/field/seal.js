// Sealing a visit record on the phone: the same canonical JSON and hashes as the server
// (inspection/fieldwork/seal.py; specified in docs/field-sync.md, "Sealing").
//
// Canonical JSON is RFC 8785 (JCS), written by the vendored `canonicalize` package (Samuel
// Erdtman and Anders Rundgren, the RFC's authors; static/vendor/canonicalize/, unchanged):
// keys sorted by UTF-16 code units, no whitespace, strings and numbers as JSON.stringify writes
// them; NaN, infinity and text with a lone surrogate are refused, as the server refuses them.
// contentHash(body): what every signer signs (without seal, signatures, revision, saved_at).
// sealOf(body): the seal (without seal, revision, saved_at: the signatures' entries are in).
// partHash(body, departmentId): what an inspector of one department of a joint visit signs
// (the body lists its `departments`): the content with only that department's answers and
// photos, plus department_id. expectedSigns(body, signer) picks the right one of the two.

import canonicalize from '../vendor/canonicalize/canonicalize.js';
import { sha256Hex } from './sha256.js';

// canonicalize checks text with String.prototype.isWellFormed (ES2024: Safari 16.4, Chrome
// 111). Phones with an older browser get the standard method here, so that they can still seal.
if (typeof String.prototype.isWellFormed !== "function") {
  Object.defineProperty(String.prototype, "isWellFormed", {
    configurable: true,
    writable: true,
    value: function isWellFormed() {
      const text = String(this);
      for (let i = 0; i < text.length; i++) {
        const unit = text.charCodeAt(i);
        if (unit >= 0xdc00 && unit <= 0xdfff) return false;          // a trail without a lead
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const next = text.charCodeAt(i + 1);
          if (!(next >= 0xdc00 && next <= 0xdfff)) return false;     // a lead without a trail
          i++;
        }
      }
      return true;
    },
  });
}

export { canonicalize, sha256Hex };

export const NOT_IN_SEAL = ["seal", "revision", "saved_at"];
export const NOT_IN_CONTENT = [...NOT_IN_SEAL, "signatures"];

function without(body, keys) {
  const out = {};
  for (const [k, v] of Object.entries(body)) if (!keys.includes(k)) out[k] = v;
  return out;
}

export function canonicalRecord(body) {
  return canonicalize(without(body, NOT_IN_SEAL));
}

export function canonicalContent(body) {
  return canonicalize(without(body, NOT_IN_CONTENT));
}

export function contentHash(body) {
  return sha256Hex(canonicalContent(body));
}

export function sealOf(body) {
  return sha256Hex(canonicalRecord(body));
}

export function partContent(body, departmentId) {
  const part = Array.isArray(body.departments)
    ? body.departments.find((d) => d && d.department_id === departmentId) : null;
  if (!part) return null;
  const questions = new Set(part.questions || []);
  const content = without(body, NOT_IN_CONTENT);
  content.answers = (body.answers || []).filter((a) => a && questions.has(a.question));
  content.photos = (body.photos || []).filter((p) => p && (!p.question || questions.has(p.question)));
  content.department_id = departmentId;
  return content;
}

export async function partHash(body, departmentId) {
  const content = partContent(body, departmentId);
  return content ? sha256Hex(canonicalize(content)) : null;
}

// The hash `signer` signs in this body: an inspector of a joint visit's record their
// department's part, everyone else the whole content.
export function expectedSigns(body, signer) {
  if (body.departments && body.departments.length && signer && signer.kind === "inspector") {
    return partHash(body, signer.department_id);
  }
  return contentHash(body);
}

// The signatures that still sign this content (a change after signing voids the others).
export async function validSignatures(body) {
  const out = [];
  for (const s of body.signatures || []) {
    if (s.signs === await expectedSigns(body, s.signer)) out.push(s);
  }
  return out;
}

// The sealed body: every signature must sign the current content (or its part).
export async function seal(body) {
  const valid = await validSignatures(body);
  const stale = (body.signatures || []).filter((s) => !valid.includes(s));
  if (stale.length) throw new Error("signatures made for another version of the record");
  const sealed = { ...body };
  delete sealed.seal;
  sealed.seal = await sealOf(sealed);
  return sealed;
}
