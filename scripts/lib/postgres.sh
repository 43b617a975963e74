# Sourced by scripts/test and bench/sync.sh: start_pg_cluster starts a throwaway PostgreSQL cluster
# (initdb into a temp dir, a free port, fsync on) and sets PG_CLUSTER_URL and PG_CLUSTER_STOP (a
# command that stops it and removes its files). Returns 1 when no PostgreSQL server is installed.
source scripts/lib/ports.sh

start_pg_cluster() {
    local initdb bindir pgdir port
    initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$initdb" ] || return 1
    bindir=$(dirname "$initdb")
    pgdir=$(mktemp -d /tmp/flowrun-pg.XXXXXX)
    port=$(free_port)
    local as=()
    if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; as=(runuser -u postgres --); fi
    "${as[@]}" "$bindir/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
    "${as[@]}" "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
        -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
    PG_CLUSTER_STOP="${as[*]} $bindir/pg_ctl -D $pgdir/data -m immediate stop >/dev/null 2>&1; rm -rf $pgdir"
    PG_CLUSTER_URL="postgres://postgres@127.0.0.1:$port/postgres"
}
