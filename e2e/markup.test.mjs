// Delivery hints and markup with the real helper in Chromium: the hints the
// collector finds on a fixture page, the copied markup (it parses, names
// files the ZIP holds, and its srcset widths are the variants' real widths),
// and the keyboard path to the new controls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, listFiles, readZip, readDownload, sniff, decodeInPage, EXT_ID } from './harness.mjs';
import { popupSuite } from './suite.mjs';

const h = popupSuite();
const { skip } = h;
const MIME = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif' };
const ZIP = 'Image Diet/127.0.0.1/127.0.0.1-optimized.zip';

let popup;
let tabId;
let st;
const byName = (name) => st.images.findIndex((im) => im.url.endsWith(`/img/${name}`));
const codes = (i) => (st.images[i].hints || []).map((x) => x.code);

/** Parses markup in the popup with DOMParser: every <img>/<source> with its attributes. */
const parse = (html) => popup.evaluate((text) => {
  const doc = new DOMParser().parseFromString(`<body>${text}</body>`, 'text/html');
  const tags = [...doc.body.querySelectorAll('img, source, picture')].map((e) => ({ tag: e.localName, attrs: Object.fromEntries([...e.attributes].map((a) => [a.name, a.value])) }));
  return { tags, top: [...doc.body.children].map((e) => e.localName), text: doc.body.textContent.trim() };
}, html);

const markupOf = async (i) => {
  const row = `[data-testid=result-row][data-index="${i}"]`;
  if (await popup.$eval(`${row} [data-testid=markup]`, (e) => e.hidden)) await popup.click(`${row} [data-testid=markup-toggle]`);
  return popup.$eval(`${row} [data-testid=markup-code]`, (e) => e.textContent);
};

async function downloadZip() {
  rmSync(join(h.b.profile.downloads, ZIP), { force: true });
  await popup.click('[data-testid=download-all]');
  // A ZIP that does not read yet is still being written.
  return readDownload(h.b.profile.downloads, ZIP, { read: readZip });
}

test('the collector finds the delivery hints of the fixture page', { skip }, async () => {
  await h.page.goto(`${h.srv.origin}/hints.html`);
  // Scrolled down: the hints still speak of the page as it loads, at its top.
  await h.page.evaluate(() => document.querySelector('img[alt=below]').scrollIntoView());
  tabId = await h.tabId();
  popup = await h.b.openPopup(h.page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 120000 });
  st = await h.state(tabId);
  assert.deepEqual(codes(byName('hero-photo.jpg')), ['lcp-lazy', 'lcp-no-fetchpriority'], 'the LCP candidate, sized by CSS');
  assert.deepEqual(codes(byName('unsized-graphic.png')), ['no-dimensions']);
  assert.deepEqual(codes(byName('ratio-small.png')), [], 'CSS width and aspect-ratio size it');
  assert.deepEqual(codes(byName('imported-graphic.png')), [], 'a rule of an @imported sheet sizes it');
  assert.deepEqual(codes(byName('set-small.jpg')), []);
  assert.deepEqual(codes(byName('below-photo.jpg')), ['offscreen-eager']);
  assert.deepEqual(codes(byName('lazy-photo.jpg')), [], 'lazy already');
  assert.deepEqual(st.images[byName('set-small.jpg')].srcsetWidths, [400, 800]);
  assert.equal(st.images[byName('hero-photo.jpg')].onScreen, false, 'scrolled out of view');
  assert.equal(st.images[byName('below-photo.jpg')].onScreen, true, 'scrolled into view');
  const hero = st.images[byName('hero-photo.jpg')].el;
  assert.equal(hero.alt, 'Hero "photo" & more');
  assert.equal(hero.loading, 'lazy');
  // Each hint is one line on its row, with its fix.
  const rows = await popup.$$eval('[data-testid=result-row]', (es) => es.map((e) => ({ i: Number(e.dataset.index), hints: [...e.querySelectorAll('[data-testid=hint]')].map((x) => ({ code: x.dataset.code, text: x.textContent })) })));
  for (const r of rows) {
    const want = (st.images[r.i].hints || []).map((x) => x.code);
    const gif = st.results[r.i]?.original?.animated ? ['animated-gif'] : [];
    assert.deepEqual(r.hints.map((x) => x.code), [...want, ...gif], st.images[r.i].url);
  }
  const below = rows.find((r) => r.i === byName('below-photo.jpg'));
  assert.match(below.hints[0].text, /loading="lazy"/);
  const gifRow = rows.find((r) => r.i === byName('anim.gif'));
  const gr = st.results[byName('anim.gif')];
  assert.equal(gr.original.animated, true);
  assert.match(gifRow.hints[0].text, new RegExp(`^Animated GIF: as an animated (WebP|AVIF) it would be [\\d.]+ (B|kB) instead of ${(gr.original.bytes / 1000).toFixed(1)} kB`));
});

test('the copied markup parses, applies the hints and names files the ZIP holds', { skip }, async () => {
  const hero = byName('hero-photo.jpg');
  const html = await markupOf(hero);
  const p = await parse(html);
  const hr = st.results[hero];
  // An AVIF or WebP answer stands over the page's own JPEG for browsers that cannot read it.
  const modern = ['avif', 'webp'].includes(hr.best.format);
  assert.deepEqual(p.top, [modern ? 'picture' : 'img'], html);
  assert.equal(p.text, '', 'nothing but tags');
  if (modern) {
    assert.equal(p.tags.find((x) => x.tag === 'source').attrs.type, `image/${hr.best.format}`);
    assert.equal(p.tags.find((x) => x.tag === 'img').attrs.src, st.images[hero].url, 'the fallback is the page\'s own file');
  }
  const a = p.tags.find((x) => x.tag === 'img').attrs;
  assert.equal(a.alt, 'Hero "photo" & more');
  assert.equal(a.fetchpriority, 'high');
  assert.equal(a.loading, undefined, 'the LCP candidate is not lazy');
  assert.equal(a.decoding, 'async');
  assert.deepEqual([a.width, a.height], ['800', '600']);
  const imgOf = async (name) => (await parse(await markupOf(byName(name)))).tags.find((x) => x.tag === 'img').attrs;
  const unsized = await imgOf('unsized-graphic.png');
  const ui = st.images[byName('unsized-graphic.png')];
  assert.deepEqual([unsized.width, unsized.height], [String(Math.round(ui.displayWidth)), String(Math.round(ui.displayHeight))]);
  const below = await imgOf('below-photo.jpg');
  assert.equal(below.loading, 'lazy');

  // Copy puts exactly the shown text on the clipboard.
  const cdp = await h.b.browser.target().createCDPSession();
  await cdp.send('Browser.grantPermissions', { origin: `chrome-extension://${EXT_ID}`, permissions: ['clipboardReadWrite', 'clipboardSanitizedWrite'] });
  await popup.click(`[data-testid=result-row][data-index="${hero}"] [data-testid=copy-markup]`);
  await popup.waitForFunction((i) => document.querySelector(`[data-testid=result-row][data-index="${i}"] [role=status]`).textContent === 'Copied.', {}, hero);
  assert.equal(await popup.evaluate(() => navigator.clipboard.readText()), html);

  // Every row's markup names files that are in the ZIP, with those bytes.
  const zip = await downloadZip();
  const named = [];
  for (const i of st.results.map((r, k) => (r && r.status === 'optimized' && st.images[k].el ? k : -1)).filter((k) => k >= 0)) {
    const t = await parse(await markupOf(i));
    // The file is the <source>'s when the markup keeps the page's own file as the fallback.
    const src = (t.tags.find((x) => x.tag === 'source') || t.tags.find((x) => x.tag === 'img')).attrs[t.top[0] === 'picture' ? 'srcset' : 'src'];
    assert.ok(zip[src], `${src} in ${Object.keys(zip)}`);
    assert.equal(zip[src].length, st.results[i].best.bytes);
    assert.equal(sniff(zip[src]), st.results[i].best.format);
    named.push(src);
  }
  assert.ok(named.length >= 4, named.join());
});

test('keyboard only reaches Markup and Copy markup, with visible focus', { skip }, async () => {
  const hero = byName('hero-photo.jpg');
  // Close the panel, then walk with Tab from the row.
  const row = `[data-testid=result-row][data-index="${hero}"]`;
  if (!(await popup.$eval(`${row} [data-testid=markup]`, (e) => e.hidden))) await popup.click(`${row} [data-testid=markup-toggle]`);
  await popup.focus(row);
  const active = () => popup.evaluate(() => ({ id: document.activeElement?.dataset?.testid || document.activeElement?.tagName, visible: document.activeElement?.matches(':focus-visible') && getComputedStyle(document.activeElement).outlineStyle !== 'none' }));
  let got = null;
  for (let n = 0; n < 8 && !got; n++) {
    await popup.keyboard.press('Tab');
    const a = await active();
    if (a.id === 'markup-toggle') got = a;
  }
  assert.ok(got, 'Tab reaches Markup');
  assert.equal(got.visible, true, 'with a visible focus ring');
  await popup.keyboard.press('Enter');
  assert.equal(await popup.$eval(`${row} [data-testid=markup]`, (e) => e.hidden), false);
  const seen = [];
  for (let n = 0; n < 4; n++) {
    await popup.keyboard.press('Tab');
    const a = await active();
    seen.push(a.id);
    if (a.id === 'copy-markup') { assert.equal(a.visible, true); break; }
  }
  assert.ok(seen.includes('markup-code'), `the code can be scrolled by keyboard: ${seen}`);
  assert.equal(seen.at(-1), 'copy-markup', seen.join());
  await popup.keyboard.press('Enter');
  await popup.waitForFunction((s) => document.querySelector(`${s} [role=status]`).textContent !== '', {}, row);
});

test('with variants: the markup\'s srcset widths are the real widths of files the ZIP holds', { skip }, async () => {
  // Turn on "Make responsive variants" for the site: Save scans again.
  const before = st.scanId;
  await popup.click('[data-testid=settings]');
  await popup.waitForSelector('#settings-panel:not([hidden])');
  await popup.click('[data-testid=setting-variants]');
  await popup.click('[data-testid=save-settings]');
  const rows = () => st.images.map((im, i) => i).filter((i) => st.results[i] && st.results[i].status === 'optimized' && st.images[i].el);
  st = await waitFor(async () => {
    const s = await h.state(tabId);
    return s.scanId !== before && s.status === 'done' && s;
  }, { timeout: 180000, what: 'the scan with variants' });
  assert.equal(st.settings.variants, true);
  for (const i of rows()) assert.ok(st.variants[i], `variants for ${st.images[i].url}`);
  // Shown 300 px wide from an 800 px photo, with its own srcset of 400w and 800w.
  const set = byName('set-small.jpg');
  assert.deepEqual(st.variants[set].variants.map((v) => v.width), [300, 400, 600, 800]);
  // Not shown smaller than its pixels: no variants, and a reason.
  const hero = byName('hero-photo.jpg');
  assert.deepEqual(st.variants[hero].variants, []);
  assert.ok(st.variants[hero].reason);

  await popup.waitForSelector('#zip-variants-box:not([hidden])');
  // The keyboard reaches the choice next to Download all, with visible focus, and Space ticks it.
  await popup.focus('[data-testid=download-all]');
  let reached = false;
  for (let k = 0; k < 6 && !reached; k++) {
    await popup.keyboard.down('Shift');
    await popup.keyboard.press('Tab');
    await popup.keyboard.up('Shift');
    reached = await popup.evaluate(() => document.activeElement?.id === 'zip-variants' && document.activeElement.matches(':focus-visible') && getComputedStyle(document.activeElement).outlineStyle !== 'none');
  }
  assert.ok(reached, 'Shift+Tab from Download all reaches "with responsive variants"');
  if (!(await popup.$eval('#zip-variants', (e) => e.checked))) await popup.keyboard.press('Space');
  assert.equal(await popup.$eval('#zip-variants', (e) => e.checked), true);
  const zip = await downloadZip();
  let checked = 0;
  for (const i of rows()) {
    const html = await markupOf(i);
    const p = await parse(html);
    const v = st.variants[i].variants;
    if (!v.length) {
      const img = p.tags.find((x) => x.tag === 'img');
      assert.equal(img.attrs.srcset, undefined, st.images[i].url);
      assert.ok(!/\s\d+w\b/.test(html), `no width descriptors without variants: ${html}`);
      continue;
    }
    const formats = [...new Set(v[0].files.map((f) => f.format))];
    assert.deepEqual(p.top, [formats.length > 1 ? 'picture' : 'img'], html);
    const sets = p.tags.filter((x) => x.tag !== 'picture');
    assert.equal(sets.length, formats.length);
    for (const tag of sets) {
      const entries = tag.attrs.srcset.split(', ').map((s) => s.split(' '));
      assert.deepEqual(entries.map(([, w]) => Number(w.slice(0, -1))), v.map((x) => x.width), html);
      assert.equal(tag.attrs.sizes, st.images[i].el.sizes || `${Math.round(st.images[i].displayWidth)}px`);
      for (const [path, w] of entries) {
        const bytes = zip[path];
        assert.ok(bytes, `${path} in the ZIP (${Object.keys(zip).join(', ')})`);
        const fmt = sniff(bytes);
        if (tag.tag === 'source') assert.equal(MIME[fmt], tag.attrs.type, path);
        const d = await decodeInPage(h.page, bytes, MIME[fmt]);
        assert.equal(`${d.width}w`, w, `${path} is ${d.width} px wide`);
        checked++;
      }
    }
    const img = sets.find((x) => x.tag === 'img');
    assert.ok(zip[img.attrs.src], img.attrs.src);
  }
  assert.ok(checked >= 4, `files checked: ${checked}`);
  // The exported report names the same variant files, with the same markup.
  const reports = listFiles(h.b.profile.downloads).filter((f) => f.endsWith('.json')).length;
  await popup.click('[data-testid=export]');
  const json = await waitFor(() => { const all = listFiles(h.b.profile.downloads).filter((f) => f.endsWith('.json')); return all.length > reports && all.sort().at(-1); }, { what: 'the report', timeout: 15000 });
  const report = await readDownload(h.b.profile.downloads, json, { read: (b) => JSON.parse(b.toString('utf8')) });
  assert.equal(report.settings.variants, true);
  for (const i of rows()) {
    const im = report.images[i];
    assert.deepEqual(im.variants.map((v) => v.width), st.variants[i].variants.map((v) => v.width));
    for (const v of im.variants) for (const f of v.files) assert.equal(zip[f.name]?.length, f.bytes, f.name);
    assert.equal(im.markup, await markupOf(i));
  }
  // The main files are still at the top of the ZIP.
  for (const i of rows()) assert.ok(Object.keys(zip).some((n) => !n.includes('/') && n.startsWith(st.images[i].url.split('/').pop().replace(/\.\w+$/, ''))));
});
