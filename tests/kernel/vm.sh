#!/usr/bin/env bash
# Runs one command inside a qemu VM that boots Debian's stock kernel (IPVS as modules), with the
# host's root shared read-only (tmpfs overlay on top), ip_vs and all its schedulers loaded, and
# LB_KERNEL_VM=1. Streams the command's output and exits with its exit code.
#
# Usage: tests/kernel/vm.sh [--results DIR] [--bind PATH]... [--timeout SECONDS] [--quiet] -- COMMAND [ARG...]
#   --results DIR   a host directory the guest can write (same path inside the VM, also in
#                   $LB_VM_RESULTS); kept afterwards. Default: a temp dir, removed at exit.
#                   The guest writes vm-output.log and vm-exit-code there.
#   --bind PATH     expose a host path that lives under /tmp, /var/tmp or /run (those are fresh
#                   tmpfs mounts in the guest) read-only at the same path. The repo, the current
#                   directory, $NUGET_PACKAGES and the paths in $LB_VM_BIND (colon-separated) are
#                   exposed automatically.
#   --timeout SEC   kill the VM after SEC seconds (default $LB_VM_TIMEOUT or 2400); exit code 124.
#   --quiet         do not stream the guest's console (it is still in vm-output.log).
# Environment: LB_VM_MEM (MiB, default 3072), LB_VM_SMP (default 2), LB_VM_TIMEOUT, LB_KERNEL_KIT_CACHE.
# Exit codes: the command's; 124 timeout; 125 the VM died before the command finished; 2 usage or
# missing prerequisites.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
log() { printf '[vm] %s\n' "$*" >&2; }

results="" quiet=0 timeout_s="${LB_VM_TIMEOUT:-2400}"
binds=()
while (($#)); do
  case "$1" in
    --results) results="$2"; shift 2 ;;
    --bind) binds+=("$2"); shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) log "unknown option $1"; usage ;;
  esac
done
(($#)) || { log "no command given"; usage; }

if ! why="$(bash "$here/kit.sh" --check)"; then
  log "cannot run the VM; missing: $why"
  exit 2
fi
kit="$(bash "$here/kit.sh")"

qpid=""
tmp_results=""
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
  if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
    kill "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
  fi
  if [ -n "$tmp_results" ]; then rm -rf "$tmp_results"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

if [ -z "$results" ]; then
  tmp_results="$(mktemp -d "${TMPDIR:-/tmp}/lb-vm.XXXXXX")"
  results="$tmp_results"
else
  mkdir -p "$results"
fi
results="$(cd "$results" && pwd -P)"
case "$results" in *[[:space:]\'\"\\]*) log "the results path must not contain spaces or quotes: $results"; exit 2 ;; esac
rm -rf "$results/.lb-vm" "$results/vm-exit-code" "$results/vm-output.log"
mkdir -p "$results/.lb-vm"

# Paths to expose under the guest's tmpfs mounts.
nuget="${NUGET_PACKAGES:-${HOME:-/root}/.nuget/packages}"
bind_paths=("$repo" "$(pwd -P)" "$nuget" "${binds[@]}")
if [ -n "${LB_VM_BIND:-}" ]; then IFS=: read -r -a extra <<<"$LB_VM_BIND"; bind_paths+=("${extra[@]}"); fi
bind_list=""
for p in "${bind_paths[@]}"; do
  [ -e "$p" ] || continue
  p="$(cd "$p" 2>/dev/null && pwd -P || echo "$p")"
  case "$p" in *[[:space:]\'\"\\]*) log "warning: cannot expose a path with spaces: $p"; continue ;; esac
  bind_list="$bind_list $p"
done
{
  printf "RESULTS_PATH='%s'\n" "$results"
  printf "BIND_PATHS='%s'\n" "${bind_list# }"
} >"$results/.lb-vm/vm.conf"

# The command, with a clean environment (env -i in the guest).
{
  echo '#!/bin/bash'
  printf 'export %s\n' \
    "HOME=/tmp/home" "DOTNET_CLI_HOME=/tmp/home" "DOTNET_CLI_TELEMETRY_OPTOUT=1" "DOTNET_NOLOGO=1" \
    "DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1" "DOTNET_GENERATE_ASPNET_CERTIFICATE=false" \
    "DOTNET_ADD_GLOBAL_TOOLS_TO_PATH=false" "LANG=C.UTF-8" "TERM=dumb" "LB_KERNEL_VM=1"
  printf 'export NUGET_PACKAGES=%q\n' "$nuget"
  printf 'export LB_VM_RESULTS=%q\n' "$results"
  printf 'export PATH=%q\n' "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
  [ -n "${DOTNET_ROOT:-}" ] && printf 'export DOTNET_ROOT=%q\n' "$DOTNET_ROOT"
  [ -n "${CI:-}" ] && printf 'export CI=%q\n' "$CI"
  # Pass LB_* settings through (not the harness's own).
  while IFS='=' read -r name _; do
    case "$name" in LB_KERNEL_VM | LB_VM_* | LB_KERNEL_KIT_CACHE) ;; LB_*) printf 'export %s=%q\n' "$name" "${!name}" ;; esac
  done < <(env | grep -E '^LB_[A-Za-z0-9_]*=' || true)
  # shellcheck disable=SC2016 # expanded in the guest
  echo 'mkdir -p "$HOME"'
  printf 'cd %q 2>/dev/null || cd /\n' "$(pwd -P)"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$results/.lb-vm/cmd.sh"
chmod +x "$results/.lb-vm/cmd.sh"

mem="${LB_VM_MEM:-3072}" smp="${LB_VM_SMP:-2}"
qemu=(qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m "$mem" -nographic -no-reboot -nic none
  -kernel "$kit/vmlinuz" -initrd "$kit/initramfs.cpio.gz"
  -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 mitigations=off"
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap")

start="$(date +%s.%N)"
log "booting $(cat "$kit/kver") under qemu (TCG, ${smp} vCPUs, ${mem} MiB, timeout ${timeout_s}s)"
qrc=0
if ((quiet)); then
  timeout -k 15 "$timeout_s" "${qemu[@]}" </dev/null >"$results/.lb-vm/console.log" 2>&1 &
else
  # Drop carriage returns, SeaBIOS's banner and its terminal escapes from the serial console.
  timeout -k 15 "$timeout_s" "${qemu[@]}" </dev/null > >(sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' \
    -e '/^SeaBIOS (version/d' -e '/^Booting from ROM/d' -e '/^$/d' -e '/reboot: Power down/d') 2>&1 &
fi
qpid=$!
wait "$qpid" || qrc=$?
qpid=""
end="$(date +%s.%N)"
elapsed="$(awk "BEGIN { printf \"%.1f\", $end - $start }")"
boot="$(cat "$results/.lb-vm/boot-seconds" 2>/dev/null || echo '?')"

if [ -s "$results/vm-exit-code" ]; then
  rc="$(cat "$results/vm-exit-code")"
  log "command exited with $rc (VM total ${elapsed}s, guest ready after ${boot}s of kernel uptime)"
  exit "$rc"
fi
if [ "$qrc" = 124 ]; then
  log "timed out after ${timeout_s}s"
  if ((quiet)); then tail -n 40 "$results/.lb-vm/console.log" >&2 || true; fi
  exit 124
fi
log "the VM stopped (qemu exit $qrc) before the command finished; see the console output above"
if ((quiet)); then tail -n 40 "$results/.lb-vm/console.log" >&2 || true; fi
exit 125
