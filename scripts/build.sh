#!/usr/bin/env bash
# Builds bin/imgdiet-host against sharp's prebuilt libvips bundle (default) or the
# system's libvips (IMGDIET_LIBVIPS=system). The bundle is fetched with `npm pack`
# into .deps/ (ignored by git) and copied to bin/lib/ beside the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

LIBVIPS_BUNDLE_VERSION=1.3.4
mode=${IMGDIET_LIBVIPS:-bundle}
out=${IMGDIET_BIN:-$root/bin}
mkdir -p "$out"

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

version=$(sed -n 's/^const Version = "\(.*\)"/\1/p' internal/buildinfo/buildinfo.go)
ldflags="-s -w"

if [ "$mode" = system ]; then
  echo "build.sh: building against the system libvips ($(pkg-config --modversion vips))" >&2
  CGO_ENABLED=1 go build -trimpath -tags vips_system -ldflags "$ldflags" -o "$out/imgdiet-host" ./host
  exit 0
fi

deps="$root/.deps/libvips-$LIBVIPS_BUNDLE_VERSION"
plat="$deps/sharp-libvips-$pos-$parch"
dev="$deps/sharp-libvips-dev"
if [ ! -f "$deps/.complete" ]; then
  echo "build.sh: fetching libvips bundle $LIBVIPS_BUNDLE_VERSION for $pos-$parch" >&2
  rm -rf "$deps"; mkdir -p "$deps/tgz" "$plat" "$dev"
  (cd "$deps/tgz" && npm pack --silent "@img/sharp-libvips-$pos-$parch@$LIBVIPS_BUNDLE_VERSION" "@img/sharp-libvips-dev@$LIBVIPS_BUNDLE_VERSION" >/dev/null)
  tar xzf "$deps"/tgz/img-sharp-libvips-$pos-$parch-*.tgz -C "$plat" --strip-components=1
  tar xzf "$deps"/tgz/img-sharp-libvips-dev-*.tgz -C "$dev" --strip-components=1
  rm -rf "$deps/tgz"
  touch "$deps/.complete"
fi

libdir="$plat/lib"
if [ "$pos" = darwin ]; then
  lib=$(cd "$libdir" && ls libvips-cpp.*.dylib | head -n1)
else
  lib=$(cd "$libdir" && ls libvips-cpp.so.* | head -n1)
fi
vipsver=$(sed -n 's/.*"vips": *"\([^"]*\)".*/\1/p' "$plat/versions.json")

mkdir -p "$deps/pkgconfig"
cat > "$deps/pkgconfig/vips.pc" <<PC
Name: vips
Description: libvips from sharp's prebuilt bundle $LIBVIPS_BUNDLE_VERSION
Version: $vipsver
Cflags: -I$dev/include -I$dev/include/glib-2.0 -I$libdir/glib-2.0/include
Libs: -L$libdir -l:$lib
PC
if [ "$pos" = darwin ]; then
  sed -i.bak "s|-l:$lib|$libdir/$lib|" "$deps/pkgconfig/vips.pc" && rm -f "$deps/pkgconfig/vips.pc.bak"
  rpath='-Wl,-rpath,@loader_path/lib'
else
  rpath='-Wl,-rpath,$ORIGIN/lib'
fi

echo "build.sh: building $out/imgdiet-host (libvips $vipsver, bundled)" >&2
PKG_CONFIG_LIBDIR="$deps/pkgconfig" PKG_CONFIG_PATH="" CGO_ENABLED=1 CGO_LDFLAGS="$rpath" \
  go build -trimpath -tags vips_bundle -ldflags "$ldflags" -o "$out/imgdiet-host" ./host
mkdir -p "$out/lib"
rm -f "$out"/lib/libvips-cpp.*
cp "$libdir/$lib" "$out/lib/$lib"
cp "$plat/README.md" "$out/lib/LIBVIPS-README.md" 2>/dev/null || true
echo "build.sh: done: $out/imgdiet-host ($version)" >&2
