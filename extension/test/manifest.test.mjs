import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ext = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(ext, 'manifest.json'), 'utf8'));

test('the key yields the fixed extension ID', () => {
  const der = Buffer.from(manifest.key, 'base64');
  const hex = createHash('sha256').update(der).digest('hex').slice(0, 32);
  const id = [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
  assert.equal(id, 'fmeiijmoogoohmijkjchgkjnaeljpcno');
});

test('permissions are exactly the narrow set, no host permissions', () => {
  assert.deepEqual([...manifest.permissions].sort(), ['activeTab', 'downloads', 'nativeMessaging', 'scripting', 'storage']);
  assert.equal(manifest.host_permissions, undefined);
  assert.equal(manifest.optional_host_permissions, undefined);
  assert.equal(manifest.content_scripts, undefined, 'nothing is injected without a click');
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.browser_specific_settings.gecko.id, 'imagediet@imagediet.app');
});

test('the CSP allows only packaged scripts', () => {
  const csp = manifest.content_security_policy.extension_pages;
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /object-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-(eval|inline)|https?:\/\/[^ ;]*\s*;?\s*script/);
});

test('every file the manifest names exists', () => {
  const files = [manifest.background.service_worker, manifest.action.default_popup, manifest.options_ui.page,
    ...Object.values(manifest.icons), ...Object.values(manifest.action.default_icon)];
  for (const f of files) assert.ok(existsSync(join(ext, f)), f);
});

test('every extension script parses, and pages load no remote code', () => {
  const scripts = [...readdirSync(ext).filter((f) => f.endsWith('.js')).map((f) => join(ext, f)),
    ...readdirSync(join(ext, 'lib')).map((f) => join(ext, 'lib', f))];
  for (const f of scripts) execFileSync(process.execPath, ['--check', f]);
  for (const page of ['popup.html', 'options.html']) {
    const html = readFileSync(join(ext, page), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*src="[\w./-]+")/, `${page}: inline script`);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, `${page}: remote resource`);
    assert.doesNotMatch(html, /\son\w+=/, `${page}: inline handler`);
  }
});
