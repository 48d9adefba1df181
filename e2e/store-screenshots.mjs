// The Chrome Web Store's pictures, made with the real extension and helper:
// the demo page (scripts/demo) scanned through the toolbar click, the popup
// drawn over the page as it appears in the browser, at the store's 1280×800;
// and the 440×280 promo tile. scripts/package.sh sets IMGDIET_STORE_SHOTS to
// keep them for the store-listing zip; otherwise they go to a temporary
// folder that is removed. Not named *.test.mjs: the e2e suite does not run
// it, scripts/package.sh does (node --test e2e/store-screenshots.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { launchPuppeteer, skipReason, ROOT, EXT_DIR } from './harness.mjs';

const skip = skipReason() || false;
const keep = process.env.IMGDIET_STORE_SHOTS;
const out = keep || mkdtempSync(join(tmpdir(), 'imagediet-shots-'));
const DEMO = join(ROOT, 'scripts', 'demo');
const TYPES = { '.html': 'text/html; charset=utf-8', '.jpg': 'image/jpeg', '.png': 'image/png' };

let srv;
let origin;
let b;
before(async () => {
  if (skip) return;
  srv = createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    const rel = p === '/' ? 'index.html' : p.slice(1);
    if (!/^(index\.html|img\/[\w.-]+)$/.test(rel)) { res.writeHead(404).end(); return; }
    const body = readFileSync(join(DEMO, rel));
    res.writeHead(200, { 'content-type': TYPES[extname(rel)] || 'application/octet-stream' }).end(body);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${srv.address().port}`;
  b = await launchPuppeteer();
  mkdirSync(join(out, 'screenshots'), { recursive: true });
});
after(async () => {
  await b?.close();
  srv?.close();
  if (!keep) rmSync(out, { recursive: true, force: true });
});

/** Width and height of a PNG file. */
function pngSize(file) {
  const buf = readFileSync(file);
  assert.equal(buf.toString('latin1', 1, 4), 'PNG', `${file} is a PNG`);
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

const dataUrl = (buf) => `data:image/png;base64,${Buffer.from(buf).toString('base64')}`;

test('store screenshot: the demo page with its scan results, 1280×800', { skip, timeout: 180000 }, async () => {
  const page = await b.browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${origin}/`);
  const popup = await b.openPopup(page);
  await popup.setViewport({ width: 600, height: 560 });
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 150000 });
  const rows = await popup.$$eval('[data-testid=result-row][data-status=optimized]', (es) => es.length);
  assert.ok(rows >= 3, `${rows} optimized rows`);
  const pop = await popup.screenshot({ type: 'png' });
  const back = await page.screenshot({ type: 'png' });
  // The popup hangs from the toolbar's right end, as in the browser.
  const frame = await b.browser.newPage();
  await frame.setViewport({ width: 1280, height: 800 });
  await frame.setContent(`<!doctype html><html><body style="margin:0;width:1280px;height:800px;overflow:hidden;position:relative">
    <img src="${dataUrl(back)}" style="position:absolute;left:0;top:0;width:1280px;height:800px;filter:brightness(0.96)">
    <img src="${dataUrl(pop)}" style="position:absolute;right:24px;top:12px;width:600px;border-radius:8px;box-shadow:0 8px 28px rgba(0,0,0,.35)">
    </body></html>`, { waitUntil: 'load' });
  const file = join(out, 'screenshots', '1-scan-results.png');
  await frame.screenshot({ path: file, type: 'png' });
  assert.deepEqual(pngSize(file), [1280, 800]);
  await frame.close();
  await popup.close().catch(() => {}); // a popup loses focus and closes by itself
  await page.close();
});

test('store promo tile, 440×280', { skip }, async () => {
  const icon = readFileSync(join(EXT_DIR, 'icons', 'icon128.png'));
  const manifest = JSON.parse(readFileSync(join(EXT_DIR, 'manifest.json'), 'utf8'));
  const tile = await b.browser.newPage();
  await tile.setViewport({ width: 440, height: 280 });
  await tile.setContent(`<!doctype html><html><body style="margin:0;width:440px;height:280px;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:14px;background:linear-gradient(135deg,#eef3f8,#dfe8f1);font:600 30px system-ui,sans-serif;color:#1d2430">
    <img src="${dataUrl(icon)}" width="96" height="96" alt=""><div>${manifest.name}</div>
    <div style="font:400 15px system-ui,sans-serif;color:#3c4756">Lighter images, optimized on your computer</div></body></html>`, { waitUntil: 'load' });
  const file = join(out, 'promo-440x280.png');
  await tile.screenshot({ path: file, type: 'png' });
  assert.deepEqual(pngSize(file), [440, 280]);
  await tile.close();
});
