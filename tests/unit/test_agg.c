/*
 * test_agg.c: (3) the aggregator's wiring (server/agg/agg.c): every
 * partition read through the log's cursors, records that are not valid
 * trades counted and skipped (bad JSON, missing fields, null values, a
 * compressed batch), seals that carry the resume and end offsets, offsets
 * that left the log counted as lost, and a memory budget that pauses the
 * aggregator mid-batch without losing or repeating a record.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "base/byteorder.h"
#include "base/membudget.h"
#include "proto/kafka_records.h"
#include "proto/wbuf.h"
#include "server/agg/agg.h"
#include "server/config.h"
#include "server/stats.h"
#include "storage/agg_window.h"
#include "storage/seglog.h"
#include "tests/lib/tap.h"

static struct seglog *sl;
static struct seglog_topic *topic;

/* Append n records (values[i], NULL for a null value) to part. */
static void
append(int part, const char *const *values, int n)
{
	struct kafka_batch_enc e;
	struct wbuf w;
	int64_t base;
	int i;

	wbuf_init(&w, 0);
	kafka_batch_enc_begin(&e, &w, 1700000000000LL);
	for (i = 0; i < n; i++)
		kafka_batch_enc_add(&e, "K", 1, values[i],
		    values[i] ? (int32_t)strlen(values[i]) : -1,
		    1700000000000LL);
	kafka_batch_enc_end(&e);
	if (seglog_append(topic, part, w.buf, w.len, 0, &base) != 0)
		fprintf(stderr, "append failed\n");
	wbuf_fini(&w);
}

static const char *
trade(int i)
{
	static char buf[16][128];
	static int k;

	k = (k + 1) % 16;
	snprintf(buf[k], sizeof(buf[k]),
	    "{\"s\":\"S%d\",\"p\":1.%02d,\"v\":%d,\"t\":%lld,\"c\":null}",
	    i % 3, i % 100, i + 1, 1700000000000LL + i);
	return buf[k];
}

int
main(void)
{
	struct seglog_limits lim;
	struct event_base *base = event_base_new();
	struct agg_window *w;
	struct agg_chunk *c;
	struct config cfg;
	struct agg *a;
	const char *v[8];
	int i, k;

	plan_lazy();
	config_init(&cfg);
	memset(&lim, 0, sizeof(lim));
	lim.default_partitions = 2;
	lim.segment_bytes = 4096;
	lim.retention_bytes = 8192;
	seglog_new(&lim, NULL, &sl);
	seglog_topic_create(sl, "trades", 6, 2, &topic);
	membudget_init(&membudget_global, 0);
	w = agg_window_new(&membudget_global);
	a = agg_new(base, &cfg, topic, w, NULL, NULL, 0, 0, 0);

	/* Valid trades and each kind of invalid record. */
	v[0] = trade(1);
	v[1] = "not json";
	v[2] = "{\"s\":\"S1\",\"p\":1}";
	v[3] = NULL;
	v[4] = "{\"s\":\"S1\",\"p\":0,\"v\":1,\"t\":5}";
	v[5] = trade(2);
	append(0, v, 6);
	v[0] = trade(3);
	append(1, v, 1);
	agg_drain(a);
	is_int(agg_pending(a), 3, "3 valid trades of 6 + 1 records");
	is_int(stats.agg_invalid_records_total, 4, "4 invalid records counted");
	is_int(stats.agg_records_total, 7, "7 records read");
	/* A compressed batch: every record of it is counted invalid. */
	{
		struct kafka_batch_enc e;
		struct wbuf wb;
		int64_t off;

		wbuf_init(&wb, 0);
		kafka_batch_enc_begin(&e, &wb, 1700000000000LL);
		kafka_batch_enc_add(&e, "K", 1, "x", 1, 1700000000000LL);
		kafka_batch_enc_add(&e, "K", 1, "y", 1, 1700000000000LL);
		kafka_batch_enc_end(&e);
		/* Mark it gzip: the record bytes are then one opaque blob. */
		be16_store(wb.buf + KAFKA_BATCH_OFF_ATTRIBUTES, 1);
		seglog_append(topic, 1, wb.buf, wb.len, 0, &off);
		wbuf_fini(&wb);
	}
	agg_drain(a);
	is_int(stats.agg_invalid_records_total, 6,
	    "a compressed batch: its 2 records invalid");
	c = agg_seal(a);
	ok(c != NULL && c->ntrades == 3 && c->noffsets == 2 &&
	        c->offsets[0] == 6 && c->offsets[1] == 3 && c->ends[0] == 6 &&
	        c->ends[1] == 3 && c->invalid_total == 6,
	    "a seal carries the resume and end offsets and the totals");
	agg_chunk_free(c);
	agg_free(a);

	/* Resuming below the log's start: those offsets are lost. */
	for (i = 0; i < 200; i++) {
		v[0] = trade(i);
		append(0, v, 1);
	}
	seglog_expire(sl, 0);
	{
		int64_t resume[2] = {6, 3}, ends[2] = {10, 3};
		int64_t start = seglog_start_offset(topic, 0);
		uint64_t lost0 = stats.agg_lost_offsets_total;

		ok(start > 10,
		    "retention dropped the oldest offsets (start %lld)",
		    (long long)start);
		a = agg_new(base, &cfg, topic, w, resume, ends, 2, 0, 6);
		is_int(stats.agg_lost_offsets_total - lost0, 4,
		    "lost: only what the log gave out before the last commit "
		    "(6..9)");
		agg_drain(a);
		is_int(agg_pending(a), seglog_end_offset(topic, 0) - start,
		    "then every trade still in the log");
		agg_chunk_free(agg_seal(a));
		agg_free(a);
	}

	/* A budget that refuses: the aggregator stops mid-batch and goes
	 * on exactly there. */
	{
		int64_t resume[2], total = 0, want;

		/* A log of its own, with room for all of it. */
		seglog_free(sl);
		lim.retention_bytes = 0;
		seglog_new(&lim, NULL, &sl);
		seglog_topic_create(sl, "trades", 6, 2, &topic);
		resume[0] = resume[1] = 0;
		a = agg_new(base, &cfg, topic, w, resume, NULL, 2, 0, 0);
		for (k = 0; k < 50; k++) {
			for (i = 0; i < 8; i++)
				v[i] = trade(1000 + k * 8 + i);
			append(0, v, 8);
		}
		want = 400;
		membudget_global.limit =
		    membudget_used(&membudget_global) + 4096;
		for (k = 0; k < 1000 && total < want; k++) {
			agg_step(a, 1000);
			c = agg_seal(a);
			if (c != NULL)
				total += (int64_t)c->ntrades;
			agg_chunk_free(c);
			/* What the retry timer would do: */
			agg_drain(a);
		}
		c = agg_seal(a);
		if (c != NULL)
			total += (int64_t)c->ntrades;
		agg_chunk_free(c);
		ok(stats.agg_pauses_total > 0,
		    "the budget paused the aggregator "
		    "(%llu times)",
		    (unsigned long long)stats.agg_pauses_total);
		is_int(total, want, "and every trade came through once");
		membudget_global.limit = 0;
		agg_free(a);
	}
	agg_window_free(w);
	seglog_free(sl);
	event_base_free(base);
	config_fini(&cfg);
	return done_testing();
}
