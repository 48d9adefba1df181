// The exported report with the real helper in Chromium: Export saves an
// HTML report, a CSV and a JSON file; their rows equal the popup's rows;
// the JSON reads, through the same reader, like `imgdiet-host optimize
// --json`; the HTML loads nothing and runs nothing; the keyboard reaches Export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { waitFor, listFiles, readDownload, HOST_BIN, ROOT } from './harness.mjs';
import { popupSuite } from './suite.mjs';
import { readResults, parseCSV, CSV_COLUMNS, ADDITIVE_FIELDS } from '../extension/lib/report.js';

const h = popupSuite();
const { skip } = h;
const DIR = 'Image Diet/127.0.0.1';

let popup;
let tabId;
let files;

/** The report files saved so far: {html, csv, json} paths of the newest export. */
const reportFiles = () => {
  const all = listFiles(h.b.profile.downloads).filter((f) => f.startsWith(`${DIR}/127.0.0.1-report-`));
  const pick = (ext) => all.filter((f) => f.endsWith(`.${ext}`)).sort().at(-1);
  return { html: pick('html'), csv: pick('csv'), json: pick('json'), count: all.length };
};

/** A value's type as JSON sees it. */
const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Every key path of a list of objects with the JSON types seen there: {"best.bytes": Set(["number"])}. */
function shape(objs, prefix = '', out = new Map()) {
  for (const o of objs) {
    for (const [k, v] of Object.entries(o)) {
      const p = prefix + k;
      if (!out.has(p)) out.set(p, new Set());
      out.get(p).add(kind(v));
      if (kind(v) === 'object') shape([v], `${p}.`, out);
      if (kind(v) === 'array' && v.length && kind(v[0]) === 'object') shape(v, `${p}[].`, out);
    }
  }
  return out;
}

test('Export saves an HTML report, a CSV and a JSON file, only on the click', { skip }, async () => {
  await h.page.goto(`${h.srv.origin}/hints.html`);
  tabId = await h.tabId();
  popup = await h.b.openPopup(h.page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 120000 });
  assert.equal(reportFiles().count, 0, 'nothing saved before the click');
  await popup.click('[data-testid=export]');
  files = await waitFor(() => { const f = reportFiles(); return f.html && f.csv && f.json && f; }, { what: 'the three report files', timeout: 15000 });
  assert.match(files.json, /^Image Diet\/127\.0\.0\.1\/127\.0\.0\.1-report-\d{8}-\d{6}\.json$/);
  // Read once complete: the JSON parses, the CSV and the HTML have their ends.
  const dir = h.b.profile.downloads;
  await readDownload(dir, files.json, { read: (b) => JSON.parse(b.toString('utf8')) });
  await readDownload(dir, files.csv, { read: (b) => b.toString('utf8').endsWith('\r\n') || null });
  await readDownload(dir, files.html, { read: (b) => b.toString('utf8').trimEnd().endsWith('</html>') || null });
  assert.equal(await popup.$eval('[data-testid=export-status]', (e) => e.textContent), 'Report saved (HTML, CSV, JSON).');
  // Nothing about the scan was stored.
  assert.deepEqual(await h.b.sw.evaluate(() => chrome.storage.local.get(null)), {});
});

test('the exported JSON and CSV rows equal the popup\'s rows', { skip }, async () => {
  const st = await h.state(tabId);
  const json = JSON.parse(readFileSync(join(h.b.profile.downloads, files.json), 'utf8'));
  const csv = parseCSV(readFileSync(join(h.b.profile.downloads, files.csv), 'utf8'));
  assert.deepEqual(csv[0], CSV_COLUMNS);
  const rows = csv.slice(1).map((r) => Object.fromEntries(CSV_COLUMNS.map((c, k) => [c, r[k]])));
  const shown = await popup.$$eval('[data-testid=result-row]', (es) => es.map((e) => ({
    i: Number(e.dataset.index), status: e.dataset.status,
    hints: [...e.querySelectorAll('[data-testid=hint]')].map((x) => x.dataset.code),
    markup: e.querySelector('[data-testid=markup-code]')?.textContent ?? null,
  })));
  assert.equal(json.images.length, shown.length);
  assert.equal(rows.length, shown.length);
  assert.equal(json.page.url, `${h.srv.origin}/hints.html`);
  assert.deepEqual(json.summary, { ...st.summary });
  for (const row of shown) {
    const im = json.images[row.i];
    const r = st.results[row.i];
    const c = rows[row.i];
    assert.equal(im.index, row.i);
    assert.equal(im.status, row.status);
    assert.equal(im.url, r.url);
    assert.deepEqual(im.hints.map((x) => x.code), row.hints);
    assert.equal(im.markup, row.markup);
    assert.equal(im.best ? im.best.bytes : null, r.best ? r.best.bytes : null);
    assert.equal(im.original ? im.original.bytes : null, r.original ? r.original.bytes : null);
    assert.equal(im.savedBytes, r.savedBytes);
    // The CSV says the same.
    assert.equal(Number(c.index), row.i);
    assert.equal(c.status, row.status);
    assert.equal(c.url, im.url);
    assert.equal(c.best_bytes, im.best ? String(im.best.bytes) : '');
    assert.equal(c.saved_bytes, String(im.savedBytes));
    assert.equal(c.hints, row.hints.join('; '));
    assert.equal(c.markup, row.markup ?? '');
    assert.equal(c.page, json.page.url);
  }
});

test('the report JSON reads like `imgdiet-host optimize --json`, through one reader', { skip }, async () => {
  // missing.png does not exist: the CLI prints an error line for it (and exits 1).
  const run = spawnSync(HOST_BIN, ['optimize', '--json', ...['photo.jpg', 'graphic.png', 'anim.gif', 'missing.png'].map((f) => join(ROOT, 'e2e', 'fixtures', f))], { encoding: 'utf8' });
  assert.equal(run.status, 1, run.stderr);
  const cli = readResults(run.stdout);
  assert.equal(cli.images.filter((x) => x.status === 'error').length, 1);
  const rep = readResults(readFileSync(join(h.b.profile.downloads, files.json), 'utf8'));
  assert.equal(cli.images.length, 4);
  assert.ok(rep.images.length >= 6);
  // The summary has the done line's shape.
  assert.deepEqual(Object.keys(rep.summary), Object.keys(cli.summary));
  for (const k of Object.keys(cli.summary)) assert.equal(typeof rep.summary[k], typeof cli.summary[k], k);
  // Every field a CLI line has, a report image has with the same JSON type.
  const a = shape(cli.images);
  const b = shape(rep.images);
  for (const [path, types] of a) {
    if (!b.has(path)) continue; // present only on some rows (error, skipped, note)
    const only = (s) => [...s].filter((x) => x !== 'null');
    assert.deepEqual(only(b.get(path)).sort(), only(types).sort(), path);
  }
  for (const k of ['type', 'index', 'final', 'verified', 'url', 'status', 'original', 'best', 'savedBytes', 'savedPercent', 'candidates', 'reasons']) assert.ok(b.has(k), k);
  // What the report adds is the documented additive fields (and their insides).
  const proto = new Set(['type', 'index', 'final', 'verified', 'url', 'status', 'original', 'best', 'candidates', 'savedBytes', 'savedPercent', 'reasons', 'skipped', 'note', 'error']);
  for (const path of b.keys()) {
    const top = path.split(/[.[]/)[0];
    assert.ok(proto.has(top) || ADDITIVE_FIELDS.includes(top), `undocumented field ${path}`);
  }
  // The animated GIF reads the same way from both.
  const gifCli = cli.images.find((x) => x.url.endsWith('anim.gif'));
  const gifRep = rep.images.find((x) => x.url.endsWith('/anim.gif'));
  assert.equal(gifRep.original.animated, gifCli.original.animated);
  assert.equal(gifRep.original.bytes, gifCli.original.bytes);
});

test('keyboard only reaches Export, with visible focus, and Enter saves again', { skip }, async () => {
  const before = reportFiles().count;
  await popup.focus('[data-testid=download-all]');
  let ok = null;
  for (let k = 0; k < 6 && !ok; k++) {
    await popup.keyboard.press('Tab');
    ok = await popup.evaluate(() => document.activeElement?.dataset?.testid === 'export' && document.activeElement.matches(':focus-visible') && getComputedStyle(document.activeElement).outlineStyle !== 'none');
  }
  assert.ok(ok, 'Tab reaches Export with a visible focus ring');
  await popup.keyboard.press('Enter');
  await waitFor(() => reportFiles().count >= before + 3, { what: 'a second export', timeout: 15000 });
});

test('the HTML report loads nothing, runs nothing, and lists every row', { skip }, async () => {
  const html = readFileSync(join(h.b.profile.downloads, files.html), 'utf8');
  assert.doesNotMatch(html, /<script/i);
  const page = await h.b.browser.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${join(h.b.profile.downloads, files.html)}`);
  const n = await page.$$eval('tr[data-index]', (es) => es.length);
  const json = JSON.parse(readFileSync(join(h.b.profile.downloads, files.json), 'utf8'));
  assert.equal(n, json.images.length);
  assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), []);
  assert.equal(requests.length, 1, requests.join());
  const hero = json.images.find((x) => x.url.endsWith('/hero-photo.jpg'));
  assert.equal(await page.$eval(`tr[data-index="${hero.index}"] pre`, (e) => e.textContent), hero.markup);
  await page.close();
});
