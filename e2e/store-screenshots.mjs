// The Chrome Web Store's pictures at the sizes it asks for, drawn in
// Chromium: the popup screenshots that scripts/screenshots.sh makes after a
// real scan of the demo page by the real helper (docs/screenshots/
// popup-640-{light,dark}.png) hung from the toolbar over the demo page
// itself, at 1280×800; and the 440×280 promo tile. scripts/package.sh sets
// IMGDIET_STORE_SHOTS to keep them for the store-listing zip; otherwise they
// go to a temporary folder that is removed. Not named *.test.mjs: the e2e
// suite does not run it, scripts/package.sh does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, ROOT, EXT_DIR } from './harness.mjs';
import { startServer } from './server.mjs';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing`;
const keep = process.env.IMGDIET_STORE_SHOTS;
const out = keep || mkdtempSync(join(tmpdir(), 'imagediet-shots-'));
const SHOTS = join(ROOT, 'docs', 'screenshots');

let srv;
let browser;
before(async () => {
  if (skip) return;
  const { default: puppeteer } = await import('puppeteer-core');
  srv = await startServer();
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, pipe: true, args: ['--no-sandbox', '--no-first-run'] });
  mkdirSync(join(out, 'screenshots'), { recursive: true });
});
after(async () => {
  await browser?.close();
  await srv?.close();
  if (!keep) rmSync(out, { recursive: true, force: true });
});

/** Width and height of a PNG file. */
function pngSize(file) {
  const buf = readFileSync(file);
  assert.equal(buf.toString('latin1', 1, 4), 'PNG', `${file} is a PNG`);
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

const dataUrl = (buf) => `data:image/png;base64,${Buffer.from(buf).toString('base64')}`;

test('store screenshots: the popup over the demo page, light and dark, 1280×800', { skip, timeout: 60000 }, async () => {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${srv.origin}/demo/index.html`, { waitUntil: 'load' });
  const back = await page.screenshot({ type: 'png' });
  for (const [i, scheme] of ['light', 'dark'].entries()) {
    const popup = join(SHOTS, `popup-640-${scheme}.png`);
    assert.ok(existsSync(popup), `${popup} is missing: make it with scripts/screenshots.sh`);
    const [w, h] = pngSize(popup);
    assert.ok(w === 640 && h >= 300 && h <= 760, `${popup} is ${w}×${h}`);
    await page.setContent(`<!doctype html><html><body style="margin:0;width:1280px;height:800px;overflow:hidden;position:relative">
      <img src="${dataUrl(back)}" style="position:absolute;left:0;top:0;width:1280px;height:800px;filter:brightness(${scheme === 'dark' ? 0.7 : 0.96})">
      <img src="${dataUrl(readFileSync(popup))}" style="position:absolute;right:16px;top:8px;width:640px;border-radius:8px;box-shadow:0 8px 28px rgba(0,0,0,.35)">
      </body></html>`, { waitUntil: 'load' });
    const file = join(out, 'screenshots', `${i + 1}-scan-results-${scheme}.png`);
    await page.screenshot({ path: file, type: 'png' });
    assert.deepEqual(pngSize(file), [1280, 800]);
  }
  await page.close();
});

test('store promo tile, 440×280', { skip }, async () => {
  const icon = readFileSync(join(EXT_DIR, 'icons', 'icon128.png'));
  const messages = JSON.parse(readFileSync(join(EXT_DIR, '_locales', 'en', 'messages.json'), 'utf8'));
  const tile = await browser.newPage();
  await tile.setViewport({ width: 440, height: 280 });
  await tile.setContent(`<!doctype html><html><body style="margin:0;width:440px;height:280px;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:14px;background:linear-gradient(135deg,#eef3f8,#dfe8f1);font:600 30px system-ui,sans-serif;color:#1d2430">
    <img src="${dataUrl(icon)}" width="96" height="96" alt=""><div>${messages.extName.message}</div>
    <div style="font:400 15px system-ui,sans-serif;color:#3c4756">Lighter images, optimized on your computer</div></body></html>`, { waitUntil: 'load' });
  const file = join(out, 'promo-440x280.png');
  await tile.screenshot({ path: file, type: 'png' });
  assert.deepEqual(pngSize(file), [440, 280]);
  await tile.close();
});
