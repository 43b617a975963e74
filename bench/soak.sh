#!/usr/bin/env bash
# Soak test of scheduler mode (issue 6): `flowrun serve` with a 1-second ticker for MINUTES (default 10).
# Reports RSS after the first minute and at the end, and checks every slot ran exactly once.
#   bench/soak.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
swift build -c release --static-swift-stdlib --product flowrun >/dev/null
bin=$PWD/.build/release/flowrun
work=$(mktemp -d /tmp/flowrun-soak.XXXXXX)
trap 'kill $pid 2>/dev/null || true; rm -rf $work' EXIT
cat >"$work/tick.yaml" <<'FLOW'
flow: soak
nodes:
  tick: {component: ticker, settings: {interval: 1s}}
  each: {component: iterator}
  shape: {component: modify}
  state: {component: state, settings: {key: last}}
edges:
  - {from: tick.out, to: each.in, data: {array: <<range(100)>>}}
  - {from: each.item, to: shape.in, data: {n: <<$.item>>, at: <<RFC3339(now())>>}}
  - {from: each.done, to: state.set, data: {value: <<$.count>>}}
FLOW
source scripts/lib/ports.sh
port=$(free_port)
"$bin" serve "$work/tick.yaml" --admin "127.0.0.1:$port" --state "$work/state.db" 2>"$work/log" &
pid=$!
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
sleep 60
first=$(rss)
echo "after 1 minute: RSS $((first / 1024)) MiB"
sleep $(( (minutes - 1) * 60 ))
last=$(rss)
echo "after $minutes minutes: RSS $((last / 1024)) MiB (difference $(( (last - first) / 1024 )) MiB)"
kill -TERM $pid; wait $pid || true
runs=$(python3 - "$work/state.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT started_at, status FROM runs WHERE flow = 'soak' ORDER BY started_at").fetchall()
seconds = [r[0] // 1_000_000_000 for r in rows]
print(len(rows), len(set(seconds)), sum(1 for r in rows if r[1] != 'completed'))
PY
)
read -r total distinct bad <<<"$runs"
echo "runs: $total over $((minutes * 60)) s, distinct seconds: $distinct, not completed: $bad"
