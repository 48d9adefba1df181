#!/usr/bin/env bash
# Checks the release in dist/ (scripts/package.sh) as a user would meet it:
#  - SHA256SUMS lists every file and every checksum matches;
#  - each .deb is under 15 MB, and its .rpm holds the same files;
#  - the arm64 helper is an AArch64 program that loads its lib/ libvips, and
#    runs under qemu-user with every encoder;
#  - the Windows .exe imports only Windows' own DLLs and the DLL in its zip;
#  - the extension zips: the store's manifest has no key, the unpacked one
#    has the key of the fixed ID, both hold the same files;
#  - then, as root on a machine without the helper installed, `apt install`
#    of the .deb, `imgdiet-host doctor` all green for every browser, the
#    Chromium end-to-end scan (e2e/canary.test.mjs) with the release's
#    unpacked extension and the packaged helper, found through the
#    system-wide manifest only, `apt purge`, and not one file of ours left.
# The install step runs in CI (CI=true) or with IMGDIET_TEST_INSTALL=1, as
# root, where it touches no existing install; under CI it must run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$PATH:/usr/local/go/bin"
dist=${IMGDIET_DIST:-$root/dist}
version=$(sed -n 's/^const Version = "\(.*\)"/\1/p' internal/buildinfo/buildinfo.go)
fail() { echo "test-package: FAIL: $*" >&2; exit 1; }
ok() { echo "  ok    $*"; }
passed=0
pass() { ok "$@"; passed=$((passed + 1)); }
[ -f "$dist/SHA256SUMS" ] || fail "$dist/SHA256SUMS is missing: run scripts/package.sh first"
work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

echo "== release: checksums"
go run ./scripts/release verify "$dist"
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
pass "every file in dist/ is in SHA256SUMS, and sha256sum -c agrees"

echo "== release: Linux packages"
for a in amd64:x86_64 arm64:aarch64; do
  deb="$dist/imgdiet-host_${version}_${a%%:*}.deb"; rpm="$dist/imgdiet-host-${version}-1.${a#*:}.rpm"
  size=$(stat -c %s "$deb")
  [ "$size" -lt 15000000 ] || fail "$(basename "$deb") is $size bytes, over 15 MB"
  pass "$(basename "$deb"): $size bytes (under 15 MB)"
  # Files and symlinks (folders aside, which dpkg lists with a trailing /).
  dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | sort > "$work/deb.txt"
  rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" | awk '$1 !~ /^d/ {print $2}' | sort > "$work/rpm.txt"
  rpm -qlp "$rpm" | sort > "$work/rpm-all.txt"
  diff -u "$work/deb.txt" "$work/rpm.txt" || fail "$(basename "$rpm") and $(basename "$deb") hold different files"
  grep -qx /opt/imgdiet/imgdiet-host "$work/rpm-all.txt" || fail "rpm -qlp does not list /opt/imgdiet/imgdiet-host"
  pass "rpm -qlp $(basename "$rpm") lists the same $(wc -l < "$work/rpm.txt") files as the .deb"
done
# Every system-wide manifest each browser reads on Linux, pointing at /opt.
for m in /etc/opt/chrome/native-messaging-hosts /etc/chromium/native-messaging-hosts /etc/opt/edge/native-messaging-hosts \
  /etc/opt/vivaldi/native-messaging-hosts /usr/lib/mozilla/native-messaging-hosts; do
  grep -qx "$m/com.imagediet.host.json" "$work/deb.txt" || fail "the .deb lacks $m/com.imagediet.host.json"
done
pass "the packages register Chrome and Brave, Chromium, Edge, Vivaldi and Firefox system-wide"

mkdir -p "$work/arm64"; tar xzf "$dist/imgdiet-host_${version}_linux_arm64.tar.gz" -C "$work/arm64"
arm="$work/arm64/imgdiet-host_${version}_linux_arm64"
hdr=$(readelf -h "$arm/imgdiet-host"); dyn=$(readelf -d "$arm/imgdiet-host")
case "$hdr" in *AArch64*) ;; *) fail "the arm64 helper is not an AArch64 program" ;; esac
case "$dyn" in *'[$ORIGIN/lib]'*) ;; *) fail "the arm64 helper does not look for libvips in its lib/" ;; esac
lib=$(basename "$(ls "$arm"/lib/libvips-cpp.so.*)")
case "$dyn" in *"[$lib]"*) ;; *) fail "the arm64 helper does not load the shipped $lib" ;; esac
case "$(readelf -h "$arm/lib/$lib")" in *AArch64*) ;; *) fail "the arm64 lib/$lib is not AArch64" ;; esac
pass "arm64: an AArch64 helper that loads lib/$lib (RUNPATH \$ORIGIN/lib)"
# It runs: Debian's qemu-user starts it with the arm64 C library of the cross
# toolchain, and its libvips loads every encoder.
if command -v qemu-aarch64 >/dev/null 2>&1; then
  v=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm/imgdiet-host" version 2>&1) || fail "the arm64 helper does not start under qemu-aarch64: $v"
  case "$v" in *"imgdiet-host $version "*"encoders jpeg,png,webp,avif,gif"*) ;; *) fail "the arm64 helper under qemu says: $v" ;; esac
  pass "arm64: the helper runs (qemu-aarch64): $(echo "$v" | tr '\n' ' ')"
else
  [ "${CI:-}" != true ] || fail "qemu-aarch64 is missing: scripts/install-deps.sh installs qemu-user"
  echo "  SKIPPED: running the arm64 helper needs qemu-user (apt-get install qemu-user)"
fi

echo "== release: Windows zip"
mkdir -p "$work/win"; unzip -q "$dist/imgdiet-host_${version}_windows_amd64.zip" -d "$work/win"
win="$work/win/imgdiet-host_${version}_windows_amd64"
for f in imgdiet-host.exe libvips-42.dll install.ps1 THIRD_PARTY_NOTICES.txt README.txt; do [ -f "$win/$f" ] || fail "the Windows zip lacks $f"; done
imports=$(x86_64-w64-mingw32-objdump -p "$win/imgdiet-host.exe" | sed -n 's/^[[:space:]]*DLL Name: //p')
[ -n "$imports" ] || fail "objdump -p finds no imports in imgdiet-host.exe"
for d in $imports; do
  lower=$(echo "$d" | tr 'A-Z' 'a-z')
  case "$lower" in
    kernel32.dll|msvcrt.dll|advapi32.dll|ws2_32.dll|user32.dll|shell32.dll|ole32.dll|bcrypt.dll|ntdll.dll|winmm.dll|api-ms-win-*) ;;
    *) [ -f "$win/$d" ] || fail "imgdiet-host.exe imports $d, which is neither Windows' own nor in the zip" ;;
  esac
done
case " $(echo $imports) " in *" libvips-42.dll "*) ;; *) fail "imgdiet-host.exe does not import libvips-42.dll" ;; esac
pass "imgdiet-host.exe imports $(echo $imports | tr ' ' ',') (the DLL is in the zip)"
grep -q 'imgdiet-host.exe' "$win/install.ps1" && grep -q '"install"' "$win/install.ps1" || fail "install.ps1 does not run the helper's installer"
pass "install.ps1 registers the helper with its own installer, no compiler"

echo "== release: extension zips"
for z in store unpacked; do mkdir -p "$work/ext-$z"; unzip -q "$dist/imgdiet-extension_${version}_$z.zip" -d "$work/ext-$z"; done
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  import { createHash } from "node:crypto";
  const [store, unpacked, version] = process.argv.slice(1);
  const ms = JSON.parse(readFileSync(`${store}/manifest.json`, "utf8"));
  const mu = JSON.parse(readFileSync(`${unpacked}/manifest.json`, "utf8"));
  if ("key" in ms) throw new Error("the store zip manifest has a key");
  const hex = createHash("sha256").update(Buffer.from(mu.key, "base64")).digest("hex").slice(0, 32);
  const id = [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
  if (id !== "fmeiijmoogoohmijkjchgkjnaeljpcno") throw new Error(`the unpacked zip has ID ${id}`);
  delete mu.key;
  if (JSON.stringify(ms) !== JSON.stringify(mu)) throw new Error("the two manifests differ beyond the key");
  if (ms.version !== version) throw new Error(`manifest version ${ms.version}, release ${version}`);
' "$work/ext-store" "$work/ext-unpacked" "$version"
diff <(cd "$work/ext-store" && find . -type f | sort) <(cd "$work/ext-unpacked" && find . -type f | sort) || fail "the extension zips hold different files"
[ ! -e "$work/ext-store/test" ] || fail "the extension zip ships its tests"
pass "store zip without key, unpacked zip with the fixed ID's key, the same $(cd "$work/ext-store" && find . -type f | wc -l) files"
# Capture before matching: with pipefail, `unzip -l | grep -q` fails when grep
# stops at its match and unzip, still writing, dies of SIGPIPE.
listing=$(unzip -l "$dist/imgdiet-extension_${version}_store-listing.zip")
grep -q 'screenshots/1-scan-results-light.png' <<<"$listing" || fail "the store listing has no screenshot"
pass "the store-listing zip holds the listing, the privacy answers and the screenshots"

echo "== release: install the .deb system-wide, doctor, scan in Chromium, purge"
why=""
if [ "${CI:-}" != true ] && [ "${IMGDIET_TEST_INSTALL:-}" != 1 ]; then why="installs a system package: runs in CI, or with IMGDIET_TEST_INSTALL=1"
elif [ "$(id -u)" -ne 0 ]; then why="needs root"
elif [[ "$(dpkg-query -W -f='${Status}' imgdiet-host 2>/dev/null || true)" == *"install ok"* ]]; then why="the imgdiet-host package is already installed here"
elif [ -e /opt/imgdiet ]; then why="/opt/imgdiet exists (a scripts/install.sh --system install?)"
fi
if [ -n "$why" ]; then
  [ "${CI:-}" != true ] || fail "the install check must run in CI, but it $why"
  echo "  SKIPPED: $why"
else
  deb="$dist/imgdiet-host_${version}_amd64.deb"
  roots=(/opt /usr/bin /etc/opt /etc/chromium /usr/lib/mozilla /usr/share/doc)
  snap() { for r in "${roots[@]}"; do [ -e "$r" ] && find "$r" -xdev 2>/dev/null; done | sort; }
  snap > "$work/before.txt"
  purge() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y -qq imgdiet-host >/dev/null 2>&1 || true; }
  trap 'purge; cleanup' EXIT
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$deb" >/dev/null 2>"$work/apt.err" || { cat "$work/apt.err"; fail "apt install ./$(basename "$deb")"; }
  pass "apt install ./$(basename "$deb")"
  v=$(imgdiet-host --version)
  case "$v" in "imgdiet-host $version "*"encoders jpeg,png,webp,avif,gif"*) ;; *) fail "imgdiet-host --version says: $v" ;; esac
  pass "imgdiet-host --version: $(echo "$v" | head -n1)"
  imgdiet-host doctor --system > "$work/doctor.txt" || { cat "$work/doctor.txt"; fail "imgdiet-host doctor --system"; }
  sed 's/^/        /' "$work/doctor.txt"
  for b in Chrome Chromium Edge Brave Vivaldi Firefox; do grep -q "^$b (system): " "$work/doctor.txt" || fail "doctor does not find $b"; done
  ! grep -q FAIL "$work/doctor.txt" || fail "doctor found a problem"
  grep -q 'Installed by the imgdiet-host package (deb)' "$work/doctor.txt" || fail "doctor does not know the package installed it"
  pass "imgdiet-host doctor: all green for Chrome, Chromium, Edge, Brave, Vivaldi and Firefox"
  first=$(sed -n 's/.*answers hello in \([0-9]*\) ms.*/\1/p' "$work/doctor.txt" | head -n1)
  warm=$(for i in 1 2 3 4 5; do imgdiet-host doctor --system --browser chromium | sed -n 's/.*answers hello in \([0-9]*\) ms.*/\1/p'; done | sort -n | sed -n 3p)
  echo "        start to hello, installed helper: ${first} ms the first time after install, ${warm} ms the median of 5 more"
  # The scan: the release's unpacked extension, no manifest in the profile,
  # the helper started from /opt/imgdiet (the test counts its processes by path).
  IMGDIET_E2E_HOST=system IMGDIET_HOST_BIN=/opt/imgdiet/imgdiet-host IMGDIET_EXT_DIR="$work/ext-unpacked" \
    node --test --test-concurrency=1 --test-timeout=240000 e2e/canary.test.mjs
  pass "Chromium scanned a page with the packaged helper, found through /etc/chromium/native-messaging-hosts"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y -qq imgdiet-host >/dev/null 2>&1 || fail "apt purge imgdiet-host"
  trap cleanup EXIT
  snap > "$work/after.txt"
  diff -u "$work/before.txt" "$work/after.txt" || fail "apt purge left files behind (above)"
  for f in $(cat "$work/deb.txt"); do [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is still there after apt purge"; done
  pass "apt purge imgdiet-host: no file or folder of ours is left"
fi
echo "$passed passed, 0 failed"
