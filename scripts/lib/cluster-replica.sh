#!/bin/sh
# Starts one replica of a flowrun cluster on this machine: runs "$@" (a `flowrun serve ...` command) in
# place (exec: the pid stays), as root with a host name of its own (host-NAME, in its own UTS namespace), so
# pid@host ownership cannot be compared across replicas. The caller sets FLOWRUN_NODE_ID. Used by the
# cluster test suite (Tests/FlowrunTests/ClusterTests.swift) and bench/cluster-soak.sh.
#   scripts/lib/cluster-replica.sh NAME COMMAND [ARGS...]
name=$1
shift
if [ "$(id -u)" = 0 ] && [ -x /usr/bin/unshare ]; then
    exec /usr/bin/unshare --uts sh -c 'hostname "host-$0" && exec "$@"' "$name" "$@"
fi
exec "$@"
