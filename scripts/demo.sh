#!/usr/bin/env bash
# Shows Image Diet working on a bundled demo page, in Debian's Chromium with
# a fresh temporary profile (removed at exit; nothing is written to $HOME):
# the host is registered inside that profile only, the extension is loaded
# unpacked, and the page is served on 127.0.0.1.
#
#   scripts/demo.sh              headed when $DISPLAY is set, headless otherwise
#   scripts/demo.sh --headless   clicks the toolbar button itself and prints
#                                the scan summary (needs playwright-core)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$PATH:/usr/local/go/bin"

headless=""
[ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && headless=--headless
for a in "$@"; do
  case "$a" in
    --headless) headless=--headless ;;
    --headed) headless="" ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
say() { printf 'demo.sh: %s\n' "$*" >&2; }

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
  say "installing Debian's chromium"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
if [ ! -x bin/imgdiet-host ]; then
  say "building the host"
  scripts/build.sh
fi
if [ -n "$headless" ] && [ ! -d node_modules/playwright-core ]; then
  say "installing playwright-core (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

profile=$(mktemp -d "${TMPDIR:-/tmp}/imgdiet-demo.XXXXXX")
trap 'rm -rf "$profile"' EXIT
trap 'exit 130' INT TERM

# The extension's ID follows from the "key" in its manifest.
ext_id=$(node -e '
  const fs = require("fs"), c = require("crypto");
  const key = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).key;
  const h = c.createHash("sha256").update(Buffer.from(key, "base64")).digest("hex").slice(0, 32);
  process.stdout.write([...h].map((d) => String.fromCharCode(97 + parseInt(d, 16))).join(""));
' "$root/extension/manifest.json")

ud="$profile/chromium"
mkdir -p "$ud/NativeMessagingHosts" "$profile/config" "$profile/cache" "$profile/home"
node -e '
  const [file, path, id] = process.argv.slice(1);
  require("fs").writeFileSync(file, JSON.stringify({
    name: "com.imagediet.host", description: "Image Diet (demo profile)", path, type: "stdio",
    allowed_origins: [`chrome-extension://${id}/`],
  }, null, 2));
' "$ud/NativeMessagingHosts/com.imagediet.host.json" "$root/bin/imgdiet-host" "$ext_id"

# Chromium writes crash reports, dconf and NSS files under these: keep them
# in the temporary profile.
export XDG_CONFIG_HOME="$profile/config" XDG_CACHE_HOME="$profile/cache" HOME="$profile/home"
say "profile $profile (removed at exit), extension $ext_id"
node "$root/scripts/demo/run.mjs" --profile "$ud" --ext "$root/extension" --chromium "$chromium" $headless
