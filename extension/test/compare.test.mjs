import './en.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chosenFile, hasChoice, savingOf, candidateRows, withChoice, resultKeys, keysInUse, reencodeSettings, targetOf, isBest, compareUrl, TARGET_LIMITS, howWords, targetWord, comparable, compareOrder } from '../lib/compare.js';
import { pageTotal } from '../lib/progress.js';

const row = (extra = {}) => ({
  final: true, verified: true, status: 'optimized',
  original: { format: 'jpeg', bytes: 10000, width: 100, height: 80 },
  best: { key: 'kw', format: 'webp', bytes: 3000, width: 100, height: 80, quality: 70, distance: 1.3 },
  candidates: [
    { key: 'kj', format: 'jpeg', bytes: 5000, width: 100, height: 80, quality: 80, distance: 1.1 },
    { key: 'kw', format: 'webp', bytes: 3000, width: 100, height: 80, quality: 70, distance: 1.3 },
    { key: 'kp', format: 'png', bytes: 12000, width: 100, height: 80 },
    { key: 'ka', format: 'avif', bytes: 3500, width: 100, height: 80, quality: 50, distance: 1.2 },
  ],
  savedBytes: 7000, savedPercent: 70,
  ...extra,
});

test('the chosen candidate is the download; no choice, or a stale one, is the best', () => {
  const r = row();
  assert.equal(chosenFile(r), r.best);
  assert.equal(hasChoice(r), false);
  const c = withChoice(r, 'ka');
  assert.equal(chosenFile(c).format, 'avif');
  assert.equal(hasChoice(c), true);
  assert.deepEqual(savingOf(c), { savedBytes: 6500, savedPercent: 65 });
  // A key that is not a candidate of this result (a newer answer replaced it).
  assert.equal(chosenFile({ ...r, chosen: 'gone' }), r.best);
  assert.equal(chosenFile(null), null);
  assert.equal(chosenFile({ ...r, best: null, status: 'optimal' }), null);
});

test('choosing: only held candidates of a verified optimized answer; the best clears the choice', () => {
  const r = row();
  assert.equal(withChoice(r, 'nope'), null);
  assert.equal(withChoice({ ...r, verified: false }, 'ka'), null);
  assert.equal(withChoice({ ...r, final: false }, 'ka'), null, 'a result still being refined');
  assert.equal(withChoice({ ...r, lost: true }, 'ka'), null);
  assert.equal(withChoice({ ...r, status: 'optimal', best: null }, 'ka'), null);
  const c = withChoice(r, 'kp');
  assert.equal(c.chosen, 'kp');
  assert.equal(r.chosen, undefined, 'the old row is not changed');
  assert.equal('chosen' in withChoice(c, 'kw'), false);
  assert.equal('chosen' in withChoice(c, null), false);
});

test('candidate rows: smallest first, best and chosen marked, larger than the original negative', () => {
  const rows = candidateRows(withChoice(row(), 'kj'));
  assert.deepEqual(rows.map((c) => c.format), ['webp', 'avif', 'jpeg', 'png']);
  assert.deepEqual(rows.map((c) => c.best), [true, false, false, false]);
  assert.deepEqual(rows.map((c) => c.chosen), [false, false, true, false]);
  assert.ok(rows.every((c) => c.choosable));
  assert.equal(rows[3].savedBytes, -2000);
  // Without a choice the best is the chosen one; without keys nothing can be chosen.
  assert.deepEqual(candidateRows(row()).map((c) => c.chosen), [true, false, false, false]);
  const old = row({ best: { format: 'webp', bytes: 3000 }, candidates: [{ format: 'webp', bytes: 3000 }, { format: 'jpeg', bytes: 5000 }] });
  assert.deepEqual(candidateRows(old).map((c) => [c.best, c.chosen, c.choosable]), [[true, true, false], [false, false, false]]);
  assert.ok(isBest(old, old.candidates[0]));
  assert.deepEqual(candidateRows(row({ verified: false })).map((c) => c.choosable), [false, false, false, false]);
  assert.deepEqual(candidateRows(row({ final: false })).map((c) => c.choosable), [false, false, false, false]);
});

test('keys: a row names its best and candidates; keys in use span every row', () => {
  assert.deepEqual([...resultKeys(row())].sort(), ['ka', 'kj', 'kp', 'kw']);
  assert.deepEqual([...resultKeys(null)], []);
  const used = keysInUse([null, { best: { key: 'x' }, candidates: [{ key: 'y' }, {}] }, row({ candidates: [] })]);
  assert.deepEqual([...used].sort(), ['kw', 'x', 'y']);
});

test('re-encode settings: a target or a whole quality 1-100 over the scan settings', () => {
  const base = { formats: ['webp'], quality: 'auto', target: 'balanced', resize: false, minSavingsBytes: 0 };
  const a = reencodeSettings(base, { target: 'high' });
  assert.deepEqual([a.settings.quality, a.settings.target, a.settings.formats, a.settings.resize, a.settings.minSavingsBytes], ['auto', 'high', ['webp'], false, 0]);
  assert.deepEqual(a.how, { target: 'high' });
  const q = reencodeSettings(base, { quality: 55 });
  assert.equal(q.settings.quality, 55);
  assert.deepEqual(q.how, { quality: 55 });
  for (const bad of [null, {}, { quality: 0 }, { quality: 101 }, { quality: 5.5 }, { target: 'huge' }]) {
    assert.equal(reencodeSettings(base, bad).error, 'compare_redo_bad', JSON.stringify(bad));
  }
});

test('the target a row was measured against', () => {
  assert.equal(targetOf(row(), { quality: 'auto', target: 'small' }), 'small');
  assert.equal(targetOf(row(), { quality: 70 }), null);
  assert.equal(targetOf(row({ redoneWith: { target: 'high' } }), { quality: 70 }), 'high');
  assert.equal(targetOf(row({ redoneWith: { quality: 40 } }), { quality: 'auto', target: 'small' }), null);
  assert.deepEqual(Object.keys(TARGET_LIMITS), ['high', 'balanced', 'small']);
});

test('the page total follows the chosen file, as the ZIP does', () => {
  const st = { status: 'done', images: [{}, {}], keysGone: false, results: [row(), withChoice(row(), 'kj')] };
  const t = pageTotal(st);
  assert.equal(t.savedBytes, 7000 + 5000);
  // A chosen file larger than the original saves nothing.
  st.results[1] = withChoice(row(), 'kp');
  assert.equal(pageTotal(st).savedBytes, 7000);
});

test('compare page address', () => {
  assert.equal(compareUrl(12, 'scan3', 4), 'compare.html?tab=12&scan=scan3&index=4');
});

test('how a re-encode was asked for, in words', () => {
  assert.equal(howWords({ quality: 35 }), 'at quality 35');
  assert.equal(howWords({ target: 'high' }), 'at the high target');
  assert.equal(targetWord('small'), 'small');
  assert.equal(howWords(null), '');
});

test('the rows the compare page opens and steps through, biggest saving first', () => {
  const optimal = { final: true, verified: true, status: 'optimal', original: { bytes: 500 }, savedBytes: 0 };
  const results = [
    row({ savedBytes: 100 }),
    null,
    optimal,
    row({ savedBytes: 900 }),
    { ...optimal, final: false },
    { final: true, verified: true, status: 'error' },
    row({ savedBytes: 50, lost: true }),
    row({ savedBytes: 70, best: { format: 'webp', bytes: 30 } }),
  ];
  assert.deepEqual(results.map(comparable), [true, false, true, true, false, false, false, false]);
  assert.deepEqual(compareOrder(results, results.length), [3, 0, 2]);
});
