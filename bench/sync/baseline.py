"""The obvious hand-written sync: requests + psycopg, pages fetched one after another, one upsert per
page (executemany in one transaction), the same transform as flows/user-sync.yaml."""
import json, sys
from datetime import datetime
import psycopg, requests

api, dsn, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
UPSERT = """INSERT INTO users (external_id, email, name, status, metadata, updated_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (external_id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, status = EXCLUDED.status,
  metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at"""

def rfc3339(s):
    t = datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

with psycopg.connect(dsn) as conn, requests.Session() as http:
    conn.execute("""CREATE TABLE IF NOT EXISTS users (external_id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT,
        status TEXT, metadata TEXT, updated_at TEXT)""")
    conn.commit()
    page = 1
    while True:
        body = http.get(f"{api}/users", params={"page": page, "limit": limit},
                        headers={"Authorization": "Bearer demo-token"}).json()
        rows = [(u["id"], u["email"].lower(), u["first_name"] + " " + u["last_name"],
                 "active" if u["active"] else "inactive",
                 json.dumps({"source": "crm", "original_id": u["id"]}, separators=(",", ":")),
                 rfc3339(u["updated_at"])) for u in body["data"]]
        with conn.cursor() as cur:
            cur.executemany(UPSERT, rows)
        conn.commit()
        if page * limit >= body["total"]:
            break
        page += 1
