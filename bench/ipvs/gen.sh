#!/usr/bin/env bash
# Writes the benchmark's IPVS table in the forms the other tools read, into OUTDIR:
#   rules.ipvsadm          for `ipvsadm -R` (S services, wrr, x D direct-routing destinations)
#   edits-1pct.ipvsadm     1% of the destinations get a new weight (`ipvsadm -R` of -e lines)
#   keepalived.conf        the same table as S virtual_server blocks, no health checkers
#   keepalived-1pct.conf   keepalived.conf with the weights of edits-1pct.ipvsadm (for a reload)
#   rules-1pct.ipvsadm     rules.ipvsadm with those weights (the table expected after the reload)
# The table is the one bench/ipvs/IpvsBench builds (BenchTable): service i is 10.1.(i/200).(i%200+1):80,
# its destination k is 10.2.(i/10).((i%10)*20+k+1):80 with weight 1+k%5.
# Usage: gen.sh OUTDIR [SERVICES] [DESTINATIONS]
set -euo pipefail
out="${1:?usage: gen.sh OUTDIR [SERVICES] [DESTINATIONS]}"
services="${2:-500}" dests="${3:-20}"
mkdir -p "$out"
awk -v S="$services" -v D="$dests" -v out="$out" 'BEGIN {
  rules = out "/rules.ipvsadm"; edits = out "/edits-1pct.ipvsadm"; conf = out "/keepalived.conf"
  conf2 = out "/keepalived-1pct.conf"; rules2 = out "/rules-1pct.ipvsadm"
  printf "global_defs {\n  router_id lb_bench\n}\n\n" > conf
  printf "global_defs {\n  router_id lb_bench\n}\n\n" > conf2
  changes = int(S * D / 100); if (changes < 1) changes = 1
  step = int(S / changes); if (step < 1) step = 1
  for (n = 0; n < changes; n++) changed[(n * step) % S, n % D] = 1
  for (i = 0; i < S; i++) {
    vip = sprintf("10.1.%d.%d", int(i / 200), i % 200 + 1)
    printf "-A -t %s:80 -s wrr\n", vip > rules
    printf "-A -t %s:80 -s wrr\n", vip > rules2
    printf "virtual_server %s 80 {\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP\n", vip > conf
    printf "virtual_server %s 80 {\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP\n", vip > conf2
    for (k = 0; k < D; k++) {
      rip = sprintf("10.2.%d.%d", int(i / 10), (i % 10) * 20 + k + 1)
      w = 1 + k % 5
      printf "-a -t %s:80 -r %s:80 -g -w %d\n", vip, rip, w > rules
      printf "-a -t %s:80 -r %s:80 -g -w %d\n", vip, rip, ((i, k) in changed ? w + 10 : w) > rules2
      printf "  real_server %s 80 {\n    weight %d\n  }\n", rip, w > conf
      printf "  real_server %s 80 {\n    weight %d\n  }\n", rip, ((i, k) in changed ? w + 10 : w) > conf2
    }
    printf "}\n" > conf
    printf "}\n" > conf2
  }
  for (n = 0; n < changes; n++) {
    i = (n * step) % S; k = n % D
    printf "-e -t 10.1.%d.%d:80 -r 10.2.%d.%d:80 -g -w %d\n", int(i / 200), i % 200 + 1, int(i / 10), (i % 10) * 20 + k + 1, 11 + k % 5 > edits
  }
}'
