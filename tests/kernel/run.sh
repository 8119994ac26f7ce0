#!/usr/bin/env bash
# The real-kernel test tier: builds the solution on the host, finds the kernel tests by attribute
# ([KernelFact]/[KernelTheory] carry the xunit trait Category=Kernel) in every test assembly, then
# boots Debian's stock kernel (IPVS as modules) once under qemu and runs, inside it, the harness
# self-test and exactly those tests. Fails when the VM ran fewer kernel tests than were found, when
# one was skipped or failed there, or when none was found.
#
# Usage: tests/kernel/run.sh [--artifacts-path DIR] [--no-build] [--results DIR] [-- DOTNET-TEST-ARGS...]
#   --artifacts-path DIR  build with `dotnet build --artifacts-path DIR` and take the test DLLs from
#                         there (env LB_KERNEL_ARTIFACTS); default: the projects' normal bin/ folders
#   --no-build            use what is already built (env LB_KERNEL_NO_BUILD=1)
#   --results DIR         keep the TRX files and the VM log in DIR (env LB_KERNEL_RESULTS);
#                         default: a temp dir, removed at exit
#   DOTNET-TEST-ARGS      passed to `dotnet test` in the VM (e.g. --logger "console;verbosity=detailed")
# Environment: LB_KERNEL_FILTER (a developer's narrowing: the run uses "Category=Kernel&(FILTER)" for
# both the discovery and the VM, so the count check covers only that subset; CI leaves it unset),
# LB_VM_TIMEOUT (default 2400 s), CI (when "true", missing prerequisites fail the run instead of
# skipping it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
log() { printf '[kernel-tests] %s\n' "$*" >&2; }

artifacts="${LB_KERNEL_ARTIFACTS:-}"
no_build="${LB_KERNEL_NO_BUILD:-0}"
results="${LB_KERNEL_RESULTS:-}"
# The trait [KernelFact]/[KernelTheory] carry (tests/TestSupport/RootFactAttribute.cs, KernelTrait).
filter="Category=Kernel"
[ -n "${LB_KERNEL_FILTER:-}" ] && filter="Category=Kernel&(${LB_KERNEL_FILTER})"
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
if ! why="$(bash "$here/kit.sh" --check)"; then missing="$why"; fi
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
if ! bash "$here/kit.sh" >/dev/null; then
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
all_dlls=() n_projects=0
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
  all_dlls+=("$dll")
  ((++n_projects))
done
((n_projects)) || { log "FAIL: no test projects under $repo/tests"; exit 1; }

tmp_results=""
# shellcheck disable=SC2317 # invoked by the trap
cleanup() { if [ -n "$tmp_results" ]; then rm -rf "$tmp_results"; fi; }
trap cleanup EXIT
if [ -z "$results" ]; then
  tmp_results="$(mktemp -d "${TMPDIR:-/tmp}/lb-kernel-tests.XXXXXX")"
  results="$tmp_results"
fi
mkdir -p "$results"
rm -rf "$results/discovery" "$results/test-results"

# One line per test result of TRX files: OUTCOME <tab> ASSEMBLY PATH <tab> Namespace.Class.Method
# (a theory's data rows are several results of one method).
trx_results() {
  awk '
    function attr(line, name) {
      if (match(line, " " name "=\"[^\"]*\"")) return substr(line, RSTART + length(name) + 3, RLENGTH - length(name) - 4)
      return ""
    }
    /<UnitTestResult / { t = attr($0, "testId"); outcome[t] = attr($0, "outcome"); order[++n] = t }
    /<UnitTest / { id = attr($0, "id") }
    /<TestMethod / { code[id] = attr($0, "codeBase"); method[id] = attr($0, "className") "." attr($0, "name") }
    END { for (i = 1; i <= n; i++) { t = order[i]; printf "%s\t%s\t%s\n", outcome[t], code[t], method[t] } }
  ' "$@"
}

# Discovery, by attribute: run the kernel-test filter over every test assembly on the host, where
# LB_KERNEL_VM is not set and every kernel test skips at once; the TRX lists what the VM must run.
# (Under emulation every test host costs tens of seconds to start, so only the assemblies found
# here go into the VM.)
disc="$results/discovery"
log "finding the kernel tests ($filter) in ${#all_dlls[@]} test assemblies on the host, where they skip"
if ! (cd "$repo" && env -u LB_KERNEL_VM dotnet test "${all_dlls[@]}" --filter "$filter" --nologo \
  --results-directory "$disc" --logger "trx;LogFileName=discovery.trx") >"$results/discovery.log" 2>&1; then
  cat "$results/discovery.log" >&2
  log "FAIL: the discovery run of the kernel tests on the host failed (output above)"
  exit 1
fi
discovered=""
if compgen -G "$disc/*.trx" >/dev/null; then discovered="$(trx_results "$disc"/*.trx | cut -f2,3 | LC_ALL=C sort -u)"; fi
n_discovered="$(printf '%s' "$discovered" | grep -c . || true)"
if ((n_discovered == 0)); then
  log "FAIL: no kernel test found ($filter): no [KernelFact]/[KernelTheory] in ${#all_dlls[@]} test assemblies${LB_KERNEL_FILTER:+, or LB_KERNEL_FILTER matches none}"
  exit 1
fi
mapfile -t dlls < <(printf '%s\n' "$discovered" | cut -f1 | sort -u)
for dll in "${dlls[@]}"; do
  log "  $(basename "$dll" .dll): $(printf '%s\n' "$discovered" | awk -F'\t' -v d="$dll" '$1 == d' | wc -l) kernel test methods"
done

binds=()
[ -n "$artifacts" ] && binds+=(--bind "$artifacts")
log "running the self-test and $n_discovered kernel test methods of ${#dlls[@]} test assemblies in the VM ($filter)"
rc=0
LB_KERNEL_FILTER="$filter" bash "$here/vm.sh" --results "$results" "${binds[@]}" -- \
  bash "$here/guest-tests.sh" "${dlls[@]}" -- "$@" || rc=$?

# The check: every discovered test method ran in the VM, and every result there passed.
ran=""
if compgen -G "$results/test-results/*.trx" >/dev/null; then ran="$(trx_results "$results"/test-results/*.trx)"; fi
count() { printf '%s' "$ran" | awk -F'\t' -v o="$1" '$1 == o' | wc -l; }
n_ran="$(printf '%s' "$ran" | grep -c . || true)"
n_passed="$(count Passed)" n_failed="$(count Failed)" n_skipped="$(count NotExecuted)"
missing="$(LC_ALL=C comm -23 <(printf '%s\n' "$discovered") <(printf '%s' "$ran" | cut -f2,3 | LC_ALL=C sort -u) | grep . || true)"
n_missing="$(printf '%s' "$missing" | grep -c . || true)"
log "kernel tests: discovered $n_discovered, ran $n_ran, passed $n_passed, failed $n_failed, skipped $n_skipped, not run $n_missing; $(($(date +%s) - t0))s in total"
verdict=0
if ((n_missing > 0)); then
  log "FAIL: $n_missing discovered kernel test(s) did not run in the VM:"
  printf '%s\n' "$missing" | cut -f2 | sed 's/^/[kernel-tests]   /' >&2
  verdict=1
fi
if ((n_ran < n_discovered)); then
  log "FAIL: the VM ran $n_ran kernel tests, fewer than the $n_discovered discovered"
  verdict=1
fi
if ((n_skipped > 0)); then
  log "FAIL: $n_skipped kernel test(s) skipped in the VM:"
  printf '%s' "$ran" | awk -F'\t' '$1 == "NotExecuted" { print "[kernel-tests]   " $3 }' >&2
  verdict=1
fi
if ((n_ran != n_passed)); then
  log "FAIL: $((n_ran - n_passed)) kernel test result(s) in the VM were not 'Passed' (see above)"
  verdict=1
fi
if [ "$rc" != 0 ]; then
  log "FAIL: the VM run exited $rc${LB_KERNEL_RESULTS:+; results in $results}"
  exit "$rc"
fi
exit "$verdict"
