// Options page: the defaults for sites without their own settings, the
// file-name pattern and download folder, the saved sites (forget one or
// all), and export and import of all of these as one file.
import { listSites, forgetSite, clearAll, loadDefaults, saveDefaults, resetDefaults, loadNaming, saveNaming, resetNaming, exportAll, importAll } from './settings.js';
import { describeSettings, validateSettings, DEFAULTS_KEY, NAMING_KEY } from './lib/settings-core.js';
import { validateNaming, patternStem, stemFileName, downloadPath, fileStem } from './lib/naming.js';
import { buildFields, fillForm, readForm } from './settings-form.js';
import { t, localize } from './lib/i18n.js';
import { el } from './lib/dom.js';

const $ = (id) => document.getElementById(id);

// Each section's error box and status line (ids <name>-error, <name>-msg), after its last child.
for (const [name, section] of [['defaults', 'defaults-form'], ['naming', 'naming-form'], ['file', 'export']]) {
  const at = $(section).closest('section');
  at.append(
    el('p', { id: `${name}-error`, class: 'alert', 'data-testid': `${name}-error`, role: 'alert', tabindex: '-1', hidden: true }),
    el('p', { id: `${name}-msg`, class: 'muted', 'data-testid': `${name}-msg`, role: 'status', 'aria-live': 'polite' }),
  );
}

// ---- saved sites -------------------------------------------------------------

async function renderSites() {
  const sites = await listSites();
  $('empty').hidden = sites.length > 0;
  $('sites').hidden = sites.length === 0;
  $('clear-all').disabled = sites.length === 0;
  const rows = sites.map(({ site, settings }) => {
    const b = el('button', { type: 'button', 'data-testid': 'forget', text: t('options_forget'), 'aria-label': t('options_forget_label', site) });
    b.addEventListener('click', async () => {
      await forgetSite(site);
      $('msg').textContent = t('options_forgot', site);
    });
    return el('tr', { 'data-testid': 'site-row', 'data-site': site },
      el('th', { scope: 'row', text: site }),
      el('td', { text: describeSettings(settings) }),
      el('td', {}, b));
  });
  $('site-rows').replaceChildren(...rows);
}

$('clear-all').addEventListener('click', async () => {
  await clearAll();
  $('msg').textContent = t('options_cleared');
});

/** Shows errors in box (or hides it); true when there were any. */
function showErrors(box, errors) {
  box.textContent = errors.join(' ');
  box.hidden = !errors.length;
  if (errors.length) box.focus();
  return errors.length > 0;
}

// ---- defaults ----------------------------------------------------------------

const defaultsForm = $('defaults-form');

async function renderDefaults() {
  const { settings, saved } = await loadDefaults();
  fillForm(defaultsForm, settings);
  $('defaults-state').textContent = saved ? t('options_defaults_yours') : t('options_defaults_builtin');
  $('reset-defaults').disabled = !saved;
}

defaultsForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const { errors } = await saveDefaults(readForm(defaultsForm));
  if (showErrors($('defaults-error'), errors)) return;
  $('defaults-msg').textContent = t('options_defaults_saved');
});
defaultsForm.addEventListener('change', () => {
  if (!$('defaults-error').hidden) $('defaults-error').hidden = !validateSettings(readForm(defaultsForm)).errors.length;
});
$('reset-defaults').addEventListener('click', async () => {
  await resetDefaults();
  showErrors($('defaults-error'), []);
  $('defaults-msg').textContent = t('options_defaults_reset');
});

// ---- file names and folder -----------------------------------------------------

const namingForm = $('naming-form');
const readNaming = () => ({ pattern: namingForm.elements.pattern.value, folder: namingForm.elements.folder.value });

/** What a photo would be called with the pattern and folder being typed. */
function showExample() {
  const { naming, errors } = validateNaming(readNaming());
  const stem = patternStem(fileStem('https://example.com/photos/harbour.jpg'), naming.pattern, { width: 800, height: 533, format: 'webp', index: 2, site: 'example.com' });
  $('n-example').textContent = errors.length ? errors.join(' ') : downloadPath('example.com', stemFileName(stem, 'webp'), naming);
  $('n-example').classList.toggle('bad', errors.length > 0);
}

async function renderNaming() {
  const naming = await loadNaming();
  namingForm.elements.pattern.value = naming.pattern;
  namingForm.elements.folder.value = naming.folder;
  showExample();
}

namingForm.addEventListener('input', showExample);
namingForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const { errors } = await saveNaming(readNaming());
  if (showErrors($('naming-error'), errors)) return;
  $('naming-msg').textContent = t('options_naming_saved');
});
$('reset-naming').addEventListener('click', async () => {
  await resetNaming();
  showErrors($('naming-error'), []);
  $('naming-msg').textContent = t('options_naming_reset');
});

// ---- export and import -----------------------------------------------------------

$('export').addEventListener('click', async () => {
  showErrors($('file-error'), []);
  const data = await exportAll();
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2) + '\n'], { type: 'application/json' }));
  try {
    const day = data.exported.slice(0, 10);
    await chrome.downloads.download({ url, filename: `image-diet-settings-${day}.json`, conflictAction: 'uniquify' });
    $('file-msg').textContent = t('options_exported');
  } catch (err) {
    showErrors($('file-error'), [err.message]);
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }
});

$('import').addEventListener('click', () => $('import-file').click());
$('import-file').addEventListener('change', async (e) => {
  const file = e.target.files && e.target.files[0];
  e.target.value = '';
  if (!file) return;
  $('file-msg').textContent = '';
  const res = await importAll(await file.text());
  if (showErrors($('file-error'), res.errors.length ? [t('options_import_failed'), ...res.errors] : [])) return;
  const parts = [];
  if (res.defaults) parts.push(t('options_imported_defaults'));
  if (res.naming) parts.push(t('options_imported_naming'));
  parts.push(res.sites === 1 ? t('options_imported_site_one') : t('options_imported_sites', res.sites));
  $('file-msg').textContent = t('options_imported', parts.join(', '));
});

// ---- start -------------------------------------------------------------------------

localize();
buildFields(defaultsForm, 'd');
chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local') return;
  renderSites();
  if (changes[DEFAULTS_KEY]) renderDefaults();
  if (changes[NAMING_KEY]) renderNaming();
});
renderSites();
renderDefaults();
renderNaming();
