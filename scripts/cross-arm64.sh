#!/usr/bin/env bash
# Correctness on ARM64 without ARM64 hardware: cross-publishes the NativeAOT `branchgate` for linux-arm64 (failing on
# any trim/AOT warning), then runs its `selftest` under qemu-aarch64-static and asserts that the crypto checks passed
# on the NEON path (Vector128 on AdvSimd) and that libsodium (NSec's runtimes/linux-arm64/native/libsodium.so, next to
# the binary) was loaded.
#   1. install the cross toolchain and qemu (idempotent; nothing to do when everything is there)
#   2. scripts/publish-aot.sh linux-arm64 -> artifacts/linux-arm64/
#   3. qemu-aarch64-static artifacts/linux-arm64/branchgate selftest
# Run as root on Debian 12 (x64) with the .NET 10 SDK. qemu is run without -L (with it the binary hangs): the arm64
# loader and libc come from the multiarch packages.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
phase_started=$SECONDS
phase() { echo "cross-arm64: $1 took $((SECONDS - phase_started)) s"; phase_started=$SECONDS; }
fail() { echo "cross-arm64: FAIL: $*" >&2; exit 1; }

# What NativeAOT needs to compile and link for aarch64 on an x64 host (clang drives the link with lld; the gcc cross
# package brings the target's crt objects and libgcc; objcopy strips the symbols), the target's libc and zlib to link
# against, and the emulator.
packages=(
  clang lld llvm
  binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu
  libc6-dev:arm64 zlib1g-dev:arm64
  qemu-user-static
)

install_packages() {
  if [ "$(id -u)" -ne 0 ]; then
    fail "run as root (it installs Debian packages)"
  fi
  local missing=()
  for p in "${packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return
  fi
  echo "cross-arm64: installing ${missing[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt run (scripts/install-deps.sh, a parallel job) may hold the lock for a while: wait for it.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
}

command -v dotnet >/dev/null 2>&1 || fail "the .NET 10 SDK is required (dotnet not found on PATH)"
install_packages
phase "installing the cross toolchain and qemu"

scripts/publish-aot.sh linux-arm64
bin=artifacts/linux-arm64/branchgate
phase "the linux-arm64 NativeAOT publish"

# Both must be AArch64 ELF files (e_machine 183 at offset 18), and libsodium must sit next to the binary, where the
# runtime looks for it first.
elf_machine() { od -An -tu2 -j18 -N2 "$1" | tr -d ' '; }
[ -f "$bin" ] || fail "$bin was not published"
[ -f artifacts/linux-arm64/libsodium.so ] || fail "libsodium.so is not next to the binary in artifacts/linux-arm64/"
[ "$(elf_machine "$bin")" = 183 ] || fail "$bin is not an AArch64 ELF file"
[ "$(elf_machine artifacts/linux-arm64/libsodium.so)" = 183 ] || fail "artifacts/linux-arm64/libsodium.so is not AArch64"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
timeout 600 qemu-aarch64-static "$bin" selftest > "$log" 2>&1 || status=$?
cat "$log"
phase "the selftest under qemu-aarch64-static"
[ "$status" -eq 0 ] || fail "branchgate selftest exited with $status under qemu-aarch64-static"

expect() { grep -qF -- "$1" "$log" || fail "the selftest output lacks: $1"; }
expect "process Arm64"
expect "NativeAOT"
expect "AdvSimd.IsSupported=True"
expect "Vector128.IsHardwareAccelerated=True"
expect "data path: ChaCha20 Vector128 (AdvSimd)"
expect "ChaCha20: Vector128 (AdvSimd): RFC 8439 2.3.2 block in every lane, 2.4.2 encryption ... ok"
expect "ChaCha20-Poly1305: Vector128 (AdvSimd): RFC 8439 2.6.2 key, 2.8.2 seal, A.5 open ... ok"
expect "ChaCha20-Poly1305: Vector128 (AdvSimd): 300 random lengths 0..9000 match libsodium ... ok"
expect "X25519: RFC 7748 5.2 and 6.1, low-order point refused ... ok" # NSec: libsodium was loaded
expect "selftest passed:"
echo "cross-arm64: the linux-arm64 binary passed its selftest on the NEON path under qemu ($((SECONDS - started)) s in all)"
