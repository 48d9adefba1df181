// The sharp side of the benchmark's CLI comparison: what
// `imgdiet-host optimize --quality Q --formats webp --width W --out DIR FILE...`
// does, done with sharp as one Node process. Each file is resized to W
// pixels wide (never enlarged) and written as WebP at quality Q with smart
// chroma subsampling at the given effort, metadata stripped (sharp's
// default), as many files at once as the host's CLI works on (one per
// core), with libvips' threads and cache set as the host sets them.
//
// node sharpcli.mjs --quality Q --effort E --width W --out DIR FILE...
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

const argv = process.argv.slice(2);
const opt = {};
const files = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith('--')) opt[argv[i].slice(2)] = argv[++i];
  else files.push(argv[i]);
}
const cores = os.cpus().length;
sharp.concurrency(cores);
sharp.cache({ memory: 32, items: 50, files: 0 });
let next = 0;
async function worker() {
  while (next < files.length) {
    const f = files[next++];
    const out = path.join(opt.out, path.basename(f).replace(/\.[^.]+$/, '') + '.webp');
    await sharp(f).resize({ width: Number(opt.width), withoutEnlargement: true })
      .webp({ quality: Number(opt.quality), effort: Number(opt.effort), smartSubsample: true }).toFile(out);
  }
}
await Promise.all(Array.from({ length: Math.min(cores, files.length) }, worker));
