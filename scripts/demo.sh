#!/usr/bin/env bash
# Two branch offices joined by Branchgate, on this machine. Each office is a network namespace with a LAN (a bridge and
# one host in its own namespace) and a WAN link (a veth pair: the "internet"). Each gateway runs the appliance,
# `branchgate serve`, with its own store and management API socket; the site-to-site tunnel is loaded into each from a
# wg-quick file with `branchgate import` (through the running service), and the service adds the tunnel's addresses
# and the routes to the other office's LAN. A host in office A then pings and sends iperf3 traffic to a host in
# office B, and the demo shows what the management API reports.
# Usage: scripts/demo.sh path/to/branchgate [--keep [path/to/branchgate-webui.dll]]   (as root)
#   --keep: leave the offices running until Ctrl-C, with the commands to look at them; else remove everything at once.
#           With the admin panel's dll, office A's panel runs on http://127.0.0.1:5080 (first visit: the setup token).
set -euo pipefail
bin="$(realpath "${1:?usage: demo.sh path/to/branchgate [--keep]}")"
keep=0; [ "${2:-}" = "--keep" ] && keep=1
webui="${3:-}"
id=$$
gwA="bgdA$id"; gwB="bgdB$id"; hostA="bgdhA$id"; hostB="bgdhB$id"
wgA="bgA$id"; wgB="bgB$id"
work="$(mktemp -d /tmp/branchgate-demo.XXXXXX)"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for ns in "$gwA" "$gwB" "$hostA" "$hostB"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -f "/var/run/wireguard/$wgA.sock" "/var/run/wireguard/$wgB.sock"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
api() { local side="$1" path="$2"; curl -sS --max-time 10 --unix-socket "$work/$side/api.sock" "http://branchgate$path"; }

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

echo "== starting the appliance (branchgate serve) on both gateways, each with its own store =="
for side in A B; do
  gw="gw$side"; mkdir -p "$work/$side"
  nsx "${!gw}" "$bin" serve --db "$work/$side/branchgate.db" --api-socket "$work/$side/api.sock" \
    --setup-token "$work/$side/setup-token" >"$work/$side/serve.log" 2>&1 &
  pids+=("$!")
done
for side in A B; do
  for _ in $(seq 300); do [ -S "$work/$side/api.sock" ] && break; sleep 0.1; done
  [ -S "$work/$side/api.sock" ] || { echo "serve did not start in office $side:"; cat "$work/$side/serve.log"; exit 1; }
done

echo "== loading the site-to-site tunnel into each gateway from a wg-quick file (branchgate import) =="
umask 077
"$bin" genkey > "$work/a.key"; "$bin" genkey > "$work/b.key"
pubA="$("$bin" pubkey < "$work/a.key")"; pubB="$("$bin" pubkey < "$work/b.key")"
cat > "$work/A/$wgA.conf" <<CONF
[Interface]
PrivateKey = $(cat "$work/a.key")
ListenPort = 51820
Address = 10.99.0.1/32

# Name = office-b
[Peer]
PublicKey = $pubB
Endpoint = 198.18.0.2:51820
AllowedIPs = 10.2.0.0/24
PersistentKeepalive = 25
CONF
cat > "$work/B/$wgB.conf" <<CONF
[Interface]
PrivateKey = $(cat "$work/b.key")
ListenPort = 51820
Address = 10.99.0.2/32

# Name = office-a
[Peer]
PublicKey = $pubA
Endpoint = 198.18.0.1:51820
AllowedIPs = 10.1.0.0/24
PersistentKeepalive = 25
CONF
nsx "$gwA" "$bin" import "$work/A/$wgA.conf" --api-socket "$work/A/api.sock"
nsx "$gwB" "$bin" import "$work/B/$wgB.conf" --api-socket "$work/B/api.sock"
echo "routes the service added in office A:"; nsx "$gwA" ip route show proto 98 | sed 's/^/  /'

echo "== host 10.1.0.10 (office A) pings host 10.2.0.10 (office B) through the tunnel =="
nsx "$hostA" ping -c 5 -i 0.2 -W 2 10.2.0.10

if command -v iperf3 >/dev/null; then
  echo "== iperf3, office A -> office B, 5 s =="
  nsx "$hostB" iperf3 -s -1 -B 10.2.0.10 >/dev/null 2>&1 &
  pids+=("$!")
  for _ in $(seq 50); do nsx "$hostB" ss -ltn | grep -q 10.2.0.10:5201 && break; sleep 0.1; done
  nsx "$hostA" iperf3 -c 10.2.0.10 -t 5 | tail -4
fi

echo "== what office A's management API reports (GET /v1/status, /metrics) =="
api A /v1/status | python3 -c "$(cat <<'PY'
import json, sys
for i in json.load(sys.stdin)["interfaces"]:
    for p in i["peers"]:
        print("  {} site {}: online={} endpoint={} rx={} B tx={} B".format(
            i["name"], p["name"], p["online"], p["endpoint"], p["receivedBytes"], p["transmittedBytes"]))
PY
)"
api A /metrics | grep -E '^branchgate_peer_(receive|transmit)_bytes_total|^branchgate_peer_online' | sed 's/^/  /' || true
echo "== wg show on office A's gateway =="
nsx "$gwA" wg show "$wgA"

if [ "$keep" = 1 ]; then
  panel="(not started: give scripts/demo.sh the panel's dll as its third argument)"
  if [ -n "$webui" ] && [ -f "$webui" ]; then
    Branchgate__ApiSocket="$work/A/api.sock" Urls="http://127.0.0.1:5080" dotnet "$webui" >"$work/A/webui.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 http://127.0.0.1:5080/ && break; sleep 0.2; done
    panel="http://127.0.0.1:5080  (office A; log: $work/A/webui.log)"
  fi
  cat <<HELP

== the two offices keep running; look at them with: ==
  ip netns exec $hostA ping 10.2.0.10                         # a host in office A reaching office B
  ip netns exec $gwA wg show                                  # the tunnel, as wg sees it
  curl -s --unix-socket $work/A/api.sock http://x/v1/status   # the management API (docs/management-api.md)
  curl -s --unix-socket $work/A/api.sock http://x/metrics
  ip netns exec $gwA branchgate check                         # the IPsec-coexistence check (path: $bin)
  less $work/A/serve.log                                      # the service's log
  admin panel: $panel
  setup token for the panel's first visit: $(cat "$work/A/setup-token" 2>/dev/null || echo none)
Press Ctrl-C to stop and remove everything.
HELP
  while :; do sleep 3600 & pids+=("$!"); wait "$!" || true; done
fi
echo "== done: the offices are joined; everything is removed now =="
