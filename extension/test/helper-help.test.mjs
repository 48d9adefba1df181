import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { platformOf, osName, helperMessages } from '../lib/helper-help.js';

test('platformOf reads userAgentData first, then navigator.platform', () => {
  const cases = [
    [{ userAgentData: { platform: 'Linux' } }, 'linux'],
    [{ userAgentData: { platform: 'Windows' }, platform: 'Linux x86_64' }, 'win'],
    [{ userAgentData: { platform: 'macOS' } }, 'mac'],
    [{ userAgentData: { platform: 'Chrome OS' } }, 'cros'],
    [{ userAgentData: { platform: 'ChromeOS' } }, 'cros'],
    [{ platform: 'Win32' }, 'win'],
    [{ platform: 'MacIntel' }, 'mac'],
    [{ platform: 'Linux aarch64' }, 'linux'],
    [{ userAgentData: { platform: '' }, platform: 'X11' }, 'linux'],
    [{}, ''],
    [undefined, ''],
  ];
  for (const [nav, want] of cases) assert.equal(platformOf(nav), want, JSON.stringify(nav));
  assert.equal(osName('win'), 'Windows');
  assert.equal(osName('nope'), '');
});

test('the missing-helper message names the OS and its package, never the build script where a package exists', () => {
  const linux = helperMessages('linux');
  assert.match(linux.missing, /^Image Diet's helper is not installed on this Linux computer\./);
  assert.ok(linux.missing.includes('sudo apt install ./imgdiet-host_*.deb'));
  assert.ok(linux.missing.includes('sudo dnf install ./imgdiet-host-*.rpm'));
  assert.match(linux.missing, /then reload the extension\.$/);
  const win = helperMessages('win');
  assert.match(win.missing, /on this Windows computer/);
  assert.ok(win.missing.includes('imgdiet-host_*_windows_amd64.zip') && win.missing.includes('install.ps1'));
  for (const m of [linux, win]) {
    for (const [kind, text] of Object.entries(m)) assert.doesNotMatch(text, /scripts\/install\.sh/, kind);
  }
  assert.match(linux.stopped, /imgdiet-host doctor/);
  assert.match(win.noHello, /imgdiet-host\.exe doctor/);
  // macOS has no package: the message says so plainly.
  assert.match(helperMessages('mac').missing, /on this Mac\. .*no macOS package yet.*scripts\/install\.sh/);
  assert.match(helperMessages('cros').missing, /cannot run on ChromeOS/);
  assert.match(helperMessages('').missing, /not installed on this computer\. To add it, install the imgdiet-host package for your system/);
});
