#!/usr/bin/env bash
# Runs corpus configurations through `keepalived -t` (the oracle, 2.2.7) and `lb -t`, both inside one network namespace
# holding exactly the interfaces of interfaces.txt (as KeepalivedOracleTests does), and prints for each file both exit
# codes and both diagnostics, then the agreement of exit codes per directory.
#
#   sudo tests/Lb.Tests/Config/Corpus/compare.sh [--lb 'COMMAND'] [--diff-only] [FILE|DIR ...]
#
#   --lb 'COMMAND'  how to run Lb (default: build src/Lb once into /tmp/lb-compare-art and run `dotnet .../lb.dll`)
#   --diff-only     print diagnostics only for files whose exit codes differ
#   FILE|DIR        corpus files or directories (default: every *.conf under this directory)
#
# Output: one block per file
#   == third-party/01-x.conf  keepalived 5  lb 0  DIFF
#     K| (keepalived's lines, its start-up banner removed)
#     L| (Lb's diagnostics)
# and a table: directory, files, identical exit codes, percentage. Needs root (network namespace) and keepalived.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
lb_cmd=""
diff_only=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --lb) lb_cmd="$2"; shift 2 ;;
        --diff-only) diff_only=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "compare.sh: needs root (network namespace)" >&2; exit 2; }
command -v keepalived >/dev/null || { echo "compare.sh: keepalived is not installed" >&2; exit 2; }

if [ -z "$lb_cmd" ]; then
    art=/tmp/lb-compare-art
    dotnet build "$repo/src/Lb" -c Release --nologo -v q --artifacts-path "$art" >&2 || exit 2
    lb_cmd="dotnet $art/bin/Lb/release/lb.dll"
fi

files=()
[ ${#targets[@]} -eq 0 ] && targets=("$here")
for t in "${targets[@]}"; do
    if [ -d "$t" ]; then
        while IFS= read -r f; do files+=("$f"); done < <(find "$(cd "$t" && pwd)" -name '*.conf' -type f | LC_ALL=C sort)
    else
        files+=("$(cd "$(dirname "$t")" && pwd)/$(basename "$t")")
    fi
done

ns="lb-compare-$$"
work=$(mktemp -d /tmp/lb-compare.XXXXXX)
cleanup() { ip netns del "$ns" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
i=0
while IFS= read -r name; do
    name="${name%%#*}"; name="$(echo "$name" | tr -d '[:space:]')"
    [ -z "$name" ] || [ "$name" = lo ] && continue
    # The namespace end of a veth pair is the NIC; the host end goes away with the namespace.
    ip link add "lbc$$x$i" type veth peer name "$name" netns "$ns" || exit 2
    i=$((i + 1))
done < "$here/interfaces.txt"

# keepalived's start-up and shut-down lines, which say nothing about the configuration.
banner='^(Starting Keepalived|Running on |Command line:|Configuration file |Opening file |NOTICE: setting config option max_auto_priority|Starting (VRRP|Healthcheck|BFD) child process|Stopped|Stopping|WARNING - default user .keepalived_script. for script execution does not exist)'

declare -A total agree
for f in "${files[@]}"; do
    rel="${f#"$here"/}"
    dir="${rel%%/*}"; [ "$dir" = "$rel" ] && dir="(top)"
    d="$work/k"; mkdir -p "$d"
    # $(...) waits for every writer of the pipe: keepalived's children may still be logging after the parent exits.
    kout=$(cd "$(dirname "$f")" && ip netns exec "$ns" keepalived -t -l -f "$f" -p "$d/p" -r "$d/r" -c "$d/c" -b "$d/b" 2>&1)
    kcode=$?
    lout=$(ip netns exec "$ns" $lb_cmd -t -f "$f" 2>&1)
    lcode=$?
    total[$dir]=$(( ${total[$dir]:-0} + 1 ))
    verdict=DIFF
    if [ "$kcode" = "$lcode" ]; then verdict=same; agree[$dir]=$(( ${agree[$dir]:-0} + 1 )); fi
    printf '== %s  keepalived %s  lb %s  %s\n' "$rel" "$kcode" "$lcode" "$verdict"
    if [ $diff_only = 0 ] || [ $verdict = DIFF ]; then
        printf '%s\n' "$kout" | grep -Ev "$banner" | grep -v '^$' | sed "s|$here/||g; s/^/  K| /"
        printf '%s\n' "$lout" | grep -v '^$' | sed "s|$here/||g; s/^/  L| /"
    fi
done

echo
printf '%-20s %6s %10s %7s\n' directory files same-exit percent
for dir in $(printf '%s\n' "${!total[@]}" | LC_ALL=C sort); do
    a=${agree[$dir]:-0}; t=${total[$dir]}
    printf '%-20s %6d %10d %6d%%\n' "$dir" "$t" "$a" $(( 100 * a / t ))
done
