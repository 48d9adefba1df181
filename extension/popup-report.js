// The popup's Export control: saves the scan as a self-contained HTML
// report, a CSV and a JSON file (lib/report.js) through chrome.downloads,
// only when the person clicks. Nothing is stored: the files are made in
// memory and handed to the browser's downloads.

import { t } from './lib/i18n.js';
import { buildReport, toJSON, toCSV, toHTML } from './lib/report.js';
import { downloadPath, siteFolder } from './lib/naming.js';
import { chosenOf, stemsOf } from './popup-markup.js';

/** "20261206-191500" for a time, in UTC. */
export function stamp(ms) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');
}

function save(text, type, filename) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const done = () => URL.revokeObjectURL(url);
  return chrome.downloads.download({ url, filename, conflictAction: 'uniquify' }).then((id) => {
    const onChange = (d) => { if (d.id === id && d.state && d.state.current !== 'in_progress') { chrome.downloads.onChanged.removeListener(onChange); done(); } };
    chrome.downloads.onChanged.addListener(onChange);
    setTimeout(() => { chrome.downloads.onChanged.removeListener(onChange); done(); }, 5 * 60 * 1000);
    return id;
  }, (e) => { done(); throw e; });
}

/** Saves the three files for a scan state; resolves with their download paths. */
export async function exportReport(state) {
  const now = Date.now();
  // The rows' files named as the downloads and the markup name them (the person's pattern and folder).
  const report = buildReport(state, { now, chosenOf: (i) => chosenOf(state, i), stems: stemsOf(state), version: chrome.runtime.getManifest().version });
  const base = `${siteFolder(state.site)}-report-${stamp(now)}`;
  const files = [
    [toHTML(report), 'text/html;charset=utf-8', `${base}.html`],
    [toCSV(report), 'text/csv;charset=utf-8', `${base}.csv`],
    [toJSON(report), 'application/json', `${base}.json`],
  ];
  const paths = files.map(([, , name]) => downloadPath(state.site, name, state.naming));
  for (let k = 0; k < files.length; k++) await save(files[k][0], files[k][1], paths[k]);
  return paths;
}

/** Wires the Export button; getState returns the popup's current scan state. */
export function initReport(getState) {
  const btn = document.getElementById('export');
  const status = document.getElementById('export-status');
  if (!btn) return;
  btn.addEventListener('click', async () => {
    const st = getState();
    if (!st || !st.images.length) return;
    btn.disabled = true;
    status.textContent = '';
    try {
      await exportReport(st);
      status.textContent = t('report_saved');
    } catch (e) {
      status.textContent = t('report_failed', [String((e && e.message) || e)]);
    } finally {
      btn.disabled = false;
    }
  });
}

/** Shows Export once the scan has rows. */
export function renderReport(st) {
  const btn = document.getElementById('export');
  if (btn) btn.hidden = !(st && st.images && st.images.length);
}
