// Per-site settings: defaults, validation, merging, and the scan request's
// settings object. Pure functions; storage lives in ../settings.js.

import { t } from './i18n.js';
import { validateNaming } from './naming.js';

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

/** Storage key of the person's defaults (options page): settings for sites without their own. */
export const DEFAULTS_KEY = 'defaults';

/** Storage key of the file-name pattern and download folder (options page). */
export const NAMING_KEY = 'naming';

/**
 * Checks a settings object field by field. Unknown fields are dropped;
 * a bad field is reported and replaced by its default (base's, when given:
 * the person's defaults).
 * @returns {{settings: object, errors: string[]}}
 */
export function validateSettings(input, base = DEFAULTS) {
  const errors = [];
  const out = { ...base, formats: [...base.formats] };
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

/** Defaults (base, or the built-in ones) overlaid with whatever valid fields a saved record holds. */
export function mergeSettings(saved, base = DEFAULTS) {
  return validateSettings(saved, base === DEFAULTS ? DEFAULTS : validateSettings(base).settings).settings;
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

// ---- settings files (options page: export and import) ----------------------

/** What a settings file says it is. */
export const FILE_FORMAT = 'image-diet-settings';
const FILE_VERSION = 1;
const MAX_FILE_CHARS = 1024 * 1024;
const MAX_SITES = 5000;

/** The file's object for what is stored: the defaults and naming (null when never set) and every saved site. */
export function settingsFile({ defaults = null, naming = null, sites = {} }, now = new Date()) {
  return {
    format: FILE_FORMAT, version: FILE_VERSION, exported: now.toISOString(),
    defaults: defaults ? mergeSettings(defaults) : null,
    naming: naming ? validateNaming(naming).naming : null,
    sites: Object.fromEntries(Object.entries(sites).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, mergeSettings(v)])),
  };
}

/** Whether s is a site as the popup saves it: a lowercase host name. */
function isSite(s) {
  return typeof s === 'string' && s.length <= 253 && siteOf(`https://${s}/`) === s;
}

/**
 * Reads a settings file's text. Every part is checked before anything is
 * used: a file with any error gives its errors and no settings.
 * @returns {{errors: string[], defaults?: object|null, naming?: object|null, sites?: Object<string, object>}}
 */
export function readSettingsFile(text) {
  if (typeof text !== 'string' || text.length > MAX_FILE_CHARS) return { errors: [t('options_import_too_large')] };
  let data;
  try { data = JSON.parse(text); } catch { return { errors: [t('options_import_not_json')] }; }
  if (!data || typeof data !== 'object' || Array.isArray(data) || data.format !== FILE_FORMAT) return { errors: [t('options_import_not_ours')] };
  if (data.version !== FILE_VERSION) return { errors: [t('options_import_version', String(data.version))] };
  const errors = [];
  const part = (where, list) => { for (const e of list) errors.push(t('options_import_in', [where, e])); };
  let defaults = null;
  if (data.defaults != null) {
    const v = validateSettings(data.defaults);
    if (typeof data.defaults !== 'object' || Array.isArray(data.defaults)) part(t('options_defaults_name'), [t('settings_err_object')]);
    else part(t('options_defaults_name'), v.errors);
    defaults = v.settings;
  }
  let naming = null;
  if (data.naming != null) {
    const v = validateNaming(data.naming);
    part(t('options_naming_name'), v.errors);
    naming = v.naming;
  }
  const sites = {};
  if (data.sites != null) {
    if (typeof data.sites !== 'object' || Array.isArray(data.sites)) errors.push(t('options_import_sites_object'));
    else if (Object.keys(data.sites).length > MAX_SITES) errors.push(t('options_import_sites_many', String(MAX_SITES)));
    else {
      for (const [site, v] of Object.entries(data.sites)) {
        if (!isSite(site)) { errors.push(t('options_import_bad_site', site.slice(0, 80))); continue; }
        if (!v || typeof v !== 'object' || Array.isArray(v)) { part(site, [t('settings_err_object')]); continue; }
        const c = validateSettings(v);
        part(site, c.errors);
        sites[site] = c.settings;
      }
    }
  }
  return errors.length ? { errors } : { errors, defaults, naming, sites };
}
