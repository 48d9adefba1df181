// Shared set-up for the end-to-end tests: a temporary Chromium profile with
// the real helper registered, the unpacked extension loaded, downloads
// going to a folder inside the profile, and helpers to click the toolbar
// button for real (CDP Extensions.triggerAction).
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..');
// IMGDIET_EXT_DIR runs the suite on another copy of the extension (the release's unpacked zip).
export const EXT_DIR = process.env.IMGDIET_EXT_DIR || join(ROOT, 'extension');
export const EXT_ID = 'fmeiijmoogoohmijkjchgkjnaeljpcno';
export const HOST_NAME = 'com.imagediet.host';
export const HOST_BIN = process.env.IMGDIET_HOST_BIN || join(ROOT, 'bin', 'imgdiet-host');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const POPUP_URL = `chrome-extension://${EXT_ID}/popup.html`;

// IMGDIET_E2E_HOST=system: profiles register no helper of their own, so
// Chromium finds the one a package installed through its system-wide
// manifest (scripts/test-package.sh).
const DEFAULT_HOST = process.env.IMGDIET_E2E_HOST || 'real';
export const SYSTEM_MANIFEST = `/etc/chromium/native-messaging-hosts/${HOST_NAME}.json`;

/** Why the e2e suite cannot run here, or null when it can. */
export function skipReason() {
  if (!existsSync(HOST_BIN)) return `bin/imgdiet-host is missing: build it with scripts/build.sh to run the end-to-end tests`;
  if (DEFAULT_HOST === 'system' && !existsSync(SYSTEM_MANIFEST)) return `${SYSTEM_MANIFEST} is missing: install the helper's package first`;
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: apt-get install -y chromium`;
  return null;
}

export const BROWSER_ARGS = [
  '--no-first-run', '--no-default-browser-check', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--no-sandbox', '--disable-features=DownloadBubble,DownloadBubbleV2',
  `--disable-extensions-except=${EXT_DIR}`, `--load-extension=${EXT_DIR}`,
];

/**
 * A fresh profile folder. host: "real" registers bin/imgdiet-host, a path
 * registers that file, "none" registers a helper whose file does not exist,
 * "system" registers nothing (the system-wide manifest is used).
 */
export function makeProfile({ host = DEFAULT_HOST } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'imagediet-e2e-'));
  const downloads = join(dir, 'downloads');
  mkdirSync(downloads);
  mkdirSync(join(dir, 'Default'));
  if (host !== 'system') {
    mkdirSync(join(dir, 'NativeMessagingHosts'));
    const path = host === 'real' ? HOST_BIN : host === 'none' ? join(dir, 'not-installed', 'imgdiet-host') : host;
    writeFileSync(join(dir, 'NativeMessagingHosts', `${HOST_NAME}.json`), JSON.stringify({
      name: HOST_NAME, description: 'Image Diet helper (e2e)', path, type: 'stdio',
      allowed_origins: [`chrome-extension://${EXT_ID}/`],
    }));
  }
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({
    download: { default_directory: downloads, prompt_for_download: false, directory_upgrade: true },
    savefile: { default_directory: downloads },
  }));
  const tag = randomUUID();
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    XDG_CACHE_HOME: join(dir, 'xdg-cache'),
    IMAGEDIET_E2E_TAG: tag,
  };
  return { dir, downloads, env, tag, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls fn until it returns a truthy value; returns that value. */
export async function waitFor(fn, { timeout = 20000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---- Playwright ------------------------------------------------------------

/** Launches Chromium with the extension through playwright-core. */
export async function launchPlaywright(opts = {}) {
  const { chromium } = await import('playwright-core');
  const profile = makeProfile(opts);
  const ctx = await chromium.launchPersistentContext(profile.dir, {
    executablePath: CHROMIUM, headless: true, env: profile.env, args: BROWSER_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  const cdp = await ctx.browser().newBrowserCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'default' });
  let sw = ctx.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXT_ID}/`));
  if (!sw) sw = await ctx.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith(`chrome-extension://${EXT_ID}/`) });
  return {
    ctx, sw, cdp, profile,
    /** Clicks the toolbar button on the tab showing url (grants activeTab, opens the popup). */
    async click(url) {
      const { targetInfos } = await cdp.send('Target.getTargets', { filter: [{ type: 'tab' }] });
      const t = targetInfos.find((x) => x.url === url);
      if (!t) throw new Error(`no tab shows ${url}`);
      await cdp.send('Extensions.triggerAction', { id: EXT_ID, targetId: t.targetId });
    },
    async close() {
      await ctx.close().catch(() => {});
      profile.remove();
    },
  };
}

// ---- Puppeteer ---------------------------------------------------------------

/** Launches Chromium with the extension through puppeteer-core (opts.args and opts.env added to the browser's). */
export async function launchPuppeteer(opts = {}) {
  const { default: puppeteer } = await import('puppeteer-core');
  const profile = makeProfile(opts);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, pipe: true, enableExtensions: [EXT_DIR], userDataDir: profile.dir,
    args: [...BROWSER_ARGS.filter((a) => !a.startsWith('--load-extension') && !a.startsWith('--disable-extensions-except')), ...(opts.args || [])],
    env: { ...profile.env, ...(opts.env || {}) }, defaultViewport: { width: 1280, height: 800 },
  });
  const session = await browser.target().createCDPSession();
  await session.send('Browser.setDownloadBehavior', { behavior: 'default' });
  const swTarget = await browser.waitForTarget((t) => t.type() === 'service_worker' && t.url().startsWith(`chrome-extension://${EXT_ID}/`));
  const sw = await swTarget.worker();
  const exts = await browser.extensions();
  const ext = exts.get(EXT_ID);
  if (!ext) throw new Error(`extension ${EXT_ID} did not load (got ${[...exts.keys()].join(', ')})`);
  return {
    browser, sw, ext, profile,
    /** Clicks the toolbar button on page and resolves with the popup page. */
    async openPopup(page) {
      const seen = new Set((await browser.targets()).filter((t) => t.url().startsWith(POPUP_URL)));
      await page.bringToFront();
      await page.triggerExtensionAction(ext);
      const t = await browser.waitForTarget((x) => x.url().startsWith(POPUP_URL) && !seen.has(x), { timeout: 10000 });
      const p = await t.asPage();
      await p.setViewport({ width: 640, height: 600 });
      return p;
    },
    async close() {
      await browser.close().catch(() => {});
      profile.remove();
    },
  };
}

// ---- helpers ---------------------------------------------------------------

/** Files (recursively) under a folder, as paths relative to it; partial downloads excluded. */
export function listFiles(dir) {
  const out = [];
  const walk = (d, rel) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, rel ? `${rel}/${n}` : n);
      else if (!n.endsWith('.crdownload')) out.push(rel ? `${rel}/${n}` : n);
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out.sort();
}

/** Reads a ZIP's entries (stored or deflated) into {name: Buffer}. */
export async function readZip(buf) {
  const { inflateRawSync } = await import('node:zlib');
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a ZIP: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = {};
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    const lnlen = buf.readUInt16LE(local + 26);
    const lxlen = buf.readUInt16LE(local + 28);
    const data = buf.subarray(local + 30 + lnlen + lxlen, local + 30 + lnlen + lxlen + csize);
    out[name] = method === 0 ? Buffer.from(data) : inflateRawSync(data);
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

/** The image format a file's first bytes announce, or null. */
export function sniff(buf) {
  if (buf.length < 12) return null;
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) return 'png';
  if (buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (buf.toString('latin1', 4, 8) === 'ftyp' && /avi[fs]/.test(buf.toString('latin1', 8, 12))) return 'avif';
  if (buf.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  if (/<svg[\s>]/.test(buf.toString('utf8', 0, Math.min(buf.length, 2048)))) return 'svg';
  return null;
}

/** Decodes image bytes in a browser page; resolves with {width, height}. */
export async function decodeInPage(page, buf, mime) {
  return page.evaluate(async (b64, type) => {
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const url = URL.createObjectURL(new Blob([u8], { type }));
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight };
    } finally {
      URL.revokeObjectURL(url);
    }
  }, buf.toString('base64'), mime);
}

/** The pids of helper processes started for this profile (matched by env tag). */
export function hostPids(profile) {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'latin1');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'latin1');
      if (env.includes(`IMAGEDIET_E2E_TAG=${profile.tag}`) && cmd.startsWith(HOST_BIN)) pids.push(Number(d));
    } catch { /* gone or not ours */ }
  }
  return pids;
}

/**
 * Presses Tab up to max times on page and records each control reached
 * (its data-testid, else name, else id) and whether its focus shows
 * (:focus-visible with an outline). act(id) runs after each stop; the walk
 * ends early when stop(id) is true.
 * @returns {Promise<Map<string, boolean>>}
 */
export async function tabWalk(page, { max = 60, act, stop } = {}) {
  const seen = new Map();
  for (let k = 0; k < max; k++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      const cs = getComputedStyle(e);
      return { id: e.dataset.testid || e.name || e.id, visible: e.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 };
    });
    if (!seen.has(f.id)) seen.set(f.id, f.visible);
    if (act) await act(f.id);
    if (stop && stop(f.id)) break;
  }
  return seen;
}

/**
 * Runs axe-core on page in the light and the dark scheme (prepare(scheme)
 * opens what should be checked) and returns its serious and critical
 * violations, as "scheme: rule (nodes)".
 */
export async function axeProblems(page, prepare = async () => {}) {
  const { createRequire } = await import('node:module');
  const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const problems = [];
  for (const scheme of ['light', 'dark']) {
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    await prepare(scheme);
    await page.evaluate(axe);
    const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
      .filter((x) => x.impact === 'serious' || x.impact === 'critical')
      .map((x) => `${x.id} (${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`));
    problems.push(...found.map((x) => `${scheme}: ${x}`));
  }
  return problems;
}

/**
 * Waits for a finished download at rel under dir and resolves with its
 * bytes, or with what read(bytes) returns (it may throw while the file is
 * incomplete: Chromium makes the final name before it has moved the bytes in).
 */
export async function readDownload(dir, rel, { read = (b) => b, timeout = 20000 } = {}) {
  return waitFor(async () => {
    if (!listFiles(dir).includes(rel)) return null;
    const bytes = readFileSync(join(dir, rel));
    if (!bytes.length) return null;
    try { return await read(bytes); } catch { return null; }
  }, { what: rel, timeout });
}
