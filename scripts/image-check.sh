#!/usr/bin/env bash
# Checks what build-image.sh made, without loop devices or mounts:
#
#   scripts/image-check.sh --debs [OUT]    the .deb packages: metadata, contents, maintainer scripts; the amd64 package
#                                          unpacked into a throwaway root runs `branchgate --version` and `selftest`
#                                          from the installed layout (/usr/bin/branchgate, libsodium beside it)
#   scripts/image-check.sh [--boot] [IMG]  the image (default out/branchgate-rpi-arm64.img): its checksum; the partition
#                                          table (sfdisk -J); the file systems of the extracted partitions (file,
#                                          blkid); the expected files in each (mdir, debugfs); the arm64 branchgate
#                                          from the image under qemu-aarch64-static (--version, selftest); the units
#                                          through `systemd-analyze verify` in a chroot of the root file system (qemu);
#                                          with --boot also the boot under qemu-system-aarch64 -M virt until
#                                          branchgate.service is ready (slow: minutes under emulation)
# Run as root on Debian 12 (x64). Prints "image-check: ok: ..." per check and fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "image-check: FAIL: $*" >&2; exit 1; }
ok() { echo "image-check: ok: $*"; }

mode=image
boot=0
target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) mode=debs; shift ;;
    --boot) boot=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) target="$1"; shift ;;
  esac
done
[ "$(id -u)" -eq 0 ] || fail "run as root"

work="$(mktemp -d /var/tmp/branchgate-image-check.XXXXXX)"
trap 'rm -rf --one-file-system "$work"' EXIT

# ---- the .deb packages --------------------------------------------------------------------------------------------
check_debs() {
  local out="${1:-out}" arch deb
  for arch in amd64 arm64; do
    deb="$(ls "$out"/branchgate_*_"$arch".deb 2>/dev/null | head -n1)"
    [ -n "$deb" ] || fail "no branchgate_*_$arch.deb in $out"
    dpkg-deb --info "$deb" > "$work/info"
    grep -q "^ Package: branchgate$" "$work/info" || fail "$deb: not the branchgate package"
    grep -q "^ Architecture: $arch$" "$work/info" || fail "$deb: architecture is not $arch"
    grep -qE "^ Depends: libc6 \(>= 2\.[0-9]+\), systemd, nftables$" "$work/info" || fail "$deb: unexpected Depends"
    ! grep -qi "libsodium" <(grep "^ Depends:" "$work/info") || fail "$deb: depends on Debian's libsodium"
    for script in postinst prerm postrm conffiles; do
      grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$script" "$work/info" || fail "$deb: no $script"
    done
    dpkg-deb --contents "$deb" | awk '{print $1, $2, $6, $7, $8}' | sed 's/ *$//' > "$work/contents"
    for entry in \
      "-rwxr-xr-x root/root ./usr/lib/branchgate/branchgate" \
      "-rw-r--r-- root/root ./usr/lib/branchgate/libsodium.so" \
      "lrwxrwxrwx root/root ./usr/bin/branchgate -> ../lib/branchgate/branchgate" \
      "-rw-r--r-- root/root ./lib/systemd/system/branchgate.service" \
      "-rw-r--r-- root/root ./usr/lib/sysusers.d/branchgate.conf" \
      "-rw-r--r-- root/root ./usr/lib/sysctl.d/90-branchgate.conf" \
      "-rw-r--r-- root/root ./etc/branchgate/branchgate.nft"; do
      grep -qxF -- "$entry" "$work/contents" || fail "$deb: lacks '$entry'"
    done
    local machine
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/branchgate/branchgate > "$work/bin-$arch"
    machine="$(od -An -tu2 -j18 -N2 "$work/bin-$arch" | tr -d ' ')"
    case "$arch" in amd64) [ "$machine" = 62 ] ;; arm64) [ "$machine" = 183 ] ;; esac \
      || fail "$deb: the binary's ELF machine is $machine, not $arch's"
    ok "$deb: control (Depends libc6, systemd, nftables; no Debian libsodium), maintainer scripts, layout, $arch ELF"
  done

  # The installed layout: the amd64 package unpacked into a throwaway root, run from there through the /usr/bin symlink.
  deb="$(ls "$out"/branchgate_*_amd64.deb | head -n1)"
  dpkg -x "$deb" "$work/root"
  local version
  version="$("$work/root/usr/bin/branchgate" --version)" || fail "branchgate --version failed from the installed layout"
  echo "$version" | grep -qE '^branchgate [0-9]+\.[0-9]+\.[0-9]+$' || fail "unexpected version output: $version"
  # NSec opens libsodium by name: the only libsodium it may load is the one beside the binary.
  LD_DEBUG=libs "$work/root/usr/bin/branchgate" selftest > "$work/selftest" 2> "$work/ld" \
    || { cat "$work/selftest"; fail "branchgate selftest failed from the installed layout"; }
  grep -q "selftest passed:" "$work/selftest" || fail "the selftest did not pass"
  grep -q "X25519: RFC 7748 5.2 and 6.1, low-order point refused ... ok" "$work/selftest" || fail "NSec/libsodium check missing"
  grep -qE "calling init: .*/usr/lib/branchgate/libsodium\.so" "$work/ld" \
    || fail "libsodium was not loaded from /usr/lib/branchgate (LD_DEBUG: $(grep -i sodium "$work/ld" | head -n3))"
  ok "installed layout (amd64, dpkg -x): '$version'; selftest passed; libsodium loaded from /usr/lib/branchgate/libsodium.so"

  # The maintainer scripts: valid sh, and the package installs into an empty dpkg database in a throwaway root
  # (dpkg --root, dependencies not checked, scripts not run: they would touch this machine's systemd).
  for script in postinst prerm postrm; do
    dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$script" > "$work/$script"
    sh -n "$work/$script" || fail "$script is not valid sh"
  done
  mkdir -p "$work/dpkgroot/var/lib/dpkg/updates" "$work/dpkgroot/var/lib/dpkg/info"
  touch "$work/dpkgroot/var/lib/dpkg/status"
  dpkg --root="$work/dpkgroot" --force-depends --force-script-chrootless --no-triggers --force-not-root \
    --instdir="$work/dpkgroot" --admindir="$work/dpkgroot/var/lib/dpkg" --unpack "$deb" > /dev/null \
    || fail "dpkg --unpack into a throwaway root failed"
  dpkg --admindir="$work/dpkgroot/var/lib/dpkg" -L branchgate | grep -qx /usr/bin/branchgate \
    || fail "dpkg does not list /usr/bin/branchgate as the package's"
  "$work/dpkgroot/usr/bin/branchgate" --version > /dev/null || fail "the binary dpkg unpacked does not run"
  ok "dpkg --unpack into a throwaway root: files registered, the binary runs; maintainer scripts parse"
}

if [ "$mode" = debs ]; then
  check_debs "$target"
  echo "image-check: the packages passed"
  exit 0
fi

# ---- the image ----------------------------------------------------------------------------------------------------
img="${target:-out/branchgate-rpi-arm64.img}"
[ -f "$img" ] || fail "$img not found (build it with ./build-image.sh)"
for tool in sfdisk blkid debugfs mdir qemu-aarch64-static jq nft unshare; do
  command -v "$tool" > /dev/null || fail "$tool is needed (apt-get install fdisk e2fsprogs mtools qemu-user-static jq nftables)"
done

if [ -f "$img.sha256" ]; then
  (cd "$(dirname "$img")" && sha256sum --quiet -c "$(basename "$img").sha256") || fail "checksum mismatch"
  ok "checksum $(cut -c1-16 "$img.sha256")..."
fi

# The partition table: MBR, FAT32 (LBA) boot from 4 MiB, bootable; Linux root after it to the end of the image.
sfdisk -J "$img" > "$work/pt.json"
[ "$(jq -r .partitiontable.label "$work/pt.json")" = dos ] || fail "not an MBR (dos) partition table"
[ "$(jq '.partitiontable.partitions | length' "$work/pt.json")" = 2 ] || fail "not two partitions"
read -r p1_start p1_size p1_type p1_boot < <(jq -r '.partitiontable.partitions[0] | "\(.start) \(.size) \(.type) \(.bootable)"' "$work/pt.json")
read -r p2_start p2_size p2_type < <(jq -r '.partitiontable.partitions[1] | "\(.start) \(.size) \(.type)"' "$work/pt.json")
[ "$p1_type" = c ] && [ "$p1_boot" = true ] || fail "partition 1 is not a bootable FAT32 (LBA, type c) partition"
[ "$p2_type" = 83 ] || fail "partition 2 is not a Linux (83) partition"
[ "$p1_start" -eq 8192 ] && [ "$p2_start" -eq $((p1_start + p1_size)) ] || fail "unexpected partition offsets"
total=$(($(stat -c %s "$img") / 512))
[ $((p2_start + p2_size)) -eq "$total" ] || fail "the root partition does not end at the end of the image"
ok "partition table: dos; 1: FAT32 LBA bootable at $p1_start ($((p1_size / 2048)) MiB); 2: Linux at $p2_start ($((p2_size / 2048)) MiB)"

dd if="$img" of="$work/boot.img" bs=512 skip="$p1_start" count="$p1_size" conv=sparse status=none
dd if="$img" of="$work/root.img" bs=512 skip="$p2_start" count="$p2_size" conv=sparse status=none
file -b "$work/boot.img" | grep -q "FAT (32 bit)" || fail "partition 1 is not FAT32: $(file -b "$work/boot.img")"
file -b "$work/root.img" | grep -q "ext4 filesystem" || fail "partition 2 is not ext4: $(file -b "$work/root.img")"
[ "$(blkid -o value -s LABEL "$work/boot.img")" = RASPIFIRM ] || fail "the boot file system is not labelled RASPIFIRM"
[ "$(blkid -o value -s LABEL "$work/root.img")" = RASPIROOT ] || fail "the root file system is not labelled RASPIROOT"
e2fsck -fn "$work/root.img" > "$work/fsck" 2>&1 || { cat "$work/fsck"; fail "e2fsck found errors in the root file system"; }
ok "file systems: FAT32 RASPIFIRM, ext4 RASPIROOT (e2fsck clean)"

# The boot partition as raspi-firmware lays it for the Pi 4 (and the Pi 5's device tree).
mdir -/ -b -i "$work/boot.img" :: > "$work/boot.list"
for f in config.txt cmdline.txt start4.elf fixup4.dat bcm2711-rpi-4-b.dtb; do
  grep -qi "^::/$f$" "$work/boot.list" || fail "the boot partition lacks $f"
done
grep -qi "^::/vmlinuz-" "$work/boot.list" || fail "the boot partition lacks the kernel (vmlinuz-*)"
grep -qi "^::/initrd.img-" "$work/boot.list" || fail "the boot partition lacks the initrd (initrd.img-*)"
mtype -i "$work/boot.img" ::/cmdline.txt > "$work/cmdline.txt"
mtype -i "$work/boot.img" ::/config.txt > "$work/config.txt"
grep -q "root=LABEL=RASPIROOT" "$work/cmdline.txt" || fail "cmdline.txt does not boot LABEL=RASPIROOT: $(cat "$work/cmdline.txt")"
grep -q "net.ifnames=0" "$work/cmdline.txt" || fail "cmdline.txt lacks net.ifnames=0 (eth0/eth1 names)"
grep -q "^arm_64bit=1" "$work/config.txt" || fail "config.txt does not boot 64-bit"
ok "boot partition: config.txt, cmdline.txt ($(tr -d '\n' < "$work/cmdline.txt")), kernel, initrd, Pi 4 firmware and device tree"

# The root file system: extracted with debugfs (no mount) for the checks below and the chroot.
rootfs="$work/rootfs"
mkdir -p "$rootfs"
debugfs -R "rdump / $rootfs" "$work/root.img" > /dev/null 2>&1 || fail "debugfs could not extract the root file system"
for f in usr/lib/branchgate/branchgate usr/lib/branchgate/libsodium.so usr/bin/branchgate \
  lib/systemd/system/branchgate.service lib/systemd/system/branchgate-firstboot.service \
  lib/systemd/system/branchgate-boot-network.service usr/lib/branchgate/branchgate-firstboot \
  usr/lib/branchgate/branchgate-boot-network usr/lib/sysusers.d/branchgate.conf usr/lib/sysctl.d/90-branchgate.conf \
  etc/branchgate/branchgate.nft etc/nftables.conf etc/systemd/network/10-wan.network etc/systemd/network/20-lan.network \
  etc/hostname etc/fstab usr/bin/wg usr/sbin/nft usr/bin/growpart sbin/resize2fs; do
  [ -e "$rootfs/$f" ] || [ -L "$rootfs/$f" ] || fail "the root file system lacks /$f"
done
for unit in branchgate.service branchgate-firstboot.service branchgate-boot-network.service systemd-networkd.service \
  nftables.service; do
  [ -L "$rootfs/etc/systemd/system/multi-user.target.wants/$unit" ] \
    || [ -L "$rootfs/etc/systemd/system/sysinit.target.wants/$unit" ] || fail "$unit is not enabled"
done
grep -q "branchgate" "$rootfs/var/lib/dpkg/status" || fail "the branchgate package is not registered in dpkg"
[ ! -e "$rootfs/var/lib/branchgate" ] || [ -z "$(ls -A "$rootfs/var/lib/branchgate")" ] || fail "the image carries a store"
! ls "$rootfs"/etc/ssh/ssh_host_*key > /dev/null 2>&1 || fail "the image carries SSH host keys"
[ ! -s "$rootfs/etc/machine-id" ] || fail "the image carries a machine id"
ok "root file system: branchgate (package, units enabled), first-boot and boot-network units, networkd, nftables; no keys, no store, no machine id"

# The arm64 binary from the image, under qemu-aarch64-static (the loader and libc of the build host's arm64 multiarch
# packages; no -L: with it the binary hangs).
bin="$rootfs/usr/lib/branchgate/branchgate"
[ "$(od -An -tu2 -j18 -N2 "$bin" | tr -d ' ')" = 183 ] || fail "the image's branchgate is not AArch64"
qemu-aarch64-static "$rootfs/usr/bin/branchgate" --version > "$work/version" 2>&1 || fail "--version under qemu: $(cat "$work/version")"
timeout 600 qemu-aarch64-static "$rootfs/usr/bin/branchgate" selftest > "$work/selftest" 2>&1 \
  || { cat "$work/selftest"; fail "the image's branchgate selftest failed under qemu"; }
grep -q "data path: ChaCha20 Vector128 (AdvSimd)" "$work/selftest" || fail "the selftest did not take the NEON path"
grep -q "X25519: RFC 7748 5.2 and 6.1, low-order point refused ... ok" "$work/selftest" || fail "libsodium (X25519) not ok"
grep -q "selftest passed:" "$work/selftest" || fail "the selftest did not pass"
ok "the image's arm64 branchgate under qemu-aarch64-static: $(cat "$work/version"); selftest passed (NEON, libsodium)"

# The units inside the root file system: systemd-analyze verify in a chroot (arm64 programs through binfmt + qemu).
if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
  mkdir -p "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/run"
  chroot "$rootfs" /usr/bin/true || fail "cannot chroot into the root file system"
  units=(/lib/systemd/system/branchgate.service /lib/systemd/system/branchgate-firstboot.service
         /lib/systemd/system/branchgate-boot-network.service)
  [ -e "$rootfs/lib/systemd/system/branchgate-webui.service" ] && units+=(/lib/systemd/system/branchgate-webui.service)
  status=0
  chroot "$rootfs" env SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "${units[@]}" > "$work/verify" 2>&1 || status=$?
  cat "$work/verify"
  [ "$status" -eq 0 ] || fail "systemd-analyze verify failed in the chroot"
  ! grep -qi "branchgate" "$work/verify" || fail "systemd-analyze verify reported problems with our units"
  ok "systemd-analyze verify of ${units[*]##*/} in a chroot (qemu): clean"
else
  fail "qemu-aarch64 is not registered with binfmt_misc: the chroot checks cannot run (build-image.sh enables it)"
fi

# The firewall: nft under qemu-user cannot talk netlink ("Protocol not supported"), so this machine's nft checks the
# image's ruleset (-c: nothing is committed), in a new network namespace besides, so nothing here can change.
grep -qx 'include "/etc/branchgate/branchgate.nft"' "$rootfs/etc/nftables.conf" || fail "/etc/nftables.conf does not include the branchgate table"
if command -v nft > /dev/null; then
  unshare -n nft -c -f "$rootfs/etc/branchgate/branchgate.nft" > "$work/nft" 2>&1 || { cat "$work/nft"; fail "nft -c rejects the firewall"; }
  ok "nft -c accepts the image's /etc/branchgate/branchgate.nft (included by /etc/nftables.conf)"
else
  fail "nft is needed to check the firewall (apt-get install nftables; it is not enabled by that)"
fi

# The full check: a copy of the image, 1 GiB larger (so the first boot has a partition to grow), boots under
# qemu-system-aarch64 -M virt (TCG: no arm64 KVM here) with the image's own Debian kernel and initrd, virtio disk and
# a restricted user-mode network (the guest reaches nothing outside qemu), until the serial console shows
# branchgate.service started (Type=notify: systemd says so once `branchgate serve` reported ready) and the first
# boot's setup token. Bounded by a timeout; qemu is stopped by its PID.
boot_check() {
  command -v qemu-system-aarch64 > /dev/null || fail "qemu-system-aarch64 is needed (apt-get install qemu-system-arm)"
  local disk="$work/boot-disk.img" console="$work/console.log" kernel initrd pid deadline=$((SECONDS + ${BOOT_TIMEOUT:-1200}))
  cp --sparse=always "$img" "$disk"
  truncate -s +1G "$disk"
  kernel="$(grep -io '^::/vmlinuz-[^ ]*' "$work/boot.list" | head -n1)"
  initrd="$(grep -io '^::/initrd.img-[^ ]*' "$work/boot.list" | head -n1)"
  mcopy -n -i "$work/boot.img" "$kernel" "$work/vmlinuz"
  mcopy -n -i "$work/boot.img" "$initrd" "$work/initrd.img"
  qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 -nographic -no-reboot \
    -kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
    -append "root=LABEL=RASPIROOT rw console=ttyAMA0 net.ifnames=0 rootwait panic=-1" \
    -drive if=none,file="$disk",format=raw,id=hd0 -device virtio-blk-pci,drive=hd0 \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,romfile= \
    -serial "file:$console" -monitor none -display none < /dev/null > "$work/qemu.log" 2>&1 &
  pid=$!
  local started=$SECONDS ready=""
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    # The first-boot script writes the token only when `systemctl is-active branchgate.service` (Type=notify: active
    # means `branchgate serve` reported READY=1). systemd's own "Started" line is often not shown: the serial getty
    # takes the console over first.
    if grep -aq "branchgate-firstboot: setup token written" "$console" 2>/dev/null; then
      ready=yes
      break
    fi
    sleep 5
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -z "$ready" ]; then
    tail -n 60 "$console" 2>/dev/null; cat "$work/qemu.log"
    fail "no 'Started branchgate.service' and setup token on the serial console within $((SECONDS - started)) s"
  fi
  grep -aE "Started .*branchgate|branchgate-firstboot|Reached target.*Multi-User|one-time setup token" "$console" \
    | sed 's/^/    /' | head -n 20
  grep -aq "growpart .*CHANGED" "$console" || fail "the first boot did not grow the root partition"
  ok "booted under qemu-system-aarch64 -M virt in $((SECONDS - started)) s: branchgate.service ready, root partition grown, setup token on the console"
}

if [ "$boot" -eq 1 ]; then
  boot_check
fi
echo "image-check: the image passed ($img)"
