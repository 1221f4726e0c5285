/* Small DOM and time helpers shared by the views: no framework, nothing to download. */

/** h('button', {class: 'big', onclick: fn}, 'text', child...) -> Element. Attributes that are
 *  false/null are left out; `true` sets an empty attribute; arrays of children are flattened. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value' || name === 'checked') {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : value);
    }
  }
  append(el, children);
  return el;
}

/** Replace the children of `el`, skipping null/false as h() does (replaceChildren would
 *  write them out as the text "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** fill(), for a screen redrawn while the inspector may be typing (a save of the field left a
 *  moment ago resolves and redraws): the text field that has the focus keeps it, with what was
 *  typed into it since, which is then committed (a change event, as if the field was left). */
export function refill(el, ...children) {
  const active = document.activeElement;
  const typing = active && active.id && el.contains(active) &&
    (active.tagName === 'TEXTAREA' || (active.tagName === 'INPUT' && /^(text|search|tel|date|number)$/.test(active.type)));
  const kept = typing ? { id: active.id, value: active.value, start: active.selectionStart, end: active.selectionEnd } : null;
  fill(el, ...children);
  const again = kept && document.getElementById(kept.id);
  if (again && el.contains(again)) {
    const typed = again.value !== kept.value;
    if (typed) again.value = kept.value;
    again.focus();
    try {
      again.setSelectionRange(kept.start, kept.end);
    } catch (error) {  // date and number fields have no text selection
      if (!(error instanceof DOMException)) throw error;
    }
    if (typed) again.dispatchEvent(new Event('change', { bubbles: true }));
  }
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** A client-made UUID (v4). crypto.randomUUID needs a secure context, as the app does. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const pad = (n) => String(n).padStart(2, '0');

/** Local time with its offset, as the server expects: 2026-04-02T10:15:03+08:00. */
export function localIso(date = new Date()) {
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** 2026-04-02 10:15 (local) from an ISO string; '' for nothing. */
export function showTime(iso, seconds = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? ':' + pad(d.getSeconds()) : ''}`;
}

export function today() {
  return localIso().slice(0, 10);
}

export function bytes(n) {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
