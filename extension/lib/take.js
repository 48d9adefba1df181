// Choosing what to take from a scan: the order and filter of the popup's
// rows, and the selection that "Download selected" and "Copy URLs" act on.
// Pure functions over the scan state the popup holds; ../popup-take.js
// draws the controls.

import { sortIndexes, reasonsOf } from './results.js';
import { canDownload } from './progress.js';
import { rowHints } from './hints.js';
import { DEFAULTS } from './settings-core.js';

/** The orders a person can pick. */
export const SORTS = Object.freeze(['savings', 'size', 'name', 'position']);

/** Hint codes a row may carry (the collector's delivery hints). */
export const HINT_CODES = Object.freeze(['offscreen-eager', 'no-dimensions', 'lcp-lazy', 'lcp-no-fetchpriority', 'animated-gif']);

/** Reasons a row got smaller (results.reasonsOf's words). */
export const REASONS = Object.freeze(['resize', 'format', 'compression', 'metadata']);

/** Original formats the type filter offers. */
export const TYPES = Object.freeze(['jpeg', 'png', 'webp', 'avif', 'gif', 'svg']);

/** Filters that let every row through. */
export const NO_FILTER = Object.freeze({ type: '', minSavedBytes: 0, reason: '', hint: '' });

const norm = (f) => {
  const s = String(f || '').toLowerCase();
  return s === 'jpg' ? 'jpeg' : s;
};

/** The hint codes of row i, as the row shows them (lib/hints.js). */
export function hintsOf(st, i) {
  const min = st?.settings?.minSavingsBytes ?? DEFAULTS.minSavingsBytes;
  return rowHints(st?.images?.[i], st?.results?.[i], { minSavingsBytes: min }).map((h) => h.code);
}

/** How many filters are set. */
export function activeFilters(f = NO_FILTER) {
  return (f.type ? 1 : 0) + (f.minSavedBytes > 0 ? 1 : 0) + (f.reason ? 1 : 0) + (f.hint ? 1 : 0);
}

/**
 * Whether row i passes the filters. type: the original's format; minSavedBytes:
 * a smaller file saving at least that much; reason: one of REASONS among why
 * it got smaller; hint: a hint code, or "any" for a row with some hint.
 */
export function passes(st, i, f = NO_FILTER) {
  const r = st.results[i];
  if (f.type && norm(r?.original?.format) !== f.type) return false;
  const saved = r && r.status === 'optimized' && r.best ? r.savedBytes || 0 : 0;
  if (f.minSavedBytes > 0 && !(saved >= f.minSavedBytes)) return false;
  if (f.reason && !(saved > 0 && reasonsOf(r).includes(f.reason))) return false;
  if (f.hint) {
    const h = hintsOf(st, i);
    if (f.hint === 'any' ? !h.length : !h.includes(f.hint)) return false;
  }
  return true;
}

/**
 * The rows to show, in order: sort "savings" is the popup's own order
 * (smaller files by bytes saved, then pending, optimal, errors); "size" the
 * originals' bytes, largest first; "name" the rows' labels; "position" the
 * page's order. Ties keep the page's order.
 * @param {object} st the scan state ({images, results})
 * @param {{sort?: string, filters?: object, labels?: string[]}} how
 * @returns {number[]} indexes
 */
export function arrange(st, { sort = 'savings', filters = NO_FILTER, labels = [] } = {}) {
  const n = st?.images?.length ?? 0;
  let idx;
  if (sort === 'size') {
    const bytes = (i) => st.results[i]?.original?.bytes ?? -1;
    idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => bytes(b) - bytes(a) || a - b);
  } else if (sort === 'name') {
    const coll = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
    idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => coll.compare(labels[a] ?? '', labels[b] ?? '') || a - b);
  } else if (sort === 'position') {
    idx = Array.from({ length: n }, (_, i) => i);
  } else {
    idx = sortIndexes(st.results, n);
  }
  return idx.filter((i) => passes(st, i, filters));
}

/**
 * The popup's selection. Until the person picks, every row is selected,
 * rows still to come included ("all"); after that, exactly the rows picked.
 */
export class Selection {
  constructor() { this.reset(); }

  /** Back to every row. */
  reset() {
    this.all = true;
    this.set = new Set(); // exceptions while all, picks otherwise
  }

  /** Whether row i is selected. */
  has(i) {
    return this.all ? !this.set.has(i) : this.set.has(i);
  }

  /** Selects or unselects rows. */
  setMany(indexes, on) {
    for (const i of indexes) {
      if (this.all === on) this.set.delete(i);
      else this.set.add(i);
    }
  }

  /** No row at all, rows still to come included. */
  clear() {
    this.all = false;
    this.set = new Set();
  }

  /** Flips row i. */
  toggle(i) {
    this.setMany([i], !this.has(i));
  }

  /** Whether nothing was ever unselected: the "all" of today's button. */
  untouched() {
    return this.all && this.set.size === 0;
  }

  /** "all", "none" or "some" of the given rows. */
  stateOf(indexes) {
    const k = indexes.filter((i) => this.has(i)).length;
    if (!indexes.length || k === 0) return 'none';
    return k === indexes.length ? 'all' : 'some';
  }
}

/**
 * The rows "Download selected" puts in the ZIP: shown, selected and
 * downloadable now, in page order (the order names are made unique in).
 */
export function downloadSelection(st, shown, sel) {
  if (!st) return [];
  const on = new Set(shown);
  const out = [];
  st.results.forEach((r, i) => { if (on.has(i) && sel.has(i) && canDownload(r, st.keysGone)) out.push(i); });
  return out;
}

/**
 * The original URLs of the shown and selected rows, in the order shown,
 * one per line. Inline SVGs have no URL of their own and are left out.
 */
export function urlsOf(st, shown, sel) {
  return shown.filter((i) => sel.has(i) && st.images[i] && !st.images[i].name).map((i) => st.images[i].url);
}
