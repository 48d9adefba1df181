import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileName, safeComponent, baseName, downloadPath, uniqueNames, extensionFor, zipName } from '../lib/naming.js';

test('names keep the original base name with the new extension', () => {
  const cases = [
    ['https://cdn.example.com/img/photo.jpg?w=800', 'webp', 0, 'photo.webp'],
    ['https://cdn.example.com/img/photo.large.jpeg', 'jpeg', 0, 'photo.large.jpg'],
    ['https://x.com/a/My%20Photo%3F.png', 'avif', 0, 'My Photo_.avif'],
    ['https://x.com/', 'png', 2, 'image-3.png'],
    ['data:image/png;base64,AAAA', 'webp', 4, 'image-5.webp'],
    ['blob:https://x.com/1234-5678', 'png', 0, 'image-1.png'],
    ['https://x.com/..%2F..%2Fetc%2Fpasswd', 'png', 0, '_.._etc_passwd.png'],
    ['https://x.com/CON.png', 'webp', 0, '_CON.webp'],
    ['https://x.com/.hidden.gif', 'gif', 0, 'hidden.gif'],
    ['https://x.com/' + 'a'.repeat(300) + '.jpg', 'webp', 0, 'a'.repeat(75) + '.webp'],
    ['https://x.com/page#inline-svg-1', 'svg', 0, 'page.svg'],
    // Nothing usable in the file's name: its folder's name stands in.
    ['https://x.com/gallery/%FF%FE.jpg', 'webp', 0, 'gallery.webp'],
    ['https://x.com/gallery/....png', 'webp', 0, 'gallery.webp'],
    ['https://x.com/gallery/%20.%20.webp', 'webp', 0, 'gallery.webp'],
    ['https://x.com/.webp', 'webp', 1, 'image-2.webp'],
    ['https://x.com/caf%E9.png', 'png', 0, 'caf.png'],
    ['https://x.com/photo.%20.png', 'png', 0, 'photo.png'],
    // Windows device names, including the superscript ports and console names.
    ['https://x.com/COM%C2%B9.png', 'png', 0, '_COM\u00b9.png'],
    ['https://x.com/lpt%C2%B3.gif', 'gif', 0, '_lpt\u00b3.gif'],
    ['https://x.com/CONIN$.png', 'png', 0, '_CONIN$.png'],
    ['https://x.com/conout$.jpg', 'jpeg', 0, '_conout$.jpg'],
    ['https://x.com/con%20.jpg', 'jpeg', 0, '_con.jpg'],
  ];
  for (const [url, f, i, want] of cases) assert.equal(fileName(url, f, i), want, url);
});

test('components are safe', () => {
  assert.equal(safeComponent('a/b\\c:d*e?f"g<h>i|j'), 'a_b_c_d_e_f_g_h_i_j');
  assert.equal(safeComponent(' .. '), 'image');
  assert.equal(safeComponent('x\u0000y'), 'x_y');
  assert.equal(safeComponent('nul'), '_nul');
  assert.equal(baseName('not a url'), '');
  assert.equal(extensionFor('jpeg'), 'jpg');
  assert.equal(extensionFor('../x'), 'bin');
});

test('download paths and ZIP names', () => {
  assert.equal(downloadPath('example.com', 'a.webp'), 'Image Diet/example.com/a.webp');
  assert.equal(downloadPath(null, 'a.webp'), 'Image Diet/page/a.webp');
  assert.equal(downloadPath('..', 'a.webp'), 'Image Diet/page/a.webp');
  assert.equal(zipName('example.com'), 'example.com-optimized.zip');
});

test('duplicate names get numbered', () => {
  assert.deepEqual(uniqueNames(['a.webp', 'A.webp', 'a.webp', 'b', 'b']), ['a.webp', 'A-2.webp', 'a-3.webp', 'b', 'b-2']);
});

test('rows with the same file name show the part of the URL that differs', async () => {
  const { distinctLabels } = await import('../lib/naming.js');
  const urls = [
    'https://a.example/img/lighthouse-480x320.webp?w=480&q=80',
    'https://a.example/img/lighthouse-480x320.webp?w=480&q=30',
    'https://a.example/x/logo.png',
    'https://a.example/y/logo.png',
    'https://a.example/hero.jpg',
  ];
  const got = distinctLabels(['lighthouse-480x320', 'lighthouse-480x320', 'logo', 'logo', 'hero'], urls);
  assert.deepEqual(got, ['lighthouse-480x320 ?w=480&q=80', 'lighthouse-480x320 ?w=480&q=30', 'logo /x', 'logo /y', 'hero']);
});
