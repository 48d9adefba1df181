#!/usr/bin/env bash
# Builds the Image Diet host and registers it with every browser, for the
# current user (Linux and macOS). On Windows use scripts/install.ps1.
#
#   scripts/install.sh [--system] [--browser LIST] [--extension-id ID] [--no-deps]
#
# Steps: install build tools (scripts/install-deps.sh, Debian/Ubuntu, with
# sudo when not root), build bin/imgdiet-host (scripts/build.sh), install it
# (`imgdiet-host install --browser all`), check it (`imgdiet-host doctor`),
# then print the one step left: loading extension/ in the browser.
#
# Run it as yourself (it asks sudo for packages only). Run with sudo, it
# builds and installs for the user who called sudo, not for root.
# --system installs for every user (/opt/imgdiet and the browsers' system
# folders) and needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

browser=all; system=""; extid=""; deps=1
while [ $# -gt 0 ]; do
  case "$1" in
    --system) system=--system ;;
    --browser) browser=${2:?--browser needs a value}; shift ;;
    --browser=*) browser=${1#*=} ;;
    --extension-id) extid=${2:?--extension-id needs a value}; shift ;;
    --extension-id=*) extid=${1#*=} ;;
    --no-deps) deps=0 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'install.sh: %s\n' "$*" >&2; }

# Who builds and installs: under sudo, the calling user (their HOME is where
# their browser looks), unless this is a system-wide install.
as_user=()
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] && [ -z "$system" ]; then
  as_user=(sudo -u "$SUDO_USER" -H env "PATH=$PATH:/usr/local/go/bin")
  say "running under sudo: building and installing for $SUDO_USER"
fi
# (bash 3.2 on macOS treats an empty "${a[@]}" as unset under set -u.)
run_user() { if [ ${#as_user[@]} -gt 0 ]; then "${as_user[@]}" "$@"; else "$@"; fi; }
if [ -n "$system" ] && [ "$(id -u)" -ne 0 ]; then
  say "--system needs root: run it with sudo"
  exit 1
fi

# 1. Build tools.
case "$(uname -s)" in
  Linux)
    if [ "$deps" = 1 ]; then
      if [ -x scripts/install-deps.sh ] && command -v apt-get >/dev/null 2>&1; then
        say "installing build tools (scripts/install-deps.sh)"
        scripts/install-deps.sh
      elif ! command -v apt-get >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: install Go, gcc, pkg-config and npm yourself if the build fails"
      fi
    fi ;;
  Darwin)
    xcode-select -p >/dev/null 2>&1 || { say "install Apple's command line tools first: xcode-select --install"; exit 1; }
    for t in go npm; do
      command -v "$t" >/dev/null 2>&1 || { say "$t is missing: install it (for example: brew install go node)"; exit 1; }
    done ;;
  *) say "unsupported system $(uname -s): on Windows run scripts/install.ps1"; exit 1 ;;
esac
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || { say "Go is missing: install it from https://go.dev/dl/ and run this again"; exit 1; }
# go.mod names the Go release it needs; Go 1.21 and later fetch it by
# themselves, older ones cannot.
gov=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
case "$gov" in
  1.1[0-9]*|1.[0-9]|1.[0-9].*|1.20*|"") say "Go ${gov:-?} is too old (1.21 or later is needed): install a current Go from https://go.dev/dl/"; exit 1 ;;
esac

# 2. Build.
say "building bin/imgdiet-host"
run_user scripts/build.sh

# 3. Install and register.
args=(install --browser "$browser")
[ -n "$system" ] && args+=(--system)
[ -n "$extid" ] && args+=(--extension-id "$extid")
run_user "$root/bin/imgdiet-host" "${args[@]}"

# 4. Check it the way a browser would start it.
dargs=(doctor --browser "$browser")
if [ -n "$system" ]; then dargs+=(--system); else dargs+=(--user); fi
[ -n "$extid" ] && dargs+=(--extension-id "$extid")
echo
if ! run_user "$root/bin/imgdiet-host" "${dargs[@]}"; then
  say "the host is installed but the check above found a problem"
  exit 1
fi

echo
echo "Done. One step left: open chrome://extensions (edge://extensions, brave://extensions, ...),"
echo "turn on Developer mode, click \"Load unpacked\" and choose $root/extension"
