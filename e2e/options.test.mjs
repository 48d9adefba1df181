// The options page (issue 17, item 6, and item 5's names), with the real
// popup and the real helper: defaults for sites without their own settings
// reach the scan; export then import gives back every setting, and a bad
// file changes nothing; the file-name pattern and folder name the files
// downloaded; the keyboard reaches every control; a German browser gets
// the German popup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, listFiles, readZip, readDownload, sniff, launchPuppeteer, tabWalk, axeProblems, EXT_ID } from './harness.mjs';
import { popupSuite } from './suite.mjs';

const s = popupSuite();
const { skip } = s;
const OPTIONS = `chrome-extension://${EXT_ID}/options.html`;
const stored = () => s.b.sw.evaluate(() => chrome.storage.local.get(null));
const withoutTimes = (all) => JSON.parse(JSON.stringify(all, (k, v) => (k === 'savedAt' ? undefined : v)));
let opts;

test('defaults saved on the options page are what a site without its own settings is scanned with', { skip }, async () => {
  opts = await s.b.browser.newPage();
  await opts.goto(OPTIONS);
  await opts.waitForSelector('#defaults-form input[name=formats]');
  assert.equal(await opts.$eval('[data-testid=defaults-state]', (e) => e.textContent), 'The built-in defaults: every site without its own settings is scanned with these.');
  // Only WebP, no resizing.
  for (const f of ['jpeg', 'png', 'avif']) await opts.click(`#defaults-form input[name=formats][value=${f}]`);
  await opts.click('#defaults-form input[name=resize]');
  await opts.click('[data-testid=save-defaults]');
  await opts.waitForFunction(() => document.getElementById('defaults-msg').textContent !== '');
  const saved = await stored();
  assert.deepEqual(Object.keys(saved), ['defaults']);
  assert.deepEqual(saved.defaults.settings.formats, ['webp']);

  await s.page.goto(`${s.srv.origin}/few.html`);
  await s.page.bringToFront();
  const tabId = await s.tabId();
  const popup = await s.b.openPopup(s.page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 120000 });
  const st = await s.state(tabId);
  assert.equal(st.savedSettings, false, 'the site has no settings of its own');
  assert.deepEqual(st.settings.formats, ['webp']);
  assert.equal(st.settings.resize, false);
  const optimized = st.results.filter((r) => r && r.status === 'optimized');
  assert.ok(optimized.length >= 2);
  for (const r of optimized) {
    assert.equal(r.best.format, 'webp');
    assert.equal(r.best.width, r.original.width, 'not resized');
  }
  // The popup's settings show the defaults in force, and say they are defaults.
  await popup.click('[data-testid=settings]');
  await popup.waitForFunction(() => /^Defaults/.test(document.getElementById('settings-msg').textContent));
  assert.deepEqual(await popup.$$eval('input[name=formats]:checked', (es) => es.map((e) => e.value)), ['webp']);
  assert.equal(await popup.$eval('input[name=resize]', (e) => e.checked), false);
  // Defaults changed after the scan (saved again, as the options page does, without
  // taking the popup's focus away): the rows say they were made with the old ones.
  await s.b.sw.evaluate(async () => {
    const { defaults } = await chrome.storage.local.get('defaults');
    await chrome.storage.local.set({ defaults: { settings: { ...defaults.settings, keepMetadata: true }, savedAt: Date.now() } });
  });
  await popup.waitForFunction(() => /defaults you have since changed/.test(document.querySelector('[data-testid=notice]').textContent), { timeout: 10000 });
  await popup.close();
});

test('the file-name pattern and folder name the downloaded file and the ZIP\'s entries', { skip }, async () => {
  await opts.bringToFront();
  await opts.$eval('[data-testid=pattern]', (e) => { e.value = ''; });
  await opts.type('[data-testid=pattern]', '{name}-{width}x{height}');
  await opts.$eval('[data-testid=folder]', (e) => { e.value = ''; });
  await opts.type('[data-testid=folder]', 'optimized/{site}');
  assert.equal(await opts.$eval('[data-testid=naming-example]', (e) => e.textContent), 'optimized/example.com/harbour-800x533.webp');
  await opts.click('[data-testid=save-naming]');
  await opts.waitForFunction(() => document.getElementById('naming-msg').textContent !== '');
  assert.deepEqual((await stored()).naming, { pattern: '{name}-{width}x{height}', folder: 'optimized/{site}' });

  await s.page.bringToFront();
  const tabId = await s.tabId();
  const st = await s.state(tabId);
  const popup = await s.b.openPopup(s.page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]');
  const first = await popup.$eval('[data-testid=result-row]', (e) => Number(e.dataset.index));
  const r = st.results[first];
  const base = new URL(st.images[first].url).pathname.split('/').pop().replace(/\.\w+$/, '');
  const want = `optimized/127.0.0.1/${base}-${r.best.width}x${r.best.height}.webp`;
  await popup.click('[data-testid=result-row] [data-testid=download]');
  const bytes = await readDownload(s.b.profile.downloads, want, { read: (x) => (x.length === r.best.bytes ? x : null) });
  assert.equal(bytes.length, r.best.bytes);
  assert.equal(sniff(bytes), 'webp');

  await popup.waitForFunction(() => !document.querySelector('[data-testid=result-row] [data-testid=download]').disabled);
  await popup.click('[data-testid=download-all]');
  const zip = 'optimized/127.0.0.1/127.0.0.1-optimized.zip';
  const entries = await readDownload(s.b.profile.downloads, zip, { read: readZip });
  const names = st.results.map((x, i) => (x && x.status === 'optimized' ? `${new URL(st.images[i].url).pathname.split('/').pop().replace(/\.\w+$/, '')}-${x.best.width}x${x.best.height}.webp` : null)).filter(Boolean);
  assert.deepEqual(Object.keys(entries).sort(), names.sort());
  // The markup names the same files.
  const row = `[data-testid=result-row][data-index="${first}"]`;
  await popup.click(`${row} [data-testid=markup-toggle]`);
  const code = await popup.$eval(`${row} [data-testid=markup-code]`, (e) => e.textContent);
  assert.ok(code.includes(`="${base}-${r.best.width}x${r.best.height}.webp"`), code);
  await popup.close();
});

test('export then import gives back every setting; a bad file changes nothing', { skip }, async () => {
  await s.b.sw.evaluate(() => chrome.storage.local.set({ 'site:a.example': { settings: { formats: ['avif'], quality: 60, target: 'balanced', resize: true, keepMetadata: true, minSavingsBytes: 0, imageBudgetSeconds: 20, includeBackgrounds: false, includeOffscreen: true, variants: false }, savedAt: 1 } }));
  await opts.bringToFront();
  await opts.waitForSelector('[data-testid=site-row][data-site="a.example"]');
  const before = withoutTimes(await stored());
  assert.deepEqual(Object.keys(before).sort(), ['defaults', 'naming', 'site:a.example']);
  const seen = new Set(listFiles(s.b.profile.downloads));
  await opts.click('[data-testid=export]');
  const file = await waitFor(() => listFiles(s.b.profile.downloads).find((f) => !seen.has(f) && f.endsWith('.json')), { what: 'the exported file', timeout: 15000 });
  assert.match(file, /^image-diet-settings-\d{4}-\d\d-\d\d\.json$/);
  const data = await readDownload(s.b.profile.downloads, file, { read: (x) => JSON.parse(x.toString('utf8')) });
  assert.equal(data.format, 'image-diet-settings');
  assert.deepEqual(Object.keys(data.sites), ['a.example']);

  // Everything forgotten, then the file brought back.
  await opts.click('[data-testid=reset-defaults]');
  await opts.click('[data-testid=reset-naming]');
  await opts.click('[data-testid=clear-all]');
  await waitFor(async () => Object.keys(await stored()).length === 0, { what: 'storage emptied' });
  const input = await opts.$('[data-testid=import-file]');
  await input.uploadFile(join(s.b.profile.downloads, file));
  await opts.waitForFunction(() => document.querySelector('[data-testid=file-msg]').textContent !== '');
  assert.equal(await opts.$eval('[data-testid=file-msg]', (e) => e.textContent), 'Imported: the defaults, the file names, 1 site.');
  assert.deepEqual(withoutTimes(await stored()), before);
  await opts.waitForSelector('[data-testid=site-row][data-site="a.example"]');
  assert.equal(await opts.$eval('[data-testid=pattern]', (e) => e.value), '{name}-{width}x{height}');

  // A file with errors: every error named, nothing stored changes.
  const bad = join(s.b.profile.dir, 'bad-settings.json');
  writeFileSync(bad, JSON.stringify({ ...data, defaults: { formats: [] }, sites: { 'b.example': { quality: 'loud' } } }));
  await (await opts.$('[data-testid=import-file]')).uploadFile(bad);
  await opts.waitForSelector('[data-testid=file-error]:not([hidden])');
  const msg = await opts.$eval('[data-testid=file-error]', (e) => e.textContent);
  assert.equal(msg, 'This file was not imported, and nothing changed: Defaults: Choose at least one format. b.example: Quality must be "auto" or a whole number from 1 to 100.');
  writeFileSync(bad, 'not json');
  await (await opts.$('[data-testid=import-file]')).uploadFile(bad);
  await opts.waitForFunction(() => /not JSON/.test(document.querySelector('[data-testid=file-error]').textContent));
  assert.deepEqual(withoutTimes(await stored()), before);
});

test('keyboard only: Tab reaches every control of the options page, each with visible focus; axe-core finds nothing serious', { skip }, async () => {
  await opts.reload();
  await opts.waitForSelector('#defaults-form input[name=formats]');
  const seen = await tabWalk(opts);
  for (const id of ['formats', 'qualityMode', 'minSavingsBytes', 'imageBudgetSeconds', 'resize', 'save-defaults', 'reset-defaults', 'pattern', 'folder', 'save-naming', 'reset-naming', 'forget', 'clear-all', 'export', 'import']) {
    assert.ok(seen.has(id), `Tab reached ${id} (went through ${[...seen.keys()]})`);
    assert.equal(seen.get(id), true, `${id} shows its focus`);
  }
  assert.deepEqual(await axeProblems(opts), [], 'axe-core on the options page');
  await opts.close();
});

test('in a German browser the popup speaks German', { skip }, async () => {
  const de = await launchPuppeteer({ args: ['--lang=de'], env: { LANGUAGE: 'de', LANG: 'de_DE.UTF-8' } });
  try {
    const page = await de.browser.newPage();
    await page.goto(`${s.srv.origin}/few.html`);
    const popup = await de.openPopup(page);
    await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 120000 });
    const words = await popup.evaluate(() => ({
      lang: document.documentElement.lang,
      settings: document.querySelector('[data-testid=settings]').textContent,
      progress: document.getElementById('progress-text').textContent,
      download: document.querySelector('[data-testid=download-all]').textContent,
      sort: document.querySelector('[data-testid=sort] option[value=size]').textContent,
      copy: document.querySelector('[data-testid=copy-urls]').textContent,
      error: document.querySelector('[data-testid=error]')?.textContent,
      row: document.querySelector('[data-testid=result-row] [data-testid=download]').textContent,
    }));
    assert.equal(words.lang, 'de');
    assert.equal(words.settings, 'Einstellungen');
    assert.match(words.progress, /^Fertig: 3 Bilder in [\d.]+ s$/);
    assert.match(words.download, /^Alle \d+ herunterladen \(ZIP\)$/);
    assert.equal(words.sort, 'Größte Dateien');
    assert.equal(words.copy, 'URLs kopieren');
    assert.equal(words.row, 'Herunterladen');
    // The longer German words still fit a 360 px wide popup.
    const tabId = await de.sw.evaluate(async () => (await chrome.tabs.query({ url: 'http://127.0.0.1/*' }))[0].id);
    const narrow = await de.browser.newPage();
    await narrow.setViewport({ width: 360, height: 640 });
    await narrow.goto(`chrome-extension://${EXT_ID}/popup.html?tab=${tabId}`);
    await narrow.waitForSelector('[data-testid=progress][data-state=done]');
    await narrow.click('[data-testid=filter-toggle]');
    const cut = await narrow.evaluate(() => [...document.querySelectorAll('button, select, input, summary, .saving, .summary, .name')]
      .filter((e) => e.offsetParent !== null).map((e) => [e.dataset.testid || e.id || e.className, e.getBoundingClientRect()])
      .filter(([, r]) => r.left < 0 || r.right > innerWidth + 0.5).map(([n, r]) => `${n} ${r.left}-${r.right}`));
    assert.deepEqual(cut, [], 'German at 360 px');
    assert.ok(await narrow.evaluate(() => document.documentElement.scrollWidth <= innerWidth));
    const opt = await de.browser.newPage();
    await opt.goto(OPTIONS);
    await opt.waitForSelector('#defaults-form input[name=formats]');
    assert.equal(await opt.$eval('h1', (e) => e.textContent), 'Image Diet – Optionen');
    assert.equal(await opt.$eval('[data-testid=export]', (e) => e.textContent), 'Einstellungen exportieren…');
  } finally {
    await de.close();
  }
});
