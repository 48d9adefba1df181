// Turning what the collector found in a page into the scan's image list:
// srcset choice, CSS url() parsing, lazy-loader placeholders, URL resolution,
// merging duplicates, data: URL decoding and chunking. Pure functions.

import { t } from './i18n.js';

/**
 * Parses a srcset attribute (HTML's "parse a srcset attribute", without
 * error recovery for invalid descriptors: such candidates are dropped).
 * @returns {{url: string, w?: number, x?: number}[]}
 */
export function parseSrcset(srcset) {
  const out = [];
  if (typeof srcset !== 'string') return out;
  const s = srcset;
  let i = 0;
  const ws = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
  while (i < s.length) {
    while (i < s.length && (ws(s[i]) || s[i] === ',')) i++;
    if (i >= s.length) break;
    let j = i;
    while (j < s.length && !ws(s[j])) j++;
    let url = s.slice(i, j);
    i = j;
    const descs = [];
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      // Descriptors run to the next comma outside parentheses.
      let cur = '';
      let depth = 0;
      while (i < s.length) {
        const c = s[i];
        if (c === '(') depth++;
        if (c === ')' && depth > 0) depth--;
        if (c === ',' && depth === 0) { i++; break; }
        if (ws(c) && depth === 0) {
          if (cur) descs.push(cur);
          cur = '';
        } else {
          cur += c;
        }
        i++;
      }
      if (cur) descs.push(cur);
    }
    if (!url) continue;
    const cand = { url };
    let ok = true;
    for (const d of descs) {
      const m = /^(\d+(?:\.\d+)?|\.\d+)([wxh])$/i.exec(d);
      if (!m) { ok = false; break; }
      const v = Number(m[1]);
      const t = m[2].toLowerCase();
      if (t === 'w') { if (!Number.isInteger(v) || v <= 0 || 'w' in cand) ok = false; else cand.w = v; }
      else if (t === 'x') { if (v <= 0 || 'x' in cand) ok = false; else cand.x = v; }
      // "h" is reserved; ignore it.
    }
    if (ok && !('w' in cand && 'x' in cand)) out.push(cand);
  }
  return out;
}

/**
 * Picks the srcset candidate a browser would load for an image displayed at
 * displayWidth CSS pixels on a screen with the given DPR: the smallest one
 * dense enough, or the largest when none is.
 */
export function pickSrcset(cands, displayWidth, dpr = 1) {
  if (!cands || !cands.length) return null;
  const density = (c) => {
    if (c.w) return displayWidth > 0 ? c.w / displayWidth : c.w; // unknown width: prefer widest
    return c.x ?? 1;
  };
  const sorted = [...cands].sort((a, b) => density(a) - density(b));
  const need = dpr > 0 ? dpr : 1;
  if (!(displayWidth > 0) && cands.some((c) => c.w)) return sorted[sorted.length - 1];
  return sorted.find((c) => density(c) >= need - 1e-9) ?? sorted[sorted.length - 1];
}

/** At most this many srcset widths go to the helper (protocol section 5). */
export const MAX_SRCSET_WIDTHS = 16;

/**
 * The `w` widths an image's own srcset lists (and the srcset of the
 * <picture> source the browser chose), ascending, each a whole number from
 * 1 to 65535; more than 16 are thinned evenly, keeping the smallest and largest.
 */
export function srcsetWidths(...srcsets) {
  const set = new Set();
  for (const s of srcsets) {
    for (const c of parseSrcset(s)) if (c.w >= 1 && c.w <= 65535) set.add(c.w);
  }
  const all = [...set].sort((a, b) => a - b);
  if (all.length <= MAX_SRCSET_WIDTHS) return all;
  const out = [];
  for (let k = 0; k < MAX_SRCSET_WIDTHS; k++) out.push(all[Math.round(k * (all.length - 1) / (MAX_SRCSET_WIDTHS - 1))]);
  return [...new Set(out)];
}

/** Every url(...) in a CSS value (computed background-image, content, …). */
export function cssUrls(value) {
  const out = [];
  if (typeof value !== 'string' || !value.includes('url(')) return out;
  const re = /url\(\s*(?:"((?:[^"\\]|\\[\s\S])*)"|'((?:[^'\\]|\\[\s\S])*)'|((?:[^)\s\\]|\\[\s\S])*))\s*\)/g;
  let m;
  while ((m = re.exec(value))) {
    const raw = m[1] ?? m[2] ?? m[3] ?? '';
    const v = raw.replace(/\\([0-9a-fA-F]{1,6}\s?|[\s\S])/g, (_, e) =>
      /^[0-9a-fA-F]/.test(e) && /^[0-9a-fA-F]{1,6}\s?$/.test(e) ? String.fromCodePoint(parseInt(e, 16)) : e);
    if (v) out.push(v);
  }
  return out;
}

/**
 * True when an <img>'s current source looks like what lazy loaders leave
 * before the real image arrives: a small data: URL (1×1 GIF, blank SVG) or a
 * picture of at most 2×2 pixels.
 */
export function isPlaceholder(src, naturalWidth = 0, naturalHeight = 0) {
  if (!src) return true;
  if (/^data:/i.test(src) && src.length < 4096) return true;
  if (naturalWidth > 0 && naturalHeight > 0 && naturalWidth <= 2 && naturalHeight <= 2) return true;
  if (/^about:blank/i.test(src)) return true;
  return false;
}

/** Resolves a URL against a base, keeping only http(s), data:image and blob: URLs. */
export function resolveUrl(raw, base) {
  if (typeof raw !== 'string') return null;
  const t = raw.trim();
  if (!t || t.startsWith('#')) return null;
  let u;
  try { u = new URL(t, base); } catch { return null; }
  if (u.protocol === 'http:' || u.protocol === 'https:') { u.hash = ''; return u.href; }
  if (u.protocol === 'blob:') return u.href;
  if (u.protocol === 'data:') return /^data:image\//i.test(t) ? t : null;
  return null;
}

function isFileUrl(raw, base) {
  try { return typeof raw === 'string' && new URL(raw.trim(), base).protocol === 'file:'; } catch { return false; }
}

/**
 * Decodes a data: URL into {mime, base64}, or null when it is not one.
 * Percent-encoded payloads are decoded byte by byte (UTF-8 preserved).
 */
export function parseDataUrl(url) {
  const m = /^data:([^,]*?),([\s\S]*)$/i.exec(url || '');
  if (!m) return null;
  const meta = m[1].split(';').map((x) => x.trim());
  const isB64 = meta.some((x) => x.toLowerCase() === 'base64');
  const mime = (meta[0] || 'text/plain').toLowerCase();
  if (isB64) {
    let b64 = pctDecodeLatin1(m[2]).replace(/[\s]/g, '').replace(/-/g, '+').replace(/_/g, '/');
    b64 = b64.replace(/=+$/, '');
    if (!/^[A-Za-z0-9+/]*$/.test(b64) || b64.length % 4 === 1) return null;
    while (b64.length % 4) b64 += '=';
    return { mime, base64: b64 };
  }
  const bin = pctDecodeBinary(m[2]);
  return { mime, base64: btoa(bin) };
}

function pctDecodeLatin1(s) {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

// Percent-decodes to a binary string (one char per byte); other characters
// are encoded as UTF-8 bytes.
function pctDecodeBinary(s) {
  let out = '';
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c.charCodeAt(0) < 0x80) {
      out += c;
    } else {
      const cp = s.codePointAt(i);
      const ch = String.fromCodePoint(cp);
      for (const b of enc.encode(ch)) out += String.fromCharCode(b);
      i += ch.length - 1;
    }
  }
  return out;
}

/** Base64 of a UTF-8 string. */
export function utf8ToBase64(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

const BOX_FIT = /^(cover|contain|\d+(\.\d+)?px \d+(\.\d+)?px|100% 100%)$/;

/** Kinds of image sources the collector reports, as shown in the popup. */
const KIND_KEYS = {
  img: 'kind_img', lazy: 'kind_lazy', picture: 'kind_picture', css: 'kind_css',
  pseudo: 'kind_pseudo', 'svg-image': 'kind_svg_image', svg: 'kind_svg', poster: 'kind_poster',
};

/** The words for a kind of image source ("css" → "CSS background"). */
export function kindName(kind) {
  return KIND_KEYS[kind] ? t(KIND_KEYS[kind]) : kind;
}

/**
 * Builds the scan's image list from the collector's per-frame output.
 * Duplicates (same URL, or the same inline SVG text) are merged: the largest
 * display size wins, on-screen if any copy is, kinds are united.
 * @param frames [{frameId, result: {baseURI, url, dpr, items, sizes}}]
 * @param opts {includeOffscreen, includeBackgrounds, pageUrl}
 * @returns {{url, displayWidth, displayHeight, dpr, onScreen, kinds, frameId, transferSize, svg?}[]}
 */
export function buildImageList(frames, opts = {}) {
  const map = new Map();
  const stats = opts.stats || null;
  if (stats) { stats.others = stats.others || new Set(); stats.local = stats.local || 0; }
  let svgCount = 0;
  const pageBase = (() => {
    try { const u = new URL(opts.pageUrl); u.hash = ''; return u.href; } catch { return 'about:blank'; }
  })();
  const add = (key, rec) => {
    const prev = map.get(key);
    if (!prev) { map.set(key, rec); return; }
    const larger = rec.w * rec.h > prev.w * prev.h;
    if (larger) { prev.w = rec.w; prev.h = rec.h; prev.dpr = rec.dpr; prev.sized = rec.sized; }
    // The largest copy's element speaks for the image (hints, markup).
    if (rec.el && (larger || !prev.el)) { prev.el = rec.el; prev.srcsetWidths = rec.srcsetWidths; }
    prev.onScreen = prev.onScreen || rec.onScreen;
    prev.hidden = !!prev.hidden && !!rec.hidden;
    for (const k of rec.kinds) if (!prev.kinds.includes(k)) prev.kinds.push(k);
    if (!prev.transferSize && rec.transferSize) prev.transferSize = rec.transferSize;
  };
  for (const fr of frames || []) {
    const res = fr && fr.result;
    if (!res || !Array.isArray(res.items)) continue;
    const base = res.baseURI || res.url || opts.pageUrl;
    const dpr = res.dpr > 0 ? res.dpr : 1;
    const sizes = res.sizes || {};
    const push = (raw, it, kind, sized = true, extra = {}) => {
      const url = resolveUrl(raw, base);
      if (!url) {
        if (stats && isFileUrl(raw, base)) stats.local++;
        return;
      }
      const w = sized && it.w > 0 ? it.w : 0;
      const h = sized && it.h > 0 ? it.h : 0;
      add(url, { url, w, h, dpr, sized: sized && w > 0 && h > 0, onScreen: !!it.on, hidden: !!it.zero, kinds: [kind], frameId: fr.frameId ?? 0, transferSize: sizes[url] || 0, ...extra });
    };
    for (const it of res.items) {
      switch (it.k) {
        case 'img': {
          const lazyUrl = it.lazySrcset ? pickSrcset(parseSrcset(it.lazySrcset), it.w, dpr)?.url : it.lazySrc;
          const lazy = lazyUrl && resolveUrl(lazyUrl, base);
          let cur = it.cur || '';
          if (!cur && it.srcset) cur = pickSrcset(parseSrcset(it.srcset), it.w, dpr)?.url || '';
          if (!cur) cur = it.src || '';
          const curUrl = resolveUrl(cur, base);
          if (!curUrl && !lazy && stats && isFileUrl(cur, base)) stats.local++;
          const kind = it.pic && it.cur ? 'picture' : 'img';
          const extra = it.el && typeof it.el === 'object'
            ? { el: { ...it.el, lazyJs: !!(it.lazySrc || it.lazySrcset) }, srcsetWidths: srcsetWidths(it.lazySrcset || it.srcset, it.el.picSrcset) }
            : {};
          if (lazy) {
            push(lazy, it, 'lazy', true, extra);
            if (curUrl && curUrl !== lazy && !isPlaceholder(curUrl, it.nw, it.nh)) push(curUrl, it, kind, true, extra);
          } else if (curUrl) {
            // In a <picture> whose source applies but is not loaded yet, the
            // <img src> is a fallback the browser will not use.
            if (!(it.pic && !it.cur && it.picSrc)) push(curUrl, it, kind, true, extra);
          }
          break;
        }
        case 'source': {
          const c = pickSrcset(parseSrcset(it.srcset), it.w, dpr);
          if (!c) break;
          // The <img>'s currentSrc already names what the browser loaded.
          if (it.used && !it.cur) push(c.url, it, 'picture');
          else if (!it.used) {
            const url = resolveUrl(c.url, base);
            if (url && stats) stats.others.add(url);
          }
          break;
        }
        case 'css':
        case 'pseudo': {
          if (opts.includeBackgrounds === false) break;
          // Only "cover"/"contain" or explicit sizes tie the image to the box
          // (in every layer); with "auto" the image shows at its own size, so
          // it must not be resized.
          const sized = String(it.fit || '').split(',').every((f) => BOX_FIT.test(f.trim()));
          for (const u of cssUrls(it.v)) push(u, it, it.k, sized);
          break;
        }
        case 'svg-image':
        case 'poster':
          push(it.src, it, it.k);
          break;
        case 'svg': {
          if (typeof it.text !== 'string' || !it.text) break;
          const key = 'svg:' + it.text;
          if (!map.has(key)) svgCount++;
          add(key, { url: `${pageBase}#inline-svg-${svgCount}`, svg: it.text, w: it.w > 0 ? it.w : 0, h: it.h > 0 ? it.h : 0, dpr, sized: it.w > 0 && it.h > 0, onScreen: !!it.on, kinds: ['svg'], frameId: fr.frameId ?? 0, transferSize: 0 });
          break;
        }
        default:
          break;
      }
    }
  }
  const out = [];
  for (const r of map.values()) {
    if (opts.includeOffscreen === false && !r.onScreen) continue;
    if (opts.includeBackgrounds === false && r.kinds.every((k) => k === 'css' || k === 'pseudo')) continue;
    out.push({
      url: r.url,
      displayWidth: r.sized ? Math.round(r.w * 100) / 100 : 0,
      displayHeight: r.sized ? Math.round(r.h * 100) / 100 : 0,
      dpr: r.dpr,
      onScreen: r.onScreen,
      ...(r.hidden ? { hidden: true } : {}),
      kinds: r.kinds,
      frameId: r.frameId,
      transferSize: r.transferSize,
      ...(r.svg ? { svg: r.svg } : {}),
      ...(r.el ? { el: r.el } : {}),
      ...(r.srcsetWidths && r.srcsetWidths.length ? { srcsetWidths: r.srcsetWidths } : {}),
    });
  }
  return out;
}

/** An image's bytes as far as its address alone holds them (a whole data: URL), as base64; else null. */
export function bytesInUrl(im) {
  return im.url.startsWith('data:') && !im.url.endsWith('…') ? parseDataUrl(im.url)?.base64 ?? null : null;
}

/** Whether the helper needs an image's bytes from the extension (it cannot fetch data:, blob: or inline SVG). */
export function needsBytes(im) {
  return im.kinds.includes('svg') || /^(data|blob):/.test(im.url);
}

/** The protocol's `images[]` entry for one listed image (data: base64 or absent). */
export function toScanImage(img, data) {
  const o = { url: img.url };
  if (data) o.data = data;
  if (img.displayWidth > 0 && img.displayHeight > 0) {
    o.displayWidth = img.displayWidth;
    o.displayHeight = img.displayHeight;
    o.dpr = img.dpr;
  }
  if (Array.isArray(img.srcsetWidths) && img.srcsetWidths.length) o.srcsetWidths = img.srcsetWidths;
  return o;
}

/**
 * Splits scan images into chunks so that each scan message stays below
 * maxBytes of JSON and maxImages images.
 * @returns {{offset: number, images: object[]}[]}
 */
export function chunkImages(images, { maxBytes = 60 * 1024 * 1024, maxImages = 2000, overhead = 4096 } = {}) {
  const chunks = [];
  let cur = [];
  let size = overhead;
  let offset = 0;
  images.forEach((im, i) => {
    const s = JSON.stringify(im).length + 1;
    if (cur.length && (size + s > maxBytes || cur.length >= maxImages)) {
      chunks.push({ offset, images: cur });
      cur = [];
      size = overhead;
      offset = i;
    }
    cur.push(im);
    size += s;
  });
  if (cur.length) chunks.push({ offset, images: cur });
  return chunks;
}
