// The compare page's logic: which file a row downloads (the person's choice
// among the helper's candidates, else the best), the candidates as a list,
// the keys a row holds, and the settings of a one-image re-encode. Pure
// functions; the page is compare.js, the worker side sw-compare.js.

import { scanSettings, TARGETS } from './settings-core.js';
import { t } from './i18n.js';
import { sortIndexes } from './results.js';

/**
 * The butteraugli distance each target allows (internal/optimize/reference.go:
 * "high" is butteraugli's own "looks the same" 1.0, "balanced" 1.4, "small" 2.2).
 */
export const TARGET_LIMITS = Object.freeze({ high: 1.0, balanced: 1.4, small: 2.2 });

/** Whether a candidate is the result's best (same key, or same format and bytes when keys are missing). */
export function isBest(r, c) {
  const b = r && r.best;
  if (!b || !c) return false;
  if (b.key && c.key) return b.key === c.key;
  return b.format === c.format && b.bytes === c.bytes;
}

/**
 * The file a row downloads: the candidate the person chose (row.chosen, a
 * candidate key, PLAN17 section 2), or the best when nothing was chosen or
 * the choice names no candidate of this result. null when there is no best.
 */
export function chosenFile(r) {
  if (!r || !r.best) return null;
  if (r.chosen) {
    const c = (r.candidates || []).find((x) => x && x.key && x.key === r.chosen);
    if (c) return c;
  }
  return r.best;
}

/** Whether the row's download is a chosen candidate other than the best. */
export function hasChoice(r) {
  const f = chosenFile(r);
  return !!f && f !== r.best;
}

/** Bytes and percent the chosen file saves against the original (negative when larger). */
export function savingOf(r, file = chosenFile(r)) {
  const o = r && r.original && r.original.bytes;
  if (!file || !(o > 0)) return { savedBytes: 0, savedPercent: 0 };
  const saved = o - file.bytes;
  return { savedBytes: saved, savedPercent: (saved / o) * 100 };
}

/**
 * The candidates of a result as rows for the page, smallest first: each
 * with whether it is the best, the chosen one, choosable (its bytes are
 * held: it has a key and the result is a final, verified optimized one; a
 * result still being refined would drop the choice), and its saving
 * against the original.
 */
export function candidateRows(r) {
  if (!r) return [];
  const chosen = chosenFile(r);
  const open = !!r.final && !!r.verified && r.status === 'optimized' && !r.lost;
  return (r.candidates || [])
    .filter((c) => c && c.format && c.bytes > 0)
    .map((c) => ({
      ...c,
      best: isBest(r, c),
      chosen: !!chosen && (chosen === c || (isBest(r, c) && chosen === r.best)),
      choosable: open && !!c.key,
      ...savingOf(r, c),
    }))
    .sort((a, b) => a.bytes - b.bytes || String(a.format).localeCompare(String(b.format)));
}

/**
 * The result with key chosen (null or the best's key: back to the best).
 * Returns null when key names no held candidate of a final, verified optimized result.
 */
export function withChoice(r, key) {
  if (!r || r.status !== 'optimized' || !r.best || !r.final || !r.verified || r.lost) return null;
  if (key == null || key === r.best.key) {
    const { chosen, ...rest } = r;
    return rest;
  }
  if (typeof key !== 'string' || !(r.candidates || []).some((c) => c && c.key === key)) return null;
  return { ...r, chosen: key };
}

/** Every key a result names: its best and its candidates. */
export function resultKeys(r) {
  const out = new Set();
  if (!r) return out;
  if (r.best && r.best.key) out.add(r.best.key);
  for (const c of r.candidates || []) if (c && c.key) out.add(c.key);
  return out;
}

/** The keys any of the given rows still names (rows of every tab's scan). */
export function keysInUse(rows) {
  const out = new Set();
  for (const r of rows) for (const k of resultKeys(r)) out.add(k);
  return out;
}

/**
 * The settings of a one-image re-encode: the scan's own settings with the
 * quality the person picked, a target ("high", "balanced", "small") or a
 * fixed quality (a whole number 1-100).
 * @returns {{settings: object|null, how: object|null, error: string|null}} error is a message key
 */
export function reencodeSettings(base, how) {
  const s = scanSettings(base || {});
  if (how && TARGETS.includes(how.target)) {
    return { settings: { ...s, quality: 'auto', target: how.target }, how: { target: how.target }, error: null };
  }
  const q = how ? Number(how.quality) : NaN;
  if (Number.isInteger(q) && q >= 1 && q <= 100) return { settings: { ...s, quality: q }, how: { quality: q }, error: null };
  return { settings: null, how: null, error: 'compare_redo_bad' };
}

/** The target a result was measured against: its re-encode's, else the scan's; null for a fixed quality. */
export function targetOf(r, settings) {
  const how = r && r.redoneWith;
  if (how) return how.target || null;
  if (settings && settings.quality !== 'auto' && settings.quality != null) return null;
  return (settings && settings.target) || 'balanced';
}

/** The compare page's address for one row of a tab's scan. */
export function compareUrl(tabId, scanId, index) {
  return `compare.html?${new URLSearchParams({ tab: String(tabId), scan: String(scanId), index: String(index) })}`;
}

const TARGET_WORDS = Object.freeze({ high: 'compare_target_high', balanced: 'compare_target_balanced', small: 'compare_target_small' });

/** A target's name for people ("high", "balanced", "small"). */
export function targetWord(target) {
  return TARGET_WORDS[target] ? t(TARGET_WORDS[target]) : String(target);
}

/** "at quality 35" or "at the high target": how a re-encode was asked for. */
export function howWords(how) {
  if (!how) return '';
  return how.quality ? t('compare_how_quality', [String(how.quality)]) : t('compare_how_target', [targetWord(how.target)]);
}

/** Whether a row can be opened in the compare page: a file to show, or an answer already optimal to re-encode. */
export function comparable(r) {
  if (!r || r.lost) return false;
  if (r.status === 'optimized') return !!(r.best && r.best.key);
  return r.status === 'optimal' && !!r.final && !!r.verified;
}

/** The rows the compare page steps through, biggest saving first (as the popup lists them). */
export function compareOrder(results, count) {
  return sortIndexes(results, count).filter((i) => comparable(results[i]));
}
