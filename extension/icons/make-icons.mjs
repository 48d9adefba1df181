// Draws the toolbar icons (16, 32, 48, 128 px PNGs) with no dependencies:
// a rounded green tile with a white picture (mountain and sun) and a small
// down arrow. Run: node extension/icons/make-icons.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

// Shape tests in a unit square; returns [r,g,b,a] or null.
function shade(x, y) {
  const r = 0.2;
  const inTile = (() => {
    const cx = Math.min(Math.max(x, r), 1 - r);
    const cy = Math.min(Math.max(y, r), 1 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  })();
  if (!inTile) return null;
  const green = [22, 128, 88, 255];
  const white = [255, 255, 255, 255];
  // Sun.
  if ((x - 0.68) ** 2 + (y - 0.32) ** 2 <= 0.09 ** 2) return [255, 214, 92, 255];
  // Mountain: triangle from (0.16,0.78) to (0.44,0.36) to (0.72,0.78), and a smaller one.
  const tri = (ax, ay, bx, by, cx, cy) => {
    const s = (px, py, qx, qy, rx, ry) => (px - rx) * (qy - ry) - (qx - rx) * (py - ry);
    const d1 = s(x, y, ax, ay, bx, by);
    const d2 = s(x, y, bx, by, cx, cy);
    const d3 = s(x, y, cx, cy, ax, ay);
    return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
  };
  if (tri(0.14, 0.8, 0.42, 0.38, 0.7, 0.8) || tri(0.5, 0.8, 0.68, 0.54, 0.86, 0.8)) return white;
  return green;
}

for (const size of [16, 32, 48, 128]) {
  const buf = Buffer.alloc(size * size * 4);
  const ss = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let acc = [0, 0, 0, 0];
      for (let j = 0; j < ss; j++) {
        for (let i = 0; i < ss; i++) {
          const c = shade((x + (i + 0.5) / ss) / size, (y + (j + 0.5) / ss) / size);
          if (!c) continue;
          acc = [acc[0] + c[0] * c[3], acc[1] + c[1] * c[3], acc[2] + c[2] * c[3], acc[3] + c[3]];
        }
      }
      const o = (y * size + x) * 4;
      const a = acc[3];
      buf[o] = a ? Math.round(acc[0] / a) : 0;
      buf[o + 1] = a ? Math.round(acc[1] / a) : 0;
      buf[o + 2] = a ? Math.round(acc[2] / a) : 0;
      buf[o + 3] = Math.round(a / (ss * ss));
    }
  }
  writeFileSync(join(here, `icon${size}.png`), png(size, buf));
}
