// Per-site settings: defaults, validation, merging, and the scan request's
// settings object. Pure functions; storage lives in ../settings.js.

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
    if (input != null) errors.push('Settings must be an object.');
    return { settings: out, errors };
  }
  if ('formats' in input) {
    const f = input.formats;
    if (!Array.isArray(f)) {
      errors.push('Formats must be a list.');
    } else {
      const picked = FORMATS.filter((x) => f.includes(x));
      const unknown = f.filter((x) => !FORMATS.includes(x));
      if (unknown.length) errors.push(`Unknown format: ${unknown.map(String).join(', ')}.`);
      if (picked.length === 0) errors.push('Choose at least one format.');
      else out.formats = picked;
    }
  }
  if ('quality' in input) {
    const q = input.quality;
    if (q === 'auto') out.quality = 'auto';
    else if (Number.isInteger(q) && q >= 1 && q <= 100) out.quality = q;
    else if (typeof q === 'string' && /^\d{1,3}$/.test(q) && +q >= 1 && +q <= 100) out.quality = +q;
    else errors.push('Quality must be "auto" or a whole number from 1 to 100.');
  }
  if ('target' in input) {
    if (TARGETS.includes(input.target)) out.target = input.target;
    else errors.push('Target must be high, balanced or small.');
  }
  for (const k of ['resize', 'keepMetadata', 'includeBackgrounds', 'includeOffscreen', 'variants']) {
    if (!(k in input)) continue;
    if (typeof input[k] === 'boolean') out[k] = input[k];
    else errors.push(`${k} must be true or false.`);
  }
  if ('minSavingsBytes' in input) {
    const m = typeof input.minSavingsBytes === 'string' && input.minSavingsBytes.trim() !== ''
      ? Number(input.minSavingsBytes) : input.minSavingsBytes;
    if (Number.isInteger(m) && m >= 0 && m <= MAX_MIN_SAVINGS) out.minSavingsBytes = m;
    else errors.push('Minimum saving must be a whole number of bytes, 0 or more.');
  }
  if ('imageBudgetSeconds' in input) {
    const t = typeof input.imageBudgetSeconds === 'string' && input.imageBudgetSeconds.trim() !== ''
      ? Number(input.imageBudgetSeconds) : input.imageBudgetSeconds;
    if (typeof t === 'number' && Number.isFinite(t) && t >= 1 && t <= 600) out.imageBudgetSeconds = t;
    else errors.push('Time per image must be from 1 to 600 seconds.');
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
  parts.push(v.quality === 'auto' ? `quality auto (${v.target})` : `quality ${v.quality}`);
  parts.push(v.resize ? 'resize' : 'no resize');
  if (v.keepMetadata) parts.push('keep metadata');
  if (!v.includeBackgrounds) parts.push('no CSS backgrounds');
  if (!v.includeOffscreen) parts.push('on-screen only');
  if (v.variants) parts.push('responsive variants');
  parts.push(`min saving ${v.minSavingsBytes} B`);
  if (v.imageBudgetSeconds !== DEFAULTS.imageBudgetSeconds) parts.push(`${v.imageBudgetSeconds} s per image`);
  return parts.join(', ');
}
