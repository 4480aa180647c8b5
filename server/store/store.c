/*
 * store.c: (4) the store stage's wiring (see store.h).
 *
 * Invariants:
 *  1. At most one flush job is in flight; chunks sealed meanwhile wait in
 *     unflushed[] and go, all together, with the next one (group
 *     commit).
 *  2. unflushed[] holds, in seq order, every sealed chunk not yet
 *     committed; a failed flush leaves them there and they are sent
 *     again, unchanged, after a back-off.  The colstore holds them for
 *     readers from the seal until they are compacted.
 *  3. Once the writer reports it failed (an error it could not undo),
 *     nothing more is sent: the log keeps serving, the store stays as of
 *     its last commit, and the next start recovers it.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "server/log.h"
#include "server/stats.h"
#include "server/store/store.h"
#include "server/store/store_writer.h"

#define STORE_MAGIC 0x73746f72

struct pend {
	struct agg_chunk *c;
	uint64_t seq;
};

struct store {
	unsigned magic;
	struct event_base *base;
	char *dir;
	int fsync_mode; /* enum store_fsync */
	int64_t flush_ms;
	int64_t retention_days[2];
	struct colstore_opts opts;
	struct colstore_writer *wr; /* the writer thread's from start on */
	struct store_writer *sw;
	struct colstore *cs;
	struct colstore_recovery rec;
	struct store_source src;
	struct pend *unflushed;
	size_t nunflushed, cap;
	struct agg_chunk **gone; /* compacted: for the writer to free */
	size_t ngone, gonecap;
	size_t inflight; /* chunks in the flush job in flight */
	uint64_t next_seq;
	int failed;
	int64_t retry_ms; /* back-off after a failed flush; 0: none */
	int backing_off;
	struct event *flush_ev, *retry_ev, *retention_ev;
	struct seglog *sl;
	uint32_t floor[2];
	uint64_t errors_logged;
};

static void
set_timer(struct event *ev, int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	evtimer_add(ev, &tv);
}

/* Send every unflushed chunk in one job (invariant 1). */
static void
submit(struct store *st)
{
	struct agg_chunk **chunks;
	uint64_t *seqs;
	size_t i, n = st->nunflushed;

	if (st->inflight > 0 || st->failed || st->backing_off || n == 0)
		return;
	chunks = xreallocarray(NULL, n, sizeof(*chunks));
	seqs = xreallocarray(NULL, n, sizeof(*seqs));
	for (i = 0; i < n; i++) {
		chunks[i] = st->unflushed[i].c;
		seqs[i] = st->unflushed[i].seq;
	}
	store_writer_flush(st->sw, chunks, seqs, n, clock_wall_ms());
	st->inflight = n;
	free(chunks);
	free(seqs);
}

static void
seal(struct store *st)
{
	struct agg_chunk *c;
	struct pend *p;

	if (st->src.seal == NULL || (c = st->src.seal(st->src.arg)) == NULL)
		return;
	if (st->nunflushed == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->unflushed = xreallocarray(
		    st->unflushed, st->cap, sizeof(*st->unflushed));
	}
	p = &st->unflushed[st->nunflushed++];
	p->c = c;
	p->seq = ++st->next_seq;
	colstore_add_chunk(st->cs, c, p->seq);
	stats.store_chunks = colstore_chunks(st->cs);
}

static void
log_commit(struct store *st, const struct colstore_done *d,
    const struct agg_chunk *last)
{
	char offs[512];
	size_t i, k = 0;

	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;
	offs[0] = '\0';
	for (i = 0; last != NULL && i < last->noffsets && k + 32 < sizeof(offs);
	     i++)
		k += (size_t)snprintf(offs + k, sizeof(offs) - k,
		    "%s%zu=%" PRId64, i ? "," : "", i, last->offsets[i]);
	log_debug("store: commit %" PRIu64 ": %" PRIu64 " trades, %" PRIu64
	          " bars stored; offsets %s; %" PRIu64 " bytes on disk",
	    d->commit_seq, d->trades, d->bars, offs, d->bytes_on_disk);
	(void)st;
}

static void
on_done(void *arg, int kind, struct colstore_done *d)
{
	struct store *st = arg;
	size_t i, k;

	CHECK_MAGIC(st, STORE_MAGIC);
	if (kind == STORE_JOB_FLUSH) {
		st->inflight = 0;
		if (d->err == 0) {
			const struct agg_chunk *last = NULL;

			for (i = 0; i < st->nunflushed &&
			            st->unflushed[i].seq <= d->flushed_upto;
			     i++)
				last = st->unflushed[i].c;
			log_commit(st, d, last);
			for (k = 0; i < st->nunflushed; i++, k++)
				st->unflushed[k] = st->unflushed[i];
			st->nunflushed = k;
			st->retry_ms = 0;
			stats.store_commits_total++;
			stats.store_flushes_total++;
			stats.store_flush_us_total += (uint64_t)d->flush_us;
		} else {
			stats.store_write_errors_total++;
			if (st->errors_logged++ < 10 || d->failed)
				log_err("store: a flush failed: %s%s",
				    err_str(d->err),
				    d->failed ? ""
				              : "; retrying (the log keeps "
				                "serving)");
			if (!d->failed) {
				st->retry_ms = st->retry_ms == 0
				                   ? STORE_RETRY_MIN_MS
				                   : st->retry_ms * 2;
				if (st->retry_ms > STORE_RETRY_MAX_MS)
					st->retry_ms = STORE_RETRY_MAX_MS;
				st->backing_off = 1;
				set_timer(st->retry_ev, st->retry_ms);
			}
		}
	}
	if (d->failed && !st->failed) {
		st->failed = 1; /* invariant 3 */
		log_err("store: the store cannot write any more (an error "
		        "could not be undone): it stays as of commit %" PRIu64
		        " until a restart recovers it; the log keeps serving",
		    d->commit_seq);
	}
	if (d->err == 0 || kind != STORE_JOB_FLUSH) {
		if (d->commit_seq > 0) {
			stats.store_trades_total = d->trades;
			stats.store_bars_total = d->bars;
			stats.store_bytes = d->bytes_on_disk;
		}
	}
	if (d->compacted_upto > 0) {
		stats.store_compactions_total++;
		stats.store_compact_us_total += (uint64_t)d->compact_us;
	}
	stats.store_bytes_written_total += d->bytes_written;
	colstore_apply(st->cs, d);
	stats.store_chunks = colstore_chunks(st->cs);
	if (st->ngone > 0) {
		store_writer_release(st->sw, st->gone, st->ngone);
		st->ngone = 0;
	}
	/* The next flush: at once with always, else what is waiting. */
	if (st->fsync_mode == STORE_FSYNC_ALWAYS && st->src.pending != NULL &&
	    st->src.pending(st->src.arg) > 0 && !st->failed)
		seal(st);
	submit(st);
}

/* A chunk the reader let go (colstore_set_release). */
static void
on_release(void *arg, struct agg_chunk *c)
{
	struct store *st = arg;

	if (st->ngone == st->gonecap) {
		st->gonecap = st->gonecap ? st->gonecap * 2 : 16;
		st->gone =
		    xreallocarray(st->gone, st->gonecap, sizeof(*st->gone));
	}
	st->gone[st->ngone++] = c;
}

static void
on_lease_done(void *arg, uint64_t tag, int rc)
{
	struct store *st = arg;

	CHECK_MAGIC(st, STORE_MAGIC);
	if (rc != 0)
		log_err(
		    "store: writing the log's offset leases: %s", err_str(rc));
	if (st->sl != NULL)
		seglog_lease_done(st->sl, tag, rc);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = arg;
	int64_t t0 = stats_loop_begin();

	CHECK_MAGIC(st, STORE_MAGIC);
	if (!st->failed)
		seal(st);
	submit(st);
	stats_loop_end(LOOP_STORE, t0);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = arg;

	CHECK_MAGIC(st, STORE_MAGIC);
	st->backing_off = 0;
	submit(st);
}

static void
retention(struct store *st)
{
	uint32_t today = colfile_day(clock_wall_ms());
	int ti;

	for (ti = 0; ti < 2; ti++) {
		int table = ti == 0 ? COLFILE_TRADES : COLFILE_BARS;
		uint32_t floor;

		if (st->retention_days[ti] <= 0 || st->failed ||
		    (int64_t)today + 1 < st->retention_days[ti])
			continue;
		floor = (uint32_t)((int64_t)today + 1 - st->retention_days[ti]);
		if (floor <= st->floor[ti])
			continue;
		st->floor[ti] = floor;
		colstore_forget_before(st->cs, table, floor);
		store_writer_retire(st->sw, table, floor);
		stats.store_retirements_total++;
		log_info("store: retention: %s before day %u removed (%" PRId64
		         " days kept)",
		    table == COLFILE_TRADES ? "trades" : "bars", floor,
		    st->retention_days[ti]);
	}
}

static void
on_retention(evutil_socket_t fd, short what, void *arg)
{
	struct store *st = arg;

	CHECK_MAGIC(st, STORE_MAGIC);
	retention(st);
}

int
store_open(
    struct event_base *base, const struct config *cfg, struct store **out)
{
	struct store *st = xcalloc(1, sizeof(*st));
	struct store_writer_cb cb;
	size_t n;
	int rc;

	st->magic = STORE_MAGIC;
	st->base = base;
	n = strlen(cfg->data_dir) + sizeof("/store");
	st->dir = xmalloc(n);
	snprintf(st->dir, n, "%s/store", cfg->data_dir);
	st->fsync_mode = cfg->store_fsync;
	st->flush_ms = cfg->store_flush_ms;
	st->retention_days[0] = cfg->trades_retention_days;
	st->retention_days[1] = cfg->bars_retention_days;
	st->opts.dir = st->dir;
	st->opts.fsync = cfg->store_fsync != STORE_FSYNC_NEVER;
	st->opts.topic = cfg->topic;
	st->opts.mb = &membudget_global;
	st->opts.compact_rows = (uint64_t)cfg->store_compact_rows;
	if ((rc = colstore_writer_open(&st->opts, &st->rec, &st->wr)) != 0) {
		log_err("store %s: %s%s", st->dir, err_str(rc),
		    rc == ERR_MALFORMED
		        ? " (data files but no valid commit record: move the "
		          "directory aside; finnstreamd --verify-store says "
		          "more)"
		        : "");
		goto fail;
	}
	if (st->rec.fresh)
		log_info("store: new store in %s", st->dir);
	else
		log_info("store: %s at commit %" PRIu64 ": %" PRIu64
		         " trades, %" PRIu64 " bars; recovery cut %" PRIu64
		         " bytes from %zu files, removed %zu files, compacted "
		         "%" PRIu64 " tail rows%s%s%s",
		    st->dir, st->rec.commit_seq, st->rec.trades, st->rec.bars,
		    st->rec.truncated_bytes, st->rec.truncated_files,
		    st->rec.removed_files, st->rec.tail_rows,
		    st->rec.damaged ? "; DAMAGED, the rest kept" : "",
		    st->rec.detail[0] ? ": " : "", st->rec.detail);
	if (st->rec.damaged)
		log_err("store: recovery found damage (see the line above); "
		        "finnstreamd --verify-store lists it");
	stats.store_trades_total = st->rec.trades;
	stats.store_bars_total = st->rec.bars;
	memset(&cb, 0, sizeof(cb));
	cb.done = on_done;
	cb.lease_done = on_lease_done;
	cb.arg = st;
	if ((rc = store_writer_start(base, st->wr, &cb, &st->sw)) != 0) {
		log_err(
		    "store: cannot start the writer thread: %s", err_str(rc));
		goto fail;
	}
	*out = st;
	return 0;
fail:
	store_free(st);
	return rc;
}

const struct colstore_recovery *
store_recovery(const struct store *st)
{
	return &st->rec;
}

void
store_attach(struct store *st, const struct agg_window *w,
    const struct store_source *src)
{
	struct colfile_file *files;
	size_t nfiles;
	uint32_t fl[2];

	/* The writer thread has done nothing yet: its state is safe to
	 * read here, once. */
	colstore_writer_files(st->wr, &files, &nfiles, fl);
	st->floor[0] = fl[0];
	st->floor[1] = fl[1];
	st->cs = colstore_new(&st->opts, files, nfiles, fl, w);
	colstore_set_release(st->cs, on_release, st);
	free(files);
	st->src = *src;
	st->flush_ev = event_new(st->base, -1, EV_PERSIST, on_flush, st);
	st->retry_ev = evtimer_new(st->base, on_retry, st);
	st->retention_ev =
	    event_new(st->base, -1, EV_PERSIST, on_retention, st);
	if (st->flush_ev == NULL || st->retry_ev == NULL ||
	    st->retention_ev == NULL)
		fatalx("store: cannot create its timers");
	set_timer(st->flush_ev, st->flush_ms);
	set_timer(st->retention_ev, STORE_RETENTION_CHECK_MS);
	retention(st);
}

static void
lease_write(void *arg, const char *path, uint8_t *buf, size_t n, uint64_t tag)
{
	struct store *st = arg;

	CHECK_MAGIC(st, STORE_MAGIC);
	store_writer_lease(st->sw, path, buf, n, tag);
}

static void
lease_wait(void *arg)
{
	struct store *st = arg;
	int64_t t0 = clock_mono_ms();

	CHECK_MAGIC(st, STORE_MAGIC);
	store_writer_wait_leases(st->sw);
	stats.seglog_lease_waits_total++;
	if (clock_mono_ms() - t0 > 100)
		log_warn("store: an append waited %" PRId64 " ms for the log's "
		         "offset lease to reach the disk",
		    clock_mono_ms() - t0);
}

void
store_serve_leases(struct store *st, struct seglog *sl)
{
	struct seglog_lease_io io;

	st->sl = sl;
	io.write = lease_write;
	io.wait = lease_wait;
	io.arg = st;
	seglog_set_lease_io(sl, &io);
}

void
store_write_file(struct store *st, const char *path, uint8_t *buf, size_t n,
    void (*done)(void *arg, int rc), void *arg)
{
	CHECK_MAGIC(st, STORE_MAGIC);
	ASSERT(st->sw != NULL);
	store_writer_file(st->sw, path, buf, n, done, arg);
}

void
store_wait_files(struct store *st)
{
	CHECK_MAGIC(st, STORE_MAGIC);
	store_writer_wait_leases(st->sw);
}

void
store_kick(struct store *st)
{
	if (st->fsync_mode == STORE_FSYNC_ALWAYS && st->inflight == 0 &&
	    !st->failed && !st->backing_off) {
		seal(st);
		submit(st);
	}
}

struct colstore *
store_colstore(struct store *st)
{
	return st->cs;
}

void
store_close(struct store *st, struct seglog *sl)
{
	if (st == NULL || st->sw == NULL)
		return;
	if (st->flush_ev != NULL)
		event_del(st->flush_ev);
	if (st->retention_ev != NULL)
		event_del(st->retention_ev);
	if (st->retry_ev != NULL)
		event_del(st->retry_ev);
	/* Everything left, flushed and on disk before the log's state. */
	st->backing_off = 0;
	if (!st->failed && st->cs != NULL)
		seal(st);
	submit(st);
	store_writer_drain(st->sw);
	if (st->nunflushed > 0 && !st->failed) {
		st->backing_off = 0;
		submit(st); /* one more try after a failure */
		store_writer_drain(st->sw);
	}
	if (st->nunflushed > 0)
		log_err("store: %zu chunks could not be written at shutdown",
		    st->nunflushed);
	if (sl != NULL)
		seglog_set_lease_io(sl, NULL);
	st->sl = NULL;
	store_writer_stop(st->sw);
	st->sw = NULL;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	store_close(st, NULL);
	if (st->flush_ev != NULL)
		event_free(st->flush_ev);
	if (st->retry_ev != NULL)
		event_free(st->retry_ev);
	if (st->retention_ev != NULL)
		event_free(st->retention_ev);
	colstore_free(st->cs); /* frees every chunk it holds */
	colstore_writer_close(st->wr);
	colstore_recovery_fini(&st->rec);
	free(st->unflushed);
	while (st->ngone > 0)
		agg_chunk_free(st->gone[--st->ngone]);
	free(st->gone);
	free(st->dir);
	st->magic = 0;
	free(st);
}

const char *
store_state(const struct store *st)
{
	if (st == NULL)
		return "closed";
	if (st->failed)
		return "failed";
	return st->backing_off ? "retrying" : "ok";
}
