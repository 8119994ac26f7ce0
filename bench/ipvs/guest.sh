#!/usr/bin/env bash
# Runs inside the tests/kernel VM (bench/ipvs/run.sh starts it): programs the same IPVS table with
# Lb's client, ipvsadm -R and keepalived, each from an empty table, and writes RESULT lines to
# $LB_VM_RESULTS/bench.txt.
# Usage: guest.sh IPVSBENCH_DLL SERVICES DESTINATIONS ROUNDS
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dll="$1" services="$2" dests="$3" rounds="$4"
out="${LB_VM_RESULTS:?run through tests/kernel/vm.sh}"
work=/tmp/ipvs-bench
mkdir -p "$work"
entries=$((services + services * dests))
res="$out/bench.txt"
: >"$res"

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
# result NAME NOTE SAMPLE... -> "RESULT NAME <min> <median> NOTE"
result() {
  local name="$1" note="$2" stats
  shift 2
  stats="$(printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f", v[1], m }')"
  echo "RESULT $name $stats $note" | tee -a "$res"
}
count() { ipvsadm -Sn | wc -l; }
expect_full() {
  local n
  n="$(count)"
  [ "$n" = "$entries" ] || { echo "bench: expected $entries entries after $1, got $n" >&2; exit 1; }
}

{
  echo "guest_kernel $(uname -r)"
  echo "guest_cpu $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) vCPUs"
  echo "ipvsadm $(ipvsadm --version 2>&1 | head -n1)"
  echo "keepalived $(keepalived --version 2>&1 | head -n1)"
  echo "dotnet $(dotnet --version 2>/dev/null || echo '?')"
} >"$out/guest-machine.txt"
cat "$out/guest-machine.txt"

"$here/gen.sh" "$work" "$services" "$dests"
ipvsadm -C

# (1) + (4) Lb's batched client (IpvsBench leaves the full table programmed).
echo "== Lb (IpvsBench)"
t0="$(now)"
DOTNET_TieredPGO=0 dotnet "$dll" --services "$services" --dests "$dests" --rounds "$rounds" | tee -a "$res"
t1="$(now)"
result lb_process_wall "dotnet IpvsBench.dll, wall time including runtime start-up" "$(ms "$t0" "$t1")"
expect_full "IpvsBench"
ipvsadm -C

# (2) ipvsadm -R from the equivalent rules file.
echo "== ipvsadm -R"
samples=() edits=() saves=()
for ((r = 0; r < rounds; r++)); do
  ipvsadm -C
  t0="$(now)"
  ipvsadm -R <"$work/rules.ipvsadm"
  t1="$(now)"
  expect_full "ipvsadm -R"
  samples+=("$(ms "$t0" "$t1")")
  t0="$(now)"
  ipvsadm -R <"$work/edits-1pct.ipvsadm"
  t1="$(now)"
  edits+=("$(ms "$t0" "$t1")")
  t0="$(now)"
  ipvsadm -Sn >/dev/null
  t1="$(now)"
  saves+=("$(ms "$t0" "$t1")")
done
result ipvsadm_restore_empty "ipvsadm -R of $entries rules, $rounds rounds" "${samples[@]}"
result ipvsadm_restore_1pct_weights "ipvsadm -R of $(wc -l <"$work/edits-1pct.ipvsadm") precomputed -e lines (no diff), $rounds rounds" "${edits[@]}"
result ipvsadm_save "ipvsadm -Sn of $entries entries, $rounds rounds" "${saves[@]}"
ipvsadm -C

# (3) keepalived's checker process, no health checkers: time until every entry is in the kernel,
# then a reload (SIGHUP) with 1% of the weights changed (the destinations of edits-1pct.ipvsadm;
# base weights are 1-5, changed ones 11-15) until the kernel shows all the new weights.
echo "== keepalived --check"
want_lines=$((entries + 3)) # /proc/net/ip_vs has a 3-line header
changes="$(wc -l <"$work/edits-1pct.ipvsadm")"
reweighted() { awk '$1 == "->" && $4 + 0 >= 11 { n++ } END { print n + 0 }' /proc/net/ip_vs; }
starts=() reloads=() stops=()
for ((r = 0; r < rounds; r++)); do
  ipvsadm -C
  rm -f /tmp/kb-*.pid
  cp "$work/keepalived.conf" "$work/keepalived-run.conf"
  # -G: no syslog (without a syslog daemon glibc copies every line to the serial console, which is
  # slow under emulation and would distort the timing); -l logs to stderr, into a tmpfs file.
  t0="$(now)"
  keepalived -n -l -G -f "$work/keepalived-run.conf" --check -p /tmp/kb-main.pid -r /tmp/kb-vrrp.pid -c /tmp/kb-check.pid \
    >"$work/keepalived.log" 2>&1 &
  kpid=$!
  deadline=$(($(date +%s) + 900))
  while [ "$(wc -l </proc/net/ip_vs)" -lt "$want_lines" ]; do
    if ! kill -0 "$kpid" 2>/dev/null; then echo "bench: keepalived exited early:" >&2; tail -n 20 "$work/keepalived.log" >&2; exit 1; fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench: keepalived did not program the table in 900s" >&2; kill "$kpid"; exit 1; }
    sleep 0.05
  done
  t1="$(now)"
  expect_full "keepalived"
  starts+=("$(ms "$t0" "$t1")")

  cp "$work/keepalived-1pct.conf" "$work/keepalived-run.conf"
  t0="$(now)"
  kill -HUP "$kpid"
  deadline=$(($(date +%s) + 300))
  while [ "$(reweighted)" -lt "$changes" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench: keepalived's reload did not apply the weights in 300s" >&2; exit 1; }
    sleep 0.05
  done
  t1="$(now)"
  reloads+=("$(ms "$t0" "$t1")")
  expect_full "keepalived reload"

  t0="$(now)"
  kill -TERM "$kpid"
  wait "$kpid" || true
  t1="$(now)"
  stops+=("$(ms "$t0" "$t1")")
done
cp "$work/keepalived.log" "$out/keepalived.log"
result keepalived_start_to_full "keepalived -n --check start until $entries entries are in the kernel (polling /proc/net/ip_vs every 50 ms), $rounds rounds" "${starts[@]}"
result keepalived_reload_1pct_weights "SIGHUP with $changes weights changed until the kernel shows them all, $rounds rounds" "${reloads[@]}"
result keepalived_shutdown "SIGTERM until keepalived exited (it removes its entries), $rounds rounds" "${stops[@]}"
ipvsadm -C
echo "== done"
