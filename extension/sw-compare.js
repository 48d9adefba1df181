// The service worker's side of the compare page (compare.html): a port of
// its own ("compare"), so the page keeps working when the popup closes;
// the person's choice among a row's candidates (row.chosen); and "re-encode
// this image", a scan of that one image with other settings whose final
// answer replaces the row's. sw.js wires it in with its state and helpers.

import { applyResult } from './lib/results.js';
import { toScanImage, bytesInUrl, needsBytes } from './lib/images.js';
import { withChoice, resultKeys, keysInUse, reencodeSettings } from './lib/compare.js';
import { t } from './lib/i18n.js';
import { storeVariants, variantKeys } from './sw-variants.js';


/** A row without its "being re-encoded" mark. */
function unmarked(r) {
  if (!r || !r.reencoding) return r;
  const { reencoding, ...rest } = r;
  return rest;
}

/**
 * Wires the compare page in.
 * @param {object} ctx from sw.js: states, listeners, restored, publicState,
 *   queueResult, broadcast, ensureHost, send, request, newId, scanHandlers, downloadInWorker,
 *   RUNNING, and getters hello and epoch
 */
export function wireCompare(ctx) {
  // As sw.js: a replaced file may still be in a download for a while.
  const api = { releaseDelayMs: 30000 };
  const ports = new Map(); // port → tabId
  const jobs = new Map(); // `${tabId}:${index}` → re-encode job

  const tell = (tabId, msg) => {
    for (const [p, id] of ports) if (id === tabId) { try { p.postMessage(msg); } catch { /* closed */ } }
  };
  const gone = (st) => !st || !!st.keysGone || st.epoch !== ctx.epoch || !ctx.hello;

  function jobWords(job) {
    return { type: 'reencode', tabId: job.st.tabId, scanId: job.st.scanId, index: job.index, how: job.how, state: job.state, message: job.message || '', latest: job.latest || null };
  }

  function endJob(job, state, message) {
    job.state = state;
    job.message = message;
    jobs.delete(`${job.st.tabId}:${job.index}`);
    const st = job.st;
    const r = st.results[job.index];
    // The row as it was, without the "re-encoding" mark (unless replaced already).
    if (r && r.reencoding) {
      st.results[job.index] = unmarked(r);
      ctx.queueResult(st.tabId, job.index);
    }
    tell(st.tabId, jobWords(job));
  }

  /** Releases the keys a replaced row named, once no row of any scan names them. */
  function releaseUnused(keys) {
    if (!keys.size) return;
    setTimeout(() => {
      const all = [...ctx.states.values()];
      const used = keysInUse(all.flatMap((s) => s.results || []));
      for (const s of all) for (const k of variantKeys(s)) used.add(k);
      const free = [...keys].filter((k) => !used.has(k));
      if (free.length) ctx.request({ type: 'release', id: ctx.newId('r'), keys: free }).catch(() => {});
    }, api.releaseDelayMs);
  }

  function onJobMessage(job, msg) {
    const st = job.st;
    if (ctx.states.get(st.tabId) !== st) {
      // The page was scanned again or its tab closed: stop working on it.
      ctx.scanHandlers.delete(job.id);
      jobs.delete(`${st.tabId}:${job.index}`);
      if (msg.type !== 'done') { try { ctx.send({ type: 'cancel', id: ctx.newId('c'), scan: job.id }); } catch { /* gone */ } }
      return;
    }
    if (msg.type === 'result' && msg.index === 0) {
      if (!msg.final) {
        job.latest = { status: msg.status, best: msg.best || null, verified: !!msg.verified };
        tell(st.tabId, jobWords(job));
        return;
      }
      if (msg.status === 'error') {
        // A failed re-encode leaves the row as it was.
        job.final = true;
        endJob(job, 'error', (msg.error && msg.error.message) || t('compare_redo_failed'));
        return;
      }
      const old = st.results[job.index];
      const fresh = [];
      applyResult(fresh, { ...msg, index: 0 });
      st.results[job.index] = { ...fresh[0], redoneWith: job.how };
      job.final = true;
      if (old && old.best && old.best.key) {
        // Still held for 30 s, so a ZIP asked for with the old file on show gets it.
        if (!st.replaced) st.replaced = new Map();
        st.replaced.set(old.best.key, { i: job.index, best: old.best });
        setTimeout(() => st.replaced?.delete(old.best.key), api.releaseDelayMs);
      }
      // The row's variants were made from the old answer: they go too, and
      // the re-encode's own (when the scan asks for variants) follow.
      const oldFiles = resultKeys(old);
      const vs = st.variants && st.variants[job.index];
      for (const w of (vs && vs.variants) || []) for (const f of w.files) if (f && f.key) oldFiles.add(f.key);
      if (vs) {
        st.variants[job.index] = undefined;
        ctx.broadcast(st.tabId, { type: 'variants', tabId: st.tabId, scanId: st.scanId, index: job.index, variants: undefined });
      }
      const now = resultKeys(st.results[job.index]);
      releaseUnused(new Set([...oldFiles].filter((k) => !now.has(k))));
      ctx.queueResult(st.tabId, job.index);
      job.latest = { status: msg.status, best: msg.best || null, verified: !!msg.verified };
      endJob(job, 'done', '');
    } else if (msg.type === 'variants' && msg.index === 0 && job.final && job.state === 'done') {
      ctx.broadcast(st.tabId, { type: 'variants', tabId: st.tabId, scanId: st.scanId, index: job.index, variants: storeVariants(st, job.index, msg) });
    } else if (msg.type === 'done') {
      ctx.scanHandlers.delete(job.id);
      if (!job.final) endJob(job, msg.canceled ? 'canceled' : 'error', msg.canceled ? '' : t('compare_redo_failed'));
    } else if (msg.type === 'error' || msg.type === '_disconnect') {
      ctx.scanHandlers.delete(job.id);
      if (!job.final) endJob(job, 'error', (msg.error && msg.error.message) || t('compare_redo_failed'));
    }
  }

  /**
   * Re-encodes one image of a tab's scan at a target or a fixed quality.
   * @returns {Promise<string|null>} null when started, else why not (a sentence)
   */
  async function reencode(tabId, index, how) {
    await ctx.restored;
    const st = ctx.states.get(tabId);
    if (!st) return t('compare_gone_scan');
    const r = st.results[index];
    if (ctx.RUNNING.includes(st.status)) return t('compare_redo_running');
    if (!r || !r.final || r.lost || !st.images[index]) return t('compare_redo_not_final');
    const prev = jobs.get(`${tabId}:${index}`);
    if (prev && prev.st === st) return t('compare_redo_busy');
    if (prev) {
      // Left from a scan of the page since replaced: stop it.
      jobs.delete(`${tabId}:${index}`);
      ctx.scanHandlers.delete(prev.id);
      try { ctx.send({ type: 'cancel', id: ctx.newId('c'), scan: prev.id }); } catch { /* gone */ }
    }
    const { settings, how: picked, error } = reencodeSettings(st.settings, how);
    if (error) return t(error);
    try {
      await ctx.ensureHost();
    } catch (e) {
      return e.message;
    }
    if (ctx.states.get(tabId) !== st) return t('compare_gone_scan');
    if (gone(st)) return t('compare_gone_files');
    const im = st.images[index];
    let data = st.data && st.data[index];
    if (!data) data = bytesInUrl(im);
    const needs = st.needsData ? st.needsData[index] : needsBytes(im);
    if (needs && !data) return t('compare_redo_no_bytes');
    const job = { id: ctx.newId('s'), st, index, how: picked, state: 'running', message: '', latest: null, final: false };
    jobs.set(`${tabId}:${index}`, job);
    st.results[index] = { ...r, reencoding: picked };
    ctx.queueResult(tabId, index);
    ctx.scanHandlers.set(job.id, (msg) => onJobMessage(job, msg));
    try {
      ctx.send({ type: 'scan', id: job.id, page: { url: st.pageUrl }, settings, images: [toScanImage(im, data)] });
    } catch (e) {
      ctx.scanHandlers.delete(job.id);
      endJob(job, 'error', e.message);
      return null;
    }
    tell(tabId, jobWords(job));
    return null;
  }

  function cancelReencode(tabId, index) {
    const job = jobs.get(`${tabId}:${index}`);
    if (!job) return;
    try { ctx.send({ type: 'cancel', id: ctx.newId('c'), scan: job.id }); } catch { endJob(job, 'canceled', ''); }
  }

  /** Makes candidate key the row's download (null: back to the best). Returns null, or why not. */
  function choose(tabId, index, key) {
    const st = ctx.states.get(tabId);
    if (!st) return t('compare_gone_scan');
    if (gone(st)) return t('compare_gone_files');
    const next = withChoice(st.results[index], key);
    if (!next) return t('compare_choose_bad');
    st.results[index] = next;
    ctx.queueResult(tabId, index);
    return null;
  }

  async function onMessage(p, msg) {
    if (!msg || typeof msg !== 'object') return;
    await ctx.restored;
    const tabId = ports.get(p);
    const reply = (extra) => { try { p.postMessage({ type: 'reply', reqId: msg.reqId, ...extra }); } catch { /* closed */ } };
    if (msg.type === 'open' && Number.isInteger(msg.tabId)) {
      ports.set(p, msg.tabId);
      if (!ctx.listeners.has(msg.tabId)) ctx.listeners.set(msg.tabId, new Set());
      ctx.listeners.get(msg.tabId).add(p);
      const st = ctx.states.get(msg.tabId);
      try {
        p.postMessage({ type: 'snapshot', state: st ? ctx.publicState(st) : null, data: ctx.hello && ctx.hello.data });
        for (const job of jobs.values()) if (job.st === st) p.postMessage(jobWords(job));
      } catch { /* the page closed */ }
    } else if (tabId == null) {
      reply({ error: t('compare_gone_scan') });
    } else if (msg.type === 'choose') {
      reply({ error: choose(tabId, msg.index, msg.key ?? null) });
    } else if (msg.type === 'reencode') {
      reply({ error: await reencode(tabId, msg.index, msg.how) });
    } else if (msg.type === 'cancel-reencode') {
      cancelReencode(tabId, msg.index);
      reply({});
    } else if (msg.type === 'original') {
      // The original's bytes, for images the page cannot load by URL (blob:, long data: URLs).
      const st = ctx.states.get(tabId);
      reply({ data: (st && st.data && st.data[msg.index]) || null });
    } else if (msg.type === 'download') {
      try {
        await ctx.downloadInWorker(tabId, { index: msg.index });
        reply({});
      } catch (e) {
        reply({ error: e.message });
      }
    }
  }

  chrome.runtime.onConnect.addListener((p) => {
    if (p.name !== 'compare' || p.sender?.id !== chrome.runtime.id) return;
    p.onMessage.addListener((msg) => onMessage(p, msg));
    p.onDisconnect.addListener(() => {
      const id = ports.get(p);
      ports.delete(p);
      if (id != null) ctx.listeners.get(id)?.delete(p);
    });
  });

  // A worker restarted mid re-encode lost the job with the helper: its rows
  // (restored from chrome.storage.session) are not being re-encoded any more.
  ctx.restored.then(() => {
    for (const st of ctx.states.values()) {
      st.results = st.results.map(unmarked);
    }
  });

  // A closed tab's scan is dropped with no snapshot: tell its compare pages.
  chrome.tabs.onRemoved.addListener((tabId) => tell(tabId, { type: 'gone', why: 'tab' }));

  return Object.assign(api, { choose, reencode, cancelReencode, jobs });
}
