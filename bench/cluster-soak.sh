#!/usr/bin/env bash
# Soak of cluster mode (issue 14): 3 `flowrun serve` replicas on one throwaway PostgreSQL for MINUTES
# (default 10), each with its own FLOWRUN_NODE_ID and host name (as root), leases of TTL seconds (default
# 3, renewed every second). Every minute one replica is killed with SIGKILL (the one holding a slow run
# when there is one) and restarted 5 s later as a new node. A 1 s ticker writes one row per run with its
# slot (run.slot); a slow flow (every 10 s, 4 s long) keeps a cursor: the flows of the cluster test suite
# (bench/flows/cluster). Reports slots expected, fired, doubled and lost, and per kill
# of a slow run's holder the time until its rescue run started and completed.
#   bench/cluster-soak.sh [MINUTES] [TTL]     (BIN=path/to/flowrun to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
ttl=${2:-3}
if [ -z "${BIN:-}" ]; then
    swift build --product flowrun >/dev/null
    BIN=$PWD/.build/debug/flowrun
fi
source scripts/lib/postgres.sh
start_pg_cluster
work=$(mktemp -d /tmp/flowrun-cluster-soak.XXXXXX)
declare -A pids
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    eval "$PG_CLUSTER_STOP"
    # The replicas' logs are kept (the path is printed); the rest goes.
    logs=$(mktemp -d /tmp/flowrun-cluster-soak-logs.XXXXXX)
    cp "$work"/*.log "$work/kills" "$logs/" 2>/dev/null || true
    echo "replica logs: $logs"
    rm -rf "$work"
}
trap cleanup EXIT
url=$PG_CLUSTER_URL
# The flows and the table of the cluster test suite (Tests/FlowrunTests/ClusterTests.swift).
psql -q "$url" -f bench/flows/cluster/ticks.sql
cp bench/flows/cluster/ticks.yaml bench/flows/cluster/slow.yaml "$work/"
now_ns() { date +%s%N; }
start_replica() {  # slot name, node id
    FLOWRUN_NODE_ID=$2 CLUSTER_DB=$url scripts/lib/cluster-replica.sh "$1" \
        "$BIN" serve "$work" --admin off --state "$url" --grace 10 --lease-ttl "${ttl}s" --lease-renewal 1s \
        2>>"$work/$1.log" &
    pids[$1]=$!
    nodes[$1]=$2
}
declare -A nodes
started=$(now_ns)
for r in a b c; do start_replica "$r" "node-$r-0"; done
: >"$work/kills"
for ((m = 1; m < minutes; m++)); do
    sleep 45
    # Kill the holder of a slow run when one starts within 10 s (slow runs start every 10 s).
    holder=""
    for _ in $(seq 50); do
        holder=$(psql -qtA "$url" -c "SELECT diagnostics::json->>'node' FROM flowrun_runs WHERE flow = 'slow' AND status = 'running' LIMIT 1")
        [ -n "$holder" ] && break
        sleep 0.2
    done
    # Killed while it holds the ticker flow's lease too when that comes within 3 s (its slots are then
    # deferred until the sweep abandons that run, and fired late).
    ticks_holder=""
    for _ in $(seq 30); do
        ticks_holder=$(psql -qtA "$url" -c "SELECT value::json->>'node' FROM flowrun_state WHERE flow = 'ticks' AND key = 'lock/'")
        [ -n "$holder" ] && [ "$ticks_holder" = "$holder" ] && break
        sleep 0.1
    done
    victim=""
    for r in a b c; do [ "${nodes[$r]}" = "$holder" ] && victim=$r; done
    [ -n "$victim" ] || victim=$(printf 'a\nb\nc\n' | sed -n "$(((m - 1) % 3 + 1))p")
    kill -KILL "${pids[$victim]}"
    wait "${pids[$victim]}" 2>/dev/null || true
    echo "$(now_ns) ${nodes[$victim]} ${holder:-none}" >>"$work/kills"
    echo "minute $m: killed ${nodes[$victim]}$([ "$holder" = "${nodes[$victim]}" ] && echo " (holding a slow run)")$([ "$ticks_holder" = "${nodes[$victim]}" ] && echo " (and the ticker's lease)")"
    sleep 5
    start_replica "$victim" "node-$victim-$m"
done
sleep 60
stopped=$(now_ns)
codes=()
for r in a b c; do
    # A replica that ended on its own (it should not) is reported with its exit status.
    kill -TERM "${pids[$r]}" 2>/dev/null || echo "${nodes[$r]} had already exited"
    if wait "${pids[$r]}"; then codes+=(0); else codes+=($?); fi
done
echo "SIGTERM of all: exit codes ${codes[*]}"
# Per slot (run.slot): the scheduled runs that fired it, and all rows (a rescue run re-runs a killed one).
psql -qtA -F ' ' "$url" -c "SELECT slot, count(*) FILTER (WHERE trigger = 'scheduled'), count(*) FROM ticks GROUP BY slot ORDER BY slot" >"$work/slots"
psql -qtA -F ' ' "$url" -c "SELECT id, status, coalesce(parent_id, ''), trigger, started_at, coalesce(completed_at, 0), coalesce(reason, '') FROM flowrun_runs WHERE flow = 'slow' ORDER BY started_at" >"$work/runs"
python3 - "$work/slots" "$work/runs" "$work/kills" "$started" "$stopped" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
scheduled = {int(s): int(n) for s, n, _ in rows}
executed = {int(s): int(n) for s, _, n in rows}
first, last = int(sys.argv[4]) // 10**9 + 2, int(sys.argv[5]) // 10**9 - 1
expected = range(first, last + 1)
fired = [s for s in expected if scheduled.get(s, 0) > 0]
doubled = [s for s in expected if scheduled.get(s, 0) > 1]
rescued = [s for s in expected if scheduled.get(s, 0) == 0 and executed.get(s, 0) > 0]
lost = [s for s in expected if executed.get(s, 0) == 0]
print(f"slots expected {len(expected)}, fired {len(fired)}, doubled {len(doubled)}, lost {len(lost)}"
      + (f" {lost}" if lost else "") + f"; run only by a rescue run (killed before its insert) {len(rescued)}")
runs = [l.rstrip('\n').split(' ', 6) for l in open(sys.argv[2]) if l.strip()]
by_parent = {r[2]: r for r in runs if r[3] == 'rescue'}
for line in open(sys.argv[3]):
    at, node, holder = line.split()
    if holder != node:
        continue
    at = int(at)
    victim = next((r for r in runs if r[1] == 'abandoned' and int(r[4]) < at and r[6].startswith('lease expired')
                   and node in r[6] and int(r[5]) > at), None)
    rescue = by_parent.get(victim[0]) if victim else None
    if not rescue:
        print(f"kill of {node} (holding a slow run): no rescue found")
        continue
    print(f"kill of {node}: abandoned after {(int(victim[5]) - at) / 1e9:.1f} s, rescue started after "
          f"{(int(rescue[4]) - at) / 1e9:.1f} s, {rescue[1]} after {(int(rescue[5]) - at) / 1e9:.1f} s")
PY
