/* The yardstick for the sync benchmark (issue 19): a minimal hand-tuned native client doing flowrun's
 * user-sync job with the same transform and the same upsert statement (ON CONFLICT DO UPDATE ... WHERE
 * ... IS DISTINCT FROM ... RETURNING (xmax = 0), so created/updated/unchanged are counted exactly as
 * flowrun counts them), verified by bench/sync.sh with the same checksum.
 *
 *   native API_BASE_URL CONNINFO LIMIT
 *
 * libcurl multi (up to 8 pages in flight on keep-alive connections), a small JSON scanner for the page
 * shape {"data": [{...}], "total": N}, libpq pipeline mode on 4 connections, one statement (and so one
 * commit) per page. Page 1 is fetched first to learn the total, as flowrun's loop does.
 * Build: cc -O2 -o native native.c -lcurl -lpq -I/usr/include/postgresql */
#include <ctype.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNS 4
#define INFLIGHT 8
#define COLS 6

typedef struct { char *p; size_t n, cap; } buf;
static void put(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) { b->cap = (b->n + n + 1) * 2; b->p = realloc(b->p, b->cap); }
    memcpy(b->p + b->n, s, n); b->n += n; b->p[b->n] = 0;
}
static size_t on_body(char *d, size_t s, size_t n, void *u) { put(u, d, s * n); return s * n; }
static void die(const char *what, const char *detail) { fprintf(stderr, "native: %s: %s\n", what, detail); exit(1); }

/* --- JSON: just enough for the page shape; strings are decoded into `out` (escapes, \u with pairs). --- */
static const char *ws(const char *p) { while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++; return p; }
static void utf8(buf *o, unsigned c) {
    char t[4]; size_t n;
    if (c < 0x80) { t[0] = c; n = 1; }
    else if (c < 0x800) { t[0] = 0xC0 | c >> 6; t[1] = 0x80 | (c & 63); n = 2; }
    else if (c < 0x10000) { t[0] = 0xE0 | c >> 12; t[1] = 0x80 | (c >> 6 & 63); t[2] = 0x80 | (c & 63); n = 3; }
    else { t[0] = 0xF0 | c >> 18; t[1] = 0x80 | (c >> 12 & 63); t[2] = 0x80 | (c >> 6 & 63); t[3] = 0x80 | (c & 63); n = 4; }
    put(o, t, n);
}
static const char *string(const char *p, buf *o) { /* p at the opening quote */
    o->n = 0; put(o, "", 0); p++;
    for (;;) {
        const char *q = p;
        while (*q != '"' && *q != '\\') { if (!*q) die("json", "unterminated string"); q++; }
        put(o, p, q - p);
        if (*q == '"') return q + 1;
        q++;
        switch (*q) {
        case 'n': put(o, "\n", 1); break; case 't': put(o, "\t", 1); break; case 'r': put(o, "\r", 1); break;
        case 'b': put(o, "\b", 1); break; case 'f': put(o, "\f", 1); break;
        case 'u': {
            unsigned c = strtoul((char[]){q[1], q[2], q[3], q[4], 0}, NULL, 16); q += 4;
            if (c >= 0xD800 && c < 0xDC00 && q[1] == '\\' && q[2] == 'u') {
                unsigned lo = strtoul((char[]){q[3], q[4], q[5], q[6], 0}, NULL, 16);
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00); q += 6;
            }
            utf8(o, c); break;
        }
        default: put(o, q, 1);
        }
        p = q + 1;
    }
}
static const char *skip(const char *p) { /* any value */
    static buf scratch;
    p = ws(p);
    if (*p == '"') return string(p, &scratch);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']'; p = ws(p + 1);
        while (*p != close) {
            if (close == '}') { p = ws(string(ws(p), &scratch)); p++; }
            p = ws(skip(p)); if (*p == ',') p = ws(p + 1);
        }
        return p + 1;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']') p++;
    return p;
}

/* --- One page: rows transformed into parameter text, then one upsert on a pipelined connection. --- */
typedef struct { PGconn *c; int pending; } conn;
static conn conns[CONNS];
static long created, updated, unchanged, rows_sent, total = -1;

static void send_page(const char *body, int page) {
    static buf keys, f[COLS + 2], all; /* f: id email first last active updated_at */
    static char sql[1 << 16];
    const char *p = strstr(body, "\"data\"");
    if (!p) die("json", "no data");
    if (total < 0) { const char *t = strstr(body, "\"total\""); total = t ? atol(ws(ws(t + 7) + 1)) : 0; }
    p = ws(ws(p + 6) + 1); if (*p != '[') die("json", "data is not an array");
    p = ws(p + 1);
    all.n = 0; put(&all, "", 0);
    size_t offsets[100 * COLS]; int n = 0;
    while (*p == '{') {
        int active = 0; p = ws(p + 1);
        for (int i = 0; i < 6; i++) f[i].n = 0;
        while (*p != '}') {
            p = ws(string(p, &keys)); p = ws(p + 1);
            const char *k = keys.p; int slot = !strcmp(k, "id") ? 0 : !strcmp(k, "email") ? 1 : !strcmp(k, "first_name") ? 2
                : !strcmp(k, "last_name") ? 3 : !strcmp(k, "active") ? 4 : !strcmp(k, "updated_at") ? 5 : -1;
            if (slot == 4) { active = !strncmp(p, "true", 4); p = skip(p); }
            else if (slot >= 0 && *p == '"') p = string(p, &f[slot]);
            else p = skip(p);
            p = ws(p); if (*p == ',') p = ws(p + 1);
        }
        p = ws(p + 1); if (*p == ',') p = ws(p + 1);
        if (n == 100) die("page", "more than 100 users");
        for (size_t i = 0; i < f[1].n; i++) f[1].p[i] = tolower((unsigned char)f[1].p[i]);
        size_t at[COLS];
        at[0] = all.n; put(&all, f[0].p, f[0].n + 1);
        at[1] = all.n; put(&all, f[1].p, f[1].n + 1);
        at[2] = all.n; put(&all, f[2].p, f[2].n); put(&all, " ", 1); put(&all, f[3].p, f[3].n + 1);
        at[3] = all.n; put(&all, active ? "active" : "inactive", active ? 7 : 9);
        at[4] = all.n; put(&all, "{\"source\":\"crm\",\"original_id\":\"", 31); put(&all, f[0].p, f[0].n); put(&all, "\"}", 3);
        at[5] = all.n; put(&all, f[5].p, f[5].n + 1); /* already RFC 3339 with milliseconds, as flowrun writes it */
        for (int c = 0; c < COLS; c++) offsets[n * COLS + c] = at[c];
        n++;
    }
    if (n == 0) return;
    const char *values[100 * COLS];
    for (int i = 0; i < n * COLS; i++) values[i] = all.p + offsets[i];
    /* The statement text is the same for every full page, so the server's plan cache is hit by text. */
    size_t len = snprintf(sql, sizeof sql, "INSERT INTO users (external_id, email, name, status, metadata, updated_at) VALUES ");
    for (int r = 0; r < n; r++)
        len += snprintf(sql + len, sizeof sql - len, "%s($%d,$%d,$%d,$%d,$%d,$%d)", r ? "," : "", r * 6 + 1, r * 6 + 2,
            r * 6 + 3, r * 6 + 4, r * 6 + 5, r * 6 + 6);
    len += snprintf(sql + len, sizeof sql - len, " ON CONFLICT (external_id) DO UPDATE SET email = EXCLUDED.email, "
        "name = EXCLUDED.name, status = EXCLUDED.status, metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at "
        "WHERE (users.email, users.name, users.status, users.metadata, users.updated_at) IS DISTINCT FROM "
        "(EXCLUDED.email, EXCLUDED.name, EXCLUDED.status, EXCLUDED.metadata, EXCLUDED.updated_at) RETURNING (xmax = 0)");
    conn *c = &conns[page % CONNS];
    if (!PQsendQueryParams(c->c, sql, n * COLS, NULL, values, NULL, NULL, 0)) die("send", PQerrorMessage(c->c));
    if (!PQpipelineSync(c->c)) die("sync", PQerrorMessage(c->c));
    c->pending++; rows_sent += n;
}

static void drain(conn *c, int block) {
    while (c->pending > 0) {
        PQflush(c->c);
        if (!block) { PQconsumeInput(c->c); if (PQisBusy(c->c)) return; }
        PGresult *r = PQgetResult(c->c);
        if (!r) continue;
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_TUPLES_OK) {
            for (int i = 0; i < PQntuples(r); i++) { if (PQgetvalue(r, i, 0)[0] == 't') created++; else updated++; }
        } else if (s == PGRES_PIPELINE_SYNC) c->pending--;
        else if (s != PGRES_COMMAND_OK) die("upsert", PQresultErrorMessage(r));
        PQclear(r);
    }
}

static CURL *easy(const char *api, int page, int limit, buf *b) {
    static char url[512];
    CURL *e = curl_easy_init();
    snprintf(url, sizeof url, "%s/users?page=%d&limit=%d", api, page, limit);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(long)page);
    static struct curl_slist *h;
    if (!h) h = curl_slist_append(curl_slist_append(NULL, "Authorization: Bearer demo-token"), "Accept: application/json");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    return e;
}

int main(int argc, char **argv) {
    if (argc != 4) die("usage", "native API_BASE_URL CONNINFO LIMIT");
    const char *api = argv[1]; int limit = atoi(argv[3]);
    for (int i = 0; i < CONNS; i++) {
        conns[i].c = PQconnectdb(argv[2]);
        if (PQstatus(conns[i].c) != CONNECTION_OK) die("connect", PQerrorMessage(conns[i].c));
    }
    PQclear(PQexec(conns[0].c, "CREATE TABLE IF NOT EXISTS users (external_id TEXT PRIMARY KEY, email TEXT NOT NULL, "
        "name TEXT, status TEXT, metadata TEXT, updated_at TEXT)"));
    for (int i = 0; i < CONNS; i++) { PQenterPipelineMode(conns[i].c); PQsetnonblocking(conns[i].c, 1); }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)INFLIGHT);
    buf bodies[INFLIGHT + 1] = {0}; int slot_of[1 << 20]; int free_slots[INFLIGHT], nfree = 0;
    for (int i = 0; i < INFLIGHT; i++) free_slots[nfree++] = i;
    /* Page 1 alone (it tells the total), then the rest INFLIGHT at a time. */
    int next = 1, pages = 1, running = 0;
    for (;;) {
        while (nfree > 0 && next <= pages && (next == 1 || total >= 0)) {
            int s = free_slots[--nfree]; bodies[s].n = 0; slot_of[next % (1 << 20)] = s;
            curl_multi_add_handle(m, easy(api, next, limit, &bodies[s])); next++;
            if (next == 2 && total < 0) break;
        }
        curl_multi_perform(m, &running);
        CURLMsg *msg; int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            long page; curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&page);
            long status; curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status != 200) die("fetch", curl_easy_strerror(msg->data.result));
            int s = slot_of[page % (1 << 20)];
            send_page(bodies[s].p, (int)page);
            if (page == 1) pages = (int)((total + limit - 1) / limit);
            free_slots[nfree++] = s;
            curl_multi_remove_handle(m, msg->easy_handle); curl_easy_cleanup(msg->easy_handle);
        }
        for (int i = 0; i < CONNS; i++) drain(&conns[i], 0);
        if (running == 0 && next > pages) break;
        if (running) {
            struct curl_waitfd fds[CONNS];
            for (int i = 0; i < CONNS; i++) {
                short events = CURL_WAIT_POLLIN | (PQflush(conns[i].c) == 1 ? CURL_WAIT_POLLOUT : 0);
                fds[i] = (struct curl_waitfd){PQsocket(conns[i].c), events, 0};
            }
            curl_multi_poll(m, fds, CONNS, 100, NULL);
        }
    }
    for (int i = 0; i < CONNS; i++) drain(&conns[i], 1);
    unchanged = rows_sent - created - updated;
    printf("native: %d pages, processed %ld, created %ld, updated %ld, unchanged %ld\n", pages, rows_sent, created,
        updated, unchanged);
    return 0;
}
