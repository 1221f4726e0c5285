/* Signing and sealing a visit's record on the phone (docs/field-sync.md, server:
 * inspection/fieldwork/signing.py, refusals.py, seal.py).
 *
 * #/visit/<n>/sign shows the record in words (summary.js), then who signs: every inspector of
 * the team with an account, and the employer's representative (name and role; a delegate's
 * authorisation photographed) or, instead, the refusal or absence (refusal.js) with its
 * witnesses. Each signer signs in a full-screen pad (signature_pad); the signature signs the
 * record's content hash (seal.js). "封存" then seals: the seal covers the content and the
 * signatures' entries; the sealed revision and the signatures go out through the outbox.
 *
 * A change to the content after a signature voids every signature (editor.beforeSave hook
 * below): "记录已修改，签名已作废，请重新签名". Once sealed, the record is locked (editor.locked):
 * nothing on the phone changes it until the inspector starts a correction (lockCard, "开始更正":
 * a reason, and a confirmation naming the signatures it voids). The record is from then on a
 * correction of the sealed revision (`corrects` = its key, `correction_reason`), as the server
 * requires; the sealed revision and its signatures still go to the server, in order, before it.
 */
import * as editor from './editor.js';
import { MIN_INSPECTOR_SIGNATURES } from './constants.js';
import { entryByKey, getMeta } from './db.js';
import { checks, extraChecks, revisionBody } from './record.js';
import { expectedSigns, sealOf, validSignatures } from './seal.js';
import {
  discardSignatures, inkPixels, makeSignature, queueSignatures, signatureRef, storeSignature, tooSmall,
} from './signdata.js';
import { REASONS, ROLES, signaturesBlock, summaryBlock } from './summary.js';
import { refusalSection } from './refusal.js';
import { requestSync } from './sync.js';
import { fill, h, localIso, refill, uuid } from './ui.js';
import { t } from './i18n.js';

export const VOIDED_TEXT = '记录已修改，签名已作废，请重新签名';

/* ---------- the pad ---------- */

/** Scale signature_pad point groups by `s` and move them by (dx, dy) (points and pen widths;
 *  times unchanged). */
function scaled(data, s, dx = 0, dy = 0) {
  return data.map((g) => ({
    ...g, minWidth: g.minWidth * s, maxWidth: g.maxWidth * s, dotSize: (g.dotSize || 0) * s,
    points: g.points.map((p) => ({ ...p, x: p.x * s + dx, y: p.y * s + dy })),
  }));
}

const copy = (data) => JSON.parse(JSON.stringify(data));

/** A copy of the ink only (PNG data URL), for showing and printing the signature on the phone.
 *  Not evidence: the PNG of the whole pad, hashed and uploaded, is. */
function cropped(canvas, strokes) {
  const xs = strokes.flatMap((g) => g.points.map((p) => p.x));
  const ys = strokes.flatMap((g) => g.points.map((p) => p.y));
  const ratio = canvas.width / canvas.getBoundingClientRect().width || 1;
  const pad = 8;
  const x = Math.max(0, Math.floor((Math.min(...xs) - pad) * ratio));
  const y = Math.max(0, Math.floor((Math.min(...ys) - pad) * ratio));
  const w = Math.min(canvas.width - x, Math.ceil((Math.max(...xs) - Math.min(...xs) + 2 * pad) * ratio));
  const hgt = Math.min(canvas.height - y, Math.ceil((Math.max(...ys) - Math.min(...ys) + 2 * pad) * ratio));
  const out = document.createElement('canvas');
  out.width = Math.max(1, w);
  out.height = Math.max(1, hgt);
  out.getContext('2d').drawImage(canvas, x, y, out.width, out.height, 0, 0, out.width, out.height);
  return out.toDataURL('image/png');
}

/** The full-screen signing pad. Resolves with {strokes, svg, pngDataUrl, width, height}, or
 *  null when cancelled. Rotating or resizing keeps the signature: the points drawn (toData)
 *  are redrawn scaled to the new canvas (fromData), never stretched. */
export async function openPad({ title, note }) {
  // Loaded when a signature is asked for, not at start-up (the worker has it precached).
  const { default: SignaturePad } = await import('../vendor/signature_pad/signature_pad.js');
  return new Promise((resolve) => {
    const canvas = h('canvas', { class: 'pad', 'aria-label': t('签名区域：请用手指在此书写全名') });
    const area = h('div', { class: 'pad-area' }, h('span', { class: 'pad-hint', 'aria-hidden': 'true' }, t('请在此处签名')), canvas);
    const message = h('p', { class: 'pad-message', role: 'alert' });
    const done = (value) => {
      observer.disconnect();
      window.removeEventListener('resize', fit);
      pad.off();
      overlay.remove();
      document.body.classList.remove('signing');
      resolve(value);
    };
    const confirm = h('button', { type: 'button', class: 'primary', id: 'pad-confirm', onclick: () => {
      const strokes = pad.toData();
      const why = tooSmall(strokes, inkPixels(canvas));
      if (why) {
        message.textContent = why === 'empty' ? t('还没有签名。') : t('签名太小或过于简单，请在框内写清楚全名。');
        return;
      }
      done({ strokes: copy(strokes), svg: pad.toSVG(), pngDataUrl: pad.toDataURL('image/png'), width: size.w, height: size.h,
        display: cropped(canvas, strokes) });
    } }, t('确认签名'));
    const overlay = h('div', { class: 'sign-overlay', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'pad-title' },
      h('div', { class: 'pad-head' },
        h('h2', { id: 'pad-title', tabindex: '-1' }, title),
        note ? h('p', { class: 'pad-note' }, note) : null,
        h('p', { class: 'pad-rotate' }, t('横过手机签名，签名区更宽。'))),
      area, message,
      h('div', { class: 'pad-actions' },
        h('button', { type: 'button', class: 'secondary', id: 'pad-cancel', onclick: () => done(null) }, t('取消')),
        h('button', { type: 'button', class: 'secondary', id: 'pad-clear', onclick: () => {
          pad.clear();
          base = null;
          message.textContent = '';
          show();
        } }, t('清除重写')),
        confirm));
    document.body.append(overlay);
    document.body.classList.add('signing');
    const pad = new SignaturePad(canvas, { minWidth: 1, maxWidth: 3.2, penColor: '#000', throttle: 0 });
    const size = { w: 0, h: 0 };
    let base = null;  // {data, w, h}: the points as drawn, and the canvas size they were drawn on
    const show = () => {
      const points = pad.toData().reduce((n, g) => n + g.points.length, 0);
      canvas.dataset.points = String(points);
      canvas.dataset.size = `${size.w}x${size.h}`;
      area.classList.toggle('inked', points > 0);
    };
    function fit() {
      const rect = area.getBoundingClientRect();
      const w = Math.round(rect.width);
      const hgt = Math.round(rect.height);
      if (!w || !hgt || (w === size.w && hgt === size.h)) return;
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(hgt * ratio);
      canvas.getContext('2d').scale(ratio, ratio);
      size.w = w;
      size.h = hgt;
      if (base && base.data.length) {  // the same drawing, as large as fits, centred
        const k = Math.min(w / base.w, hgt / base.h);
        pad.fromData(scaled(base.data, k, (w - base.w * k) / 2, (hgt - base.h * k) / 2));
      } else {
        pad.clear();
      }
      show();
    }
    pad.addEventListener('beginStroke', () => { message.textContent = ''; });
    pad.addEventListener('endStroke', () => {
      base = { data: copy(pad.toData()), w: size.w, h: size.h };
      show();
    });
    const observer = new ResizeObserver(() => fit());
    observer.observe(area);
    window.addEventListener('resize', fit);
    fit();
    overlay.querySelector('#pad-title').focus();
  });
}

/* ---------- the record's hashes ---------- */

const bodyOf = (record, photos) => revisionBody(record, photos);

async function me() {
  return getMeta('me');
}

/** A joint visit's record lists the team's departments from the pack (each department's
 *  inspectors sign their part); a member's part and a one-department visit list none. */
function departmentsOf(record, pack) {
  const departments = pack && !record.part && pack.departments && pack.departments.length ? pack.departments : null;
  if (departments) record.departments = departments;
  else delete record.departments;
}

/** The departments of a joint visit (null otherwise), with their signing members. */
export function departmentGroups(pack) {
  if (!pack.departments || !pack.departments.length) return null;
  const team = signingTeam(pack);
  return pack.departments.map((d) => ({ ...d, members: team.filter((m) => m.department_id === d.department_id) }));
}

/** Voids the signatures when the content they sign changed (every save runs this first).
 *  A sealed record is locked: no save changes it (or queues anything) but the seal itself;
 *  startCorrection unseals it first. Signatures of a record not sealed yet were never queued:
 *  voided, they leave the phone. */
async function voidIfChanged(record, open, options) {
  if (record.seal && !options.sealing) {
    options.queue = false;
    return;
  }
  if (record.refusal) {  // the scene photos are those taken for the refusal (refusal.js)
    record.refusal.photos = open.photos.filter((p) => p.scene && !p.is_original).map((p) => p.uuid);
  }
  departmentsOf(record, open.pack);
  const signatures = record.signatures || [];
  if (!signatures.length) return;
  const body = { ...bodyOf(record, open.photos), signatures };
  if ((await validSignatures(body)).length === signatures.length) return;
  record.voided = { at: localIso(), count: signatures.length };
  record.signatures = [];
  record.seal = null;
  await discardSignatures(signatures.map((s) => s.uuid));
  window.dispatchEvent(new CustomEvent('field:voided', { detail: { visit: record.visit } }));
}
editor.beforeSave.add(voidIfChanged);

/* A correction of a sealed record says why (the server refuses it otherwise). */
extraChecks.add((record, photos, block) => {
  if (record.corrects && !(record.correction_reason || '').trim()) {
    block.push({ question: null, text: t('已封存的记录被修改：请在“签名确认”页说明更正理由') });
  }
});

/* ---------- the lock of a sealed record, and the start of a correction ---------- */

export const LOCKED_TEXT = '已签名封存，记录已锁定';

/** "张三（检查人员）、李四（法定代表人）": who signed, as the record lists them. */
export function signerList(pack, signatures) {
  const team = (pack && pack.team) || [];
  const names = (signatures || []).map(({ signer }) => {
    if (signer.kind === 'inspector') {
      const m = team.find((x) => x.user_id === signer.user_id);
      return t('{0}（{1}）', (m && m.name) || signer.name || `#${signer.user_id}`, t('检查人员'));
    }
    if (signer.kind === 'representative') return t('{0}（{1}）', signer.name || '', t(ROLES[signer.role] || '被检查单位代表'));
    return t('{0}（{1}）', signer.name || '', t('见证人'));
  });
  return names.length ? names.join(t('、')) : t('（无）');
}

/** Where the sealed revision is: 'sent' (receipt), 'waiting' (still on the phone), or null. */
async function sealedState(record) {
  if (!record.sealed_key) return null;
  const entry = await entryByKey(record.sealed_key);
  if (!entry) return null;
  return entry.status === 'sent' ? 'sent' : entry.status === 'refused' ? 'refused' : 'waiting';
}

/** Ask for the reason of a correction, and confirm it, naming the signatures it voids.
 *  Resolves with the reason, or null when cancelled (nothing changes then). */
export function confirmCorrection(open) {
  const record = open.record;
  return new Promise((resolve) => {
    const reason = h('textarea', { id: 'correction-start-reason', rows: 3, required: true, 'aria-required': 'true',
      placeholder: t('如：第 2 项误录为“不适用”，现场核实为“符合”。') });
    const message = h('p', { class: 'problem', role: 'alert', id: 'correction-start-message' });
    let result = null;
    const dialog = h('dialog', { class: 'correction-dialog', id: 'correction-dialog', 'aria-labelledby': 'correction-dialog-title' },
      h('h2', { id: 'correction-dialog-title' }, t('开始更正')),
      h('p', {}, t('更正将作为新的版本提交，原封存记录保留在服务器上，不会被替换。')),
      h('p', { class: 'void-list', id: 'correction-voids' }, h('strong', {}, t('将作废以下签名：{0}', signerList(open.pack, record.signatures)))),
      h('p', { class: 'small' }, t('更正后，以上各方须重新签名，再封存上传。')),
      h('div', { class: 'field' }, h('label', { for: 'correction-start-reason' }, t('更正理由（必填）')), reason),
      message,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', id: 'correction-cancel', onclick: () => dialog.close() }, t('取消')),
        h('button', { type: 'button', class: 'primary danger-fill', id: 'correction-confirm', onclick: () => {
          const why = reason.value.trim();
          if (!why) {
            message.textContent = t('请填写更正理由。');
            reason.focus();
            return;
          }
          result = why;
          dialog.close();
        } }, t('确认更正'))));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    reason.focus();
  });
}

/** Unseal the record as a correction of its sealed revision: the signatures are void (they
 *  stay with the sealed revision, which still goes to the server), `corrects` names that
 *  revision, with the reason. Nothing is queued until the next change or the new seal. */
export async function startCorrection(open, reason) {
  const record = open.record;
  const why = (reason || '').trim();
  if (!record.seal || !record.sealed_key || !why) return false;
  await editor.change((r) => {
    r.signatures = [];
    r.seal = null;
    r.voided = null;
    r.corrects = r.sealed_key;
    r.correction_reason = why;
  }, { unlock: true, queue: false });
  return true;
}

/** The banner of a sealed record: locked, and the one way to change it. `done` runs after
 *  a correction was started (the screen is drawn again, editable). */
export function lockCard(open, done, { compact = false } = {}) {
  const state = h('p', { class: 'small', role: 'status' });
  const adopted = open.record.adopted && open.record.adopted.key === open.record.sealed_key;
  sealedState(open.record).then((where) => {
    state.textContent = adopted && !where ? t('封存的记录是从服务器下载的：在其他设备上签名封存，签名原件和照片在服务器上。')
      : where === 'sent' ? t('封存的记录已上传到服务器。')
      : where === 'waiting' ? t('封存的记录在本机等待上传，联网后自动上传。')
        : where === 'refused' ? t('封存的记录被服务器拒绝，请查看“上传”页。') : '';
  });
  return h('section', { class: 'card locked-card', id: 'record-locked', 'aria-labelledby': 'record-locked-title' },
    h('h2', { id: 'record-locked-title' }, t(LOCKED_TEXT)),
    compact ? null : h('p', {}, t('检查结果、拒签情况、照片和检查结论不能再修改。发现错误，请开始更正：说明理由，重新签名并封存；原封存记录保留。')),
    state,
    h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'secondary', id: 'start-correction',
      onclick: async (e) => {
        const button = e.currentTarget;
        const reason = await confirmCorrection(open);
        if (!reason) {
          button.focus();
          return;
        }
        button.disabled = true;
        if (await startCorrection(open, reason)) await done();
        else button.disabled = false;
      },
    }, t('开始更正'))));
}

/** A correction in progress (unsealed): say so, with its reason. */
export function correctionNotice(record) {
  if (!record.corrects || record.seal) return null;
  return h('p', { class: 'notice warn correcting', role: 'status' },
    t('正在更正已封存的记录（理由：{0}）。修改后请重新签名并封存。', record.correction_reason || ''));
}

/* A plain, lasting notice when signatures are voided, whatever screen is open. */
window.addEventListener('field:voided', () => {
  let toast = document.getElementById('voided-toast');
  if (!toast) {
    toast = h('div', { id: 'voided-toast', class: 'toast', role: 'alert' });
    document.body.append(toast);
  }
  fill(toast, h('span', {}, t(VOIDED_TEXT)),
    h('a', { class: 'button', href: `#/visit/${editor.open.number}/sign`, onclick: () => toast.remove() }, t('去签名')),
    h('button', { type: 'button', class: 'secondary', 'aria-label': t('关闭'), onclick: () => toast.remove() }, '×'));
});

/* ---------- who must sign, and what stops the seal ---------- */

/** The team members who sign as inspectors: those with an account. */
export function signingTeam(pack) {
  return (pack.team || []).filter((m) => m.user_id);
}

const hasSigned = (record, test) => (record.signatures || []).some((s) => test(s.signer));

export function sealProblems(open) {
  const { pack, record, photos } = open;
  const out = [];
  const rules = pack.refusal_rules || {};
  const min = rules.min_inspector_signatures || MIN_INSPECTOR_SIGNATURES;
  const { block } = checks(record, photos, pack.result_categories || [], pack.category_rules || null);
  out.push(...block.map((p) => p.text));
  if (record.part) out.push(t('您的部分由组长汇总后统一签名封存。'));
  if (!record.result_category) out.push(t('请先在检查结论中选择检查结果类别。'));
  const team = signingTeam(pack);
  if (team.length < min) out.push(t('检查组中有账号的检查人员不足 {0} 名，无法签名封存。', min));
  for (const m of team) {
    if (!hasSigned(record, (s) => s.kind === 'inspector' && s.user_id === m.user_id)) out.push(t('{0} 尚未签名', m.name));
  }
  for (const d of departmentGroups(pack) || []) {
    if (!d.members.length) out.push(t('{0} 没有可在本机签名的检查人员，无法签署本部门部分。', d.name));
  }
  if (record.refusal) {
    for (const w of record.refusal.witnesses || []) {
      if (w.name && !hasSigned(record, (s) => s.kind === 'witness' && s.name === w.name)) out.push(t('见证人 {0} 尚未签名', w.name));
    }
  } else {
    if ((rules.need_refusal || []).includes(record.result_category)) {
      out.push(t('该检查结果须记录拒绝签字或无法签字的情况。'));
    }
    if (!hasSigned(record, (s) => s.kind === 'representative')) out.push(t('被检查单位代表尚未签名'));
    const rep = (record.signatures || []).find((s) => s.signer.kind === 'representative');
    if (rep && rep.signer.role === 'delegate' && !photos.some((p) => p.authorisation)) {
      out.push(t('受委托人签名须拍摄授权委托书'));
    }
  }
  return out;
}

/** Sign as `signer` ({kind, user_id | name, role}): the pad, then the signature is kept and
 *  listed in the draft (no revision is sent for it: signatures go out with the seal). */
async function signAs(open, signer, title, note) {
  await editor.change(null, { queue: false });  // every pending change is in the content
  const drawn = await openPad({ title, note });
  if (!drawn) return false;
  const record = open.record;
  const signs = await expectedSigns(bodyOf(record, open.photos), signer);
  const signature = await makeSignature({
    uuid: uuid(), visit: record.visit, record_id: record.record_id, signer, signs, ...drawn,
  });
  await storeSignature(signature);
  const same = (s) => s.kind === signer.kind && (signer.kind === 'inspector' ? s.user_id === signer.user_id
    : signer.kind === 'representative' || s.name === signer.name);
  const replaced = (record.signatures || []).filter((s) => same(s.signer)).map((s) => s.uuid);
  await editor.change((r) => {
    r.signatures = (r.signatures || []).filter((s) => !same(s.signer));
    r.signatures.push(signatureRef(signature));
    r.voided = null;
  }, { queue: false });
  if (replaced.length) await discardSignatures(replaced);
  return true;
}

/** Seal: the seal over the content and the signatures, a sealed revision, and the uploads of
 *  the signatures, all queued; then a sync is asked for. */
export async function sealNow(open) {
  await editor.change(null, { queue: false });
  const problems = sealProblems(open);
  if (problems.length) return problems;
  const record = open.record;
  const body = { ...bodyOf(record, open.photos), signatures: record.signatures };
  if ((await validSignatures(body)).length !== body.signatures.length) return [t(VOIDED_TEXT)];
  delete body.seal;
  const seal = await sealOf(body);
  const result = await editor.change((r) => {
    r.seal = seal;
    r.sealed_at = localIso();
    r.voided = null;
  }, { sealing: true });
  if (!result.queued) {
    await editor.change((r) => { r.seal = null; }, { queue: false, unlock: true });
    return result.checks.block.map((p) => p.text);
  }
  const user = await me();
  await queueSignatures(record.signatures.map((s) => s.uuid), user ? user.id : null);
  requestSync('seal');
  return [];
}

/* ---------- #/visit/<n>/sign ---------- */

export async function signView(ctx, number) {
  const server = await editor.serverRecord(number);  // sealed on another device: adopted here
  if (server.phase === 'auth') ctx.authRequired();
  const open = await editor.load(number);
  if (!open.pack) {
    return h('section', { class: 'card' }, h('p', {}, t('检查 {0} 还没有下载到本机。', number)),
      h('a', { class: 'button primary', href: '#/visits' }, t('返回我的检查')));
  }
  ctx.setTitle(t('{0} 签名确认', number));
  if (server.blocked) {
    return h('div', { class: 'stack sign-view' }, editor.serverRecordCard(number, server, () => ctx.rerender()),
      h('a', { class: 'button secondary', href: `#/visit/${number}` }, t('返回本次检查')));
  }
  const toast = document.getElementById('voided-toast');
  if (toast) toast.remove();  // this screen says it itself, where the signing is done
  const root = h('div', { class: 'stack sign-view' });
  const redraw = async () => {
    refill(root, ...(await sections(ctx, open, redraw)));
  };
  await redraw();
  return root;
}

async function sections(ctx, open, redraw) {
  const { pack, record } = open;
  const out = [];
  if (record.voided) out.push(h('p', { class: 'notice warn voided', role: 'alert' }, t(VOIDED_TEXT)));
  if (record.seal) {
    out.push(h('section', { class: 'card sealed-card' },
      h('h2', {}, t('记录已签名封存')),
      h('p', {}, t('封存码：'), h('code', { class: 'seal-code' }, record.seal)),
      h('div', { class: 'actions' }, h('a', { class: 'button primary', href: `#/visit/${record.visit}/record` }, t('查看和打印检查记录')))));
    out.push(lockCard(open, redraw, { compact: true }));
  }
  if (record.part) {
    out.push(h('section', { class: 'card' }, h('p', {}, t('本次为联合检查，您的部分由组长汇总成一份记录后统一签名封存。'))));
    return out;
  }
  if (record.corrects) out.push(correctionCard(record, redraw));
  out.push(h('p', { class: 'notice' }, t('请先向被检查单位出示并宣读以下检查记录，确认无误后依次签名。')));
  out.push(summaryBlock(open));
  out.push(employerCard(ctx, open, redraw));  // first: a refusal's text is what the inspectors sign
  out.push(inspectorsCard(open, redraw));
  out.push(await signaturesBlock(open));
  out.push(sealCard(open, redraw));
  return out;
}

function correctionCard(record, redraw) {
  return h('section', { class: 'card correction' },
    h('h2', {}, t('更正已封存的记录')),
    h('p', { class: 'small' }, t('该记录已封存并可能已上传，修改须作为更正提交，原记录保留。')),
    h('div', { class: 'field' },
      h('label', { for: 'correction-reason' }, t('更正理由（必填）')),
      h('textarea', { id: 'correction-reason', rows: 2, value: record.correction_reason || '', disabled: !!record.seal,
        onchange: (e) => editor.change((r) => { r.correction_reason = e.target.value; }).then(redraw) })));
}

function signRow(open, { key, name, role, signer, title, note, enabled = true }, redraw) {
  const ref = (open.record.signatures || []).find((s) => {
    const x = s.signer;
    if (x.kind !== signer.kind) return false;
    if (x.kind === 'inspector') return x.user_id === signer.user_id;
    if (x.kind === 'witness') return x.name === signer.name;
    return true;
  });
  return h('li', { class: `sign-row ${ref ? 'signed' : ''}`, 'data-signer': key },
    h('span', { class: 'sign-who' }, h('strong', {}, name), role ? h('span', { class: 'small' }, ` ${role}`) : null),
    ref ? h('span', { class: 'tag ok' }, t('已签名')) : h('span', { class: 'tag warn' }, t('未签名')),
    open.record.seal ? null : h('button', {
      type: 'button', class: ref ? 'secondary' : 'primary', disabled: !enabled,
      onclick: async () => {
        await signAs(open, signer, title, note);  // a new signature replaces the old one
        redraw();
      },
    }, ref ? t('重新签名') : t('签名')));
}

function inspectorsCard(open, redraw) {
  const team = signingTeam(open.pack);
  const missing = (open.pack.team || []).filter((m) => !m.user_id);
  const explanation = open.record.refusal ? t('（签名即确认以上检查记录和拒签情况说明属实）') : t('（签名即确认以上检查记录属实）');
  const row = (m, note) => signRow(open, {
    key: `inspector-${m.user_id}`, name: m.name, role: m.is_leader ? t('组长') : '',
    signer: { kind: 'inspector', user_id: m.user_id, name: m.name, ...(m.department_id && open.pack.departments ? { department_id: m.department_id } : {}) },
    title: t('检查人员 {0} 签名', m.name), note,
  }, redraw);
  const groups = departmentGroups(open.pack);
  const names = new Map((open.pack.items || []).map((i) => [i.code, i.name]));
  const rows = groups
    ? groups.map((d) => h('li', { class: 'department-part', 'data-department': d.department_id },
      h('h3', {}, d.name, d.lead ? h('span', { class: 'tag' }, t('牵头部门')) : null),
      h('p', { class: 'small' }, t('本部门检查事项：{0}', d.items.map((c) => `${c} ${names.get(c) || ''}`.trim()).join(t('；')) || t('（无）'))),
      h('ul', { class: 'sign-rows' }, d.members.map((m) => row(m, t('（签名即确认本部门检查事项的记录属实）'))))))
    : team.map((m) => row(m, explanation));
  return h('section', { class: 'card' },
    h('h2', {}, t('检查人员签名')),
    groups ? h('p', { class: 'small' }, t('联合检查：各部门检查人员分别签署本部门检查事项的记录。')) : null,
    h('ul', { class: groups ? 'department-parts' : 'sign-rows' }, rows),
    missing.length ? h('p', { class: 'small' }, t('{0} 没有系统账号，不能在本机签名。', missing.map((m) => m.name).join(t('、')))) : null);
}

function employerCard(ctx, open, redraw) {
  const { record } = open;
  const sealed = !!record.seal;
  const mode = record.refusal ? 'refusal' : 'sign';
  const choose = (value) => editor.change((r) => {
    if (value === 'refusal' && !r.refusal) r.refusal = { reason: null, explanation: '', witnesses: [], photos: [] };
    if (value === 'sign') delete r.refusal;
  }).then(redraw);
  return h('section', { class: 'card employer-sign' },
    h('h2', {}, t('被检查单位')),
    h('fieldset', { class: 'choices two', disabled: sealed },
      h('legend', {}, t('被检查单位代表')),
      h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'employer-mode', value: 'sign', checked: mode === 'sign', onchange: () => choose('sign') }), h('span', {}, t('代表签名'))),
      h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'employer-mode', value: 'refusal', checked: mode === 'refusal', onchange: () => choose('refusal') }), h('span', {}, t('拒签或无法签名')))),
    mode === 'sign' ? representativeBlock(ctx, open, redraw) : refusalSection(ctx, open, redraw, signRow));
}

function representativeBlock(ctx, open, redraw) {
  const { record } = open;
  const rep = record.representative || { name: '', role: '' };
  const signed = (record.signatures || []).some((s) => s.signer.kind === 'representative');
  const set = (changes) => editor.change((r) => { r.representative = { ...(r.representative || { name: '', role: '' }), ...changes }; }, { queue: false });
  const authorisation = open.photos.filter((p) => p.authorisation);
  const status = h('p', { class: 'small', role: 'status' });
  const locked = signed || !!record.seal;
  return h('div', { class: 'representative' },
    h('div', { class: 'field' },
      h('label', { for: 'rep-name' }, t('代表姓名')),
      h('input', { id: 'rep-name', type: 'text', autocomplete: 'off', value: rep.name || '', disabled: locked,
        onchange: (e) => set({ name: e.target.value.trim() }).then(redraw) })),
    h('fieldset', { class: 'choices three', disabled: locked },
      h('legend', {}, t('身份')),
      Object.entries(ROLES).map(([code, label]) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'rep-role', value: code, checked: rep.role === code, onchange: () => set({ role: code }).then(redraw) }),
        h('span', {}, t(label))))),
    rep.role === 'delegate' ? h('div', { class: 'authorisation' },
      h('p', { class: 'small' }, authorisation.length ? t('已拍摄授权委托书 {0} 张。', authorisation.length) : t('受委托人签名须拍摄授权委托书（请在签名前拍摄）。')),
      h('label', { class: 'button secondary', for: 'authorisation-photo' }, t('拍摄授权委托书')),
      h('input', { id: 'authorisation-photo', class: 'file', type: 'file', accept: 'image/*', capture: 'environment',
        onchange: async (e) => {
          const [file] = e.target.files;
          e.target.value = '';
          if (!file) return;
          status.textContent = t('正在处理照片…');
          try {
            await editor.addPhoto(file, { question: null, documentCopy: true, inspector: ctx.me && ctx.me.display_name, extra: { authorisation: true } });
            redraw();
          } catch (error) {
            status.textContent = t('照片未保存：{0}', error.message);
          }
        } }), status) : null,
    h('ul', { class: 'sign-rows' }, signRow(open, {
      key: 'representative', name: rep.name || t('（请先填写姓名）'), role: ROLES[rep.role] ? t(ROLES[rep.role]) : '',
      signer: { kind: 'representative', name: rep.name, role: rep.role },
      title: t('{0} {1} 签名', t(ROLES[rep.role] || ''), rep.name || ''),
      note: t('本人已阅读以上检查记录，情况属实。'),
      enabled: !!(rep.name && rep.role),
    }, redraw)));
}

function sealCard(open, redraw) {
  if (open.record.seal) return null;
  const problems = sealProblems(open);
  const out = h('div', { class: 'checks', 'aria-live': 'polite' },
    problems.length ? problems.map((p) => h('p', { class: 'problem' }, p)) : h('p', { class: 'ok' }, t('签名齐全，可以封存。')));
  return h('section', { class: 'card seal-card' },
    h('h2', {}, t('封存检查记录')),
    h('p', { class: 'small' }, t('封存后记录和签名一起上传，不能再修改；发现错误只能更正。')),
    out,
    h('div', { class: 'bottom-actions' }, h('button', {
      type: 'button', class: 'primary', id: 'seal-record', disabled: problems.length > 0,
      onclick: async (e) => {
        e.target.disabled = true;
        const left = await sealNow(open);
        if (left.length) fill(out, ...left.map((p) => h('p', { class: 'problem' }, p)));
        redraw();
      },
    }, t('确认封存'))));
}

export { REASONS };

/** The signing card of the visit screen: where the record stands, and the way to sign. */
export function signCard(pack, record) {
  const number = pack.visit.number;
  const count = (record.signatures || []).length;
  const state = record.seal
    ? h('p', { class: 'ok' }, t('已签名封存（{0} 个签名）', count))
    : count ? h('p', {}, t('已有 {0} 个签名，尚未封存。', count)) : h('p', { class: 'small' }, t('检查完成后，请被检查单位代表阅读记录并签名，检查人员签名后封存。'));
  return h('section', { class: 'card sign-card' },
    h('h2', {}, t('签名与封存')),
    record.voided ? h('p', { class: 'notice warn voided', role: 'alert' }, t(VOIDED_TEXT)) : null,
    record.corrects && !record.seal ? h('p', { class: 'notice warn' }, t('已封存的记录被修改，将作为更正提交。')) : null,
    record.corrects && record.seal ? h('p', { class: 'small' }, t('本记录是对已封存记录的更正，理由：{0}', record.correction_reason || '')) : null,
    state,
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', id: 'go-sign', href: `#/visit/${number}/sign` }, record.seal ? t('查看签名') : t('签名确认')),
      h('a', { class: 'button secondary', id: 'go-record', href: `#/visit/${number}/record` }, t('检查记录（打印）'))));
}
