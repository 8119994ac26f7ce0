#!/usr/bin/env bash
# Installs what Lb's main job and tests need on a fresh Debian/Ubuntu machine (the .NET SDK is assumed).
# Idempotent: installs only what is missing.
set -euo pipefail
# clang: the linker driver `dotnet publish` of lb uses (NativeAOT); time: bench/configtest (/usr/bin/time);
# groff-base: ManPageTests render docs/lb.8. prometheus: its promtool checks examples/prometheus-alerts.yml (ExamplesTests).
# frr (zebra, bgpd, bfdd, vtysh): the active-active ECMP lab (tests/Lb.Tests/EndToEnd/Ecmp, tests/kernel/bench-ecmp.sh); curl: its slow downloads.
pkgs=(clang time iproute2 keepalived ipvsadm tshark tcpdump iputils-ping arping nginx qemu-system-x86 busybox-static cpio kmod linux-libc-dev gcc procps psmisc nftables prometheus groff-base frr curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
