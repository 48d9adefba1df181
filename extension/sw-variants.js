// Responsive variants in the service worker: the helper's `variants`
// message per image (protocol section 5) kept on the scan state as
// st.variants[index], their held keys, and their ZIP entries.

import { variantPath } from './lib/naming.js';

function entryKeys(entry) {
  const keys = [];
  for (const w of (entry && entry.variants) || []) for (const f of w.files) if (f && f.key) keys.push(f.key);
  return keys;
}

/**
 * Keys row i's earlier variants held that nothing names any more (a row
 * scanned again gets new variants): to release.
 */
export function staleVariantKeys(st, old) {
  const used = new Set(variantKeys(st));
  for (const r of st.results || []) {
    if (!r) continue;
    if (r.best && r.best.key) used.add(r.best.key);
    for (const c of r.candidates || []) if (c && c.key) used.add(c.key);
  }
  return entryKeys(old).filter((k) => !used.has(k));
}

/** Keeps a `variants` message for row i; returns what the popup is sent. */
export function storeVariants(st, i, msg) {
  if (!Array.isArray(st.variants)) st.variants = [];
  const list = Array.isArray(msg.variants) ? msg.variants.filter((v) => v && v.width > 0 && Array.isArray(v.files)) : [];
  const say = (k) => (typeof msg[k] === 'string' && msg[k] ? { [k]: msg[k] } : {});
  // note: some files were left out (the helper had no room to hold them).
  st.variants[i] = { variants: list, ...say('reason'), ...say('note') };
  return st.variants[i];
}

/** Every key the variants of a scan hold (released with the scan). */
export function variantKeys(st) {
  return (st.variants || []).flatMap(entryKeys);
}

/** The ZIP entries of row i's variants: {key, name: "<stem>/<stem>-<w>w.<ext>", format}. */
export function variantEntries(st, i, stem) {
  const out = [];
  for (const w of (st.variants && st.variants[i] && st.variants[i].variants) || []) {
    for (const f of w.files) if (f && f.key) out.push({ key: f.key, name: variantPath(stem, w.width, f.format), format: f.format });
  }
  return out;
}
