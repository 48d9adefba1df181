// The popup's "choose what to take" controls: sort, filter, a checkbox per
// row with a select-all, and Copy URLs. Sort, filter and selection last as
// long as the popup is open; nothing is stored. The logic is ./lib/take.js.

import { t } from './lib/i18n.js';
import { arrange, Selection, activeFilters, downloadSelection, urlsOf, NO_FILTER } from './lib/take.js';
import { downloadAllLabel } from './lib/progress.js';

const $ = (id) => document.getElementById(id);
const sel = new Selection();
let sort = 'savings';
let filters = { ...NO_FILTER };
let st = null;
let shown = [];
let onChange = () => {};
let labelFor = (i) => String(i);
let focusedPick = null; // the row whose checkbox has the focus

const ROW_LABELS = {
  savings: 'take_rows_savings', size: 'take_rows_size', name: 'take_rows_name', position: 'take_rows_position',
};

/**
 * Binds the controls. onChange is called when what is shown or selected
 * changes (the popup renders again); label(i) is row i's name.
 */
export function initTake({ onChange: changed, label }) {
  onChange = changed;
  labelFor = label;
  $('take-sort').addEventListener('change', (e) => { sort = e.target.value; onChange(); });
  const readFilters = () => {
    const kb = Number($('take-min').value);
    filters = {
      type: $('take-type').value,
      minSavedBytes: Number.isFinite(kb) && kb > 0 ? Math.round(kb * 1000) : 0,
      reason: $('take-reason').value,
      hint: $('take-hint').value,
    };
    onChange();
  };
  for (const id of ['take-type', 'take-reason', 'take-hint']) $(id).addEventListener('change', readFilters);
  $('take-min').addEventListener('input', readFilters);
  $('take-clear').addEventListener('click', () => {
    for (const id of ['take-type', 'take-reason', 'take-hint']) $(id).value = '';
    $('take-min').value = '0';
    readFilters();
  });
  $('take-all').addEventListener('change', () => {
    const on = sel.stateOf(shown) !== 'all';
    sel.setMany(shown, on);
    // With nothing hidden, all or nothing is meant for every row, rows still to come too.
    const every = st.images.map((_, i) => i);
    if (!activeFilters(filters) && sel.stateOf(every) === (on ? 'all' : 'none')) {
      if (on) sel.reset();
      else sel.clear();
    }
    onChange();
  });
  $('take-copy').addEventListener('click', copyUrls);
}

/** A new scan: every row selected again (sort and filters stay). */
export function resetTake() {
  sel.reset();
  $('take-msg').textContent = '';
}

/** The rows to show, in order, for state. */
export function takeOrder(state) {
  st = state;
  const labels = sort === 'name' ? state.images.map((_, i) => labelFor(i)) : [];
  shown = arrange(state, { sort, filters, labels });
  return shown;
}

/** The rows "Download" puts in the ZIP now. */
export function takeIndexes(state) {
  return downloadSelection(state, arrange(state, { sort: 'position', filters }), sel);
}

/**
 * The download button's words: today's "Download all" while every row is
 * selected and none hidden, otherwise how many selected files the ZIP holds.
 */
export function takeLabel(state) {
  if (sel.untouched() && !activeFilters(filters)) return downloadAllLabel(state);
  return t('take_download_selected', takeIndexes(state).length);
}

/** Puts row i's checkbox around its thumbnail (li's first child). */
export function decorateRow(li, i) {
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.className = 'pick-box';
  box.dataset.testid = 'pick';
  box.checked = sel.has(i);
  box.setAttribute('aria-label', t('take_pick_label', labelFor(i)));
  box.addEventListener('change', () => { sel.setMany([i], box.checked); onChange(); });
  // A row redrawn while its checkbox has focus (results still arriving)
  // gives the focus to the new checkbox instead of dropping it.
  box.addEventListener('focus', () => { focusedPick = i; });
  box.addEventListener('blur', () => setTimeout(() => { if (box.isConnected && document.activeElement !== box && focusedPick === i) focusedPick = null; }));
  const wrap = document.createElement('label');
  wrap.className = 'pick';
  wrap.append(box);
  if (li.firstElementChild) wrap.append(li.firstElementChild);
  li.prepend(wrap);
  if (focusedPick === i && li.isConnected && (!document.activeElement || document.activeElement === document.body)) box.focus();
}

/** Brings the bar and the rows' checkboxes in line with the selection. */
export function updateTake(state) {
  const n = state?.images.length ?? 0;
  $('take').hidden = n === 0;
  if (!n) return;
  for (const li of $('rows').children) {
    const box = li.querySelector('.pick-box');
    if (box) box.checked = sel.has(Number(li.dataset.index));
  }
  const all = $('take-all');
  const s = sel.stateOf(shown);
  all.checked = s === 'all';
  all.indeterminate = s === 'some';
  all.disabled = shown.length === 0;
  const k = activeFilters(filters);
  $('take-filter-summary').textContent = k ? t('take_filter_active', k) : t('take_filter');
  $('take-shown').textContent = k ? t('take_shown', [shown.length, n]) : '';
  $('take-copy').disabled = !urlsOf(state, shown, sel).length;
  $('rows').setAttribute('aria-label', t(ROW_LABELS[sort] || 'take_rows_savings'));
}

async function copyUrls() {
  const urls = urlsOf(st, shown, sel);
  const msg = $('take-msg');
  if (!urls.length) { msg.textContent = t('take_copy_none'); return; }
  const ok = await copyText(urls.join('\n'));
  msg.textContent = !ok ? t('take_copy_failed') : urls.length === 1 ? t('take_copied_one') : t('take_copied_many', urls.length);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch { /* not focused, or no clipboard API: the older way below */ }
  const back = document.activeElement;
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.className = 'offscreen';
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { /* refused */ }
  ta.remove();
  back?.focus();
  return ok;
}
