#!/usr/bin/env bash
# The real-kernel test tier: builds the solution on the host, then boots Debian's stock kernel
# (IPVS as modules) once under qemu and runs, inside it, the harness self-test and every xunit test
# whose fully-qualified name contains "KernelTests" (the [KernelFact] tests) from every test project.
#
# Usage: tests/kernel/run.sh [--artifacts-path DIR] [--no-build] [--results DIR] [-- DOTNET-TEST-ARGS...]
#   --artifacts-path DIR  build with `dotnet build --artifacts-path DIR` and take the test DLLs from
#                         there (env LB_KERNEL_ARTIFACTS); default: the projects' normal bin/ folders
#   --no-build            use what is already built (env LB_KERNEL_NO_BUILD=1)
#   --results DIR         keep the TRX files and the VM log in DIR (env LB_KERNEL_RESULTS);
#                         default: a temp dir, removed at exit
#   DOTNET-TEST-ARGS      passed to `dotnet test` in the VM (e.g. --logger "console;verbosity=detailed")
# Environment: LB_KERNEL_FILTER (default FullyQualifiedName~KernelTests), LB_VM_TIMEOUT (default
# 2400 s), CI (when "true", missing prerequisites fail the run instead of skipping it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
log() { printf '[kernel-tests] %s\n' "$*" >&2; }

artifacts="${LB_KERNEL_ARTIFACTS:-}"
no_build="${LB_KERNEL_NO_BUILD:-0}"
results="${LB_KERNEL_RESULTS:-}"
filter="${LB_KERNEL_FILTER:-FullyQualifiedName~KernelTests}"
while (($#)); do
  case "$1" in
    --artifacts-path) artifacts="$2"; shift 2 ;;
    --no-build) no_build=1; shift ;;
    --results) results="$2"; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown option $1 (see --help)"; exit 2 ;;
  esac
done

# Prerequisites: skip on a developer machine, fail in CI.
missing=""
if ! why="$("$here/kit.sh" --check)"; then missing="$why"; fi
command -v dotnet >/dev/null 2>&1 || missing="${missing:+$missing; }dotnet (the .NET SDK)"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = true ]; then
    log "FAIL: the real-kernel tier cannot run: $missing (run scripts/setup.sh)"
    exit 1
  fi
  log "SKIP: the real-kernel tier needs: $missing (run scripts/setup.sh; CI=true makes this a failure)"
  exit 0
fi

t0="$(date +%s)"
# Fetch/build the kernel kit first: a network problem shows up before the (long) build.
if ! "$here/kit.sh" >/dev/null; then
  if [ "${CI:-}" = true ]; then log "FAIL: cannot prepare the kernel kit (see above)"; exit 1; fi
  log "SKIP: cannot prepare the kernel kit (see above; no network?); CI=true makes this a failure"
  exit 0
fi

build_args=(-c Release -nologo -v q)
[ -n "$artifacts" ] && build_args+=(--artifacts-path "$artifacts")
if [ "$no_build" != 1 ]; then
  log "building Lb.sln (Release${artifacts:+, artifacts in $artifacts})"
  (cd "$repo" && dotnet build Lb.sln "${build_args[@]}") >&2
fi

# The test assemblies: every tests/*/*.csproj that is a test project.
dlls=() no_kernel_tests=() n_projects=0
for proj in "$repo"/tests/*/*.csproj; do
  grep -q -E '<IsTestProject>true</IsTestProject>|Microsoft\.NET\.Test\.Sdk' "$proj" || continue
  name="$(basename "$proj" .csproj)"
  asm="$(sed -n 's:.*<AssemblyName>\(.*\)</AssemblyName>.*:\1:p' "$proj" | head -n1)"
  asm="${asm:-$name}"
  if [ -n "$artifacts" ]; then search="$artifacts/bin/$name"; else search="$(dirname "$proj")/bin/Release"; fi
  dll="$(find "$search" -name "$asm.dll" -not -path '*/ref/*' -not -path '*/refint/*' -printf '%T@ %p\n' 2>/dev/null |
    sort -rn | awk 'NR == 1 { print $2 }')"
  if [ -z "$dll" ] || [ ! -f "${dll%.dll}.runtimeconfig.json" ]; then
    log "error: no built $asm.dll under $search (build first, or drop --no-build)"
    exit 1
  fi
  # Under emulation every test host costs tens of seconds to start, so only assemblies that
  # contain a *KernelTests type (its name is in the metadata string heap) go into the VM.
  if LC_ALL=C grep -q -a 'KernelTests' "$dll"; then dlls+=("$dll"); else no_kernel_tests+=("$asm"); fi
  ((++n_projects))
done
((n_projects)) || { log "error: no test projects under $repo/tests"; exit 1; }
if ((${#no_kernel_tests[@]})); then log "no *KernelTests in ${no_kernel_tests[*]}"; fi

tmp_results=""
# shellcheck disable=SC2317 # invoked by the trap
cleanup() { if [ -n "$tmp_results" ]; then rm -rf "$tmp_results"; fi; }
trap cleanup EXIT
if [ -z "$results" ]; then
  tmp_results="$(mktemp -d "${TMPDIR:-/tmp}/lb-kernel-tests.XXXXXX")"
  results="$tmp_results"
fi
mkdir -p "$results"

binds=()
[ -n "$artifacts" ] && binds+=(--bind "$artifacts")
log "running the self-test and the kernel tests of ${#dlls[@]} test assemblies in the VM (filter $filter)"
# guest-tests.sh runs only the self-test when there is no assembly with kernel tests.
rc=0
LB_KERNEL_FILTER="$filter" "$here/vm.sh" --results "$results" "${binds[@]}" -- \
  "$here/guest-tests.sh" "${dlls[@]}" -- "$@" || rc=$?

# Summary from the TRX files.
total=0 passed=0 failed=0 skipped=0
for trx in "$results"/test-results/*.trx; do
  [ -f "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
  get() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(get total || echo 0))); passed=$((passed + $(get passed || echo 0)))
  failed=$((failed + $(get failed || echo 0))); skipped=$((skipped + $(get notExecuted || echo 0)))
done
log "kernel tests: $total run, $passed passed, $failed failed, $skipped skipped; $(($(date +%s) - t0))s in total"
if [ "$rc" != 0 ]; then
  log "FAILED (exit $rc)${LB_KERNEL_RESULTS:+; results in $results}"
fi
exit "$rc"
