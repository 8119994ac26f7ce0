#!/usr/bin/env bash
# The active-active lab of issue 15 in shell, for tests/kernel/bench-ecmp.sh (the xunit lab is
# tests/Lb.Tests/EndToEnd/Ecmp/EcmpLab.cs; both template examples/frr/*.frr.conf the same way).
#
#   client 203.0.113.2 --- 203.0.113.1 router 192.0.2.1 --- bridge --- directors 192.0.2.11..13 (lb + zebra + bgpd [+ bfdd])
#                                                                  \-- DR web servers 192.0.2.21..23 (VIP on lo)
# VIP 198.51.100.10. Source it; functions: ecm_up, ecm_frr_start NS NAME CONF, ecm_down. Namespaces: $ECM-*.
ECM=${ECM:-ecm}
ECM_DIR=${ECM_DIR:-/tmp/$ECM-lab}
ECM_REPO=${ECM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ECM_VIP=198.51.100.10
ECM_DIRECTORS=(d1 d2 d3)
ECM_WEBS=(w1 w2 w3)

ecm_ns() { echo "$ECM-$1"; }
ecm_ip() { # name -> its address on the segment
  case $1 in rt) echo 192.0.2.1 ;; d?) echo "192.0.2.1${1#d}" ;; w?) echo "192.0.2.2${1#w}" ;; cl) echo 203.0.113.2 ;; esac
}

ecm_plug() { # name: a namespace with eth0 on the bridge
  local ns; ns=$(ecm_ns "$1")
  ip netns add "$ns"; ip -n "$ns" link set lo up
  ip -n "$ECM-sw" link add "$ECM$1" type veth peer name eth0 netns "$ns"
  ip -n "$ECM-sw" link set "$ECM$1" master br0 up
  ip -n "$ns" addr add "$(ecm_ip "$1")/24" dev eth0
  ip -n "$ns" link set eth0 up
}

ecm_up() {
  mkdir -p "$ECM_DIR"
  ip netns add "$ECM-sw"; ip -n "$ECM-sw" link set lo up
  ip -n "$ECM-sw" link add br0 type bridge; ip -n "$ECM-sw" link set br0 up
  ecm_plug rt
  ip netns exec "$ECM-rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
  ip netns add "$ECM-cl"; ip -n "$ECM-cl" link set lo up
  ip -n "$ECM-rt" link add eth1 type veth peer name eth0 netns "$ECM-cl"
  ip -n "$ECM-rt" addr add 203.0.113.1/24 dev eth1; ip -n "$ECM-rt" link set eth1 up
  ip -n "$ECM-cl" addr add 203.0.113.2/24 dev eth0; ip -n "$ECM-cl" link set eth0 up
  ip -n "$ECM-cl" route add default via 203.0.113.1
  local h
  for h in "${ECM_DIRECTORS[@]}"; do
    ecm_plug "$h"
    ip -n "$(ecm_ns "$h")" route add default via 192.0.2.1
  done
  for h in "${ECM_WEBS[@]}"; do
    ecm_plug "$h"
    ip -n "$(ecm_ns "$h")" addr add "$ECM_VIP/32" dev lo
    ip netns exec "$(ecm_ns "$h")" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
    ip -n "$(ecm_ns "$h")" route add default via 192.0.2.1
  done
}

# ecm_conf NAME BFD(0|1): the example FRR config with this host's values
ecm_conf() {
  local name=$1 bfd=$2 src
  if [ "$name" = rt ]; then src=$ECM_REPO/examples/frr/router.frr.conf; else src=$ECM_REPO/examples/frr/director.frr.conf; fi
  local sedargs=(-e "s/^hostname .*/hostname $ECM-$name/")
  if [ "$name" != rt ]; then
    local n=${name#d}
    sedargs+=(-e "s/router bgp 65001/router bgp 6500$n/" -e "s/bgp router-id 192.0.2.11/bgp router-id $(ecm_ip "$name")/")
  fi
  [ "$bfd" = 1 ] && sedargs+=(-e 's/^!BFD //')
  sedargs+=(-e 's/^log syslog.*/log file '"${ECM_DIR//\//\\/}"'\/'"$name"'\/frr.log informational/')
  sed "${sedargs[@]}" "$src"
}

# ecm_frr_start NAME BFD(0|1): zebra, bgpd (and bfdd) in NAME's namespace, their sockets in $ECM_DIR/NAME
ecm_frr_start() {
  local name=$1 bfd=$2 ns d; ns=$(ecm_ns "$name"); d=$ECM_DIR/$name
  mkdir -p "$d"; ecm_conf "$name" "$bfd" >"$d/frr.conf"; : >"$d/vtysh.conf"; chown -R frr:frr "$d"
  local common=(-d -u frr -g frr -P 0 --vty_socket "$d" -f /dev/null)
  ip netns exec "$ns" /usr/lib/frr/zebra "${common[@]}" -z "$d/zserv.api" -i "$d/zebra.pid"
  ip netns exec "$ns" /usr/lib/frr/bgpd "${common[@]}" -z "$d/zserv.api" -i "$d/bgpd.pid"
  if [ "$bfd" = 1 ]; then
    ip netns exec "$ns" /usr/lib/frr/bfdd "${common[@]}" -z "$d/zserv.api" -i "$d/bfdd.pid" --bfdctl "$d/bfdd.sock"
  fi
  ip netns exec "$ns" vtysh --vty_socket "$d" --config_dir "$d" -b
}

ecm_vtysh() { local name=$1; shift; ip netns exec "$(ecm_ns "$name")" vtysh --vty_socket "$ECM_DIR/$name" "$@"; }

ecm_frr_stop() { # NAME [SIGNAL]
  local name=$1 sig=${2:-TERM} f
  for f in "$ECM_DIR/$name"/*.pid; do [ -f "$f" ] && kill -"$sig" "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
}

ecm_down() {
  local h
  for h in "${ECM_DIRECTORS[@]}"; do ecm_lb_stop "$h" KILL; done
  for h in rt "${ECM_DIRECTORS[@]}"; do ecm_frr_stop "$h" KILL; done
  for h in cl rt "${ECM_DIRECTORS[@]}" "${ECM_WEBS[@]}" sw; do ip netns pids "$ECM-$h" 2>/dev/null | xargs -r kill -9; ip netns del "$ECM-$h" 2>/dev/null; done
  rm -rf "$ECM_DIR"
}

# ecm_lb_start NAME: lb with examples/keepalived.active-active.conf in director NAME (LB = the lb executable)
ecm_lb_start() {
  local name=$1 d=$ECM_DIR/lb-$1
  mkdir -p "$d"
  sed "s/router_id director1/router_id $ECM-$name/" "$ECM_REPO/examples/keepalived.active-active.conf" >"$d/lb.conf"
  ip netns exec "$(ecm_ns "$name")" "$LB" -n -l -C -f "$d/lb.conf" --journal "$d/journal.jsonl" --socket "$d/lb.sock" \
    -p "$d/lb.pid" >"$d/lb.log" 2>&1 &
  echo $! >"$d/lb.run"
}

ecm_lb_stop() { # NAME [SIGNAL]
  local f=$ECM_DIR/lb-$1/lb.run
  [ -f "$f" ] && kill -"${2:-TERM}" "$(cat "$f")" 2>/dev/null
}

# ecm_nexthops: the router's next hops for the VIP, one per line
ecm_nexthops() { ip -n "$ECM-rt" route show "$ECM_VIP" | grep -o 'via [0-9.]*' | cut -d' ' -f2 | sort; }

# ecm_wait_nexthops N SECONDS: until the router has N next hops (polled every 10 ms)
ecm_wait_nexthops() {
  local n=$1 deadline=$(( $(date +%s) + $2 ))
  while [ "$(ecm_nexthops | grep -c .)" != "$n" ]; do
    [ "$(date +%s)" -gt "$deadline" ] && return 1
    sleep 0.01
  done
}

# ecm_web_start: busybox httpd on each web server (index names the server, /health, /big.bin)
ecm_web_start() {
  local w root
  for w in "${ECM_WEBS[@]}"; do
    root=$ECM_DIR/www-$w; mkdir -p "$root"
    echo "Hello from $w (real server $(ecm_ip "$w"))" >"$root/index.html"
    echo ok >"$root/health"
    ip netns exec "$(ecm_ns "$w")" busybox httpd -p 80 -h "$root"
  done
}
