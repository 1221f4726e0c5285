/* The field app: start-up, hash router and banners. The screens are drawn by views.js,
 * checklist.js, sign.js, summary.js and leader.js; the service worker is reached through
 * swbridge.js, the sync state through sync.js.
 *
 * Routes: #/visits (my visits), #/visit/<number>, #/visit/<number>/item/<code>, #/outbox.
 * Updates: a new version waits; the page offers "update" only while no visit is open, and
 * only then tells the worker to take over.
 */
import { AuthRequired, getJson } from './api.js';
import { getMeta, setMeta } from './db.js';
import * as editor from './editor.js';
import { itemView } from './checklist.js';
import { allEntries } from './outbox.js';
import { authRequired, onChange, requestSync, setUser, status as syncStatus, syncNow } from './sync.js';
import { applyUpdate, startWorker, updateWaiting } from './swbridge.js';
import { bytes, h } from './ui.js';
import { setLanguage, t } from './i18n.js';
import { outboxView, visitView, visitsView } from './views.js';
import { signView } from './sign.js';
import { recordView } from './summary.js';
import { leaderView } from './leader.js';

const LOW_BYTES = 200 * 1024 * 1024;
const $ = (id) => document.getElementById(id);

const ctx = {
  me: null,
  persistAsked: false,
  lowFree: null,            // bytes left when storage runs low, else null (a banner on every screen)
  setTitle(text) {
    $('title').textContent = text;
  },
  rerender() {
    render();
  },
  authRequired() {
    authRequired();
    banners();
  },
  iosHint() {
    // iPadOS says "Macintosh": tell it by its touch screen
    const ios = /iPhone|iPad|iPod/.test(navigator.userAgent) ||
      (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
    const standalone = navigator.standalone || matchMedia('(display-mode: standalone)').matches;
    return ios && !standalone;
  },
  storageLow(usage, quota) {
    return quota > 0 && (quota - usage < LOW_BYTES || usage / quota > 0.8);
  },
  /** Warn on every screen before storage runs out (photos are the big part). */
  async checkStorage() {
    if (!navigator.storage || !navigator.storage.estimate) return;
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    const low = this.storageLow(usage, quota) ? Math.max(0, quota - usage) : null;
    if (low !== this.lowFree) {
      this.lowFree = low;
      banners();
    }
  },
  async requestPersist() {
    if (!navigator.storage || !navigator.storage.persist) return false;
    if (await navigator.storage.persisted()) return true;
    return navigator.storage.persist();
  },
  /** The position, when the inspector allows it and it comes within 15 s; else null. */
  locate() {
    if (!navigator.geolocation) return Promise.resolve(null);
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy }),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  },
};

function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || 'visits').split('/').map(decodeURIComponent);
  if (parts[0] === 'visit' && parts[1] && parts[2] === 'item' && parts[3]) {
    return { name: 'item', visit: parts[1], item: parts[3] };
  }
  if (parts[0] === 'visit' && parts[1] && ['sign', 'record', 'leader'].includes(parts[2])) {
    return { name: parts[2], visit: parts[1] };  // sign.js, summary.js, leader.js
  }
  if (parts[0] === 'visit' && parts[1]) return { name: 'visit', visit: parts[1] };
  if (parts[0] === 'outbox') return { name: 'outbox' };
  return { name: 'visits' };
}

/** True while a visit (or one of its items) is on screen: no update takes over then. */
function visitOpen() {
  return ['visit', 'item', 'sign', 'record', 'leader'].includes(route().name);
}

let drawing = 0;
let lastDrawn = null;
async function render() {
  const current = route();
  const ticket = ++drawing;
  editor.resetListeners();
  ctx.setTitle(current.name === 'outbox' ? t('上传记录') : t('现场检查'));
  $('back').hidden = current.name === 'visits' || current.name === 'outbox';
  $('back').href = current.visit && current.name !== 'visit' ? `#/visit/${current.visit}` : '#/visits';
  $('tab-visits').toggleAttribute('aria-current', current.name !== 'outbox');
  $('tab-outbox').toggleAttribute('aria-current', current.name === 'outbox');
  let view;
  try {
    if (current.name === 'item') view = await itemView(ctx, current.visit, current.item);
    else if (current.name === 'visit') view = await visitView(ctx, current.visit);
    else if (current.name === 'sign') view = await signView(ctx, current.visit);
    else if (current.name === 'record') view = await recordView(ctx, current.visit);
    else if (current.name === 'leader') view = await leaderView(ctx, current.visit);
    else if (current.name === 'outbox') view = await outboxView(ctx);
    else view = await visitsView(ctx);
  } catch (error) {
    view = h('section', { class: 'card' }, h('p', { class: 'problem' }, t('出错了：{0}', error.message)));
    console.warn(error);
  }
  if (ticket !== drawing) return;  // a newer route was drawn meanwhile
  $('view').replaceChildren(view);
  const key = location.hash;
  if (lastDrawn !== null && lastDrawn !== key) {  // a new screen: start at its top
    window.scrollTo(0, 0);
    $('view').focus({ preventScroll: true });
  }
  lastDrawn = key;
  document.body.dataset.view = current.name;
  banners();
  counts();
  ctx.checkStorage().catch(() => {});
}

async function counts() {
  const waiting = (await allEntries()).filter((e) => e.status === 'waiting' || e.status === 'sending').length;
  $('outbox-count').textContent = waiting ? String(waiting) : '';
}

function banners() {
  const list = [];
  const sync = syncStatus();
  if (sync.phase === 'auth') {
    list.push(h('div', { class: 'banner warn', role: 'alert' },
      h('span', {}, t('登录已过期，请重新登录。本机保存的内容不会丢失。')),
      h('a', { class: 'button', href: '/login?next=/field/' }, t('重新登录'))));
  }
  if (ctx.lowFree !== null) {
    list.push(h('div', { class: 'banner warn', role: 'status', id: 'storage-low' },
      h('span', {}, t('本机存储空间不足（剩余约 {0}）：请尽快联网上传，并清理手机空间。', bytes(ctx.lowFree)))));
  }
  if (updateWaiting()) {
    list.push(visitOpen()
      ? h('div', { class: 'banner' }, h('span', {}, t('有新版本，完成本次检查、回到“我的检查”后即可更新。')))
      : h('div', { class: 'banner' }, h('span', {}, t('有新版本可用。')),
        h('button', { type: 'button', class: 'button', id: 'apply-update', onclick: update }, t('更新'))));
  }
  $('banners').replaceChildren(...list);
  const net = $('net');
  net.textContent = navigator.onLine ? (sync.phase === 'sending' ? t('同步中…') : t('在线')) : t('离线');
  net.className = `net ${navigator.onLine ? 'on' : 'off'}`;
}

/** Only from the update button, which is shown only while no visit is open. */
function update() {
  if (!visitOpen()) applyUpdate();
}

/* ---------- start ---------- */

async function whoAmI() {
  try {
    const { json } = await getJson('/api/v1/me');
    await setMeta('me', json);
    return json;
  } catch (error) {
    if (error instanceof AuthRequired) ctx.authRequired();
    return getMeta('me');
  }
}

async function start() {
  ctx.me = await whoAmI();
  setLanguage(ctx.me && ctx.me.language);  // the account's language, remembered for offline
  setUser(ctx.me ? ctx.me.id : null);
  window.addEventListener('hashchange', render);
  window.addEventListener('online', () => { banners(); requestSync('online'); });
  window.addEventListener('offline', banners);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') requestSync('visible');
  });
  $('sync-now').addEventListener('click', () => {
    syncNow().then(render);
  });
  onChange((sync) => {
    banners();
    counts();
    if (route().name === 'outbox' && sync.phase !== 'sending') render();
  });
  await render();
  startWorker({ onUpdate: banners, onSync: () => requestSync('background-sync') })
    .catch((error) => console.warn('service worker:', error));
  requestSync('open');
}

start();
