#!/usr/bin/env bash
# Regenerates bench/order/symbol-order.txt, the function order release builds link with (issue 19, peak RSS):
# every function `flowrun check flows/user-sync.yaml`, a 10,000-user sync and the http-client benchmark
# execute, in the order callgrind first lists them, so the code a run touches sits together in the binary
# (the kernel maps a binary's code in 64 KiB windows or whole large folios: scattered code is resident code).
#   bench/order/generate.sh [FLOWRUN_BIN]   (default: a release build of this checkout)
# Symbols the linker does not find are skipped (--no-warn-symbol-ordering), so a stale list only lays out less
# well; regenerate after large changes and compare bench/sync.sh's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-}
if [ -z "$bin" ]; then
    swift build -c release --static-swift-stdlib --product flowrun >/dev/null
    bin=$PWD/.build/release/flowrun
fi
work=$(mktemp -d /tmp/flowrun-order.XXXXXX)
trap 'rm -rf "$work"' EXIT
objcopy --strip-debug "$bin" "$work/flowrun"  # valgrind 3.19 cannot read Swift's DWARF 5
cat >"$work/wrap.sh" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --callgrind-out-file=$work/run.\$\$.out $work/flowrun "\$@"
EOF
chmod +x "$work/wrap.sh"
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/0-check.out" "$work/flowrun" check \
    flows/user-sync.yaml >/dev/null 2>&1
FLOWRUN_BIN=$work/wrap.sh QUICK=1 PEERS=0 bench/sync.sh 10000 >"$work/sync.log" 2>&1 || { cat "$work/sync.log"; exit 1; }
# fn=(id) NAME and cfn=(id) NAME name a function the first time a file mentions it; the run files sort by pid.
python3 - "$work" >bench/order/symbol-order.txt <<'EOF'
import glob, re, sys
seen = {}
files = [sys.argv[1] + "/0-check.out"] + sorted(glob.glob(sys.argv[1] + "/run.*.out"), key=lambda f: int(f.split(".")[-2]))
for path in files:
    for line in open(path, errors="replace"):
        m = re.match(r"c?fn=\(\d+\) (.*)$", line)
        if m:
            name = re.sub(r"'\d+$", "", m.group(1).strip())
            if not name.startswith(("0x", "(below")):
                seen.setdefault(name, None)
print("\n".join(seen))
EOF
echo "bench/order/symbol-order.txt: $(wc -l <bench/order/symbol-order.txt) functions"
