import { test } from 'node:test';
import assert from 'node:assert/strict';
import './en.mjs';
import { loginKind, withMessage, crossOriginMessage } from '../lib/credentials.js';

const refused = (httpStatus, extra = {}) => ({ final: true, status: 'error', error: { code: 'http_status', httpStatus, message: 'x' }, ...extra });

test('login refusals are told apart by origin', () => {
  const page = 'https://news.example/article?id=1';
  assert.equal(loginKind(refused(403), 'https://news.example/img/a.jpg', page), 'same-origin');
  assert.equal(loginKind(refused(401), 'https://news.example:443/a.jpg', page), 'same-origin');
  assert.equal(loginKind(refused(403), 'https://cdn.news.example/a.jpg', page), 'cross-origin');
  assert.equal(loginKind(refused(403), 'http://news.example/a.jpg', page), 'cross-origin');
  assert.equal(loginKind(refused(403), 'https://news.example:8443/a.jpg', page), 'cross-origin');
  // Not a login refusal, or not final, or no fetchable URL: nothing to do.
  assert.equal(loginKind(refused(404), 'https://news.example/a.jpg', page), null);
  assert.equal(loginKind(refused(500), 'https://news.example/a.jpg', page), null);
  assert.equal(loginKind(refused(403, { final: false }), 'https://news.example/a.jpg', page), null);
  assert.equal(loginKind({ final: true, status: 'error', error: { code: 'timeout' } }, 'https://news.example/a.jpg', page), null);
  assert.equal(loginKind({ final: true, status: 'optimized' }, 'https://news.example/a.jpg', page), null);
  assert.equal(loginKind(refused(403), 'data:image/png;base64,AAAA', page), null);
  assert.equal(loginKind(refused(403), 'not a url', page), null);
  assert.equal(loginKind(refused(403), 'https://news.example/a.jpg', 'about:blank'), 'cross-origin');
});

test('a cross-origin refusal says why', () => {
  const r = withMessage(refused(403), crossOriginMessage());
  assert.equal(r.error.code, 'http_status');
  assert.equal(r.error.httpStatus, 403);
  assert.match(r.error.message, /another site/);
});
