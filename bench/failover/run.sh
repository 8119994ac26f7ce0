#!/usr/bin/env bash
# Failover benchmark (issues 5, 11): master SIGKILLed (or SIGTERMed) -> VIP and first gratuitous ARP on the backup,
# measured on the wire by an observer namespace. Run as root. See docs/benchmarks.md.
#
#   bench/failover/run.sh                 # N=20 runs per product and setting, Lb and keepalived interleaved
#   N=20 SETTINGS="3:0.05 2:1" N_GR=0 LB=/path/to/lb OUT=/tmp/fo bench/failover/run.sh
#
# SETTINGS: "VERSION:ADVERT_INT ..." (default "3:0.05 2:1"); for each, N rounds, each round one SIGKILL run of Lb and
# one of keepalived (the first product swapped every round), the backup restarted with the same product per run.
# N_GR (default 0): then that many Lb SIGTERM runs (v2, 1 s). LB: the lb binary (default: built by bench/lib/lb.sh).
# Namespaces: fsw (bridge br0), fa 10.0.0.2 (priority 150), fb 10.0.0.3 (priority 100), fc 10.0.0.50 (tcpdump).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib/lb.sh"
LB="$(lb_binary)"
KEEPALIVED="${KEEPALIVED:-keepalived}"
OUT="${OUT:-$HERE/results}"
WORK="${WORK:-/tmp/failover-bench}"
N="${N:-20}" SETTINGS="${SETTINGS:-3:0.05 2:1}" N_GR="${N_GR:-0}"
VIP=10.0.0.100

mkdir -p "$OUT" "$WORK"
FA_PID="" FB_PID="" TCPDUMP_PID="" FA_KIND="" FA_PARENT="" FB_PARENT=""

cleanup() {
    set +e
    for p in $FA_PARENT $FA_PID $FB_PARENT $FB_PID $TCPDUMP_PID; do kill -9 "$p" 2>/dev/null; done
    for f in "$WORK"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
    sleep 0.3
    for ns in fa fb fc fsw; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

lab_up() {
    for ns in fa fb fc fsw; do ip netns del "$ns" 2>/dev/null || true; done
    ip netns add fsw
    ip -n fsw link add br0 type bridge
    ip -n fsw link set br0 up
    local i=2
    for ns in fa fb fc; do
        local addr; case $ns in fa) addr=10.0.0.2;; fb) addr=10.0.0.3;; fc) addr=10.0.0.50;; esac
        ip netns add "$ns"
        ip -n fsw link add "p-$ns" type veth peer name eth0 netns "$ns"
        ip -n fsw link set "p-$ns" master br0 up
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$addr/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

config() { # name priority version advert
    cat <<EOF
global_defs {
    router_id $1
    vrrp_garp_master_delay 1
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority $2
    advert_int $4
    version $3
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
}
EOF
}

has_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q "inet $VIP/"; }

wait_for() { # timeout_s command...
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.02
    done
}

# start_daemon ns kind(lb|ka) version advert priority -> sets ${NS}_PID (the process sending adverts)
start_daemon() {
    local ns=$1 kind=$2 ver=$3 adv=$4 prio=$5 conf="$WORK/$1.conf"
    config "$ns" "$prio" "$ver" "$adv" > "$conf"
    local pid parent=""
    if [ "$kind" = lb ]; then
        ip netns exec "$ns" "$LB" -n -l -P -f "$conf" --journal "$WORK/$ns.jsonl" >> "$WORK/$ns.log" 2>&1 &
        pid=$!
    else
        rm -f "$WORK/$ns".*.pid
        ip netns exec "$ns" "$KEEPALIVED" -n -l -D -f "$conf" --vrrp -p "$WORK/$ns.ka.pid" -r "$WORK/$ns.vrrp.pid" -c "$WORK/$ns.chk.pid" >> "$WORK/$ns.log" 2>&1 &
        parent=$!
        wait_for 20 test -s "$WORK/$ns.vrrp.pid"
        pid=$(cat "$WORK/$ns.vrrp.pid")
    fi
    if [ "$ns" = fa ]; then FA_PID=$pid FA_PARENT=$parent; else FB_PID=$pid FB_PARENT=$parent; fi
}

stop_daemon() { # pid parent
    [ -n "$2" ] && kill -TERM "$2" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "${2:-$1}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" $2 2>/dev/null || true
    wait "${2:-$1}" 2>/dev/null || true
}

# kill_master signal -> prints the epoch time just after the signal was delivered
kill_master() {
    if [ -n "$FA_PARENT" ]; then
        # keepalived: freeze the parent first so it neither respawns the VRRP child nor SIGTERMs it (pdeathsig)
        kill -STOP "$FA_PARENT"; kill "-$1" "$FA_PID"; date +%s.%N; kill -9 "$FA_PARENT"; kill -CONT "$FA_PARENT" 2>/dev/null || true
    else
        kill "-$1" "$FA_PID"; date +%s.%N
    fi
}

stable() { has_vip fa && ! has_vip fb; }

# one_run name kind version advert run mode(kill|term): the backup fb and the master fa started with the same
# product, fa killed once, both stopped; appends a line to $OUT/name.csv (header on run 1).
one_run() {
    local name=$1 kind=$2 ver=$3 adv=$4 r=$5 mode=$6
    local csv="$OUT/$name.csv" fbmac tries=0
    fbmac=$(ip -n fb link show eth0 | awk '/link\/ether/ {print $2}')
    [ "$r" -eq 1 ] && echo "run,t_signal,t_last_advert,t_first_garp,t_first_advert_b,takeover_s,bound_s,excess_ms" > "$csv"
    while :; do
        start_daemon fb "$kind" "$ver" "$adv" 100
        start_daemon fa "$kind" "$ver" "$adv" 150
        wait_for 60 stable && break
        echo "   $name run $r: fa never became the only master" >&2
        stop_daemon "$FA_PID" "$FA_PARENT"; stop_daemon "$FB_PID" "$FB_PARENT"
        ip -n fa addr del "$VIP/24" dev eth0 2>/dev/null || true; ip -n fb addr del "$VIP/24" dev eth0 2>/dev/null || true
        tries=$((tries+1)); [ $tries -gt 3 ] && exit 1
    done
    # at least 3 adverts of the stable master (and the second GARP burst of garp_master_delay 1 is over)
    sleep "$(python3 -c "print(max(1.5, 4 * $adv))")"
    local sig=9; [ "$mode" = term ] && sig=TERM
    local t_sig; t_sig=$(kill_master $sig)
    if ! wait_for 30 has_vip fb; then echo "   fb never took over" >&2; exit 1; fi
    [ "$mode" = term ] && { for _ in $(seq 100); do kill -0 "$FA_PID" 2>/dev/null || break; sleep 0.05; done; }
    sleep 0.5 # let tcpdump flush
    local line
    line=$(python3 "$HERE/analyze.py" "$WORK/capture.txt" "$t_sig" "$fbmac" "$ver" "$adv" "$mode") || { echo "   analysis failed" >&2; exit 1; }
    echo "$r,$line" >> "$csv"
    echo "   $name run $r: $line" >&2
    # SIGKILL leaves the VIP on fa's eth0: remove it, as a reboot would
    kill -9 "$FA_PID" $FA_PARENT 2>/dev/null || true; wait "${FA_PARENT:-$FA_PID}" 2>/dev/null || true
    ip -n fa addr del "$VIP/24" dev eth0 2>/dev/null || true
    stop_daemon "$FB_PID" "$FB_PARENT"
    ip -n fb addr del "$VIP/24" dev eth0 2>/dev/null || true
    sleep 0.5
}

tag() { # version advert -> e.g. v3-50ms, v2-1s
    python3 -c "import sys; a=float(sys.argv[2]); print(f'v{sys.argv[1]}-' + (f'{a:g}s' if a >= 1 else f'{a*1000:g}ms'))" "$1" "$2"
}

lab_up
: > "$WORK/capture.txt"; : > "$WORK/fa.log"; : > "$WORK/fb.log"
ip netns exec fc tcpdump -i eth0 -n -e -tt -l 'vrrp or arp' > "$WORK/capture.txt" 2> "$WORK/tcpdump.err" &
TCPDUMP_PID=$!
sleep 1
FB_PARENT=""
echo "load before: $(uptime)" > "$OUT/machine.txt"
for setting in $SETTINGS; do
    ver=${setting%%:*} adv=${setting#*:} t=$(tag "${setting%%:*}" "${setting#*:}")
    echo "== v$ver advert_int $adv: $N rounds, Lb and keepalived interleaved, SIGKILL" >&2
    for r in $(seq "$N"); do
        if [ $((r % 2)) -eq 1 ]; then order="lb ka"; else order="ka lb"; fi
        for kind in $order; do
            if [ "$kind" = lb ]; then one_run "lb-$t" lb "$ver" "$adv" "$r" kill; else one_run "keepalived-$t" ka "$ver" "$adv" "$r" kill; fi
        done
    done
done
for r in $(seq "$N_GR"); do one_run lb-v2-1s-sigterm lb 2 1 "$r" term; done
{
    echo "load after: $(uptime)"
    echo "host: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) cores, Linux $(uname -r)"
    echo "lb: $(lb_describe "$LB")"
    echo "keepalived: $("$KEEPALIVED" --version 2>&1 | head -n1)"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "command: N=$N SETTINGS=\"$SETTINGS\" N_GR=$N_GR bench/failover/run.sh"
} >> "$OUT/machine.txt"
gzip -c "$WORK/capture.txt" > "$OUT/capture.txt.gz" || true
python3 "$HERE/summarize.py" "$OUT"
