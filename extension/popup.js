// The popup: opens on the toolbar click, asks the service worker to scan the
// tab (or re-attaches to a scan in progress), and shows results as they come.

import { formatBytes, formatName, dims, summaryText, unitFor } from './lib/format.js';
import { totals, sortIndexes, reasonWords, errorText, rowStatus } from './lib/results.js';
import { KIND_NAMES } from './lib/images.js';
import { baseName, downloadPath } from './lib/naming.js';
import { DEFAULTS } from './lib/settings-core.js';
import { loadSite, saveSite, forgetSite } from './settings.js';
import { fetchData } from './datachan.js';

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'tabindex' || k === 'title') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
};

let tabId = null;
let state = null;
let dataInfo = null;
let port = null;
let reqSeq = 1;
const waiting = new Map();
const rowEls = new Map(); // index → li
let order = [];
let selected = null; // index shown in the compare panel
let compareUrl = null;

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
    dataInfo = msg.data || null;
    if (fresh) resetRows();
    render();
  } else if (msg.type === 'results' && state && msg.scanId === state.scanId) {
    for (const [i, r] of Object.entries(msg.results)) state.results[i] = r;
    render(Object.keys(msg.results).map(Number));
  }
}

// ---- rendering ---------------------------------------------------------------

const STATUS_TEXT = {
  collecting: 'Finding images on the page…',
  preparing: 'Reading images…',
  scanning: 'Optimizing…',
  canceling: 'Stopping…',
  done: 'Done',
  canceled: 'Stopped',
  error: '',
};

function resetRows() {
  rowEls.clear();
  order = [];
  $('rows').replaceChildren();
  closeCompare();
}

function render(changed) {
  const st = state;
  const running = st && ['collecting', 'preparing', 'scanning', 'canceling'].includes(st.status);
  $('site').textContent = st?.site || '';
  $('cancel').hidden = !running || st.status === 'canceling';
  $('rescan').hidden = !!running;

  const err = st?.error?.message;
  $('scan-error').hidden = !err;
  $('scan-error').textContent = err || '';

  const n = st?.images.length ?? 0;
  const t = totals(st?.results ?? [], n);
  const prog = $('progress');
  if (!st || st.status === 'collecting' || st.status === 'preparing') {
    prog.removeAttribute('value');
  } else {
    prog.max = Math.max(1, n);
    prog.value = st.status === 'done' ? Math.max(1, n) : t.finished;
  }
  prog.dataset.state = st?.status || 'idle';
  let ptext = STATUS_TEXT[st?.status] ?? '';
  if (st?.status === 'scanning' || st?.status === 'canceling') ptext = `${st.status === 'canceling' ? 'Stopping… ' : ''}${t.finished} of ${n} images done`;
  else if (st?.status === 'done') ptext = n ? `Done: ${n} image${n === 1 ? '' : 's'}${st.finishedAt && st.startedAt ? ` in ${((st.finishedAt - st.startedAt) / 1000).toFixed(1)} s` : ''}` : 'No images found on this page.';
  else if (st?.status === 'canceled') ptext = `Stopped after ${t.finished} of ${n} images`;
  $('progress-text').textContent = ptext;

  const orig = st?.summary && st.status === 'done' ? st.summary.originalBytes : t.originalBytes;
  const opt = st?.summary && st.status === 'done' ? st.summary.optimizedBytes : t.optimizedBytes;
  $('summary').textContent = orig > 0 ? summaryText(orig, opt) : '';
  $('summary').title = orig > 0 ? `${t.optimized} images can be smaller, ${t.optimal} are already optimal, ${t.failed} could not be checked` : '';

  const canDownload = !!st && !st.keysGone && st.results.some((r) => r && r.final && r.status === 'optimized' && r.best?.key);
  $('download-all').disabled = !canDownload;
  $('notice').textContent = st?.keysGone && st.results.some((r) => r?.best) ? 'The helper restarted, so these results can no longer be downloaded. Scan again to download.' : '';

  if (!st) return;
  const idx = changed ?? st.images.map((_, i) => i);
  for (const i of idx) updateRow(i);
  for (let i = 0; i < n; i++) if (!rowEls.has(i)) updateRow(i);
  const next = sortIndexes(st.results, n);
  if (next.join() !== order.join()) {
    order = next;
    const frag = document.createDocumentFragment();
    for (const i of order) frag.append(rowEls.get(i));
    const focused = document.activeElement;
    $('rows').replaceChildren(frag);
    if (focused && focused.isConnected) focused.focus();
  }
  ensureRoving();
  if (selected != null) updateCompareCaptions();
}

function labelFor(i) {
  const im = state.images[i];
  if (im.name) return im.name;
  if (im.url.startsWith('data:')) return 'embedded image (data: URL)';
  if (im.url.startsWith('blob:')) return 'generated image (blob: URL)';
  return baseName(im.url) || new URL(im.url).hostname;
}

function updateRow(i) {
  const im = state.images[i];
  const r = state.results[i];
  const status = rowStatus(r);
  let li = rowEls.get(i);
  if (!li) {
    li = el('li', { class: 'row', 'data-testid': 'result-row', 'data-index': String(i), tabindex: '-1' });
    li.addEventListener('keydown', onRowKey);
    li.addEventListener('click', (e) => { if (!e.target.closest('button')) select(i); });
    rowEls.set(i, li);
  }
  li.dataset.status = status;
  li.setAttribute('aria-selected', String(selected === i));

  const thumb = im.thumb
    ? el('img', { class: 'thumb', src: im.thumb, alt: '', loading: 'lazy', decoding: 'async', referrerPolicy: 'no-referrer' })
    : el('span', { class: 'thumb none', 'aria-hidden': 'true', text: '?' });
  if (thumb.tagName === 'IMG') thumb.addEventListener('error', () => thumb.classList.add('broken'), { once: true });

  const kinds = im.kinds.map((k) => KIND_NAMES[k] || k).join(', ');
  const title = el('div', { class: 'name', title: im.url.length > 300 ? im.url.slice(0, 300) + '…' : im.url, text: labelFor(i) });
  const meta = el('div', { class: 'meta muted', text: `${kinds}${im.displayWidth ? ` · shown ${Math.round(im.displayWidth)}×${Math.round(im.displayHeight)}` : ''}${im.onScreen ? '' : ' · off-screen'}` });
  const info = el('div', { class: 'info' }, title, meta);
  const saving = el('div', { class: 'saving' });
  const actions = el('div', { class: 'row-actions' });

  if (status === 'error') {
    if (r.original) info.append(el('div', { class: 'orig', text: `${formatName(r.original.format)} · ${formatBytes(r.original.bytes)}` }));
    info.append(el('div', { class: 'error', 'data-testid': 'error', text: errorText(r.error) }));
  } else if (r && r.original) {
    const o = r.original;
    info.append(el('div', { class: 'orig' }, el('span', { class: 'label', text: 'Now ' }), `${formatName(o.format)} ${dims(o.width, o.height)} · ${formatBytes(o.bytes)}`));
    if (status === 'optimized' && r.best) {
      const b = r.best;
      info.append(el('div', { class: 'best' }, el('span', { class: 'label', text: 'Best ' }), `${formatName(b.format)} ${dims(b.width, b.height)} · ${formatBytes(b.bytes)}`));
      const why = reasonWords(r);
      if (why.length) info.append(el('div', { class: 'why', text: why.join(' · ') }));
      const u = unitFor(o.bytes);
      saving.append(el('strong', { text: `−${formatBytes(r.savedBytes, u)}` }), el('span', { text: `${Math.round(r.savedPercent)} %` }));
      if (!r.final) saving.append(el('span', { class: 'muted small', text: 'refining…' }));
      const cmp = el('button', { type: 'button', class: 'small-btn', 'data-testid': 'compare-btn', text: 'Compare', 'aria-label': `Compare ${labelFor(i)} before and after` });
      cmp.addEventListener('click', () => select(i));
      const dl = el('button', { type: 'button', class: 'small-btn', 'data-testid': 'download', text: 'Download', disabled: !r.final || !!state.keysGone, 'aria-label': `Download optimized ${labelFor(i)}` });
      dl.addEventListener('click', () => downloadOne(i, dl));
      actions.append(cmp, dl);
    } else {
      saving.append(el('span', { class: 'muted', text: 'Already optimal' }));
    }
    for (const sk of r.skipped || []) info.append(el('div', { class: 'why muted small', 'data-testid': 'skipped', text: sk.reason }));
  } else {
    saving.append(el('span', { class: 'muted', text: state.status === 'canceled' ? 'Not checked' : 'Waiting…' }));
  }
  li.replaceChildren(thumb, info, saving, actions);
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

async function select(i) {
  const r = state.results[i];
  if (!r || r.status !== 'optimized' || !r.best?.key) return;
  closeCompare();
  selected = i;
  rowEls.get(i)?.setAttribute('aria-selected', 'true');
  const im = state.images[i];
  $('compare').hidden = false;
  $('cmp-before').src = im.thumb || '';
  $('cmp-after').removeAttribute('src');
  updateCompareCaptions();
  if (state.keysGone) { $('cmp-after-cap').textContent = 'Scan again to see the optimized image.'; return; }
  try {
    const buf = await fetchData(dataInfo, { get: r.best.key });
    if (selected !== i) return;
    compareUrl = URL.createObjectURL(new Blob([buf], { type: mimeOf(r.best.format) }));
    $('cmp-after').src = compareUrl;
  } catch (e) {
    $('cmp-after-cap').textContent = e.message;
  }
}

function updateCompareCaptions() {
  const r = state.results[selected];
  if (!r || !r.original || !r.best) return;
  $('cmp-before-cap').textContent = `Original: ${formatName(r.original.format)} ${dims(r.original.width, r.original.height)}, ${formatBytes(r.original.bytes)}`;
  $('cmp-after-cap').textContent = `Optimized: ${formatName(r.best.format)} ${dims(r.best.width, r.best.height)}, ${formatBytes(r.best.bytes)}`;
}

function closeCompare() {
  if (selected != null) rowEls.get(selected)?.setAttribute('aria-selected', 'false');
  selected = null;
  $('compare').hidden = true;
  $('cmp-before').removeAttribute('src');
  $('cmp-after').removeAttribute('src');
  if (compareUrl) URL.revokeObjectURL(compareUrl);
  compareUrl = null;
}
$('cmp-close').addEventListener('click', closeCompare);

// ---- downloads -----------------------------------------------------------------

const MIME = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif', svg: 'image/svg+xml' };
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
    const id = await chrome.downloads.download({ url, filename: downloadPath(plan.site, name), conflictAction: 'uniquify' });
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
  button.disabled = true;
  button.textContent = 'Saving…';
  $('notice').textContent = '';
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
    button.textContent = 'Saved';
  } catch (e) {
    button.textContent = label;
    $('notice').textContent = e.message || 'The download failed.';
  } finally {
    button.disabled = false;
    setTimeout(() => { if (button.textContent === 'Saved') button.textContent = label; }, 2000);
  }
}

function downloadOne(i, button) { download({ index: i }, button); }
$('download-all').addEventListener('click', (e) => download({ all: true }, e.currentTarget));

// ---- buttons and settings ------------------------------------------------------

$('rescan').addEventListener('click', () => port.postMessage({ type: 'scan' }));
$('cancel').addEventListener('click', () => port.postMessage({ type: 'cancel' }));
$('open-options').addEventListener('click', () => chrome.runtime.openOptionsPage());

const form = $('settings-panel');
$('settings-toggle').addEventListener('click', async () => {
  const open = form.hidden;
  if (open) await fillSettings();
  form.hidden = !open;
  $('settings-toggle').setAttribute('aria-expanded', String(open));
  if (open) form.querySelector('input')?.focus();
});
form.elements.qualityMode.addEventListener('change', () => {
  form.elements.qualityNumber.disabled = form.elements.qualityMode.value !== 'fixed';
});

async function fillSettings() {
  const { settings, saved } = await loadSite(state?.site);
  const f = form.elements;
  for (const cb of form.querySelectorAll('input[name=formats]')) cb.checked = settings.formats.includes(cb.value);
  f.qualityMode.value = settings.quality === 'auto' ? settings.target : 'fixed';
  f.qualityNumber.value = settings.quality === 'auto' ? 80 : settings.quality;
  f.qualityNumber.disabled = settings.quality === 'auto';
  f.minSavingsBytes.value = settings.minSavingsBytes;
  for (const k of ['resize', 'keepMetadata', 'includeBackgrounds', 'includeOffscreen']) f[k].checked = settings[k];
  $('forget').disabled = !saved;
  $('settings-msg').textContent = state?.site
    ? (saved ? `Saved settings for ${state.site}.` : `Defaults (nothing saved for ${state.site}).`)
    : 'This page has no site name; settings cannot be saved for it.';
}

function readSettings() {
  const f = form.elements;
  const mode = f.qualityMode.value;
  return {
    formats: [...form.querySelectorAll('input[name=formats]:checked')].map((x) => x.value),
    quality: mode === 'fixed' ? Number(f.qualityNumber.value) : 'auto',
    target: mode === 'fixed' ? DEFAULTS.target : mode,
    resize: f.resize.checked,
    keepMetadata: f.keepMetadata.checked,
    minSavingsBytes: f.minSavingsBytes.value === '' ? DEFAULTS.minSavingsBytes : Number(f.minSavingsBytes.value),
    includeBackgrounds: f.includeBackgrounds.checked,
    includeOffscreen: f.includeOffscreen.checked,
  };
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const { errors } = await saveSite(state?.site, readSettings());
  if (errors.length) { $('settings-msg').textContent = errors.join(' '); return; }
  $('settings-msg').textContent = `Saved for ${state.site}. Scanning again…`;
  $('forget').disabled = false;
  port.postMessage({ type: 'scan' });
});

$('forget').addEventListener('click', async () => {
  await forgetSite(state?.site);
  await fillSettings();
  $('settings-msg').textContent = `Forgot ${state?.site}; defaults apply.`;
});

// ---- start -----------------------------------------------------------------------

async function start() {
  const q = new URLSearchParams(location.search).get('tab');
  if (q) tabId = Number(q);
  else {
    const [t] = await chrome.tabs.query({ active: true, currentWindow: true });
    tabId = t?.id ?? null;
  }
  if (tabId == null) {
    $('scan-error').hidden = false;
    $('scan-error').textContent = 'Open a web page and click Image Diet there.';
    return;
  }
  connect();
  port.postMessage({ type: 'open', tabId });
}

start();
