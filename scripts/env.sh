# Sourced by the scripts: points cgo at the libvips the build uses, so that
# `go test ./...` and `go vet` link and run against the same library as bin/.
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "${IMGDIET_LIBVIPS:-bundle}" = system ]; then
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=vips_system"
else
  _deps=$(ls -d "$_root"/.deps/libvips-* 2>/dev/null | head -n1)
  if [ -z "$_deps" ] || [ ! -f "$_deps/.complete" ]; then
    "$_root/scripts/build.sh" >&2
    _deps=$(ls -d "$_root"/.deps/libvips-* | head -n1)
  fi
  _lib=$(ls -d "$_deps"/sharp-libvips-*/lib | grep -v -- -dev/ | head -n1)
  export PKG_CONFIG_LIBDIR="$_deps/pkgconfig" PKG_CONFIG_PATH=""
  export CGO_LDFLAGS="-Wl,-rpath,$_lib"
fi
export CGO_ENABLED=1
unset _root _deps _lib
