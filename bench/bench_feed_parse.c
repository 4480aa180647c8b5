/*
 * bench_feed_parse.c: (1) the feed's scanner alone: Finnhub trade
 * messages through feed_decode(), no log, no network.
 *
 *	bench/bench_feed_parse [TRADES_PER_MESSAGE [MESSAGES]]
 *
 * The messages come from the sim market (generated before timing, not
 * timed), 10 trades each by default.  Prints the median of 5 runs in
 * trades/s and MB/s of JSON.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "proto/feed.h"
#include "proto/wbuf.h"
#include "server/config.h"
#include "server/feed/feed_sim.h"

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
	int nmsg = argc > 2 ? atoi(argv[2]) : 100000;
	struct feed_trade *trades = NULL;
	struct feed_sim *m = NULL;
	struct feed_msg msg;
	struct config cfg;
	struct wbuf all;
	char *scratch = NULL;
	size_t *off = NULL, i, maxlen = 0, maxtrades, err_off;
	double times[BENCH_RUNS], t0, t, psum = 0;
	int64_t ntrades = 0, nvalid, now_ms = 1700000000000LL;
	int run, nsym, rc = 1;

	wbuf_init(&all, 0);
	if (per_msg < 1 || nmsg < 1) {
		fprintf(stderr, "usage: bench_feed_parse [TRADES_PER_MESSAGE "
		                "[MESSAGES]]\n");
		return 2;
	}
	config_init(&cfg); /* the daemon's default symbols */
	nsym = cfg.nsymbols;
	if ((m = feed_sim_new((const char *const *)cfg.symbols, nsym, 42)) ==
	        NULL ||
	    (off = calloc((size_t)nmsg + 1, sizeof(*off))) == NULL) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	for (i = 0; i < (size_t)nmsg; i++) {
		off[i] = all.len;
		now_ms += 1;
		ntrades += (int64_t)feed_sim_frame(m, now_ms, per_msg, &all);
		if (all.len - off[i] > maxlen)
			maxlen = all.len - off[i];
	}
	off[nmsg] = all.len;
	if (all.err != 0) {
		fprintf(stderr, "out of memory generating messages\n");
		goto out;
	}
	/* Sized as the daemon sizes them: from the message length. */
	maxtrades = maxlen / FEED_MIN_TRADE_BYTES + 1;
	trades = calloc(maxtrades, sizeof(*trades));
	scratch = malloc(maxlen);
	if (trades == NULL || scratch == NULL) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	for (run = 0; run < BENCH_RUNS; run++) {
		nvalid = 0;
		t0 = now_s();
		for (i = 0; i < (size_t)nmsg; i++) {
			int r = feed_decode(all.buf + off[i],
			    off[i + 1] - off[i], &msg, trades, maxtrades,
			    scratch, maxlen, &err_off);

			if (r < 0) {
				fprintf(stderr, "message %zu: %s at %zu\n", i,
				    err_str(r), err_off);
				goto out;
			}
			nvalid += (int64_t)msg.nvalid;
			psum += trades[0].p;
		}
		t = now_s() - t0;
		if (nvalid != ntrades) {
			fprintf(stderr, "only %lld of %lld trades valid\n",
			    (long long)nvalid, (long long)ntrades);
			goto out;
		}
		times[run] = t;
	}
	qsort(times, BENCH_RUNS, sizeof(times[0]), cmp_double);
	printf("feed parse: %d trades/message, %lld trades, %.1f MB of JSON "
	       "(%.0f bytes/trade)\n",
	    per_msg, (long long)ntrades, (double)all.len / 1e6,
	    (double)all.len / (double)ntrades);
	/* The median run, and the spread: never the best run alone. */
	t = times[BENCH_RUNS / 2];
	printf("median of %d: %.3f s  %.0f trades/s  %.1f ns/trade  %.0f MB/s"
	       "  (runs %.0f .. %.0f trades/s; checksum %.0f)\n",
	    BENCH_RUNS, t, (double)ntrades / t, t * 1e9 / (double)ntrades,
	    (double)all.len / t / 1e6, (double)ntrades / times[BENCH_RUNS - 1],
	    (double)ntrades / times[0], psum / BENCH_RUNS);
	printf("RESULT parse trades_per_msg=%d trades_per_s=%.0f "
	       "ns_per_trade=%.1f\n",
	    per_msg, (double)ntrades / t, t * 1e9 / (double)ntrades);
	rc = 0;
out:
	feed_sim_free(m);
	config_fini(&cfg);
	wbuf_fini(&all);
	free(off);
	free(trades);
	free(scratch);
	return rc;
}
