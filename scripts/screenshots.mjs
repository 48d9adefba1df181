// Saves the popup, after a real scan of scripts/demo/ by the real helper,
// at 360, 400, 640 and 800 px wide in light and dark colour schemes, into
// docs/screenshots/popup-<width>-<scheme>.png, the compare page of the row
// that saves most as docs/screenshots/compare-<scheme>.png, and the HTML
// report it exports as docs/screenshots/report-<scheme>.png. Run by
// scripts/screenshots.sh.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchPuppeteer, skipReason, waitFor, listFiles, ROOT, EXT_ID } from '../e2e/harness.mjs';
import { startServer } from '../e2e/server.mjs';

const WIDTHS = [360, 400, 640, 800];
const HEIGHT = 600; // Chrome's largest popup height
const out = join(ROOT, 'docs', 'screenshots');

const why = skipReason();
if (why) { console.error(`screenshots: ${why}`); process.exit(1); }
mkdirSync(out, { recursive: true });
const srv = await startServer();
const b = await launchPuppeteer();
try {
  const page = await b.browser.newPage();
  await page.goto(`${srv.origin}/demo/index.html`);
  const tabId = await b.sw.evaluate(async () => (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0].id);
  const popup = await b.openPopup(page);
  await popup.waitForSelector('[data-testid=progress][data-state=done]', { timeout: 300000 });
  await popup.close();
  // The same popup page in a tab, so its width can be set.
  const view = await b.browser.newPage();
  for (const scheme of ['light', 'dark']) {
    await view.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    for (const width of WIDTHS) {
      await view.setViewport({ width, height: HEIGHT });
      await view.goto(`chrome-extension://${EXT_ID}/popup.html?tab=${tabId}`);
      await view.waitForSelector('[data-testid=progress][data-state=done]');
      await view.evaluate(() => Promise.all([...document.images].map((i) => i.decode().catch(() => {}))));
      const file = join(out, `popup-${width}-${scheme}.png`);
      await view.screenshot({ path: file });
      console.log(`screenshots: ${file}`);
    }
  }
  // The compare page of the row that saves most, as "Compare" opens it in a tab.
  const st = await b.sw.evaluate((id) => {
    const s = imagediet.states.get(id);
    return { scanId: s.scanId, rows: s.results.map((r) => (r && r.status === 'optimized' && r.verified && r.best?.key ? r.savedBytes : -1)) };
  }, tabId);
  const top = st.rows.indexOf(Math.max(...st.rows));
  const cmp = await b.browser.newPage();
  for (const scheme of ['light', 'dark']) {
    await cmp.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    await cmp.setViewport({ width: 1100, height: 720 });
    await cmp.goto(`chrome-extension://${EXT_ID}/compare.html?tab=${tabId}&scan=${st.scanId}&index=${top}`);
    await cmp.waitForFunction(() => [...document.querySelectorAll('.layer-img')].every((i) => i.complete && i.naturalWidth > 0), { timeout: 30000 });
    const file = join(out, `compare-${scheme}.png`);
    await cmp.screenshot({ path: file });
    console.log(`screenshots: ${file}`);
  }
  await cmp.close();
  // The exported HTML report of the same scan, as a browser shows the file.
  await view.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
  await view.setViewport({ width: 800, height: HEIGHT });
  await view.goto(`chrome-extension://${EXT_ID}/popup.html?tab=${tabId}`);
  await view.waitForSelector('[data-testid=progress][data-state=done]');
  await view.click('[data-testid=export]');
  const html = await waitFor(() => listFiles(b.profile.downloads).find((f) => f.endsWith('.html')), { what: 'the report', timeout: 15000 });
  const report = await b.browser.newPage();
  for (const scheme of ['light', 'dark']) {
    await report.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    await report.setViewport({ width: 1100, height: 800 });
    await report.goto(`file://${join(b.profile.downloads, html)}`);
    const file = join(out, `report-${scheme}.png`);
    await report.screenshot({ path: file });
    console.log(`screenshots: ${file}`);
  }
} finally {
  await b.close();
  await srv.close();
}
