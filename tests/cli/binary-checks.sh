#!/usr/bin/env bash
# Checks the published NativeAOT binary against wg(8): keys wg makes, ours, bad input; and the demo.
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
echo "binary checks passed (pubkey/genkey/genpsk agree with wg, bad input refused, demo ok)"
