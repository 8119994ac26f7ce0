#!/usr/bin/env bash
# Runs every test: unit, network-namespace (root) and real-kernel IPVS (qemu VM) tiers.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
dotnet test Lb.sln -c Release --nologo -v q "$@"
# Through bash, not its exec bit: a lost mode bit must not skip the tier.
bash tests/kernel/run.sh
