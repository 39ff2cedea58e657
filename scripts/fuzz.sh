#!/usr/bin/env bash
# Fuzzes Branchgate's parsers with SharpFuzz + AFL++ (Debian's afl++): builds tests/Fuzz, instruments the product
# assemblies in its output (dotnet sharpfuzz, a local tool: .config/dotnet-tools.json), then runs afl-fuzz on each
# target for FUZZ_SECONDS seconds, starting from the checked-in seeds in tests/Fuzz/corpus/TARGET. Fails if any target
# found a crash (an exception escaping the harness, or a hang past FUZZ_TIMEOUT_MS) and prints the inputs; a crash input
# replays without AFL as: dotnet OUT/Fuzz.dll replay TARGET FILE.
#   FUZZ_SECONDS   seconds per target (default 20: the CI-sized run, about 3 minutes for all six with the build)
#   FUZZ_TARGETS   space-separated subset (default: all)
#   FUZZ_WORK      where builds and findings go (default: artifacts/fuzz)
# A long run: FUZZ_SECONDS=600 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-20}"
targets="${FUZZ_TARGETS:-messages inbound uapi wgquick netlink apijson}"
work="${FUZZ_WORK:-artifacts/fuzz}"
timeout_ms="${FUZZ_TIMEOUT_MS:-5000}"

command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz not found (apt-get install afl++; scripts/install-deps.sh installs it)" >&2; exit 1; }

out="$work/bin"
rm -rf "$out"
mkdir -p "$work"
dotnet tool restore >/dev/null
dotnet build tests/Fuzz -c Release -nologo -v quiet
# A copy: instrumenting in place would leave the normal build output instrumented.
cp -r tests/Fuzz/bin/Release/net10.0 "$out"
# Coverage comes from the product assemblies only (the harness and the framework stay uninstrumented).
for dll in branchgate.dll Branchgate.Platform.Linux.dll; do
  dotnet sharpfuzz "$out/$dll" >/dev/null
done

export AFL_SKIP_BIN_CHECK=1                      # the target is `dotnet`, not an afl-instrumented binary
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1      # shared machines: no governor, no pinned core
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1   # core_pattern may pipe to a handler here
export AFL_NO_UI=1 AFL_QUIET=1
export AFL_FORKSRV_INIT_TMOUT=60000              # the .NET runtime starts slowly on a busy machine
export DOTNET_TieredPGO=0

failed=0
summary=()
for t in $targets; do
  findings="$work/findings/$t"
  rm -rf "$findings"
  mkdir -p "$findings"
  echo "== fuzz $t: ${seconds}s =="
  afl-fuzz -i "tests/Fuzz/corpus/$t" -o "$findings" -V "$seconds" -t "$timeout_ms" -m none \
    -- dotnet "$out/Fuzz.dll" "$t" > "$findings/afl.log" 2>&1 || { tail -30 "$findings/afl.log"; failed=1; continue; }
  stats="$findings/default/fuzzer_stats"
  execs=$(awk -F: '/^execs_done/ {gsub(/ /,"",$2); print $2}' "$stats")
  edges=$(awk -F: '/^edges_found/ {gsub(/ /,"",$2); print $2}' "$stats")
  paths=$(awk -F: '/^corpus_count/ {gsub(/ /,"",$2); print $2}' "$stats")
  rate=$(awk -F: '/^execs_per_sec/ {gsub(/ /,"",$2); print $2}' "$stats")
  bitmap=$(awk -F: '/^bitmap_cvg/ {gsub(/ /,"",$2); print $2}' "$stats")
  crashes=$(find "$findings/default/crashes" -name 'id:*' | wc -l)
  hangs=$(find "$findings/default/hangs" -name 'id:*' | wc -l)
  summary+=("$t: execs=$execs execs/s=$rate edges=$edges bitmap=$bitmap corpus=$paths crashes=$crashes hangs=$hangs")
  if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
    failed=1
    for f in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
      [ -e "$f" ] || continue
      echo "-- $f"
      dotnet "$out/Fuzz.dll" replay "$t" "$f" 2>&1 | head -20 || true
    done
  fi
done

echo "== fuzz summary (${seconds}s per target) =="
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED (crashes, hangs or an afl-fuzz error above)" >&2
  exit 1
fi
echo "fuzz: no crashes"
