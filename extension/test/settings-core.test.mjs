import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { DEFAULTS, validateSettings, mergeSettings, scanSettings, siteOf, siteKey, siteFromKey, isDefault, describeSettings } from '../lib/settings-core.js';

test('defaults come back for nothing saved', () => {
  assert.deepEqual(mergeSettings(undefined), { ...DEFAULTS, formats: [...DEFAULTS.formats] });
  assert.equal(isDefault({}), true);
});

test('validation keeps good fields and reports bad ones', () => {
  const cases = [
    [{ quality: 70 }, { quality: 70 }, 0],
    [{ quality: '55' }, { quality: 55 }, 0],
    [{ quality: 0 }, { quality: 'auto' }, 1],
    [{ quality: 101 }, { quality: 'auto' }, 1],
    [{ quality: 7.5 }, { quality: 'auto' }, 1],
    [{ target: 'small' }, { target: 'small' }, 0],
    [{ target: 'tiny' }, { target: 'balanced' }, 1],
    [{ formats: ['webp', 'jpeg'] }, { formats: ['jpeg', 'webp'] }, 0],
    [{ formats: [] }, { formats: ['jpeg', 'png', 'webp', 'avif'] }, 1],
    [{ formats: ['webp', 'bmp'] }, { formats: ['webp'] }, 1],
    [{ formats: 'webp' }, { formats: ['jpeg', 'png', 'webp', 'avif'] }, 1],
    [{ resize: false, keepMetadata: true }, { resize: false, keepMetadata: true }, 0],
    [{ resize: 'no' }, { resize: true }, 1],
    [{ minSavingsBytes: 0 }, { minSavingsBytes: 0 }, 0],
    [{ minSavingsBytes: '4096' }, { minSavingsBytes: 4096 }, 0],
    [{ minSavingsBytes: -1 }, { minSavingsBytes: 2048 }, 1],
    [{ includeOffscreen: false, includeBackgrounds: false }, { includeOffscreen: false, includeBackgrounds: false }, 0],
    [{ bogus: 1 }, {}, 0],
  ];
  for (const [input, want, nerr] of cases) {
    const { settings, errors } = validateSettings(input);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(settings[k], v, JSON.stringify(input));
    assert.equal(errors.length, nerr, JSON.stringify(input) + ' ' + errors.join());
    assert.equal('bogus' in settings, false);
  }
  assert.equal(validateSettings([1]).errors.length, 1);
});

test('scan settings carry exactly the protocol fields', () => {
  const s = scanSettings({ formats: ['webp'], quality: 60, resize: false, includeBackgrounds: false });
  assert.deepEqual(s, { formats: ['webp'], quality: 60, target: 'balanced', resize: false, keepMetadata: false, minSavingsBytes: 2048, imageBudgetSeconds: 20, variants: false });
});

test('responsive variants: off by default, a boolean, sent to the helper', () => {
  assert.equal(DEFAULTS.variants, false);
  assert.equal(scanSettings({ variants: true }).variants, true);
  assert.deepEqual(validateSettings({ variants: 'yes' }).errors, ['variants must be true or false.']);
  assert.match(describeSettings({ variants: true }), /responsive variants/);
  assert.doesNotMatch(describeSettings({}), /variants/);
});

test('time per image: 1 to 600 seconds', () => {
  assert.equal(validateSettings({ imageBudgetSeconds: '90' }).settings.imageBudgetSeconds, 90);
  assert.equal(validateSettings({ imageBudgetSeconds: 1.5 }).settings.imageBudgetSeconds, 1.5);
  for (const bad of [0, 601, 'x', null, -3]) {
    const { settings, errors } = validateSettings({ imageBudgetSeconds: bad });
    assert.equal(settings.imageBudgetSeconds, 20);
    assert.deepEqual(errors, ['Time per image must be from 1 to 600 seconds.']);
  }
  assert.match(describeSettings({ imageBudgetSeconds: 60 }), /60 s per image$/);
});

test('site names and keys', () => {
  assert.equal(siteOf('https://WWW.Example.com:8443/a?b#c'), 'www.example.com');
  assert.equal(siteOf('http://127.0.0.1:8080/x'), '127.0.0.1');
  assert.equal(siteOf('file:///tmp/a.html'), null);
  assert.equal(siteOf('chrome://settings'), null);
  assert.equal(siteOf('not a url'), null);
  assert.equal(siteKey('example.com'), 'site:example.com');
  assert.equal(siteFromKey('site:example.com'), 'example.com');
  assert.equal(siteFromKey('scan:1'), null);
  assert.equal(siteFromKey('site:'), null);
});

test('settings description mentions changed choices', () => {
  const d = describeSettings({ formats: ['webp'], quality: 50, keepMetadata: true, includeOffscreen: false });
  assert.match(d, /WEBP/);
  assert.match(d, /quality 50/);
  assert.match(d, /keep metadata/);
  assert.match(d, /on-screen only/);
});
