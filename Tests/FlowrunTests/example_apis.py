"""The APIs of flows/examples/{github-issues,stripe-customers,offset-orders}.yaml, for their end-to-end tests.

    python3 example_apis.py DATA.json PORT    listens on 127.0.0.1:PORT (any free port without one), then serves:

GET /repos/{owner}/{repo}/issues?per_page&page&since&sort=updated&direction=asc  a JSON array per page, sorted by
    updated_at, `since` inclusive (as GitHub's), a Link header with rel="next" (and "last") while pages follow
GET /v1/customers?limit&starting_after&created[gt]   {object: list, data, has_more}, newest first (as Stripe's);
    more than 20 requests in any second answer 429 with Retry-After: 1
GET /orders?limit&offset                             {orders, total}
GET /_stats                                          requests and 429s answered so far

DATA.json ({token, repo: [owner, name], issues, customers, orders}) is read again for every request, so a test
changes the source between runs by rewriting it. Every API wants `Authorization: Bearer <token>`.
"""
import http.server
import json
import sys
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

stats = {"requests": 0, "throttled": 0}
recent = []
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, value, headers=None):
        body = json.dumps(value).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/_stats":
            return self.send(200, stats)
        with open(sys.argv[1]) as f:
            data = json.load(f)
        with lock:
            stats["requests"] += 1
        if self.headers.get("Authorization") != "Bearer " + data["token"]:
            return self.send(401, {"message": "Bad credentials"})
        parts = url.path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "issues":
            if parts[1:3] != data["repo"]:
                return self.send(404, {"message": "Not Found"})
            return self.issues(data["issues"], query, url.path)
        if url.path == "/v1/customers":
            return self.customers(data["customers"], query)
        if url.path == "/orders":
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
            return self.send(200, {"orders": data["orders"][offset:offset + limit], "total": len(data["orders"])})
        return self.send(404, {"message": "Not Found"})

    def issues(self, issues, query, path):
        since = query.get("since", "")
        # RFC 3339 texts of one format (UTC, seconds) compare as strings.
        chosen = sorted((i for i in issues if i["updated_at"] >= since), key=lambda i: (i["updated_at"], i["id"]))
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        last = max(1, -(-len(chosen) // per_page))
        links = []
        base = "http://" + self.headers["Host"] + path + "?"
        if page < last:
            links.append('<%s>; rel="next"' % (base + urlencode({**query, "page": page + 1})))
            links.append('<%s>; rel="last"' % (base + urlencode({**query, "page": last})))
        headers = {"Link": ", ".join(links)} if links else {}
        return self.send(200, chosen[(page - 1) * per_page:page * per_page], headers)

    def customers(self, customers, query):
        now = time.monotonic()
        with lock:
            while recent and recent[0] <= now - 1:
                recent.pop(0)
            if len(recent) >= 20:
                stats["throttled"] += 1
                return self.send(429, {"error": {"message": "Too many requests"}}, {"Retry-After": "1"})
            recent.append(now)
        newest_first = sorted(customers, key=lambda c: (c["created"], c["id"]), reverse=True)
        if "created[gt]" in query:
            newest_first = [c for c in newest_first if c["created"] > int(query["created[gt]"])]
        if "starting_after" in query:
            ids = [c["id"] for c in newest_first]
            newest_first = newest_first[ids.index(query["starting_after"]) + 1:]
        limit = int(query.get("limit", 10))
        page = newest_first[:limit]
        return self.send(200, {"object": "list", "data": page, "has_more": len(newest_first) > limit})


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Handler)
print("listening on %d" % server.server_address[1], flush=True)
server.serve_forever()
