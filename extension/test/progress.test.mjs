import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { applyResult } from '../lib/results.js';
import { rowState, counts, pageTotal, summaryWords, downloadAllLabel, progressWords, barValue, downloadableIndexes } from '../lib/progress.js';

const res = (index, { final = false, verified, status = 'optimized', orig = 10000, best = 4000, key = `k${index}` } = {}) => ({
  index, final, ...(verified === undefined ? {} : { verified }), status, url: `https://x/${index}.jpg`,
  original: { bytes: orig, format: 'jpeg', width: 100, height: 100 },
  best: status === 'optimized' ? { key, format: 'webp', bytes: best, width: 100, height: 100 } : null,
  savedBytes: status === 'optimized' ? orig - best : 0, savedPercent: 60,
});

function scan(status, msgs, n = 5) {
  const results = new Array(n).fill(null);
  for (const m of msgs) applyResult(results, m);
  return { status, images: new Array(n).fill({}), results, keysGone: false, startedAt: 1000, finishedAt: 2500 };
}

test('a host without `verified`: final means verified; with it, a verified estimate is downloadable', () => {
  const st = scan('scanning', [res(0), res(1, { final: true }), res(2, { verified: true }), res(3, { final: true, verified: false })]);
  assert.deepEqual(st.results.slice(0, 4).map((r) => rowState(r, false)), ['estimate', 'verified', 'verified', 'estimate']);
  assert.equal(rowState(null, false), 'pending');
  assert.equal(rowState(null, true), 'unchecked');
  assert.deepEqual(downloadableIndexes(st), [1, 2]);
});

test('progress counts estimates and verified answers; the bar moves on the first', () => {
  const st = scan('scanning', [res(0), res(1), res(2, { final: true })]);
  const c = counts(st);
  assert.equal(c.estimated, 3);
  assert.equal(c.ready, 1);
  assert.equal(progressWords(st), '3 of 5 estimated · 1 of 5 verified');
  assert.deepEqual(barValue(st), { value: 4, max: 10 });
});

test('"Done" only when every row is final', () => {
  const all = scan('done', [0, 1, 2].map((i) => res(i, { final: true })), 3);
  assert.equal(progressWords(all), 'Done: 3 images in 1.5 s');
  const some = scan('done', [res(0, { final: true }), res(1)], 2);
  assert.match(progressWords(some), /^Ended: 1 of 2 verified/);
});

test('stopped: verified rows stay downloadable, estimates and unchecked rows are said as such', () => {
  const st = scan('canceled', [res(0, { final: true }), res(1), res(2, { verified: true })]);
  assert.equal(progressWords(st), 'Stopped: 2 of 5 verified, 1 estimate only, 2 not checked');
  assert.deepEqual(downloadableIndexes(st), [0, 2]);
});

test('the summary counts what the ZIP holds; the label says how many', () => {
  const st = scan('scanning', [res(0, { final: true, orig: 10000, best: 4000 }), res(1, { orig: 20000, best: 5000 }), res(2, { status: 'optimal', final: true, orig: 3000 })]);
  const t = pageTotal(st);
  assert.deepEqual(t, { originalBytes: 33000, optimizedBytes: 27000, savedBytes: 6000, unconfirmedBytes: 15000 });
  assert.equal(downloadAllLabel(st), 'Download 1 verified of 2 (ZIP)');
  assert.equal(summaryWords(st).main, '33.0 kB → 27.0 kB, save 18 %');
  assert.match(summaryWords(st).extra, /^Up to 15\.0 kB more estimated/);
  const done = scan('done', [res(0, { final: true }), res(1, { final: true })], 2);
  assert.equal(downloadAllLabel(done), 'Download all 2 (ZIP)');
  st.keysGone = true;
  assert.equal(downloadAllLabel(st), 'Download all (ZIP)');
  assert.equal(pageTotal(st).savedBytes, 0);
});

test('lost rows are neither counted as done nor downloadable', () => {
  const st = scan('error', [res(0, { final: true }), res(1, { status: 'optimal', final: true })], 3);
  st.results[0] = { ...st.results[0], lost: true };
  st.results[2] = { lost: true, status: null, final: false };
  assert.equal(rowState(st.results[0], true), 'lost');
  const c = counts(st);
  assert.equal(c.lost, 2);
  assert.equal(c.ready, 1);
  assert.equal(progressWords(st), '1 of 3 verified, 2 results lost');
  assert.deepEqual(downloadableIndexes(st), []);
});
