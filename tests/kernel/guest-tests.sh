#!/usr/bin/env bash
# Runs inside the VM (run.sh starts it through vm.sh): the harness self-test, then the kernel tests.
# Usage: guest-tests.sh TEST.dll... [-- DOTNET-TEST-ARGS...]
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dlls=()
while (($#)) && [ "$1" != "--" ]; do dlls+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift

rc=0
t0="$(date +%s.%N)"
bash "$here/selftest.sh" --guest || rc=1
t1="$(date +%s.%N)"
echo "[kernel-tests] self-test: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")s"

# vstest exits 0 when no test matches the filter: run.sh compares the TRX with the tests it found on
# the host and fails when any is missing or skipped here. LB_KERNEL_TEST_HANG_TIMEOUT (e.g. 10m) turns on vstest's hang blame, which
# kills and names a hung test; it is off by default because the blame collector made the run
# ~2.5x slower under emulation (a hang then ends in vm.sh's overall timeout).
if ((${#dlls[@]} == 0)); then
  echo "[kernel-tests] no test assembly given; only the self-test ran"
  exit "$rc"
fi
out="${LB_VM_RESULTS:-/tmp}/test-results"
# Tiered PGO's instrumentation roughly doubles the JIT-heavy start-up of the test hosts under TCG.
export DOTNET_TieredPGO=0
blame=()
if [ -n "${LB_KERNEL_TEST_HANG_TIMEOUT:-}" ]; then
  blame=(--blame-hang-timeout "$LB_KERNEL_TEST_HANG_TIMEOUT" --blame-hang-dump-type none)
fi
dotnet test "${dlls[@]}" --filter "${LB_KERNEL_FILTER:-Category=Kernel}" \
  --results-directory "$out" --logger "trx" --logger "console;verbosity=normal" "${blame[@]}" "$@" || rc=1
echo "[kernel-tests] dotnet test: $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t1 }")s"
exit "$rc"
