#!/usr/bin/env bash
# Long run: fuzzes the parsers that read what a web page or a browser
# chose, one target after another, with `go test -fuzz`.
#
#   scripts/fuzz.sh            10 minutes per target (the release check)
#   scripts/fuzz.sh 30s        a quick pass
#   scripts/fuzz.sh 1m FuzzHandle FuzzClean   only the named targets
#
# Crashers land in <package>/testdata/fuzz/<Target>/ (go test's own place,
# replayed by every later `go test`). With KEEP_CORPUS=1 the interesting
# inputs the run found are copied there too, so the next run starts from
# them. Exits non-zero if any target fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
source scripts/env.sh

time=${1:-10m}
shift || true

# package target
all=(
  "./internal/frame FuzzRead"
  "./internal/session FuzzHandle"
  "./internal/datachan FuzzParseRequest"
  "./internal/probe FuzzRead"
  "./internal/svgclean FuzzClean"
  "./internal/fetch FuzzCheckURL"
  "./internal/fetch FuzzClassOf"
)

want() {
  [ $# -eq 0 ] && return 0
  local t
  for t in "${@:2}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}

cache=$(go env GOCACHE)/fuzz
failed=()
for entry in "${all[@]}"; do
  read -r pkg target <<<"$entry"
  want "$target" "$@" || continue
  echo "== $pkg $target for $time"
  if ! go test "$pkg" -run "^${target}\$" -fuzz "^${target}\$" -fuzztime "$time" -parallel "${FUZZ_PARALLEL:-2}"; then
    failed+=("$pkg $target")
    echo "!! $pkg $target failed; the crasher is in $pkg/testdata/fuzz/$target/"
  fi
  if [ "${KEEP_CORPUS:-0}" = 1 ]; then
    mod=$(go list -m)
    src="$cache/$mod/${pkg#./}/$target"
    if [ -d "$src" ]; then
      mkdir -p "$pkg/testdata/fuzz/$target"
      cp -n "$src"/* "$pkg/testdata/fuzz/$target/" 2>/dev/null || true
    fi
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz failures:\n'; printf '  %s\n' "${failed[@]}"
  exit 1
fi
echo "fuzz: every target ran $time without a crash"
