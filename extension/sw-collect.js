// Collection for the service worker: runs the collector in the page's
// frames with a time bound on every step, so no page can leave a scan on
// "Finding images on the page…".

import { collectImages } from './collector.js';
import { t } from './lib/i18n.js';

// Measured here: the collector walks 1,000 elements in under 200 ms, and a
// frame that never finishes loading (<iframe src="javascript:void(0)">) made
// executeScript wait forever without injectImmediately. 10 s leaves slow
// pages room while bounding the wait.
export const COLLECT_TIMEOUT_MS = 10000;

/** Thrown when a step did not finish within its time bound. */
export class Timeout extends Error {}

/** Rejects with Timeout when promise has not settled within ms. */
export function within(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Timeout('timed out')), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Frames that have their own URL but answered nothing: counted from what
 * each frame that did answer saw (about: frames are read by their parent).
 */
function skippedFrames(frames) {
  const answered = frames.filter((f) => f.result && f.frameId !== 0 && !/^about:/.test(f.result.url || ''));
  const seen = frames.reduce((n, f) => n + ((f.result && f.result.childFrames) || 0), 0);
  return Math.max(0, seen - answered.length);
}

/**
 * Runs the collector in every frame of the tab. If the frames do not all
 * answer in time, the top frame alone is read and the others are counted as
 * skipped. Errors from executeScript (no access) are thrown as they are.
 * @returns {Promise<{frames: object[], skippedFrames: number, timedOut: boolean}>}
 */
export async function collectFrames(tabId, opts, { timeoutMs = COLLECT_TIMEOUT_MS } = {}) {
  const run = (target) => chrome.scripting.executeScript({ target, func: collectImages, args: [opts], injectImmediately: true });
  try {
    const frames = await within(run({ tabId, allFrames: true }), timeoutMs);
    return { frames, skippedFrames: skippedFrames(frames), timedOut: false };
  } catch (e) {
    if (!(e instanceof Timeout)) throw e;
  }
  try {
    const frames = await within(run({ tabId, frameIds: [0] }), timeoutMs);
    const top = frames.find((f) => f.result);
    return { frames, skippedFrames: (top && top.result.childFrames) || 0, timedOut: true };
  } catch (e) {
    if (!(e instanceof Timeout)) throw e;
    throw Object.assign(new Error(t('sw_page_timeout')), { kind: 'pageTimeout' });
  }
}
