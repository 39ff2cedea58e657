#!/usr/bin/env bash
# Builds the Branchgate Raspberry Pi appliance: the .deb packages (arm64 and amd64) and the arm64 SD card image.
#
#   ./build-image.sh [--size SIZE] [--hostname NAME] [--cache DIR] [--debs-only] [--no-publish] [--no-ssh]
#
#   --size SIZE      the image size (default 2G; suffixes K, M, G); the first boot grows the root partition to the card
#   --hostname NAME  the appliance's host name (default branchgate)
#   --cache DIR      keep the downloaded Debian packages in DIR so that the next build downloads only what changed
#                    (default: none, everything is downloaded every time)
#   --debs-only      build the .deb packages only (no image; needs no mmdebstrap, no binfmt)
#   --no-publish     do not publish: use the binaries already in artifacts/linux-arm64 and artifacts/linux-x64
#                    (test.sh publishes both)
#   --no-ssh         leave openssh-server out of the image
#
# Writes out/branchgate_VERSION_arm64.deb, out/branchgate_VERSION_amd64.deb, out/branchgate-rpi-arm64.img and
# out/branchgate-rpi-arm64.img.sha256. Run as root on Debian 12 (x64) with the .NET 10 SDK: it installs its own tools.
# The image is assembled without loop devices or mounts: the root file system is made from a directory with
# `mkfs.ext4 -d`, the boot file system with mkfs.vfat and mcopy, each into a file that is written into the image at
# its partition's offset. docs/image.md has the details, flashing, first boot and upgrades.
set -euo pipefail
cd "$(dirname "$0")"
repo="$PWD"

size=2G
hostname=branchgate
cache=""
debs_only=0
publish=1
ssh=1
out="$repo/out"
suite=bookworm

fail() { echo "build-image: FAIL: $*" >&2; exit 1; }
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="${2:?--size needs a value}"; shift 2 ;;
    --hostname) hostname="${2:?--hostname needs a value}"; shift 2 ;;
    --cache) cache="${2:?--cache needs a directory}"; shift 2 ;;
    --debs-only) debs_only=1; shift ;;
    --no-publish) publish=0; shift ;;
    --no-ssh) ssh=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "build-image: unknown option $1" >&2; usage 2 >&2 ;;
  esac
done

[[ "$hostname" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || fail "--hostname: '$hostname' is not a valid host name"
size_bytes=$(numfmt --from=iec "$size" 2>/dev/null) || fail "--size: '$size' is not a size (e.g. 2G, 1536M)"
[ "$size_bytes" -ge $((1024 * 1024 * 1024)) ] || fail "--size: at least 1G (the kernel, firmware and modules need it)"
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs Debian packages and builds a root file system)"
if [ -n "$cache" ]; then
  mkdir -p "$cache"
  cache="$(cd "$cache" && pwd)"
fi

started=$SECONDS
phase_started=$SECONDS
phase() { echo "build-image: $1 took $((SECONDS - phase_started)) s"; phase_started=$SECONDS; }

work="$(mktemp -d /var/tmp/branchgate-image.XXXXXX)"
trap 'rm -rf --one-file-system "$work"' EXIT
mkdir -p "$out"

# ---- tools ------------------------------------------------------------------------------------------------------
tools=(dpkg-dev file)
if [ "$debs_only" -eq 0 ]; then
  tools+=(mmdebstrap qemu-user-static binfmt-support arch-test dosfstools e2fsprogs fdisk mtools debian-archive-keyring)
fi
install_tools() {
  local missing=()
  for p in "${tools[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "build-image: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
}
install_tools
phase "installing the tools"

# ---- binaries ---------------------------------------------------------------------------------------------------
if [ "$publish" -eq 1 ]; then
  # The cross toolchain, the linux-arm64 publish and its selftest under qemu (NEON path), then linux-x64.
  scripts/cross-arm64.sh
  scripts/publish-aot.sh linux-x64
  phase "publishing branchgate for linux-arm64 and linux-x64"
fi
for rid in linux-arm64 linux-x64; do
  [ -x "artifacts/$rid/branchgate" ] || fail "artifacts/$rid/branchgate is missing (run without --no-publish)"
  [ -f "artifacts/$rid/libsodium.so" ] || fail "artifacts/$rid/libsodium.so is missing (run without --no-publish)"
done

# The package version: the assembly's, plus the commit count and hash so that every commit's package upgrades the last.
version="$(artifacts/linux-x64/branchgate --version | awk '{print $2}')"
if git rev-parse --git-dir >/dev/null 2>&1; then
  version="$version+git$(git rev-list --count HEAD).$(git rev-parse --short=8 HEAD)"
fi

# ---- .deb packages ----------------------------------------------------------------------------------------------
# Layout: /usr/lib/branchgate/{branchgate,libsodium.so} and /usr/bin/branchgate -> ../lib/branchgate/branchgate.
# NSec opens libsodium by name; NativeAOT looks for a native library first in the directory of the executable, which
# it takes from /proc/self/exe, where the symlink is already resolved: so the binary finds the libsodium.so beside it,
# with no rpath, no LD_LIBRARY_PATH and no ld.so.conf.d entry (which would hand our libsodium 1.0.22 to every program
# on the machine). Debian's libsodium23 may be installed too: it is never loaded by branchgate.
glibc_needed() {
  # The newest GLIBC_x.y symbol version the binary or libsodium uses: that is the libc6 it needs.
  objdump -T "$@" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1
}

build_deb() {
  local rid="$1" arch="$2" root="$work/deb-$2"
  local bin="artifacts/$rid/branchgate" sodium="artifacts/$rid/libsodium.so"
  rm -rf "$root"
  install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/branchgate" "$root/lib/systemd/system" \
    "$root/usr/lib/sysusers.d" "$root/usr/lib/sysctl.d" "$root/etc/branchgate" "$root/usr/share/doc/branchgate"
  install -m 0755 "$bin" "$root/usr/lib/branchgate/branchgate"
  install -m 0644 "$sodium" "$root/usr/lib/branchgate/libsodium.so"
  ln -s ../lib/branchgate/branchgate "$root/usr/bin/branchgate"
  install -m 0644 image/systemd/branchgate.service "$root/lib/systemd/system/branchgate.service"
  install -m 0644 image/systemd/branchgate.sysusers.conf "$root/usr/lib/sysusers.d/branchgate.conf"
  install -m 0644 image/sysctl/90-branchgate.conf "$root/usr/lib/sysctl.d/90-branchgate.conf"
  install -m 0644 image/nftables/branchgate.nft "$root/etc/branchgate/branchgate.nft"
  install -m 0755 image/deb/postinst image/deb/prerm image/deb/postrm "$root/DEBIAN/"
  echo "/etc/branchgate/branchgate.nft" > "$root/DEBIAN/conffiles"
  cat > "$root/usr/share/doc/branchgate/copyright" <<'EOF'
Branchgate: a WireGuard-compatible site-to-site VPN gateway.
It ships libsodium 1.0.22 (ISC license, Copyright (c) 2013-2025 Frank Denis) as /usr/lib/branchgate/libsodium.so,
taken from the NSec.Cryptography package.
EOF

  local glibc
  glibc="$(glibc_needed "$bin" "$sodium")"
  [ -n "$glibc" ] || fail "could not read the glibc symbol versions of $bin"
  cat > "$root/DEBIAN/control" <<EOF
Package: branchgate
Version: $version
Architecture: $arch
Maintainer: Branchgate developers <branchgate@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6 (>= $glibc), systemd, nftables
Recommends: wireguard-tools
Section: net
Priority: optional
Homepage: https://github.com/branchgate/branchgate
Description: WireGuard-compatible site-to-site VPN gateway (appliance service)
 branchgate serve runs the WireGuard data plane in user space (TUN), keeps the
 interfaces, peers, sites and administrators in a LiteDB store under
 /var/lib/branchgate and offers the management API on /run/branchgate/api.sock
 to the admin panel. It checks every change against IPsec (XFRM) policies and
 routes before applying it. Built with NativeAOT; brings its own libsodium.
 .
 The package enables forwarding (sysctl) and installs an nftables baseline in
 /etc/branchgate/branchgate.nft without loading it.
EOF
  local deb="$out/branchgate_${version}_${arch}.deb"
  rm -f "$out"/branchgate_*_"$arch".deb
  dpkg-deb --root-owner-group -Zxz -z3 --build "$root" "$deb" >/dev/null
  echo "build-image: $deb ($(du -h "$deb" | cut -f1))"
}

build_deb linux-arm64 arm64
build_deb linux-x64 amd64

# ---- the admin panel's package ------------------------------------------------------------------------------------
# HOOK(webui): image/webui/build-deb.sh publishes src/WebUi self-contained for linux-arm64 / linux-x64 (into
# artifacts/webui/RID; --no-publish reuses it when it is there) and packages it as branchgate-webui_VERSION_ARCH.deb:
# /usr/lib/branchgate-webui and its hardened unit (User=branchgate-webui, in group branchgate for
# /run/branchgate/api.sock), Depends: branchgate (= VERSION). The image installs it after branchgate's and
# customize.sh adds the appliance's drop-in (port 80, only with the firewall loaded).
[ -d src/WebUi ] && [ -x image/webui/build-deb.sh ] || fail "src/WebUi or image/webui/build-deb.sh is missing"
for arch in arm64 amd64; do
  WEBUI_REUSE_PUBLISH=$((1 - publish)) image/webui/build-deb.sh "$arch" "$version" "$out" \
    || fail "the admin panel's $arch package did not build"
done
phase "building the .deb packages"

if [ "$debs_only" -eq 1 ]; then
  echo "build-image: .deb packages in $out ($((SECONDS - started)) s in all)"
  exit 0
fi

# ---- the arm64 root file system -----------------------------------------------------------------------------------
# Foreign maintainer scripts run under qemu-aarch64-static through binfmt_misc: make sure it is mounted and enabled.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || fail "binfmt_misc cannot be mounted: arm64 programs cannot run here"
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
arch-test arm64 >/dev/null || fail "arm64 programs do not run here (arch-test arm64); is qemu-user-static's binfmt entry enabled?"

# The Debian mirror this machine's apt uses (one-line "deb URL" or deb822 "URIs: URL"; comments ignored).
mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | sed -nE 's/^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?:\/\/[^[:space:]]*\/debian\/?)([[:space:]]|$).*/\3/p' \
  | head -n1 || true)"
mirror="${mirror%/}"
mirror="${mirror:-http://deb.debian.org/debian}"
security="${mirror%/debian}/debian-security"

packages=(
  systemd systemd-sysv systemd-timesyncd systemd-resolved udev dbus kmod
  iproute2 nftables wireguard-tools
  linux-image-arm64 initramfs-tools raspi-firmware
  cloud-guest-utils fdisk e2fsprogs dosfstools
  libssl3 libstdc++6  # the admin panel's .NET runtime (cryptography, the runtime itself)
)
[ "$ssh" -eq 1 ] && packages+=(openssh-server)

rootfs="$work/rootfs"
# The initrd: under emulation one mkinitramfs run takes minutes, and the kernel's postinst and the triggers of later
# packages would each run it. update-initramfs is diverted to a no-op while the packages are installed (essential
# hooks below) and customize.sh puts it back and makes the initrd once, at the end.
cache_hooks=()
if [ -n "$cache" ]; then
  # mmdebstrap's documented package cache: the .debs are synced into the chroot before the download and back out after.
  cache_hooks=(
    --skip=download/empty
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
    --setup-hook="sync-in '$cache' /var/cache/apt/archives/"
    --customize-hook="sync-out /var/cache/apt/archives '$cache'"
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb'
  )
fi

install -m 0644 "$out/branchgate_${version}_arm64.deb" "$work/branchgate_arm64.deb"
package_hooks=(
  --customize-hook="copy-in '$work/branchgate_arm64.deb' /tmp"
  --customize-hook='chroot "$1" dpkg -i /tmp/branchgate_arm64.deb && rm -f "$1/tmp/branchgate_arm64.deb"'
)
# HOOK(webui): the admin panel's package, installed after branchgate's (it depends on it).
install -m 0644 "$out/branchgate-webui_${version}_arm64.deb" "$work/branchgate-webui_arm64.deb"
package_hooks+=(
  --customize-hook="copy-in '$work/branchgate-webui_arm64.deb' /tmp"
  --customize-hook='chroot "$1" dpkg -i /tmp/branchgate-webui_arm64.deb && rm -f "$1/tmp/branchgate-webui_arm64.deb"'
)

mmdebstrap \
  --mode=root --variant=minbase --architectures=arm64 --components=main,non-free-firmware \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  "${cache_hooks[@]}" \
  --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs' \
  --essential-hook='printf "#!/bin/sh\n# diverted while the image is built: customize.sh makes the initrd once\nexit 0\n" > "$1/usr/sbin/update-initramfs" && chmod 0755 "$1/usr/sbin/update-initramfs"' \
  "${package_hooks[@]}" \
  --customize-hook="'$repo/image/customize.sh' \"\$1\" '$repo/image' '$hostname'" \
  "$suite" "$rootfs" \
  "deb $mirror $suite main non-free-firmware" \
  "deb $mirror $suite-updates main non-free-firmware" \
  "deb $security $suite-security main non-free-firmware"
phase "the arm64 root file system (mmdebstrap)"

# ---- the image ----------------------------------------------------------------------------------------------------
# MBR: the FAT32 boot partition (RASPIFIRM, mounted on /boot/firmware) from 4 MiB, 256 MiB; the ext4 root (RASPIROOT)
# after it, to the end of the image.
bootdir="$work/boot"
mkdir -p "$bootdir"
cp -a "$rootfs/boot/firmware/." "$bootdir/"
find "$rootfs/boot/firmware" -mindepth 1 -delete
[ -f "$bootdir/config.txt" ] && [ -f "$bootdir/cmdline.txt" ] || fail "raspi-firmware did not lay out /boot/firmware (no config.txt/cmdline.txt)"

sector=512
boot_start=8192
boot_sectors=$((256 * 2048))
root_start=$((boot_start + boot_sectors))
total_sectors=$((size_bytes / sector))
root_sectors=$((total_sectors - root_start))
need_kib=$(du -sk "$rootfs" | cut -f1)
[ $((root_sectors / 2)) -gt $((need_kib * 12 / 10)) ] || fail "--size $size is too small: the root file system alone holds $((need_kib / 1024)) MiB"

img="$out/branchgate-rpi-arm64.img"
rm -f "$img" "$img.sha256"
truncate -s $((total_sectors * sector)) "$img"
sfdisk --quiet "$img" <<EOF
label: dos
unit: sectors
start=$boot_start, size=$boot_sectors, type=c, bootable
start=$root_start, size=$root_sectors, type=83
EOF

truncate -s $((boot_sectors * sector)) "$work/boot.img"
mkfs.vfat -F 32 -n RASPIFIRM "$work/boot.img" >/dev/null
mcopy -s -p -m -i "$work/boot.img" "$bootdir"/* ::/
truncate -s $((root_sectors * sector)) "$work/root.img"
mkfs.ext4 -q -L RASPIROOT -d "$rootfs" "$work/root.img"
dd if="$work/boot.img" of="$img" bs=$sector seek=$boot_start conv=notrunc,sparse status=none
dd if="$work/root.img" of="$img" bs=$sector seek=$root_start conv=notrunc,sparse status=none
(cd "$out" && sha256sum "$(basename "$img")" > "$(basename "$img").sha256")
phase "assembling the image"

echo "build-image: $img: $(du -h --apparent-size "$img" | cut -f1) ($(du -h "$img" | cut -f1) on disk, sparse)," \
  "root file system $((need_kib / 1024)) MiB; $((SECONDS - started)) s in all"
