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
  ldd bin/imgdiet-host | grep -q "=> $(pwd)/bin/lib/libvips-cpp.so" || { echo "bin/imgdiet-host does not load bin/lib/libvips-cpp.so:"; ldd bin/imgdiet-host; exit 1; }
  reloc=$(mktemp -d); cp -r bin "$reloc/"
  "$reloc/bin/imgdiet-host" version | grep -q "encoders jpeg,png,webp,avif,gif" || { echo "relocated binary does not run"; rm -rf "$reloc"; exit 1; }
  rm -rf "$reloc"
fi

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

if [ -x scripts/test-js.sh ]; then
  echo "== extension tests"
  scripts/test-js.sh
fi
