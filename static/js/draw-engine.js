// The draw engine in the browser: a line-by-line port of inspection/draws/engine/rfc3797.py,
// teams.py and the checks of verify.py, so that anyone can re-run a published draw without
// trusting the server's result. It must give exactly what the Python engine gives: the same
// key string, picks, team assignment and the same problem messages (in verify.py's English
// wording); tests/draws/test_browser_verifier.py runs both on the demo's draws and on
// generated cases. No DOM here (draw-verify.js draws the page), so Node runs it as it is.
//
// MD5 is the vendored js-md5 (static/vendor/js-md5/, see the README there); SHA-256 is the
// platform's Web Crypto (browsers and Node 20 alike).
import { md5 } from "../vendor/js-md5/md5-lite.mjs";

export const ALGORITHM = "rfc3797-v1";
export const TEAM_ALGORITHM = "teams-v1";
const RFC_COUNTER_LIMIT = 65536;     // steps with the RFC's 2-byte counter
const MAX_SELECTIONS = 2 ** 32;      // steps with the 4-byte extension
// A number in a source whose decimal form would run past this many digits is refused instead
// of freezing the page (Python would write it out; no real source comes near).
const MAX_EXPONENT = 100000;

// --- JSON, keeping numbers exact ---------------------------------------------------------------
// verify.py reads the record with parse_float=Decimal: 3345.67 is exactly 3345.67 and a long
// fraction keeps all its digits. JSON.parse would round them to doubles, so the record is read
// by this small parser instead: a number with a fraction or an exponent (or an integer beyond
// 2^53) becomes a Num holding its literal; other integers are plain JS numbers. Objects have
// no prototype, so that a key like "__proto__" or "constructor" is just a key.

export class Num {
  constructor(text) { this.text = text; }
}

export function parseJson(text) {
  let i = 0;
  const n = text.length;
  const fail = (what) => { throw new SyntaxError(`${what} (character ${i + 1})`); };
  const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
  const space = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i += 1;
      else break;
    }
  };
  const string = () => {
    i += 1;  // the opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= n) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) { out += text.slice(start, i); i += 1; return out; }
      if (c < 0x20) fail("control character in a string");
      if (c !== 0x5c) { i += 1; continue; }
      out += text.slice(start, i);
      const e = text[i + 1];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e in simple) { out += simple[e]; i += 2; }
      else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else fail("invalid escape");
      start = i;
    }
  };
  const value = () => {
    space();
    const c = text[i];
    if (c === "{") {
      i += 1;
      const obj = Object.create(null);
      space();
      if (text[i] === "}") { i += 1; return obj; }
      for (;;) {
        space();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        space();
        if (text[i] !== ":") fail("expected ':'");
        i += 1;
        obj[key] = value();
        space();
        if (text[i] === ",") { i += 1; continue; }
        if (text[i] === "}") { i += 1; return obj; }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i += 1;
      const list = [];
      space();
      if (text[i] === "]") { i += 1; return list; }
      for (;;) {
        list.push(value());
        space();
        if (text[i] === ",") { i += 1; continue; }
        if (text[i] === "]") { i += 1; return list; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, result] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, i)) { i += word.length; return result; }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail("unexpected character");
    i = NUMBER.lastIndex;
    if (!m[1] && !m[2]) {
      const whole = Number(m[0]);
      if (Number.isSafeInteger(whole)) return whole === 0 ? 0 : whole;
    }
    return new Num(m[0]);
  };
  const result = value();
  space();
  if (i < n) fail("extra data after the JSON value");
  return result;
}

// --- exact decimals (for the key string and for Python's == on numbers) ------------------------

// {neg, int, frac}: the integer part without leading zeros ("" for zero) and the fraction
// without trailing zeros. Accepts a JSON number literal or a plain numeral.
function decimal(literal) {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?$/.exec(literal);
  if (!m) throw new Error(`not a decimal: ${literal}`);
  const exponent = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exponent) > MAX_EXPONENT) throw new PyError(`${literal} is too large to write out`);
  const digits = m[2] + (m[3] || "");
  const point = m[2].length + exponent;
  let int;
  let frac;
  if (point <= 0) { int = ""; frac = "0".repeat(-point) + digits; }
  else if (point >= digits.length) { int = digits + "0".repeat(point - digits.length); frac = ""; }
  else { int = digits.slice(0, point); frac = digits.slice(point); }
  int = int.replace(/^0+/, "");
  frac = frac.replace(/0+$/, "");
  return { neg: m[1] === "-" && (int !== "" || frac !== ""), int, frac };
}

function numberDecimal(value) {
  if (typeof value === "number") return decimal(String(value));
  if (typeof value === "boolean") return decimal(value ? "1" : "0");
  return decimal(value.text);
}

function compareDecimals(a, b) {  // both not negative
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -1 : 1;
  if (a.int !== b.int) return a.int < b.int ? -1 : 1;
  if (a.frac !== b.frac) return a.frac < b.frac ? -1 : 1;  // no trailing zeros: plain order
  return 0;
}

// --- Python's view of JSON values: ==, repr() and str(), for verify.py's exact messages ---------

const isNumberLike = (v) => typeof v === "number" || typeof v === "boolean" || v instanceof Num;
export const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Num);
export const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
export const get = (obj, key) => (has(obj, key) ? obj[key] : undefined);

export function pyEq(a, b) {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (isNumberLike(a) && isNumberLike(b)) {
    if (typeof a === "number" && typeof b === "number") return a === b;
    const x = numberDecimal(a);
    const y = numberDecimal(b);
    return x.neg === y.neg && x.int === y.int && x.frac === y.frac;
  }
  if (typeof a === "string" || typeof b === "string" || a === null || b === null) return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, k) => pyEq(item, b[k]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => has(b, k) && pyEq(a[k], b[k]));
  }
  return false;
}

const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function reprString(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && NOT_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0);
      const hex = cp.toString(16);
      out += cp < 0x100 ? "\\x" + hex.padStart(2, "0")
        : cp < 0x10000 ? "\\u" + hex.padStart(4, "0") : "\\U" + hex.padStart(8, "0");
    } else out += ch;
  }
  return out + quote;
}

// str(Decimal(literal)): the to-scientific-string of the General Decimal Arithmetic spec.
function decimalStr(literal) {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?$/.exec(literal);
  const frac = m[3] || "";
  let coefficient = (m[2] + frac).replace(/^0+/, "") || "0";
  const exponent = (m[4] ? Number(m[4]) : 0) - frac.length;
  const adjusted = exponent + coefficient.length - 1;
  let body;
  if (exponent <= 0 && adjusted >= -6) {
    const point = coefficient.length + exponent;
    body = exponent === 0 ? coefficient
      : point > 0 ? coefficient.slice(0, point) + "." + coefficient.slice(point)
        : "0." + "0".repeat(-point) + coefficient;
  } else {
    body = coefficient[0] + (coefficient.length > 1 ? "." + coefficient.slice(1) : "")
      + "E" + (adjusted >= 0 ? "+" : "-") + Math.abs(adjusted);
  }
  return m[1] + body;
}

export function pyRepr(v) {
  if (v === undefined || v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return reprString(v);
  if (v instanceof Num) {
    return /[.eE]/.test(v.text) ? `Decimal('${decimalStr(v.text)}')` : v.text.replace(/^-0$/, "0");
  }
  if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
  return "{" + Object.keys(v).map((k) => `${reprString(k)}: ${pyRepr(v[k])}`).join(", ") + "}";
}

export function pyStr(v) {
  if (typeof v === "string") return v;
  if (v instanceof Num && /[.eE]/.test(v.text)) return decimalStr(v.text);
  return pyRepr(v);
}

function pyTypeName(v) {
  if (v === undefined || v === null) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "int";
  if (typeof v === "string") return "str";
  if (v instanceof Num) return /[.eE]/.test(v.text) ? "decimal.Decimal" : "int";
  return Array.isArray(v) ? "list" : "dict";
}

// An error whose message is the text of Python's exception (the checks quote it).
export class PyError extends Error {}

// --- key string (rfc3797.key_string) -------------------------------------------------------------

// What Python's str.strip() removes (str.isspace), which is not quite what String.trim() does.
export const PY_SPACE = new Set("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
  + "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000");

export function pyStrip(s) {
  let a = 0;
  let b = s.length;
  while (a < b && PY_SPACE.has(s[a])) a += 1;
  while (b > a && PY_SPACE.has(s[b - 1])) b -= 1;
  return s.slice(a, b);
}

const NUMERAL = /^[0-9]+(?:\.[0-9]+)?$/;

// A number as a decimal, or text as its NFKC-normalised, stripped string (rfc3797._parse_value).
function parseValue(value, n) {
  let number;
  if (typeof value === "boolean" || value === null || value === undefined || (typeof value === "object" && !(value instanceof Num))) {
    throw new PyError(`source ${n}: ${pyRepr(value)} is not a number or text`);
  } else if (typeof value === "number" || value instanceof Num) {
    number = numberDecimal(value);
  } else {
    const text = pyStrip(value.normalize("NFKC"));
    if (!NUMERAL.test(text)) return { text };
    number = decimal(text);
  }
  if (number.neg) throw new PyError(`source ${n}: ${pyRepr(value)} is negative`);
  return { number };
}

function textString(text, n) {
  const kept = text.normalize("NFKC").toLowerCase().replace(/[^0-9a-z]/g, "");
  if (!kept) throw new PyError(`source ${n}: text ${pyRepr(text)} has no letters a-z or digits 0-9`);
  return kept;
}

function sourceString(source, n) {
  const values = Array.isArray(source) ? source : [source];
  if (!values.length) throw new PyError(`source ${n} has no values`);
  const parsed = values.map((value) => parseValue(value, n));
  if (parsed.every((p) => p.number)) {
    return parsed.map((p) => p.number).sort(compareDecimals)
      .map((d) => `${d.int || "0"}.${d.frac}`).join("");
  }
  if (values.some((value) => typeof value !== "string")) {
    throw new PyError(`source ${n} mixes numbers and text`);
  }
  return values.map((value) => textString(value, n) + ".").join("");
}

export function keyString(sources) {
  if (!Array.isArray(sources)) throw new PyError("sources must be a list of sources");
  const parts = sources.map((source, k) => sourceString(source, k + 1));
  if (!parts.length) throw new PyError("at least one random source is required");
  return parts.map((part) => part + "/").join("");
}

// --- selection (rfc3797.select / trace) ---------------------------------------------------------

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function checkCount(size, count) {
  if (typeof count !== "number" || !Number.isInteger(count)) {
    throw new PyError(`count must be a whole number, not ${pyRepr(count)}`);
  }
  if (count < 0) throw new PyError(`count must not be negative, not ${count}`);
  if (count > size) throw new PyError(`cannot select ${count} from a pool of ${size}`);
  if (count > MAX_SELECTIONS) throw new PyError(`at most ${MAX_SELECTIONS} selections`);
}

// The 128-bit digest mod m, byte by byte as the RFC's reference code does (longremainder):
// the running remainder stays below m < 2^32, so r * 256 + byte is exact in a double.
function remainder(digest, m) {
  let r = 0;
  for (const byte of digest) r = (r * 256 + byte) % m;
  return r;
}

// Each step: {counter, md5 (upper-case hex, as in the RFC's table), remaining, index, position}.
// The remaining list is never built: a Fenwick tree over positions 1..top (top the power of
// two >= size) counts the removed ones, and the index-th present position is found by
// descending it (the dense branch of rfc3797._steps; its sparse branch finds the same
// position by definition).
export function* steps(size, key, count) {
  if (count === 0) return;
  const keyBytes = new TextEncoder().encode(key);
  let top = 1;
  while (top < size) top *= 2;
  const removed = new Int32Array(top + 1);
  const descent = [];
  for (let step = Math.floor(top / 2); step >= 1; step = Math.floor(step / 2)) descent.push(step);
  const short = new Uint8Array(keyBytes.length + 4);
  short.set(keyBytes, 2);
  let long = null;
  for (let i = 0; i < count; i += 1) {
    let message = short;
    if (i < RFC_COUNTER_LIMIT) {
      short[0] = short[short.length - 2] = i >>> 8;
      short[1] = short[short.length - 1] = i & 0xff;
    } else {
      if (!long) { long = new Uint8Array(keyBytes.length + 8); long.set(keyBytes, 4); }
      const counter = [i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff];
      long.set(counter, 0);
      long.set(counter, long.length - 4);
      message = long;
    }
    const digest = md5.array(message);
    const remaining = size - i;
    const index = remainder(digest, remaining) + 1;
    let position = 0;
    let rank = index;
    for (const step of descent) {
      const present = step - removed[position + step];
      if (present < rank) { position += step; rank -= present; }
    }
    position += 1;
    for (let node = position; node < top; node += node & -node) removed[node] += 1;
    yield { counter: i, md5: hex(digest).toUpperCase(), remaining, index, position };
  }
}

// The 1-based positions of the selected candidates, in the order selected.
export function select(size, sources, count) {
  const key = keyString(sources);
  checkCount(size, count);
  return Array.from(steps(size, key, count), (step) => step.position);
}

export function trace(size, sources, count) {
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
    throw new PyError(`pool size must be a whole number >= 0, not ${pyRepr(size)}`);
  }
  const key = keyString(sources);
  checkCount(size, count);
  return Array.from(steps(size, key, count));
}

// --- team assignment (teams.assign, teams-v1) ----------------------------------------------------

function pyList(value) {  // list(value or []) for a JSON value
  if (value === undefined || value === null || value === false || value === 0 || value === "") return [];
  if (Array.isArray(value)) return value.slice();
  if (typeof value === "string") return Array.from(value);
  if (isObject(value)) return Object.keys(value);
  throw new PyError(`'${pyTypeName(value)}' object is not iterable`);
}

const isKey = (v) => typeof v === "string";

export function assign(permutation, visits) {
  const rank = new Map();
  permutation.forEach((key, n) => {
    if (typeof key !== "string" || !key) throw new PyError(`permutation entry ${n + 1} is not an inspector key`);
    if (rank.has(key)) throw new PyError(`inspector ${key} appears twice in the permutation`);
    rank.set(key, n);
  });
  const load = new Map(Array.from(rank.keys(), (key) => [key, 0]));
  const out = [];
  for (const visit of visits) {
    if (!isObject(visit)) throw new PyError(`'${pyTypeName(visit)}' object has no attribute 'get'`);
    const label = pyStr(get(visit, "visit") ?? null);
    const eligible = pyList(get(visit, "eligible"));
    const required = get(visit, "required");
    if (typeof required !== "number" || !Number.isInteger(required) || required < 1) {
      throw new PyError(`visit ${label}: required ${pyRepr(required)} is not a whole number >= 1`);
    }
    for (const key of eligible) {
      if (!isKey(key) && !isNumberLike(key) && key !== null) throw new PyError(`unhashable type: '${pyTypeName(key)}'`);
    }
    if (new Set(eligible.map(pyRepr)).size !== eligible.length) {
      throw new PyError(`visit ${label}: an eligible inspector is listed twice`);
    }
    for (const key of eligible) {
      if (!isKey(key) || !rank.has(key)) throw new PyError(`visit ${label}: eligible inspector ${pyStr(key)} is not in the pool`);
    }
    if (eligible.length < required) {
      throw new PyError(`visit ${label}: ${eligible.length} eligible inspectors, ${required} required`);
    }
    const byLoad = eligible.slice().sort((a, b) => (load.get(a) - load.get(b)) || (rank.get(a) - rank.get(b)));
    const team = byLoad.slice(0, required);
    for (const key of team) load.set(key, load.get(key) + 1);
    const chosen = new Set(team);
    const reserve = eligible.filter((k) => !chosen.has(k)).sort((a, b) => rank.get(a) - rank.get(b));
    out.push({ visit: get(visit, "visit") ?? null, team, reserve });
  }
  return out;
}

// --- pool files (verify.parse_pool_file) ---------------------------------------------------------

// The offset of the first byte that is not well-formed UTF-8 (as Python's decoder reports
// it: where the bad sequence starts), or -1.
function utf8Error(bytes) {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) { i += 1; continue; }
    let need;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) { need = 2; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= need; k += 1) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

// Python compares strings by code point; JS's < compares UTF-16 units, which differs only
// between a surrogate pair and a unit from U+E000 up: move those apart as code points are.
function codePointLess(a, b) {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k += 1) {
    let x = a.charCodeAt(k);
    let y = b.charCodeAt(k);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y;
  }
  return a.length < b.length;
}

export function parsePoolFile(bytes) {
  if (!bytes.length) return [];
  const bad = utf8Error(bytes);
  if (bad >= 0) throw new PyError(`not UTF-8 (byte ${bad})`);
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  if (text.startsWith("\ufeff")) throw new PyError("starts with a byte-order mark");
  if (text.includes("\r")) throw new PyError("has CR characters; lines must end with LF only");
  if (!text.endsWith("\n")) throw new PyError("the last line does not end with LF");
  const ids = text.slice(0, -1).split("\n");
  let previous = null;
  ids.forEach((candidate, k) => {
    const line = k + 1;
    if (!candidate) throw new PyError(`line ${line} is empty`);
    if (PY_SPACE.has(candidate[0]) || PY_SPACE.has(candidate[candidate.length - 1])) {
      throw new PyError(`line ${line} (${pyRepr(candidate)}) has leading or trailing white space`);
    }
    if (previous !== null) {
      if (candidate === previous) throw new PyError(`line ${line} repeats ${pyRepr(candidate)}`);
      if (codePointLess(candidate, previous)) {
        throw new PyError(`line ${line} (${pyRepr(candidate)}) is out of order after ${pyRepr(previous)}`);
      }
    }
    previous = candidate;
  });
  return ids;
}

// --- hashes --------------------------------------------------------------------------------------

export async function sha256Hex(bytes) {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

const SHA256 = /^[0-9a-f]{64}$/;
export const isCount = (v) => typeof v === "number" && Number.isInteger(v) && v >= 0;

// --- the check (verify.verify) -------------------------------------------------------------------

// Every problem with the record, given the pool files' bytes by pool name (a Map; a pool
// missing from it had no file), plus what the page shows: the key string, each pool's
// re-run next to the record, and for a team draw each visit's re-run next to the record.
// Problems are {code, text}: `text` is verify.py's message, word for word; `code` and the
// other fields let the page say it in the reader's language.
export async function verifyRecord(record, poolFiles) {
  const problems = [];
  const report = { problems, keyString: null, pools: [], teams: null };
  const add = (code, text, extra = {}) => problems.push({ code, text, ...extra });
  if (!isObject(record)) { add("record", "the record is not a JSON object"); return report; }
  if (get(record, "algorithm") !== ALGORITHM) {
    add("algorithm", `algorithm: the record says ${pyRepr(get(record, "algorithm"))}, `
      + `this verifier implements ${pyRepr(ALGORITHM)}`);
    return report;
  }
  const withheld = get(record, "withheld");
  if (isObject(withheld)) {
    // An unannounced task's draw, published before its visits happened: nothing to re-run.
    add("withheld", `the record is withheld (${pyStr(get(withheld, "why") ?? null)}); it holds the commitment and `
      + "the hashes only: download it again once published in full (at the latest "
      + `after ${pyStr(get(withheld, "until") ?? null)}) and re-run it then`);
    return report;
  }
  const commitment = get(record, "commitment");
  const execution = get(record, "execution");
  const results = get(record, "results");
  for (const [key, value, kind] of [["commitment", commitment, "object"], ["execution", execution, "object"],
    ["results", results, "array"]]) {
    if (kind === "object" ? !isObject(value) : !Array.isArray(value)) {
      add("record", `${key}: missing or not a JSON ${kind}`);
    }
  }
  if (problems.length) return report;

  checkTimes(commitment, execution, add);
  checkTimeLock(commitment, execution, add);
  const pools = await checkPools(commitment, poolFiles, add, report);
  const sources = await checkSources(commitment, execution, add, report);
  const rerun = checkResults(pools, sources, results, add, report);
  if (get(record, "kind") === "team" || has(record, "assignment")) checkTeams(record, commitment, rerun, add, report);
  return report;
}

// datetime.fromisoformat (Python 3.11) for the forms a record uses: a date, "T" or another
// one-character separator, a time to the minute or second with an optional fraction, and an
// offset (Z, +08:00, +0800). Returns microseconds since 1970 UTC, null for no offset, or
// undefined when it is not such a date and time.
const ISO = /^(\d{4})-?(\d{2})-?(\d{2})(?:[^\d](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?(?:(Z)|([+-])(\d{2}):?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?)?$/u;

export function isoMicros(value) {
  if (typeof value !== "string") return undefined;
  const m = ISO.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((x) => Number(x || 0));
  const micros = Number((m[7] || "").slice(0, 6).padEnd(6, "0"));
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()
      || hour > 23 || minute > 59 || second > 59 || year < 1) return undefined;
  if (!m[8] && !m[9]) return null;
  let offset = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offset = (oh * 3600 + om * 60 + Number(m[12] || 0)) * 1e6 + Number((m[13] || "").padEnd(6, "0"));
    if (m[9] === "-") offset = -offset;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime() * 1000 + micros - offset;
}

function checkTimes(commitment, execution, add) {
  const times = {};
  for (const [where, block, key] of [["commitment.committed_at", commitment, "committed_at"],
    ["execution.executed_at", execution, "executed_at"]]) {
    const value = get(block, key);
    const moment = isoMicros(value);
    if (moment === undefined) { add("record", `${where}: ${pyRepr(value)} is not an ISO 8601 date and time`); continue; }
    if (moment === null) { add("record", `${where}: ${pyRepr(value)} has no UTC offset`); continue; }
    times[where] = moment;
  }
  if (Object.keys(times).length === 2 && !(times["execution.executed_at"] > times["commitment.committed_at"])) {
    add("record", `execution.executed_at (${pyStr(get(execution, "executed_at"))}) is not after `
      + `commitment.committed_at (${pyStr(get(commitment, "committed_at"))})`);
  }
}

// An ISO 8601 date and time with its UTC offset, in microseconds, or null (verify._moment).
export function moment(value) {
  const found = isoMicros(value);
  return found === undefined ? null : found;
}

// A public source must exist before it is used, and not before the commitment
// (verify._check_time_lock): each declared source's available_at is when its value became
// known; it must come after the commitment, the draw must have been executed at or after it,
// and each value entered at or after it and not after the execution. A record of the public
// mode must give that time for every source.
function checkTimeLock(commitment, execution, add) {
  const declared = get(commitment, "sources_declared");
  if (!Array.isArray(declared)) return;
  const isPublic = get(commitment, "entropy_mode") === "public";
  const executed = moment(get(execution, "executed_at"));
  const committed = moment(get(commitment, "committed_at"));
  let entries = get(execution, "sources_entered");
  const timed = declared.some((s) => isObject(s) && has(s, "available_at"));
  if (timed && (!Array.isArray(entries) || entries.length !== declared.length)) {
    add("time", "execution.sources_entered: missing, or not one entry per declared "
      + "source: the record does not say when each value was entered");
    entries = null;
  }
  for (let n = 1; n <= declared.length; n += 1) {
    const source = declared[n - 1];
    const where = `commitment.sources_declared[${n}]`;
    const value = isObject(source) ? get(source, "available_at") ?? null : null;
    if (value === null) {
      if (isPublic) {
        add("time", `${where}: no available_at: the record does not say when the `
          + "value became known, so nothing shows it was not chosen");
      }
      continue;
    }
    const known = moment(value);
    if (known === null) {
      add("time", `${where}.available_at: ${pyRepr(value)} is not an ISO 8601 date and time `
        + "with a UTC offset");
      continue;
    }
    if (committed !== null && !(committed < known)) {
      add("time", `commitment.committed_at (${pyStr(get(commitment, "committed_at"))}) is not `
        + `before ${where}.available_at (${pyStr(value)}): the value was known when `
        + "the draw was committed");
    }
    if (executed !== null && executed < known) {
      add("time", `execution.executed_at (${pyStr(get(execution, "executed_at"))}) is before `
        + `${where}.available_at (${pyStr(value)}): the draw used a value before it was known`);
    }
    const entry = entries !== null && entries !== undefined && Array.isArray(entries) ? entries[n - 1] : null;
    if (entry === null || entry === undefined) continue;
    const stamp = isObject(entry) ? get(entry, "entered_at") ?? null : null;
    const entered = moment(stamp);
    if (entered === null) {
      add("time", `execution.sources_entered[${n}].entered_at: ${pyRepr(stamp)} is not an `
        + "ISO 8601 date and time with a UTC offset");
      continue;
    }
    if (entered < known) {
      add("time", `execution.sources_entered[${n}].entered_at (${pyStr(stamp)}) is before `
        + `${where}.available_at (${pyStr(value)}): the value was entered before it was known`);
    }
    if (executed !== null && entered > executed) {
      add("time", `execution.sources_entered[${n}].entered_at (${pyStr(stamp)}) is after `
        + `execution.executed_at (${pyStr(get(execution, "executed_at"))})`);
    }
  }
}

async function checkPools(commitment, poolFiles, add, report) {
  const entries = get(commitment, "pools");
  if (!Array.isArray(entries) || !entries.length) { add("record", "commitment.pools: missing or empty"); return []; }
  const checked = [];
  const names = new Set();
  for (let n = 1; n <= entries.length; n += 1) {
    const pool = entries[n - 1];
    const where = `commitment.pools[${n}]`;
    if (!isObject(pool)) { add("record", `${where}: not a JSON object`); continue; }
    const name = get(pool, "name");
    const file = get(pool, "file");
    const digest = get(pool, "sha256");
    const size = get(pool, "size");
    const count = get(pool, "count");
    const bad = [];
    if (typeof name !== "string" || !name || names.has(name)) bad.push(`name ${pyRepr(name)} is missing or repeated`);
    if (typeof file !== "string" || !file) bad.push(`file ${pyRepr(file)} is missing`);
    if (typeof digest !== "string" || !SHA256.test(digest)) bad.push(`sha256 ${pyRepr(digest)} is not 64 lower-case hex digits`);
    if (!isCount(size)) bad.push(`size ${pyRepr(size)} is not a whole number`);
    if (!isCount(count) || (isCount(size) && count > size)) bad.push(`count ${pyRepr(count)} is not a whole number from 0 to the size`);
    if (bad.length) { add("record", `${where}: ` + bad.join("; ")); continue; }
    names.add(name);
    const shown = { name, file, size, count, committed: digest, found: null, ids: null, rows: [] };
    report.pools.push(shown);
    const label = `pool ${name} (${file})`;
    const data = poolFiles.get(name);
    if (data === undefined || data === null) {
      add("missing", `pool ${name}: no pool file given (the record names ${file})`, { pool: name });
      checked.push([pool, null]);
      continue;
    }
    const found = await sha256Hex(data);
    shown.found = found;
    if (found !== digest) {
      add("hash", `${label}: SHA-256 differs from the commitment: committed ${digest}, the file has ${found}`,
        { pool: name, committed: digest, found });
      checked.push([pool, null]);
      continue;
    }
    let ids;
    try {
      ids = parsePoolFile(data);
    } catch (error) {
      if (!(error instanceof PyError)) throw error;
      add("pool", `${label}: not a canonical pool file: ${error.message}`, { pool: name });
      checked.push([pool, null]);
      continue;
    }
    if (ids.length !== size) {
      add("pool", `${label}: the commitment says ${size} candidates, the file has ${ids.length}`, { pool: name });
      checked.push([pool, null]);
      continue;
    }
    shown.ids = ids;
    checked.push([pool, ids]);
  }
  for (const name of Array.from(poolFiles.keys()).filter((k) => !names.has(k)).sort(codePointCompare)) {
    add("record", `pool file given for ${pyRepr(name)}, which the record does not commit to`);
  }
  return checked;
}

export const codePointCompare = (a, b) => (a === b ? 0 : codePointLess(a, b) ? -1 : 1);

async function checkSources(commitment, execution, add, report) {
  // Any problem from here to the key string means the sources cannot be trusted.
  let failed = false;
  const local = (code, text, extra) => { failed = true; add(code, text, extra); };
  const declared = get(commitment, "sources_declared");
  const values = get(execution, "sources");
  if (!Array.isArray(declared)) local("record", "commitment.sources_declared: missing or not a JSON array");
  if (!Array.isArray(values)) local("record", "execution.sources: missing or not a JSON array");
  else if (Array.isArray(declared) && values.length !== declared.length) {
    local("record", `execution.sources has ${values.length} sources, commitment.sources_declared declares ${declared.length}`);
  }

  let committed = get(commitment, "secret_commitments");
  const commitments = new Map();
  if (!Array.isArray(committed)) {
    local("record", "commitment.secret_commitments: missing or not a JSON array");
    committed = [];
  }
  committed.forEach((entry, k) => {
    const n = k + 1;
    const party = isObject(entry) ? get(entry, "party") ?? null : null;
    const digest = isObject(entry) ? get(entry, "sha256") ?? null : null;
    if (typeof party !== "string" || !party || commitments.has(party)) {
      local("record", `commitment.secret_commitments[${n}]: party ${pyRepr(party)} is missing or repeated`);
    } else if (typeof digest !== "string" || !SHA256.test(digest)) {
      local("record", `secret of party ${party}: commitment ${pyRepr(digest)} is not 64 lower-case hex digits`);
      commitments.set(party, "");
    } else {
      commitments.set(party, digest);
    }
  });
  const secrets = new Map();
  const reported = new Set();
  let revealed = get(execution, "secrets_revealed");
  if (!Array.isArray(revealed)) {
    local("record", "execution.secrets_revealed: missing or not a JSON array");
    revealed = [];
  }
  for (let n = 1; n <= revealed.length; n += 1) {
    const entry = revealed[n - 1];
    const party = isObject(entry) ? get(entry, "party") ?? null : null;
    const secret = isObject(entry) ? get(entry, "secret") ?? null : null;
    if (typeof party !== "string" || secrets.has(party) || reported.has(party)) {
      local("record", `execution.secrets_revealed[${n}]: party ${pyRepr(party)} is missing or repeated`);
    } else if (!commitments.has(party)) {
      local("record", `secret of party ${party}: revealed but never committed`);
    } else if (typeof secret !== "string") {
      local("record", `secret of party ${party}: ${pyRepr(secret)} is not a string`);
      reported.add(party);
    } else {
      secrets.set(party, secret);
      const found = await sha256Hex(new TextEncoder().encode(secret));
      if (commitments.get(party) && found !== commitments.get(party)) {
        local("secret", `secret of party ${party}: SHA-256 of the revealed secret is ${found}, `
          + `the commitment is ${commitments.get(party)}`, { party });
      }
    }
  }
  for (const party of commitments.keys()) {
    if (!secrets.has(party) && !reported.has(party)) local("record", `secret of party ${party}: committed but not revealed`);
  }
  if (failed) return null;

  const sources = sourcesFor(commitment, execution);
  let key;
  try {
    key = keyString(sources);
  } catch (error) {
    if (!(error instanceof PyError)) throw error;
    add("sources", `sources: ${error.message}`);
    return null;
  }
  report.keyString = key;
  const recorded = get(execution, "key_string");
  if (recorded !== undefined && recorded !== null && recorded !== key) {
    add("key", `execution.key_string: the record says ${pyRepr(recorded)}, the sources give ${pyRepr(key)}`,
      { recorded, key });
    return null;
  }
  return sources;
}

// verify.sources_for: the public values, then each revealed secret, in commitment order.
export function sourcesFor(commitment, execution) {
  const revealed = new Map();
  for (const entry of get(execution, "secrets_revealed")) revealed.set(get(entry, "party"), get(entry, "secret"));
  const sources = get(execution, "sources").slice();
  for (const entry of get(commitment, "secret_commitments")) sources.push([revealed.get(get(entry, "party"))]);
  return sources;
}

function checkResults(pools, sources, results, add, report) {
  const rerun = new Map();
  const byPool = new Map();
  results.forEach((result, k) => {
    const name = isObject(result) ? get(result, "pool") ?? null : null;
    if (typeof name !== "string" || byPool.has(name)) {
      add("record", `results[${k + 1}]: pool ${pyRepr(name)} is missing or repeated`);
      return;
    }
    byPool.set(name, result);
  });
  const committed = new Set(pools.map(([pool]) => get(pool, "name")));
  for (const name of byPool.keys()) {
    if (!committed.has(name)) add("record", `results: pool ${name} was not committed to`);
  }

  for (const [pool, ids] of pools) {
    const name = get(pool, "name");
    const count = get(pool, "count");
    const shown = report.pools.find((p) => p.name === name);
    const result = byPool.get(name);
    if (result === undefined) { add("record", `pool ${name}: no result in the record`); continue; }
    const positions = get(result, "positions");
    const selected = get(result, "selected");
    if (ids === null || sources === null) {
      const why = ids === null ? "its pool file" : "the sources";
      add("not_rerun", `pool ${name}: selection not re-run because ${why} failed the checks above`, { pool: name });
      shown.rows = recordRows(positions, selected);
      continue;
    }
    if (!Array.isArray(positions) || !Array.isArray(selected)) {
      add("record", `pool ${name}: result positions and selected must be JSON arrays`);
      continue;
    }
    const expected = select(ids.length, sources, count);
    const expectedIds = expected.map((p) => ids[p - 1]);
    rerun.set(name, expectedIds);
    const note = (p) => (isCount(p) && p >= 1 && p <= ids.length ? ` (${ids[p - 1]})` : "");
    compare(`pool ${name}`, "position", positions, expected, note, add, name);
    if (pyEq(positions, expected)) compare(`pool ${name}`, "selected id", selected, expectedIds, () => "", add, name);
    const rows = Math.max(expected.length, positions.length, selected.length);
    for (let k = 0; k < rows; k += 1) {
      const row = {
        pick: k + 1, position: expected[k] ?? null, id: expectedIds[k] ?? null,
        recordPosition: k < positions.length ? positions[k] : undefined,
        recordId: k < selected.length ? selected[k] : undefined,
      };
      row.ok = k < expected.length && pyEq(row.recordPosition, row.position) && row.recordId === row.id;
      shown.rows.push(row);
    }
  }
  return rerun;
}

function recordRows(positions, selected) {
  const p = Array.isArray(positions) ? positions : [];
  const s = Array.isArray(selected) ? selected : [];
  return Array.from({ length: Math.max(p.length, s.length) }, (_, k) => ({
    pick: k + 1, position: null, id: null, recordPosition: p[k], recordId: s[k], ok: null,
  }));
}

function compare(label, what, found, expected, note, add, pool) {
  if (pyEq(found, expected)) return;
  const n = Math.min(found.length, expected.length);
  for (let k = 0; k < n; k += 1) {
    const have = found[k];
    const want = expected[k];
    if (!pyEq(have, want)) {
      add("pick", `${label}: pick ${k + 1} differs: the record has ${what} ${pyRepr(have)}${note(have)}, `
        + `the re-run gives ${pyRepr(want)}${note(want)}`, { pool, pick: k + 1, have, want, what });
      break;
    }
  }
  if (found.length !== expected.length) {
    add("length", `${label}: the record lists ${found.length} ${what}s, the committed count is ${expected.length}`, { pool });
  }
}

function checkTeams(record, commitment, rerun, add, report) {
  const params = get(commitment, "parameters");
  const visits = isObject(params) ? get(params, "visits") : undefined;
  const pool = isObject(params) ? get(params, "pool") : undefined;
  if (!isObject(params) || get(params, "team_algorithm") !== TEAM_ALGORITHM) {
    const found = isObject(params) ? get(params, "team_algorithm") : null;
    add("teams", `teams: commitment.parameters.team_algorithm is ${pyRepr(found)}, this verifier implements ${pyRepr(TEAM_ALGORITHM)}`);
    return;
  }
  if (!Array.isArray(visits) || typeof pool !== "string") {
    add("teams", "teams: commitment.parameters needs a pool name and a visits array");
    return;
  }
  const assignment = get(record, "assignment");
  if (!Array.isArray(assignment)) { add("teams", "teams: the record has no assignment array"); return; }
  const pools = new Map();
  const entries = get(commitment, "pools");
  for (const p of Array.isArray(entries) ? entries : []) if (isObject(p)) pools.set(get(p, "name") ?? null, p);
  if (!pools.has(pool)) { add("teams", `teams: pool ${pyRepr(pool)} is not committed`); return; }
  const committed = pools.get(pool);
  if (!pyEq(get(committed, "count"), get(committed, "size"))) {
    add("teams", `teams: pool ${pool} must be drawn in full (a permutation), `
      + `count ${pyRepr(get(committed, "count"))} of ${pyRepr(get(committed, "size"))}`);
    return;
  }
  const permutation = rerun.get(pool);
  if (permutation === undefined) {
    add("teams", `teams: assignment not re-run because pool ${pool} failed the checks above`);
    return;
  }
  let expected;
  try {
    expected = assign(permutation, visits);
  } catch (error) {
    if (!(error instanceof PyError)) throw error;
    add("teams", `teams: the committed visits cannot be assigned: ${error.message}`);
    return;
  }
  report.teams = [];
  if (assignment.length !== expected.length) {
    add("teams", `teams: the record assigns ${assignment.length} visits, the commitment lists ${expected.length}`);
  }
  const n = Math.min(assignment.length, expected.length);
  for (let k = 0; k < n; k += 1) {
    const have = assignment[k];
    const want = expected[k];
    const row = { visit: want.visit, team: want.team, reserve: want.reserve, recordTeam: undefined, recordReserve: undefined, ok: false };
    report.teams.push(row);
    if (!isObject(have)) { add("teams", `teams: assignment[${k + 1}] is not a JSON object`); continue; }
    row.recordTeam = get(have, "team");
    row.recordReserve = get(have, "reserve");
    const label = want.visit;
    if (!pyEq(get(have, "visit"), label)) {
      add("teams", `teams: assignment[${k + 1}] is for visit ${pyRepr(get(have, "visit"))}, `
        + `the commitment lists visit ${pyRepr(label)} there`);
      continue;
    }
    row.ok = true;
    for (const part of ["team", "reserve"]) {
      if (!pyEq(get(have, part), want[part])) {
        row.ok = false;
        add("team", `teams: visit ${pyStr(label)}: the record has ${part} ${pyRepr(get(have, part))}, `
          + `the re-run gives ${pyRepr(want[part])}`, { visit: pyStr(label), part });
      }
    }
  }
}

// --- reading the downloaded files ------------------------------------------------------------------

// The record as verify.py reads it: UTF-8 (strict), then JSON with exact numbers.
export function readRecord(bytes) {
  const bad = utf8Error(bytes);
  if (bad >= 0) throw new PyError(`not UTF-8 (byte ${bad})`);
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  if (text.startsWith("\ufeff")) throw new PyError("Unexpected UTF-8 BOM (decode using utf-8-sig)");
  try {
    return parseJson(text);
  } catch (error) {
    throw new PyError(error.message);
  }
}
