// Ready-to-copy markup for one image: <img src srcset sizes width height
// loading decoding alt>, or <picture> with AVIF/WebP <source>s and a
// fallback <img> when formats differ: the variants' fallback format, or,
// without variants, the page's own file. File names are
// the ZIP's (lib/naming.js), and the row's delivery hints are applied.
// Pure functions.

import { stemFileName, variantPath } from './naming.js';
import { dimensionsFor, isLazy } from './hints.js';
import { chosenFile as pickFile } from './compare.js';
import { MIME } from './format.js';

/** Escapes text for a double-quoted HTML attribute value. */
export function escapeAttr(s) {
  return String(s ?? '').replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The file a row's download takes: the candidate the person chose (its
 * key, or the row's own `chosen`), else the helper's best (lib/compare.js).
 * Null when there is none (already optimal, failed).
 */
export function chosenFile(r, chosen) {
  if (!r || r.status !== 'optimized') return null;
  return pickFile(chosen ? { ...r, chosen } : r);
}

/**
 * Whether a row gets markup: an <img> of the page with an answer (optimized,
 * or optimal with an address to name: not a data: or blob: URL).
 */
export function hasMarkup(im, r) {
  if (!im || !im.el || !r || r.lost) return false;
  return r.status === 'optimized' || (r.status === 'optimal' && /^https?:/i.test(im.url || ''));
}

/**
 * The variants grouped by format, in the helper's order (best format first,
 * the fallback every browser reads last), each list by ascending width:
 * [{format, files: [{width, height, path, bytes}]}].
 */
export function variantSets(variants, stem) {
  const by = new Map();
  for (const v of (variants && variants.variants) || []) {
    for (const f of v.files || []) {
      // A file without a key is not held by the helper, so not in the ZIP.
      if (!f || !f.format || !f.key) continue;
      if (!by.has(f.format)) by.set(f.format, []);
      by.get(f.format).push({ width: v.width, height: v.height, path: variantPath(stem, v.width, f.format), bytes: f.bytes });
    }
  }
  return [...by].map(([format, files]) => ({ format, files: files.sort((a, b) => a.width - b.width) }));
}

/** Whether format is one some browsers still cannot read, over an original every browser reads. */
function modernOverCommon(format, original) {
  return (format === 'avif' || format === 'webp') && ['jpeg', 'png', 'gif'].includes(original && original.format);
}

function attrs(list) {
  return list.filter(([, v]) => v !== null && v !== undefined && v !== false).map(([k, v]) => (v === true ? k : `${k}="${escapeAttr(v)}"`)).join(' ');
}

/**
 * The delivery attributes the hints ask for: the LCP candidate loads at
 * once with fetchpriority="high"; an image off-screen at load, or lazy on
 * the page already, gets loading="lazy"; every image decodes async.
 */
export function deliveryAttrs(im) {
  const codes = new Set(((im && im.hints) || []).map((h) => h.code));
  const el = (im && im.el) || {};
  const lcp = codes.has('lcp-lazy') || codes.has('lcp-no-fetchpriority') || el.fetchpriority === 'high';
  return {
    loading: lcp ? null : (codes.has('offscreen-eager') || isLazy(el) ? 'lazy' : null),
    decoding: 'async',
    fetchpriority: lcp ? 'high' : null,
  };
}

/**
 * The markup for one row, or null when it has none.
 * @param {object} p
 * @param {object} p.im the scan's image (url, displayWidth, el, hints)
 * @param {object} p.r its result
 * @param {string} p.stem its file stem (rowStems)
 * @param {object} [p.variants] the helper's variants for it ({variants, reason})
 * @param {string} [p.chosen] the candidate key the person chose
 * @returns {{html: string, files: string[], widths: number[], picture: boolean}|null}
 */
export function markupFor({ im, r, stem, variants, chosen }) {
  if (!hasMarkup(im, r)) return null;
  const el = im.el;
  const d = deliveryAttrs(im);
  const sets = variantSets(variants, stem);
  const file = chosenFile(r, chosen);
  const dim = dimensionsFor(im, file || r.original);
  const tail = [['width', dim && dim.width], ['height', dim && dim.height], ['loading', d.loading], ['decoding', d.decoding], ['fetchpriority', d.fetchpriority], ['alt', el.alt ?? '']];
  if (!sets.length) {
    // One file: the download, or the page's own when it is already optimal.
    const name = file ? stemFileName(stem, file.format) : im.url;
    if (file && modernOverCommon(file.format, r.original) && /^https?:/i.test(im.url || '')) {
      // An AVIF or WebP file replacing a JPEG, PNG or GIF: browsers that
      // cannot read it (AVIF arrived in Safari 16 and Edge 121) keep the
      // page's own file, so pasting the markup never leaves a hole.
      const source = `  <source ${attrs([['type', MIME[file.format]], ['srcset', name]])}>`;
      const img = `  <img ${attrs([['src', im.url], ...tail])}>`;
      return { html: ['<picture>', source, img, '</picture>'].join('\n'), files: [name], widths: [], picture: true };
    }
    return { html: `<img ${attrs([['src', name], ...tail])}>`, files: file ? [name] : [], widths: [], picture: false };
  }
  const sizes = el.sizes && el.sizes.trim() ? el.sizes.trim() : `${Math.round(im.displayWidth)}px`;
  const srcset = (s) => s.files.map((f) => `${f.path} ${f.width}w`).join(', ');
  const fallback = sets[sets.length - 1];
  // src: the fallback at the displayed width, or the next wider one.
  const want = Math.round(im.displayWidth) || 0;
  const src = fallback.files.find((f) => f.width >= want) || fallback.files[fallback.files.length - 1];
  const img = `<img ${attrs([['src', src.path], ['srcset', srcset(fallback)], ['sizes', sizes], ...tail])}>`;
  const files = sets.flatMap((s) => s.files.map((f) => f.path));
  const widths = [...new Set(sets.flatMap((s) => s.files.map((f) => f.width)))].sort((a, b) => a - b);
  if (sets.length === 1) return { html: img, files, widths, picture: false };
  const sources = sets.slice(0, -1).map((s) => `  <source ${attrs([['type', MIME[s.format] || `image/${s.format}`], ['srcset', srcset(s)], ['sizes', sizes]])}>`);
  return { html: ['<picture>', ...sources, `  ${img}`, '</picture>'].join('\n'), files, widths, picture: true };
}
