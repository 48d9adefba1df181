#!/usr/bin/env bash
# Saves screenshots of the popup (360, 400, 640 and 800 px wide; light and
# dark) after a real scan of the demo page by the real helper, into
# docs/screenshots/. Needs bin/imgdiet-host (scripts/build.sh) and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/imgdiet-host ] || scripts/build.sh
exec node scripts/screenshots.mjs "$@"
