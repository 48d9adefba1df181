// The popup tells the truth (issue 18, items 5-8) and passes an axe-core
// accessibility check, with the real toolbar click, popup and helper:
//   5. only images the page really uses are counted;
//   6. compare opens in view from any row, with focus in and back, and zoom;
//   7. messages say what is true and what to do;
//   8. layout reflows to 360 px, names are told apart, details are readable,
//      "Forget this site" does not leave rows of forgotten settings, errors show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { EXT_ID, ROOT } from './harness.mjs';
import { popupSuite } from './suite.mjs';

const s = popupSuite();
const { skip } = s;
const tabIdOf = s.tabId;
const swState = s.state;
const ended = (popup, timeout = 90000) => popup.waitForSelector('[data-testid=progress]:is([data-state=done],[data-state=canceled],[data-state=error])', { timeout });

/** Scans url through the toolbar click; resolves with the popup once the scan has ended. */
async function scan(url) {
  await s.page.goto(url);
  const popup = await s.b.openPopup(s.page);
  await ended(popup);
  return popup;
}

test('5: picture sources this window would not load are listed apart and not counted; a 0×0 image is marked', { skip }, async () => {
  const popup = await scan(`${s.srv.origin}/sources.html`);
  const st = await swState(await tabIdOf());
  const o = s.srv.origin;
  const urls = st.images.map((im) => im.url).sort();
  assert.deepEqual(urls, [`${o}/img/plain-src.jpg`, `${o}/img/small-zero-size.png`, `${o}/img/src-used.png`]);
  assert.deepEqual(st.images.find((im) => im.url.endsWith('src-used.png')).kinds, ['picture']);
  assert.deepEqual([...st.others].sort(), [`${o}/img/src-huge-screen.png`, `${o}/img/src-odd-type.png`]);
  // The other sources are shown, apart, and said not to count.
  assert.equal(await popup.$eval('[data-testid=other-sources]', (e) => e.hidden), false);
  assert.match(await popup.$eval('#others-summary', (e) => e.textContent), /not loaded at this window size \(2, not counted\)/);
  // The summary total is the sum of the listed rows' originals, nothing more.
  const orig = st.results.reduce((n, r) => n + (r.original ? r.original.bytes : 0), 0);
  const shown = await popup.$eval('[data-testid=scan-summary]', (e) => e.textContent);
  assert.ok(shown.startsWith(`${(orig / 1000).toFixed(orig >= 100000 ? 0 : 1)} kB →`), `${shown} for ${orig} bytes`);
  const zero = await popup.$$eval('[data-testid=result-row]', (es) => es.map((e) => e.innerText).find((t) => t.includes('small-zero-size')));
  assert.match(zero, /not displayed/);
  await popup.close();
});

test('6: compare opens in view from a row below the fold, takes focus, gives it back, and zooms', { skip }, async () => {
  const popup = await scan(`${s.srv.origin}/photos.html?n=10&w=100&cmp=1`);
  const last = await popup.$$eval('[data-testid=result-row][data-state=verified]', (es) => Number(es[es.length - 1].dataset.index));
  const row = `[data-testid=result-row][data-index="${last}"]`;
  await popup.$eval(row, (e) => e.scrollIntoView({ block: 'end' }));
  const scrolled = await popup.evaluate(() => window.scrollY);
  assert.ok(scrolled > 100, `the row is below the fold (scrolled ${scrolled} px)`);
  // A click on the row opens the quick look in the popup (its Compare button opens the large page in a tab).
  await popup.click(`${row} .name`);
  await popup.waitForFunction(() => document.getElementById('cmp-after').complete && document.getElementById('cmp-after').naturalWidth > 0, { timeout: 15000 });
  const box = await popup.$eval('[data-testid=compare]', (e) => { const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, vh: window.innerHeight }; });
  assert.ok(box.top >= 0 && box.bottom <= box.vh, `compare in view: ${JSON.stringify(box)}`);
  assert.equal(await popup.evaluate(() => document.getElementById('compare').contains(document.activeElement)), true, 'focus moved into it');
  // 1:1 and 2×: the optimized file's pixels at one and two screen pixels each.
  const st = await swState(await tabIdOf());
  const best = st.results[last].best;
  await popup.click('[data-testid=zoom-1]');
  const one = await popup.$eval('#cmp-after', (e) => [e.getBoundingClientRect().width * devicePixelRatio, e.getBoundingClientRect().height * devicePixelRatio]);
  assert.deepEqual(one.map(Math.round), [best.width, best.height]);
  await popup.click('[data-testid=zoom-2]');
  const two = await popup.$eval('#cmp-after', (e) => e.getBoundingClientRect().width * devicePixelRatio);
  assert.equal(Math.round(two), 2 * best.width);
  assert.equal(await popup.$eval('[data-testid=zoom-2]', (e) => e.getAttribute('aria-pressed')), 'true');
  await popup.keyboard.press('Escape');
  assert.equal(await popup.$eval('[data-testid=compare]', (e) => e.hidden), true);
  assert.equal(await popup.evaluate((sel) => document.activeElement === document.querySelector(sel), row), true, 'focus back on the row');
  await popup.close();
});

test('7: messages say what is true: blank page, local file, nothing found, a saving under the minimum', { skip }, async () => {
  // about:blank: this page has nothing to scan.
  await s.page.goto('about:blank');
  let popup = await s.b.openPopup(s.page);
  await popup.waitForSelector('[data-testid=scan-error]:not([hidden])', { timeout: 20000 });
  assert.match(await popup.$eval('[data-testid=scan-error]', (e) => e.textContent), /^This page has nothing Image Diet can scan/);
  await popup.close();
  // An error page (nothing listens on port 1) says the same, not "click while the page is open".
  await s.page.goto('http://127.0.0.1:1/').catch(() => {});
  popup = await s.b.openPopup(s.page);
  await popup.waitForSelector('[data-testid=scan-error]:not([hidden])', { timeout: 20000 });
  assert.match(await popup.$eval('[data-testid=scan-error]', (e) => e.textContent), /^This page has nothing Image Diet can scan/);
  await popup.close();

  // A page from a local file: why its images cannot be checked.
  const dir = mkdtempSync(join(tmpdir(), 'imagediet-local-'));
  try {
    copyFileSync(join(ROOT, 'e2e', 'fixtures', 'photo.jpg'), join(dir, 'photo.jpg'));
    writeFileSync(join(dir, 'page.html'), '<!doctype html><title>local</title><img src="photo.jpg" width="200" height="150" alt="">');
    await s.page.goto(`file://${dir}/page.html`);
    popup = await s.b.openPopup(s.page);
    await popup.waitForSelector('[data-testid=scan-error]:not([hidden])', { timeout: 20000 });
    const msg = await popup.$eval('[data-testid=scan-error]', (e) => e.textContent);
    assert.match(msg, /file on your computer/);
    assert.doesNotMatch(await popup.$eval('#progress-text', (e) => e.textContent), /No images found/);
    await popup.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // A page without images: one clear line, no bar, no disabled button.
  popup = await scan(`${s.srv.origin}/`);
  assert.equal(await popup.$eval('#progress-text', (e) => e.textContent), 'No images found on this page.');
  assert.equal(await popup.$eval('[data-testid=progress]', (e) => e.hidden), true);
  assert.equal(await popup.$eval('[data-testid=download-all]', (e) => e.offsetParent === null), true);
  await popup.close();

  // Savings under the site's minimum are not "Already optimal".
  await s.b.sw.evaluate(() => chrome.storage.local.set({ 'site:127.0.0.1': { settings: { minSavingsBytes: 50000000 }, savedAt: 1 } }));
  try {
    popup = await scan(`${s.srv.origin}/few.html?min=1`);
    const texts = await popup.$$eval('[data-testid=result-row][data-status=optimal] [data-testid=row-state]', (es) => es.map((e) => e.textContent));
    assert.equal(texts.length, 2);
    for (const t of texts) assert.equal(t, 'Saves less than 50 MB');
    await popup.close();
  } finally {
    await s.b.sw.evaluate(() => chrome.storage.local.clear());
  }
});

test('8: reflows to 360 px; same names told apart; details ≥ 12 px; forget rescans; the formats error comes and goes', { skip }, async () => {
  const popup = await scan(`${s.srv.origin}/dups.html`);
  const tabId = await tabIdOf();
  const names = await popup.$$eval('[data-testid=result-row] .name', (es) => es.map((e) => e.textContent).sort());
  assert.deepEqual(names, ['lighthouse-480x320 ?w=240', 'lighthouse-480x320 ?w=480&q=30', 'lighthouse-480x320 ?w=480&q=80']);
  const small = await popup.$$eval('.meta, .why, .note, .state-word, .small, .saving span, figcaption', (es) => es.map((e) => parseFloat(getComputedStyle(e).fontSize)));
  assert.ok(small.length > 0 && small.every((px) => px >= 12), `font sizes ${small}`);
  await popup.close();

  // The same popup in a 360 and a 400 px wide view: nothing cut off.
  const tab = await s.b.browser.newPage();
  for (const width of [360, 400]) {
    await tab.setViewport({ width, height: 640 });
    await tab.goto(`chrome-extension://${EXT_ID}/popup.html?tab=${tabId}`);
    await tab.waitForSelector('[data-testid=progress][data-state=done]');
    const bad = await tab.evaluate(() => {
      const out = [];
      if (document.documentElement.scrollWidth > innerWidth) out.push(`page ${document.documentElement.scrollWidth} px wide`);
      for (const e of document.querySelectorAll('button, .saving, .summary, .name')) {
        if (e.offsetParent === null) continue;
        const r = e.getBoundingClientRect();
        if (r.left < 0 || r.right > innerWidth + 0.5) out.push(`${e.id || e.className || e.tagName} ${r.left}-${r.right}`);
      }
      return out;
    });
    assert.deepEqual(bad, [], `at ${width} px`);
  }
  await tab.close();

  // Settings: the formats error is an error, and goes once fixed; forgetting
  // the site's settings scans again with the defaults.
  await s.page.bringToFront();
  const p2 = await s.b.openPopup(s.page);
  await ended(p2);
  await p2.click('[data-testid=settings]');
  await p2.waitForSelector('#settings-panel:not([hidden])');
  for (const f of ['jpeg', 'png', 'webp', 'avif']) await p2.click(`input[name=formats][value=${f}]`);
  await p2.click('[data-testid=save-settings]');
  await p2.waitForSelector('[data-testid=settings-error]:not([hidden])');
  assert.match(await p2.$eval('[data-testid=settings-error]', (e) => `${e.getAttribute('role')} ${e.textContent}`), /^alert .*format/i);
  await p2.click('input[name=formats][value=webp]');
  await p2.waitForSelector('[data-testid=settings-error][hidden]');
  const first = (await swState(tabId)).scanId;
  await p2.$eval('input[name=imageBudgetSeconds]', (e) => { e.value = '45'; });
  await p2.click('[data-testid=save-settings]');
  await p2.waitForFunction(() => document.getElementById('settings-msg').textContent.includes('Scanning again'));
  await ended(p2);
  const webpOnly = await swState(tabId);
  assert.notEqual(webpOnly.scanId, first);
  assert.deepEqual(webpOnly.settings.formats, ['webp']);
  assert.equal(webpOnly.settings.imageBudgetSeconds, 45, 'the time per image goes to the helper');
  await p2.click('[data-testid=forget-site]');
  await p2.waitForFunction(() => /scanning again with the defaults/.test(document.getElementById('settings-msg').textContent));
  const forgotten = await (async () => {
    for (let k = 0; k < 100; k++) {
      const cur = await swState(tabId);
      if (cur.scanId !== webpOnly.scanId) return cur;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  })();
  assert.ok(forgotten, 'a new scan started');
  assert.deepEqual(forgotten.settings.formats, ['jpeg', 'png', 'webp', 'avif']);
  assert.deepEqual(await s.b.sw.evaluate(() => chrome.storage.local.get(null)), {});
  await ended(p2);
  // Forgotten elsewhere (the options page): the rows on show are marked.
  await s.b.sw.evaluate(async (id) => {
    await chrome.storage.local.set({ 'site:127.0.0.1': { settings: { formats: ['png'] }, savedAt: 1 } });
    await imagediet.startScan(id);
  }, tabId);
  await s.b.sw.evaluate((id) => new Promise((resolve) => {
    const t = setInterval(() => { if (imagediet.states.get(id)?.status === 'done') { clearInterval(t); resolve(); } }, 50);
  }), tabId);
  await s.b.sw.evaluate(() => chrome.storage.local.remove('site:127.0.0.1'));
  await p2.waitForFunction(() => /computed with settings you have since forgotten/.test(document.querySelector('[data-testid=notice]').textContent));
  await p2.close();
});

test('axe-core: no serious or critical violations in the popup, light and dark', { skip }, async () => {
  const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const popup = await scan(`${s.srv.origin}/few.html?axe=1`);
  const problems = [];
  for (const scheme of ['light', 'dark']) {
    await popup.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    // Settings open and a comparison open, so their controls are checked too.
    if (await popup.$eval('#settings-panel', (e) => e.hidden)) await popup.click('[data-testid=settings]');
    await popup.click('[data-testid=result-row][data-state=verified] .name');
    await popup.waitForSelector('[data-testid=compare]:not([hidden])');
    await popup.evaluate(axe);
    const v = await popup.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
      .map((x) => ({ id: x.id, impact: x.impact, nodes: x.nodes.map((n) => n.target.join(' ')).slice(0, 3) })));
    for (const x of v) console.log(`# axe ${scheme}: ${x.impact} ${x.id} ${x.nodes.join(', ')}`);
    problems.push(...v.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => `${scheme}: ${x.id} (${x.nodes.join(', ')})`));
    await popup.keyboard.press('Escape');
  }
  assert.deepEqual(problems, []);
  await popup.close();
});
