import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gmean, median, notSlower, ratioCI, ratioEstimate, rng } from './stats.mjs';

test('median', () => {
  for (const [xs, want] of [
    [[], null],
    [[3], 3],
    [[3, 1], 2],
    [[5, 1, 3], 3],
    [[1, null, NaN, 4, 2], 2],
  ]) assert.equal(median(xs), want, JSON.stringify(xs));
});

test('gmean', () => {
  assert.equal(gmean([]), null);
  assert.ok(Math.abs(gmean([2, 8]) - 4) < 1e-12);
  assert.ok(Math.abs(gmean([100, 1, null, 0]) - 10) < 1e-12);
});

test('rng is deterministic and in [0, 1)', () => {
  const a = rng(7), b = rng(7), c = rng(8);
  const xs = Array.from({ length: 1000 }, a);
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, b));
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, c));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

// noisy draws per-round ratios the way a shared machine gives them: a
// true ratio times log-normal noise, with the occasional round slowed by
// a neighbour on one side only.
function noisy(truth, images, rounds, spread, next) {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return Array.from({ length: images }, () => {
    const bias = Math.exp(0.02 * gauss()); // the image's own ratio
    return Array.from({ length: rounds }, () => {
      const hiccup = next() < 0.1 ? (next() < 0.5 ? 1.3 : 1 / 1.3) : 1;
      return truth * bias * hiccup * Math.exp(spread * gauss());
    });
  });
}

test('ratioEstimate is the median of per-image medians', () => {
  assert.equal(ratioEstimate([[1, 2, 3], [2, 2, 9], [0.5, 0.4, 0.6]]), 2);
  assert.equal(ratioEstimate([]), null);
});

test('ratioCI covers the true ratio at about its level', () => {
  const next = rng(42);
  let covered = 0;
  const trials = 100;
  for (let t = 0; t < trials; t++) {
    const g = noisy(1.0, 12, 6, 0.05, next);
    const [lo, hi] = ratioCI(g, { n: 1000, seed: t + 1 });
    assert.ok(lo <= ratioEstimate(g) && ratioEstimate(g) <= hi);
    if (lo <= 1.0 && 1.0 <= hi) covered++;
  }
  // A 95 % interval from 12 images: coverage well above chance, and not
  // an interval so wide it always covers.
  assert.ok(covered >= 85, `covered ${covered} of ${trials}`);
});

test('ratioCI narrows with more data and is reproducible', () => {
  const next = rng(3);
  const few = noisy(1.0, 12, 3, 0.08, next), many = noisy(1.0, 48, 12, 0.08, next);
  const w = ([lo, hi]) => hi - lo;
  assert.ok(w(ratioCI(many, { seed: 1 })) < w(ratioCI(few, { seed: 1 })));
  assert.deepEqual(ratioCI(few, { seed: 9 }), ratioCI(few, { seed: 9 }));
  assert.equal(ratioCI([]), null);
});

test('notSlower fails a run that shows ours slower, passes parity', () => {
  const next = rng(11);
  // At the bench's size (12 images, 6 rounds) and this noise, a 6 %
  // slowdown is told from parity.
  let caught = 0;
  for (let t = 0; t < 20; t++) {
    const slow = noisy(1.06, 12, 6, 0.05, next);
    if (!notSlower(ratioEstimate(slow), ratioCI(slow, { n: 1000, seed: t + 1 }))) caught++;
  }
  assert.ok(caught >= 18, `caught ${caught} of 20`);
  // Pooled over the run's 48 operations at its measured noise (11 % per
  // round, 10 rounds), a 4 % slowdown is told from parity too.
  let pooled = 0;
  for (let t = 0; t < 10; t++) {
    const slow = noisy(1.04, 48, 10, 0.11, next);
    if (!notSlower(ratioEstimate(slow), ratioCI(slow, { n: 500, seed: t + 1 }))) pooled++;
  }
  assert.ok(pooled >= 8, `pooled caught ${pooled} of 10`);
  const same = noisy(1.0, 12, 6, 0.05, next);
  assert.equal(notSlower(ratioEstimate(same), ratioCI(same, { n: 1000 })), true);
  assert.equal(notSlower(1.01, null), false);
  assert.equal(notSlower(0.99, null), true);
  assert.equal(notSlower(null, null), null);
});
