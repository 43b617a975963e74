"""The machine's limit for the sync: every page fetched in parallel, one COPY into a staging table
and one INSERT ... SELECT ... ON CONFLICT."""
import json, sys
from concurrent.futures import ThreadPoolExecutor
import psycopg, requests

api, dsn, limit, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
session = requests.Session()
adapter = requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=16)
session.mount("http://", adapter)

def fetch(page):
    return session.get(f"{api}/users", params={"page": page, "limit": limit}).json()["data"]

with ThreadPoolExecutor(16) as pool:
    pages = list(pool.map(fetch, range(1, (total + limit - 1) // limit + 1)))
with psycopg.connect(dsn) as conn:
    conn.execute("""CREATE TABLE IF NOT EXISTS users (external_id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT,
        status TEXT, metadata TEXT, updated_at TEXT)""")
    # The raw fields go in with COPY; the transform runs inside PostgreSQL.
    conn.execute("""CREATE TEMP TABLE staging (id TEXT, email TEXT, first_name TEXT, last_name TEXT, active BOOLEAN,
        updated_at TEXT)""")
    with conn.cursor().copy("COPY staging FROM STDIN") as copy:
        for data in pages:
            for u in data:
                copy.write_row((u["id"], u["email"], u["first_name"], u["last_name"], u["active"], u["updated_at"]))
    conn.execute("""INSERT INTO users SELECT id, lower(email), first_name || ' ' || last_name,
        CASE WHEN active THEN 'active' ELSE 'inactive' END,
        '{"source":"crm","original_id":"' || id || '"}', updated_at FROM staging
        ON CONFLICT (external_id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, status = EXCLUDED.status,
        metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at""")
