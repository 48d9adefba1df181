// What the popup tells a person whose helper is missing or broken: the step
// that fixes it on their own system (the release package on Linux, the zip
// on Windows), never a developer's build script where a package exists.

import { t } from './i18n.js';

/**
 * The user's system, in chrome.runtime.getPlatformInfo's words ('linux',
 * 'win', 'mac', 'cros'), from a navigator ('' when unknown). Synchronous, so
 * an error can name it at once.
 * @param {{userAgentData?: {platform?: string}, platform?: string}} nav
 */
export function platformOf(nav) {
  const p = String((nav && ((nav.userAgentData && nav.userAgentData.platform) || nav.platform)) || '');
  if (/^win/i.test(p)) return 'win';
  if (/^mac/i.test(p)) return 'mac';
  if (/cros|chrome ?os/i.test(p)) return 'cros';
  if (/linux|x11|bsd/i.test(p)) return 'linux';
  return '';
}

const NAMES = { linux: 'Linux', win: 'Windows', mac: 'macOS', cros: 'ChromeOS' };

/** The name people know os by ('Linux' for 'linux'), or ''. */
export function osName(os) {
  return NAMES[os] || '';
}

/**
 * The helper-related messages for a person on os.
 * @param {string} os as platformOf returns it
 * @returns {{missing: string, forbidden: string, stopped: string, noHello: string, protocol: string}}
 */
export function helperMessages(os) {
  if (os === 'cros') {
    const no = t('helper_cros');
    return { missing: no, forbidden: no, stopped: no, noHello: no, protocol: no };
  }
  // The step that installs (or reinstalls) the helper, and the command that checks it.
  const install = { linux: t('helper_install_linux'), win: t('helper_install_win'), mac: t('helper_install_mac') }[os] ?? t('helper_install_other');
  const doctor = { linux: t('helper_doctor_linux'), win: t('helper_doctor_win'), mac: t('helper_doctor_mac') }[os] ?? t('helper_doctor_other');
  const where = os === 'mac' ? t('helper_where_mac') : NAMES[os] ? t('helper_where_os', NAMES[os]) : t('helper_where_any');
  return {
    missing: t('helper_missing', [where, install]),
    forbidden: t('helper_forbidden', [where, install]),
    stopped: t('helper_stopped', doctor),
    noHello: t('helper_no_hello', doctor),
    protocol: t('helper_protocol', install),
  };
}
