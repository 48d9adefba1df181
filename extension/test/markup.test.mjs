import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeAttr, chosenFile, hasMarkup, variantSets, deliveryAttrs, markupFor } from '../lib/markup.js';
import { rowStems, fileStem, stemFileName, variantPath } from '../lib/naming.js';

const el = (o = {}) => ({ tag: 'img', loading: '', fetchpriority: '', decoding: '', widthAttr: null, heightAttr: null, alt: 'A "red" <car> & co', sizes: '', x: 0, y: 0, vw: 1000, vh: 800, ...o });
const best = { key: 'k-best', format: 'avif', bytes: 9000, width: 800, height: 600 };
const result = (o = {}) => ({ status: 'optimized', original: { format: 'jpeg', bytes: 50000, width: 1600, height: 1200 }, best, candidates: [best, { key: 'k-webp', format: 'webp', bytes: 12000, width: 800, height: 600 }], ...o });
const im = (o = {}, e = {}) => ({ url: 'https://a.example/img/photo.jpg', displayWidth: 400, displayHeight: 300, el: el(e), hints: [], ...o });
const variants = {
  variants: [
    { width: 400, height: 300, files: [{ key: 'a4', format: 'avif', bytes: 3000 }, { key: 'w4', format: 'webp', bytes: 4000 }, { key: 'j4', format: 'jpeg', bytes: 6000 }] },
    { width: 800, height: 600, files: [{ key: 'a8', format: 'avif', bytes: 9000 }, { key: 'w8', format: 'webp', bytes: 12000 }, { key: 'j8', format: 'jpeg', bytes: 18000 }] },
  ],
};

test('attribute values are escaped', () => {
  assert.equal(escapeAttr('A "red" <car> & co'), 'A &quot;red&quot; &lt;car&gt; &amp; co');
  assert.equal(escapeAttr(null), '');
});

test('the chosen candidate, else the best; none for an optimal row', () => {
  assert.equal(chosenFile(result(), 'k-webp').format, 'webp');
  assert.equal(chosenFile(result(), 'gone').key, 'k-best');
  assert.equal(chosenFile(result({ status: 'optimal', best: null })), null);
  assert.equal(hasMarkup(im(), result()), true);
  assert.equal(hasMarkup({ url: 'x' }, result()), false, 'a CSS background has no <img> to write');
  assert.equal(hasMarkup(im(), { status: 'error' }), false);
  assert.equal(hasMarkup(im(), result({ lost: true })), false);
  assert.equal(hasMarkup(im({ url: 'data:image/png;base64,AAAA' }), { status: 'optimal' }), false, 'no data: URL in markup');
  assert.equal(hasMarkup(im({ url: 'data:image/png;base64,AAAA' }), result()), true, 'its optimized file has a name');
});

test('without variants: the single file, over the page\'s own where browsers may lack its format; hints applied', () => {
  const m = markupFor({ im: im({ hints: [{ code: 'offscreen-eager' }, { code: 'no-dimensions' }] }), r: result(), stem: 'photo' });
  assert.equal(m.html, [
    '<picture>',
    '  <source type="image/avif" srcset="photo.avif">',
    '  <img src="https://a.example/img/photo.jpg" width="400" height="300" loading="lazy" decoding="async" alt="A &quot;red&quot; &lt;car&gt; &amp; co">',
    '</picture>',
  ].join('\n'));
  assert.deepEqual(m.files, ['photo.avif']);
  assert.equal(m.picture, true);
  const chosen = markupFor({ im: im(), r: result(), stem: 'photo', chosen: 'k-webp' });
  assert.match(chosen.html, /<source type="image\/webp" srcset="photo\.webp">/);
  // A JPEG stays a plain <img>; so does an AVIF of a data: image, which has no address to fall back to.
  const jpeg = { key: 'k-jpeg', format: 'jpeg', bytes: 20000, width: 800, height: 600 };
  assert.match(markupFor({ im: im(), r: result({ best: jpeg, candidates: [jpeg] }), stem: 'photo' }).html, /^<img src="photo\.jpg" width/);
  const inline = markupFor({ im: im({ url: 'data:image/jpeg;base64,AAAA' }), r: result(), stem: 'photo' });
  assert.equal(inline.picture, false);
  assert.match(inline.html, /^<img src="photo\.avif"/);
  const optimal = markupFor({ im: im({}, { widthAttr: '400', heightAttr: '300' }), r: { status: 'optimal', best: null, original: { width: 400, height: 300 } }, stem: 'photo' });
  assert.match(optimal.html, /^<img src="https:\/\/a\.example\/img\/photo\.jpg" width="400" height="300" decoding="async"/);
  assert.deepEqual(optimal.files, []);
});

test('the LCP candidate loads at once with fetchpriority="high"; a page-lazy image stays lazy', () => {
  assert.deepEqual(deliveryAttrs(im({ hints: [{ code: 'lcp-lazy' }] }, { loading: 'lazy' })), { loading: null, decoding: 'async', fetchpriority: 'high' });
  assert.deepEqual(deliveryAttrs(im({}, { fetchpriority: 'high' })), { loading: null, decoding: 'async', fetchpriority: 'high' });
  assert.deepEqual(deliveryAttrs(im({}, { loading: 'lazy' })), { loading: 'lazy', decoding: 'async', fetchpriority: null });
  assert.deepEqual(deliveryAttrs(im()), { loading: null, decoding: 'async', fetchpriority: null });
  const m = markupFor({ im: im({ hints: [{ code: 'lcp-no-fetchpriority' }] }), r: result(), stem: 'photo' });
  assert.match(m.html, /decoding="async" fetchpriority="high" alt=/);
  assert.doesNotMatch(m.html, /loading=/);
});

test('variants in several formats: <picture> with AVIF and WebP sources and a JPEG fallback', () => {
  const m = markupFor({ im: im({}, { widthAttr: '400', heightAttr: '300' }), r: result(), stem: 'photo', variants });
  assert.equal(m.html, [
    '<picture>',
    '  <source type="image/avif" srcset="photo/photo-400w.avif 400w, photo/photo-800w.avif 800w" sizes="400px">',
    '  <source type="image/webp" srcset="photo/photo-400w.webp 400w, photo/photo-800w.webp 800w" sizes="400px">',
    '  <img src="photo/photo-400w.jpg" srcset="photo/photo-400w.jpg 400w, photo/photo-800w.jpg 800w" sizes="400px" width="400" height="300" decoding="async" alt="A &quot;red&quot; &lt;car&gt; &amp; co">',
    '</picture>',
  ].join('\n'));
  assert.equal(m.picture, true);
  assert.deepEqual(m.widths, [400, 800]);
  assert.equal(m.files.length, 6);
  assert.ok(m.files.every((f) => f.startsWith('photo/photo-')));
});

test('variants in one format: <img srcset sizes>; the page\'s own sizes is kept', () => {
  const one = { variants: variants.variants.map((v) => ({ ...v, files: v.files.filter((f) => f.format === 'webp') })) };
  const m = markupFor({ im: im({ displayWidth: 500 }, { sizes: '(max-width: 600px) 100vw, 500px' }), r: result(), stem: 'photo', variants: one });
  assert.equal(m.html, '<img src="photo/photo-800w.webp" srcset="photo/photo-400w.webp 400w, photo/photo-800w.webp 800w" sizes="(max-width: 600px) 100vw, 500px" width="500" height="300" decoding="async" alt="A &quot;red&quot; &lt;car&gt; &amp; co">');
  assert.deepEqual(variantSets(one, 'photo').map((s) => s.format), ['webp']);
  // Files the helper did not hold (no key) are not in the ZIP, so not in the markup.
  const unheld = { variants: [{ width: 400, height: 300, files: [{ key: 'a', format: 'avif', bytes: 1 }, { format: 'jpeg', bytes: 2 }] }] };
  assert.deepEqual(variantSets(unheld, 'photo').map((s) => s.format), ['avif']);
  // An empty list (with the helper's reason) gives the single-file markup.
  assert.match(markupFor({ im: im(), r: result(), stem: 'photo', variants: { variants: [], reason: 'not shown smaller' } }).html, /srcset="photo\.avif">/);
});

test('the markup parses as the HTML it claims to be', () => {
  // A small tag reader: every attribute is name="value" with no raw quote inside.
  const m = markupFor({ im: im(), r: result(), stem: 'photo', variants });
  for (const tag of m.html.match(/<(img|source)\b[^>]*>/g)) {
    const rest = tag.replace(/^<\w+/, '').replace(/>$/, '').trim();
    assert.match(rest, /^(\w+="[^"<>]*"\s*)+$/, tag);
  }
});

test('row stems are unique without regard to case and name the ZIP\'s files', () => {
  const stems = rowStems([{ url: 'https://a/x/photo.jpg' }, { url: 'https://a/y/Photo.png' }, { url: 'https://a/inline#inline-svg-1', name: 'inline-svg-1' }, { url: 'data:image/png;base64,AA' }]);
  assert.deepEqual(stems, ['photo', 'Photo-2', 'inline-svg-1', 'image-4']);
  assert.equal(stemFileName('photo', 'jpeg'), 'photo.jpg');
  assert.equal(variantPath('photo', 640, 'avif'), 'photo/photo-640w.avif');
  // Long non-ASCII names stay within the helper's 100 bytes with "-65535w".
  const long = fileStem(`https://a/${encodeURIComponent('写真'.repeat(40))}.jpg`);
  assert.ok(new TextEncoder().encode(`${long}-65535w`).length <= 100, long);
});
