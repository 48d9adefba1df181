#!/usr/bin/env bash
# Installs what building and testing Image Diet needs on Debian/Ubuntu:
# the C toolchain and pkg-config for cgo, Go (if missing), Node.js and npm
# for the extension's tests, Debian's Chromium for end-to-end tests, and
# Debian's butteraugli, the referee the perceptual metric is checked against,
# and what scripts/package.sh needs for the release: the arm64 and Windows
# cross-compilers (gcc-aarch64-linux-gnu, mingw-w64), rpm (to check the
# .rpm the way rpm reads it) and qemu-user (to run the arm64 helper).
# Idempotent: packages already present are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
for p in gcc g++ pkg-config git ca-certificates python3 chromium unzip butteraugli \
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 rpm qemu-user; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true); [ "$st" = "install ok installed" ] || need+=("$p")
done
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || need+=(golang-go)
if [ "${#need[@]}" -gt 0 ]; then
  echo "install-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# JavaScript test tools (playwright-core and puppeteer-core drive Debian's
# Chromium; neither downloads a browser).
if [ -f package.json ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
fi
echo "install-deps: done" >&2
