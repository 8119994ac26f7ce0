#!/usr/bin/env bash
# Runs every test: unit, network-namespace (root) and real-kernel IPVS (qemu VM) tiers.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
dotnet test Lb.sln -c Release --nologo -v q "$@"
if [ -x tests/kernel/run.sh ]; then
  tests/kernel/run.sh
fi
