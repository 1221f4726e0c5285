// The draw's entries in the bureau's public log, checked in the browser: a port of
// verify._check_log and the parts of inspection/draws/engine/tlog.py it uses (RFC 9162
// inclusion proofs, c2sp.org checkpoints and signed notes, Ed25519 by Web Crypto). Kept apart
// from the draw's own check (draw-engine.js): a record without a `log` block is re-run all
// the same, and the page says that no log proof is present. Problems are verify.py's words;
// tests/draws/test_browser_verifier.py compares them with Python's.
import {
  ALGORITHM, codePointCompare, get, has, hex, isCount, isObject, moment, Num, PY_SPACE, pyEq, pyRepr,
  pyStr, pyStrip,
} from "./draw-engine.js";

const HASH_SIZE = 32;
const ED25519 = 0x01;
const COSIGNATURE_V1 = 0x04;
const EM_DASH = "\u2014";
const RESULT_KEYS = ["algorithm", "draw_id", "task", "commitment", "execution", "results"];

class LogError extends Error {}

// --- canonical JSON (verify.canonical_json) -------------------------------------------------------
// Sorted keys, no spaces, UTF-8; a number read as an exact decimal is written back as the
// float it was published from, in Python's repr.

function pyFloatRepr(x) {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, e] = x.toExponential().split("e");   // the shortest digits that round-trip
  const exp = Number(e);
  const sign = mantissa.startsWith("-") ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${head}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

export function canonicalJson(value) {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") return String(value);
  if (value instanceof Num) return /[.eE]/.test(value.text) ? pyFloatRepr(Number(value.text)) : value.text;
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  return "{" + Object.keys(value).sort(codePointCompare)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",") + "}";
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const utf8 = (text) => new TextEncoder().encode(text);

async function sha256Text(text) {
  return hex(await sha256(utf8(text)));
}

// What the bureau logs when it commits, and when it executes (verify.commitment_hash, result_hash).
export const commitmentHash = (commitment) => sha256Text(canonicalJson(commitment));

export function resultHash(record) {
  const part = Object.create(null);
  for (const key of RESULT_KEYS) if (has(record, key)) part[key] = record[key];
  return sha256Text(canonicalJson(part));
}

// --- base64, hashes, proofs (tlog.py) --------------------------------------------------------------

function b64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

function unb64(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
    throw new LogError(`${pyRepr(text)} is not base64`);
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

// RFC 9162 2.1.1: leaf hash SHA-256(0x00 || entry), node hash SHA-256(0x01 || left || right).
export const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

// RFC 9162 2.1.3.2 (tlog.verify_inclusion): raises LogError unless the proof holds.
async function checkInclusion(index, size, leaf, proof, root) {
  if (!(index >= 0 && index < size)) throw new LogError(`leaf index ${index} is outside a tree of ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (!(p instanceof Uint8Array) || p.length !== HASH_SIZE) throw new LogError("a proof hash is not 32 bytes");
    if (sn === 0) throw new LogError("the inclusion proof is too long");
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new LogError("the inclusion proof is too short");
  if (hex(r) !== hex(root)) throw new LogError("the inclusion proof does not lead to the checkpoint's root hash");
}

// Whether `proof` shows `leaf` at `index` of the tree of `size` leaves with root `root`.
export async function verifyInclusion(leaf, index, size, proof, root) {
  try {
    await checkInclusion(index, size, leaf, proof, root);
    return true;
  } catch (error) {
    if (error instanceof LogError) return false;
    throw error;
  }
}

// --- checkpoints and signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note) ----------------

function parseCheckpoint(text) {
  if (!text.endsWith("\n")) throw new LogError("a checkpoint ends with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3 || lines.some((line) => !line)) throw new LogError("a checkpoint has at least three non-empty lines");
  const [origin, size, rootB64] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new LogError(`tree size ${pyRepr(size)} is not a decimal number without leading zeroes`);
  const digest = unb64(rootB64);
  if (digest.length !== HASH_SIZE || b64(digest) !== rootB64) {
    throw new LogError(`root hash ${pyRepr(rootB64)} is not the base64 of 32 bytes`);
  }
  return { origin, size: Number(size), root: digest };
}

const validName = (name) => Boolean(name) && !name.includes("+") && !Array.from(name).some((c) => PY_SPACE.has(c));

function parseNote(message) {
  if (Array.from(message).some((c) => c.codePointAt(0) < 0x20 && c !== "\n")) {
    throw new LogError("a signed note holds no control characters but newlines");
  }
  const split = message.lastIndexOf("\n\n");
  if (split < 0 || !message.endsWith("\n")) throw new LogError("a signed note is its text, a blank line and signature lines");
  const text = message.slice(0, split + 1);
  const block = message.slice(split + 2);
  const signatures = [];
  for (const line of block.slice(0, -1).split("\n")) {
    const prefix = EM_DASH + " ";
    const parts = line.startsWith(prefix) ? line.slice(prefix.length).split(" ") : [];
    if (parts.length !== 2 || !validName(parts[0])) throw new LogError(`malformed signature line ${pyRepr(line)}`);
    const raw = unb64(parts[1]);
    if (raw.length < 5) throw new LogError(`signature of ${parts[0]} is too short`);
    const keyId = new DataView(raw.buffer).getUint32(0);
    signatures.push({ name: parts[0], keyId, signature: raw.slice(4) });
  }
  if (!signatures.length || signatures.length > 100) {
    throw new LogError("a signed note has one signature or more (and not too many)");
  }
  return { text, signatures };
}

async function keyId(name, keyType, publicKey) {
  const digest = await sha256(concat(utf8(name), Uint8Array.of(0x0a, keyType), publicKey));
  return new DataView(digest.buffer).getUint32(0);
}

function pySplit(text, separator, max) {  // str.split(separator, max)
  const parts = [];
  let rest = text;
  while (parts.length < max && rest.includes(separator)) {
    const at = rest.indexOf(separator);
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + separator.length);
  }
  parts.push(rest);
  return parts;
}

const hex8 = (n) => n.toString(16).padStart(8, "0");

async function parseVerifierKey(text) {
  const parts = pySplit(pyStrip(text), "+", 2);
  if (parts.length !== 3 || !validName(parts[0]) || !/^[0-9a-f]{8}$/.test(parts[1])) {
    throw new LogError(`${pyRepr(text)} is not a verifier key (name+hash+key)`);
  }
  const raw = unb64(parts[2]);
  if (raw.length !== 33 || (raw[0] !== ED25519 && raw[0] !== COSIGNATURE_V1)) {
    throw new LogError(`${pyRepr(text)} is not an Ed25519 verifier key`);
  }
  const key = { name: parts[0], keyType: raw[0], publicKey: raw.slice(1) };
  key.keyId = await keyId(key.name, key.keyType, key.publicKey);
  if (hex8(key.keyId) !== parts[1]) throw new LogError(`${pyRepr(text)}: the key hash does not match the key`);
  return key;
}

// Whether Web Crypto here can check Ed25519 signatures (recent browsers and Node can).
export class NoEd25519 extends Error {}

async function ed25519Verify(publicKey, signature, message) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  let key;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    if (error && error.name === "NotSupportedError") throw new NoEd25519(error.message);
    return false;  // not a point of the curve
  }
  try {
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch (error) {
    return false;
  }
}

async function verifyNote(message, keys) {
  const note = parseNote(message);
  const signed = [];
  for (const sig of note.signatures) {
    const key = keys.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!key) continue;
    let ok;
    if (key.keyType === COSIGNATURE_V1) {
      if (sig.signature.length !== 72) throw new LogError(`the cosignature of ${key.name} is not 8 + 64 bytes`);
      const timestamp = new DataView(sig.signature.buffer, sig.signature.byteOffset).getBigUint64(0);
      ok = await ed25519Verify(key.publicKey, sig.signature.slice(8),
        utf8(`cosignature/v1\ntime ${timestamp}\n${note.text}`));
    } else {
      ok = await ed25519Verify(key.publicKey, sig.signature, utf8(note.text));
    }
    if (!ok) throw new LogError(`the signature of ${key.name}+${hex8(key.keyId)} does not verify`);
    signed.push(key);
  }
  if (!signed.length) throw new LogError("no signature of a trusted key on the note");
  return note;
}

// --- the check (verify._check_log) ----------------------------------------------------------------

// The record's entries in the public log: {status, problems, entries}. status is "absent"
// (no `log` block: nothing to check, said on the page), "ok", "failed", or "unsupported"
// (this browser cannot check Ed25519 signatures). Each problem is {code: "log", text}, the
// text as verify.py prints it; entries are what the page shows per logged entry.
export async function checkLog(record) {
  const problems = [];
  const entries = [];
  const report = { status: "absent", problems, entries };
  if (!isObject(record) || !has(record, "log")) return report;
  // verify.py looks at the log only once the record's frame is sound (it stops before then).
  if (get(record, "algorithm") !== ALGORITHM || isObject(get(record, "withheld"))
      || !isObject(get(record, "commitment"))
      || !isObject(get(record, "execution")) || !Array.isArray(get(record, "results"))) {
    report.status = "skipped";
    return report;
  }
  const add = (text) => problems.push({ code: "log", text });
  try {
    await checkLogBlock(record, add, entries);
  } catch (error) {
    if (!(error instanceof NoEd25519)) throw error;
    report.status = "unsupported";
    return report;
  }
  report.status = problems.length ? "failed" : "ok";
  return report;
}

async function checkLogBlock(record, add, entries) {
  const commitment = get(record, "commitment");
  const execution = get(record, "execution");
  const log = get(record, "log");
  if (!isObject(log)) {
    add("log: the record carries no entries of the public log, so nothing "
      + "shows its commitment was published before the draw (a draw prepared "
      + "before the log existed is checked without it: --no-log)");
    return;
  }
  const trusted = [];
  const text = get(log, "key");
  try {
    trusted.push(await parseVerifierKey(typeof text === "string" ? text : ""));
  } catch (error) {
    if (!(error instanceof LogError)) throw error;
    add(`log: key: ${error.message}`);
  }
  if (!trusted.length) return;
  const logged = {};
  for (const [kind, expected] of [["commitment", await commitmentHash(commitment)],
    ["result", await resultHash(record)]]) {
    const entry = await checkLogEntry(kind, get(log, kind), record, expected, trusted,
      get(log, "origin") ?? null, add, entries);
    if (entry !== null) logged[kind] = entry;
  }
  if (logged.commitment && logged.result && !(logged.result.index > logged.commitment.index)) {
    add("log: the result is logged before the commitment");
  }
  checkLogTimes(logged, commitment, execution, add);
}

async function checkLogEntry(kind, part, record, expected, trusted, origin, add, entries) {
  const where = `log.${kind}`;
  if (!isObject(part)) {
    add(`${where}: missing: the record's ${kind} is not shown to be in the log`);
    return null;
  }
  const text = get(part, "entry");
  const index = get(part, "index");
  const proof = get(part, "proof");
  let entry = null;
  if (typeof text === "string") {
    try { entry = JSON.parse(text); } catch (error) { entry = null; }
  }
  if (!isObject(entry) || !isCount(index) || !Array.isArray(proof)) {
    add(`${where}: needs an entry (JSON text), an index and a proof`);
    return null;
  }
  const shown = { kind, index, treeSize: null, ok: false };
  entries.push(shown);
  if (!pyEq(get(entry, "kind"), kind) || !pyEq(get(entry, "draw_id"), get(record, "draw_id"))) {
    add(`${where}: the entry is the ${pyRepr(get(entry, "kind"))} of `
      + `${pyRepr(get(entry, "draw_id"))}, not the ${kind} of ${pyRepr(get(record, "draw_id"))}`);
    return null;
  }
  if (!pyEq(get(entry, "sha256"), expected)) {
    add(`${where}: the log holds SHA-256 ${pyStr(get(entry, "sha256") ?? null)} for the ${kind} `
      + `of ${pyStr(get(record, "draw_id") ?? null)}, the record's ${kind} has ${expected}: `
      + "this is not the record the bureau logged");
    return null;
  }
  let checkpoint;
  try {
    const checkpointText = get(part, "checkpoint");
    const note = await verifyNote(typeof checkpointText === "string" ? checkpointText : "", trusted);
    checkpoint = parseCheckpoint(note.text);
  } catch (error) {
    if (!(error instanceof LogError)) throw error;
    add(`${where}.checkpoint: ${error.message}`);
    return null;
  }
  shown.treeSize = checkpoint.size;
  if (origin !== null && checkpoint.origin !== origin) {
    add(`${where}.checkpoint: origin ${pyRepr(checkpoint.origin)}, the record's log is ${pyRepr(origin)}`);
    return null;
  }
  try {
    const hashes = proof.map((h) => (typeof h === "string" ? unb64(h) : new Uint8Array(0)));
    await checkInclusion(index, checkpoint.size, await leafHash(utf8(text)), hashes, checkpoint.root);
  } catch (error) {
    if (!(error instanceof LogError)) throw error;
    add(`${where}: entry ${index} in the checkpoint of size ${checkpoint.size}: ${error.message}`);
    return null;
  }
  const at = moment(get(entry, "logged_at"));
  if (at === null) {
    add(`${where}: logged_at ${pyRepr(get(entry, "logged_at"))} is not an ISO 8601 `
      + "date and time with a UTC offset");
    return null;
  }
  shown.ok = true;
  return { entry, index, moment: at, loggedAt: get(entry, "logged_at") };
}

function checkLogTimes(logged, commitment, execution, add) {
  const committed = moment(get(commitment, "committed_at"));
  const executed = moment(get(execution, "executed_at"));
  let entry = logged.commitment;
  if (entry) {
    const stamp = pyStr(entry.loggedAt);
    if (committed !== null && entry.moment < committed) {
      add(`log.commitment: logged at ${stamp}, before the commitment was `
        + `made (${pyStr(get(commitment, "committed_at") ?? null)})`);
    }
    const declared = get(commitment, "sources_declared");
    (Array.isArray(declared) ? declared : []).forEach((source, k) => {
      const known = isObject(source) ? moment(get(source, "available_at")) : null;
      if (known !== null && !(entry.moment < known)) {
        add(`log.commitment: logged at ${stamp}, not before `
          + `commitment.sources_declared[${k + 1}] was known (${pyStr(get(source, "available_at"))})`);
      }
    });
    if (executed !== null && !(entry.moment < executed)) {
      add(`log.commitment: logged at ${stamp}, not before the execution `
        + `(${pyStr(get(execution, "executed_at") ?? null)})`);
    }
  }
  entry = logged.result;
  if (entry && executed !== null && entry.moment < executed) {
    add(`log.result: logged at ${pyStr(entry.loggedAt)}, before the execution `
      + `(${pyStr(get(execution, "executed_at") ?? null)})`);
  }
}
