// The report a person exports from the popup: the same rows as JSON (each
// image shaped like a line of `imgdiet-host optimize --json`, with additive
// fields), CSV (RFC 4180, one row per image, safe from formula injection)
// and a self-contained HTML page (inline CSS, no scripts, nothing remote).
// docs/report.md describes the format. Pure functions.

import { t } from './i18n.js';
import { formatBytes, formatName, dims } from './format.js';
import { totals, reasonsOf } from './results.js';
import { rowStems, stemFileName, variantPath } from './naming.js';
import { rowHints } from './hints.js';
import { markupFor, hasMarkup, chosenFile } from './markup.js';
import { describeSettings, DEFAULTS } from './settings-core.js';

/** The `format` of a report object, and its version. */
export const REPORT_FORMAT = 'imagediet-report';
export const REPORT_VERSION = 1;

/** Fields a report image adds to a CLI result line (docs/report.md). */
export const ADDITIVE_FIELDS = Object.freeze(['lost', 'file', 'displayWidth', 'displayHeight', 'onScreen', 'kinds', 'hints', 'markup', 'variants', 'chosen']);

/** The keys of the summary, as in the CLI's done line. */
export const SUMMARY_FIELDS = Object.freeze(['images', 'optimized', 'optimal', 'failed', 'originalBytes', 'optimizedBytes', 'savedBytes', 'elapsedMs']);

// A candidate as the CLI prints it: no key (held bytes live only in the
// helper's session); distance where the helper measured one.
function file(c) {
  if (!c) return null;
  const o = { format: c.format, bytes: c.bytes, width: c.width, height: c.height };
  if (c.quality) o.quality = c.quality;
  if (typeof c.distance === 'number') o.distance = c.distance;
  return o;
}

/**
 * One image of the report: the fields of a CLI `--json` result line, in
 * its order and with its omissions (proto.Result), then the additive ones.
 */
export function reportImage(state, i, { stems, chosenOf = () => undefined } = {}) {
  const im = state.images[i];
  const r = state.results[i];
  const o = { type: 'result', index: i, final: !!(r && r.final), verified: !!(r && r.verified), url: (r && r.url) || im.url, status: (r && r.status) || 'pending' };
  if (r && r.original) o.original = { bytes: r.original.bytes, format: r.original.format, width: r.original.width, height: r.original.height, animated: !!r.original.animated };
  o.best = r && r.best ? file(r.best) : null;
  if (r && r.candidates && r.candidates.length) o.candidates = r.candidates.map(file);
  o.savedBytes = (r && r.savedBytes) || 0;
  o.savedPercent = (r && r.savedPercent) || 0;
  if (r && r.reasons && r.reasons.length) o.reasons = [...r.reasons];
  if (r && r.skipped && r.skipped.length) o.skipped = r.skipped.map((s) => ({ format: s.format, reason: s.reason }));
  if (r && r.note) o.note = r.note;
  if (r && r.error) o.error = { code: r.error.code, message: r.error.message, ...(r.error.httpStatus ? { httpStatus: r.error.httpStatus } : {}) };

  const stem = stems[i];
  const key = chosenOf(i);
  const take = chosenFile(r, key);
  if (r && r.lost) o.lost = true;
  o.file = take ? stemFileName(stem, take.format) : null;
  o.displayWidth = im.displayWidth || 0;
  o.displayHeight = im.displayHeight || 0;
  o.onScreen = !!im.onScreen;
  o.kinds = [...(im.kinds || [])];
  o.hints = rowHints(im, r, { minSavingsBytes: state.settings?.minSavingsBytes ?? DEFAULTS.minSavingsBytes });
  const v = state.variants && state.variants[i];
  o.markup = hasMarkup(im, r) ? markupFor({ im, r, stem, variants: v, chosen: key }).html : null;
  o.variants = v && v.variants ? v.variants.map((w) => ({ width: w.width, height: w.height, files: w.files.filter((f) => f && f.key).map((f) => ({ name: variantPath(stem, w.width, f.format), ...file({ ...f, width: w.width, height: w.height }) })) })) : [];
  o.chosen = key && take && take !== r.best ? file(take) : null;
  return o;
}

/** The summary in the CLI's done-line shape: the scan's, or totals so far. */
export function reportSummary(state) {
  const s = state.summary;
  const src = s && typeof s === 'object' ? s : totals(state.results, state.images.length);
  const out = {};
  for (const k of SUMMARY_FIELDS) out[k] = Number(src[k]) || 0;
  return out;
}

/**
 * The report object: page, time, settings, summary and every image in
 * page order. `now` is the export time (ms).
 */
export function buildReport(state, { now = Date.now(), chosenOf, version = '' } = {}) {
  const stems = rowStems(state.images);
  return {
    type: 'report',
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    tool: { name: 'Image Diet', version },
    page: { url: state.pageUrl || '', site: state.site || '' },
    time: new Date(state.finishedAt || state.startedAt || now).toISOString(),
    exportedAt: new Date(now).toISOString(),
    status: state.status || '',
    settings: { ...(state.settings || {}) },
    summary: reportSummary(state),
    images: state.images.map((_, i) => reportImage(state, i, { stems, chosenOf })),
  };
}

/** The report as JSON text (UTF-8, two-space indent). */
export function toJSON(report) {
  return JSON.stringify(report, null, 2) + '\n';
}

/**
 * Reads a report's JSON, or the lines `imgdiet-host optimize --json`
 * prints, into {images, summary, page?, time?, settings?}: one reader for
 * both, so scripts and CI can take either.
 */
export function readResults(text) {
  const s = String(text).trim();
  if (s.startsWith('{') && !s.includes('\n{')) {
    const o = JSON.parse(s);
    if (o && o.type === 'report') return { images: o.images, summary: o.summary, page: o.page, time: o.time, settings: o.settings };
  }
  const images = [];
  let summary = null;
  for (const line of s.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const o = JSON.parse(line);
    if (o.type === 'result') images.push(o);
    else if (o.type === 'done') summary = o.summary;
  }
  return { images, summary };
}

// ---- CSV -------------------------------------------------------------------

/** The CSV's columns, in order. */
export const CSV_COLUMNS = Object.freeze([
  'page', 'time', 'settings', 'index', 'url', 'status', 'final', 'verified',
  'original_format', 'original_bytes', 'original_width', 'original_height', 'animated',
  'best_format', 'best_bytes', 'best_width', 'best_height', 'best_quality', 'saved_bytes', 'saved_percent',
  'file', 'chosen_format', 'alternatives', 'reasons', 'hints', 'fixes', 'markup', 'variants', 'note', 'error',
]);

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line
 * break, quotes doubled. Text that a spreadsheet would run as a formula
 * (starting with = + - @, or a tab or carriage return) gets a leading '.
 */
export function csvCell(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The report as CSV: a header row and one row per image, CRLF line ends. */
export function toCSV(report) {
  const settings = describeSettings(report.settings);
  const rows = [CSV_COLUMNS.join(',')];
  for (const im of report.images) {
    const o = im.original || {};
    const b = im.best || {};
    const cells = {
      page: report.page.url, time: report.time, settings, index: im.index, url: im.url, status: im.status, final: im.final, verified: im.verified,
      original_format: o.format, original_bytes: o.bytes, original_width: o.width, original_height: o.height, animated: im.original ? !!o.animated : null,
      best_format: b.format, best_bytes: b.bytes, best_width: b.width, best_height: b.height, best_quality: b.quality, saved_bytes: im.savedBytes, saved_percent: im.savedPercent,
      file: im.file, chosen_format: im.chosen ? im.chosen.format : null,
      alternatives: (im.candidates || []).map((c) => `${c.format} ${c.bytes} B ${c.width}x${c.height}${c.quality ? ` q${c.quality}` : ''}`).join('; '),
      reasons: (im.reasons || []).join('; '),
      hints: im.hints.map((h) => h.code).join('; '),
      fixes: im.hints.map((h) => h.fix).join(' | '),
      markup: im.markup,
      variants: im.variants.map((v) => `${v.width}w: ${v.files.map((f) => `${f.format} ${f.bytes} B`).join(', ')}`).join('; '),
      note: im.note, error: im.error ? im.error.message : null,
    };
    rows.push(CSV_COLUMNS.map((c) => csvCell(cells[c])).join(','));
  }
  return rows.join('\r\n') + '\r\n';
}

/** Parses RFC 4180 CSV into rows of strings (for tests and scripts). */
export function parseCSV(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

// ---- HTML ------------------------------------------------------------------

/** Escapes text for HTML content and attribute values. */
export function escapeHTML(s) {
  return String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f1f1f;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 6px}
.muted{color:#5f6368}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dt{color:#5f6368}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}th,td{border-top:1px solid #ddd;padding:6px 8px;vertical-align:top;text-align:left}
th{background:#f5f5f5;font-weight:600}td.num{text-align:right;white-space:nowrap}.url{overflow-wrap:anywhere;font-size:12px}
ul{margin:0;padding-left:16px}pre{margin:4px 0 0;padding:6px;background:#f5f5f5;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
.saved{color:#137333;font-weight:600}.error{color:#b3261e}
@media (prefers-color-scheme:dark){body{background:#1f1f1f;color:#e8eaed}th,pre{background:#2d2d2d}th,td{border-color:#444}.muted,dt{color:#9aa0a6}.saved{color:#81c995}.error{color:#f28b82}}
`.trim();

const STATUS_KEYS = { optimized: 'report_status_optimized', optimal: 'report_status_optimal', error: 'report_status_error', pending: 'report_status_pending' };
const REASON_KEYS = { resize: 'report_reason_resize', format: 'report_reason_format', compression: 'report_reason_compression', metadata: 'report_reason_metadata' };

function cellFile(f) {
  return f && f.format ? `${formatName(f.format)} ${dims(f.width, f.height)} · ${formatBytes(f.bytes)}` : '';
}

/**
 * The report as one HTML page: no scripts, no remote resources (a CSP
 * that forbids them), inline CSS; rows sorted by bytes saved.
 */
export function toHTML(report) {
  const e = escapeHTML;
  const s = report.summary;
  const rows = [...report.images].sort((a, b) => (b.savedBytes - a.savedBytes) || (a.index - b.index));
  const body = rows.map((im) => {
    const alt = (im.candidates || []).map((c) => `<li>${e(cellFile(c))}${typeof c.distance === 'number' ? ` <span class="muted">${e(t('report_distance', [c.distance.toFixed(2)]))}</span>` : ''}</li>`).join('');
    const why = reasonsOf(im).map((x) => e(REASON_KEYS[x] ? t(REASON_KEYS[x]) : x)).join(', ');
    const hints = im.hints.map((h) => `<li data-code="${e(h.code)}">${e(h.fix)}</li>`).join('');
    const variants = im.variants.length ? `<ul>${im.variants.map((v) => `<li>${e(`${v.width}w: ${v.files.map((f) => `${f.name} (${formatBytes(f.bytes)})`).join(', ')}`)}</li>`).join('')}</ul>` : '';
    return `<tr data-index="${im.index}">
<td class="num">${im.index + 1}</td>
<td><div class="url">${e(im.url)}</div>${im.file ? `<div class="muted">${e(t('report_file', [im.file]))}</div>` : ''}</td>
<td>${e(t(STATUS_KEYS[im.status] || 'report_status_pending'))}${im.verified ? '' : ` <span class="muted">${e(t('report_unverified'))}</span>`}${im.error ? `<div class="error">${e(im.error.message)}</div>` : ''}${im.note ? `<div class="muted">${e(im.note)}</div>` : ''}</td>
<td>${e(cellFile(im.original))}</td>
<td>${e(cellFile(im.chosen || im.best))}</td>
<td class="num">${im.savedBytes ? `<span class="saved">−${e(formatBytes(im.savedBytes))}</span><br>${e(Math.round(im.savedPercent))} %` : ''}</td>
<td>${alt ? `<ul>${alt}</ul>` : ''}${why ? `<div class="muted">${why}</div>` : ''}</td>
<td>${hints ? `<ul>${hints}</ul>` : ''}${im.markup ? `<pre>${e(im.markup)}</pre>` : ''}${variants}</td>
</tr>`;
  }).join('\n');
  const head = ['report_col_n', 'report_col_image', 'report_col_status', 'report_col_original', 'report_col_best', 'report_col_saved', 'report_col_alternatives', 'report_col_hints'].map((k) => `<th scope="col">${e(t(k))}</th>`).join('');
  return `<!doctype html>
<html lang="${e(t('report_lang'))}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light dark">
<title>${e(t('report_title', [report.page.site || report.page.url]))}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${e(t('report_title', [report.page.site || report.page.url]))}</h1>
<dl>
<dt>${e(t('report_page'))}</dt><dd>${e(report.page.url)}</dd>
<dt>${e(t('report_time'))}</dt><dd>${e(report.time)}</dd>
<dt>${e(t('report_settings'))}</dt><dd>${e(describeSettings(report.settings))}</dd>
<dt>${e(t('report_summary'))}</dt><dd>${e(t('report_summary_text', [String(s.images), formatBytes(s.originalBytes), formatBytes(s.optimizedBytes), formatBytes(s.savedBytes), String(s.optimized), String(s.optimal), String(s.failed)]))}</dd>
</dl>
<table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
<p class="muted">${e(t('report_footer', [report.exportedAt]))}</p>
</body>
</html>
`;
}
