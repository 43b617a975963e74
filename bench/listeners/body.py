# A 300 MB body to an http-server node with the default 1 MiB limit: the answer, how much was sent before it,
# and the server process peak RSS. Usage: body.py FLOWRUN_BINARY
import os, socket, subprocess, sys, time, tempfile
binary = sys.argv[1]
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
for _ in range(100):
    try: socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError: time.sleep(0.05)
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(60)
size = 300 * 1024 * 1024
t0 = time.time()
s.sendall(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % size)
sent = 0; piece = b"x" * (1 << 20); first = b""
s.setblocking(False)
while sent < size:
    try:
        first = s.recv(100)
        if first: break
    except BlockingIOError: pass
    try: sent += s.send(piece)
    except BlockingIOError: time.sleep(0.001)
    except OSError: break
s.setblocking(True)
if not first:
    try: first = s.recv(100)
    except OSError as e: first = repr(e).encode()
hwm = int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmHWM")][0].split()[1])
line = first.split(bytes([13,10]))[0].decode()
print(f"{binary}: 300 MB body, limit 1 MiB: {line!r} after {time.time()-t0:.2f} s, {sent>>20} MiB sent, peak RSS {hwm>>10} MiB")
p.terminate(); p.wait(10)
