#!/usr/bin/env bash
# The admin panel's package:   image/webui/build-deb.sh ARCH VERSION OUT_DIR
#   ARCH     arm64 or amd64 (Debian's names; the .NET runtime ids are linux-arm64 and linux-x64)
#   VERSION  the package version (build-image.sh passes branchgate's: the two packages are built from one commit)
# Writes OUT_DIR/branchgate-webui_VERSION_ARCH.deb. The panel is published self-contained (`dotnet publish src/WebUi
# -r RID --self-contained`: its own .NET runtime, so the box needs no .NET) into artifacts/webui/RID, which is reused
# when WEBUI_REUSE_PUBLISH=1 and it is there (build-image.sh --no-publish). Layout:
#   /usr/lib/branchgate-webui/      the published app (apphost `branchgate-webui`, its runtime, wwwroot)
#   /lib/systemd/system/branchgate-webui.service   the hardened unit (image/webui/branchgate-webui.service)
# Depends on branchgate of the same version (the API's wire shapes are compiled into both), libc6, libgcc-s1,
# libstdc++6 and OpenSSL 3 (.NET's cryptography on Linux: the DataProtection key ring).
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "build-deb (webui): FAIL: $*" >&2; exit 1; }
[ $# -eq 3 ] || fail "usage: image/webui/build-deb.sh ARCH VERSION OUT_DIR"
arch="$1" version="$2" out="$3"
case "$arch" in
  arm64) rid=linux-arm64 ;;
  amd64) rid=linux-x64 ;;
  *) fail "ARCH must be arm64 or amd64, not '$arch'" ;;
esac
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || fail "'$version' is not a Debian version"
mkdir -p "$out"

published="artifacts/webui/$rid"
if [ "${WEBUI_REUSE_PUBLISH:-0}" = 1 ] && [ -x "$published/branchgate-webui" ]; then
  echo "build-deb (webui): reusing $published"
else
  rm -rf "$published"
  started=$SECONDS
  dotnet publish src/WebUi -c Release -r "$rid" --self-contained -o "$published" -nologo -v quiet \
    -p:DebugType=none > "artifacts/webui-$rid.publish.log" 2>&1 \
    || { cat "artifacts/webui-$rid.publish.log"; fail "dotnet publish src/WebUi -r $rid failed"; }
  echo "build-deb (webui): published $rid self-contained in $((SECONDS - started)) s"
fi
[ -x "$published/branchgate-webui" ] || fail "$published/branchgate-webui is missing"
[ -f "$published/wwwroot/_content/MudBlazor/MudBlazor.min.js" ] || fail "$published lacks MudBlazor's static assets"

work="$(mktemp -d /var/tmp/branchgate-webui-deb.XXXXXX)"
trap 'rm -rf --one-file-system "$work"' EXIT
root="$work/root"
install -d -m 0755 "$root/DEBIAN" "$root/usr/lib/branchgate-webui" "$root/lib/systemd/system" \
  "$root/usr/share/doc/branchgate-webui"
cp -a "$published/." "$root/usr/lib/branchgate-webui/"
# The LTTng tracing provider is loaded only when liblttng-ust is there: leave it out rather than depend on that.
rm -f "$root/usr/lib/branchgate-webui/libcoreclrtraceptprovider.so" "$root"/usr/lib/branchgate-webui/*.pdb
# Tests' and development settings have no place on the box.
rm -f "$root/usr/lib/branchgate-webui/appsettings.Development.json"
# NuGet hands some files out executable: only the apphost and createdump are programs.
find "$root/usr/lib/branchgate-webui" -type d -exec chmod 0755 {} +
find "$root/usr/lib/branchgate-webui" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/lib/branchgate-webui/branchgate-webui"
[ ! -f "$root/usr/lib/branchgate-webui/createdump" ] || chmod 0755 "$root/usr/lib/branchgate-webui/createdump"
install -m 0644 image/webui/branchgate-webui.service "$root/lib/systemd/system/branchgate-webui.service"
install -m 0755 image/webui/postinst image/webui/prerm image/webui/postrm "$root/DEBIAN/"
cat > "$root/usr/share/doc/branchgate-webui/copyright" <<'COPYRIGHT'
Branchgate admin panel (branchgate-webui).
It ships the .NET runtime and ASP.NET Core (MIT license, Copyright (c) .NET Foundation and Contributors),
MudBlazor (MIT license) and QRCoder (MIT license) in /usr/lib/branchgate-webui.
COPYRIGHT

glibc="$(objdump -T "$root"/usr/lib/branchgate-webui/*.so "$root/usr/lib/branchgate-webui/branchgate-webui" 2>/dev/null \
  | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)"
[ -n "$glibc" ] || fail "could not read the glibc symbol versions of the published panel"
cat > "$root/DEBIAN/control" <<CONTROL
Package: branchgate-webui
Version: $version
Architecture: $arch
Maintainer: Branchgate developers <branchgate@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: branchgate (= $version), libc6 (>= $glibc), libgcc-s1, libstdc++6, libssl3 | libssl3t64
Section: net
Priority: optional
Homepage: https://github.com/branchgate/branchgate
Description: WireGuard-compatible site-to-site VPN gateway (admin panel)
 The web admin panel of branchgate: onboard sites and remote workers, watch the
 tunnels, read the audit log, manage administrators. It talks only to the
 gateway's management API socket (/run/branchgate/api.sock) as the unprivileged
 user branchgate-webui (group branchgate) and holds none of the gateway's keys.
 Self-contained: it brings its own .NET runtime.
 .
 It listens on http://127.0.0.1:5080; set ASPNETCORE_URLS in
 /etc/default/branchgate-webui to serve the LAN (the appliance image listens on
 port 80 behind its firewall).
CONTROL
deb="$out/branchgate-webui_${version}_${arch}.deb"
rm -f "$out"/branchgate-webui_*_"$arch".deb
# zstd, not xz: 120 MiB of runtime take xz -3 about two minutes on a busy 2-core machine, zstd seconds, for a few MiB
# more. dpkg reads zstd members since 1.21.18 (Debian 12 / Raspberry Pi OS bookworm).
dpkg-deb --root-owner-group -Zzstd -z12 --build "$root" "$deb" > /dev/null
echo "build-image: $deb ($(du -h "$deb" | cut -f1))"
