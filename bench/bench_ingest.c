/*
 * bench_ingest.c: (1) -> (2) without the network: Finnhub trade messages
 * parsed by proto/feed.c, encoded as RecordBatches and appended to the
 * log, through the daemon's own feed_ingest_message().
 *
 *	bench/bench_ingest [TRADES_PER_MESSAGE [MESSAGES]]
 *
 * The messages come from the sim market (generated before timing, not
 * timed).  Retention runs as in the daemon, so memory stays bounded.
 * Prints the median of 5 runs and their spread.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/wbuf.h"
#include "server/config.h"
#include "server/feed/feed_ingest.h"
#include "server/feed/feed_sim.h"
#include "server/stats.h"
#include "storage/seglog.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BENCH_RUNS 5

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int per_msg = argc > 1 ? atoi(argv[1]) : 10;
	int nmsg = argc > 2 ? atoi(argv[2]) : 200000;
	struct seglog_limits lim;
	struct seglog_topic *topic;
	struct feed_sim *m;
	struct seglog *sl;
	struct feed_ingest *in;
	struct config cfg;
	struct wbuf all;
	size_t *off, i, total_bytes;
	double times[BENCH_RUNS], t0, t;
	int64_t ntrades = 0, now_ms = 1700000000000LL;
	int run, nsym;

	if (per_msg < 1 || nmsg < 1) {
		fprintf(stderr, "usage: bench_ingest [TRADES_PER_MESSAGE "
		                "[MESSAGES]]\n");
		return 2;
	}
	config_init(&cfg);
	memset(&lim, 0, sizeof(lim));
	lim.retention_bytes = 64 << 20;
	lim.segment_bytes = 1 << 20;
	lim.max_batch_bytes = 16 << 20;
	lim.default_partitions = 4;
	if (seglog_new(&lim, NULL, &sl) != 0 ||
	    seglog_topic_create(sl, "trades", 6, 4, &topic) != 0) {
		fprintf(stderr, "cannot create the log\n");
		return 1;
	}
	in = feed_ingest_new(topic);
	/* The daemon's default symbols. */
	nsym = cfg.nsymbols;
	m = feed_sim_new((const char *const *)cfg.symbols, nsym, 42);
	if (m == NULL) {
		fprintf(stderr, "cannot create the sim market\n");
		return 1;
	}
	wbuf_init(&all, 0);
	off = calloc((size_t)nmsg + 1, sizeof(*off));
	for (i = 0; i < (size_t)nmsg; i++) {
		off[i] = all.len;
		now_ms += 1;
		ntrades += (int64_t)feed_sim_frame(m, now_ms, per_msg, &all);
	}
	off[nmsg] = all.len;
	total_bytes = all.len;
	if (all.err != 0) {
		fprintf(stderr, "out of memory generating messages\n");
		return 1;
	}
	for (run = 0; run < BENCH_RUNS; run++) {
		uint64_t before = stats.feed_trades_total;

		t0 = now_s();
		for (i = 0; i < (size_t)nmsg; i++) {
			feed_ingest_message(in, all.buf + off[i],
			    off[i + 1] - off[i], now_ms * 1000);
			if ((i & 1023) == 0)
				seglog_expire(sl, now_ms);
		}
		t = now_s() - t0;
		if ((int64_t)(stats.feed_trades_total - before) != ntrades) {
			fprintf(stderr, "only %llu of %lld trades appended\n",
			    (unsigned long long)(stats.feed_trades_total -
			                         before),
			    (long long)ntrades);
			return 1;
		}
		times[run] = t;
	}
	qsort(times, BENCH_RUNS, sizeof(times[0]), cmp_double);
	printf("feed parse+append: %d trades/message, %lld trades, "
	       "%.1f MB of JSON\n",
	    per_msg, (long long)ntrades, (double)total_bytes / 1e6);
	/* The median run, and the spread: never the best run alone. */
	printf("median of %d: %.3f s  %.0f trades/s  %.1f ns/trade  %.0f MB/s "
	       "(runs %.0f .. %.0f trades/s)\n",
	    BENCH_RUNS, times[BENCH_RUNS / 2],
	    (double)ntrades / times[BENCH_RUNS / 2],
	    times[BENCH_RUNS / 2] * 1e9 / (double)ntrades,
	    (double)total_bytes / times[BENCH_RUNS / 2] / 1e6,
	    (double)ntrades / times[BENCH_RUNS - 1],
	    (double)ntrades / times[0]);
	printf(
	    "RESULT ingest trades_per_msg=%d trades_per_s=%.0f ns_per_trade=%.1f\n",
	    per_msg, (double)ntrades / times[BENCH_RUNS / 2],
	    times[BENCH_RUNS / 2] * 1e9 / (double)ntrades);
	feed_ingest_free(in);
	seglog_free(sl);
	feed_sim_free(m);
	wbuf_fini(&all);
	free(off);
	config_fini(&cfg);
	return 0;
}
