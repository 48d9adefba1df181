// Builds the benchmark corpus from photographs shipped in Debian wallpaper
// packages (extracted by scripts/bench.sh into <root>/src): web-sized JPEGs
// for the page, the per-operation timings, the quality comparison and the
// soak, and one 50-megapixel photo. Everything lands under <root>/web and
// is rebuilt only when missing.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

// Wallpapers that are drawings or too small to stand for a photograph.
const notPhotos = new Set(['Fossa_by_Jasper_Roks.jpg', 'Painting-Colors_by__herobrine7gamer.jpg', 'Picture_1A_by_freespace.jpg']);

function listPhotos(src) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.jpe?g$/i.test(e.name) && !notPhotos.has(e.name) && !p.includes('/abstract/') && !p.includes('/desktop/')) out.push(p);
    }
  };
  walk(src);
  return out.sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
}

const slug = (p) => path.basename(p).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase().slice(0, 24);

// A web JPEG as a typical site serves it: quality 85, 4:2:0, no metadata.
async function webJPEG(src, width, out, quality = 85) {
  if (fs.existsSync(out)) return;
  const tmp = out + '.tmp';
  await sharp(src).rotate().resize({ width, withoutEnlargement: true }).jpeg({ quality }).toFile(tmp);
  fs.renameSync(tmp, out);
}

export async function prepare(root) {
  const all = listPhotos(path.join(root, 'src'));
  const big = [];
  for (const p of all) {
    const m = await sharp(p).metadata();
    if (m.width >= 1600 && m.height >= 1000) big.push({ path: p, width: m.width, height: m.height });
  }
  if (big.length < 24) throw new Error(`corpus: only ${big.length} photographs of at least 1600 px`);
  const web = path.join(root, 'web');
  for (const d of ['page', 'op', 'q', 'soak']) fs.mkdirSync(path.join(web, d), { recursive: true });
  const c = { sources: big.map((b) => b.path), page: [], op: [], q: [], soak: [], big: path.join(web, 'photo-50mp.jpg') };
  // The page: 24 photographs at 1600 px wide.
  for (const [i, b] of big.slice(0, 24).entries()) {
    const f = path.join(web, 'page', `p${String(i).padStart(2, '0')}-${slug(b.path)}.jpg`);
    await webJPEG(b.path, 1600, f);
    c.page.push(f);
  }
  // Per-operation timings: 6 photographs (spread over the list) at 800 and 1600 px.
  const pick = (n) => Array.from({ length: n }, (_, i) => big[Math.floor((i * big.length) / n)]);
  for (const b of pick(6)) {
    for (const w of [800, 1600]) {
      const f = path.join(web, 'op', `${slug(b.path)}-${w}.jpg`);
      await webJPEG(b.path, w, f);
      c.op.push({ file: f, width: w });
    }
  }
  // Bytes at equal quality: 8 photographs at 1200 px, high-quality sources.
  for (const b of pick(8)) {
    const f = path.join(web, 'q', `${slug(b.path)}-1200.jpg`);
    await webJPEG(b.path, 1200, f, 92);
    c.q.push(f);
  }
  // The soak: 25 photographs at 640 px (a gallery page), reused across scans.
  for (const [i, b] of big.slice(0, 25).entries()) {
    const f = path.join(web, 'soak', `s${String(i).padStart(2, '0')}-${slug(b.path)}.jpg`);
    await webJPEG(b.path, 640, f);
    c.soak.push(f);
  }
  // One 50-megapixel photograph (8660 × 5773) made by upscaling a 3:2 photo.
  if (!fs.existsSync(c.big)) {
    const src = big.find((b) => Math.abs(b.width / b.height - 1.5) < 0.01) || big[0];
    await sharp(src.path, { limitInputPixels: false }).resize(8660, 5773, { fit: 'cover' }).jpeg({ quality: 85 }).toFile(c.big + '.tmp');
    fs.renameSync(c.big + '.tmp', c.big);
  }
  return c;
}
