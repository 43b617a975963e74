#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: make sqlite3 copy bound text.
static inline int flowrun_sqlite3_bind_text(sqlite3_stmt *stmt, int index, const char *text, int bytes) {
    return sqlite3_bind_text(stmt, index, text, bytes, SQLITE_TRANSIENT);
}
