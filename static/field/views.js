/* The screens: my visits, one visit, the outbox. The checklist is in checklist.js.
 * Each view is an async function returning an element; app.js puts it in <main>. */
import { AuthRequired, Offline, getJson, sendJson } from './api.js';
import { NOTICE_WAYS, VISIT_STATUSES } from './constants.js';
import { allPacks, getMeta, setMeta } from './db.js';
import * as editor from './editor.js';
import { photoBlock } from './checklist.js';
import { checks } from './record.js';
import { allEntries } from './outbox.js';
import { downloadPack } from './packs.js';
import { status as syncStatus } from './sync.js';
import { bytes, fill, h, localIso, showTime, today } from './ui.js';
import { isEnglish, setLanguage, t } from './i18n.js';
import { jointCard, myPartItems, orderedItems } from './leader.js';
import { correctionNotice, lockCard, signCard } from './sign.js';

const STATUS = Object.fromEntries(VISIT_STATUSES);
const EMPLOYER_LABELS = {
  name: '单位名称', credit_code: '统一社会信用代码', address: '住所（经营场所）',
  legal_representative: '法定代表人', contact_person: '联系人', contact_phone: '联系电话',
  region: '所在区域', industry: '行业代码', employees: '职工人数', risk_grade: '信用风险等级',
  notes: '备注',
};
const EMPLOYER_FLAGS = {
  flag_abnormal: '列入经营异常名录', flag_complaints: '有投诉举报', flag_serious_violation: '有严重违法记录',
};

const card = (title, ...children) => h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);

/* ---------- my visits ---------- */

export async function visitsView(ctx) {
  const root = h('div', { class: 'stack' });
  let list = null;
  let note = null;
  try {
    list = (await getJson('/api/v1/field/visits')).json;
    await setMeta('visits', { list, at: localIso() });
  } catch (error) {
    if (error instanceof AuthRequired) ctx.authRequired();
    const cached = await getMeta('visits');
    list = cached ? cached.list : [];
    note = cached ? t('离线显示：{0} 的列表', showTime(cached.at)) : t('离线，且本机还没有检查列表');
  }
  const packs = new Map((await allPacks()).map((p) => [p.number, p]));
  root.append(h('h2', { class: 'page-title' }, t('我的检查')));
  if (note) root.append(h('p', { class: 'notice' }, note));
  if (ctx.iosHint()) {
    root.append(h('p', { class: 'notice warn' }, t('在 iPhone 上请点“分享”→“添加到主屏幕”，从主屏幕打开本应用；否则 7 天未使用时 Safari 会清除本机保存的检查数据。')));
  }
  if (!list.length) root.append(h('p', { class: 'empty' }, t('目前没有分配给您的检查。')));
  const seen = new Set();
  for (const visit of list) {
    seen.add(visit.number);
    root.append(visitCard(visit, packs.get(visit.number), ctx));
  }
  if (!note) refreshReturned(list, packs, ctx, root);
  for (const [number, stored] of packs) {
    if (!seen.has(number)) root.append(visitCard(stored.pack.visit, stored, ctx));
  }
  return root;
}

/** A visit the office returned: true from the list (`returned`, or its status) or the pack. */
export function isReturned(visit) {
  return !!(visit && (visit.returned || visit.status === 'returned'));
}

/** The office's open return of the visit (the newest unresolved one), from the pack. */
export function openReturn(pack) {
  const returns = (pack && pack.review && pack.review.returns) || [];
  return returns.find((r) => !r.resolved) || null;
}

const packStale = (visit, stored) => !!(stored && visit.pack_etag && stored.etag &&
  stored.etag !== `"${visit.pack_etag}"` && stored.etag !== visit.pack_etag);

/** The office's comments are needed offline: a downloaded visit that was returned and whose
 *  pack changed is downloaded again at once (once per visit and page). */
const refreshed = new Set();
function refreshReturned(list, packs, ctx, root) {
  const due = list.filter((v) => isReturned(v) && packStale(v, packs.get(v.number)) && !refreshed.has(v.number));
  if (!due.length) return;
  due.forEach((v) => refreshed.add(v.number));
  Promise.all(due.map((v) => downloadPack(v.number, ctx).catch(() => null)))
    .then(() => { if (root.isConnected) ctx.rerender(); });
}

function visitCard(visit, stored, ctx) {
  const employer = visit.employer || {};
  const status = h('p', { class: 'small', role: 'status' });
  const download = h('button', {
    type: 'button', class: stored ? 'secondary' : 'primary',
    onclick: async () => {
      download.disabled = true;
      status.textContent = t('正在下载…');
      try {
        await downloadPack(visit.number, ctx);
        ctx.rerender();
      } catch (error) {
        if (error instanceof AuthRequired) ctx.authRequired();
        status.textContent = error instanceof Offline ? t('没有网络，无法下载') : t('下载失败：{0}', error.message);
        download.disabled = false;
      }
    },
  }, stored ? t('更新离线包') : t('下载离线包'));
  const stale = packStale(visit, stored);
  const returned = isReturned(visit);
  const back = returned && stored && openReturn(stored.pack);
  return h('article', { class: `card visit${returned ? ' returned' : ''}`, 'data-visit': visit.number },
    h('div', { class: 'row' },
      h('strong', { class: 'number' }, visit.number),
      returned ? h('span', { class: 'tag bad returned-tag' }, t('退回修改'))
        : h('span', { class: 'tag' }, STATUS[visit.status] ? t(STATUS[visit.status]) : visit.status || ''),
      stored ? h('span', { class: 'tag ok' }, t('已下载')) : null,
      visit.announced === false ? h('span', { class: 'tag warn' }, t('不预先通知')) : null,
      visit.follows ? h('span', { class: 'tag warn followup-tag' }, t('复查')) : null),
    visit.follows ? h('p', { class: 'small followup-note' }, t('整改复查，原检查：{0}', visit.follows)) : null,
    returned ? h('p', { class: 'returned-note' }, back ? t('办公室退回修改：{0}', back.comments) : t('办公室已退回检查记录，请更新离线包查看审核意见。')) : null,
    h('h3', {}, employer.name || ''),
    h('p', { class: 'small' }, employer.address || ''),
    visit.window ? h('p', { class: 'small' }, t('检查期限：{0} 至 {1}', visit.window[0], visit.window[1])) : null,
    h('p', { class: 'small' }, t('检查事项：{0}', (visit.items || []).map((i) => i.name).join(t('、')))),
    h('p', { class: 'small' }, t('检查组：{0}', (visit.team || []).map((m) => m.name + (m.is_leader ? t('（组长）') : '')).join(t('、')))),
    stale ? h('p', { class: 'small warn' }, t('服务器上的检查资料有更新，请更新离线包')) : null,
    status,
    h('div', { class: 'actions' },
      download,
      stored ? h('a', { class: 'button primary', href: `#/visit/${visit.number}` }, t('开始检查')) : null));
}

/* ---------- one visit ---------- */

export async function visitView(ctx, number) {
  const server = await editor.serverRecord(number);  // sealed on another device: adopted here
  if (server.phase === 'auth') ctx.authRequired();
  const open = await editor.load(number);
  if (!open.pack) {
    return card(t('尚未下载'), h('p', {}, t('检查 {0} 还没有下载到本机。', number)),
      h('a', { class: 'button primary', href: '#/visits' }, t('返回我的检查')));
  }
  const { pack, record } = open;
  const visit = pack.visit;
  ctx.setTitle(t('{0} 现场检查', visit.number));
  const root = h('div', { class: 'stack' });
  const locked = editor.locked(record);
  const serverCard = editor.serverRecordCard(number, server, () => ctx.rerender());
  const teamCard = () => card(t('检查组'), h('ul', { class: 'plain' }, (pack.team || visit.team || []).map((m) =>
    h('li', {}, m.name, m.is_leader ? h('span', { class: 'tag' }, t('组长')) : null, m.is_me ? h('span', { class: 'tag ok' }, t('我')) : null))));
  if (server.blocked) {  // no record on the phone, and an empty one must not be started
    root.append(...[reviewCard(pack, record)].filter(Boolean), serverCard, employerCard(pack), previousCard(pack), teamCard());
    return root;
  }
  root.append(
    ...[reviewCard(pack, record)].filter(Boolean),  // the office's comments first
    ...[followUpCard(visit)].filter(Boolean),
    ...[serverCard].filter(Boolean),
    ...(record.replaced && record.adopted && record.adopted.saved_at === record.saved_at
      ? [h('p', { class: 'notice', id: 'record-replaced' }, t('本机原有的记录（第 {0} 版，已全部上传）已换成服务器上较新的记录（第 {1} 版）。', record.replaced.revision, record.revision))]
      : []),
    ...(locked ? [lockCard(open, () => ctx.rerender())] : []),
    ...[correctionNotice(record)].filter(Boolean),
    employerCard(pack),
    previousCard(pack),
    teamCard(),
    noticeCard(pack, record, locked),
    arrivalCard(record, ctx, locked),
    ...[jointCard(pack, record)].filter(Boolean),  // the leader's link or my part
    itemsCard(pack, record),
    card(t('现场照片（整体）'), photoBlock(ctx, null)),
    ...(myPartItems(pack) ? [] : [resultCard(pack, record, locked), signCard(pack, record)]),
    saveStatus(),
  );
  return root;
}

/** A rectification follow-up (复查): which visit it checks again, and that only what was
 *  non-compliant there is in its checklist (the pack holds only those items). */
function followUpCard(visit) {
  if (!visit.follows) return null;
  return h('section', { class: 'card followup-card', id: 'follow-up' },
    h('h2', {}, h('span', { class: 'tag warn followup-tag' }, t('复查')), ' ', t('整改复查')),
    h('p', {}, t('原检查：'), h('a', { href: `#/visit/${visit.follows}` }, visit.follows)),
    h('p', { class: 'small' }, t('只检查原检查中不符合的事项和问题。')));
}

/** The office returned the record: its comments, prominently; per-question comments are
 *  also shown beside their questions (checklist.js). Earlier, resolved returns folded. */
function reviewCard(pack, record) {
  const returns = (pack.review && pack.review.returns) || [];
  const current = openReturn(pack);
  const earlier = returns.filter((r) => r !== current);
  if (!current && !earlier.length) return null;
  const questions = new Map((pack.items || []).flatMap((i) => (i.questions || []).map((q) => [q.code, q])));
  const names = new Map((pack.items || []).map((i) => [i.code, i.name]));
  const comment = (c) => h('li', { 'data-question': c.question || '', 'data-item': c.item || '' },
    h('a', { href: `#/visit/${pack.visit.number}/item/${encodeURIComponent(c.item || '')}` },
      h('strong', {}, c.question || c.item || ''), ' ',
      c.question ? (questions.get(c.question) || {}).text || '' : names.get(c.item) || ''),
    h('p', { class: 'office-comment-text' }, c.comment || ''));
  const one = (r) => [
    h('p', { class: 'small' }, t('{0} 于 {1} 退回', r.by || '', showTime(r.at))),
    h('p', { class: 'pre review-comments' }, r.comments || ''),
    (r.item_comments || []).length ? [h('h3', {}, t('逐项意见')), h('ul', { class: 'plain item-comments' }, r.item_comments.map(comment))] : null,
  ];
  const next = !current ? null
    : record.seal && record.corrects && record.sealed_at && new Date(record.sealed_at) > new Date(current.at)
      ? t('更正已签名封存，上传后将再次提交办公室审核。')
      : record.seal ? t('请点“开始更正”，按以上意见修改，重新签名并封存；上传后记录将再次提交审核。')
        : t('请按以上意见修改，重新签名并封存；上传后记录将再次提交审核。');
  return h('section', { class: `card review-card${current ? ' open' : ''}`, id: 'review-returned' },
    current ? [h('h2', {}, t('办公室退回修改')), one(current), h('p', { class: 'notice warn' }, next)] : null,
    earlier.length ? h('details', { class: 'more' }, h('summary', {}, t('以往的退回意见（{0}）', earlier.length)),
      earlier.map((r) => h('div', { class: 'earlier-return' }, one(r), r.resolved ? h('p', { class: 'small ok' }, t('已更正')) : null))) : null);
}

function employerCard(pack) {
  const employer = pack.employer || pack.visit.employer || {};
  const rows = Object.entries(EMPLOYER_LABELS)
    .filter(([key]) => employer[key] !== null && employer[key] !== undefined && employer[key] !== '')
    .map(([key, label]) => [t(label), String(employer[key])]);
  const flags = Object.entries(EMPLOYER_FLAGS).filter(([key]) => employer[key]).map(([, label]) => t(label));
  // name and address at a glance; the rest folded, so the checklist is a short scroll away
  return card(t('被检查单位'),
    h('p', { class: 'employer-name' }, employer.name || ''),
    employer.address ? h('p', { class: 'small' }, employer.address) : null,
    flags.length ? h('p', { class: 'notice warn' }, t('注意：{0}', flags.join(t('、')))) : null,
    h('details', { class: 'more' }, h('summary', {}, t('单位详细信息')),
      h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))));
}

function previousCard(pack) {
  const previous = pack.previous || [];
  return card(t('预查比对（以往检查）'), previous.length
    ? h('ul', { class: 'plain' }, previous.map((p) => h('li', {},
      h('strong', {}, `${p.date || ''} ${p.number || ''}`), ' ', p.result_label || p.result_category || '',
      p.summary ? h('p', { class: 'small' }, p.summary) : null)))
    : h('p', { class: 'small' }, t('该单位没有以往检查记录。')));
}

function noticeCard(pack, record, locked) {
  if (pack.visit.announced === false) {
    return card(t('事先通知'), h('p', {}, t('本次检查不预先通知被检查单位。')));
  }
  const notice = record.notice || { date: '', way: '' };
  const set = (changes) => editor.change((r) => {
    r.notice = { ...(r.notice || { date: '', way: '' }), ...changes };
  });
  return card(t('事先通知'),
    h('div', { class: 'field' },
      h('label', { for: 'notice-date' }, t('通知日期')),
      h('input', { id: 'notice-date', type: 'date', value: notice.date || '', max: today(), disabled: locked,
        oninput: (e) => set({ date: e.target.value }) })),
    h('fieldset', { class: 'choices three', disabled: locked },
      h('legend', {}, t('通知方式')),
      NOTICE_WAYS.map(([code, label]) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'notice-way', value: code, checked: notice.way === code,
          onchange: () => set({ way: code }) }),
        h('span', {}, t(label))))),
    pack.notice_text ? h('details', {}, h('summary', {}, t('通知内容')), h('p', { class: 'pre' }, pack.notice_text)) : null);
}

function arrivalCard(record, ctx, locked) {
  const out = h('p', { class: 'small', role: 'status' }, arrivalText(record.arrival));
  const button = h('button', {
    type: 'button', class: 'secondary',
    onclick: async () => {
      button.disabled = true;
      out.textContent = t('正在记录…');
      const at = localIso();
      const location = await ctx.locate();
      await editor.change((r) => { r.arrival = { at, location }; });
      out.textContent = arrivalText(record.arrival);
      button.disabled = false;
      button.textContent = t('重新记录到达');
    },
  }, record.arrival ? t('重新记录到达') : t('记录到达时间和位置'));
  return card(t('到达现场'), out, locked ? null : h('div', { class: 'actions' }, button));
}

function arrivalText(arrival) {
  if (!arrival) return t('尚未记录。');
  const where = arrival.location
    ? t('位置 {0}, {1}（±{2} 米）', arrival.location.lat.toFixed(5), arrival.location.lon.toFixed(5), Math.round(arrival.location.accuracy || 0))
    : t('未取得位置');
  return t('到达时间 {0}；{1}', showTime(arrival.at, true), where);
}

function itemsCard(pack, record) {
  const back = openReturn(pack);
  const commented = new Set(((back && back.item_comments) || []).map((c) => c.item));
  return card(t('检查事项'), h('ul', { class: 'items' }, orderedItems(pack).map((item) => {
    const questions = item.questions || [];
    const answered = questions.filter((q) => record.answers[q.code] && record.answers[q.code].answer).length;
    const bad = questions.filter((q) => record.answers[q.code] && record.answers[q.code].answer === 'non_compliant').length;
    return h('li', { class: item.mine ? null : 'not-mine' }, h('a', { class: 'item-link', href: `#/visit/${pack.visit.number}/item/${encodeURIComponent(item.code)}` },
      h('span', {}, h('strong', {}, item.code), ' ', item.name, item.mine ? null : h('span', { class: 'tag' }, t('其他组员负责')),
        commented.has(item.code) ? h('span', { class: 'tag bad' }, t('有审核意见')) : null),
      h('span', { class: 'progress' }, `${answered}/${questions.length}`,
        bad ? h('span', { class: 'tag bad' }, t('不符合 {0}', bad)) : null)));
  })));
}

function resultCard(pack, record, locked) {
  const box = h('div', { class: 'checks', 'aria-live': 'polite' });
  const draw = () => {
    const { block, warn } = checks(record, editor.open.photos, pack.result_categories || [], pack.category_rules || null);
    fill(box, 
      ...block.map((p) => h('p', { class: 'problem' }, p.text)),
      ...warn.map((p) => h('p', { class: 'hint' }, p.text)),
      !block.length && !warn.length ? h('p', { class: 'small ok' }, t('检查项目与结论一致。')) : '');
  };
  draw();
  editor.onSaved(draw);
  return card(t('检查结论'),
    h('div', { class: 'field' },
      h('label', { for: 'result' }, t('检查结果类别')),
      h('select', { id: 'result', disabled: locked, onchange: (e) => editor.change((r) => { r.result_category = e.target.value || null; }) },
        h('option', { value: '' }, t('（尚未确定）')),
        (pack.result_categories || []).map((c) => h('option', { value: c.code, selected: record.result_category === c.code }, c.label)))),
    box);
}

/** "Saved on this phone at ... revision N", updated after every save. */
export function saveStatus() {
  const line = h('p', { class: 'saved', role: 'status', 'aria-live': 'polite' });
  const draw = (result) => {
    const r = editor.open.record;
    if (!r || !r.saved_at) {
      line.textContent = t('尚未填写。每次修改都会立即保存在本机。');
      return;
    }
    const waiting = result && !result.queued;
    line.textContent = (r.adopted && r.adopted.saved_at === r.saved_at
      ? t('从服务器下载 {0} · 第 {1} 版', showTime(r.adopted.at, true), r.revision)
      : t('已保存在本机 {0} · 第 {1} 版', showTime(r.saved_at, true), r.revision)) +
      (waiting || (r.problems && r.problems.length) ? t(' · 有问题待处理，处理后才会上传') : '');
  };
  draw(editor.open.last);
  editor.onSaved(draw);
  return line;
}

/* ---------- outbox ---------- */

const ENTRY_STATUS = { waiting: '等待上传', sending: '正在上传', sent: '已上传', refused: '被拒绝' };

export async function outboxView(ctx) {
  const entries = (await allEntries()).sort((a, b) => b.seq - a.seq);
  const count = (s) => entries.filter((e) => e.status === s).length;
  const root = h('div', { class: 'stack' });
  root.append(h('h2', { class: 'page-title' }, t('上传记录')));
  root.append(h('p', { class: 'summary' },
    t('等待 {0} · 正在上传 {1} · 已上传 {2} · 被拒绝 {3}', count('waiting'), count('sending'), count('sent'), count('refused'))));
  const sync = syncStatus();
  if (sync.phase === 'auth') {
    root.append(h('p', { class: 'notice warn' }, t('登录已过期。本机数据都还在，请重新登录后继续上传。')));
  } else if (sync.phase === 'offline' || sync.phase === 'error') {
    root.append(h('p', { class: 'notice' }, t('暂时无法上传（{0}），稍后自动重试。', sync.message)));
  }
  root.append(h('ul', { class: 'outbox' }, entries.map(entryRow)));
  if (!entries.length) root.append(h('p', { class: 'empty' }, t('还没有需要上传的内容。')));
  root.append(await storageCard(ctx));
  root.append(languageCard(ctx));
  return root;
}

/** 中文 / English: the account's language (PATCH /api/v1/me), so the office pages follow too.
 *  Online only; the choice is remembered with the user for offline use. */
function languageCard(ctx) {
  const status = h('p', { class: 'small', role: 'status' });
  const current = isEnglish() ? 'en' : 'zh_CN';
  const choose = async (code) => {
    if (code === current) return;
    if (!navigator.onLine) {
      status.textContent = t('切换语言需要联网。');
      return;
    }
    try {
      const me = await sendJson('PATCH', '/api/v1/me', { locale: code });
      await setMeta('me', me);
      ctx.me = me;
      setLanguage(me.language || code);
      ctx.rerender();
    } catch (error) {
      if (error instanceof AuthRequired) ctx.authRequired();
      status.textContent = error instanceof Offline ? t('切换语言需要联网。') : t('切换语言失败：{0}', error.message);
    }
  };
  return card(t('语言'), h('div', { class: 'actions' }, [['zh_CN', '中文', 'zh-CN'], ['en', 'English', 'en']].map(
    ([code, label, lang]) => h('button', {
      type: 'button', lang, class: code === current ? 'primary' : 'secondary',
      'aria-pressed': code === current ? 'true' : 'false', 'data-lang': code, onclick: () => choose(code),
    }, label))), status);
}

function entryRow(entry) {
  const what = entry.kind === 'record'
    ? t('检查记录 {0} · 第 {1} 版', entry.visit, entry.revision) + (entry.sealed ? t('（已封存）') : '')
    : entry.kind === 'signature' ? t('签名 {0} · {1}', entry.visit, (entry.signer && entry.signer.name) || '')
    : t(entry.original ? t('原始照片 {0} · {1}') : t('照片 {0} · {1}'), entry.visit, bytes(entry.bytes));
  let detail = '';
  if (entry.status === 'sent') detail = t('服务器回执 {0}', showTime(entry.receipt && entry.receipt.received_at, true));
  else if (entry.status === 'refused') detail = t('原因：{0}', entry.error || '');
  else if (entry.attempts) detail = t('已尝试 {0} 次', entry.attempts) + (entry.error ? t('（{0}）', entry.error) : '');
  return h('li', { class: `entry ${entry.status}`, 'data-key': entry.key, 'data-status': entry.status },
    h('div', { class: 'row' }, h('span', {}, what), h('span', { class: `tag ${entry.status}` }, ENTRY_STATUS[entry.status] ? t(ENTRY_STATUS[entry.status]) : entry.status)),
    detail ? h('p', { class: 'small' }, detail) : null);
}

async function storageCard(ctx) {
  const box = card(t('本机存储'));
  if (!navigator.storage || !navigator.storage.estimate) {
    box.append(h('p', { class: 'small' }, t('此浏览器无法显示存储用量。')));
    return box;
  }
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  box.append(h('p', {}, t('已用 {0}，可用约 {1}', bytes(usage), bytes(Math.max(0, quota - usage)))));
  if (ctx.storageLow(usage, quota)) {
    box.append(h('p', { class: 'notice warn' }, t('本机存储空间不足：请尽快联网上传，并清理手机空间。')));
  }
  box.append(h('p', { class: 'small' }, persisted ? t('已获准持久保存：浏览器不会自动清除本应用的数据。') : t('尚未获准持久保存，存储紧张时浏览器可能清除数据。')));
  if (!persisted && navigator.storage.persist) {
    box.append(h('button', { type: 'button', class: 'secondary', onclick: async () => { await ctx.requestPersist(); ctx.rerender(); } }, t('申请持久保存')));
  }
  if (ctx.iosHint()) box.append(h('p', { class: 'notice warn' }, t('请将本应用添加到主屏幕，否则 Safari 会在 7 天未使用后清除本机数据。')));
  return box;
}

