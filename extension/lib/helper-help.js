// What the popup tells a person whose helper is missing or broken: the step
// that fixes it on their own system (the release package on Linux, the zip
// on Windows), never a developer's build script where a package exists.

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
  let install; // the step that installs (or reinstalls) the helper
  let doctor; // the command that checks it
  switch (os) {
    case 'linux':
      install = 'install the imgdiet-host package from the Image Diet release: sudo apt install ./imgdiet-host_*.deb (Fedora, openSUSE: sudo dnf install ./imgdiet-host-*.rpm)';
      doctor = 'run imgdiet-host doctor in a terminal';
      break;
    case 'win':
      install = 'download imgdiet-host_*_windows_amd64.zip from the Image Diet release, unzip it and run install.ps1';
      doctor = 'run %LOCALAPPDATA%\\ImageDiet\\imgdiet-host.exe doctor';
      break;
    case 'mac':
      install = 'there is no macOS package yet: build and install it from the Image Diet source with scripts/install.sh';
      doctor = 'run imgdiet-host doctor in Terminal';
      break;
    case 'cros': {
      const no = "Image Diet's helper cannot run on ChromeOS: it is a program for Windows, macOS and Linux.";
      return { missing: no, forbidden: no, stopped: no, noHello: no, protocol: no };
    }
    default:
      install = 'install the imgdiet-host package for your system from the Image Diet release';
      doctor = 'run imgdiet-host doctor';
  }
  const where = os === 'mac' ? 'this Mac' : NAMES[os] ? `this ${NAMES[os]} computer` : 'this computer';
  return {
    missing: `Image Diet's helper is not installed on ${where}. To add it, ${install}, then reload the extension.`,
    forbidden: `Image Diet's helper on ${where} is registered for a different copy of the extension. Reinstall it (${install}), then reload the extension.`,
    stopped: `Image Diet's helper stopped unexpectedly. Click Scan again to restart it; if it keeps happening, ${doctor}.`,
    noHello: `Image Diet's helper did not answer. Click Scan again; if it keeps happening, ${doctor}.`,
    protocol: `Image Diet's helper is a different version than the extension. Install the matching helper (${install}), then reload the extension.`,
  };
}
