// Writes e2e/fixtures/anim.gif: a 4-frame animated GIF (160×120) drawn from
// gradients, with a plain hand-written encoder (LZW codes kept at 9 bits by
// a clear code every 250 pixels). Committed; re-run only to change it:
//   node e2e/make-gif.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const W = 160;
const H = 120;
const FRAMES = 4;

// Palette: a 6×6×6 colour cube, then greys.
const palette = [];
for (let r = 0; r < 6; r++) for (let g = 0; g < 6; g++) for (let b = 0; b < 6; b++) palette.push([r * 51, g * 51, b * 51]);
while (palette.length < 256) { const v = Math.round(((palette.length - 216) / 39) * 255); palette.push([v, v, v]); }
const index = (r, g, b) => Math.round(r / 51) * 36 + Math.round(g / 51) * 6 + Math.round(b / 51);

function lzw(pixels) {
  const codes = [];
  for (let i = 0; i < pixels.length; i++) {
    if (i % 250 === 0) codes.push(256);
    codes.push(pixels[i]);
  }
  codes.push(257);
  const bytes = [];
  let acc = 0;
  let bits = 0;
  for (const c of codes) {
    acc |= c << bits;
    bits += 9;
    while (bits >= 8) { bytes.push(acc & 255); acc >>= 8; bits -= 8; }
  }
  if (bits) bytes.push(acc & 255);
  const out = [8];
  for (let i = 0; i < bytes.length; i += 255) {
    const part = bytes.slice(i, i + 255);
    out.push(part.length, ...part);
  }
  out.push(0);
  return out;
}

const u16 = (n) => [n & 255, n >> 8];
const out = [...Buffer.from('GIF89a'), ...u16(W), ...u16(H), 0xf7, 0, 0];
for (const [r, g, b] of palette) out.push(r, g, b);
out.push(0x21, 0xff, 11, ...Buffer.from('NETSCAPE2.0'), 3, 1, 0, 0, 0); // loop forever
for (let f = 0; f < FRAMES; f++) {
  const px = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const t = (x + f * 40) % W;
      px.push(index((t / W) * 255, (y / H) * 255, ((f + 1) / FRAMES) * 200 + ((x * y) % 7) * 8));
    }
  }
  out.push(0x21, 0xf9, 4, 0, ...u16(20), 0, 0); // 200 ms per frame
  out.push(0x2c, 0, 0, 0, 0, ...u16(W), ...u16(H), 0, ...lzw(px));
}
out.push(0x3b);
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'anim.gif'), Buffer.from(out));
