// Every string a person reads goes through chrome.i18n: the pages carry no
// words of their own outside data-i18n, and every key the code names exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { en } from './en.mjs';

const ext = fileURLToPath(new URL('..', import.meta.url));
const files = (dir, re) => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n);
  if (statSync(p).isDirectory()) return n === 'test' || n === '_locales' || n === 'icons' ? [] : files(p, re);
  return re.test(n) ? [p] : [];
});
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const ATTRS = ['title', 'aria-label', 'placeholder', 'alt'];

const attrsOf = (s) => Object.fromEntries([...s.matchAll(/([\w-]+)(?:\s*=\s*"([^"]*)")?/g)].map((m) => [m[1], m[2] ?? '']));
const decode = (s) => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&nbsp;/g, '\u00a0');

/**
 * A small HTML walk (enough for the extension's own pages): text nodes with
 * their open elements, and every start tag with its attributes.
 */
function walk(html) {
  const src = html.replace(/<!doctype[^>]*>/i, '').replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, '');
  const texts = [];
  const tags = [];
  const stack = [];
  const re = /<(\/?)([a-zA-Z][\w-]*)([^>]*)>|([^<]+)/g;
  for (const m of src.matchAll(re)) {
    if (m[4] !== undefined) {
      if (m[4].trim()) texts.push({ text: decode(m[4]).trim(), open: [...stack] });
      continue;
    }
    const name = m[2].toLowerCase();
    if (m[1]) {
      const at = stack.map((e) => e.name).lastIndexOf(name);
      if (at >= 0) stack.length = at;
      continue;
    }
    const el = { name, attrs: attrsOf(m[3]) };
    tags.push(el);
    if (!VOID.has(name) && !m[3].trim().endsWith('/')) stack.push(el);
  }
  return { texts, tags };
}

const pages = files(ext, /\.html$/);

test('the extension has pages to check', () => {
  assert.ok(pages.some((p) => p.endsWith('popup.html')) && pages.some((p) => p.endsWith('options.html')));
});

for (const page of pages) {
  const name = relative(ext, page);
  test(`${name}: no words outside data-i18n, and its English text is the message's`, () => {
    const { texts, tags } = walk(readFileSync(page, 'utf8'));
    for (const { text, open } of texts) {
      const owner = open.findLast((e) => 'data-i18n' in e.attrs);
      assert.ok(owner, `${name}: bare text "${text}" inside <${open.map((e) => e.name).join('> <')}>`);
      // The words in the HTML are what an English browser shows (no drift).
      assert.equal(text, en[owner.attrs['data-i18n']]?.message, `${name}: ${owner.attrs['data-i18n']}`);
    }
    for (const el of tags) {
      for (const a of ATTRS) {
        if (!el.attrs[a]) continue;
        const key = el.attrs[`data-i18n-${a}`];
        assert.ok(key, `${name}: <${el.name} ${a}="${el.attrs[a]}"> has no data-i18n-${a}`);
        assert.equal(el.attrs[a], en[key]?.message, `${name}: ${key}`);
      }
      for (const [k, v] of Object.entries(el.attrs)) if (k.startsWith('data-i18n')) assert.ok(en[v], `${name}: ${k}="${v}" is not in en`);
    }
  });
}

// Keys are named in the code as literals (t('key'), or maps of keys), never
// built from pieces, so every one of them can be checked here.
const PREFIXES = /^(lang|extName|(?:popup|sw|result|progress|kind|helper|settings|options|take|data|format|markup|hint|report|compare)_[a-z0-9_]+)$/;

test('every message key the code names exists in English', () => {
  const used = new Map();
  for (const f of files(ext, /\.js$/)) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\bt\(\s*'([^']+)'/g)) used.set(m[1], relative(ext, f));
    for (const m of src.matchAll(/'([A-Za-z][\w]*)'/g)) if (PREFIXES.test(m[1]) && m[1].includes('_')) used.set(m[1], relative(ext, f));
  }
  assert.ok(used.size > 100, `found ${used.size} keys`);
  const missing = [...used].filter(([k]) => !en[k]).map(([k, f]) => `${k} (${f})`);
  assert.deepEqual(missing, []);
});

test('no message key is built at run time', () => {
  for (const f of files(ext, /\.js$/)) {
    const src = readFileSync(f, 'utf8');
    const bad = [...src.matchAll(/\bt\(\s*(`|'[^']*'\s*\+)|'[a-z]+_'\s*\+/g)].map((m) => m[0]);
    assert.deepEqual(bad, [], relative(ext, f));
  }
});
