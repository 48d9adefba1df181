// Scan results: merging host messages into per-image rows, totals, sorting,
// reasons and plain-word errors. Pure functions.

import { formatName, dims } from './format.js';
import { t } from './i18n.js';

// The sentence for each error code, as a message key.
const ERROR_KEYS = {
  bad_url: 'result_error_bad_url',
  blocked_address: 'result_error_blocked_address',
  fetch_failed: 'result_error_fetch_failed',
  http_status: 'result_error_http_status',
  timeout: 'result_error_timeout',
  too_large: 'result_error_too_large',
  too_many_pixels: 'result_error_too_many_pixels',
  unsupported_format: 'result_error_unsupported_format',
  decode_failed: 'result_error_decode_failed',
  encode_failed: 'result_error_encode_failed',
  canceled: 'result_error_canceled',
  internal: 'result_error_internal',
};

/**
 * One plain sentence for a failed image. The host's message is used when it
 * is a short single line; otherwise a sentence chosen by the error code.
 */
export function errorText(err, { svg = false } = {}) {
  if (!err) return t('result_error_unknown');
  // An SVG is small as a file; "too many pixels" means the size it declares
  // would be too large to draw, and the sentence should say so.
  if (svg && err.code === 'too_many_pixels') return t('result_error_svg_pixels');
  const m = typeof err.message === 'string' ? err.message.trim() : '';
  if (m && m.length <= 200 && !/[\n\r]/.test(m) && !/(^|\s)\/[\w.-]+\//.test(m)) {
    return /[.!?]$/.test(m) ? m[0].toUpperCase() + m.slice(1) : m[0].toUpperCase() + m.slice(1) + '.';
  }
  if (err.code === 'http_status' && err.httpStatus) return t('result_error_http', err.httpStatus);
  return t(ERROR_KEYS[err.code] ?? 'result_error_generic');
}

/**
 * Why an image got smaller: the host's `reasons` when present, otherwise
 * derived from the original and the best candidate.
 * @returns {string[]} subset of "resize", "format", "compression"
 */
export function reasonsOf(r) {
  if (!r || !r.best || !r.original) return [];
  if (Array.isArray(r.reasons) && r.reasons.length) return r.reasons.filter((x) => typeof x === 'string');
  const out = [];
  const o = r.original;
  const b = r.best;
  if (b.width > 0 && o.width > 0 && (b.width < o.width || b.height < o.height)) out.push('resize');
  if (b.format && o.format && normFormat(b.format) !== normFormat(o.format)) out.push('format');
  if (out.length === 0 || b.bytes < o.bytes) {
    if (!out.includes('resize') && !out.includes('format')) out.push('compression');
  }
  return out;
}

function normFormat(f) {
  f = String(f).toLowerCase();
  return f === 'jpg' ? 'jpeg' : f;
}

/** Human words for reasons, e.g. ["Resized to 800×600", "WebP instead of JPEG"]. */
export function reasonWords(r) {
  return reasonsOf(r).map((x) => {
    if (x === 'resize') return r.best && dims(r.best.width, r.best.height) ? t('result_reason_resize_to', dims(r.best.width, r.best.height)) : t('result_reason_resize');
    if (x === 'format') return t('result_reason_format', [formatName(r.best.format), formatName(r.original.format)]);
    if (x === 'compression') return t('result_reason_compression');
    if (x === 'metadata') return t('result_reason_metadata');
    return x;
  });
}

/**
 * Stores a host `result` in a results array (by its index). A final result
 * is never replaced by a non-final one.
 * @returns {boolean} whether anything changed
 */
export function applyResult(results, msg, offset = 0) {
  const i = offset + msg.index;
  if (!Number.isInteger(i) || i < 0) return false;
  const prev = results[i];
  if (prev && prev.final && !prev.lost && !msg.final) return false;
  results[i] = {
    final: !!msg.final,
    verified: isVerifiedMsg(msg),
    note: typeof msg.note === 'string' && msg.note.trim() ? msg.note.trim() : null,
    status: msg.status,
    url: msg.url,
    original: msg.original ?? null,
    best: msg.best ?? null,
    candidates: msg.candidates ?? [],
    savedBytes: msg.savedBytes ?? 0,
    savedPercent: msg.savedPercent ?? 0,
    reasons: msg.reasons ?? null,
    skipped: Array.isArray(msg.skipped) ? msg.skipped.filter((x) => x && typeof x.reason === 'string') : [],
    error: msg.error ?? null,
  };
  return true;
}

// A host from before protocol section 5's `verified` sends none: its final
// results are the verified ones. An explicit `verified: false` on a final
// result (the exact check could not be made) is kept as an estimate.
function isVerifiedMsg(msg) {
  if (typeof msg.verified === 'boolean') return msg.verified || (msg.final && msg.status === 'error');
  return !!msg.final;
}

/**
 * Page totals from the results known so far: bytes read, bytes after
 * optimization (best where better, original otherwise), counts.
 */
export function totals(results, count) {
  const t = { images: count ?? results.length, finished: 0, optimized: 0, optimal: 0, failed: 0, originalBytes: 0, optimizedBytes: 0, savedBytes: 0 };
  for (const r of results) {
    if (!r) continue;
    if (r.final) t.finished++;
    if (r.status === 'error') {
      if (r.final) t.failed++;
      // A file that was read but failed still weighs on the page (as the host's summary counts it).
      if (r.original && r.original.bytes > 0) { t.originalBytes += r.original.bytes; t.optimizedBytes += r.original.bytes; }
      continue;
    }
    if (!r.original || !(r.original.bytes >= 0)) continue;
    t.originalBytes += r.original.bytes;
    if (r.status === 'optimized' && r.best && r.best.bytes < r.original.bytes) {
      t.optimizedBytes += r.best.bytes;
      if (r.final) t.optimized++;
    } else {
      t.optimizedBytes += r.original.bytes;
      if (r.final) t.optimal++;
    }
  }
  t.savedBytes = t.originalBytes - t.optimizedBytes;
  return t;
}

/** Adds up the `summary` objects of several `done` messages (chunked scans). */
export function mergeSummaries(list) {
  const keys = ['images', 'optimized', 'optimal', 'failed', 'originalBytes', 'optimizedBytes', 'savedBytes'];
  const out = Object.fromEntries(keys.map((k) => [k, 0]));
  out.elapsedMs = 0;
  for (const s of list) {
    if (!s) continue;
    for (const k of keys) out[k] += Number(s[k]) || 0;
    out.elapsedMs = Math.max(out.elapsedMs, Number(s.elapsedMs) || 0);
  }
  return out;
}

const STATUS_RANK = { optimized: 0, pending: 1, optimal: 2, error: 3 };

/** The row status of an image: its result's status, or "pending". */
export function rowStatus(r) {
  return r && r.status in STATUS_RANK ? r.status : 'pending';
}

/**
 * Orders image indexes for display: optimized images by bytes saved (largest
 * first), then pending, then already-optimal, then errors; ties keep page order.
 */
export function sortIndexes(results, count) {
  const idx = Array.from({ length: count }, (_, i) => i);
  return idx.sort((a, b) => {
    const ra = results[a];
    const rb = results[b];
    const sa = STATUS_RANK[rowStatus(ra)];
    const sb = STATUS_RANK[rowStatus(rb)];
    if (sa !== sb) return sa - sb;
    const da = ra?.savedBytes ?? 0;
    const db = rb?.savedBytes ?? 0;
    if (da !== db) return db - da;
    const oa = ra?.original?.bytes ?? 0;
    const ob = rb?.original?.bytes ?? 0;
    if (oa !== ob) return ob - oa;
    return a - b;
  });
}

/**
 * After the helper is gone, the results it took with it: files not yet
 * downloaded (their bytes lived in the helper) and work not finished, on
 * rows it was working on (pending). Verdicts that need no file (already
 * optimal, errors) stay. Rows not being worked on and without a result stay empty.
 * @param {object[]} results per image
 * @param {number} count images
 * @param {Set<number>} [pending] indexes the helper was working on
 * @returns {{results: object[], lost: number}}
 */
export function lostResults(results, count, pending) {
  let lost = 0;
  const out = results.map((r, i) => {
    if (i >= count) return r;
    if (r && r.lost) { lost++; return r; }
    if (r && r.final && (r.status === 'error' || r.status === 'optimal')) return r;
    if (!r && !(pending && pending.has(i))) return r;
    lost++;
    return { ...(r || { status: null, final: false, verified: false, best: null, original: null, savedBytes: 0, savedPercent: 0 }), lost: true };
  });
  return { results: out, lost };
}
