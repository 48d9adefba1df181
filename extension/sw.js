// Image Diet service worker: owns the native messaging port to the helper,
// runs scans (collect in the page → scan in the helper), keeps each tab's
// scan in memory (mirrored to chrome.storage.session, never storage.local)
// and streams it to the popup.

import { collectImages } from './collector.js';
import { collectFrames } from './sw-collect.js';
import { buildImageList, toScanImage, chunkImages, parseDataUrl, utf8ToBase64, bytesInUrl, needsBytes } from './lib/images.js';
import { applyResult, totals, lostResults } from './lib/results.js';
import { canDownload } from './lib/progress.js';
import { scanSettings, siteOf, siteKey, DEFAULTS_KEY } from './lib/settings-core.js';
import { downloadPath, zipName, namedStems, stemFileName } from './lib/naming.js';
import { currentNaming, namingReady, watchNaming } from './sw-naming.js';
import { loadSite } from './settings.js';
import { fetchData } from './datachan.js';
import { helperMessages, platformOf } from './lib/helper-help.js';
import { readInPage } from './sw-credentials.js';
import { withFixes } from './lib/hints.js';
import { storeVariants, variantKeys, variantEntries, staleVariantKeys } from './sw-variants.js';
import { loginKind, withMessage, crossOriginMessage, pageRefusedMessage } from './lib/credentials.js';
import { t } from './lib/i18n.js';
import { MIME } from './lib/format.js';
import { chosenFile, resultKeys } from './lib/compare.js';
import { wireCompare } from './sw-compare.js';

const HOST_NAME = 'com.imagediet.host';
const PROTOCOL = 1;
const HELLO_TIMEOUT_MS = 15000;
const MAX_MESSAGE_BYTES = 60 * 1024 * 1024; // below Chrome's 64 MiB cap
const FLUSH_MS = 100;
const MIRROR_MS = 500;

/** Messages shown to the user when the helper cannot be used. */
export const MESSAGES = {
  ...helperMessages(platformOf(self.navigator)), // missing, forbidden, stopped, noHello, protocol: for this OS
  noAccess: t('sw_no_access'),
  fileAccess: t('sw_file_access'),
  local: t('sw_local'),
  restricted: t('sw_restricted'),
  interrupted: t('sw_interrupted'),
};
const RUNNING = ['collecting', 'preparing', 'scanning', 'canceling'];
const RELEASE_DELAY_MS = 30000; // a replaced file may still be in a download that started before

// ---- the native host -------------------------------------------------------

let port = null;
let helloPromise = null;
let hello = null;
let epoch = 0; // increases with each host session; keys belong to one session
let nextId = 1;
const scanHandlers = new Map(); // scan message id → handler(msg)
const replyWaiters = new Map(); // request id → {resolve, reject}

function newId(prefix) {
  return `${prefix}${nextId++}`;
}

function classifyDisconnect(text) {
  const t = String(text || '');
  if (/not found/i.test(t)) return 'missing';
  if (/forbidden/i.test(t)) return 'forbidden';
  return 'stopped';
}

/** Connects to the helper (if needed) and resolves with its hello reply. */
function ensureHost() {
  if (helloPromise) return helloPromise;
  helloPromise = new Promise((resolve, reject) => {
    let p;
    try {
      p = chrome.runtime.connectNative(HOST_NAME);
    } catch (e) {
      helloPromise = null;
      reject(hostError('missing', e && e.message));
      return;
    }
    port = p;
    epoch++;
    const myEpoch = epoch;
    const id = newId('h');
    const timer = setTimeout(() => {
      reject(hostError('noHello'));
      disconnectHost();
    }, HELLO_TIMEOUT_MS);
    p.onMessage.addListener((msg) => {
      if (msg && msg.type === 'hello' && msg.id === id) {
        clearTimeout(timer);
        if (msg.protocol !== PROTOCOL) {
          reject(hostError('protocol'));
          disconnectHost();
          return;
        }
        hello = msg;
        resolve(msg);
        return;
      }
      onHostMessage(msg);
    });
    p.onDisconnect.addListener(() => {
      const why = classifyDisconnect(chrome.runtime.lastError && chrome.runtime.lastError.message);
      clearTimeout(timer);
      if (port === p) {
        port = null;
        helloPromise = null;
        hello = null;
      }
      const err = hostError(why);
      reject(err);
      for (const w of replyWaiters.values()) w.reject(err);
      replyWaiters.clear();
      const handlers = [...scanHandlers.values()];
      scanHandlers.clear();
      for (const h of handlers) h({ type: '_disconnect', error: err });
      onHostGone(myEpoch);
    });
    try {
      p.postMessage({ type: 'hello', id, protocol: PROTOCOL });
    } catch {
      // onDisconnect reports why.
    }
  });
  return helloPromise;
}

function hostError(kind, detail) {
  const e = new Error(MESSAGES[kind] || MESSAGES.stopped);
  e.kind = kind;
  if (detail) e.detail = detail;
  return e;
}

function disconnectHost() {
  const p = port;
  port = null;
  helloPromise = null;
  hello = null;
  if (p) { try { p.disconnect(); } catch { /* gone */ } }
  // A port closed by us fires no onDisconnect here: fail whatever waited,
  // and mark what the helper held as lost.
  if (p) onHostGone(epoch);
  const err = hostError('stopped');
  for (const w of replyWaiters.values()) w.reject(err);
  replyWaiters.clear();
  const handlers = [...scanHandlers.values()];
  scanHandlers.clear();
  for (const h of handlers) h({ type: '_disconnect', error: err });
}

function send(msg) {
  if (!port) throw hostError('stopped');
  port.postMessage(msg);
}

function request(msg) {
  return new Promise((resolve, reject) => {
    replyWaiters.set(msg.id, { resolve, reject });
    try { send(msg); } catch (e) { replyWaiters.delete(msg.id); reject(e); }
  });
}

function onHostMessage(msg) {
  if (!msg || typeof msg !== 'object') return;
  const w = replyWaiters.get(msg.id);
  if (w && (msg.type === 'released' || msg.type === 'error')) {
    replyWaiters.delete(msg.id);
    w.resolve(msg);
    return;
  }
  const h = scanHandlers.get(msg.id);
  if (h) h(msg);
}

function onHostGone(gone) {
  for (const st of states.values()) {
    if (st.epoch !== gone) continue;
    st.keysGone = true;
    if (markLost(st)) snapshot(st.tabId);
  }
}

/** Marks the rows a stopped helper took with it (see lostResults); returns how many are lost. */
function markLost(st) {
  const { results, lost } = lostResults(st.results, st.images.length, st.pendingIdx);
  st.results = results;
  return lost;
}

// ---- scan state per tab ----------------------------------------------------

/** tabId → state */
const states = new Map();
/** tabId → Set of popup ports */
const listeners = new Map();
const pendingFlush = new Map(); // tabId → Set of result indexes
let mirrorTimer = null;
const mirrorDirty = new Set();

function publicState(st) {
  return {
    tabId: st.tabId, scanId: st.scanId, status: st.status, pageUrl: st.pageUrl, site: st.site,
    settings: st.settings, images: st.images, results: st.results, summary: st.summary,
    error: st.error, startedAt: st.startedAt, finishedAt: st.finishedAt, collectMs: st.collectMs,
    keysGone: !!st.keysGone || st.epoch !== epoch || !hello,
    skippedFrames: st.skippedFrames || 0, others: st.others || [], localImages: st.localImages || 0,
    working: st.pendingIdx ? [...st.pendingIdx] : [], savedSettings: !!st.savedSettings, settingsForgotten: !!st.settingsForgotten, defaultsChanged: !!st.defaultsChanged,
    variants: st.variants || [],
    naming: currentNaming(),
  };
}

function post(p, msg) {
  try { p.postMessage(msg); } catch { /* popup closed */ }
}

function broadcast(tabId, msg) {
  for (const p of listeners.get(tabId) || []) post(p, msg);
}

function snapshot(tabId) {
  const st = states.get(tabId);
  broadcast(tabId, { type: 'snapshot', state: st ? publicState(st) : null, data: hello && hello.data });
  markMirror(tabId);
}

function queueResult(tabId, index) {
  let s = pendingFlush.get(tabId);
  if (!s) {
    s = new Set();
    pendingFlush.set(tabId, s);
    setTimeout(() => flush(tabId), FLUSH_MS);
  }
  s.add(index);
}

function flush(tabId) {
  const s = pendingFlush.get(tabId);
  pendingFlush.delete(tabId);
  const st = states.get(tabId);
  if (!s || !st) return;
  const results = {};
  for (const i of s) results[i] = st.results[i];
  broadcast(tabId, { type: 'results', tabId, scanId: st.scanId, results });
  markMirror(tabId);
}

function setStatus(st, status, extra = {}) {
  Object.assign(st, { status }, extra);
  if (pendingFlush.has(st.tabId)) flush(st.tabId);
  snapshot(st.tabId);
}

// chrome.storage.session mirror: survives the worker being restarted, not
// the browser. Bytes (inline SVG text, long data: URLs) are left out.
function markMirror(tabId) {
  mirrorDirty.add(tabId);
  if (!mirrorTimer) mirrorTimer = setTimeout(writeMirror, MIRROR_MS);
}

async function writeMirror() {
  mirrorTimer = null;
  const set = {};
  const remove = [];
  for (const tabId of mirrorDirty) {
    const st = states.get(tabId);
    if (!st) { remove.push(`scan:${tabId}`); continue; }
    const pub = publicState(st);
    pub.images = pub.images.map((im) => ({ ...im, url: im.url.length > 2048 ? im.url.slice(0, 2048) + '…' : im.url, thumb: im.thumb && im.thumb.length > 4096 ? null : im.thumb }));
    pub.epoch = st.epoch;
    set[`scan:${tabId}`] = pub;
  }
  mirrorDirty.clear();
  try {
    if (remove.length) await chrome.storage.session.remove(remove);
    if (Object.keys(set).length) await chrome.storage.session.set(set);
  } catch {
    // Over the session quota: the in-memory state is still there.
  }
}

const restored = (async () => {
  try {
    const all = await chrome.storage.session.get(null);
    for (const [k, v] of Object.entries(all)) {
      if (!k.startsWith('scan:') || !v || states.has(v.tabId)) continue;
      const running = !['done', 'canceled', 'error'].includes(v.status);
      const st = {
        ...v, epoch: -1, keysGone: true, chunks: [], data: [], pendingIdx: new Set(running ? v.working || [] : []),
        ...(running ? { status: 'error', error: { kind: 'interrupted', message: MESSAGES.interrupted } } : {}),
      };
      markLost(st);
      st.pendingIdx = new Set();
      states.set(v.tabId, st);
    }
  } catch { /* nothing to restore */ }
})();

// ---- running a scan --------------------------------------------------------

function thumbFor(im) {
  if (im.svg) {
    const b64 = utf8ToBase64(im.svg);
    return b64.length <= 64 * 1024 ? `data:image/svg+xml;base64,${b64}` : null;
  }
  if (im.url.startsWith('data:')) return im.url.length <= 64 * 1024 ? im.url : null;
  if (im.url.startsWith('blob:')) return null;
  return im.url;
}

async function pageUrlOf(tabId) {
  try {
    const t = await chrome.tabs.get(tabId);
    return t.url || t.pendingUrl || '';
  } catch {
    return '';
  }
}

/** Starts (or restarts) the scan of a tab. */
export async function startScan(tabId) {
  await restored;
  const old = states.get(tabId);
  if (old) await dropState(old, { keepListeners: true });
  const st = {
    tabId, scanId: newId('scan'), status: 'collecting', pageUrl: await pageUrlOf(tabId), site: null,
    settings: null, images: [], results: [], summary: null, error: null, startedAt: Date.now(),
    finishedAt: null, collectMs: null, epoch: -1, chunks: [], keysGone: false,
    data: [], pendingIdx: new Set(), stopped: false, skippedFrames: 0, others: [], localImages: 0,
  };
  st.site = siteOf(st.pageUrl);
  states.set(tabId, st);
  snapshot(tabId);
  const live = () => states.get(tabId) === st;
  const hostReady = ensureHost().then((h) => ({ h }), (err) => ({ err }));
  try {
    const { settings, saved } = await loadSite(st.site);
    st.savedSettings = saved;
    st.settings = { ...scanSettings(settings), includeBackgrounds: settings.includeBackgrounds, includeOffscreen: settings.includeOffscreen };
    const t0 = Date.now();
    let got;
    try {
      got = await collectFrames(tabId, { backgrounds: settings.includeBackgrounds });
    } catch (e) {
      if (e.kind) throw e;
      let files = true;
      try { files = await chrome.extension.isAllowedFileSchemeAccess(); } catch { /* unknown: assume allowed */ }
      throw accessError(st.pageUrl, e, files);
    }
    const frames = got.frames;
    if (!live()) return;
    const top = frames.find((f) => f.frameId === 0 && f.result);
    if (!st.pageUrl && top) st.pageUrl = top.result.url;
    if (!st.site) st.site = siteOf(st.pageUrl);
    const stats = {};
    const list = buildImageList(frames.filter((f) => f.result), {
      pageUrl: st.pageUrl, includeBackgrounds: settings.includeBackgrounds, includeOffscreen: settings.includeOffscreen, stats,
    });
    st.skippedFrames = got.skippedFrames;
    st.others = [...stats.others].filter((u) => !list.some((im) => im.url === u)).slice(0, 200);
    st.localImages = stats.local;
    st.collectMs = Date.now() - t0;
    st.collectPageMs = Math.max(0, ...frames.map((f) => (f.result && f.result.elapsedMs) || 0));
    const hints = withFixes(list);
    st.images = list.map((im, i) => ({
      url: im.url, kinds: im.kinds, displayWidth: im.displayWidth, displayHeight: im.displayHeight, dpr: im.dpr,
      onScreen: im.onScreen, hidden: !!im.hidden, transferSize: im.transferSize, thumb: thumbFor(im),
      name: im.svg ? im.url.slice(im.url.lastIndexOf('#') + 1) : null,
      el: im.el || null, hints: hints[i], ...(im.srcsetWidths ? { srcsetWidths: im.srcsetWidths } : {}),
    }));
    st.results = new Array(list.length).fill(null);
    // Private (not in publicState): where each image was found, for reading
    // it in the page when its site wants the person's login.
    const frameUrls = new Map(frames.filter((f) => f.result).map((f) => [f.frameId, f.result.url]));
    st.frameIds = list.map((im) => im.frameId);
    st.frameUrls = list.map((im) => frameUrls.get(im.frameId) || st.pageUrl);
    st.login = [];
    if (!list.length) {
      const local = st.localImages > 0 ? { error: { kind: 'local', message: MESSAGES.local } } : {};
      setStatus(st, 'done', { finishedAt: Date.now(), summary: summaryOf(st), ...local });
      return;
    }
    setStatus(st, 'preparing');

    const { h, err } = await hostReady;
    if (!live()) return;
    if (err) throw err;
    st.epoch = epoch;
    const maxBytes = (h.limits && h.limits.maxImageBytes) || 32 * 1024 * 1024;
    st.maxBytes = maxBytes;
    st.maxImages = (h.limits && h.limits.maxImagesPerScan) || 2000;

    // Bytes the helper cannot fetch itself: data:, blob:, inline SVG. Kept
    // in memory only, so one image can be sent again ("finish this image").
    const data = new Array(list.length).fill(null);
    const blobs = [];
    list.forEach((im, i) => {
      if (im.svg) data[i] = utf8ToBase64(im.svg);
      else if (im.url.startsWith('data:')) data[i] = parseDataUrl(im.url)?.base64 ?? null;
      else if (im.url.startsWith('blob:')) blobs.push({ key: i, url: im.url, frameId: im.frameId });
    });
    for (const [i, b64] of await readInPage(tabId, blobs, maxBytes)) data[i] = b64;
    if (!live()) return;
    st.data = data;
    st.needsData = list.map((im) => !!(im.svg || im.url.startsWith('data:') || im.url.startsWith('blob:')));
    runScan(st, list.map((_, i) => i));
  } catch (e) {
    if (!live()) return;
    setStatus(st, 'error', { error: { kind: e.kind || 'internal', message: e.kind ? e.message : t('sw_scan_failed') }, finishedAt: Date.now() });
  }
}

function accessError(pageUrl, e, fileAccess = true) {
  const msg = String(e && e.message);
  if (/^file:/i.test(pageUrl) || /file:\/\//i.test(msg)) return Object.assign(new Error(MESSAGES.fileAccess), { kind: 'fileAccess' });
  const restricted = /chrome:\/\/|extensions gallery|cannot be scripted|Cannot access a chrome/i.test(msg);
  if (restricted) return Object.assign(new Error(MESSAGES.restricted), { kind: 'restricted' });
  // Without file access Chrome does not even say the page is a file.
  const words = fileAccess ? MESSAGES.noAccess : `${MESSAGES.noAccess} ${t('sw_file_hint')}`;
  return Object.assign(new Error(words), { kind: 'noAccess' });
}

/**
 * Sends the images at the given indexes to the helper as one run (one scan
 * message per chunk). Used for the whole page, for "finish this image" and
 * for redoing results lost with a helper that stopped.
 */
function runScan(st, indexes) {
  const maxBytes = (hello && hello.limits && hello.limits.maxImageBytes) || 32 * 1024 * 1024;
  const local = (i, code, message) => { applyResult(st.results, { index: i, final: true, verified: true, url: st.images[i].url, status: 'error', error: { code, message } }); queueResult(st.tabId, i); };
  const sent = [];
  for (const i of indexes) {
    const d = st.data[i];
    if (st.needsData?.[i] && !d) {
      local(i, 'fetch_failed', st.images[i].url.startsWith('blob:') ? t('sw_blob_gone') : t('sw_bytes_unread'));
    } else if (d && d.length * 0.75 > maxBytes) {
      local(i, 'too_large', t('result_error_too_large'));
    } else {
      sent.push(i);
    }
  }
  st.chunks = [];
  // Before the snapshot: the popup learns from it which rows this run works on.
  st.pendingIdx = new Set(sent);
  st.runCanceled = false;
  setStatus(st, 'scanning', { finishedAt: null, error: null });
  sendChunks(st, sent, st.data);
}

/** Adds chunks for the images at idx (bytes from data where given) to the running scan and sends them. */
function sendChunks(st, idx, data, { retry = false } = {}) {
  const maxImages = (hello && hello.limits && hello.limits.maxImagesPerScan) || 2000;
  const chunks = chunkImages(idx.map((i) => toScanImage(st.images[i], data[i])), { maxBytes: MAX_MESSAGE_BYTES, maxImages });
  const added = chunks.map((c) => ({ id: newId('s'), idx: idx.slice(c.offset, c.offset + c.images.length), done: null, retry }));
  st.chunks.push(...added);
  const known = idx.every((i) => st.pendingIdx.has(i));
  for (const i of idx) st.pendingIdx.add(i);
  if (!known) snapshot(st.tabId);
  if (!added.length) { settle(st); return; }
  const settingsMsg = scanSettings(st.settings);
  try {
    chunks.forEach((c, n) => {
      scanHandlers.set(added[n].id, (msg) => onScanMessage(st, added[n], msg));
      send({ type: 'scan', id: added[n].id, page: { url: st.pageUrl }, settings: settingsMsg, images: c.images });
    });
  } catch (e) {
    onScanMessage(st, added[0], { type: '_disconnect', error: e.kind ? e : hostError('stopped') });
  }
}

// Once every chunk is done: a second pass for the images of the page's own
// site that the site refused to the helper (401/403), read in the page with
// the person's login and sent as bytes; then the scan is finished.
function settle(st) {
  if (!st.chunks.every((c) => c.done)) return;
  if (st.status === 'scanning' && st.login && st.login.length && !st.retried) {
    st.retried = true;
    retryInPage(st);
    return;
  }
  finishScan(st);
}

async function retryInPage(st) {
  const items = st.login.map((i) => ({ key: i, url: st.images[i].url, frameId: st.frameIds[i] }));
  const got = await readInPage(st.tabId, items, st.maxBytes, { credentials: 'include' });
  if (states.get(st.tabId) !== st) return;
  const idx = [];
  for (const i of st.login) {
    const b64 = got.get(i);
    if (b64 && b64.length * 0.75 <= st.maxBytes) {
      idx.push(i);
      // Kept, so "finish this image" or a redo sends the same bytes.
      st.data[i] = b64;
      if (st.needsData) st.needsData[i] = true;
      continue;
    }
    if (applyResult(st.results, withMessage({ ...st.results[i], index: i }, pageRefusedMessage()))) queueResult(st.tabId, i);
  }
  if (!idx.length || st.status !== 'scanning') { finishScan(st); return; }
  sendChunks(st, idx, st.data, { retry: true });
}

function onScanMessage(st, ch, msg) {
  if (states.get(st.tabId) !== st) return;
  if (msg.type === 'result') {
    const i = ch.idx[msg.index];
    if (i === undefined) return;
    const prev = st.results[i];
    let res = { ...msg, index: i };
    const login = ch.retry || st.data[i] ? null : loginKind(msg, st.images[i].url, st.frameUrls && st.frameUrls[i]);
    if (login === 'cross-origin') res = withMessage(res, crossOriginMessage());
    else if (login === 'same-origin') st.login.push(i);
    if (applyResult(st.results, res)) {
      const r = st.results[i];
      if (r.final) st.pendingIdx.delete(i);
      if (prev && prev.verified && prev.best && prev.best.key && prev.best.key !== r.best?.key) {
        // Still held (until released below), so a ZIP asked for with the
        // file on show gets that very file.
        if (!st.replaced) st.replaced = new Map();
        st.replaced.set(prev.best.key, { i, best: prev.best });
        releaseLater(prev.best.key, st);
      }
      queueResult(st.tabId, i);
    }
  } else if (msg.type === 'variants') {
    const i = ch.idx[msg.index];
    if (i === undefined) return;
    const old = st.variants && st.variants[i];
    broadcast(st.tabId, { type: 'variants', tabId: st.tabId, scanId: st.scanId, index: i, variants: storeVariants(st, i, msg) });
    for (const k of staleVariantKeys(st, old)) releaseLater(k, st);
    markMirror(st.tabId);
  } else if (msg.type === 'done') {
    ch.done = msg;
    scanHandlers.delete(ch.id);
    if (msg.canceled) st.runCanceled = true;
    for (const i of ch.idx) st.pendingIdx.delete(i);
    settle(st);
  } else if (msg.type === 'error') {
    // The whole request was refused.
    ch.done = { canceled: false, summary: null, error: msg.error };
    scanHandlers.delete(ch.id);
    for (const i of ch.idx) {
      st.pendingIdx.delete(i);
      if (!st.results[i] || !st.results[i].final) {
        applyResult(st.results, { index: i, final: true, verified: true, url: st.images[i].url, status: 'error', error: { code: 'internal', message: (msg.error && msg.error.message) || t('sw_helper_refused') } });
        queueResult(st.tabId, i);
      }
    }
    settle(st);
  } else if (msg.type === '_disconnect') {
    for (const c of st.chunks) if (c.id !== ch.id) scanHandlers.delete(c.id);
    if (!RUNNING.includes(st.status)) return;
    st.keysGone = true;
    markLost(st);
    st.pendingIdx = new Set();
    setStatus(st, 'error', { error: { kind: msg.error.kind, message: msg.error.message }, finishedAt: Date.now() });
  }
}

function summaryOf(st) {
  const t = totals(st.results, st.images.length);
  return {
    images: t.images, optimized: t.optimized, optimal: t.optimal, failed: t.failed,
    originalBytes: t.originalBytes, optimizedBytes: t.optimizedBytes, savedBytes: t.savedBytes,
    elapsedMs: Math.max(0, ...st.chunks.map((c) => (c.done && c.done.summary && c.done.summary.elapsedMs) || 0)),
  };
}

function finishScan(st) {
  const canceled = st.runCanceled || st.status === 'canceling';
  if (canceled) st.stopped = true;
  const allFinal = st.results.every((r) => r && r.final && !r.lost);
  st.summary = summaryOf(st);
  // "Done" only when every row has its final answer; a page stopped earlier
  // stays "Stopped" until its last images are finished one by one.
  setStatus(st, allFinal || !st.stopped ? 'done' : 'canceled', { finishedAt: Date.now() });
}

/** Asks the helper to stop a tab's scan. */
export function cancelScan(tabId) {
  const st = states.get(tabId);
  if (!st || !['collecting', 'preparing', 'scanning'].includes(st.status)) return;
  st.stopped = true;
  if (st.status !== 'scanning') {
    // Not sent yet: drop it.
    states.delete(tabId);
    const c = { ...st, status: 'canceled', finishedAt: Date.now() };
    states.set(tabId, c);
    snapshot(tabId);
    return;
  }
  setStatus(st, 'canceling');
  for (const c of st.chunks) {
    if (!c.done) { try { send({ type: 'cancel', id: newId('c'), scan: c.id }); } catch { /* host gone */ } }
  }
}

/**
 * Scans some images of a tab's page again, keeping every other row: "finish
 * this image" for an estimate, or the rows lost when the helper stopped.
 * @param {number[]|'lost'} which image indexes, or every lost row
 */
export async function redoImages(tabId, which) {
  await restored;
  const st = states.get(tabId);
  if (!st || RUNNING.includes(st.status)) return false;
  const pick = () => (which === 'lost'
    ? st.results.map((r, i) => (r && r.lost ? i : -1))
    : which).filter((i) => Number.isInteger(i) && i >= 0 && i < st.images.length && !(st.results[i] && st.results[i].final && !st.results[i].lost));
  if (!pick().length) return false;
  try {
    await ensureHost();
  } catch (err) {
    setStatus(st, 'error', { error: { kind: err.kind, message: err.message } });
    return false;
  }
  if (states.get(tabId) !== st || RUNNING.includes(st.status)) return false;
  if (st.epoch !== epoch) {
    // A new helper: the old one's files are gone for every row.
    st.epoch = epoch;
    st.keysGone = false;
    st.results = st.results.map((r) => (r && r.status === 'optimized' && !r.lost && r.best?.key ? { ...r, lost: true } : r));
  }
  const idx = pick();
  if (!st.data.length) st.data = st.images.map(bytesInUrl);
  if (!st.needsData) st.needsData = st.images.map(needsBytes);
  for (const i of idx) if (st.results[i] && st.results[i].lost) st.results[i] = null;
  runScan(st, idx);
  return true;
}

function releaseLater(key, st) {
  setTimeout(() => {
    st.replaced?.delete(key);
    for (const s of states.values()) if (s.results.some((r) => r && r.best && r.best.key === key)) return;
    if (port) request({ type: 'release', id: newId('r'), keys: [key] }).catch(() => {});
  }, RELEASE_DELAY_MS);
}

function keysOf(st) {
  const keys = [];
  // The best and every candidate (each held under its key, and choosable in the compare page).
  for (const r of st.results) keys.push(...resultKeys(r));
  keys.push(...variantKeys(st));
  return keys;
}

async function dropState(st, { keepListeners = false } = {}) {
  for (const c of st.chunks || []) {
    if (!c.done && scanHandlers.has(c.id)) {
      scanHandlers.delete(c.id);
      try { send({ type: 'cancel', id: newId('c'), scan: c.id }); } catch { /* host gone */ }
    }
  }
  const keys = keysOf(st);
  if (keys.length && st.epoch === epoch && port) {
    request({ type: 'release', id: newId('r'), keys }).catch(() => {});
  }
  states.delete(st.tabId);
  if (!keepListeners) listeners.delete(st.tabId);
  markMirror(st.tabId);
}

// ---- downloads from the worker (fallback: data: URL) -----------------------

function toDataUrl(buf, mime) {
  const bytes = new Uint8Array(buf);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return `data:${mime};base64,${btoa(bin)}`;
}


/**
 * What to download for a tab: one image (index) or a ZIP of the verified
 * ones (all). With `indexes`, the ZIP holds exactly those rows (the ones the
 * popup's button counted), each at its current verified file.
 */
export function downloadPlan(tabId, { index, all, indexes, keys, variants } = {}) {
  const st = states.get(tabId);
  if (!st) throw new Error(t('sw_no_scan'));
  const gone = !!st.keysGone || st.epoch !== epoch || !hello;
  const pick = (i, n) => {
    const r = st.results[i];
    if (!canDownload(r, gone)) return null;
    // The file the popup showed when it was clicked, if a newer one has replaced it since.
    const want = Array.isArray(keys) ? keys[n] : null;
    const old = want && want !== r.best.key ? st.replaced?.get(want) : null;
    return old && old.i === i ? { i, r: { ...r, best: old.best, chosen: undefined } } : { i, r };
  };
  const want = all ? (Array.isArray(indexes) ? indexes : st.results.map((_, i) => i)) : [index];
  const items = want.map((i, n) => pick(i, n)).filter(Boolean);
  if (!items.length) {
    throw new Error(gone && st.results.some((r) => r && r.best)
      ? t('sw_files_gone')
      : (all ? t('sw_nothing_all') : t('sw_nothing_one')));
  }
  // Names from every row of the page, so the markup names the same files;
  // each row's file is the candidate chosen in the compare page, else its best.
  const naming = currentNaming();
  const stems = namedStems(st.images, { naming, site: st.site, results: st.results.map((r) => r && { best: chosenFile(r) }) });
  const files = items.map(({ i, r }) => { const f = chosenFile(r); return { key: f.key, name: stemFileName(stems[i], f.format), format: f.format }; });
  // "Download all" with variants: each image's widths in a folder of its own.
  if (all && variants) for (const { i } of items) files.push(...variantEntries(st, i, stems[i]));
  return { site: st.site, items: files, zip: all ? zipName(st.site) : null, naming };
}

/** Downloads through a data: URL made in the worker (no URL.createObjectURL here). */
export async function downloadInWorker(tabId, what) {
  const plan = downloadPlan(tabId, what);
  if (!hello) throw new Error(t('sw_helper_gone'));
  if (plan.zip) {
    const buf = await fetchData(hello.data, { zip: plan.items.map(({ key, name }) => ({ key, name })) });
    return chrome.downloads.download({ url: toDataUrl(buf, 'application/zip'), filename: downloadPath(plan.site, plan.zip, plan.naming), conflictAction: 'uniquify' });
  }
  const it = plan.items[0];
  const buf = await fetchData(hello.data, { get: it.key });
  return chrome.downloads.download({ url: toDataUrl(buf, MIME[it.format] || 'application/octet-stream'), filename: downloadPath(plan.site, it.name, plan.naming), conflictAction: 'uniquify' });
}

// ---- the popup -------------------------------------------------------------

chrome.runtime.onConnect.addListener((p) => {
  if (p.name !== 'popup' || p.sender?.id !== chrome.runtime.id) return;
  let tabId = null;
  p.onMessage.addListener(async (msg) => {
    if (!msg || typeof msg !== 'object') return;
    await restored;
    await namingReady;
    if (msg.type === 'open') {
      tabId = msg.tabId;
      if (!listeners.has(tabId)) listeners.set(tabId, new Set());
      listeners.get(tabId).add(p);
      const st = states.get(tabId);
      const url = await pageUrlOf(tabId);
      // No URL means the tab is out of reach (about:blank, an error page, or
      // another site since the click): never show an earlier page's rows for it.
      const same = st && !!url && url === st.pageUrl;
      // A scan that ended in an error keeps its rows when it has any (what
      // the helper took with it can be redone); otherwise a new scan starts.
      if (same && !(msg.rescan) && (st.status !== 'error' || st.error?.kind === 'interrupted' || st.results.some(Boolean))) {
        post(p, { type: 'snapshot', state: publicState(st), data: hello && hello.data });
      } else {
        startScan(tabId);
      }
    } else if (msg.type === 'scan' && tabId != null) {
      startScan(tabId);
    } else if (msg.type === 'cancel' && tabId != null) {
      cancelScan(tabId);
    } else if (msg.type === 'redo' && tabId != null) {
      redoImages(tabId, msg.which === 'lost' ? 'lost' : (Array.isArray(msg.which) ? msg.which : []));
    } else if (msg.type === 'plan' && tabId != null) {
      try {
        post(p, { type: 'plan', reqId: msg.reqId, plan: downloadPlan(tabId, msg), data: hello && hello.data });
      } catch (e) {
        post(p, { type: 'plan', reqId: msg.reqId, error: e.message });
      }
    } else if (msg.type === 'download-in-worker' && tabId != null) {
      try {
        await downloadInWorker(tabId, msg);
        post(p, { type: 'downloaded', reqId: msg.reqId });
      } catch (e) {
        post(p, { type: 'downloaded', reqId: msg.reqId, error: e.message });
      }
    }
  });
  p.onDisconnect.addListener(() => {
    if (tabId != null) listeners.get(tabId)?.delete(p);
  });
});

// A site's settings forgotten (here or on the options page): rows computed
// with them are marked, so none passes for what the defaults would give.
// Likewise rows of a site without settings when the defaults change.
chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local') return;
  for (const st of states.values()) {
    if (changes[DEFAULTS_KEY] && st.settings && !st.savedSettings && !st.defaultsChanged) {
      st.defaultsChanged = true;
      snapshot(st.tabId);
    }
    if (!st.site || !st.savedSettings || st.settingsForgotten) continue;
    const c = changes[siteKey(st.site)];
    if (c && c.newValue === undefined) {
      st.settingsForgotten = true;
      snapshot(st.tabId);
    }
  }
});

// A new file-name pattern or folder: open popups show (and name) files by it.
watchNaming(() => { for (const tabId of states.keys()) snapshot(tabId); });

chrome.tabs.onRemoved.addListener(async (tabId) => {
  await restored;
  const st = states.get(tabId);
  if (st) await dropState(st);
  // Nothing left to download: let the helper go.
  if (port && ![...states.values()].some((s) => s.epoch === epoch)) disconnectHost();
});

// The compare page (compare.html): its own port, candidate choice, re-encode one image.
const compare = wireCompare({
  states, listeners, restored, publicState, queueResult, broadcast, ensureHost, send, request, newId, scanHandlers, downloadInWorker, RUNNING,
  get hello() { return hello; }, get epoch() { return epoch; },
});

// For the end-to-end tests and debugging from the worker's console.
globalThis.imagediet = { compare, collectImages, startScan, cancelScan, redoImages, downloadInWorker, downloadPlan, states, get hello() { return hello; }, get epoch() { return epoch; } };
