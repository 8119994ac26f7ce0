#!/usr/bin/env bash
# Runs inside the tests/kernel VM (bench/checkscale/run.sh starts it). For each size N and kind (HTTP_GET,
# TCP_CHECK), ROUNDS rounds of Lb and keepalived alternating (first product swapped every round): the product
# (`-n -l -G -C -f checks.conf`) checks N real servers with delay_loop 1; N addresses on lo of the namespace
# `rs` served by rsd (bench/lib/rsd.c, counts connections and requests per address). After the table is complete
# and WARMUP s, a WINDOW-s window: checks performed (at the server), CPU of the product's process tree, real
# servers missing from IPVS or at weight 0 (polled every second), per-address check counts, peak RSS.
# Writes `RAW <product> <round> <metric>@<kind>-<n> <value>` lines to $LB_VM_RESULTS/raw.txt.
# Usage: guest.sh LB PTREE RSD "SIZES" "KINDS" ROUNDS WARMUP WINDOW
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lb="$1" ptree="$2" rsd="$3" sizes="$4" kinds="$5" rounds="$6" warmup="$7" window="$8"
out="${LB_VM_RESULTS:?run through tests/kernel/vm.sh}"
work=/tmp/checkscale
mkdir -p "$work"
raw="$out/raw.txt"
: >"$raw"
{
  echo "guest_kernel $(uname -r)"
  echo "guest_cpu $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) vCPUs, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo)"
  echo "keepalived $(keepalived --version 2>&1 | head -n1)"
  echo "lb $("$lb" --version 2>&1 | head -n1)"
} >"$out/guest-machine.txt"
cat "$out/guest-machine.txt"

dmesg -n 1 2>/dev/null || true # no kernel messages on the (slow, emulated) serial console
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000" 2>/dev/null || true
ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
healthy() { awk '$1 == "->" && $4 + 0 > 0 { n++ } END { print n + 0 }' /proc/net/ip_vs; }
rsd_pid=""
counts() { # FILE: rsd's counts at this moment
  rm -f "$work/rsd-counts"
  kill -USR1 "$rsd_pid"
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$work/rsd-counts" ] && break; sleep 0.05; done
  cp "$work/rsd-counts" "$1"
}

setup_rs() { # N KIND
  ip netns del rs 2>/dev/null || true
  ip link del cs-veth 2>/dev/null || true
  ip netns add rs
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
}

# run_one PRODUCT ROUND N KIND
run_one() {
  local prod="$1" r="$2" n="$3" kind="$4" pid t0 t1 deadline s0 s1 tag="$4-$3" log="$work/$1-$4-$3-$2.log"
  local rec
  rec() { echo "RAW $prod $r $1@$tag $2" | tee -a "$raw"; }
  ipvsadm -C
  rm -f /tmp/cs-*.pid
  t0="$(now)"
  if [ "$prod" = lb ]; then
    "$lb" -n -l -G -C -f "$work/checks.conf" >"$log" 2>&1 &
  else
    keepalived -n -l -G -C -f "$work/checks.conf" -p /tmp/cs-main.pid -r /tmp/cs-vrrp.pid -c /tmp/cs-check.pid >"$log" 2>&1 &
  fi
  pid=$!
  deadline=$(($(date +%s) + 900))
  while [ "$(healthy)" -lt "$n" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "bench: $prod exited early" >&2; tail -n 20 "$log" >&2; rec start_s failed; return 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "bench: $prod: only $(healthy) of $n healthy after 900 s; measuring anyway" >&2; rec start_s timeout; break; fi
    sleep 0.5
  done
  [ "$(date +%s)" -ge "$deadline" ] || rec start_s "$(secs "$t0" "$(now)")"
  sleep "$warmup"
  counts "$work/c0"
  s0="$("$ptree" "$pid")"
  local rm0; rm0="$(grep -c "Removing service" "$log")"
  t0="$(now)"
  local end=$(( $(date +%s) + window )) polls=0 bad_polls=0 max_missing=0 missing_s=0 m
  while [ "$(date +%s)" -lt "$end" ]; do
    m=$((n - $(healthy)))
    polls=$((polls + 1))
    if [ "$m" -gt 0 ]; then bad_polls=$((bad_polls + 1)); missing_s=$((missing_s + m)); fi
    [ "$m" -le "$max_missing" ] || max_missing=$m
    sleep 1
  done
  counts "$work/c1"
  s1="$("$ptree" "$pid")"
  t1="$(now)"
  local rm1; rm1="$(grep -c "Removing service" "$log")"
  # stop the product before the bookkeeping (forks are slow while it saturates the emulated CPUs)
  kill -TERM "$pid"
  deadline=$(($(date +%s) + 300))
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local el cpu checks
  el="$(secs "$t0" "$t1")"
  cpu="$(awk -v a="$(field cpu_s "$s0")" -v b="$(field cpu_s "$s1")" 'BEGIN { printf "%.2f", b - a }')"
  checks="$(awk 'NR == FNR { if ($1 == "total") c0 = $2; next } $1 == "total" { print $2 - c0 }' "$work/c0" "$work/c1")"
  rec window_s "$el"
  rec checks "$checks"
  rec checks_per_s "$(awk -v c="$checks" -v e="$el" 'BEGIN { printf "%.1f", c / e }')"
  rec scheduled_pct "$(awk -v c="$checks" -v e="$el" -v n="$n" 'BEGIN { printf "%.1f", 100 * c / (e * n) }')"
  rec cpu_s "$cpu"
  rec cpu_ms_per_check "$(awk -v c="$checks" -v t="$cpu" 'BEGIN { if (c > 0) printf "%.3f", 1000 * t / c; else print "NA" }')"
  # per address: checks in the window (the server's count), addresses never checked counted as 0
  awk -v n="$n" 'NR == FNR { if ($1 != "total") a[$1] = $2; next } $1 != "total" { print $2 - a[$1]; k++ }
    END { for (i = k; i < n; i++) print 0 }' "$work/c0" "$work/c1" | sort -n >"$work/per-sorted"
  echo "$(sed -n 1p "$work/per-sorted") $(sed -n "$(((n + 1) / 2))p" "$work/per-sorted") $(sed -n "$((n / 10 + 1))p" "$work/per-sorted")" >"$work/per"
  read -r amin amed ap10 <"$work/per"
  rec addr_checks_min "$amin"
  rec addr_checks_p10 "$ap10"
  rec addr_checks_median "$amed"
  rec addr_zero "$(awk '$1 == 0 { k++ } END { print k + 0 }' "$work/per-sorted")"
  rec polls "$polls"
  rec removed_max "$max_missing"
  rec removed_polls "$bad_polls"
  rec removed_rs_s "$missing_s"
  rec peak_rss_mib "$(awk -v k="$(field hwm_kib "$s1")" 'BEGIN { printf "%.1f", k / 1024 }')"
  rec removals_logged "$((rm1 - rm0))"
  rec log_lines "$(wc -l <"$log")"
  gzip -c "$log" >"$out/$(basename "$log").gz"
  ipvsadm -C
}

for n in $sizes; do
  for kind in $kinds; do
    echo "== $kind x $n ($(date -u +%T))"
    "$here/gen.sh" "$work" "$n" "$kind"
    setup_rs "$n" "$kind"
    for ((r = 1; r <= rounds; r++)); do
      if ((r % 2)); then order="lb keepalived"; else order="keepalived lb"; fi
      for p in $order; do
        echo "== $kind x $n round $r: $p ($(date -u +%T))"
        run_one "$p" "$r" "$n" "$kind"
        sleep 3
      done
    done
    kill "$rsd_pid"; wait "$rsd_pid" 2>/dev/null
    ip netns del rs; ip link del cs-veth 2>/dev/null || true
  done
done
echo "== done"
