// The popup: opens on the toolbar click, asks the service worker to scan the
// tab (or re-attaches to a scan in progress), and shows results as they come.

import { formatBytes, formatName, dims, unitFor, MIME } from './lib/format.js';
import { reasonWords, errorText, rowStatus } from './lib/results.js';
import { RUNNING, rowState, canDownload, counts, summaryWords, progressWords, barValue } from './lib/progress.js';
import { kindName } from './lib/images.js';
import { t, localize } from './lib/i18n.js';
import { imageLabel, downloadPath, distinctLabels } from './lib/naming.js';
import { DEFAULTS, validateSettings } from './lib/settings-core.js';
import { loadSite, saveSite, forgetSite } from './settings.js';
import { fillForm, readForm, wireForm } from './settings-form.js';
import { fetchData } from './datachan.js';
import { initTake, resetTake, takeOrder, takeIndexes, takeLabel, decorateRow, updateTake } from './popup-take.js';
import { rowExtras, renderZipOption, zipWithVariants, onVariantsMessage } from './popup-markup.js';
import { chosenFile, hasChoice, savingOf, compareUrl, howWords, comparable } from './lib/compare.js';
import { initReport, renderReport } from './popup-report.js';
import { el } from './lib/dom.js';

const $ = (id) => document.getElementById(id);

let tabId = null;
let state = null;
let dataInfo = null;
let port = null;
let reqSeq = 1;
const waiting = new Map();
const rowEls = new Map(); // index → li
let order = [];
let selected = null; // index shown in the compare panel
let compareUrls = [];
let working = new Set(); // indexes the running scan is working on
let noticeMsg = ''; // the last download's error, shown until the next one

// ---- connection to the service worker --------------------------------------

function connect() {
  port = chrome.runtime.connect({ name: 'popup' });
  port.onMessage.addListener(onMessage);
  port.onDisconnect.addListener(() => {
    port = null;
    setTimeout(() => { connect(); port.postMessage({ type: 'open', tabId }); }, 200);
  });
}

function ask(msg) {
  return new Promise((resolve) => {
    const reqId = reqSeq++;
    waiting.set(reqId, resolve);
    port.postMessage({ ...msg, reqId });
  });
}

function onMessage(msg) {
  if (msg.reqId && waiting.has(msg.reqId)) {
    const w = waiting.get(msg.reqId);
    waiting.delete(msg.reqId);
    w(msg);
    return;
  }
  if (msg.type === 'snapshot') {
    const fresh = !state || !msg.state || state.scanId !== msg.state.scanId;
    state = msg.state;
    working = new Set(state?.working || []);
    dataInfo = msg.data || null;
    if (fresh) resetRows();
    render();
  } else if (msg.type === 'results' && state && msg.scanId === state.scanId) {
    for (const [i, r] of Object.entries(msg.results)) state.results[i] = r;
    render(Object.keys(msg.results).map(Number));
  } else if (msg.type === 'variants' && state && msg.scanId === state.scanId) {
    render([onVariantsMessage(state, msg)]);
  }
}

// ---- rendering ---------------------------------------------------------------

let labels = [];

function resetRows() {
  rowEls.clear();
  order = [];
  $('rows').replaceChildren();
  closeCompare(false);
  labels = [];
  resetTake();
}

function labelFor(i) {
  if (labels.length !== state.images.length) {
    labels = distinctLabels(state.images.map(imageLabel), state.images.map((im) => im.url));
  }
  return labels[i];
}

function render(changed) {
  const st = state;
  const running = !!st && RUNNING.includes(st.status);
  const ended = !!st && !running;
  const n = st?.images.length ?? 0;
  const c = counts(st);
  $('site').textContent = st?.site || '';
  $('cancel').hidden = !running || st.status === 'canceling';
  $('rescan').hidden = running;
  $('redo-lost').hidden = !(ended && c.lost > 0);
  $('redo-lost').textContent = c.lost === 1 ? t('popup_redo_lost_one') : t('popup_redo_lost_many', c.lost);

  const err = st?.error?.message;
  $('scan-error').hidden = !err;
  $('scan-error').textContent = err || '';

  // A scan that found nothing: one clear line, no bar, no button.
  const empty = !!st && ended && n === 0;
  const prog = $('progress');
  prog.hidden = empty || (st?.status === 'error' && n === 0);
  if (!st || st.status === 'collecting' || st.status === 'preparing') {
    prog.removeAttribute('value');
  } else {
    const b = barValue(st);
    prog.max = b.max;
    prog.value = b.value;
  }
  prog.dataset.state = st?.status || 'idle';
  prog.dataset.estimated = String(c.estimated);
  prog.dataset.ready = String(c.ready);
  let ptext = progressWords(st);
  if (empty && err) ptext = '';
  $('progress-text').textContent = ptext;
  $('progress-text').hidden = !ptext;

  const words = summaryWords(st);
  $('summary').textContent = words.main;
  $('summary').dataset.savedBytes = String(words.total.savedBytes);
  $('summary').title = words.main ? t('popup_summary_title', [c.downloadable, c.ready - c.downloadable - c.failed, c.failed]) : '';
  $('summary-extra').textContent = words.extra;
  $('summary-line').hidden = empty || n === 0;

  const dl = $('download-all');
  const take = takeIndexes(st);
  if (!dl.dataset.busy) {
    dl.textContent = takeLabel(st);
    dl.disabled = take.length === 0;
  }
  dl.dataset.count = String(take.length);

  const notes = [];
  const count = (k, one, many) => (k === 1 ? t(one) : t(many, k));
  if (st?.skippedFrames) notes.push(count(st.skippedFrames, 'popup_note_frames_one', 'popup_note_frames_many'));
  if (st?.localImages && n) notes.push(count(st.localImages, 'popup_note_local_one', 'popup_note_local_many'));
  if (st?.settingsForgotten) notes.push(t('popup_note_forgotten'));
  if (st?.defaultsChanged) notes.push(t('popup_note_defaults_changed'));
  if (c.lost && st.error?.kind !== 'interrupted') notes.push(count(c.lost, 'popup_note_helper_lost_one', 'popup_note_helper_lost_many'));
  else if (c.lost) notes.push(count(c.lost, 'popup_note_browser_lost_one', 'popup_note_browser_lost_many'));
  $('notice').textContent = [noticeMsg, ...notes].filter(Boolean).join(' ');

  renderOthers(st);
  renderZipOption(st);
  renderReport(st);
  if (!st) return;
  const idx = changed ?? st.images.map((_, i) => i);
  // When the scan ends, every row changes what it says.
  const endedNow = ended !== lastEnded;
  lastEnded = ended;
  for (const i of (endedNow ? st.images.map((_, k) => k) : idx)) updateRow(i);
  for (let i = 0; i < n; i++) if (!rowEls.has(i)) updateRow(i);
  const next = takeOrder(st);
  if (next.join() !== order.join()) {
    order = next;
    const frag = document.createDocumentFragment();
    for (const i of order) frag.append(rowEls.get(i));
    const focused = document.activeElement;
    $('rows').replaceChildren(frag);
    if (focused && focused.isConnected) focused.focus();
  }
  updateTake(st);
  ensureRoving();
  if (selected != null) updateCompareCaptions();
}

let lastEnded = null;

function renderOthers(st) {
  const others = st?.others || [];
  $('others').hidden = !others.length;
  if (!others.length) return;
  $('others-summary').textContent = t('popup_others_summary', others.length);
  const ul = $('others-list');
  if (ul.dataset.for === st.scanId) return;
  ul.dataset.for = st.scanId;
  ul.replaceChildren(...others.map((u) => el('li', { class: 'meta', title: u, text: u })));
}

/** "2 kB" for 2048 bytes: the minimum saving in the words a person reads. */
function minWords(bytes) {
  return formatBytes(bytes).replace(/\.0 /, ' ');
}

function smallestCandidate(r) {
  let best = null;
  for (const c of r.candidates || []) if (c && c.bytes > 0 && (!best || c.bytes < best.bytes)) best = c;
  return best;
}

function updateRow(i) {
  const im = state.images[i];
  const r = state.results[i];
  // A row is still being worked on only when the running scan includes it
  // (a "finish this image" run leaves the other rows as they were).
  const ended = !RUNNING.includes(state.status) || (state.status === 'scanning' && !working.has(i));
  const rs = rowState(r, ended);
  let li = rowEls.get(i);
  if (!li) {
    li = el('li', { class: 'row', 'data-testid': 'result-row', 'data-index': String(i), tabindex: '-1' });
    li.addEventListener('keydown', onRowKey);
    li.addEventListener('click', (e) => { if (!e.target.closest('button, label, input')) select(i); });
    rowEls.set(i, li);
  }
  li.dataset.status = rowStatus(r);
  li.dataset.state = rs;
  li.setAttribute('aria-current', String(selected === i));

  const thumb = im.thumb
    ? el('img', { class: 'thumb', src: im.thumb, alt: '', loading: 'lazy', decoding: 'async', referrerPolicy: 'no-referrer' })
    : el('span', { class: 'thumb none', 'aria-hidden': 'true', text: '?' });
  if (thumb.tagName === 'IMG') thumb.addEventListener('error', () => thumb.classList.add('broken'), { once: true });

  const where = [im.kinds.map(kindName).join(', ')];
  if (im.hidden) where.push(t('popup_meta_hidden'));
  else {
    if (im.displayWidth) where.push(t('popup_meta_shown', `${Math.round(im.displayWidth)}×${Math.round(im.displayHeight)}`));
    if (!im.onScreen) where.push(t('popup_meta_offscreen'));
  }
  const title = el('div', { class: 'name', title: im.url.length > 300 ? im.url.slice(0, 300) + '…' : im.url, text: labelFor(i) });
  const meta = el('div', { class: 'meta muted', text: where.join(' · ') });
  const info = el('div', { class: 'info' }, title, meta);
  const saving = el('div', { class: 'saving', 'data-testid': 'row-state' });
  const actions = el('div', { class: 'row-actions' });
  const finishBtn = (text) => {
    const b = el('button', { type: 'button', class: 'small-btn', 'data-testid': 'finish', text, 'aria-label': t('popup_action_for', [text, labelFor(i)]) });
    b.addEventListener('click', () => { b.disabled = true; port.postMessage({ type: 'redo', which: [i] }); });
    return b;
  };
  const estimateWord = () => el('span', { class: 'state-word', 'data-testid': 'estimate', text: ended ? t('popup_row_estimate_ended') : t('popup_row_estimate_running') });
  // The large compare page, in a tab; and the row's re-encode in progress there.
  const compareBtn = () => {
    const b = el('button', { type: 'button', class: 'small-btn', 'data-testid': 'compare-btn', text: t('popup_compare'), 'aria-label': t('compare_open_aria', [labelFor(i)]) });
    b.addEventListener('click', () => openCompare(i));
    return b;
  };
  const reencodingWord = () => el('span', { class: 'state-word', 'data-testid': 'reencoding', text: t('compare_row_reencoding', [howWords(r.reencoding)]) });
  const isSvg = im.kinds.includes('svg') || r?.original?.format === 'svg' || /\.svgz?(\?|$)/i.test(im.url);

  if (rs === 'error') {
    if (r.original) info.append(el('div', { class: 'orig', text: `${formatName(r.original.format)} · ${formatBytes(r.original.bytes)}` }));
    info.append(el('div', { class: 'error', 'data-testid': 'error', text: errorText(r.error, { svg: isSvg }) }));
  } else if (rs === 'lost') {
    saving.append(el('span', { class: 'lost', text: r.original ? t('popup_row_lost_result') : t('popup_row_lost_pending') }));
  } else if (r && r.original) {
    const o = r.original;
    info.append(el('div', { class: 'orig' }, el('span', { class: 'label', text: `${t('popup_row_now')} ` }), `${formatName(o.format)} ${dims(o.width, o.height)} · `, el('span', { class: 'nowrap', text: formatBytes(o.bytes) })));
    if (r.status === 'optimized' && r.best) {
      const b = r.best;
      const est = rs === 'estimate';
      info.append(el('div', { class: 'best' }, el('span', { class: 'label', text: `${est ? t('popup_row_estimate') : t('popup_row_best')} ` }), `${formatName(b.format)} ${dims(b.width, b.height)} · `, el('span', { class: 'nowrap', text: formatBytes(b.bytes) })));
      const why = reasonWords(r);
      if (why.length) info.append(el('div', { class: 'why', text: why.join(' · ') }));
      const u = unitFor(o.bytes);
      // With a format chosen in the compare page, the saving is that file's.
      const sv = hasChoice(r) ? savingOf(r) : r;
      saving.append(el('strong', { text: `${est ? '≈ ' : ''}${sv.savedBytes < 0 ? '+' : '−'}${formatBytes(Math.abs(sv.savedBytes), u)}` }), el('span', { text: `${Math.round(sv.savedPercent)} %` }));
      if (est) saving.append(estimateWord());
      else if (!r.final && !ended) saving.append(el('span', { class: 'state-word', text: t('popup_row_looking') }));
      if (hasChoice(r)) {
        const f = chosenFile(r);
        info.append(el('div', { class: 'why', 'data-testid': 'chosen', 'data-format': f.format, text: t('compare_row_chosen', [`${formatName(f.format)} · ${formatBytes(f.bytes)}`]) }));
      }
      if (r.reencoding) saving.append(reencodingWord());
      if (comparable(r)) actions.append(compareBtn());
      if (est) {
        if (ended && !r.final) actions.append(finishBtn(t('popup_finish')));
      } else {
        const dlb = el('button', { type: 'button', class: 'small-btn', 'data-testid': 'download', text: t('popup_download'), disabled: !canDownload(r, state.keysGone), 'aria-label': t('popup_download_label', labelFor(i)) });
        dlb.addEventListener('click', () => downloadOne(i, dlb));
        actions.append(dlb);
      }
    } else {
      const c = smallestCandidate(r);
      const min = state.settings?.minSavingsBytes ?? DEFAULTS.minSavingsBytes;
      const small = c && c.bytes < o.bytes && o.bytes - c.bytes < min;
      saving.append(el('span', { class: 'muted', text: small ? t('popup_saves_less', minWords(min)) : t('popup_already_optimal') }));
      if (r.reencoding) saving.append(reencodingWord());
      // The compare page can re-encode it at another target, and shows what the smallest file would look like.
      if (comparable(r)) actions.append(compareBtn());
      if (rs === 'estimate') {
        saving.append(estimateWord());
        if (ended && !r.final) actions.append(finishBtn(t('popup_finish')));
      }
    }
    for (const sk of r.skipped || []) info.append(el('div', { class: 'why muted small', 'data-testid': 'skipped', text: sk.reason }));
  } else {
    saving.append(el('span', { class: 'muted', text: ended ? t('popup_not_checked') : t('popup_waiting') }));
    if (ended && state.status === 'canceled') actions.append(finishBtn(t('popup_check')));
  }
  if (r && r.note && rs !== 'lost') info.append(el('div', { class: 'note muted', 'data-testid': 'note', text: r.note }));
  const extra = rowExtras(state, i, labelFor(i));
  info.append(...extra.lines);
  actions.append(...extra.actions);
  // A row redrawn while one of its controls has the focus (results still
  // arriving) hands the focus to the same control in the new row, or to the
  // row when that control is gone or disabled, instead of dropping it to the
  // page: a keyboard user would otherwise start again from the top.
  const focused = document.activeElement;
  const had = focused && focused !== li && li.contains(focused) ? (focused.dataset.testid || '') : null;
  li.replaceChildren(thumb, info, saving, actions, ...extra.after);
  decorateRow(li, i);
  if (had !== null && !li.contains(document.activeElement)) {
    const again = had && li.querySelector(`[data-testid="${had}"]:not([disabled])`);
    (again || li).focus();
  }
}

// ---- keyboard ----------------------------------------------------------------

function ensureRoving() {
  const rows = [...$('rows').children];
  if (!rows.length) return;
  if (!rows.some((r) => r.tabIndex === 0)) rows[0].tabIndex = 0;
}

function onRowKey(e) {
  const li = e.currentTarget;
  if (e.target !== li) return;
  const rows = [...$('rows').children];
  const at = rows.indexOf(li);
  let to = null;
  if (e.key === 'ArrowDown') to = rows[Math.min(rows.length - 1, at + 1)];
  else if (e.key === 'ArrowUp') to = rows[Math.max(0, at - 1)];
  else if (e.key === 'Home') to = rows[0];
  else if (e.key === 'End') to = rows[rows.length - 1];
  else if (e.key === 'Enter' || e.key === ' ') { select(Number(li.dataset.index)); e.preventDefault(); return; }
  else if (e.key === 'd') { li.querySelector('[data-testid=download]')?.click(); return; }
  if (to) {
    e.preventDefault();
    for (const r of rows) r.tabIndex = -1;
    to.tabIndex = 0;
    to.focus();
  }
}

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && selected != null) { closeCompare(); e.preventDefault(); }
});

// ---- compare -----------------------------------------------------------------
// A panel fixed in the popup's view (so it opens in view from any row), with
// focus moved into it and back to the row on close.

async function select(i) {
  const r = state.results[i];
  if (!r || r.status !== 'optimized' || !r.best?.key) return;
  closeCompare(false);
  selected = i;
  rowEls.get(i)?.setAttribute('aria-current', 'true');
  const im = state.images[i];
  $('compare').hidden = false;
  setZoom('fit');
  $('cmp-before').src = im.thumb || '';
  $('cmp-after').removeAttribute('src');
  updateCompareCaptions();
  $('cmp-close').focus();
  if (state.keysGone || r.lost) { $('cmp-after-cap').textContent = t('popup_compare_rescan'); return; }
  try {
    const f = chosenFile(r);
    const buf = await fetchData(dataInfo, { get: f.key });
    if (selected !== i) return;
    const url = URL.createObjectURL(new Blob([buf], { type: mimeOf(f.format) }));
    compareUrls.push(url);
    $('cmp-after').src = url;
  } catch (e) {
    $('cmp-after-cap').textContent = e.message;
  }
}

// "Compare" opens the large compare page in a tab (it talks to the worker
// itself, so it outlives the popup); the panel above is the quick look.
function openCompare(i) {
  chrome.tabs.create({ url: compareUrl(tabId, state.scanId, i), openerTabId: tabId });
}
$('cmp-large').addEventListener('click', () => { if (selected != null) openCompare(selected); });

function updateCompareCaptions() {
  const r = state.results[selected];
  if (!r || !r.original || !r.best) return;
  $('cmp-title').textContent = t('popup_compare_title_for', labelFor(selected));
  const caption = (x) => [formatName(x.format), dims(x.width, x.height), formatBytes(x.bytes)];
  const f = chosenFile(r);
  $('cmp-before-cap').textContent = t('popup_compare_original', caption(r.original));
  $('cmp-after-cap').textContent = r.verified ? t('popup_compare_optimized', caption(f)) : t('popup_compare_estimate', caption(f));
}

/**
 * Zoom: "fit" (both scaled into the panel), "1" (the optimized file's
 * pixels one to one on the screen) or "2" (twice that). Both images get
 * the same size, so the same detail sits at the same place.
 */
function setZoom(z) {
  const panel = $('compare');
  panel.dataset.zoom = z;
  for (const b of panel.querySelectorAll('[data-zoom-to]')) b.setAttribute('aria-pressed', String(b.dataset.zoomTo === z));
  const r = selected != null ? state.results[selected] : null;
  const w = r?.best?.width || r?.original?.width || 0;
  const h = r?.best?.height || r?.original?.height || 0;
  for (const img of [$('cmp-before'), $('cmp-after')]) {
    if (z === 'fit' || !w || !h) { img.style.width = ''; img.style.height = ''; continue; }
    const k = Number(z) / (window.devicePixelRatio || 1);
    img.style.width = `${Math.round(w * k)}px`;
    img.style.height = `${Math.round(h * k)}px`;
  }
}

function closeCompare(restoreFocus = true) {
  const was = selected;
  if (selected != null) rowEls.get(selected)?.setAttribute('aria-current', 'false');
  selected = null;
  $('compare').hidden = true;
  $('cmp-before').removeAttribute('src');
  $('cmp-after').removeAttribute('src');
  for (const u of compareUrls) URL.revokeObjectURL(u);
  compareUrls = [];
  if (restoreFocus && was != null) {
    const li = rowEls.get(was);
    if (li && li.isConnected) {
      for (const x of $('rows').children) x.tabIndex = -1;
      li.tabIndex = 0;
      li.focus();
    }
  }
}
$('cmp-close').addEventListener('click', () => closeCompare());
for (const b of document.querySelectorAll('[data-zoom-to]')) b.addEventListener('click', () => setZoom(b.dataset.zoomTo));
// The two views scroll together when zoomed in.
{
  const a = $('cmp-before-box');
  const b = $('cmp-after-box');
  let busy = false;
  const sync = (from, to) => () => {
    if (busy) return;
    busy = true;
    to.scrollLeft = from.scrollLeft;
    to.scrollTop = from.scrollTop;
    requestAnimationFrame(() => { busy = false; });
  };
  a.addEventListener('scroll', sync(a, b));
  b.addEventListener('scroll', sync(b, a));
}

// ---- downloads -----------------------------------------------------------------

function mimeOf(f) { return MIME[f] || 'application/octet-stream'; }

async function downloadViaPopup(plan, info) {
  if (typeof URL.createObjectURL !== 'function') throw Object.assign(new Error('no object URLs'), { fallback: true });
  let buf;
  let name;
  let type;
  if (plan.zip) {
    buf = await fetchData(info, { zip: plan.items.map(({ key, name: n }) => ({ key, name: n })) });
    name = plan.zip;
    type = 'application/zip';
  } else {
    buf = await fetchData(info, { get: plan.items[0].key });
    name = plan.items[0].name;
    type = mimeOf(plan.items[0].format);
  }
  const url = URL.createObjectURL(new Blob([buf], { type }));
  try {
    const id = await chrome.downloads.download({ url, filename: downloadPath(plan.site, name, plan.naming), conflictAction: 'uniquify' });
    revokeWhenDone(id, url);
    return id;
  } catch (e) {
    URL.revokeObjectURL(url);
    throw e;
  }
}

function revokeWhenDone(id, url) {
  const done = () => { chrome.downloads.onChanged.removeListener(onChange); URL.revokeObjectURL(url); };
  const onChange = (d) => { if (d.id === id && d.state && d.state.current !== 'in_progress') done(); };
  chrome.downloads.onChanged.addListener(onChange);
  setTimeout(done, 5 * 60 * 1000);
}

async function download(what, button) {
  const label = button.textContent;
  const n = what.all ? what.indexes.length : 1;
  button.disabled = true;
  button.dataset.busy = '1';
  button.textContent = !what.all ? t('popup_saving') : n === 1 ? t('popup_saving_one') : t('popup_saving_many', n);
  noticeMsg = '';
  $('notice').textContent = '';
  let saved = '';
  try {
    const res = await ask({ type: 'plan', ...what });
    if (res.error) throw new Error(res.error);
    try {
      await downloadViaPopup(res.plan, res.data);
    } catch (e) {
      if (!e.fallback) throw e;
      const w = await ask({ type: 'download-in-worker', ...what });
      if (w.error) throw new Error(w.error);
    }
    const k = res.plan.items.length;
    saved = !what.all ? t('popup_saved') : k === 1 ? t('popup_saved_one') : t('popup_saved_many', k);
    button.textContent = saved;
  } catch (e) {
    button.textContent = label;
    noticeMsg = e.message || t('popup_download_failed');
    $('notice').textContent = noticeMsg;
  } finally {
    button.disabled = false;
    setTimeout(() => {
      delete button.dataset.busy;
      if (button.textContent === saved) button.textContent = label;
      if (button.id === 'download-all' && state) render([]);
    }, 2000);
  }
}

function downloadOne(i, button) { download({ index: i }, button); }
// The ZIP holds exactly the rows the button counted when it was clicked.
$('download-all').addEventListener('click', (e) => {
  const indexes = takeIndexes(state);
  download({ all: true, indexes, keys: indexes.map((i) => state.results[i].best.key), variants: zipWithVariants() }, e.currentTarget);
});

// ---- buttons and settings ------------------------------------------------------

$('rescan').addEventListener('click', () => port.postMessage({ type: 'scan' }));
$('cancel').addEventListener('click', () => port.postMessage({ type: 'cancel' }));
$('redo-lost').addEventListener('click', () => port.postMessage({ type: 'redo', which: 'lost' }));
$('open-options').addEventListener('click', () => chrome.runtime.openOptionsPage());

const form = $('settings-panel');
$('settings-toggle').addEventListener('click', async () => {
  const open = form.hidden;
  if (open) await fillSettings();
  form.hidden = !open;
  $('settings-toggle').setAttribute('aria-expanded', String(open));
  if (open) form.querySelector('input')?.focus();
});
wireForm(form);

async function fillSettings() {
  const { settings, saved } = await loadSite(state?.site);
  fillForm(form, settings);
  $('forget').disabled = !saved;
  $('settings-msg').textContent = state?.site
    ? (saved ? t('popup_settings_saved_for', state.site) : t('popup_settings_defaults_for', state.site))
    : t('popup_settings_no_site');
}

function readSettings() {
  return readForm(form);
}

/** Shows the settings' errors as an error, or clears them. */
function showSettingsErrors(errors) {
  const box = $('settings-error');
  box.textContent = errors.join(' ');
  box.hidden = !errors.length;
  form.querySelector('fieldset').setAttribute('aria-invalid', String(errors.some((x) => /format/i.test(x))));
}

// Once an error is shown, it goes away as soon as the form is fixed.
form.addEventListener('change', () => {
  if (!$('settings-error').hidden) showSettingsErrors(validateSettings(readSettings()).errors);
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const { errors } = await saveSite(state?.site, readSettings());
  showSettingsErrors(errors);
  if (errors.length) { $('settings-error').focus(); return; }
  $('settings-msg').textContent = t('popup_settings_saved_scanning', state.site);
  $('forget').disabled = false;
  port.postMessage({ type: 'scan' });
});

$('forget').addEventListener('click', async () => {
  const site = state?.site;
  await forgetSite(site);
  await fillSettings();
  showSettingsErrors([]);
  // The rows on show were computed with the settings just forgotten: scan
  // again with the defaults instead of leaving them as if nothing changed.
  if (state?.savedSettings) {
    $('settings-msg').textContent = t('popup_forgot_rescan', site);
    port.postMessage({ type: 'scan' });
  } else {
    $('settings-msg').textContent = t('popup_forgot', site);
  }
});

// ---- start -----------------------------------------------------------------------

initTake({ onChange: () => { if (state) render([]); }, label: (i) => labelFor(i) });

async function start() {
  localize();
  // Opened from the toolbar it is a popup with a fixed preferred width;
  // opened in a tab (or a narrow window) it reflows down to 360 px.
  if (!new URLSearchParams(location.search).has('tab')) document.documentElement.classList.add('popup');
  const q = new URLSearchParams(location.search).get('tab');
  if (q) tabId = Number(q);
  else {
    const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
    tabId = tab?.id ?? null;
  }
  if (tabId == null) {
    $('scan-error').hidden = false;
    $('scan-error').textContent = t('popup_no_tab');
    return;
  }
  connect();
  port.postMessage({ type: 'open', tabId });
}

initReport(() => state);
start();
