#!/usr/bin/env bash
# Lb's main job, in one command (as root): install what is missing (scripts/setup.sh), build lb, check
# keepalived.conf.example with lb -t, then demo/demo.sh's lab — two directors running lb in front of three DR web
# servers and a client, in network namespaces: requests, a web server stopping, the MASTER director dying, with
# lb status and lb journal along the way. Without IPVS in the running kernel the lab runs in the tests/kernel VM.
# Exit code 0 when every step worked; otherwise non-zero, with the failing step named. Options: see demo/demo.sh.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec demo/demo.sh "$@"
