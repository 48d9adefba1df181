// Strings for people: every sentence the extension shows is a key in
// _locales/<lang>/messages.json, read through chrome.i18n. Outside the
// extension (node --test) a test hands the English table to useMessages, so
// lib modules that build sentences run the same code there.

let table = null;

/** useMessages makes t read this messages.json object instead of chrome.i18n. */
export function useMessages(messages) {
  table = messages;
}

/**
 * t returns the message for key with its substitutions ($1…$9, or named
 * placeholders whose content is $1…$9), or the key itself when there is none,
 * so a missing string shows up as its key rather than as nothing.
 */
export function t(key, subs = []) {
  const list = (Array.isArray(subs) ? subs : [subs]).map(String);
  if (!table) {
    const get = globalThis.chrome?.i18n?.getMessage;
    const s = get ? get.call(globalThis.chrome.i18n, key, list) : '';
    return s || key;
  }
  const m = table[key];
  if (!m) return key;
  return fill(m, list);
}

/** fill expands a messages.json entry the way chrome.i18n.getMessage does. */
export function fill(entry, subs) {
  const named = entry.placeholders || {};
  let s = entry.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (all, name) => {
    const p = named[name.toLowerCase()];
    return p ? p.content : all;
  });
  return s.replace(/\$(\$|\d)/g, (all, n) => (n === '$' ? '$' : (subs[n - 1] ?? '')));
}

/**
 * localize fills the page's static strings: data-i18n sets textContent, and
 * data-i18n-<attr> (title, aria-label, placeholder, alt) sets that attribute.
 */
export function localize(root = document) {
  // The page says which language its words are in (the messages' own, not the browser's wish).
  if (root === globalThis.document) root.documentElement.lang = t('lang');
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const attr of ['title', 'aria-label', 'placeholder', 'alt']) {
    for (const e of root.querySelectorAll(`[data-i18n-${attr}]`)) e.setAttribute(attr, t(e.getAttribute(`data-i18n-${attr}`)));
  }
}
