/* Joint visits on the phone (docs/field-sync.md "Joint visits"; server:
 * inspection/fieldwork/joint.py, joint_api.py).
 *
 * The team leader (#/visit/<n>/leader) sets the day, the meeting time and place, notes, and
 * splits the items among the members (a checkbox per item per member). A save based on an
 * older arrangement answers 409: "someone changed it, reload", nothing merged. The leader then
 * follows each member's part as it arrives (GET .../parts: nothing / working / finished,
 * answered of questions, waiting for photos) and assembles the visit's one record from the
 * complete, finished parts and their own answers, then signs and seals it (sign.js).
 *
 * A member of a split visit works on their own items: their record is a *part*
 * (`"part": {"finished": bool}`, no result category, only their items), sent like any
 * revision; "我的部分已完成" marks it finished.
 */
import { AuthRequired, HttpError, getJson, putJson } from './api.js';
import { getPack, setMeta, getMeta } from './db.js';
import * as editor from './editor.js';
import { downloadPack } from './packs.js';
import { extraChecks } from './record.js';
import { fill, h, showTime } from './ui.js';
import { t } from './i18n.js';

const STATE = { nothing: '未开始', working: '进行中', finished: '已完成' };

export function arrangementOf(pack) {
  return (pack && pack.arrangement) || null;
}

export function isLeader(pack) {
  const a = arrangementOf(pack);
  const meA = a && (a.members || []).find((m) => m.is_me);
  if (meA) return !!meA.is_leader;
  const meT = (pack && pack.team || []).find((m) => m.is_me);
  return !!(meT && meT.is_leader);
}

/** My items when the visit is split and I am a member, not the leader (else null). */
export function myPartItems(pack) {
  const a = arrangementOf(pack);
  if (!a || !a.my_items || isLeader(pack)) return null;
  return a.my_items;
}

/** The pack's items, mine first, each marked `mine` (true when the visit is not split). */
export function orderedItems(pack) {
  const a = arrangementOf(pack);
  const mine = a && a.my_items ? new Set(a.my_items) : null;
  const items = (pack.items || []).map((item) => ({ ...item, mine: !mine || mine.has(item.code) }));
  return [...items.filter((i) => i.mine), ...items.filter((i) => !i.mine)];
}

/* A member of a split visit never adopts the visit's sealed record from the server: the
 * leader's phone corrects it (editor.serverRecord). */
editor.adoptGuards.add((pack) => !myPartItems(pack));

/* A member's record on a split visit is a part: marked before every save. */
editor.beforeSave.add(async (record, open) => {
  if (myPartItems(open.pack)) {
    record.part = record.part || { finished: false };
    record.result_category = null;
  }
});

extraChecks.add((record, photos, block) => {
  if (!record.part) return;
  const mine = myPartItems(editor.open.pack);
  if (!mine) return;
  for (const a of Object.values(record.answers || {})) {
    if (a.answer && !mine.includes(a.item)) {
      block.push({ question: a.question, text: t('{0}：该事项已由组长分给其他组员，请清除您的回答', a.question) });
    }
  }
});

/* ---------- on the visit screen ---------- */

/** The joint-visit card of the visit screen: the leader's link, or the member's part. */
export function jointCard(pack, record) {
  const a = arrangementOf(pack);
  const number = pack.visit.number;
  const when = a && (a.scheduled_on || a.meeting_time || a.meeting_point)
    ? h('p', {}, t('集合：{0} {1} {2}', a.scheduled_on || '', a.meeting_time || '', a.meeting_point || '')) : null;
  if (isLeader(pack)) {
    return h('section', { class: 'card joint' }, h('h2', {}, t('组长')), when,
      record.assembled_from ? h('p', { class: 'small ok' }, t('已汇总 {0} 名组员的部分。', record.assembled_from.length)) : null,
      h('div', { class: 'actions' }, h('a', { class: 'button primary', id: 'leader-link', href: `#/visit/${number}/leader` }, t('安排与进度'))));
  }
  const mine = myPartItems(pack);
  if (!mine) return when ? h('section', { class: 'card joint' }, h('h2', {}, t('检查安排')), when) : null;
  const names = (pack.items || []).filter((i) => mine.includes(i.code)).map((i) => `${i.code} ${i.name}`);
  const finished = record.part && record.part.finished;
  return h('section', { class: 'card joint part' },
    h('h2', {}, t('我的部分（联合检查）')), when,
    h('p', {}, t('组长分给您的事项：{0}', names.join(t('、')) || t('无'))),
    a.notes ? h('p', { class: 'small pre' }, a.notes) : null,
    h('p', { class: 'small', role: 'status' }, finished ? t('已标记完成，联网后组长即可汇总。') : t('完成后请点“我的部分已完成”。')),
    h('div', { class: 'actions' }, h('button', {
      type: 'button', class: finished ? 'secondary' : 'primary', id: 'part-finished',
      onclick: async (e) => {
        await editor.change((r) => { r.part = { finished: !finished }; });
        fill(e.target.closest('section'), ...jointCard(pack, editor.open.record).childNodes);
      },
    }, finished ? t('撤销“已完成”') : t('我的部分已完成'))));
}

/* ---------- #/visit/<n>/leader ---------- */

export async function leaderView(ctx, number) {
  const open = await editor.load(number);
  if (!open.pack) {
    return h('section', { class: 'card' }, h('p', {}, t('检查 {0} 还没有下载到本机。', number)),
      h('a', { class: 'button primary', href: '#/visits' }, t('返回我的检查')));
  }
  ctx.setTitle(t('{0} 组长', number));
  if (!isLeader(open.pack)) {
    return h('section', { class: 'card' }, h('p', {}, t('只有本次检查的组长可以安排检查和汇总。')));
  }
  const root = h('div', { class: 'stack leader-view' });
  const arrangementBox = h('div');
  const partsBox = h('div');
  root.append(partsBox, arrangementBox);  // on the day, the progress is what the leader looks at
  await drawParts(ctx, open, partsBox);
  await drawArrangement(ctx, open, arrangementBox);
  return root;
}

async function drawArrangement(ctx, open, box) {
  const number = open.number;
  const url = `/api/v1/field/visits/${encodeURIComponent(number)}/arrangement`;
  let a = arrangementOf(open.pack);
  let note = null;
  try {
    a = (await getJson(url)).json;
  } catch (error) {
    if (error instanceof AuthRequired) ctx.authRequired();
    note = t('离线：显示离线包中的安排，联网后才能保存。');
  }
  a = a || { revision: 0, scheduled_on: null, meeting_time: '', meeting_point: '', notes: '', members: [], split: {} };
  const window_ = open.pack.visit.window || [];
  const members = a.members || [];
  const split = a.split || {};
  const message = h('div', { class: 'arrangement-message', role: 'alert' });
  const form = h('form', { class: 'card arrangement', novalidate: true });
  const boxes = [];
  fill(form,
    h('h2', {}, t('检查安排')),
    note ? h('p', { class: 'notice' }, note) : null,
    h('div', { class: 'field' }, h('label', { for: 'arr-day' }, t('检查日期')),
      h('input', { id: 'arr-day', type: 'date', value: a.scheduled_on || '', min: window_[0] || null, max: window_[1] || null })),
    h('div', { class: 'field' }, h('label', { for: 'arr-time' }, t('集合时间')),
      h('input', { id: 'arr-time', type: 'time', value: a.meeting_time || '' })),
    h('div', { class: 'field' }, h('label', { for: 'arr-place' }, t('集合地点')),
      h('input', { id: 'arr-place', type: 'text', value: a.meeting_point || '', maxlength: 200 })),
    h('div', { class: 'field' }, h('label', { for: 'arr-notes' }, t('备注')),
      h('textarea', { id: 'arr-notes', rows: 2, value: a.notes || '', maxlength: 1000 })),
    h('h3', {}, t('事项分工')),
    h('p', { class: 'small' }, t('为每个事项勾选负责的组员；都不勾选则不分工，每人都可检查全部事项。')),
    h('div', { class: 'split' }, (open.pack.items || []).map((item) => h('fieldset', { class: 'split-item', 'data-item': item.code },
      h('legend', {}, h('strong', {}, item.code), ' ', item.name),
      h('div', { class: 'split-members' }, members.map((m) => {
        const input = h('input', { type: 'checkbox', name: `split-${item.code}`, value: String(m.inspector_id),
          checked: (split[item.code] || []).includes(m.inspector_id), 'data-member': String(m.inspector_id) });
        boxes.push({ item: item.code, member: m.inspector_id, input });
        return h('label', { class: 'check split-check' }, input, ` ${m.name}${m.is_leader ? t('（组长）') : ''}`);
      }))))),
    message,
    h('div', { class: 'bottom-actions' }, h('button', { type: 'submit', class: 'primary', id: 'save-arrangement' }, t('保存安排'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = {};
    for (const b of boxes) if (b.input.checked) (chosen[b.item] = chosen[b.item] || []).push(b.member);
    const body = {
      revision: a.revision || 0,
      scheduled_on: form.querySelector('#arr-day').value || null,
      meeting_time: form.querySelector('#arr-time').value || '',
      meeting_point: form.querySelector('#arr-place').value.trim(),
      notes: form.querySelector('#arr-notes').value.trim(),
      split: chosen,
    };
    fill(message, h('p', { class: 'small' }, t('正在保存…')));
    try {
      await putJson(url, body);
      await refreshPack(ctx, open);
      await drawArrangement(ctx, open, box);
      box.querySelector('.arrangement-message').replaceChildren(h('p', { class: 'ok' }, t('安排已保存。')));
    } catch (error) {
      if (error instanceof HttpError && error.status === 409) {
        fill(message, h('p', { class: 'problem conflict' }, t('有人修改了安排，请重新加载后再修改。')),
          h('button', { type: 'button', class: 'secondary', id: 'reload-arrangement', onclick: () => drawArrangement(ctx, open, box) }, t('重新加载')));
      } else if (error instanceof HttpError) {
        const fields = (error.body && error.body.error && error.body.error.fields) || {};
        fill(message, h('p', { class: 'problem' }, error.message),
          Object.entries(fields).map(([k, v]) => h('p', { class: 'problem small' }, `${k}: ${[].concat(v).join(' ')}`)));
      } else {
        if (error instanceof AuthRequired) ctx.authRequired();
        fill(message, h('p', { class: 'problem' }, t('没有网络，安排未保存。')));
      }
    }
  });
  box.replaceChildren(form);
}

/** Download the pack again (its arrangement changed) and reopen the visit with it. */
async function refreshPack(ctx, open) {
  await downloadPack(open.number, ctx);
  const stored = await getPack(open.number);
  if (stored) open.pack = stored.pack;
}

async function drawParts(ctx, open, box) {
  const number = open.number;
  let parts = null;
  let note = null;
  try {
    parts = (await getJson(`/api/v1/field/visits/${encodeURIComponent(number)}/parts`)).json;
    await setMeta(`parts:${number}`, { parts, at: new Date().toISOString() });
  } catch (error) {
    if (error instanceof AuthRequired) ctx.authRequired();
    const cached = await getMeta(`parts:${number}`);
    parts = cached ? cached.parts : null;
    note = cached ? t('离线：显示 {0} 的进度', showTime(cached.at, true)) : t('离线，尚未取得组员进度。');
  }
  const record = open.record;
  const rows = parts ? parts.members.map((m) => h('li', { class: `member-part ${m.state}`, 'data-member': String(m.inspector_id), 'data-state': m.state },
    h('div', { class: 'row' }, h('strong', {}, m.name),
      h('span', { class: `tag ${m.state === 'finished' ? 'ok' : m.state === 'working' ? 'warn' : ''}` }, t(STATE[m.state] || m.state)),
      m.waiting_photos ? h('span', { class: 'tag warn' }, t('照片未到齐')) : null),
    h('p', { class: 'small' }, t('事项：{0}', m.items.join(t('、')) || t('无')), ' · ',
      t('已答 {0}/{1}', m.answered, m.questions),
      m.received_at ? ` · ${t('收到于 {0}', showTime(m.received_at, true))}` : ''))) : [];
  const assembled = record.assembled_from;
  fill(box, h('section', { class: 'card parts' },
    h('h2', {}, t('组员进度')),
    note ? h('p', { class: 'notice' }, note) : null,
    parts && !parts.members.length ? h('p', { class: 'small' }, t('检查组没有其他组员。')) : null,
    h('ul', { class: 'plain member-parts' }, rows),
    parts ? h('p', { class: parts.ready ? 'ok' : 'small', role: 'status' },
      parts.ready ? t('所有组员的部分都已完整到达，可以汇总。') : t('还有组员的部分未完成或未完整到达；只汇总完整的部分。')) : null,
    assembled ? h('p', { class: 'ok', id: 'assembled' }, t('已汇总：{0}', assembled.map((x) => t('{0}（第 {1} 版）', x.name, x.revision)).join(t('、')))) : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'refresh-parts', onclick: () => drawParts(ctx, open, box) }, t('刷新进度')),
      h('button', { type: 'button', class: 'primary', id: 'assemble', disabled: editor.locked(record) || !(parts && parts.ready && parts.members.length),
        onclick: async () => {
          await assemble(open, parts);
          await drawParts(ctx, open, box);
        } }, t('汇总为一份记录'))),
    assembled ? h('div', { class: 'actions' }, h('a', { class: 'button primary', href: `#/visit/${number}/sign` }, t('去签名封存'))) : null));
}

/** The visit's one record: the leader's own answers, and for each member's items the answers
 *  of their newest complete, finished part (never a part still waiting for photos: the server
 *  gives only whole revisions). Items the leader shares with a member keep the leader's answer
 *  where the leader gave one. Members' photos are listed by reference (they are on the server). */
export async function assemble(open, parts) {
  const mineShared = new Set((arrangementOf(open.pack) || {}).my_items || []);
  const members = parts.members.filter((m) => m.state === 'finished');
  await editor.change((r) => {
    const photos = [];
    for (const m of members) {
      for (const answer of m.answers) {
        const own = r.answers[answer.question];
        if (mineShared.has(answer.item) && own && own.answer) continue;
        r.answers[answer.question] = {
          item: answer.item, question: answer.question, answer: answer.answer,
          note: answer.note || '', order: answer.order || null, by: m.name,
        };
      }
      photos.push(...m.photos);
    }
    r.assembled_photos = photos;
    r.assembled_from = members.map((m) => ({ inspector_id: m.inspector_id, name: m.name, revision: m.revision }));
  });
}
