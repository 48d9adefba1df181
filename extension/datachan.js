// Client for the host's data channel (docs/protocol.md section 2): a
// loopback WebSocket that hands out optimized bytes by key, or a ZIP.
// The token travels in the handshake, as a subprotocol, so the helper
// authenticates the connection before it exists: sockets that other local
// programs open and never authenticate cannot keep the extension out.

import { t } from './lib/i18n.js';

/** The subprotocol the helper selects; the second one offered carries the token. */
export const PROTOCOL = 'imgdiet.v1';

/** The subprotocols that authenticate with token in the handshake. */
export function protocols(token) {
  return [PROTOCOL, `imgdiet.auth.${token}`];
}

/**
 * Sends one request ({get: key} or {zip: [{key, name}]}) and resolves with
 * the binary answer as an ArrayBuffer.
 * @param {{url: string, token: string}} info from the host's hello
 */
export function fetchData(info, request, { timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!info || !info.url || !info.token) {
      reject(new Error(t('data_no_channel')));
      return;
    }
    let ws;
    try {
      ws = new WebSocket(info.url, protocols(info.token));
    } catch {
      reject(new Error(t('data_unreachable')));
      return;
    }
    ws.binaryType = 'arraybuffer';
    let settled = false;
    const finish = (err, val) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try { ws.close(); } catch { /* already closed */ }
      if (err) reject(err); else resolve(val);
    };
    const timer = setTimeout(() => finish(new Error(t('data_timeout'))), timeoutMs);
    ws.onopen = () => {
      ws.send(JSON.stringify(request));
    };
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) { finish(null, ev.data); return; }
      let m = null;
      try { m = JSON.parse(ev.data); } catch { /* not JSON */ }
      if (m && m.error) {
        const e = new Error(m.error.code === 'not_found'
          ? t('data_not_found')
          : (m.error.message || t('data_failed')));
        e.code = m.error.code;
        finish(e);
      }
    };
    ws.onerror = () => finish(new Error(t('data_conn_failed')));
    ws.onclose = () => finish(new Error(t('data_closed')));
  });
}
