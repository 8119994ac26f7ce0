#!/usr/bin/env bash
# Diagnostic companion of guest.sh (runs inside the tests/kernel VM): ONE lb run checking N real servers of KIND
# with delay_loop 1, sampling every SAMPLE s for SECONDS s: checks performed (rsd's total), the pacer's metrics
# (lb_checker_* from --metrics), and CPU per thread name of the lb process (/proc/PID/task/*/stat, ticks
# summed by thread name) — where the time goes when checks fall behind. Not a benchmark (no keepalived beside it).
# LB_PROBE_PERF=S: then a flat perf profile (cpu-clock) of S seconds.
# Usage (host): tests/kernel/vm.sh --bind DIR_OF_LB --bind ARTIFACTS -- bash bench/checkscale/probe-guest.sh LB RSD N KIND SECONDS [SAMPLE] [ENV=VALUE...]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lb="$1" rsd="$2" n="$3" kind="$4" seconds="$5" sample="${6:-5}"
shift 5; (($#)) && shift
work=/tmp/checkscale
mkdir -p "$work"
dmesg -n 1 2>/dev/null || true
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000" 2>/dev/null || true
ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true
"$here/gen.sh" "$work" "$n" "$kind" >/dev/null; echo "== lb $* checking $n real servers by $kind"
ip netns del rs 2>/dev/null; ip link del cs-veth 2>/dev/null; ip netns add rs
ip link add cs-veth type veth peer name eth0 netns rs
ip addr add 10.99.0.1/30 dev cs-veth
ip link set cs-veth up
ip -n rs link set lo up
ip -n rs addr add 10.99.0.2/30 dev eth0
ip -n rs link set eth0 up
ip route replace 10.100.0.0/16 via 10.99.0.2
ip netns exec rs sysctl -qw net.ipv4.tcp_max_syn_backlog=65535 net.core.somaxconn=65535 2>/dev/null || true
ip -n rs -batch "$work/addrs.batch"
ip netns exec rs "$rsd" 80 "$work/rsd-counts" &
rsd_pid=$!
total() { rm -f "$work/rsd-counts"; kill -USR1 "$rsd_pid"; for ((i = 0; i < 100; i++)); do [ -s "$work/rsd-counts" ] && break; sleep 0.05; done; awk '$1 == "total" { print $2 }' "$work/rsd-counts"; }
threads() { # PID: "name ticks" per thread name (utime+stime), sorted
  for t in /proc/"$1"/task/*; do
    sed -e 's/^[0-9]* (\(.*\)) [A-Z] /\1\t/' "$t/stat" 2>/dev/null | awk -F'\t' '{ split($2, f, " "); n = $1; gsub(/ /, "_", n); print n, f[12] + f[13] }'
  done | awk '{ s[$1] += $2; c[$1]++ } END { for (k in s) print k "(" c[k] ")", s[k] }' | sort
}
env "$@" "$lb" -n -l -G -C -f "$work/checks.conf" --metrics 127.0.0.1:9977 >"$work/lb.log" 2>&1 &
pid=$!
while [ "$(awk '$1 == "->" && $4 + 0 > 0 { n++ } END { print n + 0 }' /proc/net/ip_vs)" -lt "$n" ]; do sleep 0.5; kill -0 "$pid" || exit 1; done
echo "== all $n in IPVS at $(date -u +%T)"
prev="$(total)"
threads "$pid" >"$work/t0"
t0=$(date +%s.%N)
for ((s = 0; s < seconds; s += sample)); do
  sleep "$sample"
  cur="$(total)"
  echo "== t=$((s + sample)) checks/s $(((cur - prev) / sample)) cpu $(awk '{ print $14 + $15 }' /proc/$pid/stat) ticks"
  prev=$cur
  curl -s http://127.0.0.1:9977/metrics | grep -E '^lb_checker_(delay|lag|rounds_in|late|timeouts)' | tr '\n' ' '; echo
done
threads "$pid" >"$work/t1"
if [ -n "${LB_PROBE_PERF:-}" ] && command -v perf >/dev/null; then
  # a flat CPU profile of lb for LB_PROBE_PERF seconds (software clock: no PMU under TCG; symbols from lb.dbg beside lb)
  perf record -e cpu-clock -F 200 -p "$pid" -o "$work/perf.data" -- sleep "$LB_PROBE_PERF" 2>/dev/null
  perf report -i "$work/perf.data" --stdio --no-children --sort dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -70
fi
echo "== CPU ticks by thread name over $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s:"
join -a2 -e0 -o 2.1,1.2,2.2 "$work/t0" "$work/t1" | awk '{ d = $3 - $2; if (d > 0) print d, $1 }' | sort -rn | head -20
grep -v "Adding service\|Gained quorum\|Activating\|succeed\|Shutting down\|Removing" "$work/lb.log" | head -40
kill -TERM "$pid"; wait "$pid"
kill "$rsd_pid"
wait "$rsd_pid" 2>/dev/null
ip route del 10.100.0.0/16 2>/dev/null; ip netns del rs; ip link del cs-veth 2>/dev/null || true
