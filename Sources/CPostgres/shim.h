#include <libpq-fe.h>

static void flowrun_pq_ignore_notice(void *arg, const char *message) { (void)arg; (void)message; }

// Server notices would otherwise be printed to stderr by libpq.
static inline void flowrun_pq_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, flowrun_pq_ignore_notice, 0);
}
