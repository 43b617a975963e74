# A single header line of SIZE bytes to an http-server node of `flowrun serve`: the answer, the time to it,
# the server process CPU it cost, and whether SIGTERM stops the process. Usage: header.py FLOWRUN_BINARY SIZE
import os, socket, subprocess, sys, time, tempfile
binary, size = sys.argv[1], int(sys.argv[2])
port = 56000 + (os.getpid() % 3000)
d = tempfile.mkdtemp()
open(f"{d}/hook.yaml","w").write(f"""flow: hook
nodes:
  api: {{component: http-server, settings: {{port: {port}}}}}
  answer: {{component: modify}}
edges:
  - {{from: api.request, to: answer.in, data: {{requestId: <<$.requestId>>, json: {{ok: true}}}}}}
  - {{from: answer.out, to: api.response}}
""")
p = subprocess.Popen([binary, "serve", d, "--admin", "off", "--grace", "1", "--state", f"{d}/s.db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def cpu():
    f = open(f"/proc/{p.pid}/stat").read().rsplit(")",1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
for _ in range(100):
    try: socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError: time.sleep(0.05)
time.sleep(0.3)
c0 = cpu(); t0 = time.time()
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(120)
try:
    s.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
except OSError as e:
    pass
try: first = s.recv(100).split(b"\r\n")[0]
except OSError as e: first = repr(e).encode()
t1 = time.time(); 
time.sleep(0.2)
c1 = cpu()
print(f"{binary} header {size//1024} KiB: answer {first.decode()!r} after {t1-t0:.3f} s, server CPU {c1-c0:.2f} s")
p.terminate()
try: p.wait(10); print("  SIGTERM: exited", p.returncode)
except subprocess.TimeoutExpired: print("  SIGTERM: still running after 10 s"); p.kill()
