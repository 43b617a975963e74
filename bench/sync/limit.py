"""The machine's limit for the sync: every page fetched in parallel, one COPY into a staging table
and one INSERT ... SELECT ... ON CONFLICT."""
import json, sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
import psycopg, requests

api, dsn, limit, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
session = requests.Session()
adapter = requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=16)
session.mount("http://", adapter)

def fetch(page):
    return session.get(f"{api}/users", params={"page": page, "limit": limit}).json()["data"]

def rfc3339(s):
    t = datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

with ThreadPoolExecutor(16) as pool:
    pages = list(pool.map(fetch, range(1, (total + limit - 1) // limit + 1)))
with psycopg.connect(dsn) as conn:
    conn.execute("""CREATE TABLE IF NOT EXISTS users (external_id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT,
        status TEXT, metadata TEXT, updated_at TEXT)""")
    conn.execute("CREATE TEMP TABLE staging (LIKE users)")
    with conn.cursor().copy("COPY staging FROM STDIN") as copy:
        for data in pages:
            for u in data:
                copy.write_row((u["id"], u["email"].lower(), u["first_name"] + " " + u["last_name"],
                                "active" if u["active"] else "inactive",
                                json.dumps({"source": "crm", "original_id": u["id"]}, separators=(",", ":")),
                                rfc3339(u["updated_at"])))
    conn.execute("""INSERT INTO users SELECT * FROM staging ON CONFLICT (external_id) DO UPDATE SET
        email = EXCLUDED.email, name = EXCLUDED.name, status = EXCLUDED.status, metadata = EXCLUDED.metadata,
        updated_at = EXCLUDED.updated_at""")
