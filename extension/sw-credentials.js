// The worker's side of images read in the page: bytes the helper cannot
// fetch itself (blob: URLs, and images of the page's own site that the
// site refuses without the person's login) are read by a function injected
// into the frame they were found in, with the page's own access.

import { readBlobs } from './collector.js';
import { within } from './sw-collect.js';

// A frame that never answers must not hold the scan (issue 18, item 4).
const READ_TIMEOUT_MS = 15000;

/**
 * Reads items ({key, url, frameId}) in their frames of tab tabId, through
 * fetch with init (for example {credentials: 'include'}). Resolves with a
 * Map from each item's key to base64 bytes, or null when the frame is gone
 * or the URL could not be read (refused, or larger than maxBytes).
 */
export async function readInPage(tabId, items, maxBytes, init = {}) {
  const byFrame = new Map();
  for (const it of items) {
    if (!byFrame.has(it.frameId)) byFrame.set(it.frameId, []);
    byFrame.get(it.frameId).push(it);
  }
  const out = new Map();
  for (const [frameId, list] of byFrame) {
    let got = {};
    try {
      const [r] = await within(chrome.scripting.executeScript({
        target: { tabId, frameIds: [frameId] }, func: readBlobs, args: [list.map((x) => x.url), maxBytes, init], injectImmediately: true,
      }), READ_TIMEOUT_MS);
      got = (r && r.result) || {};
    } catch { /* frame gone, not ours to script, or too slow */ }
    for (const x of list) out.set(x.key, got[x.url] ?? null);
  }
  return out;
}
