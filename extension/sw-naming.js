// The file-name pattern and download folder in the service worker: read
// from chrome.storage.local once, then kept in step with the options page,
// so a download or a popup already open uses what the person set last.

import { NAMING_DEFAULTS, validateNaming } from './lib/naming.js';
import { NAMING_KEY } from './lib/settings-core.js';

let naming = NAMING_DEFAULTS;

/** Resolves once the stored naming has been read. */
export const namingReady = chrome.storage.local.get(NAMING_KEY)
  .then((got) => { naming = validateNaming(got[NAMING_KEY]).naming; })
  .catch(() => {});

/** The naming in force: {pattern, folder}. */
export function currentNaming() {
  return naming;
}

/** Calls changed() whenever the person saves, resets or imports a naming. */
export function watchNaming(changed) {
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area !== 'local' || !changes[NAMING_KEY]) return;
    naming = validateNaming(changes[NAMING_KEY].newValue).naming;
    changed();
  });
}
