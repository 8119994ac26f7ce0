#!/usr/bin/env bash
# Runs inside the tests/kernel VM (bench/product/run.sh starts it). Per round, Lb and keepalived (alternating,
# the first product swapped every round) each: start with the S x D configuration (no health checkers) until
# /proc/net/ip_vs holds every entry; SIGHUP with 1% of the weights changed until the kernel shows them all;
# SIGTERM until the table is empty and until the process has exited. Writes `RAW <product> <round> <metric>
# <value>` lines to $LB_VM_RESULTS/raw.txt.
# Usage: guest.sh LB_BINARY PTREE_BINARY SERVICES DESTINATIONS ROUNDS
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lb="$1" ptree="$2" services="$3" dests="$4" rounds="$5"
out="${LB_VM_RESULTS:?run through tests/kernel/vm.sh}"
work=/tmp/product-bench
poll=0.1
mkdir -p "$work"
entries=$((services + services * dests))
raw="$out/raw.txt"
: >"$raw"

{
  echo "guest_kernel $(uname -r)"
  echo "guest_cpu $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) vCPUs, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo)"
  echo "ipvsadm $(ipvsadm --version 2>&1 | head -n1)"
  echo "keepalived $(keepalived --version 2>&1 | head -n1)"
  echo "lb $("$lb" --version 2>&1 | head -n1)"
} >"$out/guest-machine.txt"
cat "$out/guest-machine.txt"

"$here/../ipvs/gen.sh" "$work" "$services" "$dests"
sort "$work/rules.ipvsadm" >"$work/want-full"
sort "$work/rules-1pct.ipvsadm" >"$work/want-1pct"
changes="$(wc -l <"$work/edits-1pct.ipvsadm")"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
lines() { awk 'END { print NR - 3 }' /proc/net/ip_vs; } # entries (3 header lines)
reweighted() { awk '$1 == "->" && $4 + 0 >= 11 { n++ } END { print n + 0 }' /proc/net/ip_vs; }
rec() { echo "RAW $1 $2 $3 $4" | tee -a "$raw"; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# run_one PRODUCT ROUND
run_one() {
  local prod="$1" r="$2" pid t0 t1 deadline s conf="$work/run.conf" log="$work/$1-$2.log"
  ipvsadm -C
  cp "$work/keepalived.conf" "$conf"
  rm -f /tmp/pb-*.pid
  # Both log to stderr only (-l -G: no syslog; without a syslog daemon libc would copy every line to the
  # serial console, slow under emulation), into a tmpfs file.
  t0="$(now)"
  if [ "$prod" = lb ]; then
    "$lb" -n -l -G -C -f "$conf" >"$log" 2>&1 &
  else
    keepalived -n -l -G -C -f "$conf" -p /tmp/pb-main.pid -r /tmp/pb-vrrp.pid -c /tmp/pb-check.pid >"$log" 2>&1 &
  fi
  pid=$!
  # start -> complete table
  deadline=$(($(date +%s) + 900))
  while [ "$(lines)" -lt "$entries" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "bench: $prod exited early:" >&2; tail -n 20 "$log" >&2; rec "$prod" "$r" start_s failed; return 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "bench: $prod: table incomplete after 900 s ($(lines) of $entries)" >&2; rec "$prod" "$r" start_s timeout; kill -9 "$pid"; wait "$pid"; return 1; fi
    sleep "$poll"
  done
  t1="$(now)"
  s="$("$ptree" "$pid")"
  rec "$prod" "$r" start_s "$(secs "$t0" "$t1")"
  rec "$prod" "$r" start_cpu_s "$(field cpu_s "$s")"
  rec "$prod" "$r" start_rss_mib "$(awk -v k="$(field rss_kib "$s")" 'BEGIN { printf "%.1f", k / 1024 }')"
  rec "$prod" "$r" processes "$(field n "$s")"
  # the table must be exactly the configuration (checked after the timing)
  sleep 1
  if ! ipvsadm -Sn | sort | cmp -s - "$work/want-full"; then echo "bench: $prod: table differs from the configuration" >&2; ipvsadm -Sn | sort | diff - "$work/want-full" | head >&2; rec "$prod" "$r" table_ok 0; else rec "$prod" "$r" table_ok 1; fi

  # SIGHUP with 1% of the weights changed -> the kernel shows them all
  cp "$work/keepalived-1pct.conf" "$conf"
  t0="$(now)"
  kill -HUP "$pid"
  deadline=$(($(date +%s) + 600))
  while [ "$(reweighted)" -lt "$changes" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "bench: $prod: reload not visible after 600 s ($(reweighted) of $changes)" >&2; rec "$prod" "$r" reload_s timeout; break; fi
    sleep "$poll"
  done
  t1="$(now)"
  [ "$(reweighted)" -lt "$changes" ] || rec "$prod" "$r" reload_s "$(secs "$t0" "$t1")"
  sleep 1
  if ! ipvsadm -Sn | sort | cmp -s - "$work/want-1pct"; then echo "bench: $prod: table after the reload differs from the configuration" >&2; ipvsadm -Sn | sort | diff - "$work/want-1pct" | head >&2; rec "$prod" "$r" reload_table_ok 0; else rec "$prod" "$r" reload_table_ok 1; fi
  s="$("$ptree" "$pid")"
  rec "$prod" "$r" peak_rss_mib "$(awk -v k="$(field hwm_kib "$s")" 'BEGIN { printf "%.1f", k / 1024 }')"
  rec "$prod" "$r" cpu_total_s "$(field cpu_s "$s")"

  # SIGTERM -> empty table, and -> process exit
  t0="$(now)"
  kill -TERM "$pid"
  deadline=$(($(date +%s) + 600))
  local empty=""
  while :; do
    if [ -z "$empty" ] && [ "$(lines)" -le 0 ]; then empty="$(now)"; rec "$prod" "$r" stop_empty_s "$(secs "$t0" "$empty")"; fi
    kill -0 "$pid" 2>/dev/null || break
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "bench: $prod: still running 600 s after SIGTERM" >&2; rec "$prod" "$r" stop_exit_s timeout; kill -9 "$pid"; break; fi
    sleep "$poll"
  done
  wait "$pid" 2>/dev/null
  t1="$(now)"
  kill -0 "$pid" 2>/dev/null || rec "$prod" "$r" stop_exit_s "$(secs "$t0" "$t1")"
  [ -n "$empty" ] || { rec "$prod" "$r" stop_empty_s "$( [ "$(lines)" -le 0 ] && secs "$t0" "$(now)" || echo failed)"; }
  rec "$prod" "$r" stop_left "$(lines)" # entries left in the kernel after the process exited
  grep -E "did not finish|failed to die|forcing termination" "$log" | sed "s/^/bench: $prod round $r: /" >&2
  cp "$log" "$out/"
  ipvsadm -C
}

for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order="lb keepalived"; else order="keepalived lb"; fi
  for p in $order; do
    echo "== round $r: $p ($(date -u +%T))"
    run_one "$p" "$r"
    sleep 2
  done
done
echo "== done"
