// Choosing what to take (issue 17, item 5), in the real popup with the real
// helper: sort and filter change the rows shown, the ZIP holds exactly the
// selected files, Copy URLs puts the selected rows' URLs on the clipboard,
// and the keyboard alone reaches every new control with visible focus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { waitFor, listFiles, readZip, readDownload, sniff, tabWalk, axeProblems, EXT_ID } from './harness.mjs';
import { popupSuite } from './suite.mjs';

const s = popupSuite();
const { skip } = s;
let popup;
let st;

const shownRows = () => popup.$$eval('[data-testid=result-row]', (es) => es.map((e) => Number(e.dataset.index)));
const ext = (f) => (f === 'jpeg' ? 'jpg' : f);
const baseOf = (url) => new URL(url).pathname.split('/').pop().replace(/\.\w+$/, '');
const nameOf = (i) => `${baseOf(st.images[i].url)}.${ext(st.results[i].best.format)}`;
// Picked with the keyboard: a click at the checkbox's centre may land on the sticky header when the row is scrolled to the top.
const pick = async (i) => {
  await popup.focus(`[data-testid=result-row][data-index="${i}"] [data-testid=pick]`);
  await popup.keyboard.press('Space');
};
const idsBy = (f) => st.images.map((_, i) => i).filter(f);

test('the popup lists the page with a checkbox per row, all selected', { skip }, async () => {
  await s.page.goto(`${s.srv.origin}/take.html`);
  const tabId = await s.tabId();
  popup = await s.b.openPopup(s.page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 120000 });
  st = await s.state(tabId);
  assert.equal(st.images.length, 5);
  const rows = await popup.$$eval('[data-testid=result-row]', (es) => es.map((e) => e.querySelector('[data-testid=pick]')?.checked));
  assert.deepEqual(rows, [true, true, true, true, true]);
  assert.equal(await popup.$eval('[data-testid=select-all]', (e) => e.checked && !e.indeterminate), true);
  const optimized = idsBy((i) => st.results[i]?.status === 'optimized');
  assert.ok(optimized.length >= 3, `at least three smaller files (${st.results.map((r) => r?.status)})`);
  // Nothing picked yet: the button says what it said before there were checkboxes.
  assert.equal(await popup.$eval('[data-testid=download-all]', (e) => e.textContent), `Download all ${optimized.length} (ZIP)`);
  await popup.click('[data-testid=filter-toggle]');
  const shot = join(tmpdir(), 'imagediet-e2e-take.png');
  await popup.screenshot({ path: shot });
  console.log(`# take screenshot: ${shot}`);
  await popup.click('[data-testid=filter-toggle]');
});

test('sort: savings, size, name and position order the rows as they say', { skip }, async () => {
  const bySaving = [...st.images.keys()].filter((i) => st.results[i].status === 'optimized').sort((a, b) => st.results[b].savedBytes - st.results[a].savedBytes);
  assert.deepEqual((await shownRows()).slice(0, bySaving.length), bySaving, 'biggest savings first by default');
  await popup.select('[data-testid=sort]', 'position');
  assert.deepEqual(await shownRows(), [0, 1, 2, 3, 4]);
  await popup.select('[data-testid=sort]', 'size');
  const size = (i) => st.results[i].original?.bytes ?? -1;
  const want = [0, 1, 2, 3, 4].sort((a, b) => size(b) - size(a) || a - b);
  assert.deepEqual(await shownRows(), want);
  await popup.select('[data-testid=sort]', 'name');
  const names = await popup.$$eval('[data-testid=result-row] .name', (es) => es.map((e) => e.textContent));
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base', numeric: true })));
  assert.equal(names[0], 'alpha-photo');
  assert.equal(await popup.$eval('#rows', (e) => e.getAttribute('aria-label')), 'Images on this page, by name');
  await popup.select('[data-testid=sort]', 'position');
});

test('filter: type, minimum saving and reason hide the rows that do not match', { skip }, async () => {
  await popup.click('[data-testid=filter-toggle]');
  await popup.select('[data-testid=filter-type]', 'png');
  assert.deepEqual(await shownRows(), idsBy((i) => st.results[i].original?.format === 'png'));
  assert.equal(await popup.$eval('[data-testid=shown-count]', (e) => e.textContent), '1 of 5 shown');
  assert.equal(await popup.$eval('[data-testid=filter-toggle]', (e) => e.textContent), 'Filter (1)');
  await popup.select('[data-testid=filter-type]', 'jpeg');
  assert.deepEqual(await shownRows(), idsBy((i) => st.results[i].original?.format === 'jpeg'));
  await popup.select('[data-testid=filter-type]', '');
  // The median saving as a threshold: the rows at or above it stay.
  const savings = idsBy((i) => st.results[i].status === 'optimized').map((i) => st.results[i].savedBytes).sort((a, b) => a - b);
  const kb = Math.floor(savings[Math.floor(savings.length / 2)] / 1000);
  await popup.$eval('[data-testid=filter-min]', (e, v) => { e.value = String(v); e.dispatchEvent(new Event('input', { bubbles: true })); }, kb);
  const keep = idsBy((i) => st.results[i].status === 'optimized' && st.results[i].savedBytes >= kb * 1000);
  assert.ok(keep.length > 0 && keep.length < 5);
  assert.deepEqual(await shownRows(), keep);
  await popup.click('[data-testid=filter-clear]');
  const reason = st.results.find((r) => r.status === 'optimized' && r.reasons?.length)?.reasons[0];
  await popup.select('[data-testid=filter-reason]', reason);
  assert.deepEqual(await shownRows(), idsBy((i) => st.results[i].status === 'optimized' && (st.results[i].reasons || []).includes(reason)));
  await popup.click('[data-testid=filter-clear]');
  assert.deepEqual(await shownRows(), [0, 1, 2, 3, 4]);
  assert.equal(await popup.$eval('[data-testid=shown-count]', (e) => e.textContent), '');
});

test('the ZIP holds exactly the selected files', { skip }, async () => {
  const optimized = idsBy((i) => st.results[i].status === 'optimized');
  const drop = optimized[1];
  await pick(drop);
  assert.equal(await popup.$eval('[data-testid=select-all]', (e) => e.indeterminate), true, 'select-all shows "some"');
  const chosen = optimized.filter((i) => i !== drop);
  const label = await popup.$eval('[data-testid=download-all]', (e) => e.textContent);
  assert.equal(label, `Download selected (${chosen.length})`);
  const before = new Set(listFiles(s.b.profile.downloads));
  await popup.click('[data-testid=download-all]');
  const zip = await waitFor(() => listFiles(s.b.profile.downloads).find((f) => !before.has(f) && f.endsWith('.zip')), { what: 'the ZIP', timeout: 20000 });
  assert.equal(zip, 'Image Diet/127.0.0.1/127.0.0.1-optimized.zip');
  const entries = await readDownload(s.b.profile.downloads, zip, { read: readZip });
  assert.deepEqual(Object.keys(entries).sort(), chosen.map(nameOf).sort());
  for (const i of chosen) {
    assert.equal(entries[nameOf(i)].length, st.results[i].best.bytes);
    assert.equal(sniff(entries[nameOf(i)]), st.results[i].best.format);
  }
  // Select-all: everything, then nothing (the button has nothing to take).
  await popup.waitForFunction(() => !document.getElementById('download-all').dataset.busy, { timeout: 10000 });
  await popup.click('[data-testid=select-all]');
  assert.equal(await popup.$eval('[data-testid=select-all]', (e) => e.checked && !e.indeterminate), true);
  assert.equal(await popup.$eval('[data-testid=download-all]', (e) => e.textContent), `Download all ${optimized.length} (ZIP)`);
  await popup.click('[data-testid=select-all]');
  assert.deepEqual(await popup.$$eval('[data-testid=pick]', (es) => es.filter((e) => e.checked).length), 0);
  assert.equal(await popup.$eval('[data-testid=download-all]', (e) => [e.textContent, e.disabled].join()), 'Download selected (0),true');
  assert.equal(await popup.$eval('[data-testid=copy-urls]', (e) => e.disabled), true);
});

test('Copy URLs puts the selected rows\' URLs on the clipboard, one per line, in the order shown', { skip }, async () => {
  const cdp = await s.b.browser.target().createCDPSession();
  await cdp.send('Browser.grantPermissions', { origin: `chrome-extension://${EXT_ID}`, permissions: ['clipboardReadWrite', 'clipboardSanitizedWrite'] });
  // From no row selected (select-all goes all → none, or some → all → none).
  while (await popup.$$eval('[data-testid=pick]', (es) => es.some((e) => e.checked))) await popup.click('[data-testid=select-all]');
  await popup.select('[data-testid=sort]', 'size');
  const order = await shownRows();
  const want = [order[3], order[0]];
  for (const i of want) await pick(i);
  await popup.bringToFront();
  await popup.click('[data-testid=copy-urls]');
  await popup.waitForFunction(() => document.querySelector('[data-testid=take-msg]').textContent !== '', { timeout: 5000 });
  assert.equal(await popup.$eval('[data-testid=take-msg]', (e) => e.textContent), 'Copied 2 URLs.');
  const text = await popup.evaluate(() => navigator.clipboard.readText());
  assert.equal(text, [order[0], order[3]].map((i) => st.images[i].url).join('\n'));
  await popup.select('[data-testid=sort]', 'position');
});

test('keyboard only: Tab reaches every new control, each with visible focus', { skip }, async () => {
  await popup.evaluate(() => { document.activeElement?.blur(); document.getElementById('take-filters').open = false; });
  await popup.focus('[data-testid=settings]');
  const seen = await tabWalk(popup, {
    max: 40,
    act: (id) => (id === 'filter-toggle' ? popup.keyboard.press('Enter') : null), // opens the filters; Tab goes on into them
    stop: (id) => id === 'pick',
  });
  for (const id of ['select-all', 'sort', 'filter-toggle', 'filter-type', 'filter-min', 'filter-reason', 'filter-hint', 'filter-clear', 'copy-urls', 'pick']) {
    assert.ok(seen.has(id), `Tab reached ${id} (went through ${[...seen.keys()]})`);
    assert.equal(seen.get(id), true, `${id} shows its focus`);
  }
  // Space on the focused checkbox picks the row; the rows' arrow keys still work.
  const before = await popup.evaluate(() => document.activeElement.checked);
  await popup.keyboard.press('Space');
  assert.equal(await popup.evaluate(() => document.activeElement.checked), !before);
  await popup.focus('[data-testid=result-row]');
  await popup.keyboard.press('ArrowDown');
  assert.equal(await popup.evaluate(() => [...document.querySelectorAll('[data-testid=result-row]')].indexOf(document.activeElement)), 1);
});

test('at 360 px the bar and the open filters fit, and axe-core finds nothing serious', { skip }, async () => {
  const tabId = await s.tabId();
  const tab = await s.b.browser.newPage();
  await tab.setViewport({ width: 360, height: 640 });
  await tab.goto(`chrome-extension://${EXT_ID}/popup.html?tab=${tabId}`);
  await tab.waitForSelector('[data-testid=progress][data-state=done]');
  await tab.click('[data-testid=filter-toggle]');
  const bad = await tab.evaluate(() => [...document.querySelectorAll('#take *')].filter((e) => e.offsetParent !== null)
    .map((e) => [e.id || e.tagName, e.getBoundingClientRect()]).filter(([, r]) => r.left < 0 || r.right > innerWidth + 0.5).map(([n, r]) => `${n} ${r.left}-${r.right}`));
  assert.deepEqual(bad, []);
  assert.deepEqual(await axeProblems(tab), [], 'axe-core on the popup with its filters open');
  await tab.close();
});

test('a checkbox keeps the focus while results redraw its row', { skip }, async () => {
  await popup.close().catch(() => {}); // a popup closes by itself when another page takes the focus
  await s.page.goto(`${s.srv.origin}/slow.html?n=4&ms=1500`, { waitUntil: 'domcontentloaded' });
  popup = await s.b.openPopup(s.page);
  await popup.waitForSelector('[data-testid=result-row] [data-testid=pick]', { timeout: 30000 });
  const i = await popup.$eval('[data-testid=result-row]', (e) => Number(e.dataset.index));
  await popup.focus(`[data-testid=result-row][data-index="${i}"] [data-testid=pick]`);
  await popup.keyboard.press('Space'); // unticked, by keyboard
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 60000 });
  const at = await popup.evaluate(() => ({ testid: document.activeElement.dataset.testid, row: document.activeElement.closest('[data-testid=result-row]')?.dataset.index, checked: document.activeElement.checked }));
  assert.deepEqual(at, { testid: 'pick', row: String(i), checked: false });
});

test('a row button (Compare) keeps the focus while results redraw its row', { skip }, async () => {
  await popup?.close().catch(() => {});
  await s.page.goto(`${s.srv.origin}/slow.html?n=3&ms=1400`, { waitUntil: 'domcontentloaded' });
  popup = await s.b.openPopup(s.page);
  // An estimate has Compare; its verified answer redraws the row, still with Compare.
  const sel = '[data-testid=result-row][data-state=estimate] [data-testid=compare-btn]';
  await popup.waitForSelector(sel, { timeout: 60000 });
  const i = await popup.$eval(sel, (e) => e.closest('[data-testid=result-row]').dataset.index);
  await popup.focus(`[data-testid=result-row][data-index="${i}"] [data-testid=compare-btn]`);
  const before = await popup.$eval(`[data-testid=result-row][data-index="${i}"] [data-testid=compare-btn]`, (e) => { e.dataset.old = '1'; return true; });
  assert.ok(before);
  await popup.waitForSelector(`[data-testid=result-row][data-index="${i}"]:not([data-state=estimate])`, { timeout: 120000 });
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 120000 });
  const at = await popup.evaluate(() => {
    const a = document.activeElement;
    return { testid: a.dataset.testid, row: a.closest('[data-testid=result-row]')?.dataset.index, redrawn: a.dataset.old !== '1' };
  });
  assert.deepEqual(at, { testid: 'compare-btn', row: i, redrawn: true });
});
