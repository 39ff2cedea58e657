#!/usr/bin/env bash
# Two branch offices joined by a Branchgate tunnel, on this machine: each office is a network namespace with a LAN
# (a bridge and one host in its own namespace) and a WAN link (a veth pair: the "internet"). The gateways run
# `branchgate IFACE`, are configured with the real `wg`, and route each LAN to the other through the tunnel.
# A host in office A then pings and sends iperf3 traffic to a host in office B. Everything is removed on exit.
# Usage: scripts/demo.sh path/to/branchgate   (as root)
set -euo pipefail
bin="$(realpath "${1:?usage: demo.sh path/to/branchgate}")"
id=$$
gwA="bgdA$id"; gwB="bgdB$id"; hostA="bgdhA$id"; hostB="bgdhB$id"
wgA="bgA$id"; wgB="bgB$id"
work="$(mktemp -d)"

cleanup() {
  for ns in "$gwA" "$gwB"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  for ns in "$gwA" "$gwB" "$hostA" "$hostB"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -f "/var/run/wireguard/$wgA.sock" "/var/run/wireguard/$wgB.sock"
  rm -rf "$work"
}
trap cleanup EXIT
nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

echo "== building two offices: LAN 10.1.0.0/24 (office A) and 10.2.0.0/24 (office B), WAN 198.18.0.0/24 =="
for ns in "$gwA" "$gwB" "$hostA" "$hostB"; do ip netns add "$ns"; nsx "$ns" ip link set lo up; done
ip link add wan0 netns "$gwA" type veth peer name wan0 netns "$gwB"
nsx "$gwA" ip addr add 198.18.0.1/24 dev wan0; nsx "$gwA" ip link set wan0 up
nsx "$gwB" ip addr add 198.18.0.2/24 dev wan0; nsx "$gwB" ip link set wan0 up
for side in A B; do
  gw="gw$side"; host="host$side"; net=$([ "$side" = A ] && echo 1 || echo 2)
  nsx "${!gw}" ip link add lan0 type bridge
  nsx "${!gw}" ip addr add "10.$net.0.1/24" dev lan0
  nsx "${!gw}" ip link set lan0 up
  ip link add eth0 netns "${!host}" type veth peer name port0 netns "${!gw}"
  nsx "${!gw}" ip link set port0 master lan0 up
  nsx "${!host}" ip addr add "10.$net.0.10/24" dev eth0
  nsx "${!host}" ip link set eth0 up
  nsx "${!host}" ip route add default via "10.$net.0.1"
  nsx "${!gw}" sysctl -qw net.ipv4.ip_forward=1
done

echo "== starting branchgate on both gateways =="
nsx "$gwA" "$bin" "$wgA"
nsx "$gwB" "$bin" "$wgB"
umask 077
wg genkey > "$work/a.key"; wg genkey > "$work/b.key"
pubA="$(wg pubkey < "$work/a.key")"; pubB="$(wg pubkey < "$work/b.key")"
nsx "$gwA" wg set "$wgA" private-key "$work/a.key" listen-port 51820 \
  peer "$pubB" endpoint 198.18.0.2:51820 allowed-ips 10.2.0.0/24 persistent-keepalive 25
nsx "$gwB" wg set "$wgB" private-key "$work/b.key" listen-port 51820 \
  peer "$pubA" endpoint 198.18.0.1:51820 allowed-ips 10.1.0.0/24 persistent-keepalive 25
nsx "$gwA" ip addr add 10.99.0.1/32 dev "$wgA"; nsx "$gwA" ip link set "$wgA" up
nsx "$gwB" ip addr add 10.99.0.2/32 dev "$wgB"; nsx "$gwB" ip link set "$wgB" up
nsx "$gwA" ip route add 10.2.0.0/24 dev "$wgA"
nsx "$gwB" ip route add 10.1.0.0/24 dev "$wgB"

echo "== host 10.1.0.10 (office A) pings host 10.2.0.10 (office B) through the tunnel =="
nsx "$hostA" ping -c 5 -i 0.2 -W 2 10.2.0.10

if command -v iperf3 >/dev/null; then
  echo "== iperf3, office A -> office B, 5 s =="
  nsx "$hostB" iperf3 -s -1 -B 10.2.0.10 >/dev/null 2>&1 &
  for _ in $(seq 50); do nsx "$hostB" ss -ltn | grep -q 10.2.0.10:5201 && break; sleep 0.1; done
  nsx "$hostA" iperf3 -c 10.2.0.10 -t 5 | tail -4
fi

echo "== wg show on office A's gateway =="
nsx "$gwA" wg show "$wgA"
echo "== done: the offices are joined; everything is removed now =="
