#!/usr/bin/env bash
# Sanity check of the VM harness itself, independent of Lb: IPVS works through the real ipvsadm,
# every scheduler is available, namespaces/veth/bridge/dummy work, and the writable places are.
#
# Usage: tests/kernel/selftest.sh            boots the VM and runs the checks there
#        tests/kernel/selftest.sh --guest    runs the checks (inside the VM; run.sh does this)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "${1:-}" != "--guest" ]; then
  exec bash "$here/vm.sh" --timeout "${LB_VM_TIMEOUT:-600}" -- bash "$here/selftest.sh" --guest
fi

failures=0
pass() { printf '[selftest] ok   %s\n' "$*"; }
fail() { printf '[selftest] FAIL %s\n' "$*"; failures=$((failures + 1)); }
check() { # <description> <command...>
  local what="$1" out
  shift
  if out="$("$@" 2>&1)"; then pass "$what"; else fail "$what: $out"; fi
}

if [ "${LB_KERNEL_VM:-}" = 1 ]; then pass "LB_KERNEL_VM=1"; else fail "LB_KERNEL_VM is '${LB_KERNEL_VM:-}'"; fi
if grep -q '^ip_vs ' /proc/modules; then pass "ip_vs loaded ($(uname -r))"; else fail "ip_vs is not loaded"; fi

# The check from the issue: a wrr service with one DR destination, read back with ipvsadm -Sn.
ipvsadm -C
out="$(ipvsadm -A -t 10.0.0.1:80 -s wrr && ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 2 && ipvsadm -Sn 2>&1)" || true
expected="-A -t 10.0.0.1:80 -s wrr
-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 2"
if [ "$out" = "$expected" ]; then pass "ipvsadm -Sn shows the wrr service and its DR destination"; else
  fail "ipvsadm -Sn: expected
$expected
got
$out"
fi
ipvsadm -C

# Every scheduler (modules loaded at boot; the kernel would also autoload them).
n=0
for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh; do
  n=$((n + 1))
  if ipvsadm -A -t "10.0.1.$n:80" -s "$s" 2>/dev/null && ipvsadm -Sn | grep -q -- "-A -t 10.0.1.$n:80 -s $s\$"; then :; else fail "scheduler $s"; fi
done
count="$(ipvsadm -Sn | grep -c '^-A' || true)"
if [ "$count" = "$n" ]; then pass "all $n schedulers"; else fail "expected $n services, got $count"; fi
ipvsadm -C
# IPv6, fwmark, UDP and a NAT destination.
check "IPv6 service + NAT destination" bash -c 'ipvsadm -A -t [2001:db8::1]:443 -s rr && ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::2]:8443 -m -w 1 && ipvsadm -Sn | grep -q "2001:db8::2"'
# shellcheck disable=SC2016 # expanded by the inner bash
check "fwmark and UDP services" bash -c 'ipvsadm -A -f 7 -s sh && ipvsadm -A -u 10.0.0.9:53 -s rr && test "$(ipvsadm -Sn | grep -c "^-A")" = 3'
ipvsadm -C

# Network plumbing the namespace tests need.
check "netns + veth + bridge + dummy + macvlan" bash -c '
  set -e
  ip netns add lbself
  ip link add lbs0 type veth peer name lbs1
  ip link set lbs1 netns lbself
  ip link add lbsbr type bridge && ip link set lbs0 master lbsbr
  ip link add lbsd type dummy && ip link add lbsm link lbsd type macvlan mode bridge
  ip addr add 192.0.2.1/24 dev lbsbr && ip link set lbsbr up && ip link set lbs0 up
  ip -n lbself addr add 192.0.2.2/24 dev lbs1 && ip -n lbself link set lbs1 up && ip -n lbself link set lo up
  ping -c1 -W5 192.0.2.2 >/dev/null
  ip link del lbsm; ip link del lbsd; ip link del lbsbr; ip link del lbs0; ip netns del lbself'
check "lo is up" bash -c 'ip -o link show lo | grep -q "UP"'

for d in /tmp /run /var/tmp /var/lib/lb "$HOME"; do
  check "$d writable" bash -c "touch '$d/.lb-selftest' && rm '$d/.lb-selftest'"
done
check "kmod modprobe works in the chroot" modprobe ip_vs_rr

if command -v dotnet >/dev/null 2>&1; then
  t0="$(date +%s.%N)"
  check "dotnet runs ($(dotnet --version 2>/dev/null || echo '?'))" dotnet --list-runtimes
  pass "dotnet --version + --list-runtimes took $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")s"
fi

if ((failures)); then
  printf '[selftest] %d check(s) failed\n' "$failures"
  exit 1
fi
printf '[selftest] all checks passed\n'
