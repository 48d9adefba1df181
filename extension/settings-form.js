// The settings fields, shared by the popup (a site's settings) and the
// options page (the defaults for sites without their own): filling them
// from a settings object and reading one back. The options page builds
// its fields here; the popup's are in popup.html with the same names.

import { t } from './lib/i18n.js';
import { DEFAULTS, FORMATS } from './lib/settings-core.js';
import { el as make } from './lib/dom.js';

const CHECKS = ['resize', 'keepMetadata', 'includeBackgrounds', 'includeOffscreen', 'variants'];
const FORMAT_KEYS = { jpeg: 'format_jpeg', png: 'format_png', webp: 'format_webp', avif: 'format_avif', gif: 'format_gif' };
const CHECK_KEYS = { resize: 'popup_resize', keepMetadata: 'popup_keep_metadata', includeBackgrounds: 'popup_backgrounds', includeOffscreen: 'popup_offscreen', variants: 'markup_setting_variants' };
const MODES = [['high', 'popup_quality_high'], ['balanced', 'popup_quality_balanced'], ['small', 'popup_quality_small'], ['fixed', 'popup_quality_fixed']];


const check = (name, label, value) => make('label', {}, make('input', { type: 'checkbox', name, value }), ' ', make('span', { text: label }));

/** Builds the fields into form, ids prefixed with prefix, before form's last child (its buttons). */
export function buildFields(form, prefix) {
  const id = (x) => `${prefix}-${x}`;
  const formats = make('fieldset', {}, make('legend', { text: t('popup_formats') }), ...FORMATS.map((f) => check('formats', t(FORMAT_KEYS[f]), f)));
  const mode = make('select', { id: id('quality'), name: 'qualityMode' }, ...MODES.map(([v, k]) => make('option', { value: v, text: t(k) })));
  const qnum = make('input', { id: id('qnum'), name: 'qualityNumber', type: 'number', min: '1', max: '100', step: '1', value: '80', 'aria-label': t('popup_quality_number_label') });
  const grid = make('div', { class: 'grid' },
    make('label', { htmlFor: id('quality'), text: t('popup_quality') }), make('span', {}, mode, ' ', qnum),
    make('label', { htmlFor: id('min'), text: t('popup_min_savings') }),
    make('span', {}, make('input', { id: id('min'), name: 'minSavingsBytes', type: 'number', min: '0', step: '256' }), ' ', make('span', { text: t('popup_bytes_unit') })),
    make('label', { htmlFor: id('budget'), text: t('popup_budget') }),
    make('span', {}, make('input', { id: id('budget'), name: 'imageBudgetSeconds', type: 'number', min: '1', max: '600', step: '1' }), ' ', make('span', { text: t('popup_budget_unit') })));
  const checks = CHECKS.map((k) => check(k, t(CHECK_KEYS[k])));
  form.insertBefore(make('div', { class: 'fields' }, formats, grid, ...checks), form.lastElementChild);
  wireForm(form);
}

/** The fixed-quality number is usable only with "Fixed number". */
export function wireForm(form) {
  form.elements.qualityMode.addEventListener('change', () => {
    form.elements.qualityNumber.disabled = form.elements.qualityMode.value !== 'fixed';
  });
}

/** Shows settings in the form's fields. */
export function fillForm(form, settings) {
  const f = form.elements;
  for (const cb of form.querySelectorAll('input[name=formats]')) cb.checked = settings.formats.includes(cb.value);
  f.qualityMode.value = settings.quality === 'auto' ? settings.target : 'fixed';
  f.qualityNumber.value = settings.quality === 'auto' ? 80 : settings.quality;
  f.qualityNumber.disabled = settings.quality === 'auto';
  f.minSavingsBytes.value = settings.minSavingsBytes;
  f.imageBudgetSeconds.value = settings.imageBudgetSeconds;
  for (const k of CHECKS) f[k].checked = settings[k];
}

/** The settings the form's fields hold (empty numbers take base's). */
export function readForm(form, base = DEFAULTS) {
  const f = form.elements;
  const mode = f.qualityMode.value;
  return {
    formats: [...form.querySelectorAll('input[name=formats]:checked')].map((x) => x.value),
    quality: mode === 'fixed' ? Number(f.qualityNumber.value) : 'auto',
    target: mode === 'fixed' ? base.target : mode,
    resize: f.resize.checked,
    keepMetadata: f.keepMetadata.checked,
    minSavingsBytes: f.minSavingsBytes.value === '' ? base.minSavingsBytes : Number(f.minSavingsBytes.value),
    imageBudgetSeconds: f.imageBudgetSeconds.value === '' ? base.imageBudgetSeconds : Number(f.imageBudgetSeconds.value),
    includeBackgrounds: f.includeBackgrounds.checked,
    includeOffscreen: f.includeOffscreen.checked,
    variants: f.variants.checked,
  };
}
