#!/usr/bin/env bash
# Lb's whole job in one command: build lb, check keepalived.conf.example (lb -t), then run demo/lab.sh — two
# directors running lb in front of three DR web servers and a client, in network namespaces: requests, a web server
# stopping, the MASTER director dying, with lb status / lb journal along the way. Where the running kernel has no IPVS,
# the lab runs inside the tests/kernel VM (Debian's stock kernel under qemu), automatically.
#
# Usage: demo/demo.sh [--lb PATH] [--vm | --host] [--keep]
#   --lb PATH   use this lb instead of publishing src/Lb (NativeAOT) into artifacts/lb
#   --vm        run the lab in the kernel VM even if this kernel has IPVS
#   --host      never use the VM (fails when this kernel has no IPVS)
#   --keep      keep the lab's work directory (journals, lb logs); in the VM it lives in a kept results directory
# Environment: LB_DEMO_VM_TIMEOUT (seconds, default 900) bounds the VM; LB_DEMO_* bounds of demo/lab.sh pass through.
# Exit codes: 0 every step worked; otherwise non-zero, with the failing step named on the last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

lb="" mode=auto keep=0
while (($#)); do
  case "$1" in
    --lb) lb="${2:?--lb needs a path}"; shift 2 ;;
    --vm) mode=vm; shift ;;
    --host) mode=host; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage ;;
    *) echo "demo: unknown option $1" >&2; usage ;;
  esac
done

config="$repo/keepalived.conf.example"
t0="$(date +%s.%N)"
step_no=0 step_title="start"
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }
step() {
  step_no=$((step_no + 1))
  step_title="$*"
  printf '\n=== %s  [host, demo +%ss]  step %d: %s\n' "$(date +%H:%M:%S)" "$(secs "$t0" "$(date +%s.%N)")" "$step_no" "$*"
}
note() { printf '    %s\n' "$*"; }
die() { # EXIT-CODE MESSAGE
  printf '\ndemo: FAILED at step %d (%s): %s\n' "$step_no" "$step_title" "$2" >&2
  exit "$1"
}

# The lab (or the VM running it) is a child: stopped with the demo, and its results removed, on every exit path.
child="" results=""
# shellcheck disable=SC2317,SC2329 # invoked by the trap
cleanup() {
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true # vm.sh stops qemu, lab.sh its lab
    wait "$child" 2>/dev/null || true
  fi
  if [ -n "$results" ] && ((keep == 0)); then rm -rf "$results"; fi
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT
trap 'echo "demo: terminated" >&2; exit 143' TERM

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (network namespaces, IPVS; the VM needs no root but the lab inside it does)" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------------------------------
if [ -z "$lb" ]; then
  step "build lb (dotnet publish src/Lb -c Release -o artifacts/lb: a NativeAOT executable)"
  command -v dotnet >/dev/null || die 2 "the .NET SDK (dotnet) is not installed"
  build_log="$(mktemp "${TMPDIR:-/tmp}/lb-demo-build.XXXXXX")"
  if ! dotnet publish src/Lb/Lb.csproj -c Release -v q -nologo -o artifacts/lb >"$build_log" 2>&1; then
    grep -E 'error|Error' "$build_log" | sort -u | head -n 30 >&2 || tail -n 30 "$build_log" >&2
    rm -f "$build_log"
    die 1 "dotnet publish failed"
  fi
  rm -f "$build_log"
  lb="$repo/artifacts/lb/lb"
  note "built $lb ($("$lb" --version))"
fi
[ -x "$lb" ] || die 2 "$lb is not executable"
lb="$(cd "$(dirname "$lb")" && pwd)/$(basename "$lb")"

step "check the configuration: lb -t (keepalived -t's verdict and exit code)"
for id in "" director2; do
  printf '$ lb -t -f keepalived.conf.example%s\n' "${id:+ -i $id}"
  rc=0
  "$lb" -t -f "$config" ${id:+-i "$id"} 2>&1 | sed 's/^/  /' || rc=$?
  note "exit code $rc"
  ((rc == 0)) || die 1 "lb -t rejected keepalived.conf.example${id:+ (-i $id)}"
done
has_status=no
if "$lb" --help 2>/dev/null | grep -qE '^ +lb status'; then has_status=yes; fi

step "find a kernel with IPVS"
if [ "$mode" = auto ]; then
  mode=vm
  if [ -e /proc/net/ip_vs ] || { modprobe ip_vs 2>/dev/null && [ -e /proc/net/ip_vs ]; }; then mode=host; fi
  if [ "$mode" = host ]; then
    note "this kernel ($(uname -r)) has IPVS: the lab runs here"
  else
    note "this kernel ($(uname -r)) has no IPVS (/proc/net/ip_vs is absent, modprobe ip_vs fails):"
    note "the lab runs in the kernel VM (tests/kernel/vm.sh: Debian's stock kernel under qemu, this machine's root shared)"
  fi
fi

lab_args=(--lb "$lb" --config "$config" --step-base "$step_no" --status "$has_status")
lab_start="$(date +%s.%N)"
rc=0
if [ "$mode" = host ]; then
  results="$(mktemp -d "${TMPDIR:-/tmp}/lb-demo-results.XXXXXX")"
  ((keep)) && lab_args+=(--keep)
  demo/lab.sh "${lab_args[@]}" --report "$results/lab-report" &
  child=$!
  wait "$child" || rc=$?
  child=""
else
  results="$(mktemp -d "${TMPDIR:-/tmp}/lb-demo-vm.XXXXXX")"
  ((keep)) && lab_args+=(--work "$results/work")
  # The VM exposes the repo and the current directory; anything else lb lives in must be bound explicitly.
  bind=()
  case "$(dirname "$lb")/" in "$repo"/*) ;; *) bind=(--bind "$(dirname "$lb")") ;; esac
  for attempt in 1 2; do
    rc=0
    tests/kernel/vm.sh --results "$results" --timeout "${LB_DEMO_VM_TIMEOUT:-900}" "${bind[@]}" -- \
      demo/lab.sh "${lab_args[@]}" --report "$results/lab-report" &
    child=$!
    wait "$child" || rc=$?
    child=""
    # 125: the VM died before the command finished (qemu itself crashing under TCG has been seen): try once more.
    if ((rc == 125)) && ((attempt == 1)) && [ ! -s "$results/lab-report" ]; then
      note "the VM died before the lab finished (qemu exit); booting it once more"
      continue
    fi
    break
  done
fi
lab_end="$(date +%s.%N)"
report="$(cat "$results/lab-report" 2>/dev/null || true)"
if ((keep)); then note "lab results kept in $results"; fi

host_part="$(secs "$t0" "$lab_start")"
lab_part="$(secs "$lab_start" "$lab_end")"
if ((rc == 0)) && [ "$report" = ok ]; then
  printf '\ndemo: every step worked (%ss before the lab, %ss for the lab%s)\n' "$host_part" "$lab_part" "$([ "$mode" = vm ] && echo ', VM boot included')"
  exit 0
fi
case "$rc" in
  124) why="the VM timed out after ${LB_DEMO_VM_TIMEOUT:-900}s" ;;
  125) why="the VM died before the lab finished" ;;
  2) why="the lab could not start (usage or a missing prerequisite, see above)" ;;
  *) why="the lab exited with $rc" ;;
esac
printf '\ndemo: FAILED in the lab: %s\n' "${report:-$why}" >&2
((rc != 0)) || rc=1
exit "$rc"
