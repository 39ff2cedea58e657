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

echo "== NativeAOT publish =="
scripts/publish-aot.sh linux-x64

# Unit tests, the kernel tests (root, network namespaces) and the interop tests, which run the published binary
# against wireguard-go and wg.
echo "== tests =="
export BRANCHGATE_BIN="$PWD/artifacts/linux-x64/branchgate"
dotnet test Gateway.sln -c Release --no-build -nologo --logger "console;verbosity=normal"

echo "== fuzzing (CI-sized: scripts/fuzz.sh, 20 s a target; FUZZ_SECONDS=600 for a long run) =="
scripts/fuzz.sh

echo "== published binary =="
tests/cli/binary-checks.sh artifacts/linux-x64/branchgate
echo "== the README's demo: two offices joined by a tunnel =="
scripts/demo.sh artifacts/linux-x64/branchgate > /tmp/branchgate-demo.$$.log || { cat /tmp/branchgate-demo.$$.log; exit 1; }
grep -q " 0% packet loss" /tmp/branchgate-demo.$$.log || { cat /tmp/branchgate-demo.$$.log; exit 1; }
rm -f /tmp/branchgate-demo.$$.log
echo "== linux-arm64: cross-published NativeAOT binary, selftest under qemu-aarch64-static (NEON) =="
scripts/cross-arm64.sh
echo "== packages: branchgate and the admin panel (.deb, arm64 and amd64), checked; run from the installed layout =="
# --no-publish reuses the binaries published above; the panel is published self-contained once per architecture
# (artifacts/webui, about a minute each on a busy machine). --debs runs the installed amd64 panel against serve.
./build-image.sh --debs-only --no-publish
scripts/image-check.sh --debs
echo "all tests passed"
