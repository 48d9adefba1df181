// What the popup says about a scan: each row's state, the progress counts,
// the page total and what "Download all" will hold. Pure functions, so the
// words and the ZIP are computed from the same numbers.

import { formatBytes, unitFor, percentSaved } from './format.js';
import { chosenFile } from './compare.js';

/** Scan statuses during which the helper may still send results. */
export const RUNNING = ['collecting', 'preparing', 'scanning', 'canceling'];

/**
 * The state of one row:
 * - "pending": nothing yet (the scan is still running)
 * - "unchecked": nothing, and the scan has ended (stopped)
 * - "estimate": a fast estimate only, not checked at the target
 * - "verified": a verified smaller file, downloadable
 * - "optimal": verified: nothing smaller worth having
 * - "error": the image could not be processed
 * - "lost": its result went with a helper that stopped
 */
export function rowState(r, ended) {
  if (!r) return ended ? 'unchecked' : 'pending';
  if (r.lost) return 'lost';
  if (r.status === 'error') return 'error';
  if (!r.verified) return 'estimate';
  return r.status === 'optimized' && r.best ? 'verified' : 'optimal';
}

/** Whether a row's optimized file can be downloaded now. */
export function canDownload(r, keysGone = false) {
  return !!r && !keysGone && !r.lost && !!r.verified && r.status === 'optimized' && !!r.best && !!r.best.key;
}

/**
 * Counts for the progress line and the buttons.
 * estimated: rows with at least an estimate (or an error);
 * ready: rows with a settled answer (verified file, verified "optimal", or error);
 * downloadable: rows whose file can be downloaded now;
 * saving: rows that show a smaller file (estimated or verified).
 */
export function counts(st) {
  const n = st ? st.images.length : 0;
  const ended = !!st && !RUNNING.includes(st.status);
  const c = { n, estimated: 0, ready: 0, final: 0, estimateOnly: 0, unchecked: 0, lost: 0, downloadable: 0, saving: 0, failed: 0 };
  for (let i = 0; i < n; i++) {
    const r = st.results[i];
    const s = rowState(r, ended);
    if (s === 'pending' || s === 'unchecked') { c.unchecked++; continue; }
    if (s === 'lost') { c.lost++; continue; }
    c.estimated++;
    if (r.final) c.final++;
    if (s === 'estimate') c.estimateOnly++;
    else c.ready++;
    if (s === 'error') c.failed++;
    if (r.status === 'optimized' && r.best) c.saving++;
    if (canDownload(r, st.keysGone)) c.downloadable++;
  }
  return c;
}

/** Indexes of the rows "Download all" would put in the ZIP now. */
export function downloadableIndexes(st) {
  if (!st) return [];
  const out = [];
  st.results.forEach((r, i) => { if (canDownload(r, st.keysGone)) out.push(i); });
  return out;
}

/**
 * The page total. The headline counts only savings a person can download
 * now (so it always matches the ZIP); savings that are estimates, or whose
 * files were lost, are given apart as `unconfirmedBytes`.
 */
export function pageTotal(st) {
  const t = { originalBytes: 0, optimizedBytes: 0, savedBytes: 0, unconfirmedBytes: 0 };
  if (!st) return t;
  for (const r of st.results) {
    if (!r || !r.original || !(r.original.bytes > 0)) continue;
    t.originalBytes += r.original.bytes;
    // The file the ZIP takes: the one chosen in the compare page, else the best.
    const f = chosenFile(r);
    const saved = r.status === 'optimized' && f && f.bytes < r.original.bytes ? r.original.bytes - f.bytes : 0;
    if (saved && canDownload(r, st.keysGone)) t.savedBytes += saved;
    else t.unconfirmedBytes += saved;
  }
  t.optimizedBytes = t.originalBytes - t.savedBytes;
  return t;
}

/** "2.4 MB → 0.6 MB, save 75 %", and the estimated rest, for the summary line. */
export function summaryWords(st) {
  const t = pageTotal(st);
  if (!(t.originalBytes > 0)) return { main: '', extra: '', total: t };
  const u = unitFor(t.originalBytes);
  const main = `${formatBytes(t.originalBytes, u)} → ${formatBytes(t.optimizedBytes, u)}, save ${percentSaved(t.originalBytes, t.optimizedBytes)} %`;
  let extra = '';
  if (t.unconfirmedBytes > 0) {
    const c = counts(st);
    const lostOnly = c.lost > 0 && c.estimateOnly === 0;
    if (st.keysGone || lostOnly) extra = `${formatBytes(t.unconfirmedBytes)} more was found, but those files are gone: scan again to download them.`;
    else extra = `Up to ${formatBytes(t.unconfirmedBytes)} more estimated, not yet verified.`;
  }
  return { main, extra, total: t };
}

/** The label of "Download all": exactly what the ZIP will hold. */
export function downloadAllLabel(st) {
  const c = counts(st);
  if (!c.downloadable) return 'Download all (ZIP)';
  if (c.downloadable === c.saving && !(st && RUNNING.includes(st.status) && c.unchecked + c.estimateOnly > 0)) {
    return c.downloadable === 1 ? 'Download 1 file (ZIP)' : `Download all ${c.downloadable} (ZIP)`;
  }
  return `Download ${c.downloadable} verified of ${Math.max(c.saving, c.downloadable)} (ZIP)`;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The progress line's words for a scan's state. */
export function progressWords(st, now = Date.now()) {
  if (!st) return '';
  const c = counts(st);
  const n = c.n;
  switch (st.status) {
    case 'collecting': return 'Finding images on the page…';
    case 'preparing': return 'Reading images…';
    case 'scanning':
    case 'canceling': {
      const pre = st.status === 'canceling' ? 'Stopping… ' : '';
      return `${pre}${c.estimated} of ${n} estimated · ${c.ready} of ${n} verified`;
    }
    case 'done': {
      if (!n) return 'No images found on this page.';
      if (c.final < n) return `Ended: ${c.ready} of ${n} verified, ${n - c.ready} not final`;
      const secs = st.finishedAt && st.startedAt ? ` in ${((st.finishedAt - st.startedAt) / 1000).toFixed(1)} s` : '';
      return `Done: ${plural(n, 'image')}${secs}`;
    }
    case 'canceled': {
      const parts = [`${c.ready} of ${n} verified`];
      if (c.estimateOnly) parts.push(`${c.estimateOnly} estimate only`);
      if (c.unchecked) parts.push(`${c.unchecked} not checked`);
      return `Stopped: ${parts.join(', ')}`;
    }
    case 'error': {
      if (!n) return '';
      const parts = [`${c.ready} of ${n} verified`];
      if (c.lost) parts.push(`${plural(c.lost, 'result')} lost`);
      return parts.join(', ');
    }
    default: return '';
  }
}

/** Where the bar stands: estimates and verified answers each fill half. */
export function barValue(st) {
  const c = counts(st);
  return { value: c.estimated + c.ready, max: Math.max(1, 2 * c.n) };
}
