// A small element builder for the extension's pages.

/**
 * el('button', {type: 'button', class: 'x', text: 'Go', 'aria-label': '…'}, ...children):
 * `class` and `text` set className and textContent; data-*, aria-*, role,
 * tabindex and title are attributes; any other key is a property. Null,
 * undefined and false values and children are left out.
 */
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'tabindex' || k === 'title') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}
