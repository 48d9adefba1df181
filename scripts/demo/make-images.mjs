// Draws the demo page's images with Chromium's canvas into scripts/demo/img/
// (committed; re-run only to change them):  node scripts/demo/make-images.mjs
// They are deliberately heavy in the ways real pages are: a photo saved at
// near-maximum JPEG quality and twice its display size, a photo saved as PNG,
// a flat chart as PNG, a CSS background, and an icon that is already small.
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'img');
mkdirSync(dir, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage();
const files = await page.evaluate(async () => {
  let s = 20240611; // fixed seed: the same files on every run
  const rand = () => ((s = (Math.imul(s, 48271) >>> 0) % 2147483647) / 2147483647);
  const canvas = (w, h) => { const c = document.createElement('canvas'); c.width = w; c.height = h; return [c, c.getContext('2d')]; };

  // A landscape: sky gradient, sun, layered hills, grain.
  function landscape(w, h, hue) {
    const [c, g] = canvas(w, h);
    const sky = g.createLinearGradient(0, 0, 0, h * 0.7);
    sky.addColorStop(0, `hsl(${hue},60%,35%)`);
    sky.addColorStop(1, `hsl(${(hue + 40) % 360},80%,75%)`);
    g.fillStyle = sky; g.fillRect(0, 0, w, h);
    const sun = g.createRadialGradient(w * 0.7, h * 0.3, 2, w * 0.7, h * 0.3, h * 0.25);
    sun.addColorStop(0, 'rgba(255,250,220,1)'); sun.addColorStop(1, 'rgba(255,200,120,0)');
    g.fillStyle = sun; g.fillRect(0, 0, w, h);
    for (let layer = 0; layer < 5; layer++) {
      const base = h * (0.45 + layer * 0.12);
      g.beginPath(); g.moveTo(0, h);
      for (let x = 0; x <= w; x += 8) {
        g.lineTo(x, base + Math.sin(x / (90 + layer * 40) + layer) * h * 0.05 + (rand() - 0.5) * 6);
      }
      g.lineTo(w, h); g.closePath();
      g.fillStyle = `hsl(${(hue + 100 + layer * 12) % 360},${35 + layer * 8}%,${40 - layer * 6}%)`;
      g.fill();
    }
    const im = g.getImageData(0, 0, w, h);
    for (let i = 0; i < im.data.length; i += 4) {
      const n = (rand() - 0.5) * 22;
      im.data[i] += n; im.data[i + 1] += n; im.data[i + 2] += n;
    }
    g.putImageData(im, 0, 0);
    return c;
  }

  // A bar chart with axis lines and labels: flat colours.
  function chart(w, h) {
    const [c, g] = canvas(w, h);
    g.fillStyle = '#ffffff'; g.fillRect(0, 0, w, h);
    g.strokeStyle = '#cfd6de'; g.lineWidth = 1;
    for (let y = 60; y < h - 60; y += 50) { g.beginPath(); g.moveTo(70, y); g.lineTo(w - 30, y); g.stroke(); }
    const colors = ['#2f6fb3', '#e07b39', '#3aa17e', '#c94f6d', '#7d5ba6'];
    const n = 12, bw = (w - 140) / n;
    for (let i = 0; i < n; i++) {
      const v = 0.2 + rand() * 0.75, bh = v * (h - 140);
      g.fillStyle = colors[i % colors.length];
      g.fillRect(80 + i * bw + 6, h - 60 - bh, bw - 12, bh);
      g.fillStyle = '#333'; g.font = '16px sans-serif';
      g.fillText(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][i], 80 + i * bw + 10, h - 36);
    }
    g.fillStyle = '#111'; g.font = 'bold 26px sans-serif'; g.fillText('Monthly page weight (demo data)', 80, 40);
    return c;
  }

  function icon(w) {
    const [c, g] = canvas(w, w);
    g.fillStyle = '#2f6fb3'; g.beginPath(); g.arc(w / 2, w / 2, w / 2 - 2, 0, Math.PI * 2); g.fill();
    g.fillStyle = '#fff'; g.font = `bold ${w / 2}px sans-serif`; g.textAlign = 'center'; g.textBaseline = 'middle';
    g.fillText('iD', w / 2, w / 2 + 2);
    return c;
  }

  const b64 = (c, type, q) => c.toDataURL(type, q).split(',')[1];
  return {
    'hero.jpg': b64(landscape(1400, 875, 210), 'image/jpeg', 0.95),
    'coast.png': b64(landscape(720, 480, 190), 'image/png'),
    'chart.png': b64(chart(1000, 560), 'image/png'),
    'texture.jpg': b64(landscape(1200, 400, 30), 'image/jpeg', 0.95),
    'icon.png': b64(icon(48), 'image/png'),
  };
});
await browser.close();
for (const [name, data] of Object.entries(files)) {
  const buf = Buffer.from(data, 'base64');
  writeFileSync(join(dir, name), buf);
  console.log(`${name}\t${buf.length} bytes`);
}
