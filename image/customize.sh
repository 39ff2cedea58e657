#!/bin/sh
# The appliance's own layer on the Debian root file system (build-image.sh runs it as mmdebstrap's last customize
# hook, after the branchgate package is installed):   customize.sh ROOTFS IMAGE_DIR HOSTNAME
# Host name, fstab, networkd configuration, the firewall loaded at boot, the first-boot and boot-network units, the
# services enabled, the kernel command line of the Pi, no SSH host keys and no machine id (each box makes its own).
set -eu
root="$1"
src="$2"
name="$3"
in_root() { chroot "$root" "$@"; }

echo "$name" > "$root/etc/hostname"
cat > "$root/etc/hosts" <<HOSTS
127.0.0.1	localhost
127.0.1.1	$name
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
HOSTS

cat > "$root/etc/fstab" <<'FSTAB'
# The appliance image: labels written by build-image.sh.
LABEL=RASPIROOT	/		ext4	rw,noatime,errors=remount-ro	0 1
LABEL=RASPIFIRM	/boot/firmware	vfat	rw,noatime,umask=0077	0 2
FSTAB
mkdir -p "$root/boot/firmware"

# The network: WAN (eth0, DHCP) and LAN (eth1, 192.168.50.1/24), overridable from /boot/firmware/network/.
install -d -m 0755 "$root/etc/systemd/network"
install -m 0644 "$src/network/10-wan.network" "$src/network/20-lan.network" "$root/etc/systemd/network/"
ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
if [ ! -e "$root/lib/systemd/system/systemd-resolved.service" ]; then
	# Without resolved, networkd does not write resolv.conf: fall back to public resolvers (override in the store or here).
	rm -f "$root/etc/resolv.conf"
	printf 'nameserver 9.9.9.9\nnameserver 1.1.1.1\n' > "$root/etc/resolv.conf"
fi

# The firewall: nftables.service loads /etc/nftables.conf, which includes the branchgate table.
cat > "$root/etc/nftables.conf" <<'NFT'
#!/usr/sbin/nft -f
# Branchgate appliance: the baseline firewall (WAN, LAN, tunnels); see /etc/branchgate/branchgate.nft.
include "/etc/branchgate/branchgate.nft"
NFT

install -m 0755 "$src/firstboot/branchgate-firstboot" "$src/firstboot/branchgate-boot-network" "$root/usr/lib/branchgate/"
install -m 0644 "$src/systemd/branchgate-firstboot.service" "$src/systemd/branchgate-boot-network.service" \
	"$root/lib/systemd/system/"
install -d -m 0755 "$root/boot/firmware"

in_root systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service nftables.service branchgate.service \
	branchgate-firstboot.service branchgate-boot-network.service
if [ -e "$root/lib/systemd/system/branchgate-webui.service" ]; then
	# The admin panel on port 80, only while the firewall is loaded (which lets the LAN side alone reach it).
	install -d -m 0755 "$root/etc/systemd/system/branchgate-webui.service.d"
	install -m 0644 "$src/webui/appliance.conf" "$root/etc/systemd/system/branchgate-webui.service.d/appliance.conf"
	in_root systemctl enable branchgate-webui.service
fi
# networkd-wait-online would wait for the LAN too: only one routable link is needed.
install -d -m 0755 "$root/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat > "$root/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf" <<'WAIT'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=60
WAIT

# SSH: host keys are made on the first boot (the image must not carry keys every box would share); root logs in with a
# key only (put authorized_keys in the boot partition before the first boot).
rm -f "$root"/etc/ssh/ssh_host_*
if [ -d "$root/etc/ssh/sshd_config.d" ]; then
	printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\n' > "$root/etc/ssh/sshd_config.d/branchgate.conf"
	# sshd starts before the first-boot unit (which runs after branchgate.service): it makes the keys it needs itself.
	install -d -m 0755 "$root/etc/systemd/system/ssh.service.d"
	printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
		> "$root/etc/systemd/system/ssh.service.d/branchgate-host-keys.conf"
fi

# No password for root: the console and SSH keys are the way in; the admin panel is for everything else.
in_root passwd -l root >/dev/null

# The Pi's kernel command line and config.txt are written by raspi-firmware's kernel hook from
# /etc/default/raspi-firmware. In this chroot it would guess wrong: the root device from the build host's mounts and
# the consoles from the build host's /dev. The root is the partition labelled RASPIROOT; the consoles are the GPIO
# UART (ttyS1 on the Pi 3/4) and the screen. (The hook adds net.ifnames=0 itself: eth0 and eth1.)
conf="$root/etc/default/raspi-firmware"
[ -f "$conf" ] || { echo "customize: raspi-firmware is not installed" >&2; exit 1; }
sed -i -e 's/^#\?ROOTPART=.*/ROOTPART="LABEL=RASPIROOT"/' -e 's/^#\?CONSOLES=.*/CONSOLES="ttyS1,115200 tty0"/' "$conf"
grep -q '^ROOTPART="LABEL=RASPIROOT"$' "$conf" && grep -q '^CONSOLES=' "$conf" \
	|| { echo "customize: could not set ROOTPART and CONSOLES in /etc/default/raspi-firmware" >&2; exit 1; }

# The initrd's modules: initramfs-tools' default (MODULES=most) copies every network, SCSI, ATA and framebuffer
# driver too, and under emulation that takes many minutes. The appliance boots from an SD card or a USB disk
# (and virtio under qemu): the "base" class (file systems, USB hosts, clocks, GPIO, regulators, PCIe controllers,
# pinctrl, ...), MMC, block (virtio_blk, NVMe) and USB storage are kept, plus the SCSI disk driver USB storage needs.
install -d -m 0755 "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
printf '# Branchgate appliance: the modules come from hooks/branchgate-modules\nMODULES=list\n' \
	> "$root/etc/initramfs-tools/conf.d/branchgate"
cat > "$root/etc/initramfs-tools/hooks/branchgate-modules" <<'HOOK'
#!/bin/sh
# Branchgate appliance: the initrd's drivers (MODULES=list in conf.d/branchgate): what booting from an SD card, a USB
# disk, NVMe or virtio needs, without the network, SCSI HBA, ATA and framebuffer drivers of MODULES=most.
case "$1" in prereqs) exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
auto_add_modules base mmc block usb_storage
manual_add_modules sd_mod uas vfat nls_cp437 nls_ascii
HOOK
chmod 0755 "$root/etc/initramfs-tools/hooks/branchgate-modules"

# The initrd, once: build-image.sh diverted update-initramfs to a no-op while the packages were installed.
if [ -e "$root/usr/sbin/update-initramfs.distrib" ]; then
	rm -f "$root/usr/sbin/update-initramfs"
	in_root dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
fi
for kernel in "$root"/boot/vmlinuz-*; do
	version="${kernel##*/vmlinuz-}"
	[ -e "$root/boot/initrd.img-$version" ] || in_root update-initramfs -c -k "$version"
done

# Lay /boot/firmware out with those settings: the hook copies the newest kernel, its initrd and the Broadcom device
# trees, and writes config.txt and cmdline.txt (it only acts when told it runs from a configure).
in_root env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware
grep -q "root=LABEL=RASPIROOT" "$root/boot/firmware/cmdline.txt" \
	|| { echo "customize: /boot/firmware/cmdline.txt does not boot LABEL=RASPIROOT" >&2; exit 1; }

# Each box its own machine id (systemd makes one on the first boot).
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root"/var/lib/apt/lists/* "$root"/tmp/*
