// What the popup says about a scan: each row's state, the progress counts,
// the page total and what "Download all" will hold. Pure functions, so the
// words and the ZIP are computed from the same numbers.

import { formatBytes, summaryText } from './format.js';
import { t } from './i18n.js';
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
  const tot = { originalBytes: 0, optimizedBytes: 0, savedBytes: 0, unconfirmedBytes: 0 };
  if (!st) return tot;
  for (const r of st.results) {
    if (!r || !r.original || !(r.original.bytes > 0)) continue;
    tot.originalBytes += r.original.bytes;
    // The file the ZIP takes: the one chosen in the compare page, else the best.
    const f = chosenFile(r);
    const saved = r.status === 'optimized' && f && f.bytes < r.original.bytes ? r.original.bytes - f.bytes : 0;
    if (saved && canDownload(r, st.keysGone)) tot.savedBytes += saved;
    else tot.unconfirmedBytes += saved;
  }
  tot.optimizedBytes = tot.originalBytes - tot.savedBytes;
  return tot;
}

/** "2.4 MB → 0.6 MB, save 75 %", and the estimated rest, for the summary line. */
export function summaryWords(st) {
  const tot = pageTotal(st);
  if (!(tot.originalBytes > 0)) return { main: '', extra: '', total: tot };
  const main = summaryText(tot.originalBytes, tot.optimizedBytes);
  let extra = '';
  if (tot.unconfirmedBytes > 0) {
    const c = counts(st);
    const lostOnly = c.lost > 0 && c.estimateOnly === 0;
    const more = formatBytes(tot.unconfirmedBytes);
    extra = st.keysGone || lostOnly ? t('progress_extra_gone', more) : t('progress_extra_estimated', more);
  }
  return { main, extra, total: tot };
}

/** The label of "Download all": exactly what the ZIP will hold. */
export function downloadAllLabel(st) {
  const c = counts(st);
  if (!c.downloadable) return t('progress_download_all');
  if (c.downloadable === c.saving && !(st && RUNNING.includes(st.status) && c.unchecked + c.estimateOnly > 0)) {
    return c.downloadable === 1 ? t('progress_download_one') : t('progress_download_all_n', c.downloadable);
  }
  return t('progress_download_verified_of', [c.downloadable, Math.max(c.saving, c.downloadable)]);
}

const verifiedOf = (c) => t('progress_verified_of', [c.ready, c.n]);

/** The progress line's words for a scan's state. */
export function progressWords(st, now = Date.now()) {
  if (!st) return '';
  const c = counts(st);
  const n = c.n;
  switch (st.status) {
    case 'collecting': return t('progress_collecting');
    case 'preparing': return t('progress_preparing');
    case 'scanning':
    case 'canceling': {
      const words = t('progress_counts', [c.estimated, n, c.ready]);
      return st.status === 'canceling' ? `${t('progress_stopping')} ${words}` : words;
    }
    case 'done': {
      if (!n) return t('progress_no_images');
      if (c.final < n) return t('progress_ended', [c.ready, n, n - c.ready]);
      if (!(st.finishedAt && st.startedAt)) return n === 1 ? t('progress_done_one') : t('progress_done_many', n);
      const secs = ((st.finishedAt - st.startedAt) / 1000).toFixed(1);
      return n === 1 ? t('progress_done_one_time', secs) : t('progress_done_many_time', [n, secs]);
    }
    case 'canceled': {
      const parts = [verifiedOf(c)];
      if (c.estimateOnly) parts.push(t('progress_estimate_only', c.estimateOnly));
      if (c.unchecked) parts.push(t('progress_not_checked', c.unchecked));
      return t('progress_stopped', parts.join(', '));
    }
    case 'error': {
      if (!n) return '';
      const parts = [verifiedOf(c)];
      if (c.lost) parts.push(c.lost === 1 ? t('progress_lost_one') : t('progress_lost_many', c.lost));
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
