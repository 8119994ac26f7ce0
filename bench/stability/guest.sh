#!/usr/bin/env bash
# Runs inside the tests/kernel VM (bench/stability/run.sh starts it). Two directors on a bridge, d1 10.0.0.2
# (priority 150, VRRPv3, advert_int ADV, plus N_TCP TCP_CHECK and N_HTTP HTTP_GET real servers, delay_loop 1)
# and d2 10.0.0.3 (priority 100, VRRP only); real servers on lo of `rs` 10.0.0.9 (bench/lib/rsd.c); an observer
# `obs` captures VRRP. Per round, Lb then keepalived (swapped every round) run on both directors; once d1 holds the
# VIP and every real server is in d1's IPVS table, a MINUTES-minute window counts spurious transitions: state
# lines in both logs ("Entering MASTER/BACKUP/FAULT STATE"), d2's adverts on the wire and the episodes they form,
# and the longest gap between d1's adverts. Writes `RAW <product> <round> <metric> <value>` to raw.txt.
# Usage: guest.sh LB PTREE RSD N_TCP N_HTTP ADV MINUTES ROUNDS
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lb="$1" ptree="$2" rsd="$3" ntcp="$4" nhttp="$5" adv="$6" minutes="$7" rounds="$8"
out="${LB_VM_RESULTS:?run through tests/kernel/vm.sh}"
work=/tmp/stability
mkdir -p "$work"
raw="$out/raw.txt"
: >"$raw"
VIP=10.0.0.100
n=$((ntcp + nhttp))
{
  echo "guest_kernel $(uname -r)"
  echo "guest_cpu $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) vCPUs, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo)"
  echo "keepalived $(keepalived --version 2>&1 | head -n1)"
  echo "lb $("$lb" --version 2>&1 | head -n1)"
} >"$out/guest-machine.txt"
cat "$out/guest-machine.txt"
dmesg -n 1 2>/dev/null || true
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

vrrp_block() { # router_id priority
  cat <<C
global_defs {
  router_id $1
  vrrp_garp_master_delay 1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $2
  advert_int $adv
  version 3
  virtual_ipaddress {
    $VIP/24 dev eth0
  }
}
C
}
vrrp_block d1 150 >"$work/pre-d1"
"$here/../checkscale/gen.sh" "$work" "$ntcp" TCP_CHECK "$nhttp" HTTP_GET "$work/pre-d1"
cp "$work/checks.conf" "$work/d1.conf"
vrrp_block d2 100 >"$work/d2.conf"

for ns in sw d1 d2 rs obs; do ip netns del "$ns" 2>/dev/null || true; done
ip netns add sw
ip -n sw link add br0 type bridge
ip -n sw link set br0 up
for ns in d1 d2 rs obs; do
  case $ns in d1) a=10.0.0.2 ;; d2) a=10.0.0.3 ;; rs) a=10.0.0.9 ;; obs) a=10.0.0.50 ;; esac
  ip netns add "$ns"
  ip -n sw link add "p-$ns" type veth peer name eth0 netns "$ns"
  ip -n sw link set "p-$ns" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$a/24" dev eth0
  ip -n "$ns" link set eth0 up
done
ip -n d1 route add 10.100.0.0/16 via 10.0.0.9
ip netns exec d1 sysctl -qw net.ipv4.tcp_tw_reuse=1 2>/dev/null || true
ip -n rs -batch "$work/addrs.batch"
ip netns exec rs "$rsd" 80 "$work/rsd-counts" &
rsd_pid=$!
ip netns exec obs tcpdump -i eth0 -n -tt -l vrrp >"$work/capture.txt" 2>"$work/tcpdump.err" &
tcpdump_pid=$!
trap 'kill $rsd_pid $tcpdump_pid 2>/dev/null' EXIT

has_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q "inet $VIP/"; }
healthy() { ip netns exec d1 awk '$1 == "->" && $4 + 0 > 0 { n++ } END { print n + 0 }' /proc/net/ip_vs; }
present() { ip netns exec d1 awk '$1 == "->" { n++ } END { print n + 0 }' /proc/net/ip_vs; }
settle_max="${LB_STABILITY_SETTLE_MAX:-600}"
states() { awk '/Entering (MASTER|BACKUP|FAULT) STATE/ { n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0; }

# start PRODUCT NS CONF: sets started_pid (the process to signal: lb, or keepalived's parent). Not called in $( ):
# the process must stay this shell's child (waited for, never a zombie that kill -0 still sees).
start() {
  local prod="$1" ns="$2" conf="$3"
  rm -f "/tmp/st-$ns-"*.pid
  if [ "$prod" = lb ]; then
    ip netns exec "$ns" "$lb" -n -l -G -f "$conf" --journal "$work/$ns.jsonl" >"$work/$prod-$ns.log" 2>&1 &
  else
    ip netns exec "$ns" keepalived -n -l -G -f "$conf" -p "/tmp/st-$ns-main.pid" -r "/tmp/st-$ns-vrrp.pid" -c "/tmp/st-$ns-check.pid" >"$work/$prod-$ns.log" 2>&1 &
  fi
  started_pid=$!
}
stop() {
  kill -TERM "$1" 2>/dev/null
  local d=$(($(date +%s) + 120))
  while kill -0 "$1" 2>/dev/null && [ "$(date +%s)" -lt "$d" ]; do sleep 0.5; done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

run_one() { # PRODUCT ROUND
  local prod="$1" r="$2" p1 p2 t0 t1 d
  rec() { echo "RAW $prod $r $1 $2" | tee -a "$raw"; }
  for ns in d1 d2; do ip netns exec "$ns" ipvsadm -C 2>/dev/null; ip -n "$ns" addr del "$VIP/24" dev eth0 2>/dev/null; done
  start "$prod" d2 "$work/d2.conf"; p2=$started_pid
  sleep 1
  t0="$(now)"
  start "$prod" d1 "$work/d1.conf"; p1=$started_pid
  # settled: d1 alone holds the VIP and every real server is in d1's IPVS table (at any weight: a product that
  # fails healthy servers under this load must not keep the window from starting; the removals are its own figure)
  d=$(($(date +%s) + settle_max))
  until has_vip d1 && ! has_vip d2 && [ "$(present)" -ge "$n" ]; do
    if [ "$(date +%s)" -ge "$d" ]; then echo "bench: $prod: not settled after $settle_max s (VIP d1: $(has_vip d1 && echo y), in IPVS $(present)/$n); measuring anyway" >&2; rec settle_s timeout; break; fi
    sleep 1
  done
  [ "$(date +%s)" -ge "$d" ] || rec settle_s "$(secs "$t0" "$(now)")"
  sleep 10
  local s1a s2a c0 l0 l1 ww
  s1a="$(states "$work/$prod-d1.log")" s2a="$(states "$work/$prod-d2.log")"
  t0="$(now)"
  sleep "$((minutes * 60))"
  t1="$(now)"
  rec window_s "$(secs "$t0" "$t1")"
  rec d1_state_changes "$(($(states "$work/$prod-d1.log") - s1a))"
  rec d2_state_changes "$(($(states "$work/$prod-d2.log") - s2a))"
  rec d1_holds_vip_at_end "$(has_vip d1 && echo 1 || echo 0)"
  rec d1_healthy_at_end "$(healthy)"
  # the wire: d2's adverts in the window, the episodes they form (a gap of > 1 s starts a new one), d1's advert gaps
  awk -v a="$t0" -v b="$t1" -v adv="$adv" '$1 >= a && $1 <= b && / 10\.0\.0\.3 > 224\.0\.0\.18/ { n2++; if ($1 - last2 > 1) ep++; last2 = $1 }
      $1 >= a && $1 <= b && / 10\.0\.0\.2 > 224\.0\.0\.18/ { n1++; if (last1 && $1 - last1 > gap) gap = $1 - last1; if (last1 && $1 - last1 > 3 * adv) late++; last1 = $1 }
      END { printf "%d %d %d %.1f %d\n", n1, n2, ep, gap * 1000, late }' "$work/capture.txt" >"$work/wire"
  read -r n1 n2 ep gap late <"$work/wire"
  rec d1_adverts "$n1"
  rec d2_adverts "$n2"
  rec d2_master_episodes "$ep"
  rec d1_max_advert_gap_ms "$gap"
  rec d1_gaps_over_3_intervals "$late"
  local s; s="$("$ptree" "$p1")"
  rec d1_peak_rss_mib "$(awk -v k="$(field hwm_kib "$s")" 'BEGIN { printf "%.1f", k / 1024 }')"
  rec d1_cpu_s_total "$(field cpu_s "$s")"
  stop "$p1"; stop "$p2"
  for ns in d1 d2; do gzip -c "$work/$prod-$ns.log" >"$out/$prod-$ns-$r.log.gz"; done
}

for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order="lb keepalived"; else order="keepalived lb"; fi
  for p in $order; do
    echo "== round $r: $p ($(date -u +%T))"
    run_one "$p" "$r"
    sleep 3
  done
done
kill "$tcpdump_pid" 2>/dev/null; sleep 0.5
gzip -c "$work/capture.txt" >"$out/capture.txt.gz"
echo "== done"
