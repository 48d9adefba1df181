// Numbers and words shown to the user. Pure functions.

import { t } from './i18n.js';

const UNITS = ['B', 'kB', 'MB', 'GB'];

/** Media type of each output format. */
export const MIME = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', svg: 'image/svg+xml' };

/** Picks the unit (index into B, kB, MB, GB; powers of 1000) that suits n bytes. */
export function unitFor(n) {
  let u = 0;
  let v = Math.abs(n);
  while (v >= 1000 && u < UNITS.length - 1) { v /= 1000; u++; }
  return u;
}

/**
 * Formats a byte count: "512 B", "4.2 kB", "2.4 MB". With a unit given,
 * uses it (so two numbers side by side share one unit).
 */
export function formatBytes(n, unit) {
  if (!Number.isFinite(n)) return '—';
  const u = unit ?? unitFor(n);
  if (u === 0) return `${Math.round(n)} B`;
  const v = n / 1000 ** u;
  const digits = Math.abs(v) >= 100 ? 0 : 1;
  return `${v.toFixed(digits)} ${UNITS[u]}`;
}

/** Percent saved, rounded to a whole number, never below 0. */
export function percentSaved(original, optimized) {
  if (!(original > 0)) return 0;
  return Math.max(0, Math.round(((original - optimized) / original) * 100));
}

/** "2.4 MB → 0.6 MB, save 75 %" for a page total. */
export function summaryText(originalBytes, optimizedBytes) {
  const u = unitFor(Math.max(originalBytes, optimizedBytes));
  return t('progress_summary', [formatBytes(originalBytes, u), formatBytes(optimizedBytes, u), percentSaved(originalBytes, optimizedBytes)]);
}

const FORMAT_NAMES = { jpeg: 'JPEG', jpg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', gif: 'GIF', svg: 'SVG', bmp: 'BMP', tiff: 'TIFF', heif: 'HEIF', jxl: 'JPEG XL' };

/** Display name of a format ("webp" → "WebP"). */
export function formatName(f) {
  if (!f) return '?';
  return FORMAT_NAMES[String(f).toLowerCase()] ?? String(f).toUpperCase();
}

/** "1600×1200" or "" when unknown. */
export function dims(w, h) {
  return w > 0 && h > 0 ? `${w}×${h}` : '';
}
