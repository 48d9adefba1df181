import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useMessages } from '../lib/i18n.js';
import { validDimension, isLazy, offscreenShare, lcpIndex, isSized, pageHints, dimensionsFor, gifHint, rowHints, withFixes, HINT_CODES } from '../lib/hints.js';
import { buildImageList, srcsetWidths, toScanImage } from '../lib/images.js';

before(() => useMessages(JSON.parse(readFileSync(new URL('../_locales/en/messages.json', import.meta.url), 'utf8'))));
after(() => useMessages(null));

// A viewport of 1000×800 at the top of the page.
const el = (o = {}) => ({ tag: 'img', loading: '', fetchpriority: '', decoding: '', widthAttr: '400', heightAttr: '300', alt: 'a', sizes: '', x: 0, y: 0, vw: 1000, vh: 800, ...o });
const img = (o = {}, e = {}) => ({ url: 'https://a.example/p.jpg', displayWidth: 400, displayHeight: 300, frameId: 0, el: el(e), ...o });

test('width/height attribute values', () => {
  for (const ok of ['400', ' 400 ', '12.5', '300px']) assert.equal(validDimension(ok), true, ok);
  for (const bad of ['', '50%', 'auto', '0', null, undefined, 'x1']) assert.equal(validDimension(bad), false, String(bad));
});

test('lazy: the attribute or a script loader', () => {
  assert.equal(isLazy(el({ loading: 'lazy' })), true);
  assert.equal(isLazy(el({ lazyJs: true })), true);
  assert.equal(isLazy(el({ loading: 'eager' })), false);
});

test('off-screen share uses the first viewport widened by 100 px aside and 200 px below', () => {
  assert.equal(offscreenShare(el({ y: 0 }), 400, 300), 0);
  assert.equal(offscreenShare(el({ y: 1000 }), 400, 300), 1);
  // 800 + 200 = 1000: a box starting at 925 has a quarter inside.
  assert.equal(offscreenShare(el({ y: 925 }), 400, 300), 0.75);
  assert.equal(offscreenShare(el({ x: 1100, y: 0 }), 400, 300), 1);
  assert.equal(offscreenShare(el({ x: -500, y: 0 }), 400, 300), 1);
});

test('the LCP candidate is the top frame image with the most area above the fold', () => {
  const list = [
    img({ displayWidth: 100, displayHeight: 100 }),
    img({ displayWidth: 1000, displayHeight: 600 }, { y: 700 }), // 1000×100 above the fold
    img({ displayWidth: 600, displayHeight: 400 }, { y: 100 }), // all of it
    img({ displayWidth: 2000, displayHeight: 2000, frameId: 3 }),
    { url: 'https://a.example/bg.jpg', displayWidth: 1000, displayHeight: 800, frameId: 0, kinds: ['css'] },
  ];
  assert.equal(lcpIndex(list), 2);
  assert.equal(lcpIndex([img({}, { y: 900 })]), -1, 'nothing above the fold');
  assert.equal(lcpIndex([img({}, { tag: 'input' })]), -1);
});

test('sized: both attributes, explicit CSS width and height, or aspect-ratio with one of them', () => {
  assert.equal(isSized(el()), true);
  assert.equal(isSized(el({ widthAttr: null, heightAttr: null, css: { w: false, h: false, ar: false, pos: 'static' } })), false);
  assert.equal(isSized(el({ widthAttr: '400', heightAttr: null, css: { w: false, h: false, ar: false, pos: 'static' } })), false);
  assert.equal(isSized(el({ widthAttr: null, heightAttr: null, css: { w: true, h: true, ar: false, pos: 'static' } })), true);
  assert.equal(isSized(el({ widthAttr: null, heightAttr: null, css: { w: true, h: false, ar: true, pos: 'static' } })), true);
  assert.equal(isSized(el({ widthAttr: '400', heightAttr: null, css: { w: false, h: false, ar: true, pos: 'static' } })), true);
  assert.equal(isSized(el({ widthAttr: null, heightAttr: null, css: { w: false, h: false, ar: true, pos: 'static' } })), false, 'aspect-ratio alone sizes nothing');
  assert.equal(isSized(el({ widthAttr: '50%', heightAttr: '50%', css: { w: false, h: false, ar: false, pos: 'static' } })), false);
  assert.equal(isSized(el({ widthAttr: null, heightAttr: null, css: { w: false, h: false, ar: false, pos: 'absolute' } })), true, 'out of the flow');
});

test('page hints: LCP lazy and without priority, off-screen eager, unsized', () => {
  const list = [
    img({ displayWidth: 800, displayHeight: 500 }, { loading: 'lazy', widthAttr: null, heightAttr: null, css: { w: false, h: false, ar: false, pos: 'static' } }),
    img({}, { y: 3000 }), // far below, eager
    img({}, { y: 3000, loading: 'lazy' }),
    img({ url: 'data:image/png;base64,AAAA' }, { y: 3000 }),
    img({ hidden: true }, { y: 3000 }),
    img({}, { y: 100 }),
  ];
  assert.deepEqual(pageHints(list), [['lcp-lazy', 'lcp-no-fetchpriority', 'no-dimensions'], ['offscreen-eager'], [], [], [], []]);
  const high = [img({}, { fetchpriority: 'high' })];
  assert.deepEqual(pageHints(high), [[]]);
  for (const codes of pageHints(list)) for (const c of codes) assert.ok(HINT_CODES.includes(c));
});

test('each hint is one line with its fix', () => {
  const list = [img({ displayWidth: 640.4, displayHeight: 427 }, { widthAttr: null, heightAttr: null, css: { w: false, h: false, ar: false, pos: 'static' } }), img({}, { y: 3000 })];
  const fixes = withFixes(list);
  assert.deepEqual(fixes[0].map((h) => h.code), ['lcp-no-fetchpriority', 'no-dimensions']);
  assert.match(fixes[0][0].fix, /fetchpriority="high"/);
  assert.match(fixes[0][1].fix, /width="640" height="427"/);
  assert.match(fixes[1][0].fix, /loading="lazy"/);
  for (const h of fixes.flat()) assert.doesNotMatch(h.fix, /\n/);
  // A page with a style sheet it could not read: the hint says that sheet may size the image.
  const opaque = withFixes([img({ displayWidth: 640, displayHeight: 427 }, { widthAttr: null, heightAttr: null, css: { w: false, h: false, ar: false, pos: 'static', opaque: true } })]);
  assert.match(opaque[0].find((h) => h.code === 'no-dimensions').fix, /width="640" height="427"\. \(A style sheet from another site could not be read/);
  assert.doesNotMatch(fixes[0][1].fix, /style sheet/);
});

test('width and height for the markup: the element\'s own, else the displayed size, else the file', () => {
  assert.deepEqual(dimensionsFor(img()), { width: 400, height: 300 });
  assert.deepEqual(dimensionsFor(img({ displayWidth: 99.6, displayHeight: 50.2 }, { widthAttr: null })), { width: 100, height: 50 });
  assert.deepEqual(dimensionsFor({ url: 'x', displayWidth: 0, displayHeight: 0 }, { width: 8, height: 6 }), { width: 8, height: 6 });
  assert.equal(dimensionsFor({ url: 'x' }), null);
});

test('animated GIF: the smallest animated candidate in another format, when it saves enough', () => {
  const r = { original: { format: 'gif', animated: true, bytes: 500000 }, candidates: [{ format: 'gif', bytes: 450000 }, { format: 'webp', bytes: 150000 }, { format: 'avif', bytes: 200000 }] };
  const h = gifHint(r, 2048);
  assert.equal(h.code, 'animated-gif');
  assert.equal(h.format, 'webp');
  assert.match(h.fix, /animated WebP it would be 150 kB instead of 500 kB \(−70 %\)/);
  assert.equal(gifHint({ ...r, original: { ...r.original, animated: false } }), null, 'a still GIF');
  assert.equal(gifHint({ ...r, candidates: [{ format: 'webp', bytes: 450000 }] }), null, '10 % is not much smaller');
  assert.equal(gifHint({ ...r, candidates: [] }), null);
  const rows = rowHints({ hints: [{ code: 'offscreen-eager', fix: 'x' }] }, r, { minSavingsBytes: 2048 });
  assert.deepEqual(rows.map((x) => x.code), ['offscreen-eager', 'animated-gif']);
  assert.deepEqual(rowHints({}, null), []);
  // An off-screen file under 2 KiB is not worth the hint (as Lighthouse).
  const off = { hints: [{ code: 'offscreen-eager', fix: 'x' }] };
  assert.deepEqual(rowHints(off, { original: { bytes: 1500 } }), []);
  assert.deepEqual(rowHints(off, { original: { bytes: 4096 } }).map((x) => x.code), ['offscreen-eager']);
  assert.deepEqual(rowHints(off, null).map((x) => x.code), ['offscreen-eager'], 'before the answer');
});

test('the image list carries the element facts and srcset widths, and the scan sends the widths', () => {
  const frames = [{ frameId: 0, result: { url: 'https://a.example/', baseURI: 'https://a.example/', dpr: 1, items: [
    { k: 'img', cur: 'https://a.example/p-800.jpg', src: 'https://a.example/p.jpg', srcset: 'p-400.jpg 400w, p-800.jpg 800w', w: 400, h: 300, on: true, el: el({ picSrcset: 'p.avif 1200w, p-s.avif 400w' }) },
    { k: 'img', cur: 'https://a.example/q.jpg', src: 'https://a.example/q.jpg', srcset: '', w: 10, h: 10, on: true, el: el() },
  ] } }];
  const list = buildImageList(frames, { pageUrl: 'https://a.example/' });
  assert.deepEqual(list[0].srcsetWidths, [400, 800, 1200]);
  assert.equal(list[0].el.alt, 'a');
  assert.equal(list[0].el.lazyJs, false);
  assert.equal('srcsetWidths' in list[1], false);
  assert.deepEqual(toScanImage(list[0]).srcsetWidths, [400, 800, 1200]);
  assert.equal('srcsetWidths' in toScanImage(list[1]), false);
});

test('srcset widths: w descriptors only, 1-65535, at most 16 spread evenly', () => {
  assert.deepEqual(srcsetWidths('a.jpg 1x, b.jpg 2x'), []);
  assert.deepEqual(srcsetWidths('a 0w, b 70000w, c 300w', 'd 300w, e 100w'), [100, 300]);
  const many = Array.from({ length: 40 }, (_, i) => `i${i}.jpg ${100 + i * 10}w`).join(', ');
  const w = srcsetWidths(many);
  assert.equal(w.length, 16);
  assert.equal(w[0], 100);
  assert.equal(w[15], 490);
});
