import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { t, fill, useMessages } from '../lib/i18n.js';

const ext = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (lang) => JSON.parse(readFileSync(join(ext, '_locales', lang, 'messages.json'), 'utf8'));
const langs = readdirSync(join(ext, '_locales'));

test('English and at least one more language', () => {
  assert.ok(langs.includes('en'));
  assert.ok(langs.length >= 2, langs.join(','));
});

test('every language has exactly the English keys and the same placeholders', () => {
  const en = load('en');
  for (const lang of langs) {
    const m = load(lang);
    assert.deepEqual(Object.keys(m).sort(), Object.keys(en).sort(), lang);
    for (const [k, v] of Object.entries(en)) {
      const want = Object.keys(v.placeholders || {}).sort();
      assert.deepEqual(Object.keys(m[k].placeholders || {}).sort(), want, `${lang}: ${k}`);
      assert.ok(m[k].message.trim(), `${lang}: ${k} is empty`);
    }
  }
});

test('the manifest names only messages that exist', () => {
  const manifest = readFileSync(join(ext, 'manifest.json'), 'utf8');
  const en = load('en');
  const used = [...manifest.matchAll(/__MSG_(\w+)__/g)].map((m) => m[1]);
  assert.ok(used.length >= 2);
  for (const k of used) assert.ok(en[k], k);
});

test('fill expands numbered and named placeholders as chrome.i18n does', () => {
  assert.equal(fill({ message: 'Saves $1 of $2' }, ['3 kB', '9 kB']), 'Saves 3 kB of 9 kB');
  assert.equal(fill({ message: '$COUNT$ images, $$5', placeholders: { count: { content: '$1' } } }, ['4']), '4 images, $5');
  useMessages({ hello: { message: 'Hello $1' } });
  assert.equal(t('hello', 'you'), 'Hello you');
  assert.equal(t('nope'), 'nope');
  useMessages(null);
});
