#!/usr/bin/env bash
# Runs every test: formatting, vet, Go tests with the race detector (real
# libvips), then the extension's unit and end-to-end tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
source scripts/env.sh

echo "== gofmt"
bad=$(gofmt -l $(git ls-files "*.go" 2>/dev/null || find host internal manifests -name "*.go") 2>/dev/null || true)
if [ -n "$bad" ]; then echo "gofmt needed:"; echo "$bad"; exit 1; fi

echo "== go vet"
go vet ./...

[ -x bin/imgdiet-host ] || scripts/build.sh

echo "== binary: bundled libvips, relocatable"
if [ "${IMGDIET_LIBVIPS:-bundle}" != system ]; then
  # Capture output before matching: with pipefail, `cmd | grep -q` fails
  # whenever grep exits early and cmd is killed by SIGPIPE.
  deps=$(ldd bin/imgdiet-host)
  case "$deps" in
    *"=> $(pwd -P)/bin/lib/libvips-cpp.so"* | *"=> $(pwd)/bin/lib/libvips-cpp.so"*) ;;
    *) echo "bin/imgdiet-host does not load bin/lib/libvips-cpp.so:"; echo "$deps"; exit 1 ;;
  esac
  reloc=$(mktemp -d); cp -r bin "$reloc/"
  ver=$("$reloc/bin/imgdiet-host" version 2>&1 || true)
  case "$ver" in
    *"encoders jpeg,png,webp,avif,gif"*) ;;
    *) echo "relocated binary does not run:"; echo "$ver"; rm -rf "$reloc"; exit 1 ;;
  esac
  rm -rf "$reloc"
fi

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

if [ -x scripts/test-js.sh ]; then
  echo "== extension tests"
  scripts/test-js.sh
fi

# The release, built and checked as a user would meet it (scripts/package.sh
# writes dist/; scripts/test-package.sh installs the .deb, checks it with
# doctor and Chromium, and purges it). IMGDIET_SKIP_RELEASE=1 skips both.
if [ "${IMGDIET_SKIP_RELEASE:-}" = 1 ]; then
  echo "== release: SKIPPED (IMGDIET_SKIP_RELEASE=1)"
else
  echo "== release packages"
  scripts/package.sh
  scripts/test-package.sh
fi
