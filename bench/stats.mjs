// Statistics for the benchmark: medians, and a bootstrap confidence
// interval for the per-operation time ratio. Pure functions, no
// dependencies, so that node --test can check them (bench/stats.test.mjs).

/** median of the numbers in xs, skipping null and NaN; null when none. */
export function median(xs) {
  const s = xs.filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** gmean is the geometric mean of the positive numbers in xs; null when none. */
export function gmean(xs) {
  const s = xs.filter((x) => x > 0);
  return s.length ? Math.exp(s.reduce((a, x) => a + Math.log(x), 0) / s.length) : null;
}

/**
 * rng returns a deterministic generator of numbers in [0, 1) (xorshift32),
 * so that a report rendered twice from the same results shows the same
 * interval.
 */
export function rng(seed = 0x9e3779b9) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * ratioEstimate is the per-operation ratio the benchmark reports: for
 * each image the median of its per-round ratios, then the median over
 * images. groups holds one array of per-round ratios per image.
 */
export function ratioEstimate(groups) {
  return median(groups.map((g) => median(g)));
}

/**
 * ratioCI is a two-level bootstrap interval for ratioEstimate: each
 * resample draws images with replacement and, within each drawn image,
 * its rounds with replacement, so that both the spread between images and
 * the round-to-round noise of a shared machine widen the interval. It
 * returns [low, high] at the given level (0.95: the 2.5th and 97.5th
 * percentiles of n resamples), or null without data.
 */
export function ratioCI(groups, { level = 0.95, n = 4000, seed } = {}) {
  const gs = groups.filter((g) => g.length);
  if (!gs.length) return null;
  const next = rng(seed);
  const pick = (a) => a[Math.floor(next() * a.length)];
  const est = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const meds = gs.map(() => {
      const g = pick(gs);
      return median(g.map(() => pick(g)));
    });
    est[i] = median(meds);
  }
  est.sort();
  const tail = (1 - level) / 2;
  return [est[Math.floor(tail * n)], est[Math.min(n - 1, Math.ceil((1 - tail) * n) - 1)]];
}

/**
 * notSlower is the verdict on a target "ours ≤ 1.0× theirs" measured with
 * noise: it is false only when the whole interval lies above 1.0, that is
 * when the run shows ours slower. Without an interval it falls back to the
 * point estimate.
 */
export function notSlower(estimate, ci) {
  if (estimate == null) return null;
  return ci ? ci[0] <= 1.0 : estimate <= 1.0;
}
