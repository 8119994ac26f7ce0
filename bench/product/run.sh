#!/usr/bin/env bash
# The lb daemon as a user runs it vs keepalived 2.2.7, in ONE boot of the tests/kernel VM, alternating
# (the first product swapped every round), ROUNDS rounds each, S services x D destinations, no health checkers:
#   `lb -n -l -G -C -f CONF` / `keepalived -n -l -G -C -f CONF`: process start -> /proc/net/ip_vs holds every entry,
#   CPU (utime+stime of the whole process tree, from /proc) and RSS at that point;
#   SIGHUP with 1% of the weights changed -> the kernel shows them all;
#   SIGTERM -> empty table, and -> process exit; peak RSS (sum of VmHWM over the process tree).
# The table is checked against the configuration (ipvsadm -Sn) after start and after the reload.
# Prints a markdown table (min / median / max per product, ratio Lb/keepalived) and the raw lines.
#
# Usage: bench/product/run.sh [--services S] [--dests D] [--rounds R]   (defaults 500, 20, 5)
# Environment: LB (lb binary; default: built from this checkout by bench/lib/lb.sh), LB_BENCH_ARTIFACTS,
#   LB_BENCH_RESULTS (keep raw.txt, logs, vm-output.log there; default a temp dir), LB_VM_TIMEOUT (default 5400).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
log() { printf '[product-bench] %s\n' "$*" >&2; }
. "$repo/bench/lib/lb.sh"

services=500 dests=20 rounds=5
while (($#)); do
  case "$1" in
    --services) services="$2"; shift 2 ;;
    --dests) dests="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown option $1"; exit 2 ;;
  esac
done

bench_require gcc ipvsadm keepalived python3

lb="$(lb_binary)"
mkdir -p "$LB_BENCH_ARTIFACTS"
gcc -O2 -Wall -o "$LB_BENCH_ARTIFACTS/ptree" "$repo/bench/lib/ptree.c"

bench_results product-bench

load_before="$(uptime)"
start="$(date +%s)"
rc=0
bash "$repo/tests/kernel/vm.sh" --quiet --timeout "${LB_VM_TIMEOUT:-5400}" --results "$results" --bind "$LB_BENCH_ARTIFACTS" --bind "$(dirname "$lb")" -- \
  bash "$here/guest.sh" "$lb" "$LB_BENCH_ARTIFACTS/ptree" "$services" "$dests" "$rounds" || rc=$?
log "VM run: $(($(date +%s) - start))s, exit code $rc"
[ -s "$results/raw.txt" ] || { log "no results (see $results/vm-output.log)"; tail -n 30 "$results/vm-output.log" >&2 || true; exit 1; }

machine="$results/guest-machine.txt"
cat <<MD

### Start, reload, stop: \`lb -C\` vs \`keepalived -C\` ($services services × $dests destinations, no health checkers)

$(python3 "$repo/bench/lib/summarize.py" --metrics "$here/metrics.tsv" "$results/raw.txt")

$rounds rounds per product in one VM boot, alternating (first product swapped every round); polling every 0.1 s.
Guest: $(sed -n 's/^guest_cpu //p' "$machine"), Linux $(sed -n 's/^guest_kernel //p' "$machine") under qemu TCG;
$(sed -n 's/^keepalived //p' "$machine"); lb: $(lb_describe "$lb").
Host: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) cores; load before: ${load_before##*load average: }, after: $(uptime | sed 's/.*load average: //').
Measured $(date -u '+%Y-%m-%d %H:%M UTC'), $(( ($(date +%s) - start + 59) / 60 )) min. Reproduce (root): \`bench/product/run.sh --rounds $rounds\` (\`LB=path/to/lb\` to use a given binary).

<details><summary>raw samples</summary>

\`\`\`
$(grep '^RAW' "$results/raw.txt")
\`\`\`
</details>
MD
exit "$rc"
