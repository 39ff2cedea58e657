#!/usr/bin/env bash
# Installs the Debian packages Branchgate's build, demo and tests use; does nothing for those already installed.
# The .NET 10 SDK is the one prerequisite this script does not install.
set -euo pipefail

packages=(
  clang            # NativeAOT links the binary with it
  zlib1g-dev
  wireguard-tools  # wg and wg-quick: the reference the CLI and (later) the UAPI are checked against
  wireguard-go     # the reference userspace implementation: a real peer in the interop tests
  iproute2
  iputils-ping
  iperf3           # throughput through tunnels in the interop tests and the throughput script
  strongswan-swanctl strongswan-charon libcharon-extra-plugins  # a real IPsec peer for the coexistence tests
  dnsmasq-base     # a real DNS server (no system service) for the dynamic-endpoint tests of `branchgate serve`
  curl             # the management API tests call the socket as another user (setpriv + curl)
  chromium         # the admin panel's end-to-end tests drive it with Playwright (no browser download)
  systemd          # systemd-analyze verify checks image/systemd/branchgate.service in the tests
  afl++            # scripts/fuzz.sh: afl-fuzz drives the SharpFuzz harnesses in tests/Fuzz
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (it installs Debian packages)" >&2
  exit 1
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  # One line per installed architecture (zlib1g-dev is also installed for arm64 by scripts/cross-arm64.sh).
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt run (scripts/cross-arm64.sh, a parallel job) may hold the lock for a while: wait for it.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # No recommends: wireguard-tools would otherwise pull in kernel headers and DKMS.
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi
