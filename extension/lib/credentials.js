// Images the helper could not fetch because their site wants the person's
// login (HTTP 401 or 403). The helper never sends cookies; the extension
// may read such an image in the page, with the page's own access, but only
// from the page's own origin: activeTab grants that origin and no other.
// Pure functions; the worker's side is ../sw-credentials.js.

import { t } from './i18n.js';

/** HTTP statuses that mean "not without the person's login". */
export const LOGIN_STATUSES = Object.freeze([401, 403]);

/** The sentence for an image that needs a login on another site. */
export const crossOriginMessage = () => t('sw_login_cross_origin');

/** The sentence for a same-site image the page could not read either. */
export const pageRefusedMessage = () => t('sw_login_refused');

function originOf(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Whether a final result is a refusal that the person's login might lift,
 * and where the image is: "same-origin" (the frame it was found in has its
 * origin: the extension may read it there), "cross-origin", or null (any
 * other result).
 */
export function loginKind(result, imageUrl, frameUrl) {
  if (!result || !result.final || result.status !== 'error' || !result.error) return null;
  if (result.error.code !== 'http_status' || !LOGIN_STATUSES.includes(result.error.httpStatus)) return null;
  const img = originOf(imageUrl);
  if (!img) return null;
  return img === originOf(frameUrl) ? 'same-origin' : 'cross-origin';
}

/** The result with its error's message replaced by message. */
export function withMessage(result, message) {
  return { ...result, error: { ...result.error, message } };
}
