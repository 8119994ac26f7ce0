#!/usr/bin/env bash
# Fuzz one Lb target with SharpFuzz + AFL++: fuzz/run.sh TARGET SECONDS
#   TARGET  config | vrrp | netlink | journal
#   SECONDS how long afl-fuzz runs (afl-fuzz -V)
# Output (builds, findings, work directories) goes under $LBFUZZ_OUT (default /tmp/lbfuzz), never into the repository.
# A second run with the same LBFUZZ_OUT resumes the previous findings (AFL_AUTORESUME).
set -euo pipefail

target=${1:?usage: fuzz/run.sh config|vrrp|netlink|journal SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
out=${LBFUZZ_OUT:-/tmp/lbfuzz}

case $target in
  config)  dll=lb.dll;           prefix=Lb.Config;           timeout=10000; dict=(-x "$here/dict/config.dict") ;;
  vrrp)    dll=Lb.Vrrp.dll;      prefix=Lb.Vrrp.Protocol;    timeout=5000; dict=() ;;
  netlink) dll=Lb.Netlink.dll;   prefix=Lb.Netlink;          timeout=5000; dict=() ;;
  journal) dll=Lb.Checkers.dll;  prefix=Lb.Checkers.Journal; timeout=5000; dict=() ;;
  *) echo "unknown target '$target' (config, vrrp, netlink, journal)" >&2; exit 2 ;;
esac

command -v afl-fuzz >/dev/null || apt-get install -y afl++
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0

# Each target gets its own build directory: sharpfuzz instruments the assembly in place.
build=$out/build/$target
mkdir -p "$build" "$out/work" "$out/findings"
rm -f "$build/$dll"
nice -n 19 dotnet build "$here/Lb.Fuzz/Lb.Fuzz.csproj" -c Release -o "$build" --nologo -v q
# An uninstrumented copy for replaying findings (instrumented code needs afl-fuzz's shared memory).
rm -rf "$build.plain" && cp -r "$build" "$build.plain"
sharpfuzz "$build/$dll" "$prefix"

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 \
  AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 LBFUZZ_WORK="$out/work"
exec nice -n 19 afl-fuzz -i "$here/corpus/$target" -o "$out/findings/$target" -t "$timeout" -m none -V "$seconds" \
  "${dict[@]}" -- "$build/Lb.Fuzz" "$target"
