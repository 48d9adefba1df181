// With the helper not installed, the popup says so in words a person can act on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchPuppeteer, skipReason } from './harness.mjs';
import { startServer } from './server.mjs';

const skip = skipReason() || false;

let srv;
let b;
before(async () => {
  if (skip) return;
  srv = await startServer();
  b = await launchPuppeteer({ host: 'none' });
});
after(async () => {
  await b?.close();
  await srv?.close();
});

test('a missing helper gives a clear message', { skip }, async () => {
  const page = await b.browser.newPage();
  await page.goto(`${srv.origin}/few.html`);
  const popup = await b.openPopup(page);
  await popup.waitForSelector('[data-testid=scan-error]:not([hidden])', { timeout: 20000 });
  const msg = await popup.$eval('[data-testid=scan-error]', (e) => e.textContent);
  assert.equal(msg, "Image Diet's helper is not installed — run scripts/install.sh, then reload the extension.");
  assert.equal(await popup.$eval('[data-testid=progress]', (e) => e.dataset.state), 'error');
  // Nothing was stored on the way.
  assert.deepEqual(await b.sw.evaluate(() => chrome.storage.local.get(null)), {});
});
