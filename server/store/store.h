/*
 * store.h: (4) the store stage: opens (and recovers) the column store
 * under data_dir/store, runs its writer thread, seals the aggregator's
 * window into chunks every store_flush_ms (or, with store_fsync always,
 * as soon as the previous flush is on disk), applies retention, writes
 * the log's offset leases, and serves the reader (storage/colstore.h) to
 * the HTTP stage.
 *
 *	aggregator window --seal (source)--> chunk --> colstore (readers)
 *	                                        \--> writer thread: tail,
 *	                                             commit, compaction
 *	writer completions --> colstore_apply, counters, retries
 *
 * Configuration, taken at store_open and kept for the store's life (the
 * keys change on restart only; a SIGHUP that changes them is warned
 * about by pipeline_reload):
 *	data_dir              the store lives in data_dir/store
 *	store_fsync           always: flush as soon as the previous flush
 *	                      is on disk, fsync each one (a reported commit
 *	                      survives a power loss); interval: flush every
 *	                      store_flush_ms and fsync each flush; never:
 *	                      flush every store_flush_ms, leave fsync to the
 *	                      OS (a killed process loses nothing flushed, an
 *	                      OS crash may lose more than an interval)
 *	store_flush_ms        the flush interval: a killed daemon loses at
 *	                      most this much of the trades it had ingested
 *	trades_retention_days, bars_retention_days
 *	                      whole UTC days kept (today included); older
 *	                      day files are removed, checked every minute
 *
 * Counters go to server/stats.h from the completions, on the loop
 * thread.  One log line per open says what recovery did; with
 * log_level debug, one line per commit names its totals and offsets
 * ("store: commit N: T trades, B bars stored; offsets ...").
 */
#ifndef SERVER_STORE_STORE_H
#define SERVER_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "storage/agg_window.h"
#include "storage/colstore.h"
#include "storage/seglog.h"

#define STORE_RETENTION_CHECK_MS 60000
#define STORE_RETRY_MIN_MS       1000
#define STORE_RETRY_MAX_MS       30000

struct event_base;
struct store;

/* Where sealed chunks come from (the aggregator; wired by pipeline.c). */
struct store_source {
	struct agg_chunk *(*seal)(void *arg); /* NULL when nothing new */
	size_t (*pending)(void *arg);         /* trades not yet sealed */
	void *arg;
};

/*
 * Open the store under cfg->data_dir (recovering it: one log line) and
 * start its writer thread.  0 and *out, or a negative error (logged).
 */
int store_open(
    struct event_base *base, const struct config *cfg, struct store **out);

/* What recovery found: the offsets the aggregator resumes at, totals. */
const struct colstore_recovery *store_recovery(const struct store *st);

/*
 * Start serving: the reader over w (the aggregator's window, which the
 * store seals through src), the flush and retention timers.
 */
void store_attach(struct store *st, const struct agg_window *w,
    const struct store_source *src);

/* Route sl's offset-lease writes through the writer thread. */
void store_serve_leases(struct store *st, struct seglog *sl);

/*
 * Another small file written atomically on the writer thread, ahead of
 * flushes (the consumer groups' offsets): buf is the writer's from now
 * on, path must stay valid until done(arg, rc) runs on the loop thread.
 * store_wait_files blocks until every such write has called its done.
 * Only between store_open and store_close.
 */
void store_write_file(struct store *st, const char *path, uint8_t *buf,
    size_t n, void (*done)(void *arg, int rc), void *arg);
void store_wait_files(struct store *st);

/* Trades were added to the window (store_fsync always: flush soon). */
void store_kick(struct store *st);

/* The reader (scan API) for the HTTP stage; NULL before store_attach. */
struct colstore *store_colstore(struct store *st);

/*
 * The store's state for /healthz: "ok", "retrying" (a flush failed and
 * is retried with back-off), "failed" (the writer could not undo a
 * failure and stopped: nothing more is written), "closed" (NULL).
 */
const char *store_state(const struct store *st);

/*
 * Shutdown: seal what is left, flush it, wait for every job (the
 * caller drained the aggregator first), stop the writer thread and
 * detach the log's leases (sl may be NULL).
 */
void store_close(struct store *st, struct seglog *sl);
void store_free(struct store *st);

#endif
