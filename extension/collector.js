// The collector runs inside the page, injected by the service worker with
// chrome.scripting.executeScript({func}) only after the user clicks the
// toolbar button. Each function here must be self-contained: Chrome
// serializes it and runs it in the page, so it may not refer to anything
// outside its own body. It reports raw findings; lib/images.js turns them
// into the scan's image list.

/**
 * Walks the document once (including open shadow roots and same-origin
 * about:blank/srcdoc frames) and reports every image source it finds.
 * @param {{backgrounds?: boolean}} opts
 */
export function collectImages(opts) {
  const t0 = performance.now();
  const backgrounds = !opts || opts.backgrounds !== false;
  const items = [];
  const LAZY_SRC = ['data-src', 'data-lazy-src', 'data-original', 'data-lazy', 'data-url', 'data-hi-res-src'];
  const LAZY_SRCSET = ['data-srcset', 'data-lazy-srcset'];
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MAX_SVG = 1 << 20;
  const IMAGE_TYPES = /^image\/(jpeg|jpg|pjpeg|png|apng|gif|webp|avif|svg\+xml|bmp|x-icon|vnd\.microsoft\.icon)$/i;
  let serializer = null;
  // Frames with their own URL that this walk did not read itself: each gets
  // its own collector, and the service worker counts the ones that never answered.
  let childFrames = 0;

  // Scroll offsets of the frame this collector runs in: element positions
  // are reported from the top of the document, as at page load.
  const sx = window.scrollX || 0;
  const sy = window.scrollY || 0;
  // The same frame's viewport, for every image's facts.
  const fvw = window.innerWidth;
  const fvh = window.innerHeight;
  // Which <img>s style rules give an explicit width, height or aspect-ratio,
  // per document or shadow root: each such rule is run once with
  // querySelectorAll (matching every image against every rule took 8 s for
  // 1,000 images and 2,000 rules). Sheets of another origin cannot be read,
  // and a page whose rules take over 200 ms to apply stops there: `opaque`.
  const sizeRules = new Map();
  const RULES_MS = 200;
  const rulesOf = (root, win) => {
    if (sizeRules.has(root)) return sizeRules.get(root);
    const out = { sized: new Map(), opaque: false };
    const explicit = (v) => !!v && v !== 'auto' && v !== 'initial' && v !== 'unset' && v !== 'inherit';
    const rules = [];
    const take = (list) => {
      for (const r of list) {
        if (r.style && r.selectorText) {
          const w = explicit(r.style.getPropertyValue('width'));
          const h = explicit(r.style.getPropertyValue('height'));
          const ar = explicit(r.style.getPropertyValue('aspect-ratio'));
          if (w || h || ar) rules.push({ sel: r.selectorText, w, h, ar });
        }
        const applies = !(r.media && r.media.mediaText && !win.matchMedia(r.media.mediaText).matches);
        if (r.cssRules && applies) take(r.cssRules);
        // @import: the imported sheet's rules (another origin's cannot be read).
        if (r.styleSheet && applies) { try { take(r.styleSheet.cssRules); } catch { out.opaque = true; } }
      }
    };
    for (const sheet of [...(root.styleSheets || []), ...(root.adoptedStyleSheets || [])]) {
      let list = null;
      try { list = sheet.cssRules; } catch { out.opaque = true; }
      if (list) { try { take(list); } catch { out.opaque = true; } }
    }
    const t1 = performance.now();
    for (const r of rules) {
      if (performance.now() - t1 > RULES_MS) { out.opaque = true; break; }
      let found = [];
      try { found = root.querySelectorAll(r.sel); } catch { continue; }
      for (const e of found) {
        if (e.localName !== 'img') continue;
        const s = out.sized.get(e) || { w: false, h: false, ar: false };
        out.sized.set(e, { w: s.w || r.w, h: s.h || r.h, ar: s.ar || r.ar });
      }
    }
    sizeRules.set(root, out);
    return out;
  };
  // How CSS sizes an <img>: explicit width/height (inline or a matching
  // rule) and an author aspect-ratio; an image taken out of the flow
  // (absolute, fixed) shifts nothing.
  const cssSize = (el, win) => {
    const cs = getComputedStyle(el);
    const explicit = (v) => !!v && v !== 'auto';
    // Width and height attributes become "auto w / h"; anything else came from a style.
    const ar = !!cs.aspectRatio && cs.aspectRatio !== 'auto' && !/^auto\s/.test(cs.aspectRatio);
    const rs = rulesOf(el.getRootNode(), win);
    const r = rs.sized.get(el) || { w: false, h: false, ar: false };
    return { w: explicit(el.style.width) || r.w, h: explicit(el.style.height) || r.h, ar: ar || r.ar, pos: cs.position, opaque: rs.opaque };
  };

  const visit = (doc, win, dx, dy) => {
    const vw = win.innerWidth;
    const vh = win.innerHeight;
    const box = (el) => {
      const r = el.getBoundingClientRect();
      const w = r.width;
      const h = r.height;
      const top = r.top + dy;
      const left = r.left + dx;
      return { w, h, x: left, y: top, on: w > 0 && h > 0 && top + h > 0 && left + w > 0 && top < vh && left < vw };
    };
    const chosenSource = (pic) => {
      for (const c of pic.children) {
        if (c.localName !== 'source') continue;
        const media = c.getAttribute('media');
        const type = c.getAttribute('type');
        if (media && !win.matchMedia(media).matches) continue;
        if (type && !IMAGE_TYPES.test(type.trim())) continue;
        return c;
      }
      return null;
    };
    const bgOf = (el, cs, kind) => {
      const v = cs.backgroundImage;
      if (v && v !== 'none' && v.includes('url(')) {
        const b = box(el);
        items.push({ k: kind, v, fit: cs.backgroundSize, w: b.w, h: b.h, on: b.on });
      }
    };
    const walk = (root) => {
      const all = root.querySelectorAll('*');
      for (let i = 0; i < all.length; i++) {
        const el = all[i];
        const tag = el.localName;
        if (tag === 'img' || (tag === 'input' && el.type === 'image')) {
          const b = box(el);
          let lazySrc = null;
          let lazySrcset = null;
          for (const a of LAZY_SRC) { const v = el.getAttribute(a); if (v) { lazySrc = v; break; } }
          for (const a of LAZY_SRCSET) { const v = el.getAttribute(a); if (v) { lazySrcset = v; break; } }
          let w = b.w;
          let h = b.h;
          if (!(w > 1 && h > 1)) {
            const aw = +el.getAttribute('width');
            const ah = +el.getAttribute('height');
            if (aw > 0 && ah > 0) { w = aw; h = ah; }
          }
          const pic = el.parentElement && el.parentElement.localName === 'picture' ? el.parentElement : null;
          const source = pic ? chosenSource(pic) : null;
          const wa = el.getAttribute('width');
          const ha = el.getAttribute('height');
          // The element's delivery facts, for the hints and the markup.
          const facts = {
            tag, loading: (el.getAttribute('loading') || '').trim().toLowerCase(), fetchpriority: (el.getAttribute('fetchpriority') || '').trim().toLowerCase(),
            decoding: (el.getAttribute('decoding') || '').trim().toLowerCase(), widthAttr: wa, heightAttr: ha, alt: el.getAttribute('alt'),
            sizes: (source && source.getAttribute('sizes')) || el.getAttribute('sizes') || '', picSrcset: source ? source.getAttribute('srcset') || source.getAttribute('data-srcset') || '' : '',
            x: b.x + sx, y: b.y + sy, vw: fvw, vh: fvh,
          };
          if (b.w > 0 && b.h > 0 && !(wa && ha)) facts.css = cssSize(el, win);
          items.push({
            k: 'img', pic: !!pic, picSrc: !!source, zero: !(b.w > 0 && b.h > 0), cur: el.currentSrc || '', src: el.getAttribute('src') ? el.src : '', srcset: el.getAttribute('srcset') || '',
            lazySrc, lazySrcset, nw: el.naturalWidth || 0, nh: el.naturalHeight || 0, w, h, on: b.on, el: facts,
          });
        } else if (tag === 'source') {
          const p = el.parentElement;
          if (p && p.localName === 'picture') {
            const img = p.querySelector('img');
            const b = img ? box(img) : { w: 0, h: 0, on: false };
            const srcset = el.getAttribute('srcset') || el.getAttribute('data-srcset') || '';
            // The browser takes the first <source> whose media and type fit
            // this viewport; the others are never loaded here.
            const chosen = chosenSource(p);
            if (srcset) items.push({ k: 'source', srcset, used: chosen === el, cur: (img && img.currentSrc) || '', w: b.w, h: b.h, on: b.on });
          }
        } else if (tag === 'video') {
          if (el.poster) { const b = box(el); items.push({ k: 'poster', src: el.poster, w: b.w, h: b.h, on: b.on }); }
        } else if (tag === 'image' && el.namespaceURI === SVG_NS) {
          const href = el.getAttribute('href') || el.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
          if (href) { const b = box(el); items.push({ k: 'svg-image', src: href, w: b.w, h: b.h, on: b.on }); }
        } else if (tag === 'svg' && el.namespaceURI === SVG_NS && !(el.parentElement && el.parentElement.closest('svg'))) {
          const b = box(el);
          if (b.w > 0 && b.h > 0) {
            serializer = serializer || new XMLSerializer();
            const text = serializer.serializeToString(el);
            if (text.length <= MAX_SVG) items.push({ k: 'svg', text, w: b.w, h: b.h, on: b.on });
          }
        } else if (tag === 'iframe' || tag === 'frame') {
          // Frames with their own URL get their own collector (allFrames);
          // about:blank and srcdoc frames do not, so read them from here.
          let d = null;
          try { d = el.contentDocument; } catch { d = null; }
          if (d && d.documentElement && /^about:/.test(d.URL)) {
            const r = el.getBoundingClientRect();
            visit(d, el.contentWindow, dx + r.left, dy + r.top);
          } else {
            childFrames++;
          }
        }
        if (backgrounds) {
          const cs = getComputedStyle(el);
          bgOf(el, cs, 'css');
          if (cs.display !== 'none') {
            for (const p of ['::before', '::after']) {
              const ps = getComputedStyle(el, p);
              const c = ps.content;
              if (c && c !== 'none' && c !== 'normal') {
                bgOf(el, ps, 'pseudo');
                if (c.includes('url(')) { const b = box(el); items.push({ k: 'pseudo', v: c, fit: 'auto', w: b.w, h: b.h, on: b.on }); }
              }
            }
          }
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    if (backgrounds && doc.documentElement) {
      // The root and body are in querySelectorAll('*') already; nothing else to do.
    }
    walk(doc);
  };

  visit(document, window, 0, 0);

  const sizes = {};
  try {
    for (const e of performance.getEntriesByType('resource')) {
      const s = e.transferSize || e.encodedBodySize || 0;
      if (s > 0) sizes[e.name] = s;
    }
  } catch { /* no timing data */ }
  return {
    url: location.href,
    baseURI: document.baseURI,
    dpr: window.devicePixelRatio || 1,
    items,
    sizes,
    childFrames,
    elapsedMs: performance.now() - t0,
  };
}

/**
 * Reads URLs inside the page with fetch(url, init): blob: URLs (they only
 * resolve in their own origin) and images of the page's own site that need
 * the person's login (init {credentials: 'include'}). Returns their bytes
 * as base64; a URL that cannot be read, is refused, or is larger than
 * maxBytes, maps to null.
 */
export async function readBlobs(urls, maxBytes, init = {}) {
  const out = {};
  for (const u of urls) {
    try {
      const res = await fetch(u, init);
      if (!res.ok) { out[u] = null; continue; }
      const buf = new Uint8Array(await res.arrayBuffer());
      if (buf.length > maxBytes) { out[u] = null; continue; }
      let bin = '';
      for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
      out[u] = btoa(bin);
    } catch {
      out[u] = null;
    }
  }
  return out;
}
