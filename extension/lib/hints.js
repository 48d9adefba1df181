// Delivery hints, as Lighthouse gives them, from what the collector saw in
// the page (each <img>'s attributes, box and CSS sizing) and, for animated
// GIFs, from the helper's result. Pure functions; sentences through t().

import { t } from './i18n.js';
import { formatBytes, formatName } from './format.js';

/** Every hint code, in the order a row lists them. */
export const HINT_CODES = Object.freeze(['lcp-lazy', 'lcp-no-fetchpriority', 'offscreen-eager', 'no-dimensions', 'animated-gif']);

// Lighthouse's offscreen-images audit counts an image as off-screen when at
// least 75 % of it lies outside the first viewport widened by 100 px to
// each side and 200 px below (its ALLOWABLE_OFFSCREEN_X/Y); the same here.
const MARGIN_X = 100;
const MARGIN_Y = 200;
const OFFSCREEN_SHARE = 0.75;
const OFFSCREEN_MIN_BYTES = 2048;
// An animated GIF is worth a hint when another animated format saves at
// least this share of it (and at least the scan's minimum saving).
const GIF_SHARE = 0.2;

/** Whether an attribute value is a usable width/height (a number, not a percentage). */
export function validDimension(v) {
  return typeof v === 'string' && /^\s*\d+(\.\d+)?(px)?\s*$/i.test(v) && parseFloat(v) > 0;
}

/** Whether the element defers its loading: loading="lazy", or a script lazy-loader's data-src. */
export function isLazy(el) {
  return !!el && (el.loading === 'lazy' || !!el.lazyJs);
}

function area(x0, y0, x1, y1) {
  return Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
}

/**
 * The share (0-1) of an element's box outside the first viewport at page
 * load (document coordinates), widened by Lighthouse's margins.
 */
export function offscreenShare(el, w, h) {
  if (!el || !(w > 0 && h > 0) || !(el.vw > 0 && el.vh > 0)) return 0;
  const seen = area(Math.max(el.x, -MARGIN_X), Math.max(el.y, 0), Math.min(el.x + w, el.vw + MARGIN_X), Math.min(el.y + h, el.vh + MARGIN_Y));
  return 1 - seen / (w * h);
}

/** The part of an element's box (CSS px²) inside the first viewport at page load. */
export function aboveFoldArea(el, w, h) {
  if (!el || !(w > 0 && h > 0) || !(el.vw > 0 && el.vh > 0)) return 0;
  return area(Math.max(el.x, 0), Math.max(el.y, 0), Math.min(el.x + w, el.vw), Math.min(el.y + h, el.vh));
}

/**
 * The index of the LCP candidate: the image element of the top frame with
 * the largest area above the fold, or -1. Only <img> elements are looked at
 * (a CSS background carries no loading or fetchpriority to fix).
 */
export function lcpIndex(images) {
  let best = -1;
  let most = 0;
  (images || []).forEach((im, i) => {
    if (!im || !im.el || im.el.tag !== 'img' || im.hidden || (im.frameId ?? 0) !== 0) return;
    const a = aboveFoldArea(im.el, im.displayWidth, im.displayHeight);
    if (a > most) { most = a; best = i; }
  });
  return best;
}

/** Whether CSS alone gives the image its box (Lighthouse's unsized-images rule). */
export function isSized(el) {
  if (!el) return true;
  const w = validDimension(el.widthAttr);
  const h = validDimension(el.heightAttr);
  if (w && h) return true;
  const css = el.css;
  // No CSS facts: the image had no box, nothing can shift.
  if (!css) return true;
  if (css.pos === 'absolute' || css.pos === 'fixed') return true;
  const W = w || css.w;
  const H = h || css.h;
  return (W && H) || (css.ar && (W || H));
}

/**
 * The page's hints for every image of a scan's list, as codes (no
 * sentences): the LCP candidate lazy-loaded or without fetchpriority="high",
 * off-screen at load and not lazy, no width/height.
 * @returns {string[][]}
 */
export function pageHints(images) {
  const lcp = lcpIndex(images);
  return (images || []).map((im, i) => {
    const out = [];
    const el = im && im.el;
    if (!el || im.hidden || !(im.displayWidth > 0 && im.displayHeight > 0)) return out;
    // Bytes already in the page (data:, blob:) are fetched by nothing.
    const fetched = /^https?:/i.test(im.url || '');
    if (i === lcp) {
      if (isLazy(el)) out.push('lcp-lazy');
      if (el.fetchpriority !== 'high') out.push('lcp-no-fetchpriority');
    } else if (fetched && el.tag === 'img' && !isLazy(el) && offscreenShare(el, im.displayWidth, im.displayHeight) >= OFFSCREEN_SHARE) {
      out.push('offscreen-eager');
    }
    if (!isSized(el)) out.push('no-dimensions');
    return out;
  });
}

/** The width and height attributes an image should carry: its own, else its displayed size. */
export function dimensionsFor(im, file) {
  const el = im && im.el;
  if (el && validDimension(el.widthAttr) && validDimension(el.heightAttr)) {
    return { width: Math.round(parseFloat(el.widthAttr)), height: Math.round(parseFloat(el.heightAttr)) };
  }
  if (im && im.displayWidth > 0 && im.displayHeight > 0) return { width: Math.round(im.displayWidth), height: Math.round(im.displayHeight) };
  if (file && file.width > 0 && file.height > 0) return { width: file.width, height: file.height };
  return null;
}

/** The one-line fix for a page hint. */
export function hintFix(code, im) {
  if (code === 'no-dimensions') {
    const d = dimensionsFor(im);
    const fix = d ? t('hint_no_dimensions', [String(d.width), String(d.height)]) : t('hint_no_dimensions_unknown');
    // Style sheets of another site cannot be read from the page (nor rules
    // past the 200 ms bound): one of them may size the image, so say so.
    return im && im.el && im.el.css && im.el.css.opaque ? `${fix} ${t('hint_no_dimensions_opaque')}` : fix;
  }
  if (code === 'offscreen-eager') return t('hint_offscreen_eager');
  if (code === 'lcp-lazy') return t('hint_lcp_lazy');
  if (code === 'lcp-no-fetchpriority') return t('hint_lcp_no_fetchpriority');
  return code;
}

/**
 * The animated-GIF hint from the helper's result: the smallest animated
 * candidate in another format, when it saves enough. Null otherwise.
 */
export function gifHint(r, minSavingsBytes = 0) {
  const o = r && r.original;
  if (!o || !o.animated || o.format !== 'gif' || !(o.bytes > 0)) return null;
  let c = null;
  for (const x of r.candidates || []) if (x && x.format !== 'gif' && x.bytes > 0 && (!c || x.bytes < c.bytes)) c = x;
  if (!c) return null;
  const saved = o.bytes - c.bytes;
  if (saved < Math.max(minSavingsBytes, o.bytes * GIF_SHARE)) return null;
  const pct = Math.round((saved / o.bytes) * 100);
  return { code: 'animated-gif', fix: t('hint_animated_gif', [formatName(c.format), formatBytes(c.bytes), formatBytes(o.bytes), String(pct)]), format: c.format, bytes: c.bytes };
}

/**
 * Every hint of a row, [{code, fix}]: the page's (kept on the image by the
 * service worker) and the animated-GIF one from its result.
 */
export function rowHints(im, r, { minSavingsBytes = 0 } = {}) {
  // Lighthouse leaves out off-screen images that would save under 2 KiB; a
  // file that small loaded at once costs next to nothing.
  const tiny = !!(r && r.original && r.original.bytes > 0 && r.original.bytes < OFFSCREEN_MIN_BYTES);
  const out = Array.isArray(im && im.hints)
    ? im.hints.filter((h) => h && typeof h.code === 'string' && !(tiny && h.code === 'offscreen-eager')).map((h) => ({ code: h.code, fix: h.fix }))
    : [];
  const g = gifHint(r, minSavingsBytes);
  if (g) out.push({ code: g.code, fix: g.fix });
  return out;
}

/** Page hints with their sentences, for the service worker to keep on each image. */
export function withFixes(images) {
  return pageHints(images).map((codes, i) => codes.map((code) => ({ code, fix: hintFix(code, images[i]) })));
}
