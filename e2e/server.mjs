// The fixture web server for the end-to-end tests: real HTTP on 127.0.0.1.
//   /<page>.html, /page.js   pages from e2e/pages/
//   /img/<name>.jpg|.png|.gif fixture images (small-*.png → a small PNG; .gif → an animated GIF)
//   /slow.html?n=N&ms=M      a page of N images that each take M ms to serve
//   /many.html?n=N           N elements with images and backgrounds (speed check)
//   /photos.html?n=N&w=W     N distinct photos (different bytes, same pixels) shown W px wide, and a 404
//   /uniq/<name>.jpg         the photo with <name> in a JPEG comment, so each name has its own bytes
//   /demo/…                  scripts/demo's page and images (for the screenshot run)
//   /missing.jpg             404
//   /login.html              sets a login cookie; shows /private/photo.jpg (403 without
//                            the cookie) and localhost's /private/elsewhere.jpg (403 unless
//                            a browser loads it as an image: another site's login)
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fx = (n) => readFileSync(join(here, 'fixtures', n));
const FILES = { jpg: fx('photo.jpg'), png: fx('graphic.png'), small: fx('small.png'), gif: fx('anim.gif') };

function imageFor(name) {
  if (name.endsWith('.jpg')) return { type: 'image/jpeg', body: FILES.jpg };
  if (name.endsWith('.png')) return { type: 'image/png', body: name.startsWith('small') ? FILES.small : FILES.png };
  if (name.endsWith('.gif')) return { type: 'image/gif', body: FILES.gif };
  return null;
}

function slowPage(n, ms) {
  let imgs = '';
  for (let i = 0; i < n; i++) imgs += `<img src="/slow/s${i}.jpg?ms=${ms}" width="200" height="150" alt="">\n`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>slow</title></head><body>${imgs}</body></html>`;
}

/** The fixture photo with a comment segment after SOI: same pixels, distinct bytes. */
function uniquePhoto(name) {
  const text = Buffer.from(`imagediet e2e ${name}`);
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xfffe, 0);
  seg.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([FILES.jpg.subarray(0, 2), seg, text, FILES.jpg.subarray(2)]);
}

function photosPage(n, w) {
  let imgs = '';
  for (let i = 0; i < n; i++) imgs += `<img src="/uniq/p${i}.jpg" width="${w}" height="${Math.round(w * 0.75)}" alt="">\n`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>photos</title></head><body>${imgs}<img src="/missing.jpg" width="50" height="50" alt=""></body></html>`;
}

function manyPage(n) {
  let s = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>many</title><style>.b{width:40px;height:30px;background:url(/img/small-bg.png) center/cover}.p::before{content:"";display:block;width:10px;height:10px;background:url(/img/small-before.png)}</style></head><body>';
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    if (k === 0) s += `<img src="/img/small-m${i % 50}.png" width="40" height="30" alt="">`;
    else if (k === 1) s += '<div class="b"></div>';
    else if (k === 2) s += '<span class="p">x</span>';
    else s += `<p>text ${i}</p>`;
  }
  return s + '</body></html>';
}

/** Starts the server; resolves with {origin, close, hits}. */
export async function startServer() {
  const hits = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    hits.push({ path: u.pathname, ua: req.headers['user-agent'] || '', cookie: req.headers.cookie || '' });
    const send = (code, type, body, headers = {}) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
    try {
      if (u.pathname === '/' || u.pathname === '/index.html') return send(200, 'text/html', '<!doctype html><title>home</title><p>home</p>');
      if (u.pathname === '/slow.html') return send(200, 'text/html', slowPage(+u.searchParams.get('n') || 10, +u.searchParams.get('ms') || 1000));
      const demo = /^\/demo\/(index\.html|img\/[\w-]+\.(jpg|png))$/.exec(u.pathname);
      if (demo) return send(200, demo[2] ? `image/${demo[2] === 'jpg' ? 'jpeg' : 'png'}` : 'text/html', readFileSync(join(here, '..', 'scripts', 'demo', demo[1])));
      if (u.pathname === '/photos.html') return send(200, 'text/html', photosPage(+u.searchParams.get('n') || 6, +u.searchParams.get('w') || 800));
      if (u.pathname.startsWith('/uniq/') && u.pathname.endsWith('.jpg')) return send(200, 'image/jpeg', uniquePhoto(u.pathname.slice(6, -4)));
      if (u.pathname === '/many.html') return send(200, 'text/html', manyPage(+u.searchParams.get('n') || 1000));
      if (u.pathname.startsWith('/slow/')) {
        const ms = Math.min(+u.searchParams.get('ms') || 1000, 20000);
        setTimeout(() => send(200, 'image/jpeg', FILES.jpg), ms);
        return undefined;
      }
      if (u.pathname === '/login.html') {
        const other = `http://localhost:${server.address().port}/private/elsewhere.jpg`;
        return send(200, 'text/html', `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>members</title></head><body><img src="/private/photo.jpg" width="400" height="300" alt=""><img src="${other}" width="200" height="150" alt=""></body></html>`,
          { 'set-cookie': 'imgdiet_session=ok; Path=/; HttpOnly' });
      }
      if (u.pathname.startsWith('/private/')) {
        const member = /(^|;\s*)imgdiet_session=ok(;|$)/.test(req.headers.cookie || '');
        const browserImage = u.pathname.endsWith('/elsewhere.jpg') && req.headers['sec-fetch-dest'] === 'image';
        return member || browserImage ? send(200, 'image/jpeg', FILES.jpg) : send(403, 'text/plain', 'members only');
      }
      if (u.pathname.startsWith('/img/')) {
        const im = imageFor(u.pathname.slice(5));
        if (im) return send(200, im.type, im.body);
      }
      const m = /^\/([\w-]+\.(html|js))$/.exec(u.pathname);
      if (m) return send(200, m[2] === 'js' ? 'text/javascript' : 'text/html', readFileSync(join(here, 'pages', m[1])));
      return send(404, 'text/plain', 'not found');
    } catch {
      return send(404, 'text/plain', 'not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}
