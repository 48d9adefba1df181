// Image Diet service worker: owns the native messaging port to the helper,
// runs scans (collect in the page → scan in the helper), keeps each tab's
// scan in memory (mirrored to chrome.storage.session, never storage.local)
// and streams it to the popup.

import { collectImages } from './collector.js';
import { buildImageList, toScanImage, chunkImages, parseDataUrl, utf8ToBase64 } from './lib/images.js';
import { applyResult, mergeSummaries } from './lib/results.js';
import { scanSettings, siteOf } from './lib/settings-core.js';
import { fileName, downloadPath, uniqueNames, zipName } from './lib/naming.js';
import { loadSite } from './settings.js';
import { fetchData } from './datachan.js';
import { helperMessages, platformOf } from './lib/helper-help.js';
import { readInPage } from './sw-credentials.js';
import { loginKind, withMessage, mergeRetry, CROSS_ORIGIN_MESSAGE, PAGE_REFUSED_MESSAGE } from './lib/credentials.js';

const HOST_NAME = 'com.imagediet.host';
const PROTOCOL = 1;
const HELLO_TIMEOUT_MS = 15000;
const MAX_MESSAGE_BYTES = 60 * 1024 * 1024; // below Chrome's 64 MiB cap
const FLUSH_MS = 100;
const MIRROR_MS = 500;

/** Messages shown to the user when the helper cannot be used. */
export const MESSAGES = {
  ...helperMessages(platformOf(self.navigator)), // missing, forbidden, stopped, noHello, protocol: for this OS
  noAccess: 'Image Diet can’t read this page. Click the Image Diet button while the page is open to scan it.',
  restricted: 'Browser pages and the Web Store can’t be scanned. Open a web page and click Image Diet there.',
  interrupted: 'The scan was interrupted when the browser stopped the extension. Click Scan again.',
};

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
  // A port closed by us fires no onDisconnect here: fail whatever waited.
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
    if (st.epoch === gone && st.status !== 'error') st.keysGone = true;
  }
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
      states.set(v.tabId, {
        ...v, epoch: -1, keysGone: true, chunks: [], sentIdx: [],
        ...(running ? { status: 'error', error: { kind: 'interrupted', message: MESSAGES.interrupted } } : {}),
      });
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
    finishedAt: null, collectMs: null, epoch: -1, chunks: [], sentIdx: [], keysGone: false,
  };
  st.site = siteOf(st.pageUrl);
  states.set(tabId, st);
  snapshot(tabId);
  const live = () => states.get(tabId) === st;
  const hostReady = ensureHost().then((h) => ({ h }), (err) => ({ err }));
  try {
    const { settings } = await loadSite(st.site);
    st.settings = { ...scanSettings(settings), includeBackgrounds: settings.includeBackgrounds, includeOffscreen: settings.includeOffscreen };
    const t0 = Date.now();
    let frames;
    try {
      frames = await chrome.scripting.executeScript({
        target: { tabId, allFrames: true },
        func: collectImages,
        args: [{ backgrounds: settings.includeBackgrounds }],
      });
    } catch (e) {
      const restricted = /chrome:\/\/|extensions gallery|cannot be scripted|Cannot access a chrome/i.test(String(e && e.message));
      throw Object.assign(new Error(restricted ? MESSAGES.restricted : MESSAGES.noAccess), { kind: restricted ? 'restricted' : 'noAccess' });
    }
    if (!live()) return;
    const top = frames.find((f) => f.frameId === 0 && f.result);
    if (!st.pageUrl && top) st.pageUrl = top.result.url;
    if (!st.site) st.site = siteOf(st.pageUrl);
    const list = buildImageList(frames.filter((f) => f.result), {
      pageUrl: st.pageUrl, includeBackgrounds: settings.includeBackgrounds, includeOffscreen: settings.includeOffscreen,
    });
    st.collectMs = Date.now() - t0;
    st.collectPageMs = Math.max(0, ...frames.map((f) => (f.result && f.result.elapsedMs) || 0));
    st.images = list.map((im, i) => ({
      url: im.url, kinds: im.kinds, displayWidth: im.displayWidth, displayHeight: im.displayHeight, dpr: im.dpr,
      onScreen: im.onScreen, transferSize: im.transferSize, thumb: thumbFor(im),
      name: im.svg ? im.url.slice(im.url.lastIndexOf('#') + 1) : null,
    }));
    st.results = new Array(list.length).fill(null);
    // Private (not in publicState): where each image was found, for reading
    // it in the page when its site wants the person's login.
    const frameUrls = new Map(frames.filter((f) => f.result).map((f) => [f.frameId, f.result.url]));
    st.frameIds = list.map((im) => im.frameId);
    st.frameUrls = list.map((im) => frameUrls.get(im.frameId) || st.pageUrl);
    st.login = [];
    setStatus(st, list.length ? 'preparing' : 'done', list.length ? {} : { finishedAt: Date.now(), summary: mergeSummaries([]) });
    if (!list.length) return;

    const { h, err } = await hostReady;
    if (!live()) return;
    if (err) throw err;
    st.epoch = epoch;
    const maxBytes = (h.limits && h.limits.maxImageBytes) || 32 * 1024 * 1024;
    const maxImages = (h.limits && h.limits.maxImagesPerScan) || 2000;

    st.maxBytes = maxBytes;
    st.maxImages = maxImages;

    // Bytes the helper cannot fetch itself: data:, blob:, inline SVG.
    const data = new Array(list.length).fill(null);
    const blobs = [];
    list.forEach((im, i) => {
      if (im.svg) data[i] = utf8ToBase64(im.svg);
      else if (im.url.startsWith('data:')) data[i] = parseDataUrl(im.url)?.base64 ?? null;
      else if (im.url.startsWith('blob:')) blobs.push({ key: i, url: im.url, frameId: im.frameId });
    });
    for (const [i, b64] of await readInPage(tabId, blobs, maxBytes)) data[i] = b64;
    if (!live()) return;

    const sent = [];
    const local = (i, code, message) => applyResult(st.results, { index: i, final: true, url: list[i].url, status: 'error', error: { code, message } });
    list.forEach((im, i) => {
      const needsData = im.svg || im.url.startsWith('data:') || im.url.startsWith('blob:');
      if (needsData && !data[i]) { local(i, 'fetch_failed', im.url.startsWith('blob:') ? 'The page no longer holds this image’s bytes.' : 'The image’s bytes could not be read.'); return; }
      if (data[i] && data[i].length * 0.75 > maxBytes) { local(i, 'too_large', 'The image file is too large to process.'); return; }
      sent.push(i);
    });
    st.sentIdx = sent;
    const chunks = chunkImages(sent.map((i) => toScanImage(list[i], data[i])), { maxBytes: MAX_MESSAGE_BYTES, maxImages });
    st.chunks = chunks.map((c) => ({ id: newId('s'), offset: c.offset, count: c.images.length, done: null }));
    setStatus(st, 'scanning');
    if (!chunks.length) { finishScan(st); return; }
    const settingsMsg = scanSettings(settings);
    st.settingsMsg = settingsMsg;
    chunks.forEach((c, n) => {
      const ch = st.chunks[n];
      scanHandlers.set(ch.id, (msg) => onScanMessage(st, ch, msg));
      send({ type: 'scan', id: ch.id, page: { url: st.pageUrl }, settings: settingsMsg, images: c.images });
    });
  } catch (e) {
    if (!live()) return;
    setStatus(st, 'error', { error: { kind: e.kind || 'internal', message: e.kind ? e.message : 'Image Diet could not scan this page.' }, finishedAt: Date.now() });
  }
}

function onScanMessage(st, ch, msg) {
  if (states.get(st.tabId) !== st) return;
  if (msg.type === 'result') {
    const i = st.sentIdx[ch.offset + msg.index];
    if (i === undefined) return;
    let res = { ...msg, index: i };
    const login = ch.retry ? null : loginKind(msg, st.images[i].url, st.frameUrls && st.frameUrls[i]);
    if (login === 'cross-origin') res = withMessage(res, CROSS_ORIGIN_MESSAGE);
    else if (login === 'same-origin') st.login.push(i);
    if (applyResult(st.results, res)) queueResult(st.tabId, i);
  } else if (msg.type === 'done') {
    ch.done = msg;
    scanHandlers.delete(ch.id);
    settle(st);
  } else if (msg.type === 'error') {
    // The whole request was refused.
    ch.done = { canceled: false, summary: null, error: msg.error };
    scanHandlers.delete(ch.id);
    for (let k = 0; k < ch.count; k++) {
      const i = st.sentIdx[ch.offset + k];
      if (!st.results[i] || !st.results[i].final) {
        applyResult(st.results, { index: i, final: true, url: st.images[i].url, status: 'error', error: { code: 'internal', message: (msg.error && msg.error.message) || 'The helper refused the scan.' } });
        queueResult(st.tabId, i);
      }
    }
    settle(st);
  } else if (msg.type === '_disconnect') {
    for (const c of st.chunks) if (c.id !== ch.id) scanHandlers.delete(c.id);
    if (['done', 'canceled', 'error'].includes(st.status)) return;
    setStatus(st, 'error', { error: { kind: msg.error.kind, message: msg.error.message }, finishedAt: Date.now() });
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
    if (got.get(i) && got.get(i).length * 0.75 <= st.maxBytes) { idx.push(i); continue; }
    if (applyResult(st.results, withMessage({ ...st.results[i], index: i }, PAGE_REFUSED_MESSAGE))) queueResult(st.tabId, i);
  }
  if (!idx.length || st.status !== 'scanning') { finishScan(st); return; }
  const chunks = chunkImages(idx.map((i) => toScanImage(st.images[i], got.get(i))), { maxBytes: MAX_MESSAGE_BYTES, maxImages: st.maxImages });
  const base = st.sentIdx.length;
  st.sentIdx.push(...idx);
  const added = chunks.map((c) => ({ id: newId('s'), offset: base + c.offset, count: c.images.length, done: null, retry: true }));
  st.chunks.push(...added);
  try {
    chunks.forEach((c, n) => {
      scanHandlers.set(added[n].id, (msg) => onScanMessage(st, added[n], msg));
      send({ type: 'scan', id: added[n].id, page: { url: st.pageUrl }, settings: st.settingsMsg, images: c.images });
    });
  } catch (e) {
    for (const c of added) scanHandlers.delete(c.id);
    setStatus(st, 'error', { error: { kind: e.kind || 'stopped', message: e.message }, finishedAt: Date.now() });
  }
}

function finishScan(st) {
  const canceled = st.chunks.some((c) => c.done && c.done.canceled) || st.status === 'canceling';
  const summaryOf = (retry) => mergeSummaries(st.chunks.filter((c) => !!c.retry === retry).map((c) => c.done && c.done.summary));
  st.summary = st.chunks.some((c) => c.retry) ? mergeRetry(summaryOf(false), summaryOf(true)) : summaryOf(false);
  setStatus(st, canceled ? 'canceled' : 'done', { finishedAt: Date.now() });
}

/** Asks the helper to stop a tab's scan. */
export function cancelScan(tabId) {
  const st = states.get(tabId);
  if (!st || !['collecting', 'preparing', 'scanning'].includes(st.status)) return;
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

function keysOf(st) {
  const keys = [];
  for (const r of st.results) if (r && r.best && r.best.key) keys.push(r.best.key);
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

const MIME = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif', svg: 'image/svg+xml' };

/** What to download for a tab: one image (index) or all optimized ones (zip). */
export function downloadPlan(tabId, { index, all } = {}) {
  const st = states.get(tabId);
  if (!st) throw new Error('There is no scan for this tab.');
  const pick = (i) => {
    const r = st.results[i];
    return r && r.final && r.status === 'optimized' && r.best && r.best.key ? { i, r } : null;
  };
  const items = all ? st.results.map((_, i) => pick(i)).filter(Boolean) : [pick(index)].filter(Boolean);
  if (!items.length) throw new Error(all ? 'No optimized images to download yet.' : 'This image has no optimized version to download.');
  const names = uniqueNames(items.map(({ i, r }) => fileName(st.images[i].name ? `https://x/${st.images[i].name}` : st.images[i].url, r.best.format, i)));
  return {
    site: st.site,
    items: items.map(({ r }, n) => ({ key: r.best.key, name: names[n], format: r.best.format })),
    zip: all ? zipName(st.site) : null,
  };
}

/** Downloads through a data: URL made in the worker (no URL.createObjectURL here). */
export async function downloadInWorker(tabId, what) {
  const plan = downloadPlan(tabId, what);
  if (!hello) throw new Error('The helper is not running any more. Scan again.');
  if (plan.zip) {
    const buf = await fetchData(hello.data, { zip: plan.items.map(({ key, name }) => ({ key, name })) });
    return chrome.downloads.download({ url: toDataUrl(buf, 'application/zip'), filename: downloadPath(plan.site, plan.zip), conflictAction: 'uniquify' });
  }
  const it = plan.items[0];
  const buf = await fetchData(hello.data, { get: it.key });
  return chrome.downloads.download({ url: toDataUrl(buf, MIME[it.format] || 'application/octet-stream'), filename: downloadPath(plan.site, it.name), conflictAction: 'uniquify' });
}

// ---- the popup -------------------------------------------------------------

chrome.runtime.onConnect.addListener((p) => {
  if (p.name !== 'popup' || p.sender?.id !== chrome.runtime.id) return;
  let tabId = null;
  p.onMessage.addListener(async (msg) => {
    if (!msg || typeof msg !== 'object') return;
    await restored;
    if (msg.type === 'open') {
      tabId = msg.tabId;
      if (!listeners.has(tabId)) listeners.set(tabId, new Set());
      listeners.get(tabId).add(p);
      const st = states.get(tabId);
      const url = await pageUrlOf(tabId);
      const same = st && (!url || !st.pageUrl || url === st.pageUrl);
      if (same && !(msg.rescan) && (!['error'].includes(st.status) || st.error?.kind === 'interrupted')) {
        post(p, { type: 'snapshot', state: publicState(st), data: hello && hello.data });
      } else {
        startScan(tabId);
      }
    } else if (msg.type === 'scan' && tabId != null) {
      startScan(tabId);
    } else if (msg.type === 'cancel' && tabId != null) {
      cancelScan(tabId);
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

chrome.tabs.onRemoved.addListener(async (tabId) => {
  await restored;
  const st = states.get(tabId);
  if (st) await dropState(st);
  // Nothing left to download: let the helper go.
  if (port && ![...states.values()].some((s) => s.epoch === epoch)) disconnectHost();
});

// For the end-to-end tests and debugging from the worker's console.
globalThis.imagediet = { collectImages, startScan, cancelScan, downloadInWorker, downloadPlan, states, get hello() { return hello; }, get epoch() { return epoch; } };
