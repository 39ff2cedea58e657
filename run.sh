#!/usr/bin/env bash
# The main job: installs what Branchgate needs, builds the NativeAOT binary and runs the demo.
# Run as root on Debian 12 with the .NET 10 SDK installed.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/publish-aot.sh linux-x64 >/dev/null
echo "== branchgate demo: two branch offices, one WireGuard handshake, data both ways =="
exec artifacts/linux-x64/branchgate demo
