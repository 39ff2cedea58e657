#!/usr/bin/env bash
# Tunnel throughput: branchgate against wireguard-go (and the bare link), measured with iperf3 in one run.
#
# Two network namespaces joined by a veth pair (the "WAN", 198.18.0.0/24). For each case a userspace WireGuard daemon
# runs in each namespace (tunnel 10.77.0.1 <-> 10.77.0.2, MTU 1420), configured with `wg`; the iperf3 client runs in
# namespace A (it sends), the server in B:
#   bare    no tunnel: iperf3 straight over the veth (the ceiling of this machine)
#   bg-bg   branchgate <-> branchgate
#   wg-wg   wireguard-go <-> wireguard-go (the reference every ratio is taken against)
#   bg-wg   branchgate sends (A), wireguard-go receives (B)
#   wg-bg   wireguard-go sends (A), branchgate receives (B)
# Each case runs three iperf3 tests of SECONDS each: TCP 1 stream, TCP 4 streams (-P 4), UDP (-u -b RATE -l LEN).
# Per test it records the received rate, each daemon's CPU time (utime+stime from /proc/PID/stat, all threads) over
# the test divided by the bytes received (CPU seconds per GB, GB = 10^9 bytes), TCP retransmits, UDP loss, the
# slowest 1-second TCP interval, and where packets were dropped (full UDP receive buffers, full TUN queues); per case
# each daemon's peak RSS (VmHWM from /proc/PID/status before it is stopped).
# With -n N every case runs N times (daemons restarted each time, cases interleaved) and the table shows medians;
# the peak RSS is the largest seen.
#
# Usage: tests/Benchmarks/throughput.sh [-n N] [-t SECONDS] [-b UDP_RATE] [-l UDP_LEN] [-c "CASES"] [-k DIR]
#                                       [-w WORKERS] [path/to/branchgate]
#   default binary artifacts/linux-x64/branchgate (published with scripts/publish-aot.sh linux-x64 when missing);
#   -n 1, -t 10, -b 0 (unlimited), -l 1392 (the largest UDP payload that fits the tunnel MTU of 1420 unfragmented),
#   -c "bare bg-bg wg-wg bg-wg wg-bg", -k DIR keeps the iperf3 JSON, daemon logs and raw results in DIR,
#   -w WORKERS sets branchgate's crypto worker threads per packet thread (BRANCHGATE_CRYPTO_WORKERS; 0 = the packet
#   threads seal and open alone; default: the daemon's own, one per further core, at most 3).
# BRANCHGATE_LOG_LEVEL=verbose in the environment makes branchgate log its allocated-bytes counter every 10 s (with -k
# DIR the daemon logs are kept): the allocation check of docs/performance.md.
# Runs as root; everything it creates carries its PID and is removed on exit (daemons and iperf3 servers it started
# are killed by PID). Not part of the test suite: numbers are recorded in docs/performance.md.
set -euo pipefail

usage() { sed -n '/^# Usage:/,/^#   threads/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

reps=1 secs=10 udp_rate=0 udp_len=1392 cases="bare bg-bg wg-wg bg-wg wg-bg" keep="" workers=""
while getopts "n:t:b:l:c:k:w:h" opt; do
  case "$opt" in
    n) reps="$OPTARG" ;;
    t) secs="$OPTARG" ;;
    b) udp_rate="$OPTARG" ;;
    l) udp_len="$OPTARG" ;;
    c) cases="$OPTARG" ;;
    k) keep="$OPTARG" ;;
    w) workers="$OPTARG" ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "throughput: -n wants a positive integer" >&2; exit 2; }
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || { echo "throughput: -t wants a positive integer" >&2; exit 2; }
[[ "$udp_len" =~ ^[1-9][0-9]*$ ]] || { echo "throughput: -l wants a positive integer" >&2; exit 2; }
[[ -z "$workers" || "$workers" =~ ^[0-9]+$ ]] || { echo "throughput: -w wants a number (0 or more)" >&2; exit 2; }
for c in $cases; do
  case "$c" in bare | bg-bg | wg-wg | bg-wg | wg-bg) ;; *) echo "throughput: unknown case '$c'" >&2; exit 2 ;; esac
done

log() { printf '%s\n' "$*" >&2; }
die() { log "throughput: $*"; exit 1; }

repo="$(cd "$(dirname "$0")/../.." && pwd)"
[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, TUN devices)"

# --- prerequisites ------------------------------------------------------------------------------------------------
tools=(ip ss ping iperf3 wg wireguard-go timeout awk)
missing_tools() { local t; for t in "${tools[@]}"; do command -v "$t" >/dev/null 2>&1 || printf '%s ' "$t"; done; }
missing="$(missing_tools)"
if [ -n "$missing" ]; then
  log "throughput: missing: $missing- running scripts/install-deps.sh"
  "$repo/scripts/install-deps.sh" || die "scripts/install-deps.sh failed; install: $missing"
  missing="$(missing_tools)"
  [ -z "$missing" ] || die "still missing after scripts/install-deps.sh: $missing"
fi

if [ $# -eq 1 ]; then
  [ -x "$1" ] || die "$1: not an executable file"
  bin="$(realpath "$1")"
else
  bin="$repo/artifacts/linux-x64/branchgate"
  if [ ! -x "$bin" ]; then
    log "throughput: $bin missing - running scripts/publish-aot.sh linux-x64"
    "$repo/scripts/publish-aot.sh" linux-x64 >&2 || die "scripts/publish-aot.sh failed"
  fi
fi

# --- the namespaces, and cleanup ----------------------------------------------------------------------------------
id=$$
nsA="bgtp${id}a" nsB="bgtp${id}b"
wanA=198.18.0.1 wanB=198.18.0.2 tunA=10.77.0.1 tunB=10.77.0.2
work="$(mktemp -d "/tmp/bgtput$id.XXXXXX")"
owned=()   # PIDs of daemons and iperf3 servers this script started and has not reaped yet
sockets=() # UAPI socket files of the daemons it started
hz="$(getconf CLK_TCK)"

alive() { # PID: running (not gone, not a zombie)
  local state
  state="$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" && [ -n "$state" ] && [ "$state" != Z ]
}
dead() { ! alive "$1"; }

wait_until() { # SECONDS COMMAND...: polls every 0.1 s; false when time runs out
  local tries=$(($1 * 10))
  shift
  until "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}

disown_pid() { # PID: forget a PID that has been reaped
  local p kept=()
  for p in "${owned[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  owned=("${kept[@]+"${kept[@]}"}")
}

stopped_status=0
stop_pid() { # PID: TERM, then KILL after 5 s; reaps it; its exit status goes to stopped_status
  local pid="$1" rc=0
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until 5 dead "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_until 5 dead "$pid" || true
    fi
  fi
  wait "$pid" 2>/dev/null || rc=$?
  disown_pid "$pid"
  stopped_status="$rc"
}

cleanup() {
  local pid s
  trap - EXIT INT TERM
  for pid in "${owned[@]+"${owned[@]}"}"; do
    alive "$pid" && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${owned[@]+"${owned[@]}"}"; do
    wait_until 5 dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
  done
  ip netns del "$nsA" 2>/dev/null || true
  ip netns del "$nsB" 2>/dev/null || true
  for s in "${sockets[@]+"${sockets[@]}"}"; do rm -f "$s"; done
  if [ -n "$keep" ]; then
    mkdir -p "$keep" && cp -r "$work"/. "$keep"/ && rm -f "$keep/a.key" "$keep/b.key" &&
      log "throughput: raw data kept in $keep"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

ip netns add "$nsA"
ip netns add "$nsB"
ip link add wan0 netns "$nsA" type veth peer name wan0 netns "$nsB"
for side in A B; do
  ns="ns$side" wan="wan$side"
  nsx "${!ns}" ip link set lo up
  nsx "${!ns}" ip addr add "${!wan}/24" dev wan0
  nsx "${!ns}" ip link set wan0 up
done
wait_until 10 nsx "$nsA" ping -c 1 -W 1 -q "$wanB" >/dev/null || die "the veth pair does not pass traffic"

umask 077
wg genkey >"$work/a.key"
wg genkey >"$work/b.key"
pubA="$(wg pubkey <"$work/a.key")"
pubB="$(wg pubkey <"$work/b.key")"

# --- daemons --------------------------------------------------------------------------------------------------------
daemon_pid=""
start_daemon() { # IMPL(bg|wg) NS IFACE LOGFILE: sets daemon_pid
  local impl="$1" ns="$2" iface="$3" logf="$4" pid
  sockets+=("/var/run/wireguard/$iface.sock")
  # `ip netns exec` execs the command in place, so $! is the daemon's own PID.
  if [ "$impl" = bg ]; then
    LOG_LEVEL="${BRANCHGATE_LOG_LEVEL:-error}" BRANCHGATE_CRYPTO_WORKERS="$workers" ip netns exec "$ns" "$bin" -f "$iface" >"$logf" 2>&1 &
    pid=$!
  else
    LOG_LEVEL=error WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
      ip netns exec "$ns" wireguard-go -f "$iface" >"$logf" 2>&1 &
    pid=$!
  fi
  owned+=("$pid")
  if ! wait_until 15 test -S "/var/run/wireguard/$iface.sock" || dead "$pid"; then
    log "throughput: $impl did not come up on $iface; its output:"
    sed 's/^/  /' "$logf" >&2
    die "daemon start failed"
  fi
  daemon_pid="$pid"
}

# Where packets are lost: datagrams the kernel dropped because a UDP socket's receive buffer was full (in the
# namespace: the daemon's outer socket, and in the UDP test also iperf3's), and packets a TUN dropped because the
# daemon did not read them in time (tx_dropped: the kernel -> daemon queue).
drop_counters() { # NS [IFACE]: "UDP-receive-buffer-drops TUN-drops"
  local udp tun=0
  udp="$(nsx "$1" awk '$1 == "Udp:" && $6 ~ /^[0-9]+$/ { n += $6 } $1 == "Udp6RcvbufErrors" { n += $2 }
    END { print n + 0 }' /proc/net/snmp /proc/net/snmp6)"
  [ -z "${2:-}" ] || tun="$(nsx "$1" cat "/sys/class/net/$2/statistics/tx_dropped" 2>/dev/null || echo 0)"
  echo "$udp $tun"
}

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rss_mib() { awk '$1 == "VmRSS:" { printf "%.0f MiB", $2 / 1024; found = 1 } END { if (!found) print "?" }' "/proc/$1/status" 2>/dev/null || echo "?"; }

# --- iperf3 and its JSON --------------------------------------------------------------------------------------------
# iperf3 -J is pretty-printed by cJSON, one member per line, indented with tabs; these read it with plain awk.
json_end() { # FILE OBJECT KEY: value of .end.OBJECT.KEY
  awk -v obj="$2" -v key="$3" '
    index($0, "\t\"end\":\t{") == 1 { inend = 1; next }
    inend && index($0, "\t\t\"" obj "\":\t{") == 1 { inobj = 1; next }
    inobj && index($0, "\t\t\t\"" key "\":\t") == 1 { v = $0; sub(/^[^:]*:\t/, "", v); sub(/,$/, "", v); print v; exit }
    inobj && index($0, "\t\t}") == 1 { exit }' "$1"
}
json_error() { awk 'index($0, "\t\"error\":\t") == 1 { v = $0; sub(/^[^:]*:\t/, "", v); print v }' "$1"; }
json_min_interval_bps() { # FILE: the lowest per-interval sum (client side, 1-second intervals)
  awk '
    index($0, "\t\"end\":") == 1 { exit }
    index($0, "\t\t\t\"sum\":\t{") == 1 { insum = 1; next }
    insum && index($0, "\t\t\t\t\"bits_per_second\":\t") == 1 {
      v = $0; sub(/^[^:]*:\t/, "", v); sub(/,$/, "", v); v += 0
      if (n == 0 || v < min) min = v; n++; insum = 0 }
    END { if (n) printf "%.0f\n", min; else print "nan" }' "$1"
}

listening() { nsx "$1" ss -Hltn "sport = :5201" | grep -q .; }

run_iperf() { # TEST(tcp1|tcp4|udp) SERVER_ADDR JSON_OUT: client in A, server in B; false when the test failed
  local test="$1" addr="$2" out="$3" srv cli rc=0 args
  # Not through nsx: a backgrounded function is a subshell, and $! would be that shell rather than iperf3.
  ip netns exec "$nsB" iperf3 -s -1 -B "$addr" >/dev/null 2>&1 &
  srv=$!
  owned+=("$srv")
  if ! wait_until 10 listening "$nsB"; then
    stop_pid "$srv"
    echo "iperf3 server did not listen" >"$out.err"
    return 1
  fi
  args=(-c "$addr" -t "$secs" -J --connect-timeout 5000)
  case "$test" in
    tcp4) args+=(-P 4) ;;
    udp) args+=(-u -b "$udp_rate" -l "$udp_len") ;;
  esac
  # In the background and waited for, so a signal to this script runs its trap (which stops it) at once.
  timeout -k 5 $((secs + 30)) ip netns exec "$nsA" iperf3 "${args[@]}" >"$out" 2>"$out.err" &
  cli=$!
  owned+=("$cli")
  wait "$cli" || rc=$?
  disown_pid "$cli"
  # The one-off server exits after its test; stop it if it did not (a failed or timed-out client).
  wait_until 5 dead "$srv" || true
  stop_pid "$srv"
  if [ "$rc" -ne 0 ]; then
    { echo "iperf3 client exit status $rc"; json_error "$out"; } >>"$out.err"
    return 1
  fi
}

# --- one case: start the pair, run the three tests, stop the pair ----------------------------------------------------
results="$work/results" # case test rep gbps bytes ticksA ticksB loss retransmits min_interval_gbps
rss="$work/rss"         # case rep hwmA_kB hwmB_kB
: >"$results"
: >"$rss"
notes="$work/notes"
: >"$notes"
failures=0
counter=0

impl_of() { # CASE SIDE(A|B): bg, wg or none
  case "$1" in bare) echo none ;; *) if [ "$2" = A ]; then echo "${1%-*}"; else echo "${1#*-}"; fi ;; esac
}

run_case() { # CASE REP
  local case="$1" rep="$2" implA implB ifA="" ifB="" pidA="" pidB="" addr test out t0A t0B t1A t1B bytes bps loss retr
  local minb hwmA=0 hwmB=0 rc said d0A d0B d1A d1B
  implA="$(impl_of "$case" A)" implB="$(impl_of "$case" B)"
  if [ "$case" = bare ]; then
    addr="$wanB"
  else
    counter=$((counter + 1))
    ifA="tp${id}a$counter" ifB="tp${id}b$counter"
    start_daemon "$implA" "$nsA" "$ifA" "$work/$case.$rep.A.log"
    pidA="$daemon_pid"
    start_daemon "$implB" "$nsB" "$ifB" "$work/$case.$rep.B.log"
    pidB="$daemon_pid"
    nsx "$nsA" wg set "$ifA" private-key "$work/a.key" listen-port 51820 \
      peer "$pubB" endpoint "$wanB:51821" allowed-ips "$tunB/32"
    nsx "$nsB" wg set "$ifB" private-key "$work/b.key" listen-port 51821 \
      peer "$pubA" endpoint "$wanA:51820" allowed-ips "$tunA/32"
    nsx "$nsA" ip addr add "$tunA/24" dev "$ifA"
    nsx "$nsA" ip link set "$ifA" mtu 1420 up
    nsx "$nsB" ip addr add "$tunB/24" dev "$ifB"
    nsx "$nsB" ip link set "$ifB" mtu 1420 up
    if ! wait_until 10 nsx "$nsA" ping -c 1 -W 1 -q "$tunB" >/dev/null; then
      echo "$case rep $rep: no ping through the tunnel within 10 s" >>"$notes"
      failures=$((failures + 1))
    fi
    addr="$tunB"
  fi

  for test in tcp1 tcp4 udp; do
    out="$work/$case.$rep.$test.json"
    if [ -n "$pidA" ] && { dead "$pidA" || dead "$pidB"; }; then
      echo "$case rep $rep $test: skipped, a daemon is gone" >>"$notes"
      failures=$((failures + 1))
      continue
    fi
    t0A=0 t0B=0 t1A=0 t1B=0
    if [ -n "$pidA" ]; then t0A="$(cpu_ticks "$pidA")" t0B="$(cpu_ticks "$pidB")"; fi
    d0A="$(drop_counters "$nsA" "$ifA")" d0B="$(drop_counters "$nsB" "$ifB")"
    if ! run_iperf "$test" "$addr" "$out"; then
      echo "$case rep $rep $test: iperf3 failed: $(tr '\n' ' ' <"$out.err")" >>"$notes"
      failures=$((failures + 1))
      log "  $case rep $rep $test: FAILED ($(head -c 200 "$out.err" | tr '\n' ' '))"
      continue
    fi
    if [ -n "$pidA" ]; then
      t1A="$(cpu_ticks "$pidA" 2>/dev/null || echo "$t0A")" t1B="$(cpu_ticks "$pidB" 2>/dev/null || echo "$t0B")"
    fi
    d1A="$(drop_counters "$nsA" "$ifA")" d1B="$(drop_counters "$nsB" "$ifB")"
    bytes="$(json_end "$out" sum_received bytes)"
    bps="$(json_end "$out" sum_received bits_per_second)"
    loss="-" retr="-"
    if [ "$test" = udp ]; then loss="$(json_end "$out" sum_received lost_percent)"; else retr="$(json_end "$out" sum_sent retransmits)"; fi
    minb=nan
    [ "$test" = udp ] || minb="$(json_min_interval_bps "$out")"
    if [ -z "$bytes" ] || [ -z "$bps" ]; then
      echo "$case rep $rep $test: no end.sum_received in the iperf3 JSON" >>"$notes"
      failures=$((failures + 1))
      continue
    fi
    awk -v c="$case" -v t="$test" -v r="$rep" -v bps="$bps" -v by="$bytes" -v a=$((t1A - t0A)) -v b=$((t1B - t0B)) \
      -v l="$loss" -v x="$retr" -v m="$minb" -v d="$d0A $d0B $d1A $d1B" 'BEGIN {
        split(d, v, " ")
        printf "%s %s %s %.4f %s %s %s %s %s %s %d %d %d %d\n", c, t, r, bps / 1e9, by, a, b, l, x,
          m == "nan" ? "-" : sprintf("%.4f", m / 1e9), v[5] - v[1], v[6] - v[2], v[7] - v[3], v[8] - v[4] }' >>"$results"
    if [ -n "$pidA" ]; then
      log "  $(tail -n 1 "$results" | awk -v hz="$hz" '{ gb = $5 / 1e9; printf "%s %s rep %s: %.3f Gbit/s, CPU s/GB A %.2f B %.2f, loss %s, retr %s, slowest 1 s %s Gbit/s, drops UDP-rcvbuf A %d B %d, TUN A %d B %d", $1, $2, $3, $4, $6 / hz / gb, $7 / hz / gb, $8, $9, $10, $11, $13, $12, $14 }'), RSS A $(rss_mib "$pidA") B $(rss_mib "$pidB")"
    else
      log "  $(tail -n 1 "$results" | awk '{ printf "%s %s rep %s: %.3f Gbit/s, loss %s, retr %s, slowest 1 s %s Gbit/s, drops UDP-rcvbuf A %d B %d", $1, $2, $3, $4, $8, $9, $10, $11, $13 }')"
    fi
  done

  if [ -n "$pidA" ]; then
    alive "$pidA" && hwmA="$(status_kb "$pidA" VmHWM)"
    alive "$pidB" && hwmB="$(status_kb "$pidB" VmHWM)"
    echo "$case $rep $hwmA $hwmB" >>"$rss"
    for side in A B; do
      local pid="pid$side" impl="impl$side"
      if dead "${!pid}"; then
        stop_pid "${!pid}"
        rc="$stopped_status"
        echo "$case rep $rep: ${!impl} on side $side died during the run (exit status $rc); log: $(tail -c 500 "$work/$case.$rep.$side.log" | tr '\n' ' ')" >>"$notes"
        failures=$((failures + 1))
      else
        stop_pid "${!pid}"
        rc="$stopped_status"
        # 0 = clean exit; 143 = killed by SIGTERM before installing a handler; anything else is worth a note.
        if [ "$rc" != 0 ] && [ "$rc" != 143 ]; then
          echo "$case rep $rep: ${!impl} on side $side exited with status $rc when stopped" >>"$notes"
        fi
      fi
      # wireguard-go always prints a banner about the kernel module; anything else a daemon says is worth a note.
      said="$(grep -v -e '^┌' -e '^│' -e '^└' "$work/$case.$rep.$side.log" | head -c 500 | tr '\n' ' ' || true)"
      [ -z "$said" ] || echo "$case rep $rep: ${!impl} on side $side logged: $said" >>"$notes"
    done
    ip -n "$nsA" link del "$ifA" 2>/dev/null || true
    ip -n "$nsB" link del "$ifB" 2>/dev/null || true
    rm -f "/var/run/wireguard/$ifA.sock" "/var/run/wireguard/$ifB.sock"
  fi
}

# --- the run ----------------------------------------------------------------------------------------------------------
started=$SECONDS
log "throughput: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
log "throughput: $("$bin" version 2>/dev/null || echo "branchgate ?"), wireguard-go $(wireguard-go --version 2>/dev/null | awk 'NR == 1 { print $2 }'), $(iperf3 --version | awk 'NR == 1 { print $1, $2 }')"
log "throughput: branchgate crypto workers per packet thread: ${workers:-default}"
log "throughput: TCP congestion control $(nsx "$nsA" sysctl -n net.ipv4.tcp_congestion_control), net.core.rmem_max $(sysctl -n net.core.rmem_max)"
log "throughput: cases: $cases; $reps run(s) of ${secs}s tests: TCP 1 stream, TCP -P 4, UDP -b $udp_rate -l $udp_len"
for rep in $(seq "$reps"); do
  for case in $cases; do
    run_case "$case" "$rep"
  done
done

# --- the table ----------------------------------------------------------------------------------------------------------
echo
echo "Tunnel throughput, $(date -u +%Y-%m-%d), $(nproc) CPUs, ${secs} s per test, $( [ "$reps" -gt 1 ] && echo "medians of $reps runs" || echo "1 run")."
echo "A -> B: the iperf3 client (sender) runs behind A, the server behind B. Gbit/s received; x wg-go = against wg-wg;"
echo "CPU = daemon CPU seconds per GB received (both daemons: A / B); UDP loss = iperf3's lost datagrams;"
echo "slowest 1s = the lowest 1-second TCP sending rate, Gbit/s (a stall shows as ~0). Drops: datagrams a full UDP"
echo "receive buffer dropped in A's / B's namespace (the daemon's outer socket; in the UDP test also iperf3's) and"
echo "packets a TUN dropped because its daemon did not read them in time."
echo
awk -v hz="$hz" -v order="$cases" '
  function label(c) {
    if (c == "bare") return "bare veth (no tunnel)"
    if (c == "bg-bg") return "branchgate -> branchgate"
    if (c == "wg-wg") return "wireguard-go -> wireguard-go"
    if (c == "bg-wg") return "branchgate -> wireguard-go"
    if (c == "wg-bg") return "wireguard-go -> branchgate"
    return c
  }
  function tlabel(t) { return t == "tcp1" ? "TCP 1 stream" : t == "tcp4" ? "TCP 4 streams" : "UDP" }
  function median(key,    n, i, j, v, a) {
    n = cnt[key]
    if (n == 0) return "nan"
    for (i = 1; i <= n; i++) a[i] = vals[key, i]
    for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function add(key, v) { cnt[key]++; vals[key, cnt[key]] = v }
  FILENAME == ARGV[1] {
    k = $1 SUBSEP $2; gb = $5 / 1e9
    add("gbps" SUBSEP k, $4)
    if ($1 != "bare" && gb > 0) { add("cpuA" SUBSEP k, $6 / hz / gb); add("cpuB" SUBSEP k, $7 / hz / gb); add("cpu" SUBSEP k, ($6 + $7) / hz / gb) }
    if ($8 != "-") add("loss" SUBSEP k, $8)
    if ($9 != "-") add("retr" SUBSEP k, $9)
    if ($10 != "-") add("min" SUBSEP k, $10)
    add("uA" SUBSEP k, $11); add("tA" SUBSEP k, $12); add("uB" SUBSEP k, $13); add("tB" SUBSEP k, $14)
    next
  }
  { if ($3 + 0 > hwmA[$1]) hwmA[$1] = $3 + 0; if ($4 + 0 > hwmB[$1]) hwmB[$1] = $4 + 0 }
  END {
    nc = split(order, cs, " "); split("tcp1 tcp4 udp", ts, " ")
    printf "| %-28s | %-13s | %7s | %7s | %-20s | %8s | %7s | %9s |\n", "case (A -> B)", "test", "Gbit/s", "x wg-go", "CPU s/GB (A / B)", "UDP loss", "retrans", "slowest 1s"
    printf "|%s|%s|%s|%s|%s|%s|%s|%s|\n", "------------------------------", "---------------", "--------:", "--------:", "----------------------", "---------:", "--------:", "----------:"
    for (i = 1; i <= nc; i++) for (j = 1; j <= 3; j++) {
      c = cs[i]; t = ts[j]; k = c SUBSEP t
      g = median("gbps" SUBSEP k)
      if (g == "nan") { printf "| %-28s | %-13s | %7s | %7s | %-20s | %8s | %7s | %9s |\n", label(c), tlabel(t), "failed", "", "", "", "", ""; continue }
      ref = median("gbps" SUBSEP "wg-wg" SUBSEP t)
      ratio = (ref != "nan" && ref > 0) ? sprintf("%.2f", g / ref) : "-"
      cpu = cnt["cpu" SUBSEP k] ? sprintf("%.1f (%.1f / %.1f)", median("cpu" SUBSEP k), median("cpuA" SUBSEP k), median("cpuB" SUBSEP k)) : "-"
      loss = cnt["loss" SUBSEP k] ? sprintf("%.1f%%", median("loss" SUBSEP k)) : "-"
      retr = cnt["retr" SUBSEP k] ? sprintf("%d", median("retr" SUBSEP k)) : "-"
      slow = cnt["min" SUBSEP k] ? sprintf("%.3f", median("min" SUBSEP k)) : "-"
      printf "| %-28s | %-13s | %7.3f | %7s | %-20s | %8s | %7s | %9s |\n", label(c), tlabel(t), g, ratio, cpu, loss, retr, slow
    }
    print ""
    printf "| %-28s | %-13s | %21s | %21s |\n", "packets dropped (A -> B)", "test", "UDP rcvbuf full A / B", "TUN queue full A / B"
    printf "|%s|%s|%s|%s|\n", "------------------------------", "---------------", "----------------------:", "----------------------:"
    for (i = 1; i <= nc; i++) for (j = 1; j <= 3; j++) {
      c = cs[i]; t = ts[j]; k = c SUBSEP t
      if (!cnt["uA" SUBSEP k]) continue
      tun = c == "bare" ? "-" : sprintf("%d / %d", median("tA" SUBSEP k), median("tB" SUBSEP k))
      printf "| %-28s | %-13s | %21s | %21s |\n", label(c), tlabel(t), sprintf("%d / %d", median("uA" SUBSEP k), median("uB" SUBSEP k)), tun
    }
    print ""
    printf "| %-28s | %20s | %20s |\n", "daemons (A -> B)", "peak RSS A (VmHWM)", "peak RSS B (VmHWM)"
    printf "|%s|%s|%s|\n", "------------------------------", "---------------------:", "---------------------:"
    for (i = 1; i <= nc; i++) {
      c = cs[i]; if (c == "bare" || !(c in hwmA)) continue
      printf "| %-28s | %16.1f MiB | %16.1f MiB |\n", label(c), hwmA[c] / 1024, hwmB[c] / 1024
    }
  }' "$results" "$rss"

if [ -s "$notes" ]; then
  echo
  echo "Notes:"
  sed 's/^/- /' "$notes"
fi
log "throughput: done in $((SECONDS - started)) s"
if [ "$failures" -gt 0 ]; then
  log "throughput: $failures failure(s), see the notes"
  exit 1
fi
