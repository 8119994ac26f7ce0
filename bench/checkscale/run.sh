#!/usr/bin/env bash
# Checkers at scale, the lb daemon as a user runs it vs keepalived 2.2.7, in ONE boot of the tests/kernel VM:
# for each size (default 1,000 and 10,000 real servers) and kind (HTTP_GET, then TCP_CHECK), ROUNDS rounds of
# `lb -n -l -G -C` and `keepalived -n -l -G -C` alternating, delay_loop 1, every real server a distinct address
# (on lo of a namespace, served by bench/lib/rsd.c, which counts the checks it receives per address). After the
# table is complete and WARMUP s: a WINDOW-s window measuring checks performed, CPU (process tree), healthy real
# servers removed from IPVS (polled every second), peak RSS. Prints one markdown table per size and kind.
#
# Usage: bench/checkscale/run.sh [--sizes "1000 10000"] [--kinds "HTTP_GET TCP_CHECK"] [--rounds R] [--warmup S] [--window S]
#   defaults: rounds 1, warmup 20, window 60
# Environment: LB (lb binary; default: built by bench/lib/lb.sh), LB_BENCH_ARTIFACTS, LB_BENCH_RESULTS,
#   LB_VM_TIMEOUT (default 7200), LB_VM_MEM (default 3072).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
log() { printf '[checkscale-bench] %s\n' "$*" >&2; }
. "$repo/bench/lib/lb.sh"
sizes="1000 10000" kinds="HTTP_GET TCP_CHECK" rounds=1 warmup=20 window=60
while (($#)); do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --kinds) kinds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --window) window="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown option $1"; exit 2 ;;
  esac
done
bench_require gcc ipvsadm keepalived python3
lb="$(lb_binary)"
mkdir -p "$LB_BENCH_ARTIFACTS"
gcc -O2 -Wall -o "$LB_BENCH_ARTIFACTS/ptree" "$repo/bench/lib/ptree.c"
gcc -O2 -Wall -o "$LB_BENCH_ARTIFACTS/rsd" "$repo/bench/lib/rsd.c"
bench_results checkscale
load_before="$(uptime)"
start="$(date +%s)"
rc=0
bash "$repo/tests/kernel/vm.sh" --quiet --timeout "${LB_VM_TIMEOUT:-7200}" --results "$results" --bind "$LB_BENCH_ARTIFACTS" --bind "$(dirname "$lb")" -- \
  bash "$here/guest.sh" "$lb" "$LB_BENCH_ARTIFACTS/ptree" "$LB_BENCH_ARTIFACTS/rsd" "$sizes" "$kinds" "$rounds" "$warmup" "$window" || rc=$?
log "VM run: $(($(date +%s) - start))s, exit code $rc"
[ -s "$results/raw.txt" ] || { log "no results (see $results/vm-output.log)"; tail -n 30 "$results/vm-output.log" >&2 || true; exit 1; }
machine="$results/guest-machine.txt"
echo
echo "### Checkers at scale: \`lb -C\` vs \`keepalived -C\`, delay_loop 1 (${window} s window after the table is complete + ${warmup} s)"
for n in $sizes; do
  for kind in $kinds; do
    grep -q "@$kind-$n " "$results/raw.txt" || continue
    echo
    echo "$kind, $n real servers:"
    echo
    grep "@$kind-$n " "$results/raw.txt" | sed "s/@$kind-$n / /" | python3 "$repo/bench/lib/summarize.py" --metrics "$here/metrics.tsv"
  done
done
cat <<MD

$rounds round(s) per product, size and kind in one VM boot, alternating (first product swapped every round).
Guest: $(sed -n 's/^guest_cpu //p' "$machine"), Linux $(sed -n 's/^guest_kernel //p' "$machine") under qemu TCG;
$(sed -n 's/^keepalived //p' "$machine"); lb: $(lb_describe "$lb").
Host: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) cores; load before: ${load_before##*load average: }, after: $(uptime | sed 's/.*load average: //').
Measured $(date -u '+%Y-%m-%d %H:%M UTC'), $(( ($(date +%s) - start + 59) / 60 )) min. Reproduce (root): \`bench/checkscale/run.sh --sizes "$sizes" --kinds "$kinds" --rounds $rounds --warmup $warmup --window $window\`.

<details><summary>raw samples</summary>

\`\`\`
$(grep '^RAW' "$results/raw.txt")
\`\`\`
</details>
MD
exit "$rc"
