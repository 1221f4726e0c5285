/* A visit's record on the device: the draft, its checks, and its revisions for the outbox.
 *
 * Every change is saved at once (the draft in `records`). When the draft passes the checks
 * that the server applies (mirrored here from docs/field-sync.md), the save also queues a new
 * revision (new UUID, revision + 1). If the previous revision of the same record is still
 * waiting and never left the phone, it is replaced instead of piling up; one that may have
 * reached the server (`maybe_sent`: its PUT was sent and no receipt came back) is left alone
 * and the new one goes after it, so a retry can never send a changed body under its UUID.
 * A sealed revision is never replaced either (sign.js: a sealed record is changed only by a
 * correction, which goes after it).
 */
import { CATEGORY_RULES, NO_PROBLEM } from './constants.js';
import { photosOfVisit, recordOfVisit, saveDraft } from './db.js';
import { newEntry, registerKind } from './outbox.js';
import { localIso, uuid } from './ui.js';
import { t } from './i18n.js';

/* A revision in the outbox: its body is stored with it (a later change makes a new entry or
 * replaces a waiting one, never edits what was queued). First in the queue: the record lists
 * the photos and signatures that follow it. */
registerKind('record', {
  rank: () => 0,
  toRequest: (entry) => ({
    url: `/api/v1/field/records/${entry.key}`,
    init: { method: 'PUT', body: entry.body, headers: { 'Content-Type': 'application/json' } },
  }),
});

export function blankRecord(visit) {
  return {
    record_id: uuid(), visit, revision: 0, saved_at: null, notice: null, arrival: null,
    answers: {}, result_category: null, photos: [],
  };
}

export async function loadRecord(visit) {
  const found = await recordOfVisit(visit);
  return found || blankRecord(visit);
}

/** The answer to a question, created on first touch. */
export function answerOf(record, item, question) {
  if (!record.answers[question]) {
    record.answers[question] = { item, question, answer: null, note: '', order: null };
  }
  return record.answers[question];
}

/** Used when a pack predates `category_rules`: the server's table for the one rule that the
 *  protocol document states (inspection/fieldwork/results.py holds the full table). */
const FALLBACK_RULES = { [NO_PROBLEM]: CATEGORY_RULES[NO_PROBLEM] };

/** What stops the record from being sent (`block`) and what the inspector should still do
 *  (`warn`). The blocking rules mirror the server's check_record (results.py): a
 *  non-compliant answer needs a note, an order to rectify a date, and the result category
 *  follows the pack's `category_rules` (forbid / need / need_photo). */
export function checks(record, photos, categories = [], rules = null) {
  const block = [];
  const warn = [];
  const answers = Object.values(record.answers).filter((a) => a.answer);
  const kinds = new Set(answers.map((a) => a.answer));
  const bad = answers.filter((a) => a.answer === 'non_compliant');
  for (const a of bad) {
    if (!a.note || !a.note.trim()) block.push({ question: a.question, text: t('{0}：不符合的须写明发现的问题', a.question) });
    if (a.order && a.order.kind === 'rectify' && !a.order.due) {
      block.push({ question: a.question, text: t('{0}：责令限期改正须填写期限', a.question) });
    }
    if (!photos.some((p) => p.question === a.question)) {
      warn.push({ question: a.question, text: t('{0}：建议拍摄证据照片', a.question) });
    }
    if (!a.order || !a.order.kind) warn.push({ question: a.question, text: t('{0}：尚未填写责令事项', a.question) });
  }
  const category = record.result_category;
  if (category) {
    const label = (categories.find((c) => c.code === category) || { label: category }).label;
    const rule = (rules || FALLBACK_RULES)[category];
    if (!rule) {
      if (rules) block.push({ question: null, text: t('检查结论不在可选范围内') });
    } else {
      if (rule.forbid.includes('non_compliant') && kinds.has('non_compliant')) {
        block.push({ question: null, text: t('有“不符合”的问题时，结论不能是“{0}”', label) });
      }
      if (rule.forbid.includes('compliant') && kinds.has('compliant')) {
        block.push({ question: null, text: t('有“符合”的检查结果时，结论不能是“{0}”', label) });
      }
      if (rule.need === 'non_compliant' && !kinds.has('non_compliant')) {
        block.push({ question: null, text: t('结论“{0}”须至少有一项“不符合”', label) });
      }
      if (rule.need === 'order' && !bad.some((a) => a.order && a.order.kind)) {
        block.push({ question: null, text: t('结论“{0}”须至少有一项“不符合”并责令停止或改正', label) });
      }
      if (rule.need_photo && !photos.some((p) => !p.is_original)) {
        block.push({ question: null, text: t('结论“{0}”须至少有一张照片作为证据', label) });
      }
    }
  }
  for (const more of extraChecks) more(record, photos, block, warn);
  return { block, warn };
}

/** More checks, `fn(record, photos, block, warn)`: the refusal, a joint visit's part, a
 *  correction's reason (sign.js, refusal.js, leader.js register theirs). */
export const extraChecks = new Set();

/** The signing and joint-visit parts of the body, only when the draft has them: the refusal, a member's part,
 *  the correction of a sealed revision, the parts a leader assembled, a joint visit's
 *  departments (each signs its part: sign.js), and (sealed only) the
 *  signatures and the seal. Photos taken by other members (assembled) are listed by reference. */
const OPTIONAL = ['refusal', 'part', 'corrects', 'correction_reason', 'assembled_from', 'departments'];
function withExtras(record, body) {
  for (const key of OPTIONAL) {
    if (record[key] !== undefined && record[key] !== null) body[key] = record[key];
  }
  if (record.assembled_photos && record.assembled_photos.length) {
    const mine = new Set(body.photos.map((p) => p.uuid));
    body.photos.push(...record.assembled_photos.filter((p) => !mine.has(p.uuid)));
  }
  if (record.seal) {
    body.signatures = record.signatures || [];
    body.seal = record.seal;
  }
  return body;
}

/** The JSON body of one revision, exactly as docs/field-sync.md describes it. */
export function revisionBody(record, photos) {
  return withExtras(record, {
    record_id: record.record_id,
    revision: record.revision,
    visit: record.visit,
    saved_at: record.saved_at,
    notice: record.notice && record.notice.date && record.notice.way ? record.notice : null,
    arrival: record.arrival,
    answers: Object.values(record.answers).filter((a) => a.answer).map((a) => ({
      item: a.item, question: a.question, answer: a.answer, note: a.note || '',
      order: a.answer === 'non_compliant' && a.order && a.order.kind
        ? { kind: a.order.kind, due: a.order.kind === 'rectify' ? (a.order.due || null) : null, text: a.order.text || '' }
        : null,
    })),
    result_category: record.result_category || null,
    photos: photos.filter((p) => !p.is_original).map((p) => (p.remote && p.listed ? { ...p.listed } : {
      uuid: p.uuid, sha256: p.sha256, original_sha256: p.original_sha256, question: p.question,
      document_copy: !!p.document_copy, taken_at: p.taken_at, bytes: p.bytes,
      ...(p.authorisation ? { authorisation: true } : {}),
    })),
  });
}

/* ---------- a record made on another device (docs/field-sync.md "A record made on another
 * device") ---------- */

/** The phone's record from the server's record state (GET .../record): the body of its latest
 *  revision as the phone keeps it (answers by question), with the bookkeeping that lets the
 *  phone go on from it: the server's revision (the next save is that + 1), and for a sealed
 *  body its signatures, its seal and `sealed_key` (its revision's key: a correction names it).
 *  `adopted` says where it came from. The photos it lists are remotePhotos(). */
export function recordFromServer(state) {
  const body = state.body;
  const sealed = !!body.seal;
  const answers = {};
  for (const a of body.answers || []) {
    answers[a.question] = {
      item: a.item, question: a.question, answer: a.answer, note: a.note || '',
      order: a.order ? { kind: a.order.kind, due: a.order.due || null, text: a.order.text || '' } : null,
    };
  }
  const record = {
    ...blankRecord(body.visit),
    record_id: body.record_id, revision: body.revision, saved_at: body.saved_at || null,
    notice: body.notice || null, arrival: body.arrival || null, answers,
    result_category: body.result_category || null,
    signatures: sealed ? body.signatures || [] : [], seal: sealed ? body.seal : null,
    sealed_key: sealed ? state.revision_uuid : body.corrects || null,
    sealed_at: sealed ? body.saved_at || null : null,
    adopted: {
      key: state.revision_uuid, revision: body.revision, sealed, received_at: state.received_at || null,
      saved_at: body.saved_at || null, at: localIso(),
    },
  };
  for (const key of OPTIONAL) {
    if (key !== 'part' && body[key] !== undefined && body[key] !== null) record[key] = body[key];
  }
  const rep = (body.signatures || []).map((s) => s.signer).find((s) => s && s.kind === 'representative');
  if (rep) record.representative = { name: rep.name || '', role: rep.role || '' };
  return record;
}

/** The photos the server's body lists, as the phone's photo list holds them without their
 *  bytes (they are on the server): marked `remote`, with the entry exactly as listed (a later
 *  revision lists it again as it is), a receipt (never uploaded, never deleted), the marks the
 *  screens read (`scene`: a refusal's photo, `authorisation`). */
export function remotePhotos(body) {
  const scene = new Set((body.refusal && body.refusal.photos) || []);
  return (body.photos || []).map((p) => ({
    uuid: p.uuid, visit: body.visit, record_id: body.record_id, question: p.question || null,
    document_copy: !!p.document_copy, taken_at: p.taken_at, type: 'image/jpeg', data: null, thumb: null,
    sha256: p.sha256, original_sha256: p.original_sha256 || null, bytes: p.bytes,
    status: 'sent', remote: true, listed: { ...p },
    receipt: { key: p.uuid, kind: 'photo', sha256: p.sha256, remote: true },
    ...(p.authorisation ? { authorisation: true } : {}), ...(scene.has(p.uuid) ? { scene: true } : {}),
  }));
}

/** Save the draft, and queue a revision when it passes the checks. Returns {queued, checks}.
 *  One transaction over records + outbox: a crash leaves either both or neither. */
export async function saveRecord(record, photos, pack, user, options = {}) {
  const result = checks(record, photos, (pack && pack.result_categories) || [],
    (pack && pack.category_rules) || null);
  record.saved_at = localIso();
  let entry = null;
  if (!result.block.length && options.queue !== false) {
    record.revision += 1;
    const key = uuid();
    if (record.seal) record.sealed_key = key;  // the sealed revision (sign.js)
    entry = newEntry('record', {
      key, record_id: record.record_id, visit: record.visit, revision: record.revision,
      body: JSON.stringify(revisionBody(record, photos)), type: 'application/json',
      created_at: record.saved_at, user, sealed: !!record.seal,
    });
  }
  record.problems = result.block.map((p) => p.text);
  // The newest revision of this record is replaced while it waits and never left the phone.
  // A sealed revision is never replaced: once sealed it goes to the server, and what follows
  // corrects it.
  await saveDraft(record, entry, (last) => last.status === 'waiting' && !last.maybe_sent && !last.sealed);
  return { queued: !!entry, checks: result };
}

export async function photosOf(visit) {
  const all = await photosOfVisit(visit);
  return all.sort((a, b) => (a.taken_at < b.taken_at ? -1 : 1));
}
