// Images that need the person's login: the helper never sends cookies, so
// the site refuses it (403). For an image of the page's own site the
// extension reads it in the page, with the page's own access, and sends
// the bytes; for another site's image it says why it cannot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchPlaywright, skipReason, waitFor } from './harness.mjs';
import { startServer } from './server.mjs';

const skip = skipReason();
if (skip) console.log(`# SKIP e2e: ${skip}`);

let srv;
let b;
before(async () => {
  if (skip) return;
  srv = await startServer();
  b = await launchPlaywright();
});
after(async () => {
  await b?.close();
  await srv?.close();
});

test('a same-site image behind a login is read in the page; another site’s says why', { skip: skip || false }, async () => {
  const page = await b.ctx.newPage();
  const url = `${srv.origin}/login.html`;
  await page.goto(url);
  await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
  const tabId = await b.sw.evaluate(async () => (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0].id);
  await b.click(url);
  const st = await waitFor(() => b.sw.evaluate((id) => {
    const s = imagediet.states.get(id);
    return s && ['done', 'canceled', 'error'].includes(s.status) ? JSON.parse(JSON.stringify(s)) : null;
  }, tabId), { timeout: 120000, what: 'the scan to end' });
  assert.equal(st.status, 'done', JSON.stringify(st.error));
  const at = (suffix) => {
    const i = st.images.findIndex((im) => im.url.endsWith(suffix));
    assert.ok(i >= 0, `found ${suffix}`);
    return st.results[i];
  };
  const own = at('/private/photo.jpg');
  assert.equal(own.final, true);
  assert.equal(own.status, 'optimized', JSON.stringify(own));
  assert.equal(own.original.format, 'jpeg');
  // The helper asked without a cookie and was refused; the page's read
  // carried the login.
  const asked = srv.hits.filter((h) => h.path === '/private/photo.jpg');
  assert.ok(asked.some((h) => h.ua.startsWith('ImageDiet/') && !h.cookie), 'the helper asked, without cookies');
  assert.ok(asked.some((h) => !h.ua.startsWith('ImageDiet/') && h.cookie.includes('imgdiet_session=ok')), 'the page read it with the login');
  assert.ok(!srv.hits.some((h) => h.ua.startsWith('ImageDiet/') && h.cookie), 'the helper never sends cookies');

  const other = at('/private/elsewhere.jpg');
  assert.equal(other.status, 'error');
  assert.equal(other.error.code, 'http_status');
  assert.equal(other.error.httpStatus, 403);
  assert.match(other.error.message, /login on another site/);
  // The summary counts each image once.
  assert.equal(st.summary.images, st.images.length);
  assert.equal(st.summary.optimized + st.summary.optimal + st.summary.failed, st.images.length, JSON.stringify(st.summary));
  assert.equal(st.summary.failed, 1, JSON.stringify(st.summary));
  await page.close();
});
