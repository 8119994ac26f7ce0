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

get() { awk -v n="$1" '$1 == "RESULT" && $2 == n { print $3 }' "$results/bench.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "n/a" }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v >= 1000) printf "%.2f s", v / 1000; else printf "%.0f ms", v }'; }
machine="$(cat "$results/guest-machine.txt")"
host_cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
lb="$(get lb_reconcile_empty)" lb_apply="$(get lb_apply_empty)" lb_cold="$(get lb_reconcile_empty_cold)"
ipv="$(get ipvsadm_restore_empty)" ka="$(get keepalived_start_to_full)"
entries=$((services + services * dests))

cat <<EOF

## IPVS programming ($services services × $dests destinations)

Programming $entries IPVS entries (TCP, \`wrr\`, direct routing) into an empty table, in one boot
of the \`tests/kernel\` VM (Debian's stock kernel under qemu **TCG software emulation**, so absolute
times are far slower than on hardware; the ratios are what matters). Medians of $rounds rounds, the
table flushed before each; every step verified against the kernel's table.

| what | time | vs Lb |
|---|---|---|
| Lb \`IpvsClient.ReconcileAsync\` (dump + diff + batched apply) | $(fmt "$lb") | 1.0× |
| Lb \`IpvsClient.ApplyAsync\` (batched apply of precomputed operations) | $(fmt "$lb_apply") | $(ratio "$lb_apply" "$lb") |
| Lb, first reconcile in a fresh process (JIT included) | $(fmt "$lb_cold") | $(ratio "$lb_cold" "$lb") |
| \`ipvsadm -R\` of the equivalent $entries-line rules file | $(fmt "$ipv") | $(ratio "$ipv" "$lb") |
| keepalived 2.2.7 \`--check\`, no health checkers: start until all entries are in the kernel | $(fmt "$ka") | $(ratio "$ka" "$lb") |

Changes to the full table (Lb: reconcile = dump of all $entries entries + diff + apply of the difference):

| what | time |
|---|---|
| Lb reconcile, nothing changed | $(fmt "$(get lb_reconcile_noop)") |
| Lb reconcile, 1% of destinations re-weighted ($((services * dests / 100)) edits) | $(fmt "$(get lb_reconcile_1pct_weights)") |
| Lb reconcile, 1% of services ($((services / 100 > 0 ? services / 100 : 1))) with all $dests destinations replaced | $(fmt "$(get lb_reconcile_1pct_services)") |
| \`ipvsadm -R\` of the same number of precomputed \`-e\` lines (no dump, no diff) | $(fmt "$(get ipvsadm_restore_1pct_weights)") |
| Lb dump of the table / \`ipvsadm -Sn\` | $(fmt "$(get lb_dump)") / $(fmt "$(get ipvsadm_save)") |
| keepalived reload (SIGHUP) with the same weight changes, until the kernel shows them | $(fmt "$(get keepalived_reload_1pct_weights)") |
| Lb process start until the IPVS client is open (.NET start-up and JIT) | $(fmt "$(get lb_open)") |

Machine: host CPU $host_cpu, $(nproc) cores; guest: $(sed -n 's/^guest_cpu //p' <<<"$machine"),
kernel $(sed -n 's/^guest_kernel //p' <<<"$machine") (Debian), $(sed -n 's/^ipvsadm //p' <<<"$machine"),
$(sed -n 's/^keepalived //p' <<<"$machine"), .NET SDK $(sed -n 's/^dotnet //p' <<<"$machine"). Measured $(date -u +%Y-%m-%d).

Reproduce (as root, after \`scripts/setup.sh\`): \`bench/ipvs/run.sh\` (about $(($(date +%s) - start + 30)) s here).
EOF
