# Sourced by scripts/lib/postgres.sh (so also by scripts/test and bench/sync.sh) and bench/soak.sh:
# free_port prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
