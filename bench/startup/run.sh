#!/usr/bin/env bash
# Start-up and weight of lb as users run it, beside keepalived 2.2.7 on this host (no VM):
#   1. `lb -t -f F` vs `keepalived -t -f F`, whole process, alternating runs (lb, keepalived, lb, …), on the generated
#      500 × 20 configuration (bench/ipvs/gen.sh: 32,500 lines) and on keepalived.conf.example: wall time min/median/max,
#      the ratio of the medians, and each tool's peak RSS and CPU (user+sys) per run (/usr/bin/time);
#   2. the daemon on keepalived.conf.example (`-n -l -f`, both subsystems) in a scratch network namespace with an `eth0`
#      (one end of a veth pair: nothing leaves this host): RSS summed over the tool's processes and CPU used, read from /proc
#      SETTLE seconds after the start. IPVS may be missing from this kernel: the checker then logs its errors; the figure
#      is still the process's weight.
# Usage (root): bench/startup/run.sh [--lb PATH] [--rounds N] [--settle SECONDS] [--no-daemon]
#   --lb PATH      the lb to measure (default: publish src/Lb — NativeAOT — into artifacts/lb and use artifacts/lb/lb)
#   --rounds N     alternating rounds per configuration (default 15)
#   --settle S     seconds the daemons run before their RSS/CPU is read (default 10)
# Prints a markdown summary; `uptime` before and after (the load matters on a shared machine).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lb="" rounds=15 settle=10 daemon=1
while (($#)); do
  case "$1" in
    --lb) lb="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --settle) settle="$2"; shift 2 ;;
    --no-daemon) daemon=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "startup: unknown option $1" >&2; exit 2 ;;
  esac
done
command -v keepalived >/dev/null || { echo "startup: keepalived is not installed (scripts/setup.sh)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "startup: /usr/bin/time is missing (package time)" >&2; exit 2; }
if [ -z "$lb" ]; then
  echo "startup: dotnet publish src/Lb -c Release -o artifacts/lb (NativeAOT)" >&2
  (cd "$repo" && dotnet publish src/Lb/Lb.csproj -c Release -nologo -v q -o artifacts/lb) >&2
  lb="$repo/artifacts/lb/lb"
fi
[ -x "$lb" ] || { echo "startup: $lb is not executable" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/lb-startup.XXXXXX")"
ns="lbstartup$$"
# shellcheck disable=SC2317,SC2329 # invoked by the trap
cleanup() {
  local p
  for p in $(cat "$work"/*.pid 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
bash "$repo/bench/ipvs/gen.sh" "$work/big" >/dev/null
big="$work/big/keepalived.conf" example="$repo/keepalived.conf.example"

echo "## lb start-up and weight ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r))"
echo
echo "lb: $lb ($("$lb" --version)); $(keepalived --version 2>&1 | head -n1)"
echo "uptime before: $(uptime)"
echo

# One run under /usr/bin/time: prints "wall_ms user_ms sys_ms maxrss_kb exit".
timed() {
  local out="$work/time.out" rc=0
  /usr/bin/time -o "$out" -f '%e %U %S %M %x' "$@" >/dev/null 2>&1 || rc=$?
  awk -v rc="$rc" '{ printf "%d %d %d %d %s\n", $1 * 1000, $2 * 1000, $3 * 1000, $4, $5 }' "$out"
}
# min/median/max of the numbers on stdin.
stats() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%d / %d / %d", v[1], m, v[NR] }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "### \`-t\`: wall ms min / median / max over $rounds alternating runs (whole process)"
echo
echo "| configuration | lines | lb wall | keepalived wall | ratio (medians) | lb CPU ms (median) | keepalived CPU ms | lb peak RSS MB | keepalived peak RSS MB | exit lb / keepalived |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for conf in "$big" "$example"; do
  : >"$work/lb.t" && : >"$work/ka.t"
  # One warm-up of each (page cache), not counted.
  timed "$lb" -t -f "$conf" >/dev/null
  timed keepalived -t -f "$conf" >/dev/null
  for ((r = 0; r < rounds; r++)); do
    timed "$lb" -t -f "$conf" >>"$work/lb.t"
    timed keepalived -t -f "$conf" >>"$work/ka.t"
  done
  lbm="$(cut -d' ' -f1 "$work/lb.t" | median)" kam="$(cut -d' ' -f1 "$work/ka.t" | median)"
  printf '| %s | %d | %s | %s | %.2f | %s | %s | %.1f | %.1f | %s / %s |\n' \
    "$([ "$conf" = "$big" ] && echo "gen.sh 500 × 20" || echo keepalived.conf.example)" "$(wc -l <"$conf")" \
    "$(cut -d' ' -f1 "$work/lb.t" | stats)" "$(cut -d' ' -f1 "$work/ka.t" | stats)" \
    "$(awk -v a="$lbm" -v b="$kam" 'BEGIN { print (b > 0) ? a / b : 0 }')" \
    "$(awk '{ print $2 + $3 }' "$work/lb.t" | median)" "$(awk '{ print $2 + $3 }' "$work/ka.t" | median)" \
    "$(awk '{ print $4 }' "$work/lb.t" | median | awk '{ print $1 / 1024 }')" "$(awk '{ print $4 }' "$work/ka.t" | median | awk '{ print $1 / 1024 }')" \
    "$(cut -d' ' -f5 "$work/lb.t" | sort -u | paste -sd, -)" "$(cut -d' ' -f5 "$work/ka.t" | sort -u | paste -sd, -)"
done
echo

if ((daemon)); then
  ip netns add "$ns"
  ip -n "$ns" link add eth0 type veth peer name peer0 # (no dummy module on some kernels)
  ip -n "$ns" link set peer0 up
  ip -n "$ns" addr add 10.0.0.2/24 dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  # RSS (kB, summed) and CPU (ms, summed utime+stime) of a process and its descendants.
  weigh() {
    local pids=("$1") p kids rss=0 cpu=0 tck
    tck="$(getconf CLK_TCK)"
    for p in "${pids[@]}"; do
      kids="$(cat /proc/"$p"/task/*/children 2>/dev/null || true)"
      for k in $kids; do pids+=("$k"); done
    done
    for p in "${pids[@]}"; do
      [ -r "/proc/$p/status" ] || continue
      rss=$((rss + $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$p/status")))
      cpu=$((cpu + $(awk -v t="$tck" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / t) }' "/proc/$p/stat")))
    done
    echo "$rss $cpu ${#pids[@]}"
  }
  only=()
  [ -e /proc/net/ip_vs ] || only=(-P)
  echo "### daemon on keepalived.conf.example${only:+ with -P (no IPVS in this kernel)} (\`-n -l -f\`), ${settle} s after start, in a namespace with a veth eth0"
  echo
  echo "| tool | processes | RSS MB (sum) | CPU ms (user+sys, sum) |"
  echo "|---|---|---|---|"
  for tool in lb keepalived; do
    if [ "$tool" = lb ]; then
      ip netns exec "$ns" "$lb" -n -l "${only[@]}" -f "$example" -p "$work/lb.pid" --journal "$work/journal.jsonl" --socket "$work/lb.sock" >"$work/lb.log" 2>&1 &
    else
      ip netns exec "$ns" keepalived -n -l "${only[@]}" -f "$example" -p "$work/ka.pid" -r "$work/ka-vrrp.pid" -c "$work/ka-check.pid" >"$work/keepalived.log" 2>&1 &
    fi
    pid=$!
    echo "$pid" >"$work/$tool.run.pid"
    sleep "$settle" # a measurement window, not a synchronisation
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "| $tool | exited early | - | - |"
      tail -n 5 "$work/$tool.log" >&2
      continue
    fi
    read -r rss cpu n < <(weigh "$pid")
    printf '| %s | %d | %.1f | %d |\n' "$tool" "$n" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$cpu"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$work/$tool.run.pid"
  done
  echo
fi
echo "uptime after: $(uptime)"
