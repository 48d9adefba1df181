import { test } from 'node:test';
import './en.mjs';
import assert from 'node:assert/strict';
import { parseSrcset, pickSrcset, cssUrls, isPlaceholder, resolveUrl, parseDataUrl, utf8ToBase64, buildImageList, toScanImage, chunkImages } from '../lib/images.js';

test('srcset parsing', () => {
  assert.deepEqual(parseSrcset('a.jpg 1x, b.jpg 2x'), [{ url: 'a.jpg', x: 1 }, { url: 'b.jpg', x: 2 }]);
  assert.deepEqual(parseSrcset(' a.jpg 400w ,b.jpg 800w'), [{ url: 'a.jpg', w: 400 }, { url: 'b.jpg', w: 800 }]);
  assert.deepEqual(parseSrcset('a.jpg'), [{ url: 'a.jpg' }]);
  assert.deepEqual(parseSrcset('a.jpg,b.jpg 2x'), [{ url: 'a.jpg,b.jpg', x: 2 }]);
  assert.deepEqual(parseSrcset('a.jpg, b.jpg 2x'), [{ url: 'a.jpg' }, { url: 'b.jpg', x: 2 }]);
  assert.deepEqual(parseSrcset('img.jpg?a=1,2 2x'), [{ url: 'img.jpg?a=1,2', x: 2 }]);
  assert.deepEqual(parseSrcset('data:image/png;base64,AAA= 1x'), [{ url: 'data:image/png;base64,AAA=', x: 1 }]);
  assert.deepEqual(parseSrcset('a.jpg 1q, b.jpg 2x, c.jpg 100w 2x'), [{ url: 'b.jpg', x: 2 }]);
  assert.deepEqual(parseSrcset(''), []);
  assert.deepEqual(parseSrcset(undefined), []);
});

test('srcset choice follows display width and DPR', () => {
  const c = parseSrcset('s.jpg 400w, m.jpg 800w, l.jpg 1600w');
  assert.equal(pickSrcset(c, 400, 1).url, 's.jpg');
  assert.equal(pickSrcset(c, 400, 2).url, 'm.jpg');
  assert.equal(pickSrcset(c, 500, 2).url, 'l.jpg');
  assert.equal(pickSrcset(c, 2000, 2).url, 'l.jpg');
  assert.equal(pickSrcset(c, 0, 1).url, 'l.jpg');
  const x = parseSrcset('a.jpg, b.jpg 2x, c.jpg 3x');
  assert.equal(pickSrcset(x, 100, 1).url, 'a.jpg');
  assert.equal(pickSrcset(x, 100, 1.5).url, 'b.jpg');
  assert.equal(pickSrcset(x, 100, 4).url, 'c.jpg');
  assert.equal(pickSrcset([], 100, 1), null);
});

test('css url() values', () => {
  assert.deepEqual(cssUrls('url("https://a/b.png"), linear-gradient(red, blue), url(\'c.jpg\'), url(d.gif)'), ['https://a/b.png', 'c.jpg', 'd.gif']);
  assert.deepEqual(cssUrls('url("a\\"b.png")'), ['a"b.png']);
  assert.deepEqual(cssUrls('image-set(url("a.png") 1x, url("b.png") 2x)'), ['a.png', 'b.png']);
  assert.deepEqual(cssUrls('none'), []);
  assert.deepEqual(cssUrls('url("")'), []);
  assert.deepEqual(cssUrls(null), []);
});

test('lazy-loader placeholders', () => {
  assert.equal(isPlaceholder('data:image/gif;base64,R0lGODlhAQABAAAAACw='), true);
  assert.equal(isPlaceholder("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"), true);
  assert.equal(isPlaceholder('https://x/blank.gif', 1, 1), true);
  assert.equal(isPlaceholder('https://x/real.jpg', 800, 600), false);
  assert.equal(isPlaceholder(''), true);
  assert.equal(isPlaceholder('data:image/png;base64,' + 'A'.repeat(5000)), false);
});

test('URL resolution keeps only fetchable image URLs', () => {
  assert.equal(resolveUrl('b.png#x', 'https://a.com/p/q.html'), 'https://a.com/p/b.png');
  assert.equal(resolveUrl('//cdn.com/c.png', 'https://a.com/'), 'https://cdn.com/c.png');
  assert.equal(resolveUrl('blob:https://a.com/123', 'https://a.com/'), 'blob:https://a.com/123');
  assert.equal(resolveUrl('data:image/png;base64,AA==', 'https://a.com/'), 'data:image/png;base64,AA==');
  assert.equal(resolveUrl('data:text/html,hi', 'https://a.com/'), null);
  assert.equal(resolveUrl('javascript:alert(1)', 'https://a.com/'), null);
  assert.equal(resolveUrl('#frag', 'https://a.com/'), null);
  assert.equal(resolveUrl('  ', 'https://a.com/'), null);
  assert.equal(resolveUrl('http://[bad', 'https://a.com/'), null);
});

test('data: URLs decode to base64', () => {
  assert.deepEqual(parseDataUrl('data:image/png;base64,iVBO%2Bw=='), { mime: 'image/png', base64: 'iVBO+w==' });
  assert.deepEqual(parseDataUrl('data:image/png;base64,iVBO w8'), { mime: 'image/png', base64: 'iVBOw8==' });
  const svg = parseDataUrl("data:image/svg+xml,%3Csvg%3E%E2%9C%93é%3C/svg%3E");
  assert.equal(svg.mime, 'image/svg+xml');
  assert.equal(Buffer.from(svg.base64, 'base64').toString('utf8'), '<svg>✓é</svg>');
  assert.equal(parseDataUrl('data:image/png;base64,@@@'), null);
  assert.equal(parseDataUrl('https://x'), null);
  assert.equal(Buffer.from(utf8ToBase64('<svg>✓</svg>'), 'base64').toString('utf8'), '<svg>✓</svg>');
});

test('image list merges duplicates and applies settings', () => {
  const frames = [{
    frameId: 0,
    result: {
      baseURI: 'https://site.com/page/', dpr: 2, sizes: { 'https://site.com/page/a.jpg': 5000 },
      items: [
        { k: 'img', cur: 'https://site.com/page/a.jpg', w: 100, h: 50, on: true },
        { k: 'img', cur: 'a.jpg', w: 300, h: 150, on: false },
        { k: 'img', cur: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=', lazySrc: 'lazy.jpg', w: 200, h: 100, on: false, nw: 1, nh: 1 },
        { k: 'img', cur: '', src: '', lazySrcset: 'l400.jpg 400w, l800.jpg 800w', w: 400, h: 300, on: false },
        { k: 'img', cur: '', srcset: 's1.jpg 1x, s2.jpg 2x', src: 's1.jpg', w: 10, h: 10, on: true },
        { k: 'source', srcset: 'p.avif 1x, p2.avif 2x', used: true, w: 50, h: 50, on: true },
        { k: 'css', v: 'url("https://site.com/bg.png"), url("https://site.com/bg2.png")', fit: 'cover, cover', w: 500, h: 100, on: true },
        { k: 'pseudo', v: 'url("https://site.com/before.png")', fit: 'auto', w: 20, h: 20, on: true },
        { k: 'svg-image', src: '/s.png', w: 30, h: 30, on: true },
        { k: 'poster', src: 'https://site.com/poster.jpg', w: 640, h: 360, on: false },
        { k: 'svg', text: '<svg xmlns="http://www.w3.org/2000/svg"/>', w: 24, h: 24, on: true },
        { k: 'svg', text: '<svg xmlns="http://www.w3.org/2000/svg"/>', w: 48, h: 48, on: false },
        { k: 'img', cur: 'javascript:void(0)', w: 1, h: 1 },
        { k: 'weird' },
      ],
    },
  }, { frameId: 3, error: 'x' }, { frameId: 4, result: { baseURI: 'https://site.com/f/', dpr: 2, items: [{ k: 'img', cur: 'https://site.com/page/a.jpg', w: 10, h: 10, on: false }] } }];
  const list = buildImageList(frames, { pageUrl: 'https://site.com/page/#top' });
  const by = Object.fromEntries(list.map((x) => [x.url, x]));
  const a = by['https://site.com/page/a.jpg'];
  assert.deepEqual([a.displayWidth, a.displayHeight, a.onScreen, a.transferSize, a.dpr], [300, 150, true, 5000, 2]);
  assert.ok(by['https://site.com/page/lazy.jpg'].kinds.includes('lazy'));
  assert.ok(!Object.keys(by).some((u) => u.startsWith('data:image/gif')), 'placeholder dropped');
  assert.ok(by['https://site.com/page/l800.jpg'], 'lazy srcset picks 2x');
  assert.ok(by['https://site.com/page/s2.jpg'], 'unloaded srcset resolved');
  assert.ok(by['https://site.com/page/p2.avif']);
  assert.equal(by['https://site.com/bg.png'].displayWidth, 500);
  assert.ok(by['https://site.com/bg2.png']);
  assert.equal(by['https://site.com/bg2.png'].displayWidth, 500, 'multi-layer cover');
  assert.equal(by['https://site.com/before.png'].displayWidth, 0, 'auto-sized background is not resized');
  assert.ok(by['https://site.com/s.png'].kinds.includes('svg-image'));
  assert.ok(by['https://site.com/poster.jpg']);
  const svg = list.filter((x) => x.svg);
  assert.equal(svg.length, 1);
  assert.equal(svg[0].url, 'https://site.com/page/#inline-svg-1');
  assert.equal(svg[0].displayWidth, 48);
  assert.equal(svg[0].onScreen, true);
  assert.equal(list.length, 11);

  const onscreen = buildImageList(frames, { pageUrl: 'https://site.com/', includeOffscreen: false, includeBackgrounds: false });
  const urls = onscreen.map((x) => x.url);
  assert.ok(!urls.includes('https://site.com/poster.jpg'));
  assert.ok(!urls.includes('https://site.com/bg.png'));
  assert.ok(urls.includes('https://site.com/page/a.jpg'));
});

test('scan image entries and chunking', () => {
  assert.deepEqual(toScanImage({ url: 'u', displayWidth: 0, displayHeight: 0, dpr: 2 }), { url: 'u' });
  assert.deepEqual(toScanImage({ url: 'u', displayWidth: 3, displayHeight: 4, dpr: 2 }, 'QQ=='), { url: 'u', data: 'QQ==', displayWidth: 3, displayHeight: 4, dpr: 2 });
  const imgs = Array.from({ length: 10 }, (_, i) => ({ url: 'https://x/' + i, data: 'A'.repeat(100) }));
  const byCount = chunkImages(imgs, { maxImages: 4 });
  assert.deepEqual(byCount.map((c) => [c.offset, c.images.length]), [[0, 4], [4, 4], [8, 2]]);
  const bySize = chunkImages(imgs, { maxBytes: 300, overhead: 0 });
  assert.deepEqual(bySize.map((c) => c.offset), [0, 2, 4, 6, 8]);
  for (const c of bySize) assert.ok(JSON.stringify(c.images).length <= 300);
  const huge = chunkImages([{ url: 'a', data: 'A'.repeat(1000) }], { maxBytes: 10 });
  assert.equal(huge.length, 1, 'a single oversized image still gets a chunk (caller checks size)');
  assert.deepEqual(chunkImages([]), []);
});

test('picture sources the browser does not use are listed apart, not scanned', () => {
  const stats = {};
  const frames = [{
    frameId: 0,
    result: {
      baseURI: 'https://site.com/', dpr: 1,
      items: [
        // Loaded: the <img>'s currentSrc names the chosen source.
        { k: 'source', srcset: 'wide.webp 1x', used: false, cur: 'https://site.com/narrow.webp', w: 300, h: 200, on: true },
        { k: 'source', srcset: 'narrow.webp 1x', used: true, cur: 'https://site.com/narrow.webp', w: 300, h: 200, on: true },
        { k: 'img', pic: true, picSrc: true, cur: 'https://site.com/narrow.webp', src: 'https://site.com/fallback.jpg', w: 300, h: 200, on: true },
        // Not loaded yet (lazy): the chosen source counts, the fallback does not.
        { k: 'source', srcset: 'lazy.avif 1x', used: true, cur: '', w: 100, h: 100, on: false },
        { k: 'img', pic: true, picSrc: true, cur: '', src: 'https://site.com/lazy-fallback.jpg', w: 100, h: 100, on: false },
        // A 0×0 image is marked as not displayed; a local file is counted apart.
        { k: 'img', cur: 'https://site.com/zero.png', zero: true, w: 0, h: 0, on: false },
        { k: 'img', cur: 'file:///home/u/photo.jpg', w: 10, h: 10, on: true },
      ],
    },
  }];
  const list = buildImageList(frames, { pageUrl: 'https://site.com/', stats });
  assert.deepEqual(list.map((x) => x.url).sort(), ['https://site.com/lazy.avif', 'https://site.com/narrow.webp', 'https://site.com/zero.png']);
  assert.deepEqual(list.find((x) => x.url.endsWith('narrow.webp')).kinds, ['picture']);
  assert.deepEqual([...stats.others], ['https://site.com/wide.webp']);
  assert.equal(stats.local, 1);
  assert.equal(list.find((x) => x.url.endsWith('zero.png')).hidden, true);
  assert.equal(list.find((x) => x.url.endsWith('narrow.webp')).hidden, undefined);
});
