import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { applyResult, totals, sortIndexes, reasonsOf, reasonWords, errorText, mergeSummaries, rowStatus, lostResults } from '../lib/results.js';

const opt = (index, orig, best, extra = {}) => ({
  type: 'result', id: 's', index, final: true, url: `https://x/${index}.jpg`, status: 'optimized',
  original: { bytes: orig, format: 'jpeg', width: 1600, height: 1200 },
  best: { key: 'k' + index, format: 'webp', bytes: best, width: 800, height: 600 },
  savedBytes: orig - best, savedPercent: ((orig - best) / orig) * 100, ...extra,
});

test('a final result is not replaced by a preliminary one', () => {
  const r = [];
  assert.equal(applyResult(r, { ...opt(0, 1000, 500), final: false }), true);
  assert.equal(applyResult(r, opt(0, 1000, 400)), true);
  assert.equal(applyResult(r, { ...opt(0, 1000, 900), final: false }), false);
  assert.equal(r[0].best.bytes, 400);
  applyResult(r, opt(1, 10, 5), 5);
  assert.equal(r[6].best.bytes, 5);
  assert.equal(applyResult(r, { ...opt(0, 1, 1), index: -1 }), false);
});

test('totals count originals for optimal images and best for optimized ones', () => {
  const r = [];
  applyResult(r, opt(0, 1000, 250));
  applyResult(r, { type: 'result', index: 1, final: true, status: 'optimal', original: { bytes: 500, format: 'png' }, best: null, savedBytes: 0 });
  applyResult(r, { type: 'result', index: 2, final: true, status: 'error', error: { code: 'timeout', message: 'x' } });
  const t = totals(r, 4);
  assert.deepEqual(t, { images: 4, finished: 3, optimized: 1, optimal: 1, failed: 1, originalBytes: 1500, optimizedBytes: 750, savedBytes: 750 });
});

test('sorting puts the biggest savings first, errors last', () => {
  const r = [];
  applyResult(r, opt(0, 1000, 900));
  applyResult(r, { index: 1, final: true, status: 'error', error: { code: 'timeout' } });
  applyResult(r, opt(2, 5000, 1000));
  applyResult(r, { index: 3, final: true, status: 'optimal', original: { bytes: 10 }, savedBytes: 0 });
  assert.deepEqual(sortIndexes(r, 5), [2, 0, 4, 3, 1]);
  assert.equal(rowStatus(undefined), 'pending');
});

test('reasons come from the host or are derived', () => {
  assert.deepEqual(reasonsOf(opt(0, 1000, 400, { reasons: ['format'] })), ['format']);
  assert.deepEqual(reasonsOf(opt(0, 1000, 400)), ['resize', 'format']);
  const same = opt(0, 1000, 400);
  same.best = { ...same.best, format: 'jpeg', width: 1600, height: 1200 };
  assert.deepEqual(reasonsOf(same), ['compression']);
  assert.deepEqual(reasonsOf({ status: 'optimal', best: null }), []);
  assert.deepEqual(reasonWords(opt(0, 1000, 400)), ['Resized to displayed size (800×600)', 'WebP instead of JPEG']);
});

test('errors read as plain sentences', () => {
  assert.equal(errorText({ code: 'http_status', httpStatus: 403, message: 'the server answered 403' }), 'The server answered 403.');
  assert.equal(errorText({ code: 'timeout' }), 'The image took too long to download.');
  assert.equal(errorText({ code: 'http_status', httpStatus: 404 }), 'The server answered 404 for this image.');
  assert.equal(errorText({ code: 'nope' }), 'The image could not be processed.');
  assert.equal(errorText({ code: 'internal', message: 'open /home/u/x/y: no such file' }), 'Something went wrong in the helper while processing this image.');
  assert.equal(errorText(null), 'Unknown error.');
});

test('summaries of chunks add up', () => {
  const s = mergeSummaries([{ images: 2, optimized: 1, optimal: 1, failed: 0, originalBytes: 10, optimizedBytes: 6, savedBytes: 4, elapsedMs: 5 },
    { images: 1, optimized: 0, optimal: 0, failed: 1, originalBytes: 0, optimizedBytes: 0, savedBytes: 0, elapsedMs: 9 }]);
  assert.deepEqual(s, { images: 3, optimized: 1, optimal: 1, failed: 1, originalBytes: 10, optimizedBytes: 6, savedBytes: 4, elapsedMs: 9 });
});

test('skipped formats keep their reasons, and malformed entries are dropped', () => {
  const r = [];
  const skipped = [{ format: 'avif', reason: 'AVIF was not tried: too large.' }, { format: 'webp' }, null];
  applyResult(r, opt(0, 1000, 500, { skipped }));
  assert.deepEqual(r[0].skipped, [{ format: 'avif', reason: 'AVIF was not tried: too large.' }]);
  applyResult(r, opt(1, 1000, 500));
  assert.deepEqual(r[1].skipped, []);
});

test('an SVG refused for its declared size is said to be that, not a pixel-heavy file', () => {
  const err = { code: 'too_many_pixels', message: 'the image has too many pixels' };
  assert.match(errorText(err, { svg: true }), /^This SVG declares a drawing size too large/);
  assert.equal(errorText(err), 'The image has too many pixels.');
});

test('a helper that stops takes its files and unfinished work, not its verdicts', () => {
  const r = [];
  applyResult(r, opt(0, 1000, 400)); // verified file: lost
  applyResult(r, { index: 1, final: true, status: 'optimal', original: { bytes: 10 }, savedBytes: 0 }); // kept
  applyResult(r, { index: 2, final: true, status: 'error', error: { code: 'timeout' } }); // kept
  applyResult(r, { ...opt(3, 1000, 500), final: false }); // estimate: lost
  r[4] = null; // being worked on: lost
  r[5] = null; // never sent (stopped before): stays empty
  const { results, lost } = lostResults(r, 6, new Set([3, 4]));
  assert.equal(lost, 3);
  assert.deepEqual(results.map((x) => !!(x && x.lost)), [true, false, false, true, true, false]);
  assert.equal(results[5], null);
  assert.equal(results[0].best.bytes, 400, 'what was found is still shown');
  assert.equal(lostResults(results, 6, new Set()).lost, 3, 'marking twice changes nothing');
});
