/* Refusal or absence (DOMAIN.md "On site" 5; server: inspection/fieldwork/refusals.py).
 *
 * When the representative refuses to sign, the employer refuses the inspection, nobody is
 * there, or the premises cannot be reached, the inspectors record the reason, explain what
 * happened, fix the scene with photos, may name witnesses who sign, and sign the explanation
 * themselves (sign.js lists the inspectors). The result category must be one the reason allows
 * (the pack's `refusal_rules`, the server's REFUSAL_RULES). The rules the server applies to
 * every save are mirrored as checks: a save that breaks one stays on the phone, unsent.
 */
import * as editor from './editor.js';
import { extraChecks } from './record.js';
import { thumbUrl } from './photos.js';
import { REASONS, categoryLabel } from './summary.js';
import { h } from './ui.js';
import { t } from './i18n.js';

export function allowedCategories(pack, reason) {
  const rules = (pack && pack.refusal_rules && pack.refusal_rules.reasons) || {};
  return (rules[reason] && rules[reason].categories) || null;
}

extraChecks.add((record, photos, block) => {
  const refusal = record.refusal;
  if (!refusal) return;
  if (!refusal.reason) block.push({ question: null, text: t('请选择拒签或无法签名的原因') });
  if (!(refusal.explanation || '').trim()) block.push({ question: null, text: t('请写明现场情况（检查人员对这段说明签名）') });
  if (!photos.some((p) => p.scene && !p.is_original)) block.push({ question: null, text: t('请至少拍摄一张现场照片固定现场情况') });
  const names = (refusal.witnesses || []).map((w) => (w.name || '').trim());
  names.forEach((name, n) => {
    if (!name) block.push({ question: null, text: t('第 {0} 位见证人须填写姓名', n + 1) });
    else if (names.indexOf(name) < n) block.push({ question: null, text: t('见证人 {0} 重复', name) });
  });
  const allowed = allowedCategories(editor.open.pack, refusal.reason);
  if (allowed && record.result_category && !allowed.includes(record.result_category)) {
    block.push({ question: null, text: t('检查结果“{0}”与所选原因不符', categoryLabel(editor.open.pack, record.result_category)) });
  }
});

/** The refusal part of the signing view. `signRow` (sign.js) draws a witness's signing row. */
export function refusalSection(ctx, open, redraw, signRow) {
  const { pack, record } = open;
  const refusal = record.refusal;
  const sealed = !!record.seal;
  const set = (fn) => editor.change((r) => fn(r.refusal)).then(redraw);
  const allowed = allowedCategories(pack, refusal.reason) || [];
  const scene = open.photos.filter((p) => p.scene && !p.is_original);
  const status = h('p', { class: 'small', role: 'status' });
  const witnesses = refusal.witnesses || [];
  return h('div', { class: 'refusal' },
    h('fieldset', { class: 'choices reasons', disabled: sealed },
      h('legend', {}, t('原因')),
      Object.entries(REASONS).map(([code, label]) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'refusal-reason', value: code, checked: refusal.reason === code,
          onchange: () => editor.change((r) => {
            r.refusal.reason = code;
            const ok = allowedCategories(pack, code) || [];
            if (ok.length === 1) r.result_category = ok[0];  // the only result this reason allows
          }).then(redraw) }),
        h('span', {}, t(label))))),
    refusal.reason ? h('div', { class: 'allowed' },
      h('p', { class: 'small' }, t('该原因可选的检查结果类别：')),
      h('div', { class: 'category-buttons' }, allowed.map((code) => h('button', {
        type: 'button', class: record.result_category === code ? 'primary' : 'secondary', disabled: sealed,
        'data-category': code, 'aria-pressed': record.result_category === code ? 'true' : 'false',
        onclick: () => editor.change((r) => { r.result_category = code; }).then(redraw),
      }, categoryLabel(pack, code))))) : null,
    h('div', { class: 'field' },
      h('label', { for: 'refusal-explanation' }, t('情况说明（必填，检查人员签名确认）')),
      h('textarea', { id: 'refusal-explanation', rows: 4, disabled: sealed, value: refusal.explanation || '',
        placeholder: t('如：9时30分到达，出示执法证件后，该单位负责人拒绝在检查记录上签字……'),
        onchange: (e) => set((x) => { x.explanation = e.target.value; }) })),
    h('div', { class: 'scene' },
      h('p', {}, t('现场照片：{0} 张', scene.length)),
      h('div', { class: 'thumbs' }, scene.map((p) => {
        const url = thumbUrl(p);
        return h('figure', { class: `thumb${p.remote ? ' remote' : ''}`, 'data-photo': p.uuid },
          url ? h('img', { src: url, alt: t('现场照片'), width: 120, height: 90, onload: () => URL.revokeObjectURL(url) })
            : p.remote ? h('span', { class: 'thumb-remote' }, t('照片在服务器上')) : null);
      })),
      sealed ? null : [
        h('label', { class: 'button secondary', for: 'scene-photo' }, t('拍摄现场照片')),
        h('input', { id: 'scene-photo', class: 'file', type: 'file', accept: 'image/*', capture: 'environment', multiple: true,
          onchange: async (e) => {
            const files = [...e.target.files];
            e.target.value = '';
            for (const file of files) {
              status.textContent = t('正在处理照片…');
              try {
                await editor.addPhoto(file, { question: null, documentCopy: false, inspector: ctx.me && ctx.me.display_name, extra: { scene: true } });
              } catch (error) {
                status.textContent = t('照片未保存：{0}', error.message);
                return;
              }
            }
            redraw();
          } }), status]),
    h('div', { class: 'witnesses' },
      h('h3', {}, t('见证人（可选）')),
      h('p', { class: 'small' }, t('请先填好情况说明和见证人，再请各方签名：之后修改会使签名作废。')),
      h('div', { class: 'witness-list' }, witnesses.map((w, n) => h('div', { class: 'witness', 'data-witness': String(n) },
        h('div', { class: 'field' },
          h('label', { for: `witness-${n}` }, t('见证人 {0} 姓名', n + 1)),
          h('input', { id: `witness-${n}`, type: 'text', autocomplete: 'off', value: w.name || '', disabled: sealed,
            onchange: (e) => set((x) => { x.witnesses[n] = { name: e.target.value.trim() }; }) })),
        w.name ? h('ul', { class: 'sign-rows' }, signRow(open, {
          key: `witness-${n}`, name: w.name, role: t('见证人'),
          signer: { kind: 'witness', name: w.name },
          title: t('见证人 {0} 签名', w.name), note: t('本人见证了上述情况。'),
        }, redraw)) : null,
        sealed ? null : h('button', { type: 'button', class: 'secondary small-button danger', onclick: () => set((x) => { x.witnesses.splice(n, 1); }) }, t('删除见证人'))))),
      sealed ? null : h('button', { type: 'button', class: 'secondary', id: 'add-witness',
        onclick: () => editor.change((r) => { r.refusal.witnesses = [...(r.refusal.witnesses || []), { name: '' }]; }, { queue: false }).then(redraw) }, t('添加见证人'))));
}

