#!/usr/bin/env bash
# IPVS programming benchmark (not a test): in one boot of the tests/kernel VM, programs S services
# x D destinations (TCP, wrr, direct routing) from an empty table three ways — Lb's batched client
# (bench/ipvs/IpvsBench), `ipvsadm -R`, keepalived's checker process without health checkers — and
# times Lb's reconcile of a 1% change. Prints a markdown section for docs/benchmarks.md.
#
# Usage: bench/ipvs/run.sh [--services S] [--dests D] [--rounds R]   (defaults 500, 20, 3)
# Environment: LB_BENCH_ARTIFACTS (dotnet --artifacts-path for IpvsBench; default <repo>/artifacts/bench),
#   LB_BENCH_RESULTS (keep the raw results and logs there; default a temp dir), LB_VM_TIMEOUT.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
log() { printf '[ipvs-bench] %s\n' "$*" >&2; }

services=500 dests=20 rounds=3
while (($#)); do
  case "$1" in
    --services) services="$2"; shift 2 ;;
    --dests) dests="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown option $1"; exit 2 ;;
  esac
done

missing=""
why="$("$repo/tests/kernel/kit.sh" --check)" || missing="$why"
for t in dotnet ipvsadm keepalived; do
  command -v "$t" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$t" >/dev/null 2>&1 || missing="${missing:+$missing; }$t"
done
[ -z "$missing" ] || { log "cannot run: $missing (run scripts/setup.sh)"; exit 2; }

artifacts="${LB_BENCH_ARTIFACTS:-$repo/artifacts/bench}"
log "building IpvsBench (artifacts in $artifacts)"
dotnet build "$here/IpvsBench/IpvsBench.csproj" -c Release -nologo -v q --artifacts-path "$artifacts" >&2
dll="$(find "$artifacts/bin/IpvsBench" -name IpvsBench.dll -not -path '*/ref/*' | head -n1)"
[ -n "$dll" ] || { log "IpvsBench.dll not found under $artifacts"; exit 1; }

tmp=""
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
results="${LB_BENCH_RESULTS:-}"
if [ -z "$results" ]; then tmp="$(mktemp -d "${TMPDIR:-/tmp}/lb-ipvs-bench.XXXXXX")"; results="$tmp"; fi
mkdir -p "$results"

start="$(date +%s)"
"$repo/tests/kernel/vm.sh" --results "$results" --bind "$artifacts" -- \
  "$here/guest.sh" "$dll" "$services" "$dests" "$rounds"
log "VM run: $(($(date +%s) - start))s"

# RESULT <name> <min ms> <median ms> <note>
get() { awk -v n="$1" -v f="${2:-3}" '$1 == "RESULT" && $2 == n { print $f; exit }' "$results/bench.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f×", a / b; else print "n/a" }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else if (v >= 1000) printf "%.2f s", v / 1000; else printf "%.0f ms", v }'; }
row() { # <label> <result> [<baseline result>]
  local best med
  best="$(get "$2" 3)" med="$(get "$2" 4)"
  if [ -n "${3:-}" ]; then
    printf '| %s | %s | %s | %s |\n' "$1" "$(fmt "$best")" "$(fmt "$med")" "$(ratio "$best" "$(get "$3" 3)")"
  else
    printf '| %s | %s | %s |\n' "$1" "$(fmt "$best")" "$(fmt "$med")"
  fi
}
machine="$(cat "$results/guest-machine.txt")"
host_cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
entries=$((services + services * dests))
pct=$((services * dests / 100))
pct_services=$((services / 100 > 0 ? services / 100 : 1))

cat <<EOF

## IPVS library calls ($services services × $dests destinations) — not the lb daemon's figures

These rows time Lb's netlink client (\`src/Netlink\`) called from a benchmark program, not the \`lb\` daemon;
for the daemon as a user runs it, side by side with keepalived, see \`bench/product\`.

Programming $entries IPVS entries (TCP, \`wrr\`, direct routing) into an empty table, in one boot
of the \`tests/kernel\` VM: Debian's stock kernel under qemu **TCG software emulation** on a
shared 2-core machine, so absolute times are far slower than on hardware and noisy; compare the
ratios. $rounds rounds each, the table flushed before each; the best round is the least disturbed
one, and the ratio uses it. Every Lb step is verified against a dump of the kernel's table, every
other step by counting \`ipvsadm -Sn\` lines.

| from an empty table | best | median | vs Lb |
|---|---|---|---|
$(row "Lb \`IpvsClient.ReconcileAsync\` (dump + diff + batched apply)" lb_reconcile_empty lb_reconcile_empty)
$(row "Lb \`IpvsClient.ApplyAsync\` (batched apply of precomputed operations)" lb_apply_empty lb_reconcile_empty)
$(row "Lb, first reconcile in a fresh process (JIT included; one sample)" lb_reconcile_empty_cold lb_reconcile_empty)
$(row "\`ipvsadm -R\` of the equivalent $entries-line rules file" ipvsadm_restore_empty lb_reconcile_empty)
$(row "keepalived \`-n -l -G --check\`, no health checkers: start until all entries are in the kernel (a whole daemon: not comparable with the library-call rows above; see bench/product)" keepalived_start_to_full)

| a 1% change to the full table | best | median |
|---|---|---|
$(row "Lb reconcile, $pct destination weights changed (dump of all $entries entries + diff + $pct edits)" lb_reconcile_1pct_weights)
$(row "Lb reconcile, $pct_services services with all $dests destinations replaced ($((pct_services * dests * 2)) operations)" lb_reconcile_1pct_services)
$(row "Lb reconcile, nothing changed (dump + diff)" lb_reconcile_noop)
$(row "\`ipvsadm -R\` of $pct precomputed \`-e\` lines (no dump, no diff)" ipvsadm_restore_1pct_weights)
$(row "keepalived reload (SIGHUP) with the same $pct weights changed, until the kernel shows them all" keepalived_reload_1pct_weights)

| other | best | median |
|---|---|---|
$(row "Lb dump of the table (\`IpvsClient.DumpAsync\`)" lb_dump)
$(row "\`ipvsadm -Sn\` of the table" ipvsadm_save)
$(row "Lb process start until the IPVS client is open (.NET start-up and JIT; one sample)" lb_open)
$(row "keepalived SIGTERM until exited (removes its $entries entries)" keepalived_shutdown)

Machine: host $host_cpu, $(nproc) cores, shared with other jobs; guest: $(sed -n 's/^guest_cpu //p' <<<"$machine"),
3 GiB, Linux $(sed -n 's/^guest_kernel //p' <<<"$machine") (Debian's package), $(sed -n 's/^ipvsadm //p' <<<"$machine"),
$(sed -n 's/^keepalived //p' <<<"$machine"), .NET SDK $(sed -n 's/^dotnet //p' <<<"$machine"). Measured $(date -u +%Y-%m-%d).

Reproduce (as root, after \`scripts/setup.sh\`): \`bench/ipvs/run.sh\` (options \`--services\`,
\`--dests\`, \`--rounds\`; about $(( ($(date +%s) - start + 59) / 60 )) minutes here). Set
\`LB_BENCH_RESULTS=DIR\` to keep the raw \`bench.txt\` and the logs.
EOF
