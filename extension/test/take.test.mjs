import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { arrange, passes, Selection, downloadSelection, urlsOf, activeFilters, NO_FILTER } from '../lib/take.js';
import { applyResult } from '../lib/results.js';

// A page of five images: three smaller files, one already optimal, one error.
function page() {
  const images = [
    { url: 'https://s.example/a.jpg' },
    { url: 'https://s.example/b.png', hints: [{ code: 'no-dimensions', fix: '…' }] },
    { url: 'https://s.example/c.gif', hints: [{ code: 'animated-gif', fix: '…' }, { code: 'offscreen-eager', fix: '…' }] },
    { url: 'https://s.example/d.webp' },
    { url: 'https://s.example/page#inline-svg-1', name: 'inline-svg-1' },
  ];
  const results = [];
  const opt = (index, format, bytes, best, extra = {}) => applyResult(results, {
    index, final: true, verified: true, status: 'optimized', url: images[index].url,
    original: { format, bytes, width: 800, height: 600 }, best: { format: 'webp', bytes: best, width: 800, height: 600, key: `k${index}` },
    savedBytes: bytes - best, savedPercent: 0, ...extra,
  });
  opt(0, 'jpeg', 50_000, 20_000, { reasons: ['format', 'compression'] }); // saves 30 kB
  opt(1, 'png', 200_000, 195_000, { reasons: ['compression'] }); // saves 5 kB
  opt(2, 'gif', 90_000, 10_000, { reasons: ['resize', 'format'] }); // saves 80 kB
  applyResult(results, { index: 3, final: true, verified: true, status: 'optimal', url: images[3].url, original: { format: 'webp', bytes: 300_000 } });
  applyResult(results, { index: 4, final: true, verified: true, status: 'error', url: images[4].url, error: { code: 'decode_failed' } });
  return { images, results, keysGone: false };
}

test('sorts by savings, size, name and position', () => {
  const st = page();
  assert.deepEqual(arrange(st), [2, 0, 1, 3, 4]);
  assert.deepEqual(arrange(st, { sort: 'size' }), [3, 1, 2, 0, 4]);
  assert.deepEqual(arrange(st, { sort: 'name', labels: ['img10', 'Zebra', 'apple', 'img9', 'mango'] }), [2, 3, 0, 4, 1]);
  assert.deepEqual(arrange(st, { sort: 'position' }), [0, 1, 2, 3, 4]);
});

test('filters by type, minimum saving, reason and hint', () => {
  const st = page();
  const f = (x) => arrange(st, { sort: 'position', filters: { ...NO_FILTER, ...x } });
  assert.deepEqual(f({ type: 'jpeg' }), [0]);
  assert.deepEqual(f({ type: 'webp' }), [3], 'the original format, not the best');
  assert.deepEqual(f({ minSavedBytes: 30_000 }), [0, 2]);
  assert.deepEqual(f({ minSavedBytes: 30_001 }), [2]);
  assert.deepEqual(f({ reason: 'format' }), [0, 2]);
  assert.deepEqual(f({ reason: 'resize' }), [2]);
  assert.deepEqual(f({ hint: 'any' }), [1, 2]);
  assert.deepEqual(f({ hint: 'offscreen-eager' }), [2]);
  assert.deepEqual(f({ hint: 'lcp-lazy' }), []);
  assert.deepEqual(f({ type: 'gif', reason: 'resize', hint: 'animated-gif', minSavedBytes: 1 }), [2]);
  assert.equal(activeFilters(NO_FILTER), 0);
  assert.equal(activeFilters({ type: 'gif', minSavedBytes: 1, reason: '', hint: 'any' }), 3);
  assert.equal(passes(st, 0), true);
});

test('selection: all until picked, then exactly the picks; tri-state over shown rows', () => {
  const sel = new Selection();
  assert.equal(sel.untouched(), true);
  assert.equal(sel.has(99), true, 'rows still to come are selected');
  assert.equal(sel.stateOf([0, 1, 2]), 'all');
  sel.toggle(1);
  assert.equal(sel.untouched(), false);
  assert.equal(sel.stateOf([0, 1, 2]), 'some');
  assert.equal(sel.has(1), false);
  sel.setMany([0, 1, 2], false);
  assert.equal(sel.stateOf([0, 1, 2]), 'none');
  assert.equal(sel.has(99), true, 'still "all but these"');
  sel.clear();
  assert.equal(sel.has(99), false, 'cleared: rows to come are not selected either');
  sel.setMany([2], true);
  assert.deepEqual([0, 1, 2, 3].filter((i) => sel.has(i)), [2]);
  assert.equal(sel.stateOf([]), 'none');
  sel.reset();
  assert.equal(sel.untouched(), true);
});

test('the ZIP holds the shown, selected, downloadable rows; Copy URLs the shown, selected ones in order', () => {
  const st = page();
  const sel = new Selection();
  const shown = arrange(st);
  assert.deepEqual(downloadSelection(st, shown, sel), [0, 1, 2]);
  sel.toggle(0);
  assert.deepEqual(downloadSelection(st, shown, sel), [1, 2]);
  assert.deepEqual(downloadSelection(st, arrange(st, { filters: { ...NO_FILTER, hint: 'any' } }), sel), [1, 2]);
  assert.deepEqual(downloadSelection(st, arrange(st, { filters: { ...NO_FILTER, type: 'png' } }), sel), [1]);
  assert.deepEqual(downloadSelection({ ...st, keysGone: true }, shown, sel), [], 'files gone with the helper');
  assert.deepEqual(urlsOf(st, shown, sel), ['https://s.example/c.gif', 'https://s.example/b.png', 'https://s.example/d.webp'],
    'display order; the error row counts, the inline SVG has no URL');
});
