#!/usr/bin/env bash
# Runs the extension's tests: unit tests of the pure modules (node --test),
# then the end-to-end suite in headless Chromium against the real helper
# (bin/imgdiet-host, built by scripts/build.sh). The e2e suite is skipped,
# with a message, only when the helper binary or Chromium is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/puppeteer-core ] || [ ! -d node_modules/axe-core ]; then
  echo "test-js.sh: installing the e2e drivers (npm ci; no browsers are downloaded)" >&2
  PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2
fi

echo "== unit tests (extension/test, bench/stats.test.mjs)"
node --test extension/test/ bench/stats.test.mjs

host=${IMGDIET_HOST_BIN:-bin/imgdiet-host}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$host" ]; then
  echo "== e2e: SKIPPED — $host is missing; build it with scripts/build.sh" >&2
  exit 0
fi
if [ ! -x "$chromium" ]; then
  echo "== e2e: SKIPPED — $chromium is missing; install it with: apt-get install -y chromium" >&2
  exit 0
fi
echo "== end-to-end tests (e2e, headless Chromium, real helper)"
node --test --test-concurrency=1 --test-timeout=240000 e2e/
