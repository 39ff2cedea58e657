#!/usr/bin/env bash
# Checks the published NativeAOT binary against wg(8): keys wg makes, ours, bad input; the demo; and its crypto
# selftest on this CPU's vector paths.
set -euo pipefail
bin="${1:?usage: binary-checks.sh path/to/branchgate}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for i in $(seq 1 10); do
  wg genkey | tee "$work/k" | "$bin" pubkey > "$work/ours"
  wg pubkey < "$work/k" > "$work/theirs"
  cmp -s "$work/ours" "$work/theirs" || fail "pubkey differs from wg pubkey for a wg key"
  "$bin" genkey > "$work/k2"
  [ "$(wg pubkey < "$work/k2")" = "$("$bin" pubkey < "$work/k2")" ] || fail "wg pubkey differs for our key"
done
[ "$("$bin" genpsk | wc -c)" -eq 45 ] || fail "genpsk length"

for bad in "" "short" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==" "$(head -c 5000 /dev/zero | tr '\0' A)"; do
  if printf '%s' "$bad" | "$bin" pubkey > "$work/out" 2> "$work/err"; then
    fail "pubkey accepted bad input '$bad'"
  fi
  grep -q "Key is not the correct length or format" "$work/err" || fail "pubkey gave no clear error"
  [ ! -s "$work/out" ] || fail "pubkey printed something for bad input"
done

if "$bin" --frobnicate 2> "$work/err"; then fail "unknown verb accepted"; fi
grep -q "unknown command" "$work/err" || fail "unknown verb message"

"$bin" demo > "$work/demo" || fail "demo failed: $(cat "$work/demo")"
grep -q 'got "hello back from office B"' "$work/demo" || fail "demo did not exchange data"
"$bin" selftest > "$work/selftest" 2>&1 || fail "selftest failed: $(cat "$work/selftest")"
grep -q '^selftest passed: ' "$work/selftest" || fail "selftest did not report success: $(cat "$work/selftest")"
grep -q 'NativeAOT$' "$work/selftest" || fail "selftest did not run as NativeAOT: $(head -1 "$work/selftest")"
# The x64 binary is built for x86-64-v3 (it needs AVX2 to start at all), so both the Vector128 and the Vector256 path
# must have been checked.
for path in "Vector128 (SSE)" "Vector256 (AVX2)"; do
  grep -qF "ChaCha20-Poly1305: $path: 300 random lengths 0..9000 match libsodium ... ok" "$work/selftest" ||
    fail "selftest did not check the $path path: $(cat "$work/selftest")"
done
echo "binary checks passed (pubkey/genkey/genpsk agree with wg, bad input refused, demo ok, selftest ok:" \
  "$(grep -c ' \.\.\. ok$' "$work/selftest") checks, data path $(sed -n 's/^data path: ChaCha20 //p' "$work/selftest"))"
