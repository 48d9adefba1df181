// The canary privacy test: a page whose image URLs (paths and queries),
// image metadata and image pixels all carry a unique random marker is
// scanned through the real toolbar click, the real extension and the real
// helper in Chromium; one optimized file is downloaded through the popup,
// and a row is opened in the compare page; the popup and the browser are closed. Afterwards the marker must appear
// nowhere on disk (test HOME, TMPDIR, the Chromium profile, recent files in
// /tmp and /var/tmp) except in the one file the user downloaded, in no line
// the helper logged at debug level, and chrome.storage.local must hold
// settings only.
//
// Fixtures are built and served from memory, so the marker never touches
// the disk through the test itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, lstatSync, rmSync } from 'node:fs';
import { join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { launchPuppeteer, skipReason, waitFor, listFiles, hostPids, ROOT } from './harness.mjs';

const skip = skipReason() || false;
if (skip) console.log(`# SKIP e2e: ${skip}`);

const MARK = `canary-${randomBytes(8).toString('hex')}`;
const FORMS = [Buffer.from(MARK, 'latin1'), Buffer.from(MARK, 'utf16le')];

// ---- fixtures, in memory ----------------------------------------------------

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
const PNG_SIG = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** A PNG with a tEXt comment chunk carrying the marker, right after IHDR. */
function pngWithText(png) {
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  const text = pngChunk('tEXt', Buffer.concat([Buffer.from('Comment\0'), Buffer.from(MARK)]));
  return Buffer.concat([png.subarray(0, ihdrEnd), text, png.subarray(ihdrEnd)]);
}

/** A JPEG with a COM segment carrying the marker, right after SOI. */
function jpegWithComment(jpg) {
  const body = Buffer.from(`${MARK} ${MARK}`);
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xfffe, 0);
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpg.subarray(0, 2), seg, body, jpg.subarray(2)]);
}

/** An RGB PNG whose pixel bytes are the marker, repeated (plus a tEXt chunk). */
function pngOfMarker(w, h) {
  const rows = [];
  for (let y = 0; y < h; y++) {
    const r = Buffer.alloc(1 + w * 3); // filter byte 0, then RGB
    // Shift each row so the image is not one flat colour band.
    for (let i = 1; i < r.length; i++) r[i] = MARK.charCodeAt((i - 1 + y) % MARK.length);
    rows.push(r);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return pngWithText(Buffer.concat([PNG_SIG, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.concat(rows))), pngChunk('IEND', Buffer.alloc(0))]));
}

const fx = (n) => readFileSync(join(ROOT, 'e2e', 'fixtures', n));
const IMAGES = {
  [`/${MARK}/a/photo.jpg`]: { type: 'image/jpeg', body: jpegWithComment(fx('photo.jpg')) },
  [`/${MARK}/b/graphic.png`]: { type: 'image/png', body: pngWithText(fx('graphic.png')) },
  [`/${MARK}/c/pixels.png`]: { type: 'image/png', body: pngOfMarker(480, 240) },
  [`/${MARK}/d/backdrop.jpg`]: { type: 'image/jpeg', body: jpegWithComment(fx('photo.jpg')) },
};
// The page's own URL carries no marker: the browser's history of visited
// pages is the browser's business, not Image Diet's.
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>canary</title>
<style>.bg{width:400px;height:300px;background:url(/${MARK}/d/backdrop.jpg?bg=${MARK}) center/cover}</style></head><body>
<img src="/${MARK}/a/photo.jpg?id=${MARK}&amp;t=1" width="400" height="300" alt="">
<img src="/${MARK}/b/graphic.png?v=${MARK}" width="200" height="200" alt="">
<img src="/${MARK}/c/pixels.png?p=${MARK}#${MARK}" width="480" height="240" alt="">
<img src="/${MARK}/e/missing.jpg?q=${MARK}" width="10" height="10" alt="">
<div class="bg"></div>
</body></html>`;

async function startCanaryServer() {
  const hits = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    hits.push(u.pathname);
    const send = (code, type, body) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (u.pathname === '/page.html') return send(200, 'text/html', PAGE);
    const im = IMAGES[u.pathname];
    if (im) return send(200, im.type, im.body);
    return send(404, 'text/plain', 'not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    hits,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

// ---- the disk search ----------------------------------------------------------

/**
 * Files under root whose name or bytes contain the marker (ASCII or
 * UTF-16LE). since: only files modified at or after this time (ms).
 */
function findMarker(root, { since = 0, skipDirs = [] } = {}) {
  const found = [];
  let scanned = 0;
  const walk = (d) => {
    let names;
    try { names = readdirSync(d); } catch { return; }
    for (const n of names) {
      const p = join(d, n);
      let st;
      try { st = lstatSync(p); } catch { continue; }
      if (FORMS.some((f) => Buffer.from(n).includes(f))) found.push(`${p} (name)`);
      if (st.isDirectory()) {
        if (!skipDirs.some((s) => s(p))) walk(p);
        continue;
      }
      if (!st.isFile() || st.mtimeMs < since) continue;
      let buf;
      try { buf = readFileSync(p); } catch { continue; }
      scanned++;
      if (FORMS.some((f) => buf.includes(f))) found.push(p);
    }
  };
  walk(root);
  return { found, scanned };
}

// ---- the test -------------------------------------------------------------------

let srv;
let b;
let base;
const saved = {};
const stderr = [];
const t0 = Date.now() - 1000;

before(async () => {
  if (skip) return;
  // A test HOME and TMPDIR; the profile (made under TMPDIR) lands there too.
  base = mkdtempSync('/tmp/imagediet-canary-');
  for (const k of ['HOME', 'TMPDIR', 'IMGDIET_LOG_LEVEL']) saved[k] = process.env[k];
  mkdirSync(join(base, 'home'));
  mkdirSync(join(base, 'tmp'));
  process.env.HOME = join(base, 'home');
  process.env.TMPDIR = join(base, 'tmp');
  process.env.IMGDIET_LOG_LEVEL = 'debug';
  srv = await startCanaryServer();
  try {
    b = await launchPuppeteer();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  // The helper writes to Chromium's stderr; collect it line by line.
  let rest = '';
  b.browser.process().stderr.on('data', (d) => {
    const lines = (rest + d.toString('utf8')).split('\n');
    rest = lines.pop();
    stderr.push(...lines);
  });
  b.browser.process().stderr.on('end', () => { if (rest) stderr.push(rest); });
});
after(async () => {
  await b?.browser.close().catch(() => {});
  await srv?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

test('a scan and a download leave no trace of the page\'s image URLs or bytes', { skip, timeout: 60000 }, async () => {
  const page = await b.browser.newPage();
  await page.goto(`${srv.origin}/page.html`);
  const popup = await b.openPopup(page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 40000 });
  const statuses = await popup.$$eval('[data-testid=result-row]', (es) => es.map((e) => e.dataset.status));
  assert.equal(statuses.length, 5, `rows: ${statuses}`);
  assert.ok(statuses.filter((s) => s === 'optimized').length >= 2, `rows: ${statuses}`);
  assert.ok(statuses.includes('error'), 'the missing image fails');
  // The helper really fetched the marked URLs.
  assert.ok(srv.hits.filter((h) => h.startsWith(`/${MARK}/`)).length >= 5 + 4, 'page and helper fetched the images');

  // Download one optimized file through the popup.
  await popup.click('[data-testid=result-row][data-status=optimized] [data-testid=download]');
  const dl = await waitFor(() => listFiles(b.profile.downloads).find((f) => f.startsWith('Image Diet/')), { what: 'the download', timeout: 15000 });
  const download = join(b.profile.downloads, dl);

  // Only settings in chrome.storage.local.
  const local = await b.sw.evaluate(() => chrome.storage.local.get(null));
  for (const k of Object.keys(local)) assert.match(k, /^site:/, 'only per-site settings are stored');
  assert.ok(!JSON.stringify(local).includes(MARK), 'storage holds no image URL');

  // The large compare page of a row, opened from the popup (which closes as the tab opens):
  // both sides drawn, the original from its marked URL and the optimized file from the helper.
  await popup.click('[data-testid=result-row][data-status=optimized] [data-testid=compare-btn]');
  const cmp = await (await b.browser.waitForTarget((x) => x.url().includes('/compare.html?'), { timeout: 10000 })).asPage();
  await cmp.waitForFunction(() => [...document.querySelectorAll('.layer-img')].every((i) => i.complete && i.naturalWidth > 0), { timeout: 15000 });

  const pids = hostPids(b.profile);
  assert.equal(pids.length, 1, 'one helper ran');
  await popup.close().catch(() => { /* closed already */ });
  await b.browser.close();
  // Let the helper exit on its own before searching the disk.
  await waitFor(() => hostPids(b.profile).length === 0, { what: 'the helper to exit', timeout: 10000 });

  // The helper's log was captured at debug level and names no marked URL.
  const hostLines = stderr.filter((l) => l.startsWith('{') && l.includes('"level"'));
  assert.ok(hostLines.some((l) => l.includes('"debug"') && l.includes('image fetched')), `helper debug lines captured (${hostLines.length} helper lines)`);
  const leaky = stderr.filter((l) => l.includes(MARK));
  assert.deepEqual(leaky.map((l) => l.replaceAll(MARK, '<marker>')), [], 'no stderr line names a marked path or query');

  // The disk: test HOME and TMPDIR (which holds the Chromium profile) in
  // full, and recent files in /tmp and /var/tmp.
  const notDownload = (f) => f !== download;
  const scans = [
    findMarker(join(base, 'home')),
    findMarker(join(base, 'tmp')),
    findMarker('/tmp', { since: t0, skipDirs: [(p) => p === base, (p) => basename(p).startsWith('bash_jobs.')] }),
    findMarker('/var/tmp', { since: t0 }),
  ];
  const found = scans.flatMap((s) => s.found).filter(notDownload);
  const scanned = scans.reduce((n, s) => n + s.scanned, 0);
  assert.ok(scanned > 20, `searched the profile (${scanned} files)`);
  // The search itself works: a control file with the UTF-16LE marker is found.
  mkdirSync(join(base, 'control'));
  writeFileSync(join(base, 'control', 'x.bin'), Buffer.concat([Buffer.from('xx'), FORMS[1]]));
  assert.equal(findMarker(join(base, 'control')).found.length, 1, 'the search finds a planted marker');
  assert.deepEqual(found.map((f) => f.replaceAll(MARK, '<marker>')), [], 'no file holds the marker');
  const dlHas = FORMS.some((f) => readFileSync(download).includes(f));
  console.log(`# canary: ${scanned} files searched, ${stderr.length} stderr lines (${hostLines.length} from the helper); download ${dl} ${dlHas ? 'contains' : 'does not contain'} the marker`);
});
