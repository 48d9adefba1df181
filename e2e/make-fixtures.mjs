// Draws the e2e fixture images with Chromium's canvas and writes them to
// e2e/fixtures/ (committed; re-run only to change them):
//   node e2e/make-fixtures.mjs
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage();
const out = await page.evaluate(async () => {
  // A seeded generator so the files are the same on every run.
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const draw = (w, h, photo) => {
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const g = c.getContext('2d');
    const lg = g.createLinearGradient(0, 0, w, h);
    lg.addColorStop(0, photo ? '#3a6ea5' : '#ffffff');
    lg.addColorStop(1, photo ? '#f4a259' : '#dfe8f0');
    g.fillStyle = lg;
    g.fillRect(0, 0, w, h);
    for (let i = 0; i < (photo ? 60 : 12); i++) {
      const x = rnd() * w, y = rnd() * h, r = (photo ? 20 : 30) + rnd() * w / 6;
      const rg = g.createRadialGradient(x, y, 1, x, y, r);
      rg.addColorStop(0, `hsla(${Math.floor(rnd() * 360)},70%,60%,${photo ? 0.7 : 1})`);
      rg.addColorStop(1, `hsla(${Math.floor(rnd() * 360)},70%,40%,0)`);
      g.fillStyle = rg;
      if (photo) { g.beginPath(); g.arc(x, y, r, 0, Math.PI * 2); g.fill(); } else g.fillRect(x - r, y - r / 2, r * 2, r);
    }
    if (photo) {
      const id = g.getImageData(0, 0, w, h);
      for (let i = 0; i < id.data.length; i += 4) {
        const n = (rnd() - 0.5) * 18;
        id.data[i] += n; id.data[i + 1] += n; id.data[i + 2] += n;
      }
      g.putImageData(id, 0, 0);
    } else {
      g.fillStyle = '#16805a';
      g.font = `bold ${Math.floor(h / 5)}px sans-serif`;
      g.fillText('Image Diet', w / 10, h / 2);
    }
    return c;
  };
  const b64 = async (c, type, q) => {
    const blob = await new Promise((res) => c.toBlob(res, type, q));
    const buf = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
    return btoa(s);
  };
  return {
    'photo.jpg': await b64(draw(800, 600, true), 'image/jpeg', 0.95),
    'graphic.png': await b64(draw(480, 320, false), 'image/png'),
    'small.png': await b64(draw(96, 96, true), 'image/png'),
  };
});
for (const [name, data] of Object.entries(out)) {
  writeFileSync(join(dir, name), Buffer.from(data, 'base64'));
  console.log(name, Buffer.from(data, 'base64').length);
}
await browser.close();
