#!/usr/bin/env bash
# Benchmarks for issue 2: `flowrun check` end to end, and expression evaluation.
# Usage: bench/run.sh            (builds release binaries first; takes about 2 minutes)
# Results are medians; record them in bench/README.md with the date and machine.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --static-swift-stdlib --product flowrun >/dev/null
swift build -c release --static-swift-stdlib --product flowrun-bench >/dev/null
bin=.build/release

echo "## flowrun check flows/user-sync.yaml (process start included), 50 runs"
times=()
for _ in $(seq 50); do
    start=$(date +%s%N)
    "$bin/flowrun" check flows/user-sync.yaml >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "median: $(( sorted[25] / 1000 )).$(( (sorted[25] % 1000) / 100 )) ms, min: $(( sorted[0] / 1000 )).$(( (sorted[0] % 1000) / 100 )) ms, max: $(( sorted[49] / 1000 )) ms"
echo "peak RSS: $( { /usr/bin/time -f '%M' "$bin/flowrun" check flows/user-sync.yaml >/dev/null; } 2>&1 ) KiB"
echo
echo "## Expression evaluation (one core, median of 5 rounds)"
"$bin/flowrun-bench"

echo
echo "## Engine: pure chain ticker -> modify -> router -> modify (bench/flows/chain.yaml)"
state=$(mktemp -d)
for n in 10000 1000000 3333333; do
    out=$( { /usr/bin/time -f 'rss=%M' "$bin/flowrun" bench/flows/chain.yaml --once --set vars.n=$n --state "$state/s.db" >"$state/out" 2>"$state/err"; } 2>&1 || true)
    line=$(grep -E "in [0-9.]+ (ms|s|µs)" "$state/out" | head -1)
    msgs=$(grep -oE "messages [0-9]+" "$state/out" | grep -oE "[0-9]+")
    echo "n=$n: $line | deliveries=$msgs | peak $(grep -oE 'rss=[0-9]+' <<<"$out$(cat "$state/err")" | tail -1) KiB"
done
rm -rf "$state"

echo
echo "## Database: upsert of 100,000 users in batches of 100 (bench/flows/upsert.yaml)"
echo "SQLite (embedded):"
"$bin/flowrun" bench/flows/upsert.yaml --once --state "$(mktemp -d)/s.db" | grep -E "^run |processed"
if [ -n "${DATABASE_URL:-}" ]; then
    echo "PostgreSQL ($DATABASE_URL, host only):"
    "$bin/flowrun" bench/flows/upsert.yaml --once --state "$(mktemp -d)/s.db" | grep -E "^run |processed"
else
    echo "(set DATABASE_URL to a local PostgreSQL to measure it too)"
fi
