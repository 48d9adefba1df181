// The benchmark harness behind scripts/bench.sh. It measures, in one run,
// Image Diet's engine and host beside sharp 0.35 (same libvips bundle) and
// Lighthouse 12.8.2, writes every number to <out>/results.json and renders
// docs/benchmarks.md from them (report.mjs).
//
// node run.mjs --root REPO --host BIN --enginebench BIN --finalpass BIN
//   [--finalpass-base BIN] [--corpus DIR] [--only a,b]
// node run.mjs --root REPO --render    (the report again from results.json)
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import sharp from 'sharp';
import { prepare } from './corpus.mjs';
import { Host, scan, procStatus } from './host.mjs';
import { render } from './report.mjs';
import { gmean, median, ratioCI } from './stats.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const root = path.resolve(args.root || '..');
if ('render' in args) {
  // --render: docs/benchmarks.md again from the last results, nothing run.
  const R = JSON.parse(fs.readFileSync(path.join(root, '.deps', 'bench-work', 'results.json'), 'utf8'));
  fs.writeFileSync(path.join(root, 'docs', 'benchmarks.md'), render(R));
  process.exit(0);
}
const hostBin = path.resolve(args.host);
const engineBin = path.resolve(args.enginebench);
const finalpassBin = args.finalpass && path.resolve(args.finalpass);
const finalpassBase = args['finalpass-base'] && path.resolve(args['finalpass-base']);
const engineBase = args['enginebench-base'] && path.resolve(args['enginebench-base']);
const corpusDir = path.resolve(args.corpus || path.join(root, '.deps', 'bench-corpus'));
const benchDir = path.dirname(new URL(import.meta.url).pathname);
const work = path.join(root, '.deps', 'bench-work');
const only = args.only ? new Set(args.only.split(',')) : null;
const env = (k, d) => Number(process.env[k] || d);
// Repetitions per contender and operation, rounded up to an even number:
// the order of the contenders flips each round, so that each runs first
// and last equally often (a one-round smoke run showed sharp, always last,
// 6 % slower than the engine).
const ROUNDS = Math.ceil(env('BENCH_ROUNDS', 2) / 2) * 2;
const SOAK_IMAGES = env('BENCH_SOAK_IMAGES', 1000);
const SOAK_WIDTH = env('BENCH_SOAK_WIDTH', 320);
const LIMIT = 1.4; // butteraugli distance at "balanced"

fs.mkdirSync(work, { recursive: true });
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

// The Go side: one request per line, one reply per line.
class Engine {
  constructor(bin = engineBin) {
    this.p = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = readline.createInterface({ input: this.p.stdout });
    this.queue = [];
    this.lines.on('line', (l) => this.queue.shift()(JSON.parse(l)));
  }
  call(req) {
    return new Promise((res, rej) => {
      this.queue.push((r) => (r.error ? rej(new Error(`enginebench ${req.op}: ${r.error}`)) : res(r)));
      this.p.stdin.write(JSON.stringify(req) + '\n');
    });
  }
  close() { this.p.stdin.end(); }
}

// ---------------------------------------------------------------- machine
function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model;
  const ver = (cmd, a) => { try { return execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0]; } catch { return 'n/a'; } };
  const dpkg = (p) => ver('dpkg-query', ['-W', '-f=${Version}', p]);
  return {
    nproc: os.cpus().length, cpu, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1), kernel: os.release(),
    load: os.loadavg().map((x) => +x.toFixed(2)), date: new Date().toISOString(),
    node: process.version, go: ver('go', ['version']), sharp: sharp.versions.sharp, sharpLibvips: sharp.versions.vips,
    chromium: ver('/usr/bin/chromium', ['--version']), butteraugli: dpkg('butteraugli'),
    lighthouse: JSON.parse(fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/lighthouse/package.json'), 'utf8')).version,
  };
}

// ------------------------------------------------------------- page server
function servePage(files, display) {
  const byName = new Map(files.map((f) => [path.basename(f), f]));
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Photo page</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{margin:0;font:16px sans-serif}main{display:grid;grid-template-columns:repeat(2,${display}px);gap:8px;padding:8px}img{width:${display}px;height:auto;display:block}</style></head>
<body><h1>Photographs</h1><main>${files.map((f, i) => `<img src="/img/${path.basename(f)}" alt="photo ${i + 1}">`).join('')}</main></body></html>`;
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); return res.end(html); }
    const f = byName.get(path.basename(u.pathname));
    if (u.pathname.startsWith('/img/') && f) {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'max-age=3600' });
      return res.end(fs.readFileSync(f));
    }
    res.writeHead(404); res.end();
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, base: `http://127.0.0.1:${srv.address().port}/` })));
}

const allFormats = ['jpeg', 'png', 'webp', 'avif'];
const scanSettings = { formats: allFormats, quality: 'auto', target: 'balanced', resize: true, keepMetadata: false };

async function imageEntries(files, base, display, tag = '') {
  const out = [];
  for (const f of files) {
    const m = await sharp(f).metadata();
    out.push({ url: `${base}img/${path.basename(f)}${tag}`, displayWidth: display, displayHeight: Math.round((display * m.height) / m.width), dpr: 1 });
  }
  return out;
}

// ---------------------------------------------------------------- start-up
async function startup() {
  const hello = [], idle = [];
  for (let i = 0; i < 20; i++) {
    const h = new Host(hostBin);
    const { at } = await h.request({ type: 'hello', id: 'h', protocol: 1 }, 'hello', null, 10_000);
    hello.push(at - h.t0);
    if (i < 5) { await new Promise((r) => setTimeout(r, 1000)); idle.push(h.status().rss); }
    await h.close();
  }
  return { helloMs: hello, helloMedian: median(hello), idleRSS: idle, idleRSSMedian: median(idle) };
}

// --------------------------------------------------------- per operation
// OP_EFFORT is the WebP and AVIF encoder effort of every contender. The
// engine's own WebP default is 6: it is given this effort explicitly
// (Config.WebPEffort, through enginebench), like govips and sharp.
const OP_EFFORT = 4;
const sharpOp = {
  jpeg: (img, q) => img.jpeg({ quality: q, mozjpeg: true, chromaSubsampling: '4:2:0' }),
  webp: (img, q) => img.webp({ quality: q, effort: OP_EFFORT, smartSubsample: true }),
  avif: (img, q) => img.avif({ quality: q, effort: OP_EFFORT, bitdepth: 8, chromaSubsampling: '4:2:0' }),
  png: (img, q) => img.png({ palette: true, quality: q, dither: 1, compressionLevel: 9, adaptiveFiltering: false, effort: 7 }),
};
const opQuality = { jpeg: 80, webp: 80, avif: 50, png: 100 };

async function perop(c, eng) {
  // The host's libvips settings: one thread per core (sharp's own default
  // on glibc Linux without jemalloc is 1) and its cache bounds.
  const sharpDefaultThreads = sharp.concurrency();
  sharp.concurrency(os.cpus().length);
  sharp.cache({ memory: 32, items: 50, files: 0 });
  const bufs = new Map(c.op.map((o) => [o.file, fs.readFileSync(o.file)]));
  // The control is the engine again, in a second enginebench process: the
  // same code timed against itself (an A/A test), so the spread of its
  // ratio is the resolution of this run on this machine.
  const twin = new Engine();
  try {
    // Each contender returns the operation's wall time, its CPU time, the
    // minor page faults the process took during it (all threads) and the
    // SHA-256 of the output.
    const goCall = (e, impl) => (f, fmt) => e.call({ op: 'encode', impl, path: f, format: fmt, q: opQuality[fmt], effort: OP_EFFORT })
      .then((r) => [r.ms, r.cpuMs ?? 0, r.faults ?? 0, r.sum]);
    const contenders = {
      govips: goCall(eng, 'govips'),
      engine: goCall(eng, 'engine'),
      control: goCall(twin, 'engine'),
      sharp: async (f, fmt) => {
        const flt = process.resourceUsage().minorPageFault;
        const cpu = process.cpuUsage();
        const t = performance.now();
        const out = await sharpOp[fmt](sharp(bufs.get(f)), opQuality[fmt]).toBuffer();
        const el = performance.now() - t, c = process.cpuUsage(cpu);
        const faults = process.resourceUsage().minorPageFault - flt;
        return [el, (c.user + c.system) / 1000, faults, createHash('sha256').update(out).digest('hex')];
      },
    };
    // Each ratio pairs two contenders' times from the same round, which
    // ran back to back: a slow spell on the machine then hits both.
    const pairs = { govips: ['govips', 'sharp'], engine: ['engine', 'sharp'], control: ['control', 'engine'] };
    const names = Object.keys(contenders);
    for (const fmt of allFormats) for (const n of names) await contenders[n](c.op[0].file, fmt); // warm-up
    const rows = [];
    for (const fmt of allFormats) {
      for (const o of c.op) {
        const runs = Object.fromEntries(names.map((n) => [n, []])); // [ms, cpuMs, faults, sum] per round
        for (let r = 0; r < ROUNDS; r++) {
          const order = r % 2 ? [...names].reverse() : names; // alternate, and flip the order each round
          for (const n of order) runs[n].push(await contenders[n](o.file, fmt));
        }
        const col = (i) => Object.fromEntries(names.map((n) => [n, median(runs[n].map((x) => x[i]))]));
        const m = col(0), cpuMs = col(1), faults = col(2);
        const paired = (i) => Object.fromEntries(Object.entries(pairs).map(([k, [a, b]]) => [k, runs[a].map((x, j) => x[i] / runs[b][j][i])]));
        const sums = new Set(names.flatMap((n) => runs[n].map((x) => x[3])));
        rows.push({ format: fmt, file: path.basename(o.file), width: o.width, ...m, faults, cpuMs, rounds: paired(0), cpuRounds: paired(1),
          identical: sums.size === 1 });
      }
      log('perop', fmt, 'done');
    }
    // The ratios' estimates and intervals are derived from rows (their
    // per-round ratios) by report.mjs.
    const byFormat = allFormats.map((fmt) => {
      const rs = rows.filter((r) => r.format === fmt);
      return {
        format: fmt, q: opQuality[fmt],
        sizes: [...new Set(rs.map((r) => r.width))],
        identical: rs.every((r) => r.identical), images: rs.length,
        ...Object.fromEntries(['faults', 'cpuMs'].map((k) => [k, Object.fromEntries(names.map((n) => [n, median(rs.map((r) => r[k][n]))]))])),
        ms: Object.fromEntries(names.map((n) => [n, gmean(rs.map((r) => r[n]))])),
      };
    });
    const { faultUs } = await eng.call({ op: 'faultcost' });
    return { rounds: ROUNDS, rows, byFormat, faultUs, effort: OP_EFFORT, engineWebPDefault: 6, sharpThreads: sharp.concurrency(), sharpDefaultThreads };
  } finally {
    twin.close();
  }
}

// -------------------------------------------------- page scan and overhead
function profileSplit(binary, prof) {
  const top = execFileSync('go', ['tool', 'pprof', '-top', '-nodefraction=0', '-edgefraction=0', '-nodecount=1000000', binary, prof], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  const sec = (s) => (s.endsWith('ms') ? parseFloat(s) / 1000 : s.endsWith('us') || s.endsWith('µs') ? parseFloat(s) / 1e6 : s.endsWith('min') ? parseFloat(s) * 60 : parseFloat(s));
  let total = 0, c = 0, measure = 0;
  const cum = {};
  for (const line of top.split('\n')) {
    const t = line.match(/Total samples = (\S+)/);
    if (t) total = sec(t[1]);
    const m = line.match(/^\s*(\S+)\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.*)$/);
    if (!m) continue;
    const [, flat, cumS, name] = m;
    // The perceptual measure's own code, by flat time: its streamed
    // stages nest deeper than pprof's stack depth, so cumulative time
    // under the engine's distance call undercounts it.
    if (/\/internal\/(butteraugli|metric)\./.test(name)) measure += sec(flat);
    // C time: frames in the shared libraries, cgo calls, and the
    // runtime's stand-ins for samples taken in non-Go code (_ExternalCode;
    // _LostExternalCode when the C stack could not be walked, frequent on
    // libvips' own threads on some machines).
    if (name.startsWith('[') || name === 'runtime.cgocall' || name === 'runtime._ExternalCode' || name === 'runtime._LostExternalCode' || name.startsWith('_cgo') || name.startsWith('runtime.asmcgocall')) c += sec(flat);
    for (const [k, re] of Object.entries({
      encode: /vips\.vipsSaveToBuffer$|optimize\.webpSave$/, metric: /optimize\.\(\*job\)\.(distance|within)$/,
      probe: /optimize\.probeRead$/, verify: /optimize\.verify$/, decode: /optimize\.\(\*Engine\)\.decode$/,
      palette: /optimize\.\(\*Engine\)\.palette$/, gc: /^runtime\.gcBgMarkWorker$/,
    })) if (re.test(name)) cum[k] = (cum[k] || 0) + sec(cumS);
  }
  return { totalS: total, cS: c, goS: total - c, measureS: measure, cum };
}

async function page(c, eng) {
  const display = 640;
  const { srv, base } = await servePage(c.page, display);
  const images = await imageEntries(c.page, base, display);
  const out = { display, images: images.length, host: [], inproc: [], date: new Date().toISOString() };
  try {
    for (let r = 0; r < env('BENCH_PAGE_ROUNDS', 1); r++) {
      const hostProf = path.join(work, `host${r}.pprof`);
      const h = new Host(hostBin, { IMGDIET_CPUPROFILE: hostProf });
      await h.request({ type: 'hello', id: 'h', protocol: 1 }, 'hello');
      const cpu0 = h.cpuMs();
      let peak = 0;
      const tick = setInterval(() => { peak = Math.max(peak, h.status().rss); }, 250);
      const s = await scan(h, `page${r}`, base, images, scanSettings);
      clearInterval(tick);
      const st = h.status();
      out.host.push({ firstMs: s.firstMs, allFirstMs: s.allFirstMs, allFinalMs: s.allFinalMs, allVerifiedMs: s.allVerifiedMs, verifiedRows: s.verifiedRows, doneMs: s.doneMs, cpuMs: h.cpuMs() - cpu0, hwm: st.hwm, peakRSS: Math.max(peak, st.rss), summary: s.done.summary,
        finals: s.finals.map((m) => ({ index: m.index, url: m.url, status: m.status, original: m.original?.bytes, best: m.best && { format: m.best.format, bytes: m.best.bytes, width: m.best.width, height: m.best.height, quality: m.best.quality }, saved: m.savedBytes, candidates: m.candidates?.map((x) => `${x.format}:${x.bytes}@q${x.quality}`) })) });
      await h.close();
      out.host.at(-1).split = profileSplit(hostBin, hostProf);
      log('page: host scan', Math.round(s.doneMs), 'ms');
      const prof = path.join(work, `inproc${r}.pprof`);
      const ip = await eng.call({ op: 'inproc', paths: c.page, display, workers: os.cpus().length, profile: prof });
      out.inproc.push({ ...ip, split: profileSplit(engineBin, prof) });
      log('page: in-process engine', Math.round(ip.wallMs), 'ms');
    }
  } finally {
    srv.close();
  }
  const h = out.host.at(-1), ip = out.inproc.at(-1);
  // Host overhead, from the host's own profile of the scan: its CPU time
  // outside libvips (C code, all threads) over the CPU libvips spent.
  const share = (x) => (h.cpuMs * x) / h.split.totalS;
  const libvipsMs = share(h.split.cS), measureMs = share(h.split.measureS || 0);
  out.derived = {
    libvipsCPUms: libvipsMs, goCPUms: h.cpuMs - libvipsMs, measureCPUms: measureMs,
    overheadVsLibvips: (h.cpuMs - libvipsMs) / libvipsMs,
    overheadExMeasure: (h.cpuMs - libvipsMs - measureMs) / libvipsMs,
    // The same work in-process, for comparison (separate runs: AVIF's
    // CPU time varies by several per cent from run to run).
    inprocGoShare: ip.split.goS / ip.split.totalS,
    overheadVsEngine: (h.cpuMs - ip.cpuMs) / ip.cpuMs,
    wallOverheadVsEngine: (h.doneMs - ip.wallMs) / ip.wallMs,
  };
  return out;
}

// --------------------------------------------------------- search overhead
// finalPass runs bench/finalpass (built from this tree, or from the
// baseline commit) over the page's photos: per photo its fast pass, then
// its final pass with CPU time around it alone, one photo at a time.
function finalPass(bin, files, display) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['-display', String(display), ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${path.basename(bin)} exited ${code}`));
      const rows = out.trim().split('\n').map((l) => JSON.parse(l));
      const bad = rows.find((r) => r.error);
      return bad ? reject(new Error(`${bad.file}: ${bad.error}`)) : resolve(rows);
    });
  });
}

// The search overhead (issue 14): the final pass's CPU time over the CPU
// time of encoding each format once at the settings it finally chose,
// from the same decoded image held in memory.
async function overhead(c, eng) {
  const display = 640; // the page's (section page)
  if (!finalpassBin) throw new Error('no --finalpass binary');
  const rows = await finalPass(finalpassBin, c.page, display);
  for (const [i, r] of rows.entries()) {
    const cands = r.candidates || [];
    const widths = new Set(cands.map((x) => x.Width));
    if (widths.size !== 1) throw new Error(`${r.file}: candidates at ${widths.size} widths`);
    const settings = cands.map((x) => ({ format: x.Format, encoding: x.Encoding, quality: x.Quality, effort: x.Effort, sum: x.sum }));
    const e = await eng.call({ op: 'encodeonce', path: c.page[i], width: [...widths][0], settings });
    r.encodes = e.encodes;
    r.encodeCpuMs = sum(e.encodes.map((x) => x.cpuMs));
    r.ratio = r.finalCpuMs / r.encodeCpuMs;
    r.candidates = cands.map((x) => ({ format: x.Format, bytes: x.bytes, quality: x.Quality, effort: x.Effort, width: x.Width, height: x.Height }));
  }
  log('overhead: final pass', Math.round(sum(rows.map((r) => r.finalCpuMs)) / 1000), 's CPU');
  const out = { display, images: rows.length, rows, finalCpuMs: sum(rows.map((r) => r.finalCpuMs)), finalWallMs: sum(rows.map((r) => r.finalWallMs)),
    encodeCpuMs: sum(rows.map((r) => r.encodeCpuMs)), maxFinalCpuMs: Math.max(...rows.map((r) => r.finalCpuMs)),
    sameBytes: rows.every((r) => r.encodes.every((x) => x.same)) };
  out.ratio = out.finalCpuMs / out.encodeCpuMs;
  if (finalpassBase) {
    const base = await finalPass(finalpassBase, c.page, display);
    out.base = { commit: process.env.BENCH_BASE || null, rows: base.map((r) => ({ file: r.file, finalCpuMs: r.finalCpuMs, finalWallMs: r.finalWallMs, fastCpuMs: r.fastCpuMs })),
      finalCpuMs: sum(base.map((r) => r.finalCpuMs)), finalWallMs: sum(base.map((r) => r.finalWallMs)), maxFinalCpuMs: Math.max(...base.map((r) => r.finalCpuMs)) };
    // Today's overhead: the old final pass over the same encodes (the
    // settings it chose differ a little; the encodes' cost barely).
    out.base.ratio = out.base.finalCpuMs / out.encodeCpuMs;
    log('overhead: baseline final pass', Math.round(out.base.finalCpuMs / 1000), 's CPU');
  }
  return out;
}

// ------------------------------------------------------- the 500-row page
// The page's 24 photos behind 21 query strings each, the first 500 rows
// (24 × 21 = 504), in one scan: identical bytes are optimized once, so
// its final pass should cost about what the 24-photo page's does.
async function page500(c, pageResult) {
  const display = 640;
  const { srv, base } = await servePage(c.page, display);
  try {
    const images = [];
    for (let k = 0; images.length < 500; k++) images.push(...(await imageEntries(c.page, base, display, `?v=${k}`)));
    images.length = 500;
    const h = new Host(hostBin);
    await h.request({ type: 'hello', id: 'h', protocol: 1 }, 'hello');
    const cpu0 = h.cpuMs();
    let peak = 0;
    const tick = setInterval(() => { peak = Math.max(peak, h.status().rss); }, 250);
    const s = await scan(h, 'page500', base, images, scanSettings);
    clearInterval(tick);
    const cpuMs = h.cpuMs() - cpu0, st = h.status();
    await h.close();
    log('page500: scan', Math.round(s.doneMs), 'ms');
    const p = pageResult?.host?.at(-1);
    return { rows: images.length, distinct: c.page.length, firstMs: s.firstMs, allFirstMs: s.allFirstMs, allFinalMs: s.allFinalMs, allVerifiedMs: s.allVerifiedMs,
      verifiedRows: s.verifiedRows, doneMs: s.doneMs, cpuMs, hwm: st.hwm, peakRSS: Math.max(peak, st.rss), summary: s.done.summary,
      page: p && { cpuMs: p.cpuMs, doneMs: p.doneMs, date: pageResult.date }, cpuRatio: p ? cpuMs / p.cpuMs : null, wallRatio: p ? s.doneMs / p.doneMs : null };
  } finally {
    srv.close();
  }
}

// --------------------------------------------------- responsive variants
// The 24-photo page (section page: 640 px shown, dpr 1, 1600 px photos, so
// widths 640 and 1280) scanned twice in fresh hosts, without and with
// settings.variants, the order flipping each round. Host CPU is read when
// every row is final and at done: the machine is shared, so the target is
// read on CPU time (variants' CPU over the scan's CPU to its last final).
async function variants(c) {
  const display = 640;
  const { srv, base } = await servePage(c.page, display);
  try {
    const images = await imageEntries(c.page, base, display);
    const one = async (withVariants, r) => {
      const h = new Host(hostBin);
      await h.request({ type: 'hello', id: 'h', protocol: 1 }, 'hello');
      const t0 = performance.now(), cpu0 = h.cpuMs();
      const finals = new Set(), vmsgs = new Map();
      let allFinalMs = null, allFinalCpuMs = null, order = true;
      const settings = { ...scanSettings, variants: withVariants };
      const { msg: done, at } = await h.request({ type: 'scan', id: `v${r}`, page: { url: base }, settings, images }, 'done', (m, t) => {
        if (m.type === 'result' && m.final) {
          finals.add(m.index);
          if (finals.size === images.length) { allFinalMs = t - t0; allFinalCpuMs = h.cpuMs() - cpu0; }
        }
        if (m.type === 'variants') {
          if (!finals.has(m.index) || vmsgs.has(m.index)) order = false;
          vmsgs.set(m.index, m);
        }
      }, 3_600_000); // on a shared machine a scan with variants took over 10 minutes
      const cpuMs = h.cpuMs() - cpu0;
      await h.close();
      const vs = [...vmsgs.values()];
      const files = vs.flatMap((m) => m.variants.flatMap((v) => v.files.map((f) => ({ ...f, width: v.width }))));
      return { variants: withVariants, allFinalMs, allFinalCpuMs, doneMs: at - t0, cpuMs, summary: done.summary, order: withVariants ? order && vs.length === images.length : null,
        messages: vs.length, files: files.length, widths: [...new Set(files.map((f) => f.width))].sort((a, b) => a - b),
        bytes: Object.fromEntries(['avif', 'webp', 'jpeg', 'png'].map((fm) => [fm, sum(files.filter((f) => f.format === fm).map((f) => f.bytes))])),
        maxDistance: Math.max(0, ...files.map((f) => f.distance || 0)), notes: vs.filter((m) => m.note || m.reason).map((m) => ({ index: m.index, note: m.note, reason: m.reason })) };
    };
    const runs = [];
    for (let r = 0; r < env('BENCH_VARIANT_ROUNDS', 1); r++) {
      for (const v of r % 2 ? [true, false] : [false, true]) {
        runs.push(await one(v, r));
        const x = runs.at(-1);
        log('variants:', v ? 'with' : 'without', 'all final', Math.round(x.allFinalMs), 'ms, done', Math.round(x.doneMs), 'ms, CPU', Math.round(x.cpuMs), 'ms');
      }
    }
    const med = (v, k) => median(runs.filter((x) => x.variants === v).map((x) => x[k]));
    const out = { display, images: images.length, runs,
      without: { allFinalMs: med(false, 'allFinalMs'), doneMs: med(false, 'doneMs'), cpuMs: med(false, 'cpuMs') },
      with: { allFinalMs: med(true, 'allFinalMs'), doneMs: med(true, 'doneMs'), cpuMs: med(true, 'cpuMs'), allFinalCpuMs: med(true, 'allFinalCpuMs') } };
    // Variants' CPU: the scan with variants over the scan without.
    out.variantCpuMs = out.with.cpuMs - out.without.cpuMs;
    out.perImageCpuMs = out.variantCpuMs / images.length;
    out.cpuRatio = out.with.cpuMs / out.without.cpuMs;
    out.wallRatio = out.with.doneMs / out.without.allFinalMs;
    out.finalDelay = out.with.allFinalMs / out.without.allFinalMs;
    return out;
  } finally {
    srv.close();
  }
}

// ------------------------------------------------- CLI vs sharp, processes
// CLI_EFFORT is sharp's WebP effort in the CLI comparison: the engine's
// final WebP encode at a fixed quality runs at Config.WebPEffort, 6 by
// default (internal/optimize, webpFinalEffort), with smart subsampling.
const CLI_EFFORT = 6;
const CLI = { quality: 75, width: 720, format: 'webp' };

async function cli(c, eng) {
  const rounds = env('BENCH_CLI_ROUNDS', 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgdiet-cli-'));
  const outs = { ours: path.join(dir, 'ours'), sharp: path.join(dir, 'sharp') };
  const argv = {
    ours: [hostBin, 'optimize', '--quality', String(CLI.quality), '--formats', CLI.format, '--width', String(CLI.width), '--out', outs.ours, ...c.page],
    sharp: [process.execPath, path.join(benchDir, 'sharpcli.mjs'), '--quality', String(CLI.quality), '--effort', String(CLI_EFFORT), '--width', String(CLI.width),
      '--out', outs.sharp, ...c.page],
  };
  const runOne = async (k) => {
    fs.rmSync(outs[k], { recursive: true, force: true });
    fs.mkdirSync(outs[k], { recursive: true });
    const r = await eng.call({ op: 'process', argv: argv[k] });
    const files = fs.readdirSync(outs[k]);
    return { wallMs: r.wallMs, cpuMs: r.cpuMs, files: files.length, bytes: sum(files.map((f) => fs.statSync(path.join(outs[k], f)).size)) };
  };
  try {
    await runOne('ours'); await runOne('sharp'); // warm-up: page cache, binaries
    const runs = { ours: [], sharp: [] };
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 ? ['sharp', 'ours'] : ['ours', 'sharp']) runs[k].push(await runOne(k));
      log('cli round', r + 1, 'ours', Math.round(runs.ours.at(-1).cpuMs), 'ms CPU, sharp', Math.round(runs.sharp.at(-1).cpuMs), 'ms CPU');
    }
    const ratio = (key) => {
      const per = runs.ours.map((o, i) => o[key] / runs.sharp[i][key]);
      return { rounds: per, ratio: median(per), ci: ratioCI([per], { seed: 7 }) };
    };
    return { ...CLI, effort: CLI_EFFORT, images: c.page.length, rounds, argv: { ours: argv.ours.slice(1, 10), sharp: argv.sharp.slice(2, 11) }, runs,
      cpu: ratio('cpuMs'), wall: ratio('wallMs'), sharpThreads: os.cpus().length };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------- bytes at equal quality
function pool(n) {
  let active = 0; const q = [];
  const next = () => { if (active < n && q.length) { active++; const [f, res, rej] = q.shift(); f().then(res, rej).finally(() => { active--; next(); }); } };
  return (f) => new Promise((res, rej) => { q.push([f, res, rej]); next(); });
}
const butterPool = pool(os.cpus().length);
function butteraugli(refPNG, candPNG) {
  return butterPool(() => new Promise((res, rej) => {
    const p = spawn('butteraugli', [refPNG, candPNG], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    p.stdout.on('data', (d) => (s += d));
    p.on('exit', (code) => (code === 0 ? res(parseFloat(s)) : rej(new Error(`butteraugli exited ${code}`))));
  }));
}
let seq = 0;
async function distanceOf(refPNG, buf) {
  const f = path.join(work, 'q', `c${seq++}.png`);
  await sharp(buf).png({ compressionLevel: 1 }).toFile(f);
  try { return await butteraugli(refPNG, f); } finally { fs.rmSync(f, { force: true }); }
}
// The oracle's encoders: sharp's defaults but mozjpeg for JPEG and smart
// chroma subsampling for WebP (without it, WebP at q100 misses 1.4 on some
// photos), the best sharp offers at each quality.
const sharpEnc = {
  jpeg: (b, q) => sharp(b).jpeg({ quality: q, mozjpeg: true }).toBuffer(),
  webp: (b, q) => sharp(b).webp({ quality: q, smartSubsample: true }).toBuffer(),
  avif: (b, q) => sharp(b).avif({ quality: q }).toBuffer(),
};
const sharpDefaults = { jpeg: 80, webp: 80, avif: 50 };
const sharpDefaultEnc = {
  jpeg: (b) => sharp(b).jpeg({ quality: 80, mozjpeg: true }).toBuffer(),
  webp: (b) => sharp(b).webp({ quality: 80 }).toBuffer(),
  avif: (b) => sharp(b).avif({ quality: 50 }).toBuffer(),
};
const lossy = ['jpeg', 'webp', 'avif'];

// oracle finds the smallest sharp output at distance ≤ LIMIT: a binary
// search on quality in [50, 100] (step 1), then the quality 2 below the
// boundary, since distance is not strictly monotonic in quality.
async function oracle(src, ref, fmt) {
  const tried = new Map();
  const at = async (q) => {
    if (!tried.has(q)) tried.set(q, (async () => { const b = await sharpEnc[fmt](src, q); return { q, bytes: b.length, d: await distanceOf(ref, b) }; })());
    return tried.get(q);
  };
  let lo = 50, hi = 100, found = null;
  if ((await at(hi)).d > LIMIT) return { q: null, bytes: null, d: (await at(hi)).d, evals: tried.size };
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await at(mid)).d <= LIMIT) hi = mid; else lo = mid + 1;
  }
  if (lo > 50) await at(lo - 2);
  for (const r of await Promise.all([...tried.values()])) if (r.d <= LIMIT && (!found || r.bytes < found.bytes)) found = r;
  return { ...found, evals: tried.size };
}

async function quality(c, eng) {
  const dir = path.join(work, 'q');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const rows = await Promise.all(c.q.map(async (file) => {
    const name = path.basename(file, '.jpg');
    const src = fs.readFileSync(file);
    const ref = path.join(dir, `${name}.ref.png`);
    await sharp(src).png({ compressionLevel: 1 }).toFile(ref);
    const row = { name, bytes: src.length, oracle: {}, defaults: {}, ours: {} };
    const ours = await eng.call({ op: 'optimize', path: file, formats: lossy, target: 'balanced', out: dir });
    await Promise.all([
      ...lossy.map(async (f) => { row.oracle[f] = await oracle(src, ref, f); }),
      ...lossy.map(async (f) => { const b = await sharpDefaultEnc[f](src); row.defaults[f] = { q: sharpDefaults[f], bytes: b.length, d: await distanceOf(ref, b) }; }),
      ...(ours.candidates || []).map(async (cd) => { row.ours[cd.format] = { q: cd.quality, bytes: cd.bytes, d: await distanceOf(ref, fs.readFileSync(cd.file)) }; }),
    ]);
    const best = (o) => Object.entries(o).filter(([, v]) => v.bytes != null).sort((a, b) => a[1].bytes - b[1].bytes)[0];
    const ob = best(row.oracle), ub = best(row.ours);
    row.oracleBest = ob && { format: ob[0], ...ob[1] };
    row.oursBest = ub && { format: ub[0], ...ub[1] };
    log('quality', name, 'done');
    return row;
  }));
  const tot = (fn) => sum(rows.map(fn).filter((x) => x != null));
  const perFormat = lossy.map((f) => {
    const both = rows.filter((r) => r.ours[f] && r.oracle[f]?.bytes);
    return {
      format: f, images: both.length, oursBytes: tot((r) => (both.includes(r) ? r.ours[f].bytes : null)), oracleBytes: tot((r) => (both.includes(r) ? r.oracle[f].bytes : null)),
      defaultsBytes: tot((r) => r.defaults[f].bytes), oursMaxD: Math.max(...rows.filter((r) => r.ours[f]).map((r) => r.ours[f].d)),
      defaultsMaxD: Math.max(...rows.map((r) => r.defaults[f].d)), defaultsMedianD: median(rows.map((r) => r.defaults[f].d)),
      missing: rows.filter((r) => !r.ours[f]).length,
    };
  });
  return {
    limit: LIMIT, rows, perFormat,
    bestOurs: tot((r) => r.oursBest?.bytes), bestOracle: tot((r) => r.oracleBest?.bytes), source: tot((r) => r.bytes),
    oursMaxBestD: Math.max(...rows.map((r) => r.oursBest?.d ?? 0)), oursAllPass: rows.every((r) => Object.values(r.ours).every((v) => v.d <= LIMIT)),
    bestPass: rows.every((r) => !r.oursBest || r.oursBest.d <= LIMIT),
  };
}

// The engine of the baseline commit (BENCH_BASE) on the bytes corpus, as
// section quality runs ours: today's bytes on this machine, beside ours.
async function qualityBase(c) {
  if (!engineBase) throw new Error('no --enginebench-base binary (set BENCH_BASE)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgdiet-qbase-'));
  const e = new Engine(engineBase);
  try {
    const rows = [];
    for (const file of c.q) {
      const r = await e.call({ op: 'optimize', path: file, formats: lossy, target: 'balanced', out: dir });
      const cands = (r.candidates || []).map((x) => ({ format: x.format, bytes: x.bytes, q: x.quality }));
      rows.push({ name: path.basename(file, '.jpg'), ms: r.ms, candidates: cands, best: Math.min(...cands.map((x) => x.bytes)) });
      log('qualitybase', rows.at(-1).name, 'done');
    }
    return { commit: process.env.BENCH_BASE || null, rows, bestOurs: sum(rows.map((r) => r.best)) };
  } finally {
    e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------- lighthouse
async function lighthouse(c, pageResult) {
  const display = pageResult?.display || 640;
  const { srv, base } = await servePage(c.page, display);
  const out = path.join(work, 'lighthouse.json');
  try {
    const bin = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/.bin/lighthouse');
    const xdg = path.join(work, 'chromium-home');
    // Asynchronous: this process also serves the page Lighthouse loads.
    await new Promise((resolve, reject) => {
      const p = spawn(bin, [base, '--quiet', '--preset=desktop', '--only-audits=uses-optimized-images,modern-image-formats,uses-responsive-images',
        '--output=json', `--output-path=${out}`, '--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run'],
      { env: { ...process.env, CHROME_PATH: process.env.CHROME_PATH || '/usr/bin/chromium', XDG_CONFIG_HOME: xdg, XDG_CACHE_HOME: xdg }, stdio: ['ignore', 'ignore', 'inherit'] });
      const t = setTimeout(() => p.kill('SIGKILL'), 300_000);
      p.on('exit', (code) => { clearTimeout(t); code === 0 ? resolve() : reject(new Error(`lighthouse exited ${code}`)); });
    });
  } finally {
    srv.close();
  }
  const lh = JSON.parse(fs.readFileSync(out, 'utf8'));
  const audits = {};
  const perImage = new Map();
  for (const id of ['uses-optimized-images', 'modern-image-formats', 'uses-responsive-images']) {
    const a = lh.audits[id];
    const items = a?.details?.items || [];
    audits[id] = { score: a?.score, savingsBytes: sum(items.map((i) => i.wastedBytes || 0)), items: items.length, error: a?.errorMessage };
    for (const i of items) {
      const k = path.basename(new URL(i.url).pathname);
      perImage.set(k, { ...(perImage.get(k) || {}), [id]: i.wastedBytes, total: i.totalBytes });
    }
  }
  const finals = pageResult?.host?.at(-1)?.finals || [];
  const ours = new Map(finals.map((f) => [path.basename(new URL(f.url).pathname), f]));
  const rows = c.page.map((f) => {
    const k = path.basename(f), l = perImage.get(k) || {}, o = ours.get(k);
    return { image: k, bytes: fs.statSync(f).size, optimized: l['uses-optimized-images'] || 0, modern: l['modern-image-formats'] || 0, responsive: l['uses-responsive-images'] || 0, ours: o?.saved ?? null, oursFormat: o?.best?.format };
  });
  return { version: lh.lighthouseVersion, audits, rows,
    maxPerImage: sum(rows.map((r) => Math.max(r.optimized, r.modern, r.responsive))),
    oursSaved: pageResult?.host?.at(-1)?.summary?.savedBytes ?? null, original: sum(rows.map((r) => r.bytes)) };
}

// ------------------------------------------------------------------- soak
async function soak(c) {
  const { srv, base } = await servePage(c.soak, SOAK_WIDTH);
  const per = c.soak.length;
  const scans = Math.ceil(SOAK_IMAGES / per);
  const h = new Host(hostBin);
  const samples = [];
  const t0 = performance.now();
  const tick = setInterval(() => samples.push({ s: (performance.now() - t0) / 1000, rss: h.status().rss }), 1000);
  let images = 0, failed = 0;
  try {
    await h.request({ type: 'hello', id: 'h', protocol: 1 }, 'hello');
    samples.push({ s: 0, rss: h.status().rss });
    for (let i = 0; i < scans; i++) {
      const entries = await imageEntries(c.soak.slice(0, Math.min(per, SOAK_IMAGES - images)), base, SOAK_WIDTH, `?scan=${i}`);
      const s = await scan(h, `soak${i}`, base, entries, scanSettings);
      images += entries.length;
      failed += s.done.summary.failed;
      await h.request({ type: 'release', id: `r${i}`, all: true }, 'released');
      if (i % 5 === 4) log('soak', images, 'images, rss', h.status().rss.toFixed(0), 'MiB');
    }
  } finally {
    clearInterval(tick);
    srv.close();
  }
  const st = h.status();
  samples.push({ s: (performance.now() - t0) / 1000, rss: st.rss });
  await h.close();
  const rss = samples.map((x) => x.rss);
  const n = rss.length, tenth = Math.max(1, Math.floor(n / 10));
  const early = median(rss.slice(tenth, 3 * tenth)), late = median(rss.slice(n - 2 * tenth));
  return { images, failed, scans, width: SOAK_WIDTH, seconds: (performance.now() - t0) / 1000, start: rss[0], peak: Math.max(...rss), end: rss.at(-1), hwm: st.hwm,
    early, late, growth: (late - early) / early, samples: samples.filter((_, i) => i % Math.max(1, Math.floor(n / 60)) === 0) };
}

async function bigImage(c) {
  const { srv, base } = await servePage([c.big], 0);
  const h = new Host(hostBin);
  try {
    await h.request({ type: 'hello', id: 'h', protocol: 1 }, 'hello');
    let peak = 0;
    const tick = setInterval(() => { peak = Math.max(peak, h.status().rss); }, 250);
    const m = await sharp(c.big).metadata();
    const s = await scan(h, 'big', base, [{ url: `${base}img/${path.basename(c.big)}` }], scanSettings);
    clearInterval(tick);
    const st = h.status();
    const f = s.finals[0];
    return { width: m.width, height: m.height, bytes: fs.statSync(c.big).size, doneMs: s.doneMs, firstMs: s.firstMs, hwm: st.hwm, peakRSS: Math.max(peak, st.rss), status: f?.status, error: f?.error?.code, best: f?.best && `${f.best.format} ${f.best.bytes} B`,
      candidates: (f?.candidates || []).map((x) => `${x.format} ${x.bytes} B (q${x.quality ?? 100})`) };
  } finally {
    await h.close();
    srv.close();
  }
}

// ------------------------------------------------------------------- main
const resultsFile = path.join(work, 'results.json');
const R = fs.existsSync(resultsFile) && only ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : {};
const want = (s) => !only || only.has(s);
const started = performance.now();
const command = process.env.BENCH_COMMAND || 'scripts/bench.sh';
if (only && R.machine) {
  // A partial rerun keeps the full run's machine record and command and
  // notes which sections it replaced; an earlier rerun whose sections are
  // all replaced again no longer describes any number.
  R.reruns = (R.reruns || []).filter((x) => !x.sections.every((s) => only.has(s)));
  R.reruns.push({ command, sections: [...only], date: new Date().toISOString(), load: os.loadavg().map((x) => +x.toFixed(2)) });
} else {
  R.machine = machine();
  R.command = command;
  delete R.reruns;
}
// Today's figures (before issue 14's rebuild), which the report sets the
// new ones beside.
R.baseline = JSON.parse(fs.readFileSync(path.join(benchDir, 'baseline.json'), 'utf8'));
log('corpus');
const c = await prepare(corpusDir);
R.corpus = { photos: c.sources.length, page: c.page.length, op: c.op.length, q: c.q.length, soak: c.soak.length, sources: c.sources.map((s) => path.relative(path.join(corpusDir, 'src'), s)) };
const eng = new Engine();
R.machine.engineLibvips = (await eng.call({ op: 'version' })).libvips;
const save = () => fs.writeFileSync(resultsFile, JSON.stringify(R, null, 1));
try {
  for (const [name, fn] of [['startup', () => startup()], ['perop', () => perop(c, eng)], ['page', () => page(c, eng)],
    ['overhead', () => overhead(c, eng)], ['page500', () => page500(c, R.page)], ['variants', () => variants(c)], ['cli', () => cli(c, eng)],
    ['quality', () => quality(c, eng)], ['qualitybase', () => qualityBase(c)], ['lighthouse', () => lighthouse(c, R.page)], ['big', () => bigImage(c)], ['soak', () => soak(c)]]) {
    if (!want(name)) continue;
    log('section', name);
    const t = performance.now();
    try {
      R[name] = await fn();
    } catch (e) {
      R[name] = { error: String(e.stack || e).split('\n').slice(0, 3).join(' ') };
      log(name, 'failed:', e);
    }
    (R.durations ||= {})[name] = (performance.now() - t) / 1000;
    save();
  }
} finally {
  eng.close();
}
if (!R.reruns) {
  R.machine.loadEnd = os.loadavg().map((x) => +x.toFixed(2));
  R.totalSeconds = (performance.now() - started) / 1000;
}
save();
fs.writeFileSync(path.join(root, 'docs', 'benchmarks.md'), render(R));
log('wrote docs/benchmarks.md in', Math.round((performance.now() - started) / 1000), 's');
