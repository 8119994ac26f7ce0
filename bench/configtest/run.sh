#!/usr/bin/env bash
# `lb -t -f CONF` vs `keepalived -t -f CONF`, whole process, alternating runs (the first product swapped every
# round), timed with /usr/bin/time: wall, user+sys CPU, peak RSS. CONF: the 32,504-line configuration that
# bench/ipvs/gen.sh writes (500 virtual servers x 20 real servers), and keepalived.conf.example.
# Runs on the host (no IPVS needed). Prints markdown tables (min / median / max, ratio) and the raw lines.
#
# Usage: bench/configtest/run.sh [--rounds R]   (default 10)
# Environment: LB (lb binary; default: built by bench/lib/lb.sh), LB_BENCH_ARTIFACTS, LB_BENCH_RESULTS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$repo/bench/lib/lb.sh"
rounds=10
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
ka="$(command -v keepalived || echo /usr/sbin/keepalived)"
lb="$(lb_binary)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/lb-configtest.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
results="${LB_BENCH_RESULTS:-$tmp}"
mkdir -p "$results"
bash "$repo/bench/ipvs/gen.sh" "$tmp" 500 20
big="$tmp/keepalived.conf"
example="$repo/keepalived.conf.example"
load_before="$(uptime)"

# one PRODUCT CONFNAME CONF ROUND
one() {
  local prod="$1" name="$2" conf="$3" r="$4" bin rc=0
  if [ "$prod" = lb ]; then bin="$lb"; else bin="$ka"; fi
  /usr/bin/time -o "$tmp/time" -f '%e %U %S %M' "$bin" -t -f "$conf" >"$tmp/out" 2>&1 || rc=$?
  # /usr/bin/time prints "Command exited with non-zero status N" first when the command fails
  read -r e u s m < <(tail -n1 "$tmp/time")
  {
    echo "RAW $prod $r wall_ms $(awk -v v="$e" 'BEGIN { print v * 1000 }')"
    echo "RAW $prod $r cpu_ms $(awk -v a="$u" -v b="$s" 'BEGIN { print (a + b) * 1000 }')"
    echo "RAW $prod $r maxrss_mib $(awk -v v="$m" 'BEGIN { printf "%.1f", v / 1024 }')"
    echo "RAW $prod $r exit $rc"
  } >>"$results/raw-$name.txt"
}

for name in big example; do
  conf="$big"; [ "$name" = example ] && conf="$example"
  : >"$results/raw-$name.txt"
  "$lb" -t -f "$conf" >/dev/null 2>&1 || true; "$ka" -t -f "$conf" >/dev/null 2>&1 || true # warm the page cache
  for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then order="lb keepalived"; else order="keepalived lb"; fi
    for p in $order; do one "$p" "$name" "$conf" "$r"; done
  done
done

cat <<MD

### \`lb -t\` vs \`keepalived -t\` (whole process, /usr/bin/time)

Generated configuration ($(wc -l <"$big") lines, \`bench/ipvs/gen.sh\`: 500 virtual servers × 20 real servers):

$(python3 "$repo/bench/lib/summarize.py" --metrics "$here/metrics.tsv" "$results/raw-big.txt")

\`keepalived.conf.example\` ($(wc -l <"$example") lines):

$(python3 "$repo/bench/lib/summarize.py" --metrics "$here/metrics.tsv" "$results/raw-example.txt")

$rounds alternating runs per product and configuration (first product swapped every round), after one untimed run
of each. lb: $(lb_describe "$lb"); $("$ka" --version 2>&1 | head -n1).
Host: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), $(nproc) cores, Linux $(uname -r); load before: ${load_before##*load average: }, after: $(uptime | sed 's/.*load average: //').
Measured $(date -u '+%Y-%m-%d %H:%M UTC'). Reproduce: \`bench/configtest/run.sh --rounds $rounds\` (\`LB=path/to/lb\` to use a given binary).

<details><summary>raw samples</summary>

\`\`\`
$(cat "$results/raw-big.txt" | sed 's/^RAW /RAW big /')
$(cat "$results/raw-example.txt" | sed 's/^RAW /RAW example /')
\`\`\`
</details>
MD
