// The options page's pure parts: defaults under a site's settings, the
// file-name pattern and folder, and settings files (export, import checks).
import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { validateNaming, patternStem, namedStems, folderFor, downloadPath, rowStems, stemFileName, NAMING_DEFAULTS } from '../lib/naming.js';
import { mergeSettings, validateSettings, settingsFile, readSettingsFile, DEFAULTS } from '../lib/settings-core.js';

test('the default pattern and folder give today\'s names and paths exactly', () => {
  const images = [{ url: 'https://s.example/a/photo.jpg' }, { url: 'https://s.example/b/photo.jpg' }, { url: 'https://s.example/x', name: null }];
  const results = [{ best: { width: 10, height: 5, format: 'webp' } }];
  assert.deepEqual(namedStems(images, { naming: NAMING_DEFAULTS, site: 's.example', results }), rowStems(images));
  assert.deepEqual(namedStems(images), rowStems(images));
  assert.equal(downloadPath('s.example', 'photo.webp', NAMING_DEFAULTS), downloadPath('s.example', 'photo.webp'));
  assert.equal(downloadPath('s.example', 'photo.webp'), 'Image Diet/s.example/photo.webp');
  assert.equal(downloadPath(null, 'a.zip', NAMING_DEFAULTS), 'Image Diet/page/a.zip');
});

test('a pattern fills its tokens from the row and its file; names stay apart', () => {
  const vars = { width: 800, height: 533, format: 'jpeg', index: 2, site: 'news.example' };
  assert.equal(patternStem('harbour', '{name}-{width}x{height}', vars), 'harbour-800x533');
  assert.equal(patternStem('harbour', '{site}_{index}_{name}.{format}', vars), 'news.example_3_harbour.jpg');
  assert.equal(patternStem('harbour', '{index}', vars), '3');
  assert.equal(patternStem('harbour', '{name}-{width}', {}), 'harbour-', 'an unknown width is empty');
  assert.ok(new TextEncoder().encode(patternStem('x'.repeat(70), '{name}-{name}', vars)).length <= 90, 'cut to leave room for -<w>w.<ext>');
  const images = [{ url: 'https://s/a.jpg' }, { url: 'https://s/A.png' }, { url: 'https://s/b.jpg' }];
  const results = [{ best: { width: 10, height: 10, format: 'webp' } }, { best: { width: 10, height: 10, format: 'webp' } }, null];
  const stems = namedStems(images, { naming: { pattern: '{name}-{width}', folder: '' }, site: 's', results });
  assert.deepEqual(stems, ['a-10', 'A-2-10', 'b-']);
  assert.equal(stemFileName(stems[0], 'webp'), 'a-10.webp');
});

test('folders: {site}, nested parts made safe, empty is the downloads folder', () => {
  assert.equal(folderFor('s.example', { folder: 'Image Diet/{site}' }), 'Image Diet/s.example');
  assert.equal(folderFor('s.example', { folder: 'web/{site}/opt' }), 'web/s.example/opt');
  assert.equal(folderFor('s.example', { folder: '' }), '');
  assert.equal(downloadPath('s.example', 'a.jpg', { folder: '' }), 'a.jpg');
  assert.equal(folderFor('s.example', { folder: 'a:b/c*d' }), 'a_b/c_d');
});

test('validateNaming refuses what would escape or collide, and keeps the defaults', () => {
  const bad = (x) => { const v = validateNaming(x); assert.ok(v.errors.length, JSON.stringify(x)); assert.deepEqual(v.naming, NAMING_DEFAULTS); return v.errors[0]; };
  assert.match(bad({ folder: '../outside' }), /inside your downloads/);
  assert.match(bad({ folder: 'a/./b' }), /inside your downloads/);
  assert.match(bad({ folder: '/etc' }), /inside your downloads/);
  assert.match(bad({ folder: 'C:\\x' }), /inside your downloads/);
  assert.match(bad({ folder: '{name}' }), /\{site\} only/);
  assert.match(bad({ folder: 'a/b/c/d/e/f' }), /at most 5 levels/);
  assert.match(bad({ pattern: '{width}' }), /\{name\} or \{index\}/);
  assert.match(bad({ pattern: '{name}-{colour}' }), /Unknown token.*\{colour\}/);
  assert.match(bad({ pattern: 'a/{name}' }), /cannot hold/);
  assert.match(bad({ pattern: '' }), /1 to 100/);
  assert.match(bad('x'), /object/);
  assert.deepEqual(validateNaming({ pattern: ' {name}-{width}w ', folder: 'x\\\\y//{site}' }), { naming: { pattern: '{name}-{width}w', folder: 'x/y/{site}' }, errors: [] });
  assert.deepEqual(validateNaming(undefined), { naming: { ...NAMING_DEFAULTS }, errors: [] });
});

test('the person\'s defaults fill what a site left unset', () => {
  const mine = mergeSettings({ formats: ['webp'], resize: false });
  assert.deepEqual(mergeSettings(undefined, mine).formats, ['webp']);
  assert.equal(mergeSettings({ resize: true }, mine).resize, true);
  assert.deepEqual(mergeSettings({ resize: true }, mine).formats, ['webp']);
  assert.deepEqual(validateSettings({}, mine).settings, mine);
  assert.deepEqual(mergeSettings(undefined), { ...DEFAULTS, formats: [...DEFAULTS.formats] });
});

test('a settings file round-trips; a bad one names every error and gives nothing', () => {
  const file = settingsFile({ defaults: { formats: ['avif'] }, naming: { pattern: '{index}-{name}', folder: 'x' }, sites: { 'b.example': { quality: 50 }, 'a.example': {} } }, new Date(0));
  assert.equal(file.exported, '1970-01-01T00:00:00.000Z');
  assert.deepEqual(Object.keys(file.sites), ['a.example', 'b.example']);
  const back = readSettingsFile(JSON.stringify(file));
  assert.deepEqual(back.errors, []);
  assert.deepEqual(back.defaults, file.defaults);
  assert.deepEqual(back.naming, file.naming);
  assert.deepEqual(back.sites, file.sites);
  const none = readSettingsFile(JSON.stringify({ ...file, defaults: null, naming: null, sites: {} }));
  assert.deepEqual([none.defaults, none.naming, none.sites], [null, null, {}]);

  const err = (x) => readSettingsFile(typeof x === 'string' ? x : JSON.stringify(x));
  assert.deepEqual(err('{').errors, ['The file is not JSON.']);
  assert.deepEqual(err({ hello: 1 }).errors, ['The file is not an Image Diet settings file.']);
  assert.match(err({ ...file, version: 7 }).errors[0], /version 7/);
  const many = err({ ...file, defaults: { formats: ['bmp'] }, naming: { folder: '..' }, sites: { 'Bad Site': {}, 'ok.example': { quality: 500 }, 'x.example': [] } });
  assert.equal(many.defaults, undefined);
  assert.equal(many.sites, undefined);
  assert.deepEqual(many.errors, [
    'Defaults: Unknown format: bmp.',
    'Defaults: Choose at least one format.',
    'File names: The folder must be inside your downloads folder: no leading /, no drive letter, no . or .. parts.',
    '“Bad Site” is not a site name.',
    'ok.example: Quality must be "auto" or a whole number from 1 to 100.',
    'x.example: Settings must be an object.',
  ]);
  assert.match(err('x'.repeat(2 * 1024 * 1024)).errors[0], /too large/);
  assert.match(err({ ...file, sites: [] }).errors[0], /object of site names/);
});
