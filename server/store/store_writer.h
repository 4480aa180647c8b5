/*
 * store_writer.h: (4) the store's writer thread: encoding, writes and
 * fsyncs off the event loop.
 *
 * The loop thread queues jobs (flush sealed chunks, compact, retire old
 * days, write the log's offset leases); one thread runs them in order,
 * lease writes first; each job's outcome comes back to the loop thread
 * through a completion queue and a notification pipe, and is handed to
 * the callback there.  Nothing the thread does touches loop-thread state:
 * counters and the store's index are updated from the completions.
 *
 *	loop thread --jobs (mutex + cond)--> writer thread
 *	loop thread <--completions + pipe--  writer thread
 *
 * Only the lease path may block the loop thread, and only when the log
 * would otherwise hand out an offset above a lease not yet on disk
 * (storage/seglog.c, invariant 5): store_writer_wait_leases.
 */
#ifndef SERVER_STORE_STORE_WRITER_H
#define SERVER_STORE_STORE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "storage/colstore.h"

struct event_base;
struct store_writer;

enum store_job_kind {
	STORE_JOB_FLUSH,
	STORE_JOB_COMPACT,
	STORE_JOB_RETIRE,
	STORE_JOB_LEASE,
	STORE_JOB_RELEASE
};

/* Called on the loop thread for each finished job. */
struct store_writer_cb {
	/* A flush, compaction or retirement: d is the writer's report
	 * (the callee applies and finalises it). */
	void (*done)(void *arg, int kind, struct colstore_done *d);
	/* A lease write: rc 0 or the error. */
	void (*lease_done)(void *arg, uint64_t tag, int rc);
	void *arg;
};

/*
 * Start the thread over wr (opened, owned by the caller, used only by
 * the thread from now until store_writer_stop returns).  Completions are
 * delivered through base.  0 and *out, or a negative error.
 */
int store_writer_start(struct event_base *base, struct colstore_writer *wr,
    const struct store_writer_cb *cb, struct store_writer **out);

/*
 * Queue a flush of chunks[0..n) (copied array; the chunks stay owned by
 * the caller until a completion says they are compacted).
 */
void store_writer_flush(struct store_writer *sw,
    struct agg_chunk *const *chunks, const uint64_t *seqs, size_t n,
    int64_t now_ms);
void store_writer_compact(struct store_writer *sw);
/*
 * Free chunks[0..n) (agg_chunk_free) on the writer thread, after the jobs
 * queued before; the chunks are the writer's from now on, the array is
 * copied.  No completion is delivered.
 */
void store_writer_release(
    struct store_writer *sw, struct agg_chunk *const *chunks, size_t n);
void store_writer_retire(
    struct store_writer *sw, int table, uint32_t floor_day);

/* Queue a lease write (path borrowed; buf owned by the writer now). */
void store_writer_lease(struct store_writer *sw, const char *path, uint8_t *buf,
    size_t n, uint64_t tag);

/*
 * Queue another small file written the same way (osfile_write_atomic,
 * ahead of flushes as leases are; path borrowed, buf owned by the writer
 * now): done(arg, rc) is called on the loop thread instead of
 * cb->lease_done, and store_writer_wait_leases waits for it too.
 */
void store_writer_file(struct store_writer *sw, const char *path, uint8_t *buf,
    size_t n, void (*done)(void *arg, int rc), void *arg);

/*
 * Block until every lease write queued so far is done, then deliver
 * those completions (cb->lease_done) before returning.
 */
void store_writer_wait_leases(struct store_writer *sw);

/* Block until every job is done and deliver every completion. */
void store_writer_drain(struct store_writer *sw);

/* Jobs queued or running (flushes, compactions, retirements). */
size_t store_writer_busy(struct store_writer *sw);

/* Drain, stop and join the thread, free everything (NULL is fine). */
void store_writer_stop(struct store_writer *sw);

#endif
