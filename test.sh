#!/usr/bin/env bash
# Installs what the tests need and runs every test: formatting, unit tests, the NativeAOT publish (zero warnings)
# and the checks of the published binary. Run as root on Debian 12 with the .NET 10 SDK installed.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh

echo "== build =="
dotnet build Gateway.sln -c Release -nologo -v quiet

echo "== format =="
dotnet format Gateway.sln --verify-no-changes --no-restore

echo "== unit tests =="
dotnet test Gateway.sln -c Release --no-build -nologo --logger "console;verbosity=normal"

echo "== NativeAOT publish =="
scripts/publish-aot.sh linux-x64

echo "== published binary =="
tests/cli/binary-checks.sh artifacts/linux-x64/branchgate
echo "all tests passed"
