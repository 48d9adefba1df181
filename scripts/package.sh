#!/usr/bin/env bash
# Builds the release into dist/ (or $IMGDIET_DIST), without anything a user
# would need a compiler for:
#   imgdiet-host_V_amd64.deb, imgdiet-host-V-1.x86_64.rpm, imgdiet-host_V_linux_amd64.tar.gz
#   imgdiet-host_V_arm64.deb, imgdiet-host-V-1.aarch64.rpm, imgdiet-host_V_linux_arm64.tar.gz
#   imgdiet-host_V_windows_amd64.zip        helper, libvips DLL, install.ps1
#   imgdiet-extension_V_store.zip           manifest without "key", for the Chrome Web Store
#   imgdiet-extension_V_unpacked.zip        manifest with "key" (the fixed ID), for Load unpacked
#   imgdiet-extension_V_store-listing.zip   listing text, privacy answers, screenshots, promo tile
#   imgdiet-host_V_<os>_<arch>.cdx.json     CycloneDX SBOM of each helper build
#   THIRD_PARTY_NOTICES.txt, SHA256SUMS
# The version is internal/buildinfo's Version (the extension's manifest must
# match). The .deb/.rpm are made by nfpm (tools/go.mod, a Go tool
# dependency); arm64 is cross-built with gcc-aarch64-linux-gnu and Windows
# with mingw-w64 (scripts/install-deps.sh installs both). Fetches come only
# from npm (libvips bundles), the Go module proxy and Debian.
#
# IMGDIET_EXTENSION_IDS: the Chrome extension IDs the packaged manifests
# allow (comma-separated; default the ID fixed by the manifest's key). Add
# the Web Store's ID once the store has assigned it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$PATH:/usr/local/go/bin"
start=$SECONDS
say() { printf 'package.sh: %s\n' "$*" >&2; }
last=$SECONDS
step() { say "$1 ($((SECONDS - last)) s)"; last=$SECONDS; }

version=$(sed -n 's/^const Version = "\(.*\)"/\1/p' internal/buildinfo/buildinfo.go)
bundle=$(sed -n 's/^LIBVIPS_BUNDLE_VERSION=//p' scripts/build.sh)
[ -n "$version" ] || { say "no Version in internal/buildinfo/buildinfo.go"; exit 1; }
ids=${IMGDIET_EXTENSION_IDS:-fmeiijmoogoohmijkjchgkjnaeljpcno}
when=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
out=${IMGDIET_DIST:-$root/dist}
for t in aarch64-linux-gnu-gcc x86_64-w64-mingw32-gcc; do
  command -v "$t" >/dev/null || { say "$t is missing: run scripts/install-deps.sh"; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"; mkdir -p "$out"
say "Image Diet $version → $out"

# 1. The release tools: ours, and nfpm from tools/go.mod.
go build -o "$work/release" ./scripts/release
(cd tools && go build -o "$work/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm)
rel="$work/release"
step "release tools built"

# 2. The helper for each system (scripts/build.sh knows the bundles).
for t in linux-x64 linux-arm64 windows-x64; do
  IMGDIET_TARGET=$t IMGDIET_BIN="$work/bin/$t" scripts/build.sh
done
cross="$root/.deps/cross"
win_deps="$cross/windows-x64-$bundle"
x64_deps="$root/.deps/libvips-$bundle"
arm_deps="$cross/linux-arm64-$bundle"
go mod download # the modules' licence texts, for the notices
step "helpers built for linux-x64, linux-arm64, windows-x64"

# 3. Third-party notices (the same text for every build).
notices="$work/THIRD_PARTY_NOTICES.txt"
"$rel" notices -version "$version" \
  -bin "$work/bin/linux-x64/imgdiet-host,$work/bin/linux-arm64/imgdiet-host,$work/bin/windows-x64/imgdiet-host.exe" \
  -readme "lib/libvips-cpp.so.* (Linux)=$x64_deps/sharp-libvips-linux-x64/README.md,libvips-42.dll (Windows)=$win_deps/sharp-win32-x64/README.md" \
  -modcache "$(go env GOMODCACHE)" -goroot "$(go env GOROOT)" -o "$notices"
cp "$notices" "$out/THIRD_PARTY_NOTICES.txt"

# readme TARGET INSTALL DOCTOR UNINSTALL: the archive's README.txt.
readme() {
  sed -e "s|@VERSION@|$version|; s|@TARGET@|$1|; s|@INSTALL@|    $2|; s|@DOCTOR@|    $3|; s|@UNINSTALL@|    $4|" packaging/README-archive.txt
}

# 4. Linux: .deb and .rpm (nfpm), .tar.gz, SBOM.
for a in amd64:x64:"$x64_deps" arm64:arm64:"$arm_deps"; do
  goarch=${a%%:*}; rest=${a#*:}; parch=${rest%%:*}; deps=${rest#*:}
  bin="$work/bin/linux-$parch"
  "$rel" nfpm -version "$version" -arch "$goarch" -bin "$bin" -notices "$notices" -work "$work/nfpm-$goarch" -ids "$ids" -time "$when" > "$work/nfpm-$goarch.yaml"
  for p in deb rpm; do
    SOURCE_DATE_EPOCH=$(date -d "$when" +%s) "$work/nfpm" package -f "$work/nfpm-$goarch.yaml" -p "$p" -t "$out/" >/dev/null
  done
  name="imgdiet-host_${version}_linux_${goarch}"
  stage="$work/tar/$name"; mkdir -p "$stage"
  cp -r "$bin/imgdiet-host" "$bin/lib" "$notices" "$stage/"
  readme "Linux ($goarch)" "./imgdiet-host install" "~/.local/share/imgdiet/imgdiet-host doctor" \
    "~/.local/share/imgdiet/imgdiet-host uninstall" > "$stage/README.txt"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$when" -C "$work/tar" -cf - "$name" | gzip -9n > "$out/$name.tar.gz"
  lib=$(ls "$bin"/lib/libvips-cpp.so.*)
  "$rel" sbom -bin "$bin/imgdiet-host" -version "$version" -goos linux -goarch "$goarch" \
    -pkg "@img/sharp-libvips-linux-$parch" -pkg-version "$bundle" -lib "$lib" \
    -versions "$deps/sharp-libvips-linux-$parch/versions.json" -readme "$deps/sharp-libvips-linux-$parch/README.md" \
    -time "$when" -o "$out/$name.cdx.json"
done

step "Linux packages, archives and SBOMs written"

# 5. Windows: a zip with the helper, its DLL and install.ps1.
wbin="$work/bin/windows-x64"; wname="imgdiet-host_${version}_windows_amd64"
readme "Windows (x64)" "powershell -ExecutionPolicy Bypass -File install.ps1" \
  '%LOCALAPPDATA%\\ImageDiet\\imgdiet-host.exe doctor' "powershell -ExecutionPolicy Bypass -File install.ps1 -Uninstall" \
  | sed 's/$/\r/' > "$work/README-windows.txt"
sed 's/$/\r/' packaging/windows/install.ps1 > "$work/install.ps1"
sed 's/$/\r/' "$notices" > "$work/THIRD_PARTY_NOTICES-windows.txt"
"$rel" zip -o "$out/$wname.zip" "$wname/imgdiet-host.exe=$wbin/imgdiet-host.exe" "$wname/libvips-42.dll=$wbin/libvips-42.dll" \
  "$wname/LIBVIPS-README.md=$wbin/LIBVIPS-README.md" "$wname/install.ps1=$work/install.ps1" \
  "$wname/README.txt=$work/README-windows.txt" "$wname/THIRD_PARTY_NOTICES.txt=$work/THIRD_PARTY_NOTICES-windows.txt"
"$rel" sbom -bin "$wbin/imgdiet-host.exe" -version "$version" -goos windows -goarch amd64 \
  -pkg "@img/sharp-win32-x64" -pkg-version "$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$win_deps/sharp-win32-x64/package.json")" \
  -lib "$wbin/libvips-42.dll" -versions "$win_deps/sharp-win32-x64/versions.json" -readme "$win_deps/sharp-win32-x64/README.md" \
  -time "$when" -o "$out/$wname.cdx.json"

step "Windows zip written"

# 6. The extension: store zip, unpacked zip, store listing with screenshots
# made in Chromium with the real extension and the helper built above.
"$rel" extension -src extension -version "$version" \
  -store "$out/imgdiet-extension_${version}_store.zip" -unpacked "$out/imgdiet-extension_${version}_unpacked.zip"
shots="$work/store"; mkdir -p "$shots"
# The popup pictures come from scripts/screenshots.sh (a real scan of the
# demo page in Chromium); say so when the popup changed after them.
popup_t=$(git log -1 --format=%ct -- extension/popup.html extension/popup.js extension/popup.css 2>/dev/null || echo 0)
shots_t=$(git log -1 --format=%ct -- docs/screenshots 2>/dev/null || echo 0)
[ "${shots_t:-0}" -ge "${popup_t:-0}" ] || say "warning: the popup changed after docs/screenshots/ was made: run scripts/screenshots.sh and commit"
IMGDIET_STORE_SHOTS="$shots" node --test --test-reporter=dot e2e/store-screenshots.mjs >&2
ls "$shots"/screenshots/*-scan-results-light.png "$shots/promo-440x280.png" >/dev/null || { say "the store screenshots were not made"; exit 1; }
entries=("listing.md=store/listing.md" "privacy-practices.md=store/privacy-practices.md" "privacy-policy.md=docs/privacy.md"
  "icon128.png=extension/icons/icon128.png" "promo-440x280.png=$shots/promo-440x280.png")
for f in "$shots"/screenshots/*.png; do entries+=("screenshots/$(basename "$f")=$f"); done
"$rel" zip -o "$out/imgdiet-extension_${version}_store-listing.zip" "${entries[@]}"

step "extension zips and store listing written"

# 7. Checksums of everything above.
"$rel" sums "$out"
"$rel" verify "$out" >&2
say "done in $((SECONDS - start)) s:"
(cd "$out" && ls -l --time-style=+ | awk 'NR>1 {printf "  %10d  %s\n", $5, $NF}') >&2
