// The real popup, opened by the toolbar click: progress, results, errors,
// downloads, keyboard, closing mid-scan, the helper stopping, settings.
// Driven with puppeteer-core (the popup is a real extension popup here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPuppeteer, skipReason, waitFor, listFiles, readZip, sniff, decodeInPage, hostPids, EXT_ID } from './harness.mjs';
import { startServer } from './server.mjs';

const skip = skipReason() || false;
if (skip) console.log(`# SKIP e2e: ${skip}`);

let srv;
let b;
let page;
before(async () => {
  if (skip) return;
  srv = await startServer();
  b = await launchPuppeteer();
  page = await b.browser.newPage();
});
after(async () => {
  await b?.close();
  await srv?.close();
});

const tabIdOf = async () => b.sw.evaluate(async () => (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0].id);
const swState = (tabId) => b.sw.evaluate((id) => {
  const s = imagediet.states.get(id);
  return s ? JSON.parse(JSON.stringify(s)) : null;
}, tabId);
const MIME = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif', svg: 'image/svg+xml' };

let tabId;
let popup;

test('the popup shows progress, the page total and a row per image', { skip }, async () => {
  await page.goto(`${srv.origin}/few.html`);
  tabId = await tabIdOf();
  popup = await b.openPopup(page);
  // Progress is shown while the scan runs, then complete.
  await popup.waitForSelector('[data-testid=progress]');
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 90000 });
  const prog = await popup.$eval('[data-testid=progress]', (p) => [p.value, p.max]);
  assert.deepEqual(prog, [6, 6], 'every image estimated and verified');
  const summary = await popup.$eval('[data-testid=scan-summary]', (e) => e.textContent);
  assert.match(summary, /^[\d.]+ (kB|MB) → [\d.]+ (B|kB|MB), save \d+ %$/);
  const rows = await popup.$$eval('[data-testid=result-row]', (es) => es.map((e) => ({ status: e.dataset.status, text: e.innerText, err: e.querySelector('[data-testid=error]')?.textContent ?? null, hasDownload: !!e.querySelector('[data-testid=download]') })));
  assert.equal(rows.length, 3);
  // Sorted by saving: optimized first, the failed one last with a plain message.
  assert.deepEqual(rows.map((r) => r.status), ['optimized', 'optimized', 'error']);
  assert.equal(rows[2].err, 'The server answered 404.');
  assert.ok(rows[0].hasDownload && rows[1].hasDownload && !rows[2].hasDownload);
  const st = await swState(tabId);
  const saved = st.results.filter((r) => r.status === 'optimized').map((r) => r.savedBytes).sort((a, b2) => b2 - a);
  const shown = await popup.$$eval('[data-testid=result-row][data-status=optimized]', (es) => es.map((e) => Number(e.dataset.index)));
  assert.deepEqual(shown.map((i) => st.results[i].savedBytes), saved);
  assert.match(rows[0].text, /instead of|Resized|compression/i, 'says why');
  const shot = join(tmpdir(), 'imagediet-e2e-popup.png');
  await popup.screenshot({ path: shot });
  console.log(`# popup screenshot: ${shot}`);
});

test('keyboard: arrows move between rows, Enter opens the comparison', { skip }, async () => {
  await popup.focus('[data-testid=result-row]');
  await popup.keyboard.press('ArrowDown');
  const idx = await popup.evaluate(() => [...document.querySelectorAll('[data-testid=result-row]')].indexOf(document.activeElement));
  assert.equal(idx, 1);
  await popup.keyboard.press('ArrowUp');
  await popup.keyboard.press('Enter');
  await popup.waitForSelector('[data-testid=compare]:not([hidden])');
  await popup.waitForFunction(() => document.getElementById('cmp-after').src.startsWith('blob:') && document.getElementById('cmp-after').complete && document.getElementById('cmp-after').naturalWidth > 0, { timeout: 10000 });
  await popup.keyboard.press('Escape');
  assert.equal(await popup.$eval('[data-testid=compare]', (e) => e.hidden), true);
});

test('Download saves the optimized file under Image Diet/<site>/ with a decodable body', { skip }, async () => {
  const st = await swState(tabId);
  const first = await popup.$eval('[data-testid=result-row]', (e) => Number(e.dataset.index));
  const r = st.results[first];
  const base = new URL(st.images[first].url).pathname.split('/').pop().replace(/\.\w+$/, '');
  const ext = r.best.format === 'jpeg' ? 'jpg' : r.best.format;
  await popup.click('[data-testid=result-row] [data-testid=download]');
  const want = `Image Diet/127.0.0.1/${base}.${ext}`;
  await waitFor(() => listFiles(b.profile.downloads).includes(want), { what: want, timeout: 15000 });
  const bytes = readFileSync(join(b.profile.downloads, want));
  assert.equal(bytes.length, r.best.bytes);
  assert.equal(sniff(bytes), r.best.format);
  const dims = await decodeInPage(page, bytes, MIME[r.best.format]);
  assert.deepEqual(dims, { width: r.best.width, height: r.best.height });
});

test('Download all (ZIP) holds every optimized file', { skip }, async () => {
  const st = await swState(tabId);
  const optimized = st.results.filter((r) => r && r.status === 'optimized');
  await popup.click('[data-testid=download-all]');
  const want = 'Image Diet/127.0.0.1/127.0.0.1-optimized.zip';
  await waitFor(() => listFiles(b.profile.downloads).includes(want), { what: want, timeout: 15000 });
  const entries = await readZip(readFileSync(join(b.profile.downloads, want)));
  const names = Object.keys(entries).sort();
  assert.equal(names.length, optimized.length);
  for (const r of optimized) {
    const ext = r.best.format === 'jpeg' ? 'jpg' : r.best.format;
    const base = new URL(r.url).pathname.split('/').pop().replace(/\.\w+$/, '');
    const data = entries[`${base}.${ext}`];
    assert.ok(data, `${base}.${ext} in ${names}`);
    assert.equal(data.length, r.best.bytes);
    const dims = await decodeInPage(page, data, MIME[r.best.format]);
    assert.deepEqual(dims, { width: r.best.width, height: r.best.height });
  }
});

test('the worker can download on its own through a data: URL', { skip }, async () => {
  const st = await swState(tabId);
  const i = st.results.findIndex((r) => r && r.status === 'optimized');
  const before = new Set(listFiles(b.profile.downloads));
  await b.sw.evaluate((id, index) => imagediet.downloadInWorker(id, { index }), tabId, i);
  const added = await waitFor(() => listFiles(b.profile.downloads).find((f) => !before.has(f)), { what: 'worker download' });
  const bytes = readFileSync(join(b.profile.downloads, added));
  assert.equal(bytes.length, st.results[i].best.bytes);
  assert.equal(sniff(bytes), st.results[i].best.format);
  assert.ok(added.startsWith('Image Diet/127.0.0.1/'), added);
});

test('closing the popup mid-scan keeps the scan', { skip }, async () => {
  await popup.close();
  await page.goto(`${srv.origin}/slow.html?n=6&ms=1500`, { waitUntil: 'domcontentloaded' });
  popup = await b.openPopup(page);
  await popup.waitForSelector('[data-testid=progress][data-state=scanning]', { timeout: 30000 });
  const scanId = (await swState(tabId)).scanId;
  await popup.close();
  const st = await waitFor(async () => { const s = await swState(tabId); return s.status === 'done' && s; }, { timeout: 60000, what: 'scan to finish without the popup' });
  assert.equal(st.scanId, scanId);
  assert.ok(st.results.every((r) => r && r.final && r.status === 'optimized'), JSON.stringify(st.results.map((r) => r?.status)));
  // Opening the popup again shows that scan, not a new one.
  popup = await b.openPopup(page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]');
  assert.equal((await swState(tabId)).scanId, scanId);
  assert.equal((await popup.$$('[data-testid=result-row]')).length, 6);
});

test('Stop cancels the scan in the helper', { skip }, async () => {
  await popup.close();
  await page.goto(`${srv.origin}/slow.html?n=6&ms=4000`, { waitUntil: 'domcontentloaded' });
  popup = await b.openPopup(page);
  await popup.waitForSelector('[data-testid=progress][data-state=scanning]', { timeout: 30000 });
  const t0 = Date.now();
  await popup.click('[data-testid=cancel]');
  await popup.waitForSelector('[data-testid=progress][data-state=canceled]', { timeout: 10000 });
  assert.ok(Date.now() - t0 < 4000, 'stopped before the slow images arrived');
  const st = await swState(tabId);
  assert.equal(st.status, 'canceled');
  assert.ok(st.chunks.every((c) => c.done && c.done.canceled));
  assert.match(await popup.$eval('#progress-text', (e) => e.textContent), /^Stopped: \d+ of 6 verified/);
});

test('the helper stopping mid-scan gives a clear message, and the next scan reconnects', { skip }, async () => {
  await popup.click('[data-testid=rescan]');
  await popup.waitForSelector('[data-testid=progress][data-state=scanning]', { timeout: 30000 });
  const pids = hostPids(b.profile);
  assert.equal(pids.length, 1, `one helper process (${pids})`);
  process.kill(pids[0], 'SIGKILL');
  await popup.waitForSelector('[data-testid=scan-error]:not([hidden])', { timeout: 15000 });
  const msg = await popup.$eval('[data-testid=scan-error]', (e) => e.textContent);
  assert.match(msg, /^Image Diet's helper stopped unexpectedly\./);
  await popup.close();
  await page.goto(`${srv.origin}/few.html`);
  popup = await b.openPopup(page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 90000 });
  assert.equal(await popup.$eval('[data-testid=scan-error]', (e) => e.hidden), true);
  assert.equal(hostPids(b.profile).length, 1);
});

test('per-site settings change what the next scan asks for; only settings are stored', { skip }, async () => {
  const before = await swState(tabId);
  assert.deepEqual(before.settings.formats, ['jpeg', 'png', 'webp', 'avif']);
  assert.equal(before.settings.resize, true);
  assert.deepEqual(await b.sw.evaluate(() => chrome.storage.local.get(null)), {});

  await popup.click('[data-testid=settings]');
  await popup.waitForSelector('#settings-panel:not([hidden])');
  for (const f of ['jpeg', 'png', 'avif']) await popup.click(`input[name=formats][value=${f}]`);
  await popup.click('input[name=resize]');
  await popup.select('select[name=qualityMode]', 'fixed');
  await popup.$eval('input[name=qualityNumber]', (e) => { e.value = '70'; });
  await popup.click('[data-testid=save-settings]');
  const st = await waitFor(async () => { const s = await swState(tabId); return s.scanId !== before.scanId && s.status === 'done' && s; }, { timeout: 90000, what: 'the scan with new settings' });
  assert.deepEqual(st.settings.formats, ['webp']);
  assert.equal(st.settings.resize, false);
  assert.equal(st.settings.quality, 70);
  for (const r of st.results.filter((x) => x.status === 'optimized')) {
    assert.equal(r.best.format, 'webp');
    assert.equal(r.best.width, r.original.width, 'not resized');
  }
  const local = await b.sw.evaluate(() => chrome.storage.local.get(null));
  assert.deepEqual(Object.keys(local), ['site:127.0.0.1']);
  assert.deepEqual(Object.keys(local['site:127.0.0.1']).sort(), ['savedAt', 'settings']);

  // The options page lists the site; forgetting it restores the defaults.
  const opts = await b.browser.newPage();
  await opts.goto(`chrome-extension://${EXT_ID}/options.html`);
  await opts.waitForSelector('[data-testid=site-row][data-site="127.0.0.1"]');
  assert.match(await opts.$eval('[data-testid=site-row]', (e) => e.textContent), /WEBP.*quality 70.*no resize/);
  await opts.click('[data-testid=site-row] button');
  await opts.waitForSelector('[data-testid=no-sites]:not([hidden])');
  assert.deepEqual(await b.sw.evaluate(() => chrome.storage.local.get(null)), {});
  // Clear all removes every site.
  await b.sw.evaluate(() => chrome.storage.local.set({ 'site:a.example': { settings: {} }, 'site:b.example': { settings: {} } }));
  await opts.waitForSelector('[data-testid=site-row][data-site="b.example"]');
  await opts.click('[data-testid=clear-all]');
  await opts.waitForSelector('[data-testid=no-sites]:not([hidden])');
  assert.deepEqual(await b.sw.evaluate(() => chrome.storage.local.get(null)), {});
  await opts.close();
});
