// File names for downloads: "Image Diet/<site>/<name>" by default, or the
// person's pattern and folder (options page). Pure functions.

import { t } from './i18n.js';

const EXT = { jpeg: 'jpg', jpg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif', svg: 'svg', jxl: 'jxl', tiff: 'tif', heif: 'heic' };
// Windows device names; the port digits include the superscripts ¹ ² ³.
const RESERVED = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])$/i;
const KNOWN_EXT = /\.(jpe?g|png|webp|avif|gif|svg|svgz|bmp|tiff?|heic|heif|jxl|ico|jfif|pjpeg|pjp)$/i;

/** File extension for an output format ("jpeg" → "jpg"). */
export function extensionFor(format) {
  const f = String(format || '').toLowerCase();
  return EXT[f] ?? (/^[a-z0-9]{1,5}$/.test(f) ? f : 'bin');
}

/**
 * Makes one path component safe on Windows, macOS and Linux: no separators,
 * no control or reserved characters, no unpaired surrogates or replacement
 * characters (what invalid UTF-8 becomes), no leading dots, no trailing
 * dots or spaces, not a reserved device name, at most max characters.
 */
export function safeComponent(s, fallback = 'image', max = 80) {
  let v = String(s ?? '')
    .toWellFormed()
    .replace(/\ufffd/g, '')
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*\u200b-\u200f\u202a-\u202e]/g, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+/, '')
    .replace(/[\s.]+$/, '');
  if (v.length > max) v = v.slice(0, max).replace(/[\s.]+$/, '');
  if (!v || /^_+$/.test(v)) v = fallback;
  if (RESERVED.test(v.split('.')[0].trimEnd())) v = '_' + v;
  return v;
}

/** Decodes one path segment; bytes that are not UTF-8 become U+FFFD. */
function decodeSegment(seg) {
  try { return decodeURIComponent(seg); } catch { /* invalid UTF-8 in escapes */ }
  const bytes = [];
  const enc = new TextEncoder();
  for (let i = 0; i < seg.length; i++) {
    const hex = seg.slice(i + 1, i + 3);
    if (seg[i] === '%' && /^[0-9a-f]{2}$/i.test(hex)) { bytes.push(parseInt(hex, 16)); i += 2; } else bytes.push(...enc.encode(seg[i]));
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}

/** Whether a name has anything left once replacement characters, dots, spaces and underscores go. */
function usable(s) {
  return /[^\s._\ufffd]/.test(s);
}

/**
 * The base name (no extension) of the file an image URL points at, or "".
 * When the file's own name has nothing usable (only dots or spaces, bytes
 * that are not UTF-8), the nearest folder's name stands in for it.
 */
export function baseName(url) {
  let u;
  try { u = new URL(url); } catch { return ''; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'file:') return '';
  const segs = u.pathname.split('/').filter(Boolean);
  for (let k = segs.length - 1; k >= 0; k--) {
    let seg = decodeSegment(segs[k]);
    if (k === segs.length - 1) {
      if (KNOWN_EXT.test(seg)) seg = seg.replace(KNOWN_EXT, '');
      else seg = seg.replace(/\.[A-Za-z0-9]{1,5}$/, '');
    }
    if (usable(seg)) return seg;
  }
  return '';
}

/**
 * The words the popup and the compare page name an image by: its own name
 * (an inline SVG's id), the file name in its address, or what kind it is.
 */
export function imageLabel(im) {
  if (im.name) return im.name;
  if (im.url.startsWith('data:')) return t('popup_label_data');
  if (im.url.startsWith('blob:')) return t('popup_label_blob');
  try { return baseName(im.url) || new URL(im.url).hostname; } catch { return t('popup_label_image'); }
}

/** The folder name for a site (host name, made safe), "page" when none. */
export function siteFolder(site) {
  return safeComponent(site || '', 'page', 100);
}

/** The file name for one optimized image: original base name + new extension. */
export function fileName(url, format, index = 0) {
  const ext = extensionFor(format);
  const base = safeComponent(baseName(url), `image-${index + 1}`, 80 - ext.length - 1);
  return `${base}.${ext}`;
}

/**
 * The chrome.downloads filename for one file: "Image Diet/<site>/<name>",
 * or under the folder the person set (naming.folder, see folderFor).
 */
export function downloadPath(site, name, naming) {
  const dir = naming ? folderFor(site, naming) : `Image Diet/${siteFolder(site)}`;
  return dir ? `${dir}/${name}` : name;
}

/** Makes every name in the list unique (case-insensitively) by adding -2, -3… */
export function uniqueNames(names) {
  const seen = new Set();
  return names.map((n) => {
    let cand = n;
    const dot = n.lastIndexOf('.');
    const stem = dot > 0 ? n.slice(0, dot) : n;
    const ext = dot > 0 ? n.slice(dot) : '';
    for (let k = 2; seen.has(cand.toLowerCase()); k++) cand = `${stem}-${k}${ext}`;
    seen.add(cand.toLowerCase());
    return cand;
  });
}

/** The ZIP's file name for a site. */
export function zipName(site) {
  return `${siteFolder(site)}-optimized.zip`;
}

/**
 * Row labels that tell images apart: each image's base name, and where two
 * or more share one (the same file with different query strings, or in
 * different folders), the part of the URL that differs.
 * @param {string[]} bases the plain label of each row
 * @param {string[]} urls each row's URL
 * @returns {string[]}
 */
export function distinctLabels(bases, urls) {
  const groups = new Map();
  bases.forEach((b, i) => {
    if (!groups.has(b)) groups.set(b, []);
    groups.get(b).push(i);
  });
  const out = [...bases];
  for (const [b, idx] of groups) {
    if (idx.length < 2) continue;
    const parts = idx.map((i) => { try { return new URL(urls[i]); } catch { return null; } });
    const differ = (f) => new Set(parts.map((u) => (u ? f(u) : ''))).size > 1;
    let pick = null;
    if (differ((u) => u.search)) pick = (u) => decodeSafe(u.search);
    else if (differ((u) => u.pathname)) pick = (u) => decodeSafe(u.pathname.split('/').slice(0, -1).join('/') || '/');
    else if (differ((u) => u.host)) pick = (u) => u.host;
    if (!pick) continue;
    idx.forEach((i, k) => {
      const u = parts[k];
      if (!u) return;
      let d = pick(u);
      if (d.length > 48) d = d.slice(0, 47) + '…';
      out[i] = d ? `${b} ${d}` : b;
    });
  }
  return out;
}

function decodeSafe(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

// A stem leaves room for "-<width>w.<ext>" within the helper's 100 bytes
// per ZIP name part (protocol section 5), so the helper never shortens a
// name the markup already uses.
const STEM_CHARS = 75;
const STEM_BYTES = 90;

/** The file stem (no extension) for an image: its URL's base name, made safe, or image-<n>. */
export function fileStem(url, index = 0) {
  return cutStem(baseName(url), `image-${index + 1}`);
}

/**
 * Stems for every row of a scan, unique without regard to case (-2, -3…),
 * in page order. The ZIP, a single download, the markup and the report all
 * name a row's files from these, so a name never depends on which rows a
 * download holds. images: the scan's images ({url, name?}).
 */
export function rowStems(images) {
  return distinctStems((images || []).map((im, i) => fileStem(im && im.name ? `https://x/${im.name}` : im && im.url, i)));
}

/** Stems made unique without regard to case by adding -2, -3… */
function distinctStems(stems) {
  const seen = new Set();
  return stems.map((stem) => {
    let cand = stem;
    for (let k = 2; seen.has(cand.toLowerCase()); k++) cand = `${stem}-${k}`;
    seen.add(cand.toLowerCase());
    return cand;
  });
}

/** A row's file name: "<stem>.<ext>". */
export function stemFileName(stem, format) {
  return `${stem}.${extensionFor(format)}`;
}

/** A responsive variant's path in the ZIP and the markup: "<stem>/<stem>-<width>w.<ext>". */
export function variantPath(stem, width, format) {
  return `${stem}/${stem}-${width}w.${extensionFor(format)}`;
}

// ---- the person's file-name pattern and download folder (options page) ----

/** The pattern that gives today's names: the image's own base name. */
export const DEFAULT_PATTERN = '{name}';

/** The folder that gives today's paths: "Image Diet/<site>/". */
export const DEFAULT_FOLDER = 'Image Diet/{site}';

/** Naming settings for a person who set none. */
export const NAMING_DEFAULTS = Object.freeze({ pattern: DEFAULT_PATTERN, folder: DEFAULT_FOLDER });

/** Tokens a pattern may use; a folder may use {site} only. */
export const PATTERN_TOKENS = Object.freeze(['name', 'width', 'height', 'format', 'index', 'site']);

const MAX_PATTERN = 100;
const MAX_FOLDER = 200;
const MAX_FOLDER_PARTS = 5;

/**
 * Checks naming settings: a pattern of known tokens that names each row
 * apart ({name} or {index}) and holds no folder separator; a relative
 * folder without "." or ".." parts. Bad fields keep their defaults.
 * @returns {{naming: {pattern: string, folder: string}, errors: string[]}}
 */
export function validateNaming(input) {
  const out = { ...NAMING_DEFAULTS };
  const errors = [];
  if (input == null) return { naming: out, errors };
  if (typeof input !== 'object' || Array.isArray(input)) return { naming: out, errors: [t('options_err_naming')] };
  if ('pattern' in input) {
    const p = input.pattern;
    const unknown = typeof p === 'string' ? [...p.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((k) => !PATTERN_TOKENS.includes(k)) : [];
    if (typeof p !== 'string' || !p.trim() || p.length > MAX_PATTERN) errors.push(t('options_err_pattern_length', String(MAX_PATTERN)));
    else if (unknown.length) errors.push(t('options_err_pattern_token', unknown.map((k) => `{${k}}`).join(', ')));
    else if (!/\{(name|index)\}/.test(p)) errors.push(t('options_err_pattern_apart'));
    else if (/[/\\]/.test(p)) errors.push(t('options_err_pattern_slash'));
    else out.pattern = p.trim();
  }
  if ('folder' in input) {
    const f = input.folder;
    const parts = typeof f === 'string' ? f.split(/[/\\]+/).map((x) => x.trim()) : [];
    const tokens = typeof f === 'string' ? [...f.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((k) => k !== 'site') : [];
    if (typeof f !== 'string' || f.length > MAX_FOLDER) errors.push(t('options_err_folder_length', String(MAX_FOLDER)));
    else if (/^([/\\]|[a-z]:)/i.test(f.trim()) || parts.some((x) => x === '..' || x === '.')) errors.push(t('options_err_folder_relative'));
    else if (tokens.length) errors.push(t('options_err_folder_token', tokens.map((k) => `{${k}}`).join(', ')));
    else if (parts.filter(Boolean).length > MAX_FOLDER_PARTS) errors.push(t('options_err_folder_depth', String(MAX_FOLDER_PARTS)));
    else out.folder = parts.filter(Boolean).join('/');
  }
  return { naming: out, errors };
}

/** A stem cut to the bytes a ZIP name part leaves for "-<width>w.<ext>". */
function cutStem(s, fallback) {
  const enc = new TextEncoder();
  let v = safeComponent(s, fallback, STEM_CHARS);
  while (enc.encode(v).length > STEM_BYTES) v = [...v].slice(0, -1).join('').replace(/[\s.]+$/, '');
  return v || fallback;
}

/**
 * A row's stem through the pattern: {name} the image's own stem, {width}
 * and {height} the file's pixels, {format} its format ("webp"), {index} its
 * place on the page (from 1), {site} the page's site. The default pattern
 * gives the stem unchanged.
 */
export function patternStem(stem, pattern = DEFAULT_PATTERN, { width, height, format, index = 0, site } = {}) {
  if (!pattern || pattern === DEFAULT_PATTERN) return stem;
  const vals = {
    name: stem, width: width > 0 ? String(width) : '', height: height > 0 ? String(height) : '',
    format: format ? extensionFor(format) : '', index: String(index + 1), site: site || '',
  };
  const filled = pattern.replace(/\{(\w+)\}/g, (all, k) => (k in vals ? vals[k] : all));
  return cutStem(filled, stem);
}

/**
 * Every row's stem through the pattern, unique without regard to case
 * (-2, -3…), from all the page's rows: the ZIP, single downloads and the
 * markup all name a row's files from these. results give each row's
 * file ({width, height, format} of its best).
 */
export function namedStems(images, { naming, site, results } = {}) {
  const raw = rowStems(images);
  const pattern = naming && naming.pattern;
  if (!pattern || pattern === DEFAULT_PATTERN) return raw;
  return distinctStems(raw.map((stem, i) => {
    const b = results && results[i] && results[i].best;
    return patternStem(stem, pattern, { width: b && b.width, height: b && b.height, format: b && b.format, index: i, site });
  }));
}

/** The download folder for a site ("Image Diet/<site>"), each part made safe; "" for the downloads folder itself. */
export function folderFor(site, naming) {
  const folder = naming && typeof naming.folder === 'string' ? naming.folder : DEFAULT_FOLDER;
  return folder.split(/[/\\]+/)
    .map((part) => part.replace(/\{site\}/g, siteFolder(site)))
    .filter((part) => part.trim() && part !== '.' && part !== '..')
    .map((part) => safeComponent(part, '_', 100))
    .join('/');
}
