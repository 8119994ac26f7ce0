#!/usr/bin/env bash
# Writes a checker-scale configuration: N real servers (10.100.x.y:80, x = j/250, y = j%250+1), 100 per virtual
# server (10.200.x.y:80, wrr, DR), each checked by KIND (HTTP_GET of /health expecting 200, or TCP_CHECK),
# delay_loop 1, connect_timeout 5 (the other checker keywords at their defaults, the same in both products).
# Also writes addrs.batch (`ip -batch` lines adding every real-server address to lo). With N2 KIND2, N2 more real
# servers checked by KIND2 follow (addresses and virtual servers continue the numbering). PREAMBLE: a file whose
# text goes first (e.g. global_defs and a vrrp_instance); default a global_defs block.
# Usage: gen.sh OUTDIR N HTTP_GET|TCP_CHECK [N2 KIND2 [PREAMBLE]]
set -euo pipefail
out="$1" n="$2" kind="$3" n2="${4:-0}" kind2="${5:-TCP_CHECK}" pre="${6:-}"
mkdir -p "$out"
if [ -n "$pre" ]; then cp "$pre" "$out/checks.conf"; else printf 'global_defs {\n  router_id lb_checkscale\n}\n' >"$out/checks.conf"; fi
awk -v N="$((n + n2))" -v N1="$n" -v K1="$kind" -v K2="$kind2" -v conf="$out/checks.conf" -v batch="$out/addrs.batch" 'BEGIN {
  printf "" > batch
  per = 100
  for (j = 0; j < N; j++) {
    if (j % per == 0) {
      if (j) printf "}\n" >> conf
      v = j / per
      printf "virtual_server 10.200.%d.%d 80 {\n  delay_loop 1\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP\n", int(v / 250), v % 250 + 1 >> conf
    }
    K = j < N1 ? K1 : K2
    rip = sprintf("10.100.%d.%d", int(j / 250), j % 250 + 1)
    printf "address add %s/32 dev lo\n", rip > batch
    printf "  real_server %s 80 {\n    weight 1\n", rip >> conf
    if (K == "HTTP_GET")
      printf "    HTTP_GET {\n      url {\n        path /health\n        status_code 200\n      }\n      connect_timeout 5\n    }\n" >> conf
    else
      printf "    TCP_CHECK {\n      connect_timeout 5\n    }\n" >> conf
    printf "  }\n" >> conf
  }
  printf "}\n" >> conf
}'
