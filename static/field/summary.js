/* The record in words: a readable Chinese summary of a visit's record, shown before
 * anyone signs, and the record view (#/visit/<n>/record) that can be printed from the phone.
 * When online, the record view links the server's 检查记录表 (/visits/<n>/record and .pdf). */
import * as editor from './editor.js';
import { ANSWERS, NOTICE_WAYS, ORDER_KINDS, REFUSAL_REASONS, REPRESENTATIVE_ROLES } from './constants.js';
import { signaturesOf } from './signdata.js';
import { h, showTime } from './ui.js';
import { t } from './i18n.js';

/** Refusal reasons and the representative's roles by code, with the phone's words. */
export const REASONS = Object.fromEntries(REFUSAL_REASONS);
export const ROLES = Object.fromEntries(REPRESENTATIVE_ROLES);
const NOTICE = Object.fromEntries(NOTICE_WAYS);

const label = (pairs, code) => (pairs.find(([c]) => c === code) || [code, code || ''])[1];

export function categoryLabel(pack, code) {
  if (!code) return t('（尚未确定）');
  return ((pack.result_categories || []).find((c) => c.code === code) || { label: code }).label;
}

/** The summary of the open record: employer, team, notice, arrival, every item and question
 *  with its answer, the problems with their orders, the result, photos, refusal. */
export function summaryBlock(open) {
  const { pack, record, photos } = open;
  const visit = pack.visit;
  const employer = pack.employer || visit.employer || {};
  const answers = record.answers || {};
  const facts = [
    [t('检查编号'), visit.number],
    [t('被检查单位'), employer.name],
    [t('统一社会信用代码'), employer.credit_code],
    [t('住所（经营场所）'), employer.address],
    [t('检查组'), (pack.team || visit.team || []).map((m) => m.name + (m.is_leader ? t('（组长）') : '')).join(t('、'))],
    [t('事先通知'), visit.announced === false ? t('不预先通知')
      : record.notice && record.notice.date ? `${record.notice.date} ${t(NOTICE[record.notice.way] || '')}` : t('未填写')],
    [t('到达现场'), record.arrival ? showTime(record.arrival.at, true) +
      (record.arrival.location ? ` (${record.arrival.location.lat.toFixed(5)}, ${record.arrival.location.lon.toFixed(5)})` : '') : t('未记录')],
  ];
  const problems = [];
  const items = (pack.items || []).map((item) => h('li', { class: 'sum-item' },
    h('h4', {}, `${item.code} ${item.name}`),
    h('ol', { class: 'sum-questions' }, (item.questions || []).map((q) => {
      const a = answers[q.code];
      const kind = a && a.answer;
      if (kind === 'non_compliant') problems.push({ q, a });
      return h('li', { class: `sum-q ${kind || 'none'}`, 'data-question': q.code },
        h('span', { class: 'sum-text' }, q.text),
        h('strong', { class: `sum-answer ${kind || 'none'}` }, kind ? t(label(ANSWERS, kind)) : t('未作答')),
        a && a.note ? h('span', { class: 'sum-note' }, t('说明：{0}', a.note)) : null);
    }))));
  const orderText = (o) => o && o.kind
    ? t(label(ORDER_KINDS, o.kind)) + (o.kind === 'rectify' && o.due ? t('，期限 {0}', o.due) : '') + (o.text ? t('：{0}', o.text) : '')
    : t('未责令');
  const visitPhotos = (photos || []).filter((p) => !p.is_original);
  const assembled = record.assembled_photos || [];
  const refusal = record.refusal;
  return h('section', { class: 'card summary-doc', 'aria-label': t('检查记录摘要') },
    h('h2', {}, t('检查记录（摘要）')),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v || '')])),
    h('h3', {}, t('检查事项及结果')),
    h('ol', { class: 'sum-items' }, items),
    h('h3', {}, t('发现的问题及责令事项')),
    problems.length
      ? h('ol', { class: 'sum-problems' }, problems.map(({ q, a }) => h('li', {},
        h('strong', {}, q.code), ' ', a.note || '', h('br'), h('span', { class: 'sum-order' }, t('责令：{0}', orderText(a.order))))))
      : h('p', {}, t('未发现不符合的问题。')),
    h('h3', {}, t('检查结果类别')),
    h('p', { class: 'sum-result' }, categoryLabel(pack, record.result_category)),
    h('h3', {}, t('证据照片')),
    h('p', {}, t('共 {0} 张', visitPhotos.length + assembled.length)),
    visitPhotos.length ? h('ul', { class: 'sum-hashes small' }, visitPhotos.map((p) => h('li', {},
      `${showTime(p.taken_at, true)} ${p.question || t('现场')}${p.authorisation ? t('（授权委托书）') : ''}${p.scene ? t('（现场情况）') : ''} SHA-256 ${p.sha256.slice(0, 16)}…`))) : null,
    refusal ? [
      h('h3', {}, t('拒绝签字或无法签字的情况')),
      h('p', {}, refusal.reason ? t(REASONS[refusal.reason]) : t('（尚未选择原因）')),
      refusal.explanation ? h('p', { class: 'pre' }, refusal.explanation) : null,
      (refusal.witnesses || []).length ? h('p', {}, t('见证人：{0}', refusal.witnesses.map((w) => w.name).join(t('、')))) : null,
    ] : null,
    record.corrects ? [h('h3', {}, t('更正')), h('p', {}, t('更正已封存的记录，理由：{0}', record.correction_reason || ''))] : null);
}

/** Who signed, with the pictures kept on the phone. */
export async function signaturesBlock(open) {
  const stored = new Map((await signaturesOf(open.number)).map((s) => [s.uuid, s]));
  const list = (open.record.signatures || []).map((ref) => {
    const s = stored.get(ref.uuid);
    return h('figure', { class: `sig-figure${s ? '' : ' elsewhere'}`, 'data-signature': ref.uuid },
      s && (s.display || s.png) ? h('img', { src: s.display || `data:image/png;base64,${s.png}`, alt: t('{0}的签名', signerName(open.pack, ref.signer, s)) })
        : s ? null : h('span', { class: 'sig-elsewhere' }, t('在其他设备上签名')),
      h('figcaption', {}, signerText(open.pack, ref.signer, s), ' · ', showTime(ref.signed_at, true)));
  });
  return h('section', { class: 'card' }, h('h2', {}, t('签名')),
    list.length ? h('div', { class: 'sig-figures' }, list) : h('p', { class: 'small' }, t('尚无签名。')),
    open.record.seal ? h('p', { class: 'seal-line' }, t('封存码（SHA-256）：'), h('code', {}, open.record.seal)) : null);
}

function signerName(pack, signer, stored) {
  if (signer.kind === 'inspector') {
    const m = (pack.team || []).find((x) => x.user_id === signer.user_id);
    return (m && m.name) || (stored && stored.signer.name) || '';
  }
  return signer.name || '';
}

export function signerText(pack, signer, stored) {
  const name = signerName(pack, signer, stored);
  if (signer.kind === 'inspector') {
    const part = signer.department_id && (pack.departments || []).find((d) => d.department_id === signer.department_id);
    return part ? t('检查人员 {0}（{1}）', name, part.name) : t('检查人员 {0}', name);
  }
  if (signer.kind === 'representative') return t('{0} {1}', t(ROLES[signer.role] || ''), name);
  return t('见证人 {0}', name);
}

/** #/visit/<n>/record: the summary, the signatures and the seal; print; the server's
 *  documents when online. */
export async function recordView(ctx, number) {
  const server = await editor.serverRecord(number);  // sealed on another device: adopted here
  if (server.phase === 'auth') ctx.authRequired();
  const open = await editor.load(number);
  if (!open.pack) {
    return h('section', { class: 'card' }, h('p', {}, t('检查 {0} 还没有下载到本机。', number)),
      h('a', { class: 'button primary', href: '#/visits' }, t('返回我的检查')));
  }
  ctx.setTitle(t('{0} 检查记录', number));
  if (server.blocked) {
    return h('div', { class: 'stack record-view' }, editor.serverRecordCard(number, server, () => ctx.rerender()),
      h('a', { class: 'button secondary', href: `#/visit/${number}` }, t('返回本次检查')));
  }
  const online = navigator.onLine;
  const path = `/visits/${encodeURIComponent(number)}`;
  return h('div', { class: 'stack record-view' },
    h('p', { class: 'print-only print-title' }, t('劳动保障监察 检查记录表（现场打印）')),
    summaryBlock(open),
    await signaturesBlock(open),
    h('section', { class: 'card no-print' },
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'print-record', onclick: () => window.print() }, t('打印')),
        h('a', { class: 'button secondary', href: `#/visit/${number}` }, t('返回本次检查'))),
      online
        ? h('div', { class: 'actions' },
          h('a', { class: 'button secondary', id: 'server-record', href: `${path}/record`, target: '_blank', rel: 'noopener' }, t('服务器上的检查记录表')),
          h('a', { class: 'button secondary', id: 'server-pdf', href: `${path}/record.pdf`, target: '_blank', rel: 'noopener' }, t('下载 PDF')))
        : h('p', { class: 'small' }, t('联网后可查看服务器生成的检查记录表和 PDF（以服务器收到的记录为准）。'))));
}
