# Sourced by the bench/*/run.sh scripts: the one place that decides which lb binary a benchmark runs.
#   LB=/path/to/lb        use that binary as it is (e.g. a `dotnet publish` / NativeAOT output)
#   (unset)               build src/Lb from this checkout with LB_BUILD_CMD into LB_BENCH_ARTIFACTS
# lb_binary prints the path of the lb executable (build output on stderr).
bench_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LB_BENCH_ARTIFACTS="${LB_BENCH_ARTIFACTS:-/tmp/lb-bench-art}"

lb_binary() {
  if [ -n "${LB:-}" ]; then
    [ -x "$LB" ] || { echo "LB=$LB is not an executable" >&2; return 2; }
    (cd "$(dirname "$LB")" && echo "$(pwd -P)/$(basename "$LB")")
    return 0
  fi
  # The build step: lb as users get it, the NativeAOT executable `dotnet publish` makes.
  local out="$LB_BENCH_ARTIFACTS/lb"
  echo "[bench] building lb: dotnet publish src/Lb -c Release -o $out" >&2
  (cd "$bench_repo" && dotnet publish src/Lb -c Release --nologo -v q --artifacts-path "$LB_BENCH_ARTIFACTS" -o "$out") >&2 || return 1
  [ -x "$out/lb" ] || { echo "no lb executable in $out" >&2; return 1; }
  echo "$(git -C "$bench_repo" rev-parse --short HEAD)$(git -C "$bench_repo" diff --quiet HEAD -- src || echo '+changes'), dotnet publish -c Release (NativeAOT)" >"$out/.bench-build"
  echo "$out/lb"
}

# lb_describe BINARY: one line naming the build for the report (the source commit when bench/lib/lb.sh built it:
# .bench-build beside the binary).
lb_describe() {
  local how="given by LB"
  [ -f "$(dirname "$1")/.bench-build" ] && how="built from $(cat "$(dirname "$1")/.bench-build")"
  echo "$("$1" --version 2>/dev/null | head -n1) — $1 ($how)"
}

# bench_require TOOL...: exits 2 naming what is missing (the kernel kit and each tool), as every VM benchmark starts.
bench_require() {
  local missing="" why t
  why="$(bash "$bench_repo/tests/kernel/kit.sh" --check)" || missing="$why"
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$t" >/dev/null 2>&1 || missing="${missing:+$missing; }$t"
  done
  [ -z "$missing" ] || { echo "cannot run: $missing (run scripts/setup.sh)" >&2; exit 2; }
}

# bench_results NAME: sets $results to LB_BENCH_RESULTS or a scratch directory removed at exit (absolute path).
bench_results() {
  bench_tmp=""
  trap '[ -z "$bench_tmp" ] || rm -rf "$bench_tmp"' EXIT
  results="${LB_BENCH_RESULTS:-}"
  if [ -z "$results" ]; then bench_tmp="$(mktemp -d "${TMPDIR:-/tmp}/lb-$1.XXXXXX")"; results="$bench_tmp"; fi
  mkdir -p "$results"
  results="$(cd "$results" && pwd -P)"
}
