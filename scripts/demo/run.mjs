// Serves the demo page on 127.0.0.1 and opens it in Chromium with the
// extension loaded. Called by scripts/demo.sh, which prepares the profile
// (host manifest in <profile>/NativeMessagingHosts) and cleans it up.
//
//   node scripts/demo/run.mjs --profile DIR --ext DIR [--headless] [--chromium PATH]
//
// Headed: opens a normal window and waits until you close it.
// Headless: clicks the toolbar button the way a person does (CDP
// Extensions.triggerAction, which grants activeTab), waits for the scan and
// prints its summary.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { dirname, extname, join, normalize, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const opt = { headless: false, chromium: '/usr/bin/chromium', timeoutMs: 60000 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--profile') opt.profile = argv[++i];
  else if (a === '--ext') opt.ext = argv[++i];
  else if (a === '--headless') opt.headless = true;
  else if (a === '--chromium') opt.chromium = argv[++i];
  else if (a === '--timeout') opt.timeoutMs = Number(argv[++i]) * 1000;
  else { console.error(`run.mjs: unknown argument ${a}`); process.exit(2); }
}
if (!opt.profile || !opt.ext) { console.error('run.mjs: --profile and --ext are required'); process.exit(2); }

const TYPES = { '.html': 'text/html; charset=utf-8', '.jpg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.svg': 'image/svg+xml' };

// A static server for scripts/demo/ only, on loopback.
function serve() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname)).replace(/^(\.\.[/\\])+/, '');
    const rel = path === '/' ? 'index.html' : path.slice(1);
    if (!/^(index\.html|img\/[\w.-]+)$/.test(rel)) { res.writeHead(404).end('not found'); return; }
    try {
      const body = await readFile(join(here, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] || 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const server = await serve();
const url = `http://127.0.0.1:${server.address().port}/`;
const args = [
  `--user-data-dir=${opt.profile}`, '--no-first-run', '--no-default-browser-check',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  `--disable-extensions-except=${opt.ext}`, `--load-extension=${opt.ext}`,
];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox'); // Chromium refuses root otherwise

let code = 0;
try {
  code = opt.headless ? await headless() : await headed();
} finally {
  server.close();
}
process.exit(code);

async function headed() {
  console.log(`Demo page: ${url}\nClick the Image Diet button in the toolbar (pin it from the puzzle-piece menu). Close the window to end the demo.`);
  const child = spawn(opt.chromium, [...args, url], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.on('exit', () => resolve(0)));
}

async function headless() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    console.error('run.mjs: playwright-core is missing: run npm ci in the repository');
    return 1;
  }
  const ctx = await chromium.launchPersistentContext(opt.profile, {
    executablePath: opt.chromium, headless: true, args: args.filter((a) => !a.startsWith('--user-data-dir')),
  });
  try {
    const sw = ctx.serviceWorkers()[0] || await ctx.waitForEvent('serviceworker', { timeout: 10000 });
    const extId = new URL(sw.url()).host;
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url, { waitUntil: 'load' });
    console.log(`Demo page ${url} loaded; extension ${extId}; clicking its toolbar button.`);

    const cdp = await ctx.browser()?.newBrowserCDPSession?.() ?? await ctx.newCDPSession(page);
    const { targetInfos } = await cdp.send('Target.getTargets', { filter: [{ type: 'tab' }] });
    const tab = targetInfos.find((t) => t.url === url);
    if (!tab) throw new Error('the demo tab was not found');
    const t0 = Date.now();
    await cdp.send('Extensions.triggerAction', { id: extId, targetId: tab.targetId });

    // The worker mirrors each tab's scan state into chrome.storage.session.
    let st = null;
    while (Date.now() - t0 < opt.timeoutMs) {
      st = await sw.evaluate(async () => {
        const all = await chrome.storage.session.get(null);
        return Object.entries(all).filter(([k]) => k.startsWith('scan:')).map(([, v]) => v)
          .sort((a, b) => (b.startedAt || 0) - (a.startedAt || 0))[0] || null;
      });
      if (st && ['done', 'error', 'canceled'].includes(st.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ms = Date.now() - t0;
    if (!st) { console.error('No scan started within the time limit.'); return 1; }
    if (st.status === 'error') { console.error(`The scan failed: ${st.error && st.error.message}`); return 1; }
    if (st.status !== 'done') { console.error(`The scan did not finish in ${opt.timeoutMs / 1000} s (status ${st.status}).`); return 1; }
    printSummary(st, ms);
    return 0;
  } finally {
    await ctx.close();
  }
}

function kb(n) { return `${(n / 1024).toFixed(1)} KB`; }

function printSummary(st, ms) {
  console.log(`\nScan of ${st.pageUrl} finished in ${ms} ms (click to last result):`);
  st.images.forEach((im, i) => {
    const r = st.results[i];
    const name = basename(new URL(im.url, st.pageUrl).pathname) || im.url.slice(0, 40);
    let line;
    if (!r) line = 'no result';
    else if (r.status === 'optimized') {
      line = `${r.original.format} ${kb(r.original.bytes)} ${r.original.width}x${r.original.height} → ${r.best.format} ${kb(r.best.bytes)} ${r.best.width}x${r.best.height}  (−${r.savedPercent.toFixed(0)}%)`;
    } else if (r.status === 'optimal') line = `${r.original ? `${r.original.format} ${kb(r.original.bytes)}` : ''} already optimal`;
    else line = `error: ${r.error && r.error.message}`;
    console.log(`  ${name.padEnd(14)} ${(im.kinds || []).join(',').padEnd(10)} ${line}`);
  });
  const s = st.summary || {};
  const pct = s.originalBytes ? (100 * s.savedBytes / s.originalBytes).toFixed(0) : 0;
  console.log(`Summary: ${s.images} images, ${s.optimized} optimized, ${s.optimal} already optimal, ${s.failed} failed; ` +
    `${kb(s.originalBytes)} → ${kb(s.optimizedBytes)}, saving ${kb(s.savedBytes)} (${pct}%); host time ${s.elapsedMs} ms.`);
}
