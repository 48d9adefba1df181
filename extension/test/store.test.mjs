// The Chrome Web Store materials in store/ stay true to the extension and to
// the privacy policy: a justification for each permission, quotes that are
// still in docs/privacy.md word for word, a summary within the store's limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The manifest's name and description are __MSG_…__ keys; the store shows their English text.
const english = JSON.parse(readFileSync(join(root, 'extension', '_locales', 'en', 'messages.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(join(root, 'extension', 'manifest.json'), 'utf8'),
  (k, v) => (typeof v === 'string' ? v.replace(/^__MSG_(\w+)__$/, (all, key) => english[key].message) : v));
const practices = readFileSync(join(root, 'store', 'privacy-practices.md'), 'utf8');
const listing = readFileSync(join(root, 'store', 'listing.md'), 'utf8');
const policy = readFileSync(join(root, 'docs', 'privacy.md'), 'utf8');
const flat = (s) => s.replace(/\s+/g, ' ').trim();

/** The text under a heading of a Markdown file, up to the next heading of that level or higher. */
function sectionOf(md, heading) {
  const lines = md.split('\n');
  const i = lines.findIndex((l) => l.replace(/^#+ /, '') === heading && /^#+ /.test(l));
  assert.ok(i >= 0, `no heading "${heading}"`);
  const level = lines[i].match(/^#+/)[0].length;
  const rest = lines.slice(i + 1);
  const end = rest.findIndex((l) => new RegExp(`^#{1,${level}} `).test(l));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n').trim();
}

test('every permission has a justification, and nothing else does', () => {
  const justified = [...sectionOf(practices, 'Permission justifications').matchAll(/^### (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(justified.sort(), [...manifest.permissions].sort());
  for (const p of justified) assert.ok(flat(sectionOf(practices, p)).length > 40, `${p} is justified in words`);
});

test('every quoted answer is still in docs/privacy.md, word for word', () => {
  // Consecutive "> " lines form one quote.
  const quotes = [];
  let cur = null;
  for (const line of practices.split('\n')) {
    if (line.startsWith('>')) {
      cur = cur === null ? line.replace(/^> ?/, '') : `${cur} ${line.replace(/^> ?/, '')}`;
    } else if (cur !== null) {
      quotes.push(cur);
      cur = null;
    }
  }
  if (cur !== null) quotes.push(cur);
  assert.ok(quotes.length >= 6, `found ${quotes.length} quotes`);
  const text = flat(policy);
  for (const q of quotes) {
    // A quote may join several of the policy's sentences; each must be there.
    for (const sentence of flat(q).split(/(?<=\.) (?=[A-Z])/)) assert.ok(text.includes(sentence), `not in docs/privacy.md: ${sentence}`);
  }
});

test('the listing summary is the manifest description and within 132 characters', () => {
  const summary = flat(sectionOf(listing, 'Summary (132 characters at most; the manifest\'s description)'));
  assert.equal(summary, manifest.description);
  assert.ok([...summary].length <= 132, `${[...summary].length} characters`);
  assert.equal(flat(sectionOf(listing, 'Item name')), manifest.name);
  assert.ok(flat(sectionOf(listing, 'Description')).length <= 16000);
});
