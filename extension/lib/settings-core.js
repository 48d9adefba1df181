// Per-site settings: defaults, validation, merging, and the scan request's
// settings object. Pure functions; storage lives in ../settings.js.

import { t } from './i18n.js';

/** Output formats the user may allow. */
export const FORMATS = Object.freeze(['jpeg', 'png', 'webp', 'avif', 'gif']);

/** Perceptual targets for quality "auto". */
export const TARGETS = Object.freeze(['high', 'balanced', 'small']);

/** Settings used for a site nobody saved settings for. */
export const DEFAULTS = Object.freeze({
  formats: Object.freeze(['jpeg', 'png', 'webp', 'avif']),
  quality: 'auto',
  target: 'balanced',
  resize: true,
  keepMetadata: false,
  minSavingsBytes: 2048,
  includeBackgrounds: true,
  includeOffscreen: true,
  // The CPU time the helper may spend on one image's verified answer
  // (protocol section 5); when it runs out the row says so.
  imageBudgetSeconds: 20,
  // Responsive variants (srcset widths) cost the helper more encodes per
  // image shown smaller than its pixels, after its main answer; off unless
  // the person asks for markup with srcset.
  variants: false,
});

/** Storage key prefix: one chrome.storage.local entry per host name. */
export const SITE_PREFIX = 'site:';

const MAX_MIN_SAVINGS = 100 * 1024 * 1024;

/**
 * Checks a settings object field by field. Unknown fields are dropped;
 * a bad field is reported and replaced by its default.
 * @returns {{settings: object, errors: string[]}}
 */
export function validateSettings(input) {
  const errors = [];
  const out = { ...DEFAULTS, formats: [...DEFAULTS.formats] };
  if (input == null || typeof input !== 'object' || Array.isArray(input)) {
    if (input != null) errors.push(t('settings_err_object'));
    return { settings: out, errors };
  }
  if ('formats' in input) {
    const f = input.formats;
    if (!Array.isArray(f)) {
      errors.push(t('settings_err_formats_list'));
    } else {
      const picked = FORMATS.filter((x) => f.includes(x));
      const unknown = f.filter((x) => !FORMATS.includes(x));
      if (unknown.length) errors.push(t('settings_err_unknown_format', unknown.map(String).join(', ')));
      if (picked.length === 0) errors.push(t('settings_err_no_format'));
      else out.formats = picked;
    }
  }
  if ('quality' in input) {
    const q = input.quality;
    if (q === 'auto') out.quality = 'auto';
    else if (Number.isInteger(q) && q >= 1 && q <= 100) out.quality = q;
    else if (typeof q === 'string' && /^\d{1,3}$/.test(q) && +q >= 1 && +q <= 100) out.quality = +q;
    else errors.push(t('settings_err_quality'));
  }
  if ('target' in input) {
    if (TARGETS.includes(input.target)) out.target = input.target;
    else errors.push(t('settings_err_target'));
  }
  for (const k of ['resize', 'keepMetadata', 'includeBackgrounds', 'includeOffscreen', 'variants']) {
    if (!(k in input)) continue;
    if (typeof input[k] === 'boolean') out[k] = input[k];
    else errors.push(t('settings_err_bool', k));
  }
  if ('minSavingsBytes' in input) {
    const m = typeof input.minSavingsBytes === 'string' && input.minSavingsBytes.trim() !== ''
      ? Number(input.minSavingsBytes) : input.minSavingsBytes;
    if (Number.isInteger(m) && m >= 0 && m <= MAX_MIN_SAVINGS) out.minSavingsBytes = m;
    else errors.push(t('settings_err_min'));
  }
  if ('imageBudgetSeconds' in input) {
    const s = typeof input.imageBudgetSeconds === 'string' && input.imageBudgetSeconds.trim() !== ''
      ? Number(input.imageBudgetSeconds) : input.imageBudgetSeconds;
    if (typeof s === 'number' && Number.isFinite(s) && s >= 1 && s <= 600) out.imageBudgetSeconds = s;
    else errors.push(t('settings_err_budget'));
  }
  return { settings: out, errors };
}

/** Defaults overlaid with whatever valid fields a saved record holds. */
export function mergeSettings(saved) {
  return validateSettings(saved).settings;
}

/** True when s equals the defaults in every field. */
export function isDefault(s) {
  const v = mergeSettings(s);
  return Object.keys(DEFAULTS).every((k) =>
    Array.isArray(DEFAULTS[k]) ? DEFAULTS[k].join() === v[k].join() : DEFAULTS[k] === v[k]);
}

/** The `settings` object of a scan request (protocol section 1). */
export function scanSettings(s) {
  const v = mergeSettings(s);
  return {
    formats: [...v.formats],
    quality: v.quality,
    target: v.target,
    resize: v.resize,
    keepMetadata: v.keepMetadata,
    minSavingsBytes: v.minSavingsBytes,
    imageBudgetSeconds: v.imageBudgetSeconds,
    variants: v.variants,
  };
}

/**
 * The site a page belongs to: its host name, lowercased, or null for pages
 * that have none (file:, data:, about:).
 */
export function siteOf(pageUrl) {
  try {
    const u = new URL(pageUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** chrome.storage.local key for a site. */
export function siteKey(site) {
  return SITE_PREFIX + site;
}

/** The site named by a storage key, or null when the key is not a site key. */
export function siteFromKey(key) {
  return typeof key === 'string' && key.startsWith(SITE_PREFIX) && key.length > SITE_PREFIX.length
    ? key.slice(SITE_PREFIX.length) : null;
}

/** A one-line description of settings for the options page. */
export function describeSettings(s) {
  const v = mergeSettings(s);
  const parts = [v.formats.map((f) => f.toUpperCase()).join('/')];
  const target = { high: t('settings_target_high'), balanced: t('settings_target_balanced'), small: t('settings_target_small') }[v.target];
  parts.push(v.quality === 'auto' ? t('settings_desc_quality_auto', target) : t('settings_desc_quality', v.quality));
  parts.push(v.resize ? t('settings_desc_resize') : t('settings_desc_no_resize'));
  if (v.keepMetadata) parts.push(t('settings_desc_metadata'));
  if (!v.includeBackgrounds) parts.push(t('settings_desc_no_backgrounds'));
  if (!v.includeOffscreen) parts.push(t('settings_desc_onscreen'));
  if (v.variants) parts.push(t('markup_desc_variants'));
  parts.push(t('settings_desc_min', v.minSavingsBytes));
  if (v.imageBudgetSeconds !== DEFAULTS.imageBudgetSeconds) parts.push(t('settings_desc_budget', v.imageBudgetSeconds));
  return parts.join(', ');
}
