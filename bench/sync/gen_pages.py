"""Writes N demo-CRM users as static JSON pages (page-P.json, LIMIT users each), the shape of
flows/mock-crm.yaml: {"data": [...], "total": N, "page": P, "limit": LIMIT}. Also writes
blob.json, a 15 KB page, for the http-client benchmark."""
import json, os, sys
from datetime import datetime, timedelta, timezone

n, limit, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
start = datetime(2024, 1, 1, tzinfo=timezone.utc)
names = ["Ann", "Bob", "Cleo", "Dev"]

def user(i):
    t = start + timedelta(hours=i)
    return {"id": f"u{i}", "email": f"User{i}@Example.COM", "first_name": names[i % 4], "last_name": f"Lee{i}",
            "active": i % 3 != 0, "updated_at": t.strftime("%Y-%m-%dT%H:%M:%S.000Z")}

pages = (n + limit - 1) // limit
for p in range(1, pages + 1):
    data = [user(i) for i in range((p - 1) * limit, min(n, p * limit))]
    with open(os.path.join(out, f"page-{p}.json"), "w") as f:
        json.dump({"data": data, "total": n, "page": p, "limit": limit}, f, separators=(",", ":"))
with open(os.path.join(out, "blob.json"), "w") as f:
    json.dump({"data": [user(i) for i in range(115)], "total": 115, "page": 1}, f, separators=(",", ":"))
