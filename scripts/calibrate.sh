#!/usr/bin/env bash
# Calibrates internal/metric's thresholds against Debian's butteraugli and
# writes docs/calibration.md. Fetches its corpus (photographs from Debian's
# lomiri-wallpapers packages) into .deps/corpus and installs butteraugli with
# apt when missing (needs root). Extra arguments go to scripts/calibrate,
# e.g. -photos 6 -sizes 800 for a quicker run. Takes ~10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

apt_install() {
  apt-get install -y "$@" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$@" >/dev/null; }
}
command -v butteraugli >/dev/null || apt_install butteraugli

corpus=.deps/corpus
if [ ! -f "$corpus/.complete" ]; then
  rm -rf "$corpus" && mkdir -p "$corpus/debs"
  pkgs="lomiri-wallpapers-20.04 lomiri-wallpapers-16.04 lomiri-wallpapers"
  (cd "$corpus/debs" && { apt-get download $pkgs 2>/dev/null || { apt-get update >/dev/null && apt-get download $pkgs; }; })
  for d in "$corpus"/debs/*.deb; do dpkg-deb -x "$d" "$corpus"; done
  rm -rf "$corpus/debs"
  touch "$corpus/.complete"
fi

go run ./scripts/calibrate -corpus "$corpus" "$@"
