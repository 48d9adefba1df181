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
  // It names this OS and the package that installs the helper here.
  assert.match(msg, /^Image Diet's helper is not installed on this Linux computer\. To add it, install the imgdiet-host package/);
  assert.ok(msg.includes('sudo apt install ./imgdiet-host_*.deb') && msg.includes('then reload the extension.'), msg);
  assert.doesNotMatch(msg, /scripts\//);
  assert.equal(await popup.$eval('[data-testid=progress]', (e) => e.dataset.state), 'error');
  // Nothing was stored on the way.
  assert.deepEqual(await b.sw.evaluate(() => chrome.storage.local.get(null)), {});
});
