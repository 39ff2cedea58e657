#!/usr/bin/env bash
# Publishes the NativeAOT `branchgate` binary for linux-x64 (or $1) into artifacts/<rid>/ and fails on any
# trim or AOT warning.
set -euo pipefail
cd "$(dirname "$0")/.."
rid="${1:-linux-x64}"
out="artifacts/$rid"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

dotnet publish src/Gateway/Gateway.csproj -c Release -r "$rid" -o "$out" -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "publish-aot: publish failed" >&2
  exit "$status"
fi
if grep -E "warning (IL|CS|CA|NU)[0-9]+" "$log" >/dev/null; then
  echo "publish-aot: the NativeAOT publish printed warnings:" >&2
  grep -E "warning (IL|CS|CA|NU)[0-9]+" "$log" | sort -u >&2
  exit 1
fi
echo "publish-aot: $out/branchgate ($(du -h "$out/branchgate" | cut -f1)), no trim/AOT warnings"
