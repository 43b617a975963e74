# A 300 MB Content-Length, then 200 slowloris connections (a partial head, one byte every 0.5 s): how many
# the server closes and when. Usage: slowloris.py FLOWRUN_BINARY
import os, socket, subprocess, sys, time, tempfile
binary = sys.argv[1]
port = 56000 + (os.getpid() % 3000)
d = tempfile.mkdtemp()
open(f"{d}/hook.yaml","w").write(f"""flow: hook
nodes:
  api: {{component: http-server, settings: {{port: {port}, maxBodyBytes: 1048576}}}}
  answer: {{component: modify}}
edges:
  - {{from: api.request, to: answer.in, data: {{requestId: <<$.requestId>>, json: {{ok: true}}}}}}
  - {{from: answer.out, to: api.response}}
""")
p = subprocess.Popen([binary, "serve", d, "--admin", "off", "--grace", "1", "--state", f"{d}/s.db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try: socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError: time.sleep(0.05)
time.sleep(0.3)
# 300 MB body against a 1 MiB limit
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(30)
s.settimeout(5)
t0=time.time(); s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 314572800\r\n\r\n")
try: answer = s.recv(100).split(b"\r\n")[0]
except OSError as e: answer = repr(e)
print("300 MB Content-Length:", answer, f"after {time.time()-t0:.3f} s (no body sent)")
rss = int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")][0].split()[1])
conns = []
for i in range(200):
    c = socket.create_connection(("127.0.0.1", port)); c.send(b"GET / HTTP/1.1\r\nX-A: "); conns.append(c)
t0 = time.time(); closed = {}
while time.time() - t0 < 15 and len(closed) < 200:
    for i, c in enumerate(conns):
        if i in closed: continue
        try:
            c.send(b"a")
        except OSError:
            closed[i] = time.time() - t0
    time.sleep(0.5)
print(f"200 slowloris connections: {len(closed)} closed, the last after {max(closed.values()) if closed else 0:.1f} s; RSS {rss//1024} MiB")
p.terminate(); p.wait(10); print("SIGTERM exit", p.returncode)
