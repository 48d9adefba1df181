#!/usr/bin/env bash
# Builds bin/imgdiet-host against sharp's prebuilt libvips bundle (default) or the
# system's libvips (IMGDIET_LIBVIPS=system). The bundle is fetched with `npm pack`
# into .deps/ (ignored by git) and copied to bin/lib/ beside the binary.
#
# IMGDIET_TARGET cross-builds from Linux x86-64 for another system, into
# IMGDIET_BIN (default bin/TARGET): linux-arm64 (Debian's gcc-aarch64-linux-gnu,
# sharp's linux-arm64 bundle) or windows-x64 (Debian's mingw-w64, the libvips
# DLL from @img/sharp-win32-x64, placed beside imgdiet-host.exe). linux-x64 is
# this machine's own build. scripts/package.sh uses these.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

LIBVIPS_BUNDLE_VERSION=1.3.4
# Windows: sharp's own package carries the DLL (libvips 8.18.7, like the
# bundle above); glibconfig.h comes from sharp-libvips' Windows package, the
# headers from sharp-libvips-dev (as scripts/install.ps1 does on Windows).
SHARP_WIN_VERSION=0.35.5
LIBVIPS_WIN_VERSION=1.3.3
mode=${IMGDIET_LIBVIPS:-bundle}

os=$(uname -s); arch=$(uname -m)
case "$os" in
  Linux) pos=linux ;;
  Darwin) pos=darwin ;;
  *) echo "build.sh: unsupported OS $os (use scripts/install.ps1 on Windows)" >&2; exit 1 ;;
esac
case "$arch" in
  x86_64|amd64) parch=x64 ;;
  aarch64|arm64) parch=arm64 ;;
  *) echo "build.sh: unsupported CPU $arch" >&2; exit 1 ;;
esac

target=${IMGDIET_TARGET:-$pos-$parch}
cross=""
if [ "$target" != "$pos-$parch" ]; then
  [ "$pos-$parch" = linux-x64 ] || { echo "build.sh: cross-builds run on Linux x86-64 only" >&2; exit 1; }
  [ "$mode" = bundle ] || { echo "build.sh: IMGDIET_TARGET needs the bundled libvips" >&2; exit 1; }
  case "$target" in
    linux-arm64) cross=aarch64-linux-gnu-gcc; export GOOS=linux GOARCH=arm64 ;;
    windows-x64) cross=x86_64-w64-mingw32-gcc; export GOOS=windows GOARCH=amd64 ;;
    *) echo "build.sh: unknown IMGDIET_TARGET $target (linux-x64, linux-arm64, windows-x64)" >&2; exit 1 ;;
  esac
  command -v "$cross" >/dev/null 2>&1 || { echo "build.sh: $cross is missing: apt-get install gcc-${cross%-gcc}" >&2; exit 1; }
  export CC=$cross
  pos=${target%-*}; parch=${target#*-}
fi
if [ -n "$cross" ]; then out=${IMGDIET_BIN:-$root/bin/$target}; else out=${IMGDIET_BIN:-$root/bin}; fi
mkdir -p "$out"

version=$(sed -n 's/^const Version = "\(.*\)"/\1/p' internal/buildinfo/buildinfo.go)
ldflags="-s -w"

if [ "$mode" = system ]; then
  echo "build.sh: building against the system libvips ($(pkg-config --modversion vips))" >&2
  CGO_ENABLED=1 go build -trimpath -tags vips_system -ldflags "$ldflags" -o "$out/imgdiet-host" ./host
  exit 0
fi

# fetch NAME@VERSION... DIR...: npm pack each package and unpack it into the
# matching folder, once (.complete marks a finished fetch).
fetch() {
  local deps=$1; shift
  [ -f "$deps/.complete" ] && return 0
  echo "build.sh: fetching libvips for $target ($*)" >&2
  rm -rf "$deps"; mkdir -p "$deps/tgz"
  local pkgs=() dirs=() i
  while [ $# -gt 0 ]; do pkgs+=("$1"); dirs+=("$2"); shift 2; done
  (cd "$deps/tgz" && npm pack --silent "${pkgs[@]}" >/dev/null)
  for i in "${!pkgs[@]}"; do
    local name=${pkgs[$i]%@*}; name=${name#@}; name=${name//\//-}
    mkdir -p "${dirs[$i]}"
    tar xzf "$deps"/tgz/"$name"-*.tgz -C "${dirs[$i]}" --strip-components=1
  done
  rm -rf "$deps/tgz"
  touch "$deps/.complete"
}

if [ -z "$cross" ]; then
  # This machine's build. (The folder name is what scripts/env.sh looks for.)
  deps="$root/.deps/libvips-$LIBVIPS_BUNDLE_VERSION"
else
  deps="$root/.deps/cross/$target-$LIBVIPS_BUNDLE_VERSION"
fi
dev="$deps/sharp-libvips-dev"
if [ "$pos" = windows ]; then
  plat="$deps/sharp-libvips-win32-x64"
  fetch "$deps" "@img/sharp-win32-x64@$SHARP_WIN_VERSION" "$deps/sharp-win32-x64" \
    "@img/sharp-libvips-win32-x64@$LIBVIPS_WIN_VERSION" "$plat" \
    "@img/sharp-libvips-dev@$LIBVIPS_BUNDLE_VERSION" "$dev"
else
  plat="$deps/sharp-libvips-$pos-$parch"
  fetch "$deps" "@img/sharp-libvips-$pos-$parch@$LIBVIPS_BUNDLE_VERSION" "$plat" \
    "@img/sharp-libvips-dev@$LIBVIPS_BUNDLE_VERSION" "$dev"
fi

libdir="$plat/lib"
case "$pos" in
  darwin) lib=$(cd "$libdir" && ls libvips-cpp.*.dylib | head -n1) ;;
  windows) libdir="$deps/sharp-win32-x64/lib"; lib=libvips-42.dll ;;
  *) lib=$(cd "$libdir" && ls libvips-cpp.so.* | head -n1) ;;
esac
vipsmeta="$plat/versions.json"
[ "$pos" = windows ] && vipsmeta="$deps/sharp-win32-x64/versions.json"
vipsver=$(sed -n 's/.*"vips": *"\([^"]*\)".*/\1/p' "$vipsmeta")

mkdir -p "$deps/pkgconfig"
cat > "$deps/pkgconfig/vips.pc" <<PC
Name: vips
Description: libvips from sharp's prebuilt bundle $LIBVIPS_BUNDLE_VERSION
Version: $vipsver
Cflags: -I$dev/include -I$dev/include/glib-2.0 -I$plat/lib/glib-2.0/include
Libs: -L$libdir -l:$lib
PC
case "$pos" in
  darwin)
    sed -i.bak "s|-l:$lib|$libdir/$lib|" "$deps/pkgconfig/vips.pc" && rm -f "$deps/pkgconfig/vips.pc.bak"
    rpath='-Wl,-rpath,@loader_path/lib' ;;
  windows) rpath='' ;; # Windows finds the DLL beside the .exe
  *) rpath='-Wl,-rpath,$ORIGIN/lib' ;;
esac
exe=imgdiet-host; [ "$pos" = windows ] && exe=imgdiet-host.exe

echo "build.sh: building $out/$exe (libvips $vipsver, bundled, $target)" >&2
PKG_CONFIG_LIBDIR="$deps/pkgconfig" PKG_CONFIG_PATH="" CGO_ENABLED=1 CGO_LDFLAGS="$rpath" \
  go build -trimpath -tags vips_bundle -ldflags "$ldflags" -o "$out/$exe" ./host
if [ "$pos" = windows ]; then
  cp "$libdir/$lib" "$out/$lib"
  cp "$deps/sharp-win32-x64/README.md" "$out/LIBVIPS-README.md"
else
  mkdir -p "$out/lib"
  rm -f "$out"/lib/libvips-cpp.*
  cp "$libdir/$lib" "$out/lib/$lib"
  cp "$plat/README.md" "$out/lib/LIBVIPS-README.md" 2>/dev/null || true
fi
echo "build.sh: done: $out/$exe ($version)" >&2
