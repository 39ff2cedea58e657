#!/usr/bin/env bash
# Installs what Branchgate needs, builds the NativeAOT binary and runs the demo of two branch offices.
# Run as root on Debian 12 with the .NET 10 SDK installed.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/publish-aot.sh linux-x64 >/dev/null
echo "== the protocol in memory: one WireGuard handshake, data both ways =="
artifacts/linux-x64/branchgate demo
echo
# The main job: two branch offices (network namespaces) joined by a Branchgate tunnel, LAN host to LAN host.
# Interactive: the offices keep running (with the commands to look at them) until Ctrl-C.
if [ -t 0 ] && [ -t 1 ]; then
  echo "== building the admin panel =="
  dotnet publish src/WebUi -c Release -o artifacts/webui -nologo -v quiet
  exec scripts/demo.sh artifacts/linux-x64/branchgate --keep artifacts/webui/branchgate-webui.dll
fi
exec scripts/demo.sh artifacts/linux-x64/branchgate
