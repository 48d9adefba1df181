// Settings in chrome.storage.local, each written only when the person saves
// it: one key per site ("site:<host>"), the defaults for sites without
// their own ("defaults"), and the file-name pattern and download folder
// ("naming"). Nothing else is ever stored in chrome.storage.local.

import { t } from './lib/i18n.js';
import { mergeSettings, validateSettings, siteKey, siteFromKey, DEFAULTS, DEFAULTS_KEY, NAMING_KEY, settingsFile, readSettingsFile } from './lib/settings-core.js';
import { validateNaming } from './lib/naming.js';

export { DEFAULTS };

/**
 * Settings for a site: the saved ones merged over the defaults (the
 * person's, from the options page, else the built-in ones).
 * @returns {Promise<{settings: object, saved: boolean}>}
 */
export async function loadSite(site) {
  const key = site ? siteKey(site) : null;
  const got = await chrome.storage.local.get(key ? [key, DEFAULTS_KEY] : [DEFAULTS_KEY]);
  const base = mergeSettings(got[DEFAULTS_KEY] && got[DEFAULTS_KEY].settings);
  const rec = key ? got[key] : undefined;
  return { settings: mergeSettings(rec && rec.settings, base), saved: !!rec };
}

/**
 * The defaults for sites without their own settings.
 * @returns {Promise<{settings: object, saved: boolean}>} saved: the person set them
 */
export async function loadDefaults() {
  const rec = (await chrome.storage.local.get(DEFAULTS_KEY))[DEFAULTS_KEY];
  return { settings: mergeSettings(rec && rec.settings), saved: !!rec };
}

/** Validates and saves the defaults; errors non-empty means nothing was saved. */
export async function saveDefaults(input) {
  const { settings, errors } = validateSettings(input);
  if (!errors.length) await chrome.storage.local.set({ [DEFAULTS_KEY]: { settings, savedAt: Date.now() } });
  return { settings, errors };
}

/** Back to the built-in defaults. */
export async function resetDefaults() {
  await chrome.storage.local.remove(DEFAULTS_KEY);
}

/** The file-name pattern and download folder. */
export async function loadNaming() {
  return validateNaming((await chrome.storage.local.get(NAMING_KEY))[NAMING_KEY]).naming;
}

/** Validates and saves the file-name pattern and folder; errors non-empty means nothing was saved. */
export async function saveNaming(input) {
  const { naming, errors } = validateNaming(input);
  if (!errors.length) await chrome.storage.local.set({ [NAMING_KEY]: naming });
  return { naming, errors };
}

/** Back to today's names and folder. */
export async function resetNaming() {
  await chrome.storage.local.remove(NAMING_KEY);
}

/** Everything stored, as a settings file's object (lib/settings-core.js settingsFile). */
export async function exportAll() {
  const all = await chrome.storage.local.get(null);
  const sites = {};
  for (const [k, v] of Object.entries(all)) if (siteFromKey(k)) sites[siteFromKey(k)] = v && v.settings;
  return settingsFile({ defaults: all[DEFAULTS_KEY] && all[DEFAULTS_KEY].settings, naming: all[NAMING_KEY] || null, sites });
}

/**
 * Imports a settings file's text: its defaults, naming and sites replace
 * the ones stored under the same keys; other saved sites stay. A file with
 * any error changes nothing.
 * @returns {Promise<{errors: string[], sites?: number, defaults?: boolean, naming?: boolean}>}
 */
export async function importAll(text) {
  const f = readSettingsFile(text);
  if (f.errors.length) return { errors: f.errors };
  const now = Date.now();
  const set = {};
  if (f.defaults) set[DEFAULTS_KEY] = { settings: f.defaults, savedAt: now };
  if (f.naming) set[NAMING_KEY] = f.naming;
  for (const [site, settings] of Object.entries(f.sites)) set[siteKey(site)] = { settings, savedAt: now };
  if (Object.keys(set).length) await chrome.storage.local.set(set);
  return { errors: [], sites: Object.keys(f.sites).length, defaults: !!f.defaults, naming: !!f.naming };
}

/**
 * Validates and saves settings for a site.
 * @returns {Promise<{settings: object, errors: string[]}>} errors non-empty means nothing was saved
 */
export async function saveSite(site, input) {
  if (!site) return { settings: mergeSettings(input), errors: [t('settings_err_no_site')] };
  const { settings, errors } = validateSettings(input);
  if (errors.length) return { settings, errors };
  await chrome.storage.local.set({ [siteKey(site)]: { settings, savedAt: Date.now() } });
  return { settings, errors };
}

/** Removes a site's saved settings ("forget this site"). */
export async function forgetSite(site) {
  if (site) await chrome.storage.local.remove(siteKey(site));
}

/** Removes every saved site. */
export async function clearAll() {
  const all = await chrome.storage.local.get(null);
  const keys = Object.keys(all).filter((k) => siteFromKey(k) !== null);
  if (keys.length) await chrome.storage.local.remove(keys);
}

/** Every saved site with its settings, sorted by name. */
export async function listSites() {
  const all = await chrome.storage.local.get(null);
  return Object.entries(all)
    .map(([k, v]) => ({ site: siteFromKey(k), settings: mergeSettings(v && v.settings), savedAt: v && v.savedAt }))
    .filter((x) => x.site)
    .sort((a, b) => a.site.localeCompare(b.site));
}
