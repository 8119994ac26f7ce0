#!/usr/bin/env bash
# Benchmark of issue 15 (active-active directors behind BGP ECMP), in the kernel VM:
#   tests/kernel/vm.sh -- bash tests/kernel/bench-ecmp.sh [REPS]
# The lab of tests/kernel/ecmp-lab.sh (the xunit lab's topology, the same example configs), the real lb
# (LB=path, default the test build's NativeAOT lb under /tmp/lab-art) and FRR 8.4.
#  1. Convergence: a steady request stream from the client (new connection each, 1 s timeout); director d2's link is
#     cut; time until the router's route to the VIP no longer has d2, and the requests that failed meanwhile; then
#     d2 is plugged back and the router waits for three next hops again. REPS times, with BGP timers only
#     (keepalive 1 / hold 3) and with BFD (100 ms x 3). MODES="0 1 crash" (default): 0 = BGP timers only, 1 = BFD,
#     crash = lb alone is killed on d2 (SIGKILL; zebra and bgpd live on) and `lb announce withdraw` runs as lb.service's
#     ExecStopPost would; then lb is started again and the time until the router has d2 again is measured too.
#  2. Throughput: 8 parallel clients for 10 s with three directors announcing, then with one (the two others in
#     "lb announce maintenance on"); requests/s and the ratio.
set -uo pipefail
REPS=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ecmp-lab.sh"
LB=${LB:-/tmp/lab-art/bin/Lb.Tests/release/native/lb}
[ -x "$LB" ] || { echo "no lb at $LB (build: dotnet build tests/Lb.Tests -c Release --artifacts-path /tmp/lab-art)"; exit 2; }
trap ecm_down EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The stream: until FILE exists, one request after another, each on a new connection; "MS ok wN" / "MS fail".
STREAM='
import socket, sys, time, os
stop, timeout = sys.argv[1], float(sys.argv[2])
while not os.path.exists(stop):
    t = time.time()
    try:
        s = socket.create_connection(("198.51.100.10", 80), timeout=timeout)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            b = s.recv(4096)
            if not b: break
            data += b
        s.close()
        print("%d ok %s" % (t * 1000, data.split(b"\r\n\r\n", 1)[1].split()[2].decode()), flush=True)
    except Exception as e:
        print("%d fail %s" % (t * 1000, type(e).__name__), flush=True)
'
# Throughput: N workers for S seconds; prints the number of answered requests.
LOAD='
import socket, sys, time, threading
n, secs = int(sys.argv[1]), float(sys.argv[2])
ok = [0] * n
end = time.time() + secs
def work(i):
    while time.time() < end:
        try:
            s = socket.create_connection(("198.51.100.10", 80), timeout=2)
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            while s.recv(4096): pass
            s.close(); ok[i] += 1
        except Exception:
            pass
ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(ok))
'

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "-"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

run_mode() { # MODE: 0 | 1 (BFD) | crash
  local mode=$1 bfd=0 d restarts=()
  [ "$mode" = 1 ] && bfd=1
  ecm_down 2>/dev/null; ecm_up; ecm_web_start
  ecm_frr_start rt "$bfd" >/dev/null 2>&1
  for d in "${ECM_DIRECTORS[@]}"; do ecm_lb_start "$d"; ecm_frr_start "$d" "$bfd" >/dev/null 2>&1; done
  ecm_wait_nexthops 3 300 || { echo "no ECMP route: $(ip -n "$ECM-rt" route show "$ECM_VIP")"; tail -20 "$ECM_DIR"/lb-d1/lb.log; return 1; }
  local conv=() fails=() r
  for r in $(seq 1 "$REPS"); do
    if [ "$bfd" = 1 ]; then # the router's BFD sessions to all three directors up (after a replug, too)
      local bd=$(( $(date +%s) + 120 ))
      while [ "$(ecm_vtysh rt -c 'show bfd peers brief' | grep -c ' up ')" != 3 ] && [ "$(date +%s)" -lt "$bd" ]; do sleep 0.1; done
    fi
    local out=$ECM_DIR/stream-$mode-$r.txt stop=$ECM_DIR/stop-$mode-$r
    ip netns exec "$ECM-cl" python3 -c "$STREAM" "$stop" 1 >"$out" 2>&1 &
    local sp=$!
    local deadline=$(( $(date +%s) + 60 ))
    while [ "$(grep -c ' ok ' "$out")" -lt 10 ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
    local t0 t1; t0=$(now_ms)
    if [ "$mode" = crash ]; then
      local lbpid; lbpid=$(cat "$ECM_DIR/lb-d2/lb.run")
      kill -KILL "$lbpid"; while kill -0 "$lbpid" 2>/dev/null; do sleep 0.005; done
      ip netns exec "$ECM-d2" "$LB" announce withdraw --socket "$ECM_DIR/lb-d2/lb.sock" --journal "$ECM_DIR/lb-d2/journal.jsonl" >/dev/null
    else
      ip -n "$ECM-sw" link set "${ECM}d2" down
    fi
    while ecm_nexthops | grep -qx 192.0.2.12; do sleep 0.005; done
    t1=$(now_ms)
    # keep the stream 3 s past convergence, then stop it
    local until=$(( t1 + 3000 ))
    while [ "$(now_ms)" -lt "$until" ]; do sleep 0.1; done
    touch "$stop"; wait "$sp"
    local f; f=$(awk -v t0="$t0" '$1 >= t0 - 1000 && $2 == "fail"' "$out" | wc -l)
    conv+=($(( t1 - t0 ))); fails+=("$f")
    echo "  mode=$mode rep $r: converged in $(( t1 - t0 )) ms; failed requests $f of $(awk -v t0="$t0" '$1 >= t0 - 1000' "$out" | wc -l) from 1 s before the cut to 3 s after convergence"
    if [ "$mode" = crash ]; then
      local t2; t2=$(now_ms); ecm_lb_start d2
      ecm_wait_nexthops 3 120 || { echo "d2 did not come back"; return 1; }
      restarts+=($(( $(now_ms) - t2 )))
      echo "  mode=crash rep $r: lb started again -> router has d2 again in ${restarts[-1]} ms"
    else
      ip -n "$ECM-sw" link set "${ECM}d2" up
      ecm_wait_nexthops 3 120 || { echo "d2 did not come back"; return 1; }
    fi
  done
  [ "$mode" = crash ] && echo "RESULT crash restart_to_announced_ms median $(printf '%s\n' "${restarts[@]}" | median) (samples ${restarts[*]})"
  echo "RESULT mode=$mode convergence_ms median $(printf '%s\n' "${conv[@]}" | median) (samples ${conv[*]}); failed requests median $(printf '%s\n' "${fails[@]}" | median) (samples ${fails[*]})"
  if [ "$mode" = 0 ]; then
    local three=() one=()
    for r in $(seq 1 "$REPS"); do
      three+=("$(ip netns exec "$ECM-cl" python3 -c "$LOAD" 8 10)")
      for d in d2 d3; do "$LB" announce maintenance on --socket "$ECM_DIR/lb-$d/lb.sock" >/dev/null; done
      ecm_wait_nexthops 1 60 || echo "maintenance did not withdraw"
      one+=("$(ip netns exec "$ECM-cl" python3 -c "$LOAD" 8 10)")
      for d in d2 d3; do "$LB" announce maintenance off --socket "$ECM_DIR/lb-$d/lb.sock" >/dev/null; done
      ecm_wait_nexthops 3 60 || echo "maintenance off did not announce"
      echo "  throughput rep $r: three directors ${three[-1]} requests/10 s, one director ${one[-1]} requests/10 s"
    done
    local m3 m1; m3=$(printf '%s\n' "${three[@]}" | median); m1=$(printf '%s\n' "${one[@]}" | median)
    echo "RESULT throughput requests/s three $(awk -v a="$m3" 'BEGIN{print a/10}') one $(awk -v a="$m1" 'BEGIN{print a/10}') ratio $(awk -v a="$m3" -v b="$m1" 'BEGIN{printf "%.2f", a/b}')"
  fi
}

echo "bench-ecmp: $(uname -r), $(nproc) CPUs, lb $LB, $REPS repetitions"
for m in ${MODES:-0 1 crash}; do run_mode "$m"; done
