import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { formatBytes, percentSaved, summaryText, formatName, unitFor, dims } from '../lib/format.js';

test('bytes are shown in decimal units', () => {
  const cases = [[0, '0 B'], [999, '999 B'], [1000, '1.0 kB'], [4200, '4.2 kB'], [123456, '123 kB'], [2_400_000, '2.4 MB'], [3_000_000_000, '3.0 GB']];
  for (const [n, want] of cases) assert.equal(formatBytes(n), want, String(n));
  assert.equal(formatBytes(600_000, unitFor(2_400_000)), '0.6 MB');
  assert.equal(formatBytes(NaN), '—');
});

test('summary line and percent', () => {
  assert.equal(summaryText(2_400_000, 600_000), '2.4 MB → 0.6 MB, save 75 %');
  assert.equal(summaryText(0, 0), '0 B → 0 B, save 0 %');
  assert.equal(percentSaved(100, 120), 0);
  assert.equal(percentSaved(3, 1), 67);
});

test('format names and dimensions', () => {
  assert.equal(formatName('webp'), 'WebP');
  assert.equal(formatName('jpeg'), 'JPEG');
  assert.equal(formatName('xyz'), 'XYZ');
  assert.equal(formatName(''), '?');
  assert.equal(dims(800, 600), '800×600');
  assert.equal(dims(0, 600), '');
});
