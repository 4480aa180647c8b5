/*
 * agg.h: (3) the aggregator: reads every partition of the trades topic
 * through the log's consumer cursor, like any consumer, and feeds the
 * window logic (storage/agg_window.h) with every valid trade, so trades
 * produced by clients (a backfill) are aggregated exactly like the
 * feed's.  Records that are not valid trades are counted and skipped.
 *
 *	seglog append hook --agg_on_append--> event_active (deferred)
 *	    --> per partition: seglog_cursor_next, each record's value
 *	        decoded (feed_decode_trade, decnum_parse), agg_window_add
 *	agg_seal --> a chunk with the partitions' resume and end offsets
 *
 * Work per callback is capped (AGG_RECORDS_PER_RUN records or AGG_RUN_NS,
 * whichever comes first); more is done on the next turn of the loop.  When the memory budget refuses a trade the
 * aggregator stops where it is (mid-batch if need be: the cursor is set
 * back to that record) and retries every AGG_RETRY_MS, while the store
 * writes and frees sealed chunks.
 *
 * All on the event-loop thread.
 */
#ifndef SERVER_AGG_AGG_H
#define SERVER_AGG_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "storage/agg_window.h"
#include "storage/seglog.h"

#define AGG_RECORDS_PER_RUN 65536
/* A run also stops after this long, so a backlog never holds the loop
 * for more than about this (the rest runs on later turns). */
#define AGG_RUN_NS   200000
#define AGG_RETRY_MS 50

struct event_base;
struct agg;

/*
 * An aggregator over topic (its partitions, all of them) feeding window
 * w (borrowed).  Partition p resumes at resume[p] for p < nresume, at
 * the log's start for the others; lost0 and invalid0 continue the
 * running totals the store kept.  An offset below the log's start is
 * skipped and counted as lost; ends (may be NULL) are the log's ends at
 * the store's last commit, so the count is exact: offsets the log gave
 * out before that commit, not the lease gap of a restart (see
 * agg_new's log line).
 */
struct agg *agg_new(struct event_base *base, const struct config *cfg,
    struct seglog_topic *topic, struct agg_window *w, const int64_t *resume,
    const int64_t *ends, size_t nresume, uint64_t lost0, uint64_t invalid0);
void agg_free(struct agg *a);

/* The log appended to partition part of the topic: read it soon. */
void agg_on_append(struct agg *a, int part);

/* Read everything the log holds now (shutdown), ignoring the cap. */
void agg_drain(struct agg *a);

/* Read about budget records (whole batches; benchmarks); 1 when the
 * log holds more. */
int agg_step(struct agg *a, uint64_t budget);

/*
 * Seal the window: a chunk (NULL when nothing arrived since the last
 * seal) carrying the offsets every partition resumes at and the running
 * totals.  The caller owns it.
 */
struct agg_chunk *agg_seal(struct agg *a);

/* Trades waiting in the window (for a seal). */
size_t agg_pending(const struct agg *a);

/* Called after every run that added trades (NULL: none). */
void agg_set_on_trades(struct agg *a, void (*fn)(void *arg), void *arg);

/* 1 while paused for the memory budget (see above). */
int agg_paused(const struct agg *a);

/* Records the log holds that the aggregator has not read yet (its
 * consumer lag, summed over the partitions). */
int64_t agg_lag(const struct agg *a);

#endif
