#!/usr/bin/env bash
# Lb's main job: check keepalived.conf.example the way `keepalived -t` does and dump the parsed config.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
dotnet build src/Lb/Lb.csproj -c Release -v q -nologo -o artifacts/lb >/dev/null
artifacts/lb/lb -t -f keepalived.conf.example && echo "lb -t: configuration OK (exit 0)"
artifacts/lb/lb -d -f keepalived.conf.example
