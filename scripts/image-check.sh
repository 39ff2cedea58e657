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

  check_webui_debs "$out"
}

# The admin panel's packages: metadata and layout for both architectures; then the amd64 one, unpacked with
# branchgate's into a throwaway root, runs from its installed layout as an unprivileged user (nobody, in the socket's
# group: the unit's User=branchgate-webui in group branchgate) against a real `branchgate serve` (its own network
# namespace; the API socket, store and setup token in a temporary directory) and answers HTTP on a loopback port.
check_webui_debs() {
  local out="$1" arch deb
  for arch in amd64 arm64; do
    deb="$(ls "$out"/branchgate-webui_*_"$arch".deb 2>/dev/null | head -n1)"
    [ -n "$deb" ] || fail "no branchgate-webui_*_$arch.deb in $out"
    dpkg-deb --info "$deb" > "$work/webui-info"
    grep -q "^ Package: branchgate-webui$" "$work/webui-info" || fail "$deb: not the branchgate-webui package"
    grep -q "^ Architecture: $arch$" "$work/webui-info" || fail "$deb: architecture is not $arch"
    local version
    version="$(sed -n 's/^ Version: //p' "$work/webui-info")"
    grep -qxF " Depends: branchgate (= $version), libc6 (>= 2.27), libgcc-s1, libstdc++6, libssl3 | libssl3t64" \
      "$work/webui-info" || fail "$deb: unexpected Depends: $(grep '^ Depends:' "$work/webui-info")"
    [ -n "$(ls "$out"/branchgate_"${version}"_"$arch".deb 2>/dev/null)" ] || fail "$deb: no branchgate $version package beside it"
    for script in postinst prerm postrm; do
      grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script" "$work/webui-info" || fail "$deb: no $script"
      dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$script" | sh -n || fail "$deb: $script is not valid sh"
    done
    dpkg-deb --contents "$deb" | awk '{print $1, $2, $6}' > "$work/webui-contents"
    for entry in \
      "-rwxr-xr-x root/root ./usr/lib/branchgate-webui/branchgate-webui" \
      "-rw-r--r-- root/root ./usr/lib/branchgate-webui/branchgate-webui.dll" \
      "-rw-r--r-- root/root ./usr/lib/branchgate-webui/libcoreclr.so" \
      "-rw-r--r-- root/root ./usr/lib/branchgate-webui/wwwroot/_content/MudBlazor/MudBlazor.min.js" \
      "-rw-r--r-- root/root ./lib/systemd/system/branchgate-webui.service"; do
      grep -qxF -- "$entry" "$work/webui-contents" || fail "$deb: lacks '$entry'"
    done
    ! grep -q "libcoreclrtraceptprovider.so\|appsettings.Development.json" "$work/webui-contents" \
      || fail "$deb: carries the LTTng provider or development settings"
    local machine
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/branchgate-webui/libcoreclr.so > "$work/coreclr-$arch"
    machine="$(od -An -tu2 -j18 -N2 "$work/coreclr-$arch" | tr -d ' ')"
    case "$arch" in amd64) [ "$machine" = 62 ] ;; arm64) [ "$machine" = 183 ] ;; esac \
      || fail "$deb: the runtime's ELF machine is $machine, not $arch's"
    ok "$deb: control (Depends branchgate (= $version), OpenSSL), maintainer scripts, layout, self-contained $arch runtime"
  done

  # The unit's hardening and listening address (systemd-analyze verify runs on it in the image's chroot).
  local unit="image/webui/branchgate-webui.service"
  for line in "User=branchgate-webui" "SupplementaryGroups=branchgate" "NoNewPrivileges=yes" "ProtectSystem=strict" \
    "PrivateTmp=yes" "StateDirectory=branchgate-webui" "CapabilityBoundingSet=" \
    "Environment=ASPNETCORE_URLS=http://127.0.0.1:5080" "Environment=HOME=/var/lib/branchgate-webui"; do
    grep -qxF "$line" "$unit" || fail "$unit lacks '$line'"
  done
  grep -qxF "Environment=ASPNETCORE_URLS=http://*:80" image/webui/appliance.conf \
    && grep -qxF "Requires=nftables.service" image/webui/appliance.conf || fail "image/webui/appliance.conf: not port 80 behind the firewall"

  # The amd64 panel from its installed layout against a real `branchgate serve`.
  local root="$work/webui-root" run="$work/webui-run" port serve_pid="" panel_pid="" answer deadline
  deb="$(ls "$out"/branchgate-webui_*_amd64.deb | head -n1)"
  mkdir -p "$root"
  dpkg -x "$(ls "$out"/branchgate_*_amd64.deb | head -n1)" "$root"
  dpkg -x "$deb" "$root"
  chmod 0711 "$work"
  install -d -m 0755 "$run"
  install -d -m 0700 -o nobody -g nogroup "$run/home"
  stop_webui_check() {
    local p
    for p in "${panel_pid:-}" "${serve_pid:-}"; do
      [ -n "$p" ] || continue
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    done
    panel_pid="" serve_pid=""
  }
  trap 'stop_webui_check; rm -rf --one-file-system "$work"' EXIT
  # serve in a network namespace of its own (it creates nothing there without interfaces; unix sockets are not
  # namespaced, so the panel outside reaches its API socket by path). The socket belongs to nogroup, 0660.
  unshare -n "$root/usr/bin/branchgate" serve --db "$run/branchgate.db" --api-socket "$run/api.sock" \
    --socket-group nogroup --setup-token "$run/setup-token" > "$run/serve.log" 2>&1 &
  serve_pid=$!
  deadline=$((SECONDS + 60))
  until [ -S "$run/api.sock" ] && [ -s "$run/setup-token" ]; do
    kill -0 "$serve_pid" 2>/dev/null || { cat "$run/serve.log"; fail "branchgate serve exited"; }
    [ $SECONDS -lt $deadline ] || { cat "$run/serve.log"; fail "branchgate serve made no API socket in 60 s"; }
    sleep 0.5
  done
  port=$((20000 + $$ % 20000))
  while ss -Htln "sport = :$port" | grep -q .; do port=$((port + 1)); done
  # As the unit runs it: an unprivileged user (here nobody) whose group (nogroup) owns the socket; no capabilities.
  env -i PATH=/usr/bin:/bin HOME="$run/home" ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Branchgate__ApiSocket="$run/api.sock" DOTNET_gcServer=0 \
    setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
    "$root/usr/lib/branchgate-webui/branchgate-webui" > "$run/panel.log" 2>&1 &
  panel_pid=$!
  deadline=$((SECONDS + 120))
  answer=""
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$panel_pid" 2>/dev/null || break
    answer="$(curl -s -m 10 -o "$run/login.html" -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$port/login" || true)"
    case "$answer" in 000*|"") sleep 1 ;; *) break ;; esac
  done
  case "$answer" in
    "302 http://127.0.0.1:$port/setup"*) ;;
    *) stop_webui_check; echo "--- serve ---"; cat "$run/serve.log"; echo "--- panel ---"; cat "$run/panel.log"
       fail "the installed panel did not answer GET /login with a redirect to /setup (got '${answer:-nothing}')" ;;
  esac
  # The setup page renders (the gateway has no administrator: the panel asked the API).
  [ "$(curl -s -m 10 -o "$run/setup.html" -w '%{http_code}' "http://127.0.0.1:$port/setup")" = 200 ] \
    && grep -qi "setup token" "$run/setup.html" || { cat "$run/panel.log"; fail "GET /setup did not render the setup page"; }
  [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/_content/MudBlazor/MudBlazor.min.js")" = 200 ] \
    || fail "the panel does not serve MudBlazor's script from its installed wwwroot"
  ls "$run/home/.aspnet/DataProtection-Keys/"key-*.xml > /dev/null 2>&1 \
    || fail "the panel kept no DataProtection key in \$HOME/.aspnet/DataProtection-Keys (the unit's StateDirectory)"
  stop_webui_check
  ok "installed panel (amd64, dpkg -x) as nobody:nogroup, no capabilities, against a real branchgate serve: GET /login -> 302 /setup (the API said: no administrator), /setup 200, static assets, DataProtection keys under \$HOME"
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
  etc/hostname etc/fstab usr/bin/wg usr/sbin/nft usr/bin/growpart sbin/resize2fs \
  usr/lib/branchgate-webui/branchgate-webui lib/systemd/system/branchgate-webui.service \
  etc/systemd/system/branchgate-webui.service.d/appliance.conf; do
  [ -e "$rootfs/$f" ] || [ -L "$rootfs/$f" ] || fail "the root file system lacks /$f"
done
for unit in branchgate.service branchgate-firstboot.service branchgate-boot-network.service systemd-networkd.service \
  nftables.service branchgate-webui.service; do
  [ -L "$rootfs/etc/systemd/system/multi-user.target.wants/$unit" ] \
    || [ -L "$rootfs/etc/systemd/system/sysinit.target.wants/$unit" ] || fail "$unit is not enabled"
done
grep -q "branchgate" "$rootfs/var/lib/dpkg/status" || fail "the branchgate package is not registered in dpkg"
grep -qx "Package: branchgate-webui" "$rootfs/var/lib/dpkg/status" || fail "the branchgate-webui package is not registered in dpkg"
grep -q "^branchgate:x:[0-9]*:.*branchgate-webui" "$rootfs/etc/group" || fail "branchgate-webui is not in the group branchgate"
[ ! -e "$rootfs/var/lib/branchgate" ] || [ -z "$(ls -A "$rootfs/var/lib/branchgate")" ] || fail "the image carries a store"
! ls "$rootfs"/etc/ssh/ssh_host_*key > /dev/null 2>&1 || fail "the image carries SSH host keys"
[ ! -s "$rootfs/etc/machine-id" ] || fail "the image carries a machine id"
ok "root file system: branchgate and branchgate-webui (packages, units enabled, the panel's appliance drop-in), first-boot and boot-network units, networkd, nftables; no keys, no store, no machine id"

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
  units+=(/lib/systemd/system/branchgate-webui.service)
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
  # nft resolves protocol and service names through /etc/protocols and /etc/services: those of the image (none, in
  # a minbase image without netbase) are bound over this machine's in a new mount namespace, so a name the box
  # cannot resolve fails here as it failed on the box ("Could not resolve protocol name").
  for f in protocols services; do
    if [ -f "$rootfs/etc/$f" ]; then cp "$rootfs/etc/$f" "$work/nft-$f"; else : > "$work/nft-$f"; fi
  done
  unshare -n -m sh -c 'mount --bind "$1/nft-protocols" /etc/protocols && mount --bind "$1/nft-services" /etc/services &&
    nft -c -f "$2"' nft-check "$work" "$rootfs/etc/branchgate/branchgate.nft" > "$work/nft" 2>&1 \
    || { cat "$work/nft"; fail "nft -c rejects the firewall"; }
  ok "nft -c accepts the image's /etc/branchgate/branchgate.nft (included by /etc/nftables.conf) with the image's /etc/protocols and /etc/services"
else
  fail "nft is needed to check the firewall (apt-get install nftables; it is not enabled by that)"
fi

# The full check: a copy of the image, 1 GiB larger (so the first boot has a partition to grow), boots under
# qemu-system-aarch64 -M virt (TCG: no arm64 KVM here; Cortex-A72 like the Pi 4, 2 vCPUs, 2 GiB) with the image's own
# Debian kernel and initrd, its disk on virtio-blk and NO network card (-nic none: the guest reaches nothing; the
# WAN's wait-online gives up after its 60 s and branchgate.service starts anyway). Into the copy's root file system
# (debugfs, no mount) goes one test-only unit, branchgate-bootcheck.service, ordered after branchgate, the first
# boot, the panel and sshd: it waits (bounded) until they are active and the panel answers HTTP on port 80, writes
# one line of facts to the serial console, then powers the guest off. The host asserts on that line and on
# the first boot's setup token. Every wait is bounded (BOOT_TIMEOUT, default 1200 s); qemu is stopped by its PID;
# the copies are in the check's temporary directory, deleted on exit.
boot_check() {
  command -v qemu-system-aarch64 > /dev/null || fail "qemu-system-aarch64 is needed (apt-get install qemu-system-arm)"
  local disk="$work/boot-disk.img" console="$work/console.log" kernel initrd pid="" started=$SECONDS
  local deadline=$((SECONDS + ${BOOT_TIMEOUT:-1200}))
  kernel="$(grep -io '^::/vmlinuz-[^ ]*' "$work/boot.list" | head -n1)"
  initrd="$(grep -io '^::/initrd.img-[^ ]*' "$work/boot.list" | head -n1)"
  mcopy -n -i "$work/boot.img" "$kernel" "$work/vmlinuz"
  mcopy -n -i "$work/boot.img" "$initrd" "$work/initrd.img"

  cat > "$work/bootcheck.service" <<'UNIT'
# Test only (scripts/image-check.sh --boot writes it into a copy of the image): reports the boot on the console.
[Unit]
Description=Branchgate image boot check
After=branchgate.service branchgate-firstboot.service branchgate-webui.service ssh.service nftables.service

[Service]
Type=oneshot
ExecStart=/usr/lib/branchgate/branchgate-bootcheck
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
UNIT
  cat > "$work/bootcheck.sh" <<'SCRIPT'
#!/bin/bash
# Test only: waits up to 15 minutes for the gateway, the first boot, sshd and the panel's HTTP answer; prints one line
# of facts on the console and powers off.
say() { echo "BRANCHGATE-BOOTCHECK: $*" > /dev/console; }
http_get() {
	timeout 20 bash -c 'exec 3<>/dev/tcp/127.0.0.1/80 || exit 1
		printf "GET /login HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
		sed -n -e "1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p" -e "s/^[Ll]ocation: *\([^\r]*\).*/\1/p" -e "/^\r\?$/q" <&3 | tr "\n" " "' 2>/dev/null
}
end=$((SECONDS + 900))
while :; do
	gw=$(systemctl is-active branchgate.service)
	fb=$(systemctl is-active branchgate-firstboot.service)
	web=$(systemctl is-active branchgate-webui.service)
	http=$(http_get)
	[ "$gw" = active ] && [ "$web" = active ] && [ -n "$http" ] && break
	# The panel will not come: it failed, or its start job is gone (a dependency failed).
	case "$web" in failed|inactive) [ -z "$(systemctl show -p Job --value branchgate-webui.service)" ] && break ;; esac
	[ $SECONDS -lt $end ] || break
	sleep 5
done
keys=$(ls /etc/ssh/ssh_host_*_key 2>/dev/null | wc -l)
sshd=$(systemctl is-active ssh.service)
listen22=$(ss -Htln 'sport = :22' | grep -c . )
listen80=$(ss -Htln 'sport = :80' | grep -c . )
say "branchgate=$gw firstboot=$fb webui=$web http=[${http% }] ssh=$sshd hostkeys=$keys sshd-sockets=$listen22 panel-sockets=$listen80 webui-user=$(stat -c %U "/proc/$(systemctl show -p MainPID --value branchgate-webui.service)" 2>/dev/null) nft=$(nft list tables 2>/dev/null | tr '\n' ' ')"
say "failed units: [$(systemctl --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')]"
for unit in $(systemctl --failed --plain --no-legend | awk '{print $1}'); do
	journalctl -b -u "$unit" --no-pager -o cat 2>&1 | tail -n 15 | sed "s/^/BRANCHGATE-BOOTCHECK: $unit: /" > /dev/console
done
say "uptime $(cut -d' ' -f1 /proc/uptime) s; done"
systemctl poweroff --no-block
SCRIPT
  chmod 0644 "$work/bootcheck.service"
  chmod 0755 "$work/bootcheck.sh"
  debugfs -w -f - "$work/root.img" > "$work/debugfs.log" 2>&1 <<CMDS
cd /etc/systemd/system
write $work/bootcheck.service branchgate-bootcheck.service
cd /etc/systemd/system/multi-user.target.wants
symlink branchgate-bootcheck.service /etc/systemd/system/branchgate-bootcheck.service
cd /usr/lib/branchgate
write $work/bootcheck.sh branchgate-bootcheck
CMDS
  e2fsck -fn "$work/root.img" > "$work/fsck2" 2>&1 || { cat "$work/debugfs.log" "$work/fsck2"; fail "the boot check's unit could not be added to the copy"; }
  debugfs -R "stat /usr/lib/branchgate/branchgate-bootcheck" "$work/root.img" 2>/dev/null | grep -q "Mode:  0755" \
    || { cat "$work/debugfs.log"; fail "the boot check's script is not in the copy (or not executable)"; }

  cp --sparse=always "$img" "$disk"
  dd if="$work/root.img" of="$disk" bs=512 seek="$p2_start" conv=notrunc,sparse status=none
  rm -f "$work/root.img"
  truncate -s +1G "$disk"
  qemu-system-aarch64 -M virt -accel tcg -cpu cortex-a72 -smp 2 -m 2048 -nographic -no-reboot \
    -kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
    -append "root=LABEL=RASPIROOT rw console=ttyAMA0 net.ifnames=0 rootwait panic=-1" \
    -drive if=none,file="$disk",format=raw,id=hd0 -device virtio-blk-pci,drive=hd0 \
    -nic none -serial "file:$console" -monitor none -display none < /dev/null > "$work/qemu.log" 2>&1 &
  pid=$!
  local done=""
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    if grep -aq "BRANCHGATE-BOOTCHECK: uptime .* done" "$console" 2>/dev/null; then
      done=yes
      break
    fi
    sleep 5
  done
  # The guest may report and power off between two polls (qemu gone before the grep): look once more.
  grep -aq "BRANCHGATE-BOOTCHECK: uptime .* done" "$console" 2>/dev/null && done=yes
  # The guest powers itself off after its report: give it 60 s, then stop qemu by its PID.
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local took=$((SECONDS - started))
  cp "$console" "${BOOT_CONSOLE_LOG:-/dev/null}" 2>/dev/null || true
  rm -f "$disk"
  if [ -z "$done" ]; then
    tail -n 80 "$console" 2>/dev/null; cat "$work/qemu.log"
    fail "no boot check report on the serial console within $took s"
  fi
  echo "image-check: serial console (the lines that prove it):"
  grep -aE "Linux version|Started .*(Branchgate|OpenBSD Secure Shell)|Finished .*nftables|Reached target.*Multi-User|branchgate-firstboot:|one-time setup token|BRANCHGATE-BOOTCHECK|reboot: Power down" "$console" \
    | grep -av "^ *$" | sed 's/\x1b\[[0-9;]*m//g; s/^/    /' | head -n 40
  local report
  report="$(grep -a "BRANCHGATE-BOOTCHECK: branchgate=" "$console" | tail -n1)"
  for fact in "branchgate=active" "firstboot=active" "webui=active" "http=[302 " "/setup]" "ssh=active" \
    "webui-user=branchgate-webui" "table inet branchgate"; do
    echo "$report" | grep -qF -- "$fact" || fail "the boot check's report lacks '$fact': $report"
  done
  for fact in "sshd-sockets=[1-9]" "panel-sockets=[1-9]"; do
    echo "$report" | grep -qE -- "$fact" || fail "the boot check's report lacks '$fact' (a listening socket): $report"
  done
  echo "$report" | grep -qE "hostkeys=[1-9]" || fail "sshd has no host keys after the first boot: $report"
  # No unit failed, but for the wait for a routable WAN: with no network card it gives up after its 60 s (by design:
  # a box without its WAN cable still brings the gateway and the panel up).
  grep -aqE "BRANCHGATE-BOOTCHECK: failed units: \[(systemd-networkd-wait-online.service )?\]" "$console" \
    || fail "units failed: $(grep -a 'failed units' "$console")"
  grep -aq "branchgate-firstboot: setup token written" "$console" || fail "the first boot wrote no setup token"
  grep -aqE "^ +([A-Z2-9]{5}-){4}[A-Z2-9]{5}"$'\r'"?$" "$console" || fail "no setup token line on the console"
  grep -aq "growpart .*CHANGED" "$console" || fail "the first boot did not grow the root partition"
  ok "booted under qemu-system-aarch64 -M virt (TCG) and reported in $took s: branchgate.service and branchgate-webui.service active, the panel answers HTTP on port 80 (302 to /setup: it asked the API), sshd active with its host keys, the firewall loaded, no failed unit but the WAN's wait-online (no NIC), root partition grown, setup token on the console"
}

if [ "$boot" -eq 1 ]; then
  boot_check
fi
echo "image-check: the image passed ($img)"
