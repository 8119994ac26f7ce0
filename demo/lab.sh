#!/usr/bin/env bash
# The Lb demo lab: two directors running `lb` (VRRP + checkers) with keepalived.conf.example in front of three
# DR-mode web servers, and a client — network namespaces on one bridge. Needs root and a kernel with IPVS;
# demo/demo.sh runs it inside the tests/kernel VM when the running kernel has none.
#
# Usage: demo/lab.sh --lb PATH [--config FILE] [--step-base N] [--status yes|no] [--work DIR] [--keep] [--report FILE]
#   --lb PATH        the lb executable (e.g. artifacts/lb/lb)
#   --config FILE    the configuration (default: the repo's keepalived.conf.example)
#   --step-base N    number the steps from N+1 (demo/demo.sh runs steps 1..N before this script)
#   --status yes|no  whether this lb has `lb status` (default: ask `lb --help`)
#   --work DIR       the work directory (journals, lb logs, web roots); kept. Default: a temp dir, removed at exit
#   --keep           keep the temp work directory
#   --report FILE    write "ok" or "FAILED at step N (title): why" there at exit
# Exit codes: 0 every step worked; 1 a step failed (named on stderr); 2 usage or a missing prerequisite.
#
#   switch (bridge br0)
#     ├── dir1    10.0.0.2   lb -f keepalived.conf.example                (priority 150: MASTER, holds the VIP)
#     ├── dir2    10.0.0.3   lb -f keepalived.conf.example -i director2   (priority 100: BACKUP)
#     ├── web1    10.0.0.11  busybox httpd, VIP 10.0.0.100/32 on lo        (HTTP_GET /health, weight 3)
#     ├── web2    10.0.0.12  busybox httpd, VIP 10.0.0.100/32 on lo        (HTTP_GET /health, weight 3, inhibit_on_failure)
#     ├── web3    10.0.0.13  busybox httpd, VIP 10.0.0.100/32 on lo        (TCP_CHECK, weight 1)
#     └── client  10.0.0.50  busybox wget http://10.0.0.100/
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

lb="" work="" report="" has_status="" config="$repo/keepalived.conf.example" step_no=0 keep=0
while (($#)); do
  case "$1" in
    --lb) lb="${2:?--lb needs a path}"; shift 2 ;;
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --step-base) step_no="${2:?--step-base needs a number}"; shift 2 ;;
    --status) has_status="${2:?--status needs yes or no}"; shift 2 ;;
    --work) work="${2:?--work needs a directory}"; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --report) report="${2:?--report needs a file}"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "lab: unknown option $1" >&2; usage ;;
  esac
done

VIP=10.0.0.100
# Liveness bounds, not timing claims: under software emulation (the kernel VM on a busy machine) .NET start-up alone
# can take a minute, and every process start costs seconds.
START_BOUND="${LB_DEMO_START_BOUND:-300}"
BOUND="${LB_DEMO_BOUND:-120}"
REQUEST_TIMEOUT="${LB_DEMO_REQUEST_TIMEOUT:-10}"
where=host
[ "${LB_KERNEL_VM:-}" = 1 ] && where=vm

t0="$(date +%s.%N)"
step_title="prerequisites"
failure=""
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
step() {
  step_no=$((step_no + 1))
  step_title="$*"
  printf '\n=== %s  [%s, lab +%ss]  step %d: %s\n' "$(date +%H:%M:%S)" "$where" "$(elapsed)" "$step_no" "$*"
}
note() { printf '    %s\n' "$*"; }
# Shows a command, then runs it with its output indented.
show() {
  printf '$ %s\n' "$*"
  local rc=0
  "$@" 2>&1 | sed 's/^/  /' || rc=$?
  return "$rc"
}

[ "$(id -u)" -eq 0 ] || { echo "lab: needs root (network namespaces, IPVS)" >&2; exit 2; }
[ -n "$lb" ] || { echo "lab: --lb PATH is required" >&2; usage; }
[ -x "$lb" ] || { echo "lab: $lb is not executable (build it: dotnet publish src/Lb -c Release -o artifacts/lb)" >&2; exit 2; }
lb="$(cd "$(dirname "$lb")" && pwd)/$(basename "$lb")"
[ -r "$config" ] || { echo "lab: cannot read $config" >&2; exit 2; }
for tool in ip busybox sysctl timeout awk; do
  command -v "$tool" >/dev/null || { echo "lab: $tool is missing (scripts/setup.sh installs it)" >&2; exit 2; }
done
if [ ! -e /proc/net/ip_vs ]; then
  modprobe ip_vs 2>/dev/null || true
  [ -e /proc/net/ip_vs ] || { echo "lab: this kernel has no IPVS (/proc/net/ip_vs is absent); demo/demo.sh runs the lab in the kernel VM" >&2; exit 2; }
fi
if [ -z "$has_status" ]; then
  has_status=no
  if "$lb" --help 2>/dev/null | grep -qE '^ +lb status'; then has_status=yes; fi
fi

# Namespace names are unique per run, so the lab never touches anything that was there before it.
prefix="${LB_DEMO_PREFIX:-lbdemo$$}"
ns() { printf '%s-%s' "$prefix" "$1"; }
for n in sw dir1 dir2 web1 web2 web3 client; do
  if ip netns list | grep -qw -- "$(ns "$n")"; then echo "lab: namespace $(ns "$n") exists already" >&2; exit 2; fi
done

if [ -n "$work" ]; then
  mkdir -p "$work"
  work="$(cd "$work" && pwd)"
  rm -rf "$work"/journal-*.jsonl* "$work"/lb-*.log "$work"/httpd-*.log "$work"/www-*
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/lb-demo.XXXXXX")"
fi
# Each lb's status socket (lb status --socket): on a local file system (the VM's work directory may be a 9p share).
sockets="$(mktemp -d /tmp/lb-demo-sockets.XXXXXX)"
namespaces=()
pids=()
declare -A lb_pid=() httpd_pid=()

# What a failure report needs: addresses, the kernel tables and the end of each lb log.
diagnostics() {
  local d
  for d in dir1 dir2; do
    ip netns list 2>/dev/null | grep -qw -- "$(ns "$d")" || continue
    printf -- '--- %s: addresses, IPVS table (ipvsadm), last lines of its lb log\n' "$d"
    ip -n "$(ns "$d")" -4 -br addr show 2>&1 || true
    if command -v ipvsadm >/dev/null; then ip netns exec "$(ns "$d")" ipvsadm -Ln --stats 2>&1 || true; fi
    tail -n 25 "$work/lb-$d.log" 2>/dev/null || true
  done
}
fail() {
  failure="FAILED at step $step_no ($step_title): $*"
  printf '\n!!! %s\n' "$failure" >&2
  diagnostics >&2
  exit 1
}

# shellcheck disable=SC2317,SC2329 # invoked by the trap
cleanup() {
  local rc=$? p n i alive
  trap - EXIT INT TERM
  printf '\n=== %s  [%s, lab +%ss]  cleanup\n' "$(date +%H:%M:%S)" "$where" "$(elapsed)"
  # lb first, gracefully (on SIGTERM it removes its VIPs and IPVS entries), then everything else.
  for p in "${lb_pid[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 1 150); do
    alive=0
    for p in "${lb_pid[@]}"; do if kill -0 "$p" 2>/dev/null; then alive=1; fi; done
    ((alive)) || break
    sleep 0.2
  done
  for p in "${lb_pid[@]}" "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${lb_pid[@]}" "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for ((i = ${#namespaces[@]} - 1; i >= 0; i--)); do
    n="${namespaces[i]}"
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || echo "    warning: could not delete namespace $n" >&2
  done
  note "stopped ${#lb_pid[@]} lb and ${#pids[@]} other processes, deleted ${#namespaces[@]} namespaces"
  if ((keep)) || ((rc != 0)); then
    note "journals and lb logs kept in $work"
  else
    rm -rf "$work"
  fi
  rm -rf "$sockets"
  if [ -n "$report" ]; then
    if ((rc == 0)); then echo ok; else echo "${failure:-lab exited with $rc in step $step_no ($step_title)}"; fi >"$report" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'failure="interrupted in step $step_no ($step_title)"; echo "lab: interrupted" >&2; exit 130' INT
trap 'failure="terminated in step $step_no ($step_title)"; echo "lab: terminated" >&2; exit 143' TERM

# Polls CMD every 0.5 s until it succeeds or SECONDS pass, printing progress every 20 s. Returns 1 on timeout.
wait_until() { # WHAT SECONDS CMD...
  local what="$1" bound="$2" start now last
  shift 2
  start="$(date +%s)" last="$start"
  while ! "$@" >/dev/null 2>&1; do
    now="$(date +%s)"
    if ((now - start >= bound)); then
      note "gave up waiting for $what after ${bound}s"
      return 1
    fi
    if ((now - last >= 20)); then
      note "... still waiting for $what ($((now - start))s)"
      last="$now"
    fi
    sleep 0.5
  done
  note "$what: after $(($(date +%s) - start))s"
}

add_host() { # NAME CIDR
  local n="$1" cidr="$2" h
  h="$(ns "$n")"
  ip netns add "$h"
  namespaces+=("$h")
  ip -n "$(ns sw)" link add "$n" type veth peer name eth0 netns "$h"
  ip -n "$(ns sw)" link set "$n" master br0 up
  ip -n "$h" link set lo up
  ip -n "$h" addr add "$cidr" dev eth0
  ip -n "$h" link set eth0 up
}

has_vip() { ip -n "$(ns "$1")" -4 -br addr show dev eth0 | grep -q " $VIP/"; }
vip_only_on() { has_vip "$1" && ! has_vip "$2"; }

journal_lines() { # DIRECTOR: how many lines its journal has
  local f="$work/journal-$1.jsonl"
  if [ -f "$f" ]; then wc -l <"$f"; else echo 0; fi
}
# DIRECTOR FROM PATTERN...: some line after line FROM of the director's journal has every pattern. (No process
# substitution here: the kernel VM has no /dev/fd.)
journal_has() {
  local f="$work/journal-$1.jsonl" from="$2" lines p
  shift 2
  [ -f "$f" ] || return 1
  lines="$(tail -n "+$((from + 1))" "$f")"
  for p in "$@"; do lines="$(grep -F -- "$p" <<<"$lines" || true)"; done
  [ -n "$lines" ]
}
# DIRECTOR: "10.0.0.11=up 10.0.0.12=up 10.0.0.13=up" — each real server's latest state in the director's journal.
rs_states() {
  local f="$work/journal-$1.jsonl"
  [ -f "$f" ] || return 0
  grep '"kind":"real_server"' "$f" | sed -n 's/.*"rs":"\[\([^]]*\)\][^"]*".*"new":"\([^"]*\)".*/\1=\2/p' |
    awk -F= '{ s[$1] = $2 } END { for (k in s) print k "=" s[k] }' | sort | paste -sd ' ' -
}
rs_states_are() { [ "$(rs_states "$1")" = "$2" ]; }
ALL_UP="10.0.0.11=up 10.0.0.12=up 10.0.0.13=up"
# WEB DIRECTOR-IP: how many /health requests from that director the web server has answered with 200 (httpd -vv log,
# peers as [::ffff:10.0.0.2]:46762).
health_count() {
  awk -F': ' -v ip="$2" '
    $2 == "url:/health" { u[$1] = 1; next }
    $2 == "response:200" && ($1 in u) { peer = $1; sub(/^\[::ffff:/, "", peer); sub(/\]?:[0-9]+$/, "", peer); if (peer == ip) n++; delete u[$1] }
    END { print n + 0 }' "$work/httpd-$1.log" 2>/dev/null || echo 0
}
# DIRECTOR DIRECTOR-IP EXPECTED WEB...: the director's journal shows EXPECTED and has not changed while each WEB answered
# two more of its HTTP checks. Real servers start "up" without a check (as in keepalived), and under emulation a first
# check can still time out, so "up" alone is not yet settled. (Called directly, not in a subshell: it keeps state.)
declare -A settle_base=()
settle_journal=""
settled() {
  local d="$1" ip="$2" want="$3" w lines
  shift 3
  if ! rs_states_are "$d" "$want"; then settle_journal=""; return 1; fi
  lines="$(journal_lines "$d")"
  if [ "$settle_journal" != "$d:$lines" ]; then
    settle_journal="$d:$lines"
    for w in "$@"; do settle_base[$w]="$(health_count "$w" "$ip")"; done
    return 1
  fi
  for w in "$@"; do (($(health_count "$w" "$ip") - ${settle_base[$w]} >= 2)) || return 1; done
}
WEB1_DOWN="10.0.0.11=down 10.0.0.12=up 10.0.0.13=up"

# One HTTP request from the client to the VIP; prints the answering server's line. (No `wget -T`: Debian 12's
# busybox-static 1.35 segfaults with it; timeout(1) bounds the request instead.)
request() { timeout "$REQUEST_TIMEOUT" ip netns exec "$(ns client)" busybox wget -q -O - "http://$VIP/" 2>/dev/null | head -n 1; }
# N requests, each must be answered (a second try is allowed and shown). Optional: a web server that must not answer.
requests() { # N [FORBIDDEN]
  local n="$1" forbidden="${2:-}" i out failed=0 by="" retry
  # shellcheck disable=SC2016 # a command shown, not run
  printf '$ for i in $(seq %d); do ip netns exec %s busybox wget -q -O - http://%s/; done\n' "$n" "$(ns client)" "$VIP"
  for i in $(seq 1 "$n"); do
    retry=""
    if ! out="$(request)" || [ -z "$out" ]; then
      retry=" (second try; the first got no answer within ${REQUEST_TIMEOUT}s)"
      out="$(request)" || out=""
    fi
    if [ -n "$out" ]; then
      printf '  request %d: %s%s\n' "$i" "$out" "$retry"
      by+="$(awk '{ print $3 }' <<<"$out")"$'\n'
      if [ -n "$forbidden" ] && [[ "$out" == *"$forbidden "* ]]; then failed=1; fi
    else
      printf '  request %d: FAILED (no answer within %ss, twice)\n' "$i" "$REQUEST_TIMEOUT"
      failed=1
    fi
  done
  [ -z "$by" ] || note "answered by: $(sort <<<"${by%$'\n'}" | uniq -c | awk '{ printf "%s%s ×%s", (NR > 1 ? ", " : ""), $2, $1 }')"
  return "$failed"
}

# Shows and runs `lb ARGS` inside a director's namespace.
show_lb() { # DIRECTOR ARGS...
  local d="$1" rc=0
  shift
  printf '$ ip netns exec %s lb %s\n' "$(ns "$d")" "$*"
  ip netns exec "$(ns "$d")" "$lb" "$@" 2>&1 | sed 's/^/  /' || rc=$?
  return "$rc"
}
start_lb() { # DIRECTOR [ARGS...]
  local d="$1"
  shift
  printf '$ ip netns exec %s lb -n -l -f %s%s --journal %s --socket %s &\n' "$(ns "$d")" "$config" "${*:+ $*}" "$work/journal-$d.jsonl" "$sockets/$d.sock"
  ip netns exec "$(ns "$d")" "$lb" -n -l -f "$config" "$@" --journal "$work/journal-$d.jsonl" --socket "$sockets/$d.sock" >"$work/lb-$d.log" 2>&1 &
  lb_pid[$d]=$!
  note "pid ${lb_pid[$d]}, console log in $work/lb-$d.log"
}
lb_alive() { kill -0 "${lb_pid[$1]}" 2>/dev/null || fail "lb on $1 exited: $(tail -n 20 "$work/lb-$1.log")"; }
vrrp_log() { # DIRECTOR: lb's own VRRP state lines, as keepalived writes them
  show grep -hE '\(VI_WEB\) Entering [A-Z]+ STATE' "$work/lb-$1.log" || true
}
# `lb status` (the daemon's VRRP and checker state over its status socket); an lb built before it existed gets the
# same facts from its log (VRRP) and `lb ipvs list` (IPVS).
status() { # DIRECTOR [ipvs]
  if [ "$has_status" = yes ]; then
    # One retry: the daemon's 2 s request timeout also covers building and sending its first reply, which a slow
    # (emulated) CPU can exceed; the client then sees an empty answer.
    show_lb "$1" status --socket "$sockets/$1.sock" || {
      note "(no answer from $1's lb; asking once more)"
      show_lb "$1" status --socket "$sockets/$1.sock"
    }
  else
    note "(this lb has no 'lb status' yet: $1's VRRP state from its log${2:+, its IPVS table from lb ipvs list})"
    vrrp_log "$1"
    if [ -n "${2:-}" ]; then show_lb "$1" ipvs list; fi
  fi
}

# ---------------------------------------------------------------------------------------------------------------------
step "build the lab: a switch, two directors, three DR web servers, a client"
ip netns add "$(ns sw)"
namespaces+=("$(ns sw)")
ip -n "$(ns sw)" link add br0 type bridge
ip -n "$(ns sw)" link set br0 up
add_host dir1 10.0.0.2/24
add_host dir2 10.0.0.3/24
for i in 1 2 3; do
  w="web$i" ip="10.0.0.1$i"
  add_host "$w" "$ip/24"
  # Direct routing: the real server accepts packets for the VIP (on lo) but never answers ARP for it.
  ip -n "$(ns "$w")" addr add "$VIP/32" dev lo
  ip netns exec "$(ns "$w")" sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  mkdir -p "$work/www-$w"
  printf 'Hello from %s (real server %s)\n' "$w" "$ip" >"$work/www-$w/index.html"
  printf 'ok\n' >"$work/www-$w/health"
  # Listens on every address of its namespace: 10.0.0.1N for the health checks, the VIP for the clients.
  ip netns exec "$(ns "$w")" busybox httpd -f -vv -p 80 -h "$work/www-$w" 2>"$work/httpd-$w.log" &
  pids+=($!)
  httpd_pid[$w]=$!
done
add_host client 10.0.0.50/24
note "namespaces: ${namespaces[*]}"
note "web1..3: VIP $VIP/32 on lo, net.ipv4.conf.all.arp_ignore=1, arp_announce=2, busybox httpd on :80 serving / and /health"
show ip -n "$(ns web1)" -4 -br addr show
for i in 1 2 3; do
  wait_until "web$i answers" 30 timeout 5 ip netns exec "$(ns dir1)" busybox wget -q -O /dev/null "http://10.0.0.1$i/" ||
    fail "web$i does not answer"
done

step "start lb on both directors (VRRP and checkers in one process each)"
start_lb dir1
start_lb dir2 -i director2

step "wait for dir1 (priority 150) to be MASTER and both directors' checkers to bring the real servers up"
wait_until "the VIP $VIP is on dir1, not on dir2" "$START_BOUND" vip_only_on dir1 dir2 || { lb_alive dir1; lb_alive dir2; fail "dir1 did not become MASTER"; }
wait_until "dir1's journal: all 3 real servers up, settled (web1, web2 passed 2 more HTTP checks)" "$START_BOUND" settled dir1 10.0.0.2 "$ALL_UP" web1 web2 ||
  fail "dir1's checkers: $(rs_states dir1)"
wait_until "dir2's journal: all 3 real servers up" "$BOUND" rs_states_are dir2 "$ALL_UP" || fail "dir2's checkers: $(rs_states dir2)"
show ip -n "$(ns dir1)" -4 -br addr show dev eth0
show ip -n "$(ns dir2)" -4 -br addr show dev eth0

step "6 requests from the client to http://$VIP/"
requests 6 || fail "not every request was answered"

step "the MASTER's kernel table: lb ipvs list on dir1"
show_lb dir1 ipvs list || fail "lb ipvs list failed"

step "lb status on both directors"
status dir1 || fail "lb status failed on dir1"
status dir2 || fail "lb status failed on dir2"

step "stop web server 1 (kill its httpd)"
mark="$(journal_lines dir1)"
printf '$ kill %s   # busybox httpd in %s\n' "${httpd_pid[web1]}" "$(ns web1)"
kill "${httpd_pid[web1]}"
wait_until "dir1's journal: 10.0.0.11 up -> down" "$BOUND" journal_has dir1 "$mark" '"rs":"[10.0.0.11]:tcp:80"' '"old":"up"' '"new":"down"' ||
  fail "dir1 did not notice web1 stop"
wait_until "dir1's journal: web2 and web3 up, settled" "$BOUND" settled dir1 10.0.0.2 "$WEB1_DOWN" web2 || fail "dir1's checkers: $(rs_states dir1)"
show_lb dir1 journal --file "$work/journal-dir1.jsonl" --rs 10.0.0.11 || fail "lb journal failed"

step "6 requests again: all answered, none by web1"
requests 6 web1 || fail "a request failed or web1 answered after it left"

step "kill the MASTER director: kill -9 its lb, and unplug it"
printf '$ kill -9 %s   # lb on dir1\n' "${lb_pid[dir1]}"
kill -KILL "${lb_pid[dir1]}"
wait "${lb_pid[dir1]}" 2>/dev/null || true
unset 'lb_pid[dir1]'
# kill -9 gives lb no chance to release anything: dir1's kernel keeps the VIP and the IPVS table (keepalived's too).
# A director that dies takes them with it, so pull its cable as well: its port on the switch goes down.
note "kill -9 left the VIP on dir1's eth0 (nothing could remove it):"
show ip -n "$(ns dir1)" -4 -br addr show dev eth0
printf '$ ip -n %s link set dir1 down   # unplug dir1 from the switch\n' "$(ns sw)"
ip -n "$(ns sw)" link set dir1 down
wait_until "the VIP $VIP is on dir2" "$BOUND" has_vip dir2 || { lb_alive dir2; fail "dir2 did not take the VIP over"; }
show ip -n "$(ns dir2)" -4 -br addr show dev eth0
wait_until "dir2's journal: web2 and web3 up, web1 down, settled" "$BOUND" settled dir2 10.0.0.3 "$WEB1_DOWN" web2 || fail "dir2's checkers: $(rs_states dir2)"
wait_until "the client reaches the VIP again" "$BOUND" request || fail "the VIP does not answer after the failover"

step "6 requests through the new MASTER (dir2)"
requests 6 web1 || fail "not every request was answered after the failover"

step "lb status on the new MASTER (dir2)"
status dir2 ipvs || fail "lb status failed on dir2"

step "the journals: lb journal on both directors"
show_lb dir1 journal --file "$work/journal-dir1.jsonl" || fail "lb journal (dir1) failed"
show_lb dir2 journal --file "$work/journal-dir2.jsonl" || fail "lb journal (dir2) failed"

step_title="done"
printf '\n=== %s  [%s, lab +%ss]  every step worked\n' "$(date +%H:%M:%S)" "$where" "$(elapsed)"
