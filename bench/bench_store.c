/*
 * bench_store.c: (3)(4) a synthetic day into the store, then scans.
 *
 *	bench/bench_store [-n TRADES] [-s SYMBOLS] [-k TRADES_PER_MESSAGE]
 *	                  [-d DIR] [-f always|never] [-r SCAN_RUNS]
 *	                  [-c COMPACT_ROWS]
 *
 * The day: TRADES (20,000,000) trades of the sim market over SYMBOLS (10:
 * 6 US stocks, 4 crypto pairs) spread evenly over 24 hours of market
 * time, in Finnhub messages of -k trades, through the daemon's own path:
 * feed_ingest_message into the log (not timed: the feed's benchmarks
 * measure it), then the aggregator (server/agg, timed), a seal every
 * second of market time as store_flush_ms 1000 does live, and the
 * writer thread (server/store/store_writer: encoding, tail, commits,
 * compaction every hour of market time or sooner at -c rows
 * (store_compact_rows: 262144), fsync per flush unless -f never).  Flushes are group-committed as in the daemon: one in
 * flight, the chunks sealed meanwhile go with the next.
 *
 * Printed: trades/s of store work per core (trades / (the aggregator's
 * CPU time + the writer thread's CPU time)), each part in ns/trade, bytes
 * on disk per trade (every file of the store), then the scan of the whole
 * day's bars for every symbol at 1000 buckets (87 s buckets: the 1 s
 * level) and at colstore_pick_bucket's bucket for 1000 points (120 s: the
 * 60 s level), of 6 hours at 1000 points (30 s: the 10 s level, alone
 * and as 3 panels), and the newest 1000 trades, each as p50/p99 over -r runs
 * (200), with what the last hourly compaction left still in memory, as
 * live; then bytes per trade again after a final compaction.
 */
#include <config.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/membudget.h"
#include "proto/wbuf.h"
#include "server/agg/agg.h"
#include "server/config.h"
#include "server/feed/feed_ingest.h"
#include "server/feed/feed_sim.h"
#include "server/store/store_writer.h"
#include "storage/agg_window.h"
#include "storage/colfile.h"
#include "storage/colstore.h"
#include "storage/seglog.h"

#define DAY_MS 86400000LL
#define SLICE  600 /* market seconds per slice */

static const char *const all_syms[] = {"AAPL", "MSFT", "NVDA", "TSLA", "AMZN",
    "META", "BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "BINANCE:SOLUSDT",
    "BINANCE:XRPUSDT", "GOOGL", "AMD", "NFLX", "INTC", "JPM", "V"};

struct bench {
	struct colstore *cs;
	struct store_writer *sw;
	struct agg_chunk **unflushed;
	uint64_t *seqs;
	size_t n, cap;
	uint64_t next_seq;
	int inflight;
	uint64_t flushes, compactions, errors;
	int64_t flush_us, compact_us;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
process_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
submit(struct bench *b, int64_t now_ms)
{
	if (b->inflight || b->n == 0)
		return;
	store_writer_flush(b->sw, b->unflushed, b->seqs, b->n, now_ms);
	b->inflight = 1;
}

static void
on_done(void *arg, int kind, struct colstore_done *d)
{
	struct bench *b = arg;
	size_t i, k;

	if (kind == STORE_JOB_FLUSH) {
		b->inflight = 0;
		if (d->err != 0) {
			b->errors++;
		} else {
			for (i = 0; i < b->n && b->seqs[i] <= d->flushed_upto;
			     i++)
				;
			for (k = 0; i < b->n; i++, k++) {
				b->unflushed[k] = b->unflushed[i];
				b->seqs[k] = b->seqs[i];
			}
			b->n = k;
			b->flushes++;
			b->flush_us += d->flush_us;
		}
	}
	if (d->compacted_upto > 0) {
		b->compactions++;
		b->compact_us += d->compact_us;
	}
	colstore_apply(b->cs, d);
}

static void
seal(struct bench *b, struct agg *a)
{
	struct agg_chunk *c = agg_seal(a);

	if (c == NULL)
		return;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->unflushed =
		    realloc(b->unflushed, b->cap * sizeof(*b->unflushed));
		b->seqs = realloc(b->seqs, b->cap * sizeof(*b->seqs));
	}
	b->unflushed[b->n] = c;
	b->seqs[b->n] = ++b->next_seq;
	colstore_add_chunk(b->cs, c, b->seqs[b->n]);
	b->n++;
}

static uint64_t
dir_bytes(const char *dir)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	uint64_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		n += S_ISDIR(st.st_mode) ? dir_bytes(path)
		                         : (uint64_t)st.st_size;
	}
	closedir(d);
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p50 and p99 (ms) of runs of fn. */
static void
timed(const char *what, int runs,
    int (*fn)(
        struct colstore *, const struct colstore_query *, int64_t, size_t *),
    struct colstore *cs, const struct colstore_query *q, int64_t arg)
{
	double *t = calloc((size_t)runs, sizeof(*t));
	size_t rows = 0;
	int i;

	for (i = 0; i < runs; i++) {
		double t0 = now_s();

		if (fn(cs, q, arg, &rows) != 0) {
			printf("%s: scan failed\n", what);
			free(t);
			return;
		}
		t[i] = (now_s() - t0) * 1e3;
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_double);
	printf("%-58s p50 %7.3f ms  p99 %7.3f ms  (%zu rows)\n", what,
	    t[runs / 2], t[(size_t)(runs * 99 / 100)], rows);
	free(t);
}

/* The stored level a scan at bucket reads: the coarsest that divides
 * it. */
static int64_t
level_of(int64_t bucket)
{
	int level;

	for (level = COLFILE_NLEVELS - 1; level > 0; level--)
		if (bucket % colfile_level_ms[level] == 0)
			break;
	return colfile_level_ms[level];
}

static int
scan_bars(struct colstore *cs, const struct colstore_query *q, int64_t bucket,
    size_t *rows)
{
	struct colstore_result *r;
	size_t i;

	if (colstore_scan_bars(cs, q, bucket, &r) != 0)
		return -1;
	for (*rows = 0, i = 0; i < r->nseries; i++)
		*rows += r->series[i].n;
	colstore_result_free(r);
	return 0;
}

static int
scan_bars3(struct colstore *cs, const struct colstore_query *q, int64_t bucket,
    size_t *rows)
{
	int i;

	for (i = 0; i < 3; i++)
		if (scan_bars(cs, q, bucket, rows) != 0)
			return -1;
	return 0;
}

static int
latest(struct colstore *cs, const struct colstore_query *q, int64_t n,
    size_t *rows)
{
	struct colstore_result *r;

	if (colstore_latest_trades(cs, q, (size_t)n, &r) != 0)
		return -1;
	*rows = r->series[0].n;
	colstore_result_free(r);
	return 0;
}

int
main(int argc, char **argv)
{
	int64_t ntrades = 20000000, day0 = 19900 * DAY_MS, sec, done = 0;
	int nsym = 10, per_msg = 5, runs = 200, fsync_on = 1, ch;
	const char *dir = NULL;
	char tmpl[256], store_dir[512], cmd[600];
	struct seglog_limits lim;
	struct seglog *sl;
	struct seglog_topic *topic;
	struct feed_ingest *in;
	struct feed_sim *m;
	struct agg_window *w;
	struct agg *a;
	struct colstore_opts o;
	struct colstore_recovery rec;
	struct colstore_writer *wr;
	struct store_writer_cb cb;
	struct colfile_file *files;
	struct event_base *base;
	struct config cfg;
	struct bench b;
	struct wbuf msg;
	size_t nfiles;
	uint32_t fl[2];
	double agg_cpu = 0, t0, wall0, cpu0, main0, writer_cpu, wall;
	uint64_t bytes, compact_rows = 0;

	while ((ch = getopt(argc, argv, "n:s:k:d:f:r:c:")) != -1) {
		switch (ch) {
		case 'n':
			ntrades = atoll(optarg);
			break;
		case 's':
			nsym = atoi(optarg);
			break;
		case 'k':
			per_msg = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
			fsync_on = strcmp(optarg, "never") != 0;
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'c':
			compact_rows = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_store [-n TRADES] [-s "
			                "SYMBOLS] [-k PER_MSG] [-d DIR] [-f "
			                "always|never] [-r RUNS] [-c "
			                "COMPACT_ROWS]\n");
			return 2;
		}
	}
	if (nsym < 1 || nsym > 16 || per_msg < 1 || ntrades < 1000 || runs < 1)
		return 2;
	if (dir == NULL) {
		snprintf(tmpl, sizeof(tmpl), "%s/bench_store.XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if ((dir = mkdtemp(tmpl)) == NULL)
			return 1;
	}
	snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
	config_init(&cfg);
	membudget_init(&membudget_global, 0);
	base = event_base_new();
	memset(&lim, 0, sizeof(lim));
	lim.retention_bytes = 256 << 20;
	lim.segment_bytes = 1 << 20;
	lim.max_batch_bytes = 16 << 20;
	lim.default_partitions = 4;
	if (seglog_new(&lim, NULL, &sl) != 0 ||
	    seglog_topic_create(sl, "trades", 6, 4, &topic) != 0)
		return 1;
	in = feed_ingest_new(topic);
	m = feed_sim_new(all_syms, nsym, 42);
	w = agg_window_new(&membudget_global);
	a = agg_new(base, &cfg, topic, w, NULL, NULL, 0, 0, 0);
	memset(&o, 0, sizeof(o));
	o.dir = store_dir;
	o.fsync = fsync_on;
	o.topic = "trades";
	o.compact_rows = compact_rows;
	if (colstore_writer_open(&o, &rec, &wr) != 0)
		return 1;
	colstore_writer_files(wr, &files, &nfiles, fl);
	memset(&b, 0, sizeof(b));
	b.cs = colstore_new(&o, files, nfiles, fl, w);
	free(files);
	memset(&cb, 0, sizeof(cb));
	cb.done = on_done;
	cb.arg = &b;
	if (store_writer_start(base, wr, &cb, &b.sw) != 0)
		return 1;
	wbuf_init(&msg, 0);
	printf("store: %lld trades over %d symbols, %d per message, one "
	       "market day (%s), fsync %s\n",
	    (long long)ntrades, nsym, per_msg, store_dir,
	    fsync_on ? "on" : "off");
	wall0 = now_s();
	cpu0 = process_cpu_s();
	main0 = thread_cpu_s();
	/* In slices of SLICE market seconds: the slice's messages into the
	 * log (not timed), then the aggregator over them with a seal per
	 * market second's worth of trades (timed: CPU of this thread). */
	for (sec = 0; sec < 86400; sec += SLICE) {
		int64_t s, per[SLICE];

		for (s = 0; s < SLICE; s++) {
			int64_t want = ntrades * (sec + s + 1) / 86400 - done;
			int64_t k, nm = (want + per_msg - 1) / per_msg;

			per[s] = want;
			for (k = 0; k < nm && want > 0; k++) {
				int n = want < per_msg ? (int)want : per_msg;
				int64_t at = day0 + (sec + s) * 1000 +
				             (k + 1) * 1000 / (nm + 1);

				wbuf_reset(&msg);
				feed_sim_frame(m, at, n, &msg);
				feed_ingest_message(
				    in, msg.buf, msg.len, at * 1000);
				want -= n;
				done += n;
			}
		}
		t0 = thread_cpu_s();
		for (s = 0; s < SLICE; s++) {
			agg_step(a, (uint64_t)per[s]);
			seal(&b, a);
			submit(&b, day0 + (sec + s + 1) * 1000);
			event_base_loop(base, EVLOOP_NONBLOCK);
		}
		agg_drain(a);
		agg_cpu += thread_cpu_s() - t0;
		seglog_expire(sl, day0 + (sec + SLICE) * 1000);
	}
	/* The last flushes at the last second: what the last hourly
	 * compaction left stays in memory, as it would live. */
	while (b.n > 0 || b.inflight) {
		store_writer_drain(b.sw);
		submit(&b, day0 + DAY_MS - 1000);
	}
	wall = now_s() - wall0;
	writer_cpu = (process_cpu_s() - cpu0) - (thread_cpu_s() - main0);
	bytes = dir_bytes(store_dir);
	printf("aggregator: %.1f ns/trade (CPU of the loop thread: record "
	       "decode, window, seals, completions)\n",
	    agg_cpu * 1e9 / (double)done);
	printf("writer:     %.1f ns/trade (CPU of the writer thread: "
	       "encoding, writes, %s, %llu flushes, %llu compactions)\n",
	    writer_cpu * 1e9 / (double)done, fsync_on ? "fsyncs" : "no fsync",
	    (unsigned long long)b.flushes, (unsigned long long)b.compactions);
	printf("store work: %.0f trades/s per core  (%lld trades, %.2f s of "
	       "CPU; the whole run, feed included, took %.1f s)\n",
	    (double)done / (agg_cpu + writer_cpu), (long long)done,
	    agg_cpu + writer_cpu, wall);
	printf("on disk:    %.3f bytes/trade  (%llu bytes: day files, the "
	       "last hour's tail, commits; %llu errors)\n",
	    (double)bytes / (double)done, (unsigned long long)bytes,
	    (unsigned long long)b.errors);
	{
		struct colstore_query q = {
		    all_syms, (size_t)nsym, day0, day0 + DAY_MS};
		struct colstore_query q6 = {all_syms, (size_t)nsym,
		    day0 + 12 * 3600000LL, day0 + 18 * 3600000LL};
		int64_t pick = colstore_pick_bucket(DAY_MS, 1000);
		int64_t pick6 = colstore_pick_bucket(6 * 3600000LL, 1000);
		char what[128];

		snprintf(what, sizeof(what),
		    "bars, whole day, %d symbols, 1000 x 87 s (1 s level)",
		    nsym);
		timed(what, runs, scan_bars, b.cs, &q, 87000);
		snprintf(what, sizeof(what),
		    "bars, whole day, %d symbols, %lld s (%lld s level)", nsym,
		    (long long)(pick / 1000),
		    (long long)(level_of(pick) / 1000));
		timed(what, runs, scan_bars, b.cs, &q, pick);
		snprintf(what, sizeof(what),
		    "3 panels: 3 such scans, %lld s buckets",
		    (long long)(pick / 1000));
		timed(what, runs, scan_bars3, b.cs, &q, pick);
		snprintf(what, sizeof(what),
		    "bars, 6 hours, %d symbols, %lld s (%lld s level)", nsym,
		    (long long)(pick6 / 1000),
		    (long long)(level_of(pick6) / 1000));
		timed(what, runs, scan_bars, b.cs, &q6, pick6);
		snprintf(what, sizeof(what),
		    "3 panels: 3 such scans, %lld s buckets",
		    (long long)(pick6 / 1000));
		timed(what, runs, scan_bars3, b.cs, &q6, pick6);
		timed("newest 1000 trades of all symbols", runs, latest, b.cs,
		    &q, 1000);
	}
	printf("(scans above: with %zu chunks, %.0f minutes of trades, still "
	       "in memory since the last compaction, as live)\n",
	    colstore_chunks(b.cs), (double)colstore_chunks(b.cs) / 60.0);
	store_writer_compact(b.sw);
	store_writer_drain(b.sw);
	bytes = dir_bytes(store_dir);
	printf("compacted:  %.3f bytes/trade  (%llu bytes: trades, bars at "
	       "1 s, 10 s, 60 s and 3600 s, commits)\n",
	    (double)bytes / (double)done, (unsigned long long)bytes);
	{
		char tp[600];

		snprintf(tp, sizeof(tp), "%s/trades", store_dir);
		printf(
		    "            %.3f bytes/trade in the trades table alone\n",
		    (double)dir_bytes(tp) / (double)done);
	}
	store_writer_stop(b.sw);
	colstore_free(b.cs);
	colstore_writer_close(wr);
	colstore_recovery_fini(&rec);
	agg_free(a);
	agg_window_free(w);
	feed_ingest_free(in);
	feed_sim_free(m);
	seglog_free(sl);
	event_base_free(base);
	wbuf_fini(&msg);
	free(b.unflushed);
	free(b.seqs);
	config_fini(&cfg);
	if (dir == tmpl) { /* ours: remove it */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return 0;
}
