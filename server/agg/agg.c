/*
 * agg.c: (3) the aggregator's wiring: the log's cursors to the window
 * logic (see agg.h).
 *
 * Invariants:
 *  1. cur[p].offset is the next offset of partition p whose record is
 *     not in the window or an earlier chunk; a record below it is never
 *     added again (the cursor returns whole batches: records below the
 *     offset asked for are skipped).
 *  2. A chunk's offsets are the cursors at the seal, so a restart from
 *     them adds exactly the records the chunk did not hold.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/decnum.h"
#include "proto/feed.h"
#include "proto/kafka_records.h"
#include "server/agg/agg.h"
#include "server/log.h"
#include "server/stats.h"

#define AGG_MAGIC 0x61676772

struct agg {
	unsigned magic;
	struct event_base *base;
	struct seglog_topic *topic;
	int npart;
	struct seglog_cursor *cur;
	struct agg_window *w;
	struct event *run_ev;
	struct event *retry_ev;
	int paused;
	int next_part;
	uint64_t lost, invalid;
	void (*on_trades)(void *arg);
	void *on_trades_arg;
	char scratch[4096];
};

static void on_run(evutil_socket_t fd, short what, void *arg);

/*
 * The trade of record rec, or 0 when it is not a valid trade.  The
 * slices point into the record or a->scratch.
 */
static int
record_trade(
    struct agg *a, const struct kafka_record *rec, struct agg_trade *tr)
{
	struct feed_trade ft;

	if (rec->value == NULL || rec->value_len <= 0)
		return 0;
	if (feed_decode_trade(rec->value, (size_t)rec->value_len, &ft,
	        a->scratch, sizeof(a->scratch), NULL) <= 0 ||
	    !ft.valid)
		return 0;
	if (ft.s.len == 0 || ft.s.len > COLFILE_MAX_SYMBOL || ft.t < 0 ||
	    ft.t >= COLFILE_MAX_T ||
	    (ft.c.p != NULL && (ft.c.len == 0 || ft.c.len > COLENC_MAX_STR)))
		return 0;
	if (decnum_parse(ft.p_tok.p, ft.p_tok.len, &tr->price) != 0 ||
	    decnum_parse(ft.v_tok.p, ft.v_tok.len, &tr->volume) != 0)
		return 0;
	tr->sym = ft.s.p;
	tr->symlen = ft.s.len;
	tr->t = ft.t;
	tr->cond = (const uint8_t *)ft.c.p;
	tr->condlen = ft.c.p != NULL ? (int32_t)ft.c.len : -1;
	return 1;
}

/*
 * The records of one batch at or above want.  Returns the records looked
 * at (>= 0), or ERR_NOMEM with *stop the offset of the record the budget
 * refused (invariant 1: the caller sets the cursor back to it).
 */
static int64_t
do_batch(
    struct agg *a, const uint8_t *p, size_t len, int64_t want, int64_t *stop)
{
	struct kafka_rec_iter it;
	struct kafka_record rec;
	struct kafka_batch b;
	struct agg_trade tr;
	int64_t n = 0;
	int rc;

	/* The log stores only validated batches. */
	if (NEVER(kafka_batch_parse(p, len, &b) <= 0))
		return 0;
	kafka_records_init(&it, &b);
	while ((rc = kafka_records_next(&it, &rec)) == 1) {
		if (rec.offset < want)
			continue;
		n++;
		stats.agg_records_total++;
		if (!record_trade(a, &rec, &tr)) {
			a->invalid++;
			stats.agg_invalid_records_total++;
			continue;
		}
		if (agg_window_add(a->w, &tr) != 0) {
			stats.agg_records_total--;
			*stop = rec.offset;
			return ERR_NOMEM;
		}
	}
	if (rc < 0) {
		/* Compressed (refused at Produce, but say so) or damaged:
		 * every record left is not a trade we can read. */
		int64_t last = b.base_offset + b.last_offset_delta;
		int64_t from = want > b.base_offset ? want : b.base_offset;
		int64_t left = last - from + 1 - n;

		if (left > 0) {
			a->invalid += (uint64_t)left;
			stats.agg_invalid_records_total += (uint64_t)left;
			stats.agg_records_total += (uint64_t)left;
		}
	}
	return n;
}

static void
schedule(struct agg *a)
{
	if (!a->paused)
		event_active(a->run_ev, EV_TIMEOUT, 0);
}

/*
 * Read up to budget records (UINT64_MAX: all, untimed) for at most
 * AGG_RUN_NS otherwise (the
 * loop's other work waits meanwhile); 1 when more remain.
 */
static int
run(struct agg *a, uint64_t budget)
{
	int64_t deadline = clock_mono_ns() + AGG_RUN_NS;
	uint64_t done = 0;
	int k, more = 0;

	for (k = 0; k < a->npart && !more; k++) {
		int part = (a->next_part + k) % a->npart;
		struct seglog_cursor *c = &a->cur[part];

		for (;;) {
			const uint8_t *batch;
			int64_t want = c->offset, lost = 0, stop = 0, n;
			size_t len;
			int rc;

			if (done >= budget ||
			    (done > 0 && budget != UINT64_MAX &&
			        clock_mono_ns() > deadline)) {
				more = 1;
				a->next_part = part;
				break;
			}
			rc = seglog_cursor_next(c, &batch, &len, &lost);
			if (rc == ERR_RANGE) {
				a->lost += (uint64_t)lost;
				stats.agg_lost_offsets_total += (uint64_t)lost;
				log_warn("aggregator: %s/%d: %" PRId64
				         " offsets left the log before they "
				         "were read (log retention): lost",
				    seglog_topic_name(a->topic), part, lost);
				continue;
			}
			if (rc <= 0)
				break;
			n = do_batch(a, batch, len, want, &stop);
			if (n == ERR_NOMEM) {
				struct timeval tv = {0, AGG_RETRY_MS * 1000};

				c->offset = stop; /* invariant 1 */
				a->paused = 1;
				stats.agg_pauses_total++;
				evtimer_add(a->retry_ev, &tv);
				more = 0;
				goto out;
			}
			done += (uint64_t)n;
		}
	}
out:
	if (done > 0 && a->on_trades != NULL)
		a->on_trades(a->on_trades_arg);
	return more;
}

static void
on_run(evutil_socket_t fd, short what, void *arg)
{
	struct agg *a = arg;
	int64_t t0;

	CHECK_MAGIC(a, AGG_MAGIC);
	t0 = stats_loop_begin();
	if (run(a, AGG_RECORDS_PER_RUN))
		schedule(a);
	stats_loop_end(LOOP_AGG, t0);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct agg *a = arg;
	int64_t t0;

	CHECK_MAGIC(a, AGG_MAGIC);
	a->paused = 0;
	t0 = stats_loop_begin();
	if (run(a, AGG_RECORDS_PER_RUN))
		schedule(a);
	stats_loop_end(LOOP_AGG, t0);
}

struct agg *
agg_new(struct event_base *base, const struct config *cfg,
    struct seglog_topic *topic, struct agg_window *w, const int64_t *resume,
    const int64_t *ends, size_t nresume, uint64_t lost0, uint64_t invalid0)
{
	struct agg *a = xcalloc(1, sizeof(*a));
	int p;

	(void)cfg;
	a->magic = AGG_MAGIC;
	a->base = base;
	a->topic = topic;
	a->w = w;
	a->npart = seglog_topic_partitions(topic);
	a->cur = xcalloc((size_t)a->npart, sizeof(*a->cur));
	a->lost = lost0;
	a->invalid = invalid0;
	a->run_ev = event_new(base, -1, 0, on_run, a);
	a->retry_ev = evtimer_new(base, on_retry, a);
	if (a->run_ev == NULL || a->retry_ev == NULL)
		fatalx("aggregator: cannot create its events");
	if (nresume > 0 && nresume != (size_t)a->npart)
		log_warn("aggregator: the store has offsets of %zu partitions, "
		         "%s has %d: the others start at the log's start",
		    nresume, seglog_topic_name(topic), a->npart);
	for (p = 0; p < a->npart; p++) {
		int64_t start = seglog_start_offset(topic, p);
		int64_t end = seglog_end_offset(topic, p);
		int64_t at = (size_t)p < nresume ? resume[p] : start;

		a->cur[p].topic = topic;
		a->cur[p].part = p;
		if (at > end) {
			log_warn("aggregator: %s/%d: the store has read up to "
			         "%" PRId64 ", past the log's end %" PRId64
			         " (was the log's state file reset?): starting "
			         "at the log's end",
			    seglog_topic_name(topic), p, at, end);
			at = end;
		} else if (at < start) {
			/* Offsets the log gave out before the store's last
			 * commit are known lost; above them, the gap is the
			 * last flush interval before a crash (lost too, but
			 * not countable) and the lease gap (never given). */
			int64_t known =
			    (size_t)p < nresume && ends != NULL
			        ? (ends[p] < start ? ends[p] : start)
			        : at;
			uint64_t lost = known > at ? (uint64_t)(known - at) : 0;

			a->lost += lost;
			stats.agg_lost_offsets_total += lost;
			log_info(
			    "aggregator: %s/%d resumes at %" PRId64
			    ", the log starts at %" PRId64 ": %" PRIu64
			    " offsets lost (given out before the store's "
			    "last commit); the other %" PRId64
			    " were never in the store: the trades of the "
			    "last flush interval before the daemon stopped, "
			    "and the rest of the offset lease, never given "
			    "out",
			    seglog_topic_name(topic), p, at, start, lost,
			    start - at - (int64_t)lost);
			at = start;
		}
		a->cur[p].offset = at;
	}
	return a;
}

void
agg_free(struct agg *a)
{
	if (a == NULL)
		return;
	if (a->run_ev != NULL)
		event_free(a->run_ev);
	if (a->retry_ev != NULL)
		event_free(a->retry_ev);
	free(a->cur);
	a->magic = 0;
	free(a);
}

void
agg_on_append(struct agg *a, int part)
{
	(void)part;
	schedule(a);
}

void
agg_drain(struct agg *a)
{
	a->paused = 0;
	event_del(a->retry_ev);
	(void)run(a, UINT64_MAX);
}

int
agg_step(struct agg *a, uint64_t budget)
{
	return a->paused ? 1 : run(a, budget);
}

struct agg_chunk *
agg_seal(struct agg *a)
{
	struct agg_chunk *c = agg_window_seal(a->w);
	int p;

	if (c == NULL)
		return NULL;
	c->noffsets = (size_t)a->npart;
	c->offsets = xcalloc((size_t)a->npart, sizeof(*c->offsets));
	c->ends = xcalloc((size_t)a->npart, sizeof(*c->ends));
	for (p = 0; p < a->npart; p++) { /* invariant 2 */
		c->offsets[p] = a->cur[p].offset;
		c->ends[p] = seglog_end_offset(a->topic, p);
	}
	c->lost_total = a->lost;
	c->invalid_total = a->invalid;
	return c;
}

size_t
agg_pending(const struct agg *a)
{
	return agg_window_pending(a->w);
}

void
agg_set_on_trades(struct agg *a, void (*fn)(void *arg), void *arg)
{
	a->on_trades = fn;
	a->on_trades_arg = arg;
}

int
agg_paused(const struct agg *a)
{
	return a->paused;
}

int64_t
agg_lag(const struct agg *a)
{
	int64_t lag = 0, end;
	int p;

	for (p = 0; p < a->npart; p++) {
		end = seglog_end_offset(a->topic, p);
		if (end > a->cur[p].offset)
			lag += end - a->cur[p].offset;
	}
	return lag;
}
