"""A small HTTP server for the http-client tests: listens on its argument (a free port without one), prints
the port, then serves scripted answers.
Counts requests per path so tests can check retries; each test uses its own paths."""
import http.server
import json
import os
import sys
import socketserver
import threading
import time

counts = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        path, _, query = self.path.partition("?")
        with lock:
            n = counts[path] = counts.get(path, 0) + 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        kind = path.split("/")[1] if "/" in path else ""
        if kind == "echo":
            info = {"method": self.command, "query": query, "body": body.decode(),
                    "headers": {k.lower(): v for k, v in self.headers.items()}}
            return self.send(200, json.dumps(info).encode())
        if kind == "flaky":
            return self.send(503, b"busy", "text/plain") if n <= 2 else self.send(200, json.dumps({"attempt": n}).encode())
        if kind == "retry-after":
            if n == 1:
                return self.send(429, b"", headers={"Retry-After": "1"})
            return self.send(200, b'{"ok": true}')
        if kind == "notfound":
            return self.send(404, b'{"error": "nope"}')
        if kind == "badjson":
            return self.send(200, b'{"broken": ')
        if kind == "big":
            return self.send(200, b"x" * 100000, "text/plain")
        if kind == "slow":
            time.sleep(2)
            return self.send(200, b"{}")
        if kind == "count":
            with lock:
                return self.send(200, json.dumps(counts).encode())
        return self.send(200, b'{"ok": true}')

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def exit_with_parent():
    # The test process holds our stdin open; when it goes away, so do we.
    sys.stdin.read()
    os._exit(0)


server = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(server.server_address[1], flush=True)
threading.Thread(target=exit_with_parent, daemon=True).start()
server.serve_forever()
