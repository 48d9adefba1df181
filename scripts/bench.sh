#!/usr/bin/env bash
# Benchmarks Image Diet beside sharp 0.35 and Lighthouse 12.8.2 and writes
# docs/benchmarks.md. One command: installs what it lacks (apt: butteraugli,
# chromium; npm: bench/'s own sharp and lighthouse), builds the host into
# .deps/bench-bin/, fetches a corpus of real photographs from Debian
# wallpaper packages into .deps/bench-corpus/ (never committed), and runs
# every section in one process (bench/run.mjs). About 30 minutes on 2 cores.
#
# Environment: BENCH_ROUNDS (per-operation repetitions, default 2, odd
# numbers rounded up),
# BENCH_SOAK_IMAGES (default 1000), BENCH_SOAK_WIDTH (default 320),
# BENCH_PAGE_ROUNDS (default 1), BENCH_CLI_ROUNDS (default 4), BENCH_VARIANT_ROUNDS
# (default 1: one scan without and one with settings.variants),
# BENCH_CORPUS (a corpus already built, same layout as .deps/bench-corpus:
# src/ and web/; used as it is, never fetched or deleted), BENCH_BASE (a
# commit, e.g. d30b185: the search-overhead section also measures that
# commit's final pass, and section qualitybase that commit's engine on the
# bytes corpus, both built from `git archive` into .deps/). Arguments are
# passed to run.mjs, e.g.
# `scripts/bench.sh --only startup,perop` reruns some sections and keeps the
# others' last numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/env.sh

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "bench.sh: please install: $*" >&2
    exit 1
  fi
  apt-get install -y "$@" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$@" >/dev/null; }
}
command -v butteraugli >/dev/null || apt_install butteraugli
[ -x /usr/bin/chromium ] || apt_install chromium
command -v node >/dev/null || apt_install nodejs npm

# bench/ has its own package.json so sharp and lighthouse never enter the
# project's dependencies. A link (a worktree sharing another checkout's
# install) is left alone: npm ci would empty the directory it points to.
if [ -L bench/node_modules ]; then
  [ -f bench/node_modules/sharp/package.json ] || { echo "bench.sh: bench/node_modules links to an install without sharp" >&2; exit 1; }
elif [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
fi
sharp_vips=$(cd bench && node -e 'console.log(require("sharp").versions.vips)')
case "$sharp_vips" in
  8.18.*) ;;
  *) echo "bench.sh: sharp uses libvips $sharp_vips, not 8.18.x like the host; the comparison would be unfair" >&2; exit 1 ;;
esac

# The host and the Go side of the benchmark, built from the working tree.
bin="$root/.deps/bench-bin"
IMGDIET_BIN="$bin" scripts/build.sh
go build -trimpath -o "$bin/enginebench" ./bench/enginebench
go build -trimpath -o "$bin/finalpass" ./bench/finalpass
base_args=()
if [ -n "${BENCH_BASE:-}" ]; then
  # bench/finalpass uses only the engine API that commit already had.
  commit=$(git rev-parse --short "$BENCH_BASE^{commit}")
  if [ ! -x "$bin/finalpass-$commit" ] || [ ! -x "$bin/enginebench-$commit" ]; then
    base="$root/.deps/bench-base-$commit"
    rm -rf "$base" && mkdir -p "$base"
    git archive "$commit" | tar -x -C "$base"
    rm -rf "$base/bench/finalpass" && cp -r bench/finalpass "$base/bench/"
    (cd "$base" && go build -trimpath -o "$bin/finalpass-$commit" ./bench/finalpass \
      && go build -trimpath -o "$bin/enginebench-$commit" ./bench/enginebench)
  fi
  base_args=(--finalpass-base "$bin/finalpass-$commit" --enginebench-base "$bin/enginebench-$commit")
fi

# Corpus: photographs shipped in Debian wallpaper packages.
corpus="${BENCH_CORPUS:-$root/.deps/bench-corpus}"
if [ -n "${BENCH_CORPUS:-}" ]; then
  [ -d "$corpus/src" ] || { echo "bench.sh: BENCH_CORPUS=$corpus has no src/" >&2; exit 1; }
elif [ ! -f "$corpus/.complete" ]; then
  rm -rf "$corpus" && mkdir -p "$corpus/debs" "$corpus/src"
  pkgs="lomiri-wallpapers-20.04 lomiri-wallpapers-16.04 lomiri-wallpapers mate-backgrounds"
  (cd "$corpus/debs" && { apt-get download $pkgs 2>/dev/null || { apt-get update >/dev/null && apt-get download $pkgs; }; })
  for d in "$corpus"/debs/*.deb; do dpkg-deb -x "$d" "$corpus/src"; done
  rm -rf "$corpus/debs"
  touch "$corpus/.complete"
fi

export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
# The command as run, with the settings that change the numbers.
settings=""
for v in BENCH_ROUNDS BENCH_PAGE_ROUNDS BENCH_VARIANT_ROUNDS BENCH_SOAK_IMAGES BENCH_SOAK_WIDTH BENCH_CLI_ROUNDS BENCH_BASE BENCH_CORPUS; do
  if [ -n "${!v:-}" ]; then settings+="$v=${!v} "; fi
done
export BENCH_COMMAND="${settings}scripts/bench.sh${*:+ $*}"
cd bench
exec node run.mjs --root "$root" --host "$bin/imgdiet-host" --enginebench "$bin/enginebench" --finalpass "$bin/finalpass" \
  --corpus "$corpus" ${base_args[@]+"${base_args[@]}"} "$@"
