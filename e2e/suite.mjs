// Set-up shared by the popup suites: registers node:test hooks that start
// the fixture server and a Chromium (puppeteer-core) with the extension and
// the real helper, and one page to scan; the returned handle fills in when
// the hooks have run.
import { before, after } from 'node:test';
import { launchPuppeteer, skipReason } from './harness.mjs';
import { startServer } from './server.mjs';

/**
 * @returns {{skip: string|false, srv: object, b: object, page: object,
 *   tabId: () => Promise<number>, state: (tabId: number) => Promise<object|null>}}
 */
export function popupSuite(opts = {}) {
  const h = { skip: skipReason() || false, srv: null, b: null, page: null };
  if (h.skip) console.log(`# SKIP e2e: ${h.skip}`);
  before(async () => {
    if (h.skip) return;
    h.srv = await startServer();
    h.b = await launchPuppeteer(opts);
    h.page = await h.b.browser.newPage();
  });
  after(async () => {
    await h.b?.close();
    await h.srv?.close();
  });
  /** The id of the tab the test is on. */
  h.tabId = () => h.b.sw.evaluate(async () => (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0].id);
  /** A plain copy of a tab's scan state in the worker (its in-memory bytes left out). */
  h.state = (tabId) => h.b.sw.evaluate((id) => {
    const s = imagediet.states.get(id);
    return s ? JSON.parse(JSON.stringify({ ...s, pendingIdx: null, data: null })) : null;
  }, tabId);
  return h;
}
