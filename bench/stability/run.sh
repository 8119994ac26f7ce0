#!/usr/bin/env bash
# VRRP stability under checker load, the lb daemon as a user runs it vs keepalived 2.2.7, in ONE boot of the
# tests/kernel VM (IPVS is needed: lb exits when the kernel has none, so its checkers cannot run on a host without
# IPVS). Two directors (VRRPv3, advert_int ADV, default 0.01 s): d1 priority 150 with N_TCP TCP_CHECK + N_HTTP
# HTTP_GET real servers (delay_loop 1, defaults 5,000 + 1,000, in the same process for Lb; keepalived's checkers
# run in their own child process), d2 priority 100, VRRP only. Per round, Lb and keepalived alternate; after the
# master settles, a MINUTES-minute window counts spurious transitions (logs and the wire). Prints a markdown table.
#
# Usage: bench/stability/run.sh [--minutes M] [--rounds R] [--tcp N] [--http N] [--advert S]
#   defaults: minutes 10, rounds 1, tcp 5000, http 1000, advert 0.01
# Environment: LB (lb binary; default: built by bench/lib/lb.sh), LB_BENCH_ARTIFACTS, LB_BENCH_RESULTS, LB_VM_TIMEOUT,
#   LB_STABILITY_SETTLE_MAX (s to wait for the master to settle before the window starts anyway; default 600).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
log() { printf '[stability-bench] %s\n' "$*" >&2; }
. "$repo/bench/lib/lb.sh"
minutes=10 rounds=1 ntcp=5000 nhttp=1000 adv=0.01
while (($#)); do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --tcp) ntcp="$2"; shift 2 ;;
    --http) nhttp="$2"; shift 2 ;;
    --advert) adv="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown option $1"; exit 2 ;;
  esac
done
bench_require gcc ipvsadm keepalived python3 tcpdump
lb="$(lb_binary)"
mkdir -p "$LB_BENCH_ARTIFACTS"
gcc -O2 -Wall -o "$LB_BENCH_ARTIFACTS/ptree" "$repo/bench/lib/ptree.c"
gcc -O2 -Wall -o "$LB_BENCH_ARTIFACTS/rsd" "$repo/bench/lib/rsd.c"
bench_results stability
load_before="$(uptime)"
start="$(date +%s)"
rc=0
bash "$repo/tests/kernel/vm.sh" --quiet --timeout "${LB_VM_TIMEOUT:-$((rounds * 2 * (minutes * 60 + 1200) + 600))}" --results "$results" --bind "$LB_BENCH_ARTIFACTS" --bind "$(dirname "$lb")" -- \
  bash "$here/guest.sh" "$lb" "$LB_BENCH_ARTIFACTS/ptree" "$LB_BENCH_ARTIFACTS/rsd" "$ntcp" "$nhttp" "$adv" "$minutes" "$rounds" || rc=$?
log "VM run: $(($(date +%s) - start))s, exit code $rc"
[ -s "$results/raw.txt" ] || { log "no results (see $results/vm-output.log)"; tail -n 30 "$results/vm-output.log" >&2 || true; exit 1; }
machine="$results/guest-machine.txt"
cat <<MD

### VRRP stability under checker load: VRRPv3 advert_int $adv s, $minutes-minute window, $ntcp TCP_CHECK + $nhttp HTTP_GET on the master

$(python3 "$repo/bench/lib/summarize.py" --metrics "$here/metrics.tsv" "$results/raw.txt")

$rounds round(s) per product in one VM boot (Lb and keepalived alternating, first product swapped every round); each round
starts both directors, waits until the master holds the VIP and has every real server in IPVS, then 10 s, then the window.
Guest: $(sed -n 's/^guest_cpu //p' "$machine"), Linux $(sed -n 's/^guest_kernel //p' "$machine") under qemu TCG;
$(sed -n 's/^keepalived //p' "$machine"); lb: $(lb_describe "$lb").
Host: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) cores; load before: ${load_before##*load average: }, after: $(uptime | sed 's/.*load average: //').
Measured $(date -u '+%Y-%m-%d %H:%M UTC'), $(( ($(date +%s) - start + 59) / 60 )) min. Reproduce (root): \`bench/stability/run.sh --minutes $minutes --rounds $rounds --tcp $ntcp --http $nhttp --advert $adv\`.

<details><summary>raw samples</summary>

\`\`\`
$(grep '^RAW' "$results/raw.txt")
\`\`\`
</details>
MD
exit "$rc"
