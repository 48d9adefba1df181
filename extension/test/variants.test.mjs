import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeVariants, variantKeys, variantEntries, staleVariantKeys } from '../sw-variants.js';

const msg = (keys, reason) => ({ type: 'variants', id: 's1', index: 0, variants: keys.map((k, n) => ({ width: 300 * (n + 1), height: 200 * (n + 1), files: [{ key: `${k}a`, format: 'avif', bytes: 10 }, { key: `${k}j`, format: 'jpeg', bytes: 20 }] })), ...(reason ? { reason } : {}) });

test('a variants message is kept per row, its keys listed, its ZIP entries named per folder', () => {
  const st = { results: [] };
  const kept = storeVariants(st, 2, msg(['x', 'y']));
  assert.deepEqual(kept.variants.map((v) => v.width), [300, 600]);
  assert.equal('reason' in kept, false);
  assert.deepEqual(variantKeys(st), ['xa', 'xj', 'ya', 'yj']);
  assert.deepEqual(variantEntries(st, 2, 'photo'), [
    { key: 'xa', name: 'photo/photo-300w.avif', format: 'avif' },
    { key: 'xj', name: 'photo/photo-300w.jpg', format: 'jpeg' },
    { key: 'ya', name: 'photo/photo-600w.avif', format: 'avif' },
    { key: 'yj', name: 'photo/photo-600w.jpg', format: 'jpeg' },
  ]);
  assert.deepEqual(variantEntries(st, 0, 'other'), []);
  const none = storeVariants(st, 3, { variants: [], reason: 'Shown at its own size.' });
  assert.deepEqual(none, { variants: [], reason: 'Shown at its own size.' });
  assert.equal(storeVariants(st, 5, { ...msg(['n']), note: 'Some files could not be kept.' }).note, 'Some files could not be kept.');
  // Junk in a message is dropped, not kept.
  assert.deepEqual(storeVariants(st, 4, { variants: [null, { width: 0, files: [] }, { width: 5 }] }).variants, []);
});

test('keys of replaced variants are released unless something still names them', () => {
  const st = { results: [{ best: { key: 'xa' }, candidates: [{ key: 'xj' }] }] };
  storeVariants(st, 0, msg(['x']));
  const old = st.variants[0];
  storeVariants(st, 0, msg(['z']));
  assert.deepEqual(staleVariantKeys(st, old), [], 'xa is the best, xj a candidate');
  st.results = [null];
  assert.deepEqual(staleVariantKeys(st, old), ['xa', 'xj']);
  assert.deepEqual(staleVariantKeys(st, undefined), []);
});
