// The compare page (compare.html?tab=T&scan=S&index=I), opened in a tab
// from the popup's row: one image before and after with a slider, zoom and
// panning that move both sides together, the numbers, every candidate the
// helper made (choosing one makes it the row's download), and "re-encode
// this image". It talks to the service worker over its own port, so it
// keeps working when the popup closes.

import { t, localize } from './lib/i18n.js';
import { formatBytes, formatName, dims, MIME } from './lib/format.js';
import { imageLabel } from './lib/naming.js';
import { candidateRows, chosenFile, savingOf, TARGET_LIMITS, targetOf, targetWord, howWords, compareOrder, compareUrl } from './lib/compare.js';
import { RUNNING } from './lib/progress.js';
import { fetchData } from './datachan.js';
import { el } from './lib/dom.js';

const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
const tabId = Number(params.get('tab'));
const index = Number(params.get('index'));
const scanId = params.get('scan');

let state = null; // the tab's scan state, as the worker publishes it
let dataInfo = null; // the helper's data channel
let goneWhy = null; // 'scan' | 'files' | null
let job = null; // the re-encode of this image, as the worker reports it
let port = null;
let reqSeq = 1;
const waiting = new Map();
const view = { zoom: 'fit', show: 'split', split: 50, panX: 0, panY: 0 };
const urls = new Map(); // key → object URL of the helper's bytes
let afterKey = null;
let beforeSrc = null;
let beforeFailed = false; // the page could not load the original (moved, or the site refuses it)

// ---- the worker ----------------------------------------------------------------

function connect() {
  try {
    port = chrome.runtime.connect({ name: 'compare' });
  } catch {
    // The extension was reloaded or removed: this page's scan is gone for good.
    port = null;
    setGone('scan');
    return;
  }
  port.onMessage.addListener(onMessage);
  port.onDisconnect.addListener(() => {
    port = null;
    for (const w of waiting.values()) w({ error: t('compare_worker_gone') });
    waiting.clear();
    // The worker restarted: open again (it restores the scan, or says it is gone).
    setTimeout(connect, 300);
  });
  port.postMessage({ type: 'open', tabId });
}

function ask(msg) {
  return new Promise((resolve) => {
    if (!port) { resolve({ error: t('compare_worker_gone') }); return; }
    const reqId = reqSeq++;
    waiting.set(reqId, resolve);
    port.postMessage({ ...msg, index, reqId });
  });
}

function onMessage(msg) {
  if (msg.type === 'reply') {
    const w = waiting.get(msg.reqId);
    waiting.delete(msg.reqId);
    if (w) w(msg);
  } else if (msg.type === 'snapshot') {
    if (!msg.state || msg.state.scanId !== scanId) { setGone('scan'); return; }
    state = msg.state;
    dataInfo = msg.data || null;
    render();
  } else if (msg.type === 'results') {
    if (!state || msg.scanId !== scanId) return;
    for (const [i, r] of Object.entries(msg.results)) state.results[i] = r;
    if (index in msg.results) render();
  } else if (msg.type === 'reencode') {
    if (msg.scanId !== scanId || msg.index !== index) return;
    job = msg;
    renderRedo();
  } else if (msg.type === 'gone') {
    setGone('scan');
  }
}

function setGone(why) {
  goneWhy = why;
  render();
}

// ---- what the page shows ------------------------------------------------------------

const row = () => (state ? state.results[index] : null);

/**
 * The file on the optimized side: the row's download (chosen, else best),
 * or for an image already optimal the smallest file the helper made, to
 * see what it would have cost.
 */
function shownFile(r) {
  const f = chosenFile(r);
  if (f || !r || r.status !== 'optimal' || r.lost) return f;
  return candidateRows(r).find((c) => c.key) || null;
}
const image = () => (state ? state.images[index] : null);

const nameOf = (im) => (im ? imageLabel(im) : '');

/** Why the optimized side cannot be shown, or ''. */
function missingWords(r) {
  if (goneWhy === 'scan') return t('compare_gone_scan');
  if (!state) return '';
  if (state.keysGone || (r && r.lost)) return t('compare_gone_files');
  if (!r) return t('compare_not_ready');
  if (r.status === 'error') return t('compare_row_error');
  if (r.status !== 'optimized' || !r.best) return t('compare_row_optimal');
  return '';
}

function render() {
  const r = row();
  const im = image();
  const name = nameOf(im);
  // The tab's title names no part of the image's address: the browser keeps
  // titles on disk (history, the session it restores); the heading may.
  const order = state ? compareOrder(state.results, state.images.length) : [];
  const pos = order.indexOf(index);
  document.title = pos >= 0 ? t('compare_title', [String(pos + 1), String(order.length)]) : t('compare_title_plain');
  $('title').textContent = name ? t('compare_heading_for', [name]) : t('compare_heading');
  $('site').textContent = state?.site || '';
  const missing = missingWords(r);
  const blocking = goneWhy === 'scan' || !!(state && (state.keysGone || (r && r.lost)));
  $('gone').hidden = !blocking;
  $('gone').textContent = blocking ? missing : '';
  const note = blocking ? '' : missing || (r && r.note) || '';
  $('row-note').hidden = !note;
  $('row-note').textContent = note;
  renderNumbers(r);
  renderCandidates(r, blocking);
  renderRedo();
  loadImages(r, im, blocking);
  renderNav(blocking, order);
  $('download').disabled = !!missing || !r?.verified;
}

// Previous and next image: the page's other rows, in the popup's order.
function neighbours(order = state ? compareOrder(state.results, state.images.length) : null) {
  if (!state) return { prev: null, next: null };
  const at = order.indexOf(index);
  if (at < 0) return { prev: order[0] ?? null, next: null };
  return { prev: at > 0 ? order[at - 1] : null, next: at + 1 < order.length ? order[at + 1] : null };
}

function renderNav(blocking, order) {
  const { prev, next } = neighbours(order);
  $('prev-image').disabled = blocking || prev == null;
  $('next-image').disabled = blocking || next == null;
}

function go(to) {
  if (to != null) location.assign(compareUrl(tabId, scanId, to));
}
$('prev-image').addEventListener('click', () => go(neighbours().prev));
$('next-image').addEventListener('click', () => go(neighbours().next));

function fileWords(f) {
  return [formatName(f.format), dims(f.width, f.height), formatBytes(f.bytes)].filter(Boolean).join(' · ');
}

function distanceWords(r, f) {
  if (f.distance != null && Number.isFinite(f.distance)) return f.distance.toFixed(2);
  if (targetOf(r, state?.settings) === null) return t('compare_distance_fixed');
  if (f.format === 'png' || f.format === 'gif' || f.format === 'svg') return t('compare_distance_lossless');
  return t('compare_distance_none');
}

function renderNumbers(r) {
  const dl = $('numbers');
  const items = [];
  const add = (label, value, testid, cls) => items.push(el('dt', { text: label }), el('dd', { text: value, 'data-testid': testid, class: cls }));
  if (r && r.original) add(t('compare_num_original'), fileWords(r.original), 'num-original');
  const f = shownFile(r);
  if (f) {
    add(r.chosen && f !== r.best ? t('compare_num_chosen') : r.best ? t('compare_num_best') : t('compare_num_smallest'), fileWords(f), 'num-file');
    const s = savingOf(r, f);
    if (s.savedBytes >= 0) add(t('compare_num_saves'), t('compare_saves', [formatBytes(s.savedBytes), String(Math.round(s.savedPercent))]), 'num-saves', 'good');
    else add(t('compare_num_saves'), t('compare_larger', [formatBytes(-s.savedBytes)]), 'num-saves', 'bad');
    if (f.quality) add(t('compare_num_quality'), String(f.quality), 'num-quality');
    add(t('compare_num_distance'), distanceWords(r, f), 'num-distance');
  }
  const target = targetOf(r, state?.settings);
  const fixed = r?.redoneWith?.quality ?? (state?.settings && state.settings.quality !== 'auto' ? state.settings.quality : null);
  if (r && r.original) {
    add(t('compare_num_allows'), target ? t('compare_allows', [TARGET_LIMITS[target].toFixed(1), targetWord(target)]) : t('compare_allows_fixed', [String(fixed)]), 'num-allows');
    add(t('compare_num_state'), r.lost ? t('compare_state_lost') : r.verified ? t('compare_state_verified') : t('compare_state_estimate'), 'num-state');
  }
  dl.replaceChildren(...items);
}

function renderCandidates(r, blocking) {
  const list = candidateRows(r);
  const body = $('cands');
  const target = targetOf(r, state?.settings);
  const limit = target ? TARGET_LIMITS[target] : null;
  const focusedKey = document.activeElement?.name === 'pick' ? document.activeElement.value : null;
  body.replaceChildren(...list.map((c, n) => {
    const id = `pick-${n}`;
    const radio = el('input', { type: 'radio', name: 'pick', id, value: c.key || '', checked: c.chosen, disabled: blocking || !c.choosable, 'data-testid': 'pick' });
    radio.addEventListener('change', () => { if (radio.checked) choose(c.best ? null : c.key); });
    const badges = [];
    if (c.best) badges.push(el('span', { class: 'badge', text: t('compare_badge_best') }));
    // The helper keeps the extra candidates only while it has memory to spare.
    if (!c.key && r.status === 'optimized' && r.verified) badges.push(el('span', { class: 'badge', 'data-testid': 'not-held', text: t('compare_badge_not_held'), title: t('compare_not_held') }));
    const within = limit != null && c.distance != null ? c.distance <= limit : null;
    const tr = el('tr', {
      'data-testid': 'candidate', 'data-format': c.format, 'data-bytes': String(c.bytes), 'data-key': c.key || '',
      'data-distance': c.distance != null ? String(c.distance) : '', 'data-chosen': String(c.chosen),
    },
    el('td', {}, radio),
    el('td', { class: 'fmt' }, el('label', { htmlFor: id, text: formatName(c.format), title: dims(c.width, c.height) || null }), ...badges),
    el('td', { class: 'num', text: formatBytes(c.bytes) }),
    el('td', { class: `num ${c.savedBytes < 0 ? 'bad' : ''}`, text: c.savedBytes < 0 ? `+${Math.round(-c.savedPercent)} %` : `${Math.round(c.savedPercent)} %` }),
    el('td', { class: 'num', text: c.quality ? String(c.quality) : '—' }),
    el('td', { class: `num ${within === false ? 'bad' : ''}`, text: distanceWords(r, c), title: within == null ? null : (within ? t('compare_within', [limit.toFixed(1)]) : t('compare_over', [limit.toFixed(1)])) }));
    return tr;
  }));
  if (!list.length) body.append(el('tr', {}, el('td', { colSpan: 6, class: 'muted', text: t('compare_no_cands') })));
  // Until the answer is final a newer one may replace it (and its files), so nothing can be chosen yet.
  const wait = !blocking && list.length > 0 && r && !r.final && r.status === 'optimized';
  $('choose-wait').hidden = !wait;
  if (focusedKey != null) body.querySelector(`input[name=pick][value="${CSS.escape(focusedKey)}"]`)?.focus();
}

async function choose(key) {
  const msg = $('choose-msg');
  msg.classList.remove('error');
  const res = await ask({ type: 'choose', key });
  if (res.error) {
    msg.textContent = res.error;
    msg.classList.add('error');
    render();
    return;
  }
  const f = chosenFile(row());
  msg.textContent = f ? t('compare_chosen_now', [formatName(f.format), formatBytes(f.bytes)]) : '';
}

// ---- images ------------------------------------------------------------------------

const imageType = (format) => MIME[format] || `image/${format}`;

async function loadImages(r, im, blocking) {
  // Before: the original, by its URL (or its bytes from the worker when the page has no URL for it).
  if (im && beforeSrc == null) {
    beforeSrc = '';
    let src = im.thumb;
    if (!src) {
      const res = await ask({ type: 'original' });
      if (res.data) {
        const bin = atob(res.data);
        const u8 = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
        src = URL.createObjectURL(new Blob([u8], { type: imageType(r?.original?.format || 'png') }));
      }
    }
    beforeSrc = src || '';
    if (src) { $('before').referrerPolicy = 'no-referrer'; $('before').src = src; }
  }
  $('before').alt = t('compare_alt_before', [nameOf(im)]);
  const f = blocking ? null : shownFile(r);
  $('pane').dataset.after = String(!!(f && f.key));
  if (!f || !f.key) {
    afterKey = null;
    $('after').removeAttribute('src');
    $('after').alt = '';
    labels();
    layout();
    return;
  }
  $('after').alt = t('compare_alt_after', [formatName(f.format)]);
  if (afterKey === f.key) { labels(); layout(); return; }
  afterKey = f.key;
  labels();
  try {
    let url = urls.get(f.key);
    if (!url) {
      const buf = await fetchData(dataInfo, { get: f.key });
      url = URL.createObjectURL(new Blob([buf], { type: imageType(f.format) }));
      urls.set(f.key, url);
    }
    if (afterKey !== f.key) return;
    $('after').src = url;
  } catch (e) {
    if (afterKey !== f.key) return;
    $('row-note').hidden = false;
    $('row-note').textContent = e.message;
  }
  layout();
}

function labels() {
  const r = row();
  const f = shownFile(r);
  $('label-before').textContent = beforeFailed ? t('compare_before_failed') : r?.original ? t('compare_tag_before', [formatName(r.original.format)]) : t('compare_show_before');
  $('label-after').textContent = !f ? '' : r.best ? t('compare_tag_after', [formatName(f.format)]) : t('compare_tag_smallest', [formatName(f.format)]);
}

for (const img of [$('before'), $('after')]) img.addEventListener('load', () => layout());
$('before').addEventListener('error', () => { beforeFailed = true; labels(); });

// ---- the view: slider, zoom, panning, toggle ----------------------------------------

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** Pixel size the view is laid out for: the optimized file's, else the original's. */
function pixelSize() {
  const r = row();
  const f = shownFile(r);
  const w = f?.width || r?.original?.width || $('after').naturalWidth || $('before').naturalWidth;
  const h = f?.height || r?.original?.height || $('after').naturalHeight || $('before').naturalHeight;
  return { w, h };
}

/**
 * Lays both images out on the same box (so the same detail sits at the
 * same place on both sides): fit, or the optimized file's pixels at one or
 * two screen pixels each, moved by the shared pan.
 */
function layout() {
  const pane = $('pane');
  const pw = pane.clientWidth;
  const ph = pane.clientHeight;
  const { w, h } = pixelSize();
  pane.dataset.zoom = view.zoom;
  pane.dataset.show = view.show;
  if (!w || !h || !pw || !ph) return;
  // Side by side, each picture has half the view.
  const vw = view.show === 'sides' ? pw / 2 : pw;
  const scale = view.zoom === 'fit' ? Math.min(vw / w, ph / h) : Number(view.zoom) / (window.devicePixelRatio || 1);
  const W = w * scale;
  const H = h * scale;
  const maxX = Math.max(0, (W - vw) / 2);
  const maxY = Math.max(0, (H - ph) / 2);
  view.panX = clamp(view.panX, -maxX, maxX);
  view.panY = clamp(view.panY, -maxY, maxY);
  const left = (vw - W) / 2 + view.panX;
  const top = (ph - H) / 2 + view.panY;
  for (const img of [$('before'), $('after')]) {
    img.style.left = `${left}px`;
    img.style.top = `${top}px`;
    img.style.width = `${W}px`;
    img.style.height = `${H}px`;
  }
  pane.dataset.pixelated = String(scale * (window.devicePixelRatio || 1) > 1.01);
  $('before-layer').style.clipPath = `inset(0 ${100 - view.split}% 0 0)`;
  const d = $('divider');
  d.style.left = `${view.split}%`;
  d.setAttribute('aria-valuenow', String(Math.round(view.split)));
  d.setAttribute('aria-valuetext', t('compare_divider_value', [String(Math.round(view.split))]));
  for (const b of document.querySelectorAll('[data-zoom]')) if (b.tagName === 'BUTTON') b.setAttribute('aria-pressed', String(b.dataset.zoom === view.zoom));
  for (const b of document.querySelectorAll('[data-show]')) if (b.tagName === 'BUTTON') b.setAttribute('aria-pressed', String(b.dataset.show === view.show));
}

function say(key, subs) {
  $('view-status').textContent = t(key, subs);
}

function setSplit(v) {
  view.split = clamp(v, 0, 100);
  if (view.show !== 'split') setShow('split');
  layout();
}

function setShow(s) {
  view.show = s;
  // The divider is hidden outside the slider view: its focus goes to the view.
  if (s !== 'split' && document.activeElement === $('divider')) $('pane').focus({ preventScroll: true });
  layout();
  const f = shownFile(row());
  if (s === 'before') say('compare_showing_before');
  else if (s === 'after') say('compare_showing_after', [f ? formatName(f.format) : '']);
  else if (s === 'sides') say('compare_showing_sides');
  else say('compare_showing_split');
}

function toggle() {
  setShow(view.show === 'before' ? 'after' : 'before');
}

function setZoom(z) {
  if (z === view.zoom) return;
  const pane = $('pane');
  // Keep the detail at the pane's centre where it is.
  const old = view.zoom === 'fit' ? null : Number(view.zoom);
  if (old && z !== 'fit') {
    view.panX *= Number(z) / old;
    view.panY *= Number(z) / old;
  } else {
    view.panX = 0;
    view.panY = 0;
  }
  view.zoom = z;
  layout();
  say(z === 'fit' ? 'compare_zoomed_fit' : z === '1' ? 'compare_zoomed_1' : 'compare_zoomed_2');
}

function pan(dx, dy) {
  view.panX += dx;
  view.panY += dy;
  layout();
}

for (const b of document.querySelectorAll('button[data-zoom]')) b.addEventListener('click', () => setZoom(b.dataset.zoom));
for (const b of document.querySelectorAll('button[data-show]')) b.addEventListener('click', () => setShow(b.dataset.show));

$('divider').addEventListener('keydown', (e) => {
  const step = e.shiftKey ? 10 : 2;
  const k = e.key;
  let v = null;
  if (k === 'ArrowLeft' || k === 'ArrowDown') v = view.split - step;
  else if (k === 'ArrowRight' || k === 'ArrowUp') v = view.split + step;
  else if (k === 'PageDown') v = view.split - 10;
  else if (k === 'PageUp') v = view.split + 10;
  else if (k === 'Home') v = 0;
  else if (k === 'End') v = 100;
  if (v == null) return;
  e.preventDefault();
  e.stopPropagation();
  setSplit(v);
});

$('pane').addEventListener('keydown', (e) => {
  if (e.target !== $('pane')) return;
  const k = e.key;
  const dir = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[k];
  if (!dir) return;
  e.preventDefault();
  if (view.zoom === 'fit') {
    // Nothing to pan: in the slider view the arrows move the divider.
    if (dir[0] && view.show === 'split') setSplit(view.split + dir[0] * (e.shiftKey ? 10 : 2));
    return;
  }
  const step = e.shiftKey ? 200 : 40;
  // The arrow says where to look: the picture moves the other way.
  pan(-dir[0] * step, -dir[1] * step);
});

// Drag: on the divider (or anywhere when fitted) it moves the divider;
// elsewhere when zoomed in it pans both sides together.
{
  const pane = $('pane');
  let drag = null;
  const splitAt = (x) => {
    const r = pane.getBoundingClientRect();
    setSplit(((x - r.left) / r.width) * 100);
  };
  pane.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    const onDivider = e.target.closest('#divider');
    // Fitted, a drag moves the divider in the slider view; zoomed in, it pans.
    const mode = onDivider || (view.zoom === 'fit' && view.show === 'split') ? 'split' : view.zoom === 'fit' ? null : 'pan';
    if (!mode) return;
    drag = { mode, x: e.clientX, y: e.clientY };
    pane.setPointerCapture(e.pointerId);
    pane.classList.add('dragging');
    if (mode === 'split') {
      if (!onDivider) splitAt(e.clientX);
      $('divider').focus({ preventScroll: true });
    } else {
      pane.focus({ preventScroll: true });
    }
    e.preventDefault();
  });
  pane.addEventListener('pointermove', (e) => {
    if (!drag) return;
    if (drag.mode === 'split') splitAt(e.clientX);
    else {
      pan(e.clientX - drag.x, e.clientY - drag.y);
      drag.x = e.clientX;
      drag.y = e.clientY;
    }
  });
  const end = () => { drag = null; pane.classList.remove('dragging'); };
  pane.addEventListener('pointerup', end);
  pane.addEventListener('pointercancel', end);
}

document.addEventListener('keydown', (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
  const tag = e.target.tagName;
  if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
  const k = e.key;
  const inView = e.target === $('pane') || e.target === $('divider');
  if (k === 't' || k === 'T' || (k === ' ' && inView)) { toggle(); e.preventDefault(); }
  else if (k === 's' || k === 'S') setShow('split');
  else if (k === 'b' || k === 'B') setShow('sides');
  else if (['0', 'f', 'F', '1', '2'].includes(k)) {
    // A zoom key leaves the focus on the view, so the arrows pan at once.
    setZoom(k === '1' || k === '2' ? k : 'fit');
    $('pane').focus({ preventScroll: true });
  }
});

new ResizeObserver(() => layout()).observe($('pane'));

// ---- download and re-encode -----------------------------------------------------------

$('download').addEventListener('click', async () => {
  const b = $('download');
  b.disabled = true;
  const res = await ask({ type: 'download' });
  b.disabled = false;
  const msg = $('choose-msg');
  msg.classList.toggle('error', !!res.error);
  msg.textContent = res.error || t('compare_downloaded');
});

$('redo-how').addEventListener('change', () => { $('redo-q').hidden = $('redo-how').value !== 'fixed'; });

$('redo').addEventListener('submit', async (e) => {
  e.preventDefault();
  const how = $('redo-how').value === 'fixed' ? { quality: Number($('redo-q').value) } : { target: $('redo-how').value };
  const msg = $('redo-msg');
  msg.classList.remove('error');
  $('redo-go').disabled = true;
  const res = await ask({ type: 'reencode', how });
  if (res.error) {
    msg.textContent = res.error;
    msg.classList.add('error');
    $('redo-go').disabled = false;
  }
});

$('redo-stop').addEventListener('click', () => ask({ type: 'cancel-reencode' }));

let formFilled = false;

function renderRedo() {
  const running = job && job.state === 'running';
  const blocked = goneWhy === 'scan' || !state || state.keysGone || RUNNING.includes(state.status) || !row()?.final || !!row()?.lost;
  if (!formFilled && state) {
    // The form starts at the settings this answer was made with.
    formFilled = true;
    const how = row()?.redoneWith || (state.settings?.quality !== 'auto' && state.settings?.quality ? { quality: state.settings.quality } : { target: state.settings?.target || 'balanced' });
    $('redo-how').value = how.quality ? 'fixed' : how.target;
    if (how.quality) $('redo-q').value = String(how.quality);
  }
  $('redo-q').hidden = $('redo-how').value !== 'fixed';
  $('redo-q').disabled = running;
  $('redo-how').disabled = running;
  $('redo-go').disabled = running || blocked;
  $('redo-stop').hidden = !running;
  $('redo-progress').hidden = !running;
  const msg = $('redo-msg');
  if (!job) {
    msg.textContent = state && RUNNING.includes(state.status) ? t('compare_redo_running') : '';
    return;
  }
  msg.classList.toggle('error', job.state === 'error');
  msg.dataset.state = job.state;
  if (running) {
    const est = job.latest?.best;
    msg.textContent = est
      ? t('compare_redo_progress_est', [howWords(job.how), formatName(est.format), formatBytes(est.bytes)])
      : t('compare_redo_progress', [howWords(job.how)]);
  } else if (job.state === 'done') {
    const f = row()?.best;
    msg.textContent = f ? t('compare_redo_done', [howWords(job.how), formatName(f.format), formatBytes(f.bytes)]) : t('compare_redo_done_none', [howWords(job.how)]);
  } else if (job.state === 'canceled') {
    msg.textContent = t('compare_redo_canceled');
  } else {
    msg.textContent = job.message || t('compare_redo_failed');
  }
}

// ---- start ------------------------------------------------------------------------------

localize();
if (!Number.isInteger(tabId) || !Number.isInteger(index) || !scanId) {
  setGone('scan');
} else {
  connect();
}
