// Per-site settings in chrome.storage.local: one key per host name
// ("site:<host>"), written only when the user saves. Nothing else is ever
// stored in chrome.storage.local.

import { t } from './lib/i18n.js';
import { mergeSettings, validateSettings, siteKey, siteFromKey, DEFAULTS } from './lib/settings-core.js';

export { DEFAULTS };

/**
 * Settings for a site: the saved ones merged over the defaults.
 * @returns {Promise<{settings: object, saved: boolean}>}
 */
export async function loadSite(site) {
  if (!site) return { settings: mergeSettings(undefined), saved: false };
  const key = siteKey(site);
  const got = await chrome.storage.local.get(key);
  const rec = got[key];
  return { settings: mergeSettings(rec && rec.settings), saved: !!rec };
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
