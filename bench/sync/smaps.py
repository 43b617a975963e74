#!/usr/bin/env python3
"""What a process's resident memory is made of at its peak (issue 19).

    smaps.py REPORT OUT ERR -- CMD...

Runs CMD (stdout to OUT, stderr to ERR), reads /proc/PID/smaps every 10 ms while it runs and writes to
REPORT the sample with the highest total Rss, grouped by kind of mapping:
  binary text / binary data    the executable's read-only (code, .rodata in r-x) and writable segments
  shared libraries             every .so (libcurl, libpq, OpenSSL, libc, ...)
  heap                         [heap]: the main arena of malloc (brk)
  malloc arenas                anonymous 64 MiB-reserved regions of glibc's per-thread arenas
  thread stacks                anonymous regions right after a guard page (PROT_NONE)
  other anonymous              mmap'ed blocks (large allocations) and everything else unnamed
  main stack, other            [stack], [vvar], [vdso], ...
plus the thread count at that moment. Exits with CMD's status.
"""
import os
import subprocess
import sys
import time


def read_smaps(pid):
    """[(start, end, perms, path, {field: kB})] of /proc/PID/smaps, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/smaps") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    maps = []
    for line in text.splitlines():
        head = line.split(None, 5)
        if "-" in head[0] and not head[0].endswith(":"):
            start, end = (int(x, 16) for x in head[0].split("-"))
            maps.append((start, end, head[1], head[5] if len(head) > 5 else "", {}))
        elif head[0].endswith(":") and len(head) >= 2 and head[1].isdigit():
            maps[-1][4][head[0][:-1]] = int(head[1])
    return maps


def threads(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def classify(maps, binary):
    kinds = {}
    previous = None
    for i, (start, end, perms, path, fields) in enumerate(maps):
        size = end - start
        if path == binary:
            kind = "binary text" if "x" in perms or "w" not in perms else "binary data (rw: .data.rel.ro, .rodata, .data)"
        elif ".so" in path:
            kind = "shared libraries"
        elif path == "[heap]":
            kind = "heap (main arena)"
        elif path in ("[stack]",):
            kind = "main stack"
        elif path:
            kind = "other named (" + path + ")" if path.startswith("[") else "other files"
        elif perms.startswith("---"):
            kind = "guard pages / reserved"
        else:
            following = maps[i + 1] if i + 1 < len(maps) else None
            reserved = size + (following[1] - following[0] if following and following[2].startswith("---")
                               and following[0] == end and not following[3] else 0)
            if reserved == 64 << 20 and start % (64 << 20) == 0:
                kind = "malloc arenas (per-thread)"
            elif previous and previous[2].startswith("---") and previous[1] == start and not previous[3]:
                kind = "thread stacks"
            else:
                kind = "other anonymous (mmap)"
        entry = kinds.setdefault(kind, {"Rss": 0, "Private_Dirty": 0, "Private_Clean": 0, "Shared_Clean": 0,
                                        "mappings": 0, "size": 0})
        for key in ("Rss", "Private_Dirty", "Private_Clean", "Shared_Clean"):
            entry[key] += fields.get(key, 0)
        entry["mappings"] += 1
        entry["size"] += size // 1024
        previous = maps[i]
    return kinds


def main():
    report, out, err = sys.argv[1:4]
    command = sys.argv[sys.argv.index("--") + 1:]
    with open(out, "w") as stdout, open(err, "w") as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        binary = os.path.realpath(command[0])
        best, best_rss, best_threads, samples = None, -1, 0, 0
        while child.poll() is None:
            maps = read_smaps(child.pid)
            if maps:
                samples += 1
                rss = sum(m[4].get("Rss", 0) for m in maps)
                if rss > best_rss:
                    best, best_rss, best_threads = maps, rss, threads(child.pid)
            time.sleep(0.01)
    with open(report, "w") as f:
        f.write(f"peak sampled Rss {best_rss} kB ({best_rss / 1024:.1f} MiB), threads {best_threads}, "
                f"{samples} samples\n")
        f.write(f"{'kind':52} {'Rss kB':>8} {'PrivDirty':>9} {'PrivClean':>9} {'ShClean':>8} {'maps':>5} {'size kB':>9}\n")
        kinds = classify(best or [], binary)
        for kind, e in sorted(kinds.items(), key=lambda kv: -kv[1]["Rss"]):
            f.write(f"{kind[:52]:52} {e['Rss']:8} {e['Private_Dirty']:9} {e['Private_Clean']:9} "
                    f"{e['Shared_Clean']:8} {e['mappings']:5} {e['size']:9}\n")
        f.write("\nlargest mappings by Rss:\n")
        for start, end, perms, path, fields in sorted(best or [], key=lambda m: -m[4].get("Rss", 0))[:25]:
            f.write(f"  {start:012x}-{end:012x} {perms} {fields.get('Rss', 0):7} kB of {(end - start) // 1024:8} kB "
                    f"dirty {fields.get('Private_Dirty', 0):7}  {path}\n")
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
