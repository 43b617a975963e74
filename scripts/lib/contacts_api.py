#!/usr/bin/env python3
"""A small contacts API for the outbound and bidirectional sync tests (flows/contacts-*.yaml).

    python3 contacts_api.py PORT        prints "listening on 127.0.0.1:PORT" once it accepts connections

The API the flows speak:
  POST   /contacts {email, name, external_id}  201 {id, email, name, external_id, updated_at}
  PATCH  /contacts/{id} {email, name}          200 the contact; 404 unknown id
  GET    /contacts/{id}                        200 the contact; 404 unknown id
  GET    /contacts?updated_since=RFC3339       200 {data: [...]} (changed after that time, oldest first)
  409 {message, conflicting_id} when another contact has the email; 422 {message, errors} for invalid data
  (an email without "@", an empty name); 429 with Retry-After when the test asked for it.

Control endpoints for the tests (change the remote side between runs, inject faults, read what happened):
  GET    /_control/contacts                    every contact, by id
  PUT    /_control/contacts/{id} {fields}      changes a contact as a user of the provider would (new updated_at)
  POST   /_control/contacts {fields}           adds a contact (its own id)
  DELETE /_control/contacts/{id}               removes it
  POST   /_control/throttle {count, retryAfter}  the next `count` writes answer 429 with Retry-After
  GET    /_control/stats                       {writes, throttled, requests}

Times come from a clock that ticks one second per change, from 2030-01-01T00:00:00Z, so every remote
change is newer than the local test data and two changes never share a time.
"""
import json
import re
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
CONTACTS = {}
STATE = {"next_id": 1, "tick": 0, "throttle": 0, "retry_after": 1, "writes": 0, "throttled": 0, "requests": 0}
EPOCH = datetime(2030, 1, 1, tzinfo=timezone.utc)


def now():
    STATE["tick"] += 1
    return (EPOCH + timedelta(seconds=STATE["tick"])).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate(body, partial):
    errors = {}
    if not partial or "email" in body:
        email = body.get("email")
        if not isinstance(email, str) or "@" not in email:
            errors["email"] = "must be an email address"
    if not partial or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "must not be empty"
    return errors


def conflict(email, own_id):
    for c in CONTACTS.values():
        if c["email"] == email and c["id"] != own_id:
            return c["id"]
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n == 0:
            return {}
        return json.loads(self.rfile.read(n))

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")

    def do_PATCH(self):
        self.handle_request("PATCH")

    def do_PUT(self):
        self.handle_request("PUT")

    def do_DELETE(self):
        self.handle_request("DELETE")

    def handle_request(self, method):
        try:
            body = self.body() if method in ("POST", "PATCH", "PUT") else {}
        except ValueError:
            return self.reply(400, {"message": "the body is not JSON"})
        path, _, query = self.path.partition("?")
        with LOCK:
            if path.startswith("/_control/"):
                return self.control(method, path[len("/_control"):], body)
            STATE["requests"] += 1
            if method in ("POST", "PATCH", "PUT") and STATE["throttle"] > 0:
                STATE["throttle"] -= 1
                STATE["throttled"] += 1
                return self.reply(429, {"message": "slow down"}, [("Retry-After", str(STATE["retry_after"]))])
            return self.api(method, path, query, body)

    def api(self, method, path, query, body):
        if path == "/contacts" and method == "GET":
            since = ""
            for part in query.split("&"):
                k, _, v = part.partition("=")
                if k == "updated_since":
                    since = v.replace("%3A", ":")
            data = sorted((c for c in CONTACTS.values() if c["updated_at"] > since), key=lambda c: (c["updated_at"], c["id"]))
            return self.reply(200, {"data": data})
        if path == "/contacts" and method == "POST":
            errors = validate(body, partial=False)
            if errors:
                return self.reply(422, {"message": "invalid contact", "errors": errors})
            other = conflict(body["email"], None)
            if other is not None:
                return self.reply(409, {"message": "email already in use", "conflicting_id": other})
            cid = "c%d" % STATE["next_id"]
            STATE["next_id"] += 1
            STATE["writes"] += 1
            CONTACTS[cid] = {"id": cid, "email": body["email"], "name": body["name"],
                             "external_id": body.get("external_id"), "updated_at": now()}
            return self.reply(201, CONTACTS[cid])
        m = re.fullmatch(r"/contacts/([^/]+)", path)
        if m and method in ("GET", "PATCH"):
            contact = CONTACTS.get(m.group(1))
            if contact is None:
                return self.reply(404, {"message": "no such contact"})
            if method == "GET":
                return self.reply(200, contact)
            errors = validate(body, partial=True)
            if errors:
                return self.reply(422, {"message": "invalid contact", "errors": errors})
            if "email" in body and conflict(body["email"], contact["id"]) is not None:
                return self.reply(409, {"message": "email already in use",
                                        "conflicting_id": conflict(body["email"], contact["id"])})
            for k in ("email", "name"):
                if k in body:
                    contact[k] = body[k]
            contact["updated_at"] = now()
            STATE["writes"] += 1
            return self.reply(200, contact)
        return self.reply(404, {"message": "no route"})

    def control(self, method, path, body):
        if path == "/contacts" and method == "GET":
            return self.reply(200, CONTACTS)
        if path == "/contacts" and method == "POST":
            cid = "c%d" % STATE["next_id"]
            STATE["next_id"] += 1
            CONTACTS[cid] = {"id": cid, "email": None, "name": None, "external_id": None, **body, "updated_at": now()}
            CONTACTS[cid]["id"] = cid
            return self.reply(201, CONTACTS[cid])
        m = re.fullmatch(r"/contacts/([^/]+)", path)
        if m and method == "PUT":
            contact = CONTACTS.get(m.group(1))
            if contact is None:
                return self.reply(404, {"message": "no such contact"})
            contact.update(body)
            contact["updated_at"] = now()
            return self.reply(200, contact)
        if m and method == "DELETE":
            return self.reply(200 if CONTACTS.pop(m.group(1), None) else 404, {})
        if path == "/throttle" and method == "POST":
            STATE["throttle"] = int(body.get("count", 1))
            STATE["retry_after"] = int(body.get("retryAfter", 1))
            return self.reply(200, {})
        if path == "/stats" and method == "GET":
            return self.reply(200, {k: STATE[k] for k in ("writes", "throttled", "requests")})
        return self.reply(404, {"message": "no control route"})


def main():
    # A parent that ignores or blocks SIGTERM passes that on through exec: the tests stop this server with it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
