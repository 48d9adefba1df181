import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useMessages } from '../lib/i18n.js';
import { buildReport, reportImage, toJSON, toCSV, toHTML, csvCell, parseCSV, readResults, CSV_COLUMNS, ADDITIVE_FIELDS, SUMMARY_FIELDS } from '../lib/report.js';
import { rowStems } from '../lib/naming.js';

before(() => useMessages(JSON.parse(readFileSync(new URL('../_locales/en/messages.json', import.meta.url), 'utf8'))));
after(() => useMessages(null));

const el = { tag: 'img', loading: '', fetchpriority: '', decoding: '', widthAttr: '400', heightAttr: '300', alt: '=cmd|"/c calc"!A1', sizes: '', x: 0, y: 3000, vw: 1000, vh: 800 };
const best = { key: 'k1', format: 'webp', bytes: 30000, width: 400, height: 300, quality: 70, distance: 1.1 };
const state = {
  scanId: 's', status: 'done', pageUrl: 'https://shop.example/a?b=1', site: 'shop.example', startedAt: Date.UTC(2026, 11, 6, 19, 0, 0), finishedAt: Date.UTC(2026, 11, 6, 19, 0, 9),
  settings: { formats: ['jpeg', 'webp'], quality: 'auto', target: 'balanced', resize: true, keepMetadata: false, minSavingsBytes: 2048, imageBudgetSeconds: 20, variants: true, includeBackgrounds: true, includeOffscreen: true },
  images: [
    { url: 'https://shop.example/img/photo.jpg', kinds: ['img'], displayWidth: 400, displayHeight: 300, onScreen: false, el, hints: [{ code: 'offscreen-eager', fix: 'Off-screen…' }] },
    { url: 'https://shop.example/img/logo.png', kinds: ['css'], displayWidth: 0, displayHeight: 0, onScreen: true },
    { url: 'https://shop.example/missing.jpg', kinds: ['img'], displayWidth: 50, displayHeight: 50, onScreen: true, el: { ...el, y: 0 } },
    { url: 'https://shop.example/later.jpg', kinds: ['img'], displayWidth: 50, displayHeight: 50, onScreen: true },
  ],
  results: [
    { final: true, verified: true, note: null, status: 'optimized', url: 'https://shop.example/img/photo.jpg', original: { bytes: 90000, format: 'jpeg', width: 800, height: 600, animated: false }, best, candidates: [best, { key: 'k2', format: 'jpeg', bytes: 40000, width: 400, height: 300, quality: 80, distance: 1.2 }], savedBytes: 60000, savedPercent: 66.7, reasons: ['resize', 'format'], skipped: [], error: null },
    { final: true, verified: true, note: null, status: 'optimal', url: 'https://shop.example/img/logo.png', original: { bytes: 900, format: 'png', width: 10, height: 10, animated: false }, best: null, candidates: [], savedBytes: 0, savedPercent: 0, reasons: null, skipped: [], error: null },
    { final: true, verified: true, note: null, status: 'error', url: 'https://shop.example/missing.jpg', original: null, best: null, candidates: [], savedBytes: 0, savedPercent: 0, reasons: null, skipped: [], error: { code: 'http_status', httpStatus: 404, message: '-the server answered 404' } },
    null,
  ],
  variants: [{ variants: [{ width: 400, height: 300, files: [{ key: 'v1', format: 'webp', bytes: 30000, quality: 70 }, { key: 'v2', format: 'jpeg', bytes: 41000, quality: 82 }] }] }],
  summary: { images: 4, optimized: 1, optimal: 1, failed: 1, originalBytes: 90900, optimizedBytes: 30900, savedBytes: 60000, elapsedMs: 9000 },
};

test('each image has a CLI result line\'s fields in its order, then the additive ones', () => {
  const r = buildReport(state, { now: Date.UTC(2026, 11, 6, 19, 5) });
  assert.equal(r.type, 'report');
  assert.equal(r.time, '2026-12-06T19:00:09.000Z');
  assert.deepEqual(Object.keys(r.summary), SUMMARY_FIELDS);
  const [a, b, c, d] = r.images;
  assert.deepEqual(Object.keys(a), ['type', 'index', 'final', 'verified', 'url', 'status', 'original', 'best', 'candidates', 'savedBytes', 'savedPercent', 'reasons', ...ADDITIVE_FIELDS.filter((k) => k !== 'lost')]);
  assert.deepEqual(a.best, { format: 'webp', bytes: 30000, width: 400, height: 300, quality: 70, distance: 1.1 }, 'no session key');
  assert.equal(a.file, 'photo.webp');
  assert.match(a.markup, /^<picture>/);
  assert.deepEqual(a.variants[0].files.map((f) => f.name), ['photo/photo-400w.webp', 'photo/photo-400w.jpg']);
  assert.equal(b.best, null);
  assert.equal('candidates' in b, false, 'omitted when empty, as the CLI does');
  assert.equal(b.markup, null, 'a CSS background has no markup');
  assert.deepEqual(c.error, { code: 'http_status', message: '-the server answered 404', httpStatus: 404 });
  assert.equal(d.status, 'pending');
  assert.equal(d.final, false);
  const chosen = reportImage(state, 0, { stems: rowStems(state.images), chosenOf: () => 'k2' });
  assert.equal(chosen.file, 'photo.jpg');
  assert.equal(chosen.chosen.format, 'jpeg');
});

test('one reader reads the report JSON and CLI lines alike', () => {
  const r = buildReport(state);
  const a = readResults(toJSON(r));
  assert.equal(a.images.length, 4);
  assert.deepEqual(a.summary, r.summary);
  const cli = `${JSON.stringify({ type: 'result', index: 0, final: true, verified: true, url: 'x.jpg', status: 'optimal', best: null, savedBytes: 0, savedPercent: 0 })}\n${JSON.stringify({ type: 'done', canceled: false, summary: r.summary })}\n`;
  const b = readResults(cli);
  assert.equal(b.images.length, 1);
  assert.deepEqual(b.summary, r.summary);
});

test('CSV cells: RFC 4180 quoting, formulas defused', () => {
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  for (const s of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) assert.equal(csvCell(s)[0] === '"' ? csvCell(s)[1] : csvCell(s)[0], "'", s);
  assert.equal(csvCell(-5), '-5', 'numbers stay numbers');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(true), 'true');
});

test('CSV: a header and one row per image, CRLF, parsed back to the same values', () => {
  const r = buildReport(state);
  const text = toCSV(r);
  assert.ok(text.endsWith('\r\n'));
  const rows = parseCSV(text);
  assert.deepEqual(rows[0], CSV_COLUMNS);
  assert.equal(rows.length, 1 + state.images.length);
  const row = Object.fromEntries(CSV_COLUMNS.map((c, k) => [c, rows[1][k]]));
  assert.equal(row.page, 'https://shop.example/a?b=1');
  assert.equal(row.best_bytes, '30000');
  assert.equal(row.file, 'photo.webp');
  assert.equal(row.hints, 'offscreen-eager');
  assert.equal(row.markup, r.images[0].markup, 'multi-line markup survives');
  assert.match(row.markup, /alt="=cmd\|&quot;\/c calc&quot;!A1"/, 'inside markup the alt is escaped and not at the start of a cell');
  const err = Object.fromEntries(CSV_COLUMNS.map((c, k) => [c, rows[3][k]]));
  assert.equal(err.error, "'-the server answered 404");
  assert.equal(rows[4][CSV_COLUMNS.indexOf('status')], 'pending');
});

test('HTML: self-contained, no scripts, nothing remote, every row and its markup escaped', () => {
  const html = toHTML(buildReport(state));
  assert.doesNotMatch(html, /<script/i);
  const tags = html.match(/<[a-z][^>]*>/gi);
  assert.ok(tags.length > 20);
  for (const tag of tags) assert.doesNotMatch(tag, /\s(src|href|srcset|style|on\w+)\s*=/i, `no resource is loaded, no script: ${tag}`);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/);
  assert.equal((html.match(/<tr data-index=/g) || []).length, 4);
  assert.match(html, /&lt;picture&gt;/);
  assert.doesNotMatch(html, /<picture>/);
  assert.match(html, /Off-screen…/);
  assert.match(html, /The server answered 404|-the server answered 404/);
  // Sorted by bytes saved: the optimized row first.
  assert.ok(html.indexOf('data-index="0"') < html.indexOf('data-index="1"'));
});

test('the report names files with the stems it is given (the person\'s file-name pattern)', () => {
  const state = { images: [{ url: 'https://a.example/img/photo.jpg' }], results: [{ status: 'optimized', original: { format: 'jpeg', bytes: 9000, width: 10, height: 10 }, best: { key: 'k', format: 'webp', bytes: 3000, width: 10, height: 10 }, savedBytes: 6000, savedPercent: 66.7 }], settings: {} };
  assert.equal(buildReport(state).images[0].file, 'photo.webp');
  assert.equal(buildReport(state, { stems: ['shop-photo-10x10'] }).images[0].file, 'shop-photo-10x10.webp');
});

