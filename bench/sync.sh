#!/usr/bin/env bash
# Sync benchmark (issue 5) and http-client benchmark (issue 4).
#   bench/sync.sh [USERS]     (default 100000; also runs 1,000,000 for the memory comparison)
#   QUICK=1       only USERS (no 1,000,000 run)
#   RUNS=K        flowrun and the native client K times each, alternating; medians printed (default 1)
#   PEERS=0       skip the Python baseline and the limit script
#   FLOWRUN_BIN=F measure the flowrun binary F instead of building one (e.g. a copy built from another commit)
#   CALLGRIND=DIR also run flowrun once under valgrind's callgrind (a debug-stripped copy), output kept in
#                 DIR/callgrind-USERS.out; prints its instruction count (issue 19's per-row profile: run
#                 10,000 and 100,000 users and divide the difference by 90,000)
#   SMAPS=DIR     also run flowrun once more under bench/sync/smaps.py: /proc/PID/smaps sampled every 10 ms, the
#                 peak sample grouped by kind (binary, shared libraries, heap, arenas, stacks) in DIR/smaps-USERS.txt
#   MALLOC_ARENA_MAX etc. are passed through to flowrun as any environment variable is
# Serves USERS demo-CRM users as static JSON pages from nginx on loopback, then syncs them into a
# throwaway local PostgreSQL (fsync on) three ways: flowrun's user-sync flow, a hand-written Python
# baseline (requests + psycopg, one upsert per page) and the machine's limit (all pages fetched in
# parallel, one COPY, one INSERT ... SELECT ... ON CONFLICT). Each is verified by row count and a
# content checksum. Installs nginx-light and psycopg/requests if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
limit=100

source scripts/lib/packages.sh
command -v nginx >/dev/null || install_packages nginx-light
python3 -c 'import psycopg, requests' 2>/dev/null || pip install -q "psycopg[binary]" requests
if [ -n "${FLOWRUN_BIN:-}" ]; then
    bin=$FLOWRUN_BIN
else
    swift build -c release --static-swift-stdlib --product flowrun >/dev/null
    bin=$PWD/.build/release/flowrun
fi

cleanup=()
# Undone in reverse order: nginx is stopped (its pid file read) before the work directory goes.
trap 'for ((i = ${#cleanup[@]} - 1; i >= 0; i--)); do eval "${cleanup[i]}"; done' EXIT
work=$(mktemp -d /tmp/flowrun-bench.XXXXXX)
cleanup+=("rm -rf $work")
# The yardstick (issue 19): a hand-tuned native client doing the same job (bench/sync/native.c).
native=$work/native
cc -O2 -o "$native" bench/sync/native.c -lcurl -lpq -I/usr/include/postgresql
source scripts/lib/postgres.sh
start_pg_cluster
cleanup+=("$PG_CLUSTER_STOP")
base=${PG_CLUSTER_URL%/postgres}

serve() {  # serve DIR: nginx on a free port for DIR; sets api
    local port
    port=$(free_port)
    cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        root $1;
        location = /users { default_type application/json; try_files /page-\$arg_page.json =404; }
        location / { default_type application/json; }
    }
}
CONF
    nginx -c "$work/nginx.conf"
    cleanup+=("kill \$(cat $work/nginx.pid 2>/dev/null) 2>/dev/null || true")
    api="http://127.0.0.1:$port"
}

measure() {  # measure NAME CMD...: wall seconds, peak RSS (KiB), user and system CPU seconds
    /usr/bin/time -o "$work/$1.time" -f '%e %M %U %S' "${@:2}" >"$work/$1.out" 2>"$work/$1.err" || true
    tail -n 1 "$work/$1.time"
}

cpu_per_row() {  # cpu_per_row USER SYS ROWS: the process's own CPU per row, in microseconds
    python3 -c "print(f'{($1 + $2) * 1e6 / $3:.1f}')"
}

median() {  # median X...: the middle value (the mean of the two middle ones for an even count)
    python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"
}

verify() {  # verify DB: count and checksum of the users table
    psql "$base/$1" -Atc "SELECT count(*) || ' ' || md5(string_agg(external_id || email || name || status || metadata || updated_at, ',' ORDER BY external_id)) FROM users"
}

sync_run() {  # sync_run N: the three syncs of N users
    local n=$1
    local pages="$work/pages-$n"
    python3 bench/sync/gen_pages.py "$n" "$limit" "$pages"
    serve "$pages"
    for db in flowrun native python machine; do psql "$PG_CLUSTER_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" 2>/dev/null; done
    echo "### $n users ($((n / limit)) pages of $limit)"
    local walls=() natives=() ratios=()
    for run in $(seq "${RUNS:-1}"); do
        if [ "$run" -gt 1 ]; then
            for db in flowrun native; do psql "$PG_CLUSTER_URL" -qc "DROP DATABASE $db" -c "CREATE DATABASE $db" 2>/dev/null; done
        fi
        read -r t rss u s < <(measure flowrun env DATABASE_URL="$base/flowrun" API_BASE_URL="$api" \
            "$bin" flows/user-sync.yaml --once --state "$work/state-$n-$run.db")
        grep -E "^run |processed" "$work/flowrun.out" | sed 's/^/    /'
        echo "flowrun:  $t s  $(python3 -c "print(f'{$n / $t:,.0f}')") rows/s  peak RSS $((rss / 1024)) MiB  CPU $(cpu_per_row "$u" "$s" "$n") µs/row  [$(verify flowrun)]"
        local flowrun_t=$t
        read -r t rss u s < <(measure native "$native" "$api" "$base/native" "$limit")
        grep -q "processed $n," "$work/native.out" || { cat "$work/native.out" "$work/native.err"; exit 1; }
        echo "native:   $t s  $(python3 -c "print(f'{$n / $t:,.0f}')") rows/s  peak RSS $((rss / 1024)) MiB  CPU $(cpu_per_row "$u" "$s" "$n") µs/row  [$(verify native)]  flowrun/native $(python3 -c "print(f'{$flowrun_t / $t:.2f}')")x"
        walls+=("$flowrun_t") natives+=("$t") ratios+=("$(python3 -c "print($flowrun_t / $t)")")
    done
    if [ "${RUNS:-1}" -gt 1 ]; then
        echo "medians of ${RUNS}: flowrun $(median "${walls[@]}") s, native $(median "${natives[@]}") s, flowrun/native $(median "${ratios[@]}")x"
    fi
    if [ -n "${CALLGRIND:-}" ]; then
        mkdir -p "$CALLGRIND"
        objcopy --strip-debug "$bin" "$work/flowrun-stripped"  # valgrind 3.19 cannot read Swift's DWARF 5
        psql "$PG_CLUSTER_URL" -qc "DROP DATABASE flowrun" -c "CREATE DATABASE flowrun" 2>/dev/null
        env DATABASE_URL="$base/flowrun" API_BASE_URL="$api" valgrind --tool=callgrind \
            --callgrind-out-file="$CALLGRIND/callgrind-$n.out" "$work/flowrun-stripped" flows/user-sync.yaml \
            --once --state "$work/state-$n-callgrind.db" >"$work/callgrind.out" 2>"$work/callgrind.err"
        grep -q "processed" "$work/callgrind.out" || { cat "$work/callgrind.out" "$work/callgrind.err"; exit 1; }
        echo "callgrind: $(grep -oE 'Collected : [0-9]+' "$work/callgrind.err" | grep -oE '[0-9]+') instructions  [$(verify flowrun)]"
    fi
    if [ -n "${SMAPS:-}" ]; then
        mkdir -p "$SMAPS"
        psql "$PG_CLUSTER_URL" -qc "DROP DATABASE flowrun" -c "CREATE DATABASE flowrun" 2>/dev/null
        env DATABASE_URL="$base/flowrun" API_BASE_URL="$api" python3 bench/sync/smaps.py "$SMAPS/smaps-$n.txt" \
            "$work/smaps.out" "$work/smaps.err" -- "$bin" flows/user-sync.yaml --once --state "$work/state-$n-smaps.db" \
            || { cat "$work/smaps.out" "$work/smaps.err"; exit 1; }
        echo "smaps: $(head -n 1 "$SMAPS/smaps-$n.txt")  [$(verify flowrun)]"
    fi
    if [ "$n" -le 100000 ] && [ "${PEERS:-1}" != 0 ]; then
        read -r t rss _ < <(measure python python3 bench/sync/baseline.py "$api" "$base/python" "$limit")
        echo "python:   $t s  $(python3 -c "print(f'{$n / $t:,.0f}')") rows/s  peak RSS $((rss / 1024)) MiB  [$(verify python)]"
        read -r t rss _ < <(measure limit python3 bench/sync/limit.py "$api" "$base/machine" "$limit" "$n")
        echo "limit:    $t s  $(python3 -c "print(f'{$n / $t:,.0f}')") rows/s  peak RSS $((rss / 1024)) MiB  [$(verify machine)]"
    fi
    kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    sleep 0.5
}

sync_run "$users"
[ "$users" -ne 100000 ] || [ -n "${QUICK:-}" ] || sync_run 1000000

echo
echo "### http-client: 1,000 GETs of a 15 KB JSON page from nginx"
serve "$work/pages-$users"
url="$api/blob.json"
echo "page size: $(stat -c %s "$work/pages-$users/blob.json") bytes"
for c in 1 8; do
    read -r t rss _ < <(measure http "$bin" bench/flows/http.yaml --once --state "$work/http.db" --set vars.n=1000 --set "vars.url=$url" --set vars.concurrency=$c)
    grep -q "failed 0" "$work/http.out" || { cat "$work/http.out" "$work/http.err"; exit 1; }
    echo "flowrun concurrency $c: $t s  $(python3 -c "print(f'{1000 / $t:,.0f}')") requests/s (process start included)"
done
urls=$(for _ in $(seq 1000); do printf '%s ' "$url"; done)
read -r t rss _ < <(measure curl1 curl -s -o /dev/null $urls)
echo "curl sequential (one connection):   $t s  $(python3 -c "print(f'{1000 / $t:,.0f}')") requests/s"
read -r t rss _ < <(measure curl8 curl -s --parallel --parallel-max 8 -o /dev/null $urls)
echo "curl --parallel-max 8:              $t s  $(python3 -c "print(f'{1000 / $t:,.0f}')") requests/s"
