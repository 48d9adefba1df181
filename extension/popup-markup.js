// The popup's delivery hints and markup: each row's hints (one line with
// the fix), its ready-to-copy markup with a Copy button, and the "with
// responsive variants" choice next to "Download all". popup.js calls these.

import { t } from './lib/i18n.js';
import { rowHints } from './lib/hints.js';
import { markupFor, hasMarkup } from './lib/markup.js';
import { namedStems } from './lib/naming.js';
import { chosenFile } from './lib/compare.js';
import { DEFAULTS } from './lib/settings-core.js';
import { el as make } from './lib/dom.js';

const open = new Set(); // indexes whose markup is shown
let openFor = null; // the scan those indexes belong to
let stems = { for: null, list: [] };

/** The file stems of a scan's rows, through the person's pattern (cached per scan and pattern). */
export function stemsOf(state) {
  const key = stemsKey(state);
  if (stems.for !== key || stems.list.length !== state.images.length) stems = { for: key, list: namedStems(state.images, { naming: state.naming, site: state.site, results: state.results.map((r) => r && { best: chosenFile(r) }) }) };
  return stems.list;
}

// A pattern with {width}, {height} or {format} names a row from its file, which a scan may still change.
function stemsKey(state) {
  const p = state.naming?.pattern || '';
  const files = /\{(width|height|format)\}/.test(p) ? state.results.map((r) => { const f = chosenFile(r); return f ? `${f.width}x${f.height}.${f.format}` : ''; }).join() : '';
  return `${state.scanId}|${p}|${files}`;
}

/** The candidate key chosen for row i in the compare page, if any. */
export function chosenOf(state, i) {
  return (state.chosen && state.chosen[i]) || (state.results[i] && state.results[i].chosen) || undefined;
}

/** Row i's markup ({html, files, widths, picture}) or null. */
export function rowMarkup(state, i) {
  const im = state.images[i];
  const r = state.results[i];
  if (!hasMarkup(im, r)) return null;
  return markupFor({ im, r, stem: stemsOf(state)[i], variants: state.variants && state.variants[i], chosen: chosenOf(state, i) });
}

/** Row i's hints: [{code, fix}]. */
export function hintsOf(state, i) {
  return rowHints(state.images[i], state.results[i], { minSavingsBytes: state.settings?.minSavingsBytes ?? DEFAULTS.minSavingsBytes });
}

// A line under the markup: why there is no srcset yet, when it could have one.
function variantsNote(state, i) {
  const im = state.images[i];
  const r = state.results[i];
  const v = state.variants && state.variants[i];
  if (v && v.variants && v.variants.length) return [t('markup_with_variants', [String(v.variants.length)]), v.note].filter(Boolean).join(' ');
  if (v && v.reason) return v.reason;
  const smaller = r && r.original && im.displayWidth > 0 && r.original.width > Math.round(im.displayWidth);
  if (!smaller) return '';
  return state.settings?.variants ? t('markup_variants_pending') : t('markup_variants_off');
}

async function copyText(text, pre) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Without clipboard access: select the text and copy the selection.
    const range = document.createRange();
    range.selectNodeContents(pre);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { return document.execCommand('copy'); } catch { return false; }
  }
}

/**
 * What row i adds to its row: hint lines (into the row's text), the
 * Markup toggle (into its actions) and the markup panel (after them).
 * @returns {{lines: Element[], actions: Element[], after: Element[]}}
 */
export function rowExtras(state, i, label) {
  if (openFor !== state.scanId) { open.clear(); openFor = state.scanId; }
  const out = { lines: [], actions: [], after: [] };
  const hints = hintsOf(state, i);
  if (hints.length) {
    out.lines.push(make('ul', { class: 'hints', 'aria-label': t('hint_list_label') },
      ...hints.map((h) => make('li', { class: 'hint', 'data-testid': 'hint', 'data-code': h.code, text: h.fix }))));
  }
  const m = rowMarkup(state, i);
  if (!m) return out;
  const id = `markup-${i}`;
  const shown = open.has(i);
  const toggle = make('button', { type: 'button', class: 'small-btn', 'data-testid': 'markup-toggle', 'aria-expanded': String(shown), 'aria-controls': id, 'aria-label': t('markup_toggle_label', [label]), text: t('markup_toggle') });
  const pre = make('pre', { class: 'markup-code', 'data-testid': 'markup-code', tabindex: '0', 'aria-label': t('markup_code_label', [label]) });
  pre.textContent = m.html;
  const status = make('span', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  const copy = make('button', { type: 'button', class: 'small-btn', 'data-testid': 'copy-markup', 'aria-label': t('markup_copy_label', [label]), text: t('markup_copy') });
  copy.addEventListener('click', async () => {
    status.textContent = (await copyText(m.html, pre)) ? t('markup_copied') : t('markup_copy_failed');
  });
  const note = variantsNote(state, i);
  const panel = make('div', { class: 'markup-panel', id, 'data-testid': 'markup', 'data-files': m.files.join('\n') },
    pre, make('div', { class: 'markup-bar' }, copy, status, note ? make('span', { class: 'muted small', 'data-testid': 'markup-note', text: note }) : null));
  panel.hidden = !shown;
  // Clicks inside the panel select text; they do not open the comparison.
  panel.addEventListener('click', (e) => e.stopPropagation());
  toggle.addEventListener('click', () => {
    const now = panel.hidden;
    panel.hidden = !now;
    toggle.setAttribute('aria-expanded', String(now));
    if (now) open.add(i); else open.delete(i);
  });
  out.actions.push(toggle);
  out.after.push(panel);
  return out;
}

/** Shows the "with responsive variants" choice when some row has variants. */
export function renderZipOption(state) {
  const box = document.getElementById('zip-variants-box');
  if (!box) return;
  const any = !!state && (state.variants || []).some((v) => v && v.variants && v.variants.length);
  box.hidden = !any;
  const text = document.getElementById('zip-variants-text');
  if (text && !text.textContent) text.textContent = t('markup_zip_variants');
}

/** Whether "Download all" should add the variants. */
export function zipWithVariants() {
  const cb = document.getElementById('zip-variants');
  return !!(cb && cb.checked && !document.getElementById('zip-variants-box')?.hidden);
}

/** The popup's variants message: keeps row index's variants and says which row changed. */
export function onVariantsMessage(state, msg) {
  if (!Array.isArray(state.variants)) state.variants = [];
  state.variants[msg.index] = msg.variants;
  return msg.index;
}
