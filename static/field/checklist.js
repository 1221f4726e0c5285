/* The checklist of one item, question by question, and the evidence photo block.
 *
 * Answers are radio buttons drawn as big tap targets (符合 / 不符合 / 不适用 / 未检查). A
 * non-compliant answer opens what it needs: the problem (note, required), the order given
 * (stop, or rectify by a date) and evidence photos. Every input event saves (editor.change).
 *
 * A sealed record is read-only (editor.locked): the questions are disabled, photos can be
 * neither taken nor deleted, and the lock card offers "开始更正" (sign.js). The office's
 * comments on a returned record (pack.review) stand beside their item and questions.
 */
import * as editor from './editor.js';
import { ANSWERS, ORDER_KINDS } from './constants.js';
import { answerOf } from './record.js';
import { thumbUrl } from './photos.js';
import { correctionNotice, lockCard } from './sign.js';
import { fill, h, today } from './ui.js';
import { t } from './i18n.js';

/** The office's comments of the open return (the newest unresolved) on this item:
 *  {item: [...], questions: Map(code -> [...])}. */
function officeComments(pack, itemCode) {
  const returns = (pack && pack.review && pack.review.returns) || [];
  const open = returns.find((r) => !r.resolved);
  const mine = ((open && open.item_comments) || []).filter((c) => c.item === itemCode);
  const questions = new Map();
  for (const c of mine.filter((x) => x.question)) questions.set(c.question, [...(questions.get(c.question) || []), c.comment]);
  return { item: mine.filter((c) => !c.question).map((c) => c.comment), questions };
}

/** The order given for a non-compliant answer, or none ('' : no order). */
const ORDER_CHOICES = [['', '不需责令'], ...ORDER_KINDS];

const commentBox = (texts) => (texts && texts.length
  ? h('div', { class: 'office-comment', role: 'note' }, h('strong', {}, t('审核意见：')), texts.map((c) => h('p', {}, c)))
  : null);

export async function itemView(ctx, number, code) {
  const server = await editor.serverRecord(number);  // sealed on another device: adopted here
  if (server.phase === 'auth') ctx.authRequired();
  const open = await editor.load(number);
  const item = open.pack && (open.pack.items || []).find((i) => i.code === code);
  if (!item) {
    return h('section', { class: 'card' }, h('p', {}, t('本机没有这个检查事项。')),
      h('a', { class: 'button primary', href: `#/visit/${number}` }, t('返回')));
  }
  if (server.blocked) {  // no record on the phone: none is started here
    ctx.setTitle(`${item.code} ${item.name}`);
    return h('div', { class: 'stack checklist' }, editor.serverRecordCard(number, server, () => ctx.rerender()),
      h('a', { class: 'button secondary', href: `#/visit/${number}` }, t('返回本次检查')));
  }
  ctx.setTitle(`${item.code} ${item.name}`);
  const items = open.pack.items;
  const next = items[items.indexOf(item) + 1];
  const locked = editor.locked();
  const comments = officeComments(open.pack, item.code);
  return h('div', { class: `stack checklist${locked ? ' locked' : ''}` },
    locked ? lockCard(open, () => ctx.rerender(), { compact: true }) : correctionNotice(open.record),
    h('section', { class: 'card' },
      h('h2', {}, `${item.code} ${item.name}`),
      item.content ? h('p', { class: 'small' }, item.content) : null,
      item.legal_basis ? h('details', {}, h('summary', {}, t('法律依据')), h('p', { class: 'small pre' }, item.legal_basis)) : null,
      commentBox(comments.item)),
    (item.questions || []).map((q) => questionBlock(ctx, item, q, { locked, comments: comments.questions.get(q.code) })),
    h('div', { class: 'bottom-actions' },
      h('a', { class: 'button secondary', href: `#/visit/${number}` }, t('返回本次检查')),
      next ? h('a', { class: 'button primary', href: `#/visit/${number}/item/${encodeURIComponent(next.code)}` }, t('下一事项')) : null));
}

/** One question. Its answer buttons and its note field are made once and stay in place while
 *  the inspector works (a redraw that replaced them would drop the focus and the characters
 *  typed meanwhile); only what depends on the answer (the note's label, the order, the photo
 *  block) follows it. */
function questionBlock(ctx, item, q, { locked = false, comments = null } = {}) {
  const current = () => editor.open.record.answers[q.code] || { answer: null, note: '', order: null };
  const noteLabel = h('label', { for: `note-${q.code}` });
  const note = h('textarea', {
    id: `note-${q.code}`, value: current().note || '',
    oninput: (e) => editor.change((r) => { answerOf(r, item.code, q.code).note = e.target.value; }),
  });
  const orderSlot = h('div', { class: 'order-slot' });
  const photoSlot = h('div', { class: 'photo-slot' });
  let shownAs;  // the answer was non-compliant when the order slot was last filled
  const draw = () => {
    const a = current();
    const bad = a.answer === 'non_compliant';
    noteLabel.textContent = bad ? t('发现的问题（必填）') : t('备注');
    note.rows = bad ? 3 : 2;
    if (bad) note.setAttribute('aria-required', 'true');
    else note.removeAttribute('aria-required');
    if (shownAs !== bad) fill(orderSlot, bad ? orderBlock(item, q, a) : null);
    shownAs = bad;
    // once shown, the photo block stays: a photo being added must find its gallery
    if (!photoSlot.firstChild && (bad || editor.open.photos.some((p) => p.question === q.code))) {
      photoSlot.append(photoBlock(ctx, q.code));
    }
  };
  const name = `answer-${q.code}`;
  const box = h('fieldset', { class: `question card${comments ? ' commented' : ''}`, 'data-question': q.code, disabled: locked },
    h('legend', {}, h('span', { class: 'qcode' }, q.code), ' ', q.text),
    commentBox(comments),
    q.evidence_hint ? h('p', { class: 'small' }, t('取证提示：{0}', q.evidence_hint)) : null,
    q.legal_basis ? h('p', { class: 'small muted' }, q.legal_basis) : null,
    h('div', { class: 'choices four', role: 'radiogroup', 'aria-label': t('检查结果') },
      ANSWERS.map(([value, label]) => h('label', { class: `choice ${value}` },
        h('input', {
          type: 'radio', name, value, checked: current().answer === value,
          onchange: async () => {
            await editor.change((r) => {
              const answer = answerOf(r, item.code, q.code);
              answer.answer = value;
              if (value !== 'non_compliant') answer.order = null;
            });
            draw();
          },
        }),
        h('span', {}, t(label))))),
    h('div', { class: 'field' }, noteLabel, note),
    orderSlot, photoSlot);
  draw();
  return box;
}

function orderBlock(item, q, a) {
  const order = a.order || { kind: '', due: '', text: '' };
  const set = (changes, redraw) => editor.change((r) => {
    const answer = answerOf(r, item.code, q.code);
    answer.order = { ...(answer.order || { kind: '', due: '', text: '' }), ...changes };
  }).then(redraw);
  const wrap = h('div', { class: 'order' });
  const draw = () => {
    const current = editor.open.record.answers[q.code].order || order;
    fill(wrap, 
      h('fieldset', { class: 'choices three' },
        h('legend', {}, t('责令事项')),
        ORDER_CHOICES.map(([kind, label]) => h('label', { class: 'choice' },
          h('input', { type: 'radio', name: `order-${q.code}`, value: kind, checked: (current.kind || '') === kind,
            onchange: () => set({ kind }, draw) }),
          h('span', {}, t(label))))),
      current.kind === 'rectify' ? h('div', { class: 'field' },
        h('label', { for: `due-${q.code}` }, t('改正期限')),
        h('input', { id: `due-${q.code}`, type: 'date', min: today(), value: current.due || '',
          oninput: (e) => set({ due: e.target.value }) })) : null,
      current.kind ? h('div', { class: 'field' },
        h('label', { for: `order-text-${q.code}` }, t('责令内容')),
        h('input', { id: `order-text-${q.code}`, type: 'text', value: current.text || '',
          oninput: (e) => set({ text: e.target.value }) })) : null);
  };
  draw();
  return wrap;
}

/** Photos of a question (or of the whole visit when `question` is null), with the camera and
 *  gallery buttons and the "document copy" switch. */
export function photoBlock(ctx, question) {
  const box = h('div', { class: 'photos' });
  const status = h('p', { class: 'small', role: 'status', 'aria-live': 'polite' });
  const copy = h('input', { type: 'checkbox', id: `copy-${question || 'visit'}` });
  const grid = h('div', { class: 'thumbs' });
  const drawThumbs = () => {
    fill(grid, ...editor.open.photos.filter((p) => p.question === question).map((p) => {
      const url = thumbUrl(p);
      return h('figure', { class: `thumb${p.remote ? ' remote' : ''}`, 'data-photo': p.uuid },
        url ? h('img', { src: url, alt: t('证据照片 {0}', p.taken_at), width: 120, height: 90, onload: () => URL.revokeObjectURL(url) })
          : p.remote ? h('span', { class: 'thumb-remote' }, t('照片在服务器上')) : null,
        h('figcaption', {}, p.document_copy ? t('复印件 · ') : '', p.remote ? t('已在服务器上') : p.receipt ? t('已上传') : t('待上传')),
        p.receipt || editor.locked() ? null : h('button', {
          type: 'button', class: 'delete', 'aria-label': t('删除照片 {0}', p.taken_at),
          onclick: () => removePhoto(p),
        }, t('删除')));
    }));
  };
  /** Only a photo that has not been sent, and only after the inspector confirms. */
  const removePhoto = async (photo) => {
    if (!window.confirm(t('删除这张照片？它还没有上传，删除后无法恢复。'))) return;
    const removed = await editor.removePhoto(photo.uuid);
    status.textContent = removed ? t('照片已删除') : t('这张照片已上传或正在上传，不能删除。');
    drawThumbs();
  };
  const picked = async (event) => {
    const files = [...event.target.files];
    event.target.value = '';
    for (const [i, file] of files.entries()) {
      status.textContent = t('正在处理第 {0}/{1} 张照片…', i + 1, files.length);
      try {
        await editor.addPhoto(file, { question, documentCopy: copy.checked, inspector: ctx.me && ctx.me.display_name });
        drawThumbs();
      } catch (error) {
        status.textContent = t('照片未保存：{0}', error.message);
        return;
      }
    }
    status.textContent = files.length ? t('已保存 {0} 张照片', files.length) : '';
  };
  const id = question || 'visit';
  if (editor.locked()) {  // sealed: the photos are shown, none is added or deleted
    drawThumbs();
    box.append(grid.childNodes.length ? grid : h('p', { class: 'small' }, t('没有照片。')));
    return box;
  }
  box.append(
    h('div', { class: 'photo-buttons' },
      h('label', { class: 'button primary', for: `camera-${id}` }, t('拍照取证')),
      h('input', { id: `camera-${id}`, class: 'file', type: 'file', accept: 'image/*', capture: 'environment', 'data-kind': 'camera', onchange: picked }),
      h('label', { class: 'button secondary', for: `gallery-${id}` }, t('从相册选择')),
      h('input', { id: `gallery-${id}`, class: 'file', type: 'file', accept: 'image/*', multiple: true, 'data-kind': 'gallery', onchange: picked })),
    h('label', { class: 'check' }, copy, t(' 这是文件复印件的照片')),
    status, grid);
  drawThumbs();
  return box;
}
