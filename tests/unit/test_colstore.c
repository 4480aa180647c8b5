/*
 * test_colstore.c: (4) the column store (storage/colstore*.c) end to end
 * without threads: trades through the window, flushes, compactions and
 * restarts, with every scan compared against a brute-force recomputation
 * from the trades themselves; torn tails and uncommitted files cut at
 * open; write, fsync and torn-write faults that leave the store as of
 * the last commit and let the same flush succeed when retried; retention;
 * the newest-first scan; verify and dump.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/membudget.h"
#include "base/xorshift.h"
#include "proto/decnum.h"
#include "storage/agg_window.h"
#include "storage/colstore.h"
#include "storage/colstore_int.h"
#include "storage/osfile.h"
#include "tests/lib/tap.h"

#define DAY   86400000LL
#define T0    (19700 * DAY + DAY - 20 * 60 * 1000) /* 20 min to midnight */
#define NSYM  3
#define MAXTR 40000

static const char *const symbols[NSYM] = {
    "AAPL", "BINANCE:BTCUSDT", "OANDA:EUR_USD"};
static const char *const conds[] = {"[\"1\",\"24\",\"12\"]", "[\"1\"]"};

/* Every trade added, in arrival order: the reference. */
struct ref {
	int sym;
	int64_t t;
	struct decnum p, v;
	int cond; /* -1 null */
};
static struct ref all[MAXTR];
static size_t nall;

static char dir[512];
static struct membudget mb;
static uint64_t seed = 77;

struct env {
	struct colstore_opts o;
	struct colstore_writer *wr;
	struct colstore *cs;
	struct agg_window *w;
	uint64_t seq;
	int64_t offset; /* a fake log offset: one per trade */
	struct colstore_recovery rec;
};

static void
env_open(struct env *e, uint64_t compact_rows)
{
	struct colfile_file *files;
	size_t nfiles;
	uint32_t fl[2];
	int rc;

	memset(&e->o, 0, sizeof(e->o));
	e->o.dir = dir;
	e->o.fsync = 1;
	e->o.topic = "trades";
	e->o.compact_rows = compact_rows;
	e->o.compact_ms = INT64_MAX / 4;
	e->o.mb = &mb;
	colstore_recovery_fini(&e->rec);
	rc = colstore_writer_open(&e->o, &e->rec, &e->wr);
	if (rc != 0) {
		diag("open: %s", err_str(rc));
		exit(1);
	}
	e->offset = e->rec.nparts > 0 ? e->rec.offsets[0] : 0;
	e->w = agg_window_new(&mb);
	colstore_writer_files(e->wr, &files, &nfiles, fl);
	e->cs = colstore_new(&e->o, files, nfiles, fl, e->w);
	free(files);
}

static void
env_close(struct env *e)
{
	colstore_free(e->cs);
	agg_window_free(e->w);
	colstore_writer_close(e->wr);
	colstore_recovery_fini(&e->rec);
	e->cs = NULL;
	e->w = NULL;
	e->wr = NULL;
}

static struct decnum
dn(const char *s)
{
	struct decnum v;

	if (decnum_parse(s, strlen(s), &v) != 0)
		abort();
	return v;
}

/* Add n random trades (some late, many tied) after time *now. */
static void
add_trades(struct env *e, size_t n, int64_t *now)
{
	size_t i;

	for (i = 0; i < n && nall < MAXTR; i++) {
		struct ref *r = &all[nall];
		struct agg_trade tr;
		char p[32], v[32];

		r->sym = (int)(xorshift64s(&seed) % NSYM);
		*now += (int64_t)(xorshift64s(&seed) % 3) *
		        (int64_t)(xorshift64s(&seed) % 300);
		r->t = *now;
		if (xorshift64s(&seed) % 50 == 0) /* late: up to 90 s */
			r->t -= (int64_t)(xorshift64s(&seed) % 90000);
		snprintf(p, sizeof(p), "%d.%02d", 100 + r->sym * 1000,
		    (int)(xorshift64s(&seed) % 100));
		if (r->sym == 2)
			snprintf(v, sizeof(v), "0");
		else
			snprintf(v, sizeof(v), "%d.%03d",
			    (int)(xorshift64s(&seed) % 50),
			    (int)(xorshift64s(&seed) % 1000));
		r->p = dn(p);
		r->v = dn(v);
		r->cond = r->sym == 0 ? (int)(xorshift64s(&seed) % 2) : -1;
		tr.sym = symbols[r->sym];
		tr.symlen = strlen(tr.sym);
		tr.t = r->t;
		tr.price = r->p;
		tr.volume = r->v;
		tr.cond = r->cond >= 0 ? (const uint8_t *)conds[r->cond] : NULL;
		tr.condlen =
		    r->cond >= 0 ? (int32_t)strlen(conds[r->cond]) : -1;
		if (agg_window_add(e->w, &tr) != 0)
			abort();
		nall++;
		e->offset++;
	}
}

/* Seal and flush; returns the flush's error. */
static int
flush(struct env *e, int64_t now)
{
	struct agg_chunk *c = agg_window_seal(e->w);
	struct colstore_done d;
	int rc;

	if (c == NULL)
		return 0;
	c->noffsets = 1;
	c->offsets = malloc(sizeof(*c->offsets));
	c->offsets[0] = e->offset;
	colstore_add_chunk(e->cs, c, ++e->seq);
	memset(&d, 0, sizeof(d));
	rc = colstore_writer_flush(e->wr, &c, &e->seq, 1, now, &d);
	colstore_apply(e->cs, &d);
	return rc;
}

/* Flush chunks the reader already holds (after a failed flush). */
static int
reflush(struct env *e, struct agg_chunk *c, uint64_t seq, int64_t now)
{
	struct colstore_done d;
	int rc;

	memset(&d, 0, sizeof(d));
	rc = colstore_writer_flush(e->wr, &c, &seq, 1, now, &d);
	colstore_apply(e->cs, &d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The reference, by brute force from all[] */

static int
same_double(double a, double b)
{
	return a == b || fabs(a - b) <= 1e-9 * fabs(b);
}

/* Check a trades scan of one symbol over [from, to) against all[]. */
static int
check_trades(struct env *e, int sym, int64_t from, int64_t to)
{
	const char *names[1] = {symbols[sym]};
	struct colstore_query q = {names, 1, from, to};
	struct colstore_result *r;
	struct colstore_series *s;
	size_t *ix, n = 0, i, j, k;
	int good = 1;

	if (colstore_scan_trades(e->cs, &q, &r) != 0)
		return 0;
	s = &r->series[0];
	ix = malloc((nall + 1) * sizeof(*ix));
	for (i = 0; i < nall; i++)
		if (all[i].sym == sym && all[i].t >= from && all[i].t < to)
			ix[n++] = i;
	/* Stable insertion by t: arrival order among ties. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && all[ix[j - 1]].t > all[ix[j]].t; j--) {
			k = ix[j];
			ix[j] = ix[j - 1];
			ix[j - 1] = k;
		}
	if (s->n != n) {
		diag("  %s: %zu trades, want %zu", names[0], s->n, n);
		good = 0;
	}
	for (i = 0; good && i < n; i++) {
		const struct ref *rf = &all[ix[i]];

		good = s->t[i] == rf->t &&
		       s->price[i] == decnum_to_double(rf->p) &&
		       s->volume[i] == decnum_to_double(rf->v) &&
		       (rf->cond < 0 ? s->cond[i].len == -1
		                     : s->cond[i].len == (int32_t)strlen(
		                                             conds[rf->cond]) &&
		                           memcmp(s->cond[i].p, conds[rf->cond],
		                               strlen(conds[rf->cond])) == 0);
		if (!good)
			diag("  %s: row %zu differs (t %lld vs %lld)", names[0],
			    i, (long long)s->t[i], (long long)rf->t);
	}
	free(ix);
	colstore_result_free(r);
	return good;
}

/* Check bars of one symbol at bucket b over [from, to). */
static int
check_bars(struct env *e, int sym, int64_t bucket, int64_t from, int64_t to,
    int *levelp)
{
	const char *names[1] = {symbols[sym]};
	struct colstore_query q = {names, 1, from, to};
	struct colstore_result *r;
	struct colstore_series *s;
	int64_t start = from - from % bucket, end;
	size_t nb, i, k = 0;
	struct agg_bar *ref;
	int good = 1;

	if (colstore_scan_bars(e->cs, &q, bucket, &r) != 0)
		return 0;
	*levelp = r->level;
	s = &r->series[0];
	nb = (size_t)((to - start + bucket - 1) / bucket);
	end = start + (int64_t)nb * bucket;
	ref = calloc(nb, sizeof(*ref));
	for (i = 0; i < nb; i++)
		agg_bar_init(&ref[i], start + (int64_t)i * bucket);
	/* Independent of the window code's merge: add trades in arrival
	 * order (agg_bar_add is tested against brute force elsewhere). */
	for (i = 0; i < nall; i++)
		if (all[i].sym == sym && all[i].t >= start && all[i].t < end)
			agg_bar_add(&ref[(all[i].t - start) / bucket], all[i].t,
			    all[i].p, all[i].v);
	for (i = 0; i < nb && good; i++) {
		const struct agg_bar *b = &ref[i];
		double vw, rvw;
		int hv, rhv;

		if (b->count == 0)
			continue;
		if (k >= s->n || s->t[k] != b->t) {
			diag("  %s bucket %lld missing", names[0],
			    (long long)b->t);
			good = 0;
			break;
		}
		hv = colstore_bar_vwap(s, k, &vw);
		rhv = !decacc_is_zero(&b->volume);
		rvw =
		    rhv ? decacc_double(&b->pv) / decacc_double(&b->volume) : 0;
		good = s->open[k] == decnum_to_double(b->open) &&
		       s->close[k] == decnum_to_double(b->close) &&
		       s->high[k] == decnum_to_double(b->high) &&
		       s->low[k] == decnum_to_double(b->low) &&
		       s->count[k] == b->count &&
		       s->volume[k] == decacc_double(&b->volume) &&
		       s->pv[k] == decacc_double(&b->pv) && hv == rhv &&
		       (!hv || same_double(vw, rvw));
		if (!good)
			diag("  %s bucket %lld differs: count %llu vs %llu, "
			     "open %g vs %g, close %g vs %g",
			    names[0], (long long)b->t,
			    (unsigned long long)s->count[k],
			    (unsigned long long)b->count, s->open[k],
			    decnum_to_double(b->open), s->close[k],
			    decnum_to_double(b->close));
		k++;
	}
	if (good && k != s->n) {
		diag("  %s: %zu extra buckets", names[0], s->n - k);
		good = 0;
	}
	free(ref);
	colstore_result_free(r);
	return good;
}

static int
check_all(struct env *e, const char *when)
{
	static const int64_t buckets[] = {
	    1000, 5000, 10000, 30000, 60000, 120000, 3600000};
	int sym, good = 1, level, levels = 0;
	size_t b;

	for (sym = 0; sym < NSYM; sym++) {
		good &= check_trades(e, sym, T0 - DAY, T0 + 2 * DAY);
		good &= check_trades(e, sym, T0 + 600000, T0 + 1500000);
		for (b = 0; b < sizeof(buckets) / sizeof(buckets[0]); b++) {
			good &= check_bars(e, sym, buckets[b], T0 - 3600000,
			    T0 + 2 * 3600000, &level);
			levels |= 1 << level;
			good &= check_bars(e, sym, buckets[b], T0 + 1234567,
			    T0 + 1834567, &level);
		}
	}
	ok(good && levels == 15,
	    "%s: trades and bars (1 s, 5 s, 10 s, 30 s, 60 s, 120 s, 1 h; "
	    "levels read "
	    "%d) equal a recomputation from %zu trades",
	    when, levels, nall);
	return good;
}

/* ------------------------------------------------------------------ */

static void
test_flush_compact_restart(void)
{
	struct env e;
	int64_t now = T0;
	int round, bad = 0;

	memset(&e, 0, sizeof(e));
	env_open(&e, 3000);
	ok(e.rec.fresh && e.rec.commit_seq == 1, "a new store: commit 1");
	for (round = 0; round < 30; round++) {
		add_trades(&e, 200 + (size_t)(xorshift64s(&seed) % 400), &now);
		bad += flush(&e, now) != 0;
	}
	is_int(bad, 0, "30 flushes (with compactions)");
	add_trades(&e, 300, &now); /* left in the window */
	check_all(&e, "live (day files, chunks, window)");
	{
		struct colstore_done d;

		memset(&d, 0, sizeof(d));
		flush(&e, now);
		is_int(colstore_writer_compact(e.wr, &d), 0, "compact all");
		colstore_apply(e.cs, &d);
	}
	check_all(&e, "all compacted");
	env_close(&e);
	env_open(&e, 3000);
	ok(!e.rec.fresh && e.rec.offsets != NULL && e.rec.nparts == 1 &&
	        e.rec.offsets[0] == (int64_t)nall,
	    "restart: the offsets resume after the last trade (%lld)",
	    e.rec.nparts ? (long long)e.rec.offsets[0] : -1LL);
	is_int(e.rec.trades, nall, "the totals: every trade stored");
	check_all(&e, "after a restart");
	/* A restart with a tail: flushed but not compacted. */
	add_trades(&e, 500, &now);
	flush(&e, now);
	env_close(&e);
	env_open(&e, 3000);
	ok(e.rec.tail_rows > 0,
	    "restart with a tail: %llu rows compacted at "
	    "open",
	    (unsigned long long)e.rec.tail_rows);
	check_all(&e, "after a restart with a tail");
	{
		FILE *fp = tmpfile();

		is_int(colstore_verify(dir, fp), 0, "verify: OK");
		fclose(fp);
	}
	env_close(&e);
}

static void
put_bytes(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0640);

	if (fd < 0 || pwrite(fd, p, n, (off_t)off) != (ssize_t)n)
		abort();
	close(fd);
}

static int64_t
file_size(const char *path)
{
	int fd = open(path, O_RDONLY);
	int64_t n;

	if (fd < 0)
		return -1;
	n = lseek(fd, 0, SEEK_END);
	close(fd);
	return n;
}

/* Chunks let go by the reader, kept here until the test frees them. */
struct released {
	struct agg_chunk *c[64];
	size_t n;
};

static void
keep_released(void *arg, struct agg_chunk *c)
{
	struct released *r = arg;

	if (r->n == 64)
		abort();
	r->c[r->n++] = c;
}

/*
 * colstore_set_release: the chunks a compaction took out of memory go to
 * the release function, each once, none still held; the reader answers
 * from the day files without them, also once they are freed.
 */
static void
test_release(void)
{
	struct env e;
	struct released r;
	int64_t now = T0 + 5 * 3600000;
	size_t i;
	int round, bad = 0;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	env_open(&e, 1000);
	colstore_set_release(e.cs, keep_released, &r);
	for (round = 0; round < 6; round++) {
		add_trades(&e, 300, &now);
		bad += flush(&e, now) != 0;
	}
	is_int(bad, 0, "6 flushes");
	ok(r.n > 0 && r.n + colstore_chunks(e.cs) == 6,
	    "compactions let %zu chunks go, %zu held", r.n,
	    colstore_chunks(e.cs));
	for (i = 0; i < r.n; i++)
		ok(r.c[i] != NULL && (i == 0 || r.c[i] != r.c[i - 1]),
		    "released chunk %zu", i);
	check_all(&e, "answers with the released chunks still allocated");
	for (i = 0; i < r.n; i++)
		agg_chunk_free(r.c[i]);
	check_all(&e, "answers once they are freed");
	env_close(&e);
}

static void
test_torn(void)
{
	char path[COLSTORE_PATH_MAX], name[16], line[4096];
	struct env e;
	int64_t now = T0 + 3 * 3600000, before;
	uint8_t junk[777];
	FILE *fp;
	int found;

	memset(junk, 0xa5, sizeof(junk));
	memset(&e, 0, sizeof(e));
	env_open(&e, 1000000);
	add_trades(&e, 400, &now);
	flush(&e, now);
	env_close(&e);
	/* A crash mid-flush: junk past the committed tail, a day file with
	 * junk past its end, a tail of a newer generation, and a day file
	 * no commit names. */
	{
		int64_t g;

		/* The tail generation in force is the only tail.* file. */
		for (g = 1; g < 100; g++) {
			colstore_tail_path(dir, (uint64_t)g, path);
			if (file_size(path) >= 0)
				break;
		}
	}
	before = file_size(path);
	put_bytes(path, (uint64_t)before, junk, sizeof(junk));
	colstore_file_path(dir, COLFILE_BARS, 19700, line);
	ok(file_size(line) > 0, "a bars day file exists");
	put_bytes(line, (uint64_t)file_size(line), junk, 100);
	colstore_tail_path(dir, 99, path);
	put_bytes(path, 0, junk, 10);
	colstore_day_name(30000, name);
	snprintf(path, sizeof(path), "%s/trades/%s", dir, name);
	put_bytes(path, 0, junk, 10);
	fp = tmpfile();
	is_int(
	    colstore_verify(dir, fp), 0, "verify: a torn tail is not damage");
	rewind(fp);
	found = 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		found += strstr(line, "the next start cuts") != NULL ||
		         strstr(line, "the next start removes") != NULL;
	is_int(found, 4, "verify reports the 4 things the next start undoes");
	fclose(fp);
	env_open(&e, 1000000);
	ok(e.rec.truncated_files == 2 && e.rec.truncated_bytes == 877 &&
	        e.rec.removed_files == 2 && !e.rec.damaged,
	    "open cut 2 files (%zu, %llu bytes) and removed 2 (%zu): %s",
	    e.rec.truncated_files, (unsigned long long)e.rec.truncated_bytes,
	    e.rec.removed_files, e.rec.detail);
	check_all(&e, "after a torn tail");
	env_close(&e);
	fp = tmpfile();
	is_int(colstore_verify(dir, fp), 0, "verify after open: OK");
	fclose(fp);
}

static void
test_faults(void)
{
	struct env e;
	int64_t now = T0 + 5 * 3600000;
	struct agg_chunk *c;
	uint64_t seq;
	size_t keep;
	int k, rc;
	static const struct {
		int op, kind;
		const char *what;
	} f[] = {
	    {OSFILE_OP_WRITE, OSFILE_FAULT_FAIL, "the tail write fails"},
	    {OSFILE_OP_WRITE, OSFILE_FAULT_SHORT, "the tail write is torn"},
	    {OSFILE_OP_FSYNC, OSFILE_FAULT_FAIL, "the tail fsync fails"},
	};

	memset(&e, 0, sizeof(e));
	env_open(&e, 1000000);
	for (k = 0; k < 3; k++) {
		keep = nall;
		add_trades(&e, 300, &now);
		c = agg_window_seal(e.w);
		c->noffsets = 1;
		c->offsets = malloc(sizeof(*c->offsets));
		c->offsets[0] = e.offset;
		seq = ++e.seq;
		colstore_add_chunk(e.cs, c, seq);
		osfile_fault_arm(f[k].op, 1, 1, f[k].kind, -EIO);
		{
			struct colstore_done d;

			memset(&d, 0, sizeof(d));
			rc = colstore_writer_flush(e.wr, &c, &seq, 1, now, &d);
			ok(rc != 0 && !d.failed && d.flushed_upto == 0,
			    "%s: the flush fails (%s), the store is not failed",
			    f[k].what, err_str(rc));
			colstore_apply(e.cs, &d);
		}
		{
			FILE *fp = tmpfile();

			is_int(colstore_verify(dir, fp), 0,
			    "%s: the store verifies", f[k].what);
			fclose(fp);
		}
		is_int(reflush(&e, c, seq, now), 0,
		    "%s: the same chunk flushed again", f[k].what);
	}
	/* The commit record lands but its fsync fails (the 2nd fsync of a
	 * flush): the record is made invalid before the tail is cut. */
	add_trades(&e, 300, &now);
	c = agg_window_seal(e.w);
	c->noffsets = 1;
	c->offsets = malloc(sizeof(*c->offsets));
	c->offsets[0] = e.offset;
	seq = ++e.seq;
	colstore_add_chunk(e.cs, c, seq);
	osfile_fault_arm(OSFILE_OP_FSYNC, 2, 1, OSFILE_FAULT_FAIL, -EIO);
	rc = reflush(&e, c, seq, now);
	ok(rc == -EIO, "the commit record's fsync fails: the flush fails");
	{
		FILE *fp = tmpfile();
		char line[512];
		int torn = 0;

		is_int(colstore_verify(dir, fp), 0,
		    "the store verifies: the landed record was invalidated");
		rewind(fp);
		while (fgets(line, sizeof(line), fp) != NULL)
			torn += strstr(line, "torn or damaged") != NULL;
		is_int(torn, 1, "verify: one slot torn (the invalidated one)");
		fclose(fp);
	}
	is_int(reflush(&e, c, seq, now), 0, "retried: it succeeds");
	/* The commit record's own write (the 2nd write of a flush). */
	add_trades(&e, 300, &now);
	c = agg_window_seal(e.w);
	c->noffsets = 1;
	c->offsets = malloc(sizeof(*c->offsets));
	c->offsets[0] = e.offset;
	seq = ++e.seq;
	colstore_add_chunk(e.cs, c, seq);
	osfile_fault_arm(OSFILE_OP_WRITE, 2, 1, OSFILE_FAULT_SHORT, -ENOSPC);
	rc = reflush(&e, c, seq, now);
	ok(rc == -ENOSPC, "a torn commit record: the flush fails");
	is_int(reflush(&e, c, seq, now), 0, "and succeeds when retried");
	osfile_fault_reset();
	/* A compaction whose day-file write fails: retried later. */
	{
		struct colstore_done d;

		memset(&d, 0, sizeof(d));
		osfile_fault_arm(
		    OSFILE_OP_WRITE, 1, 1, OSFILE_FAULT_SHORT, -ENOSPC);
		rc = colstore_writer_compact(e.wr, &d);
		ok(rc != 0 && !d.failed && d.compacted_upto == 0,
		    "a torn compaction write fails cleanly");
		colstore_apply(e.cs, &d);
		osfile_fault_reset();
		check_all(&e, "after faults");
		memset(&d, 0, sizeof(d));
		is_int(
		    colstore_writer_compact(e.wr, &d), 0, "compaction retried");
		colstore_apply(e.cs, &d);
	}
	check_all(&e, "after faults, compacted");
	/* The record's fsync fails and so does making it invalid: nothing
	 * may be cut, the writer is failed; the next open sorts it out.
	 * (One good flush first, so the tail file exists: its creation
	 * would take an fsync of its own.) */
	add_trades(&e, 100, &now);
	is_int(flush(&e, now), 0, "a good flush");
	keep = nall;
	add_trades(&e, 300, &now);
	c = agg_window_seal(e.w);
	c->noffsets = 1;
	c->offsets = malloc(sizeof(*c->offsets));
	c->offsets[0] = e.offset;
	seq = ++e.seq;
	colstore_add_chunk(e.cs, c, seq);
	osfile_fault_arm(OSFILE_OP_FSYNC, 2, 2, OSFILE_FAULT_FAIL, -EIO);
	{
		struct colstore_done d;

		memset(&d, 0, sizeof(d));
		rc = colstore_writer_flush(e.wr, &c, &seq, 1, now, &d);
		ok(rc != 0 && d.failed,
		    "an undo that fails: the writer is failed");
		colstore_apply(e.cs, &d);
		memset(&d, 0, sizeof(d));
		rc = colstore_writer_flush(e.wr, &c, &seq, 1, now, &d);
		ok(rc != 0 && d.failed, "and refuses more work");
		colstore_apply(e.cs, &d);
	}
	osfile_fault_reset();
	nall = keep; /* those trades are not in the store */
	e.offset -= 300;
	env_close(&e);
	{
		FILE *fp = tmpfile();

		is_int(colstore_verify(dir, fp), 0,
		    "a failed writer leaves a store that verifies");
		fclose(fp);
	}
	{
		FILE *fp = tmpfile();

		is_int(colstore_verify(dir, fp), 0, "verify: OK");
		fclose(fp);
	}
	env_open(&e, 1000000);
	is_int(e.rec.trades, nall, "restart: every trade stored once");
	check_all(&e, "restart after faults");
	env_close(&e);
}

static int
cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x > y ? -1 : x < y;
}

static void
test_latest_and_symbols(void)
{
	struct env e;
	struct colstore_query q = {NULL, 0, 0, INT64_MAX / 2};
	struct colstore_result *r;
	const char **syms;
	size_t n, i;
	int good = 1;

	memset(&e, 0, sizeof(e));
	env_open(&e, 1000000);
	n = colstore_symbols(e.cs, &syms);
	ok(n == NSYM && strcmp(syms[0], "AAPL") == 0 &&
	        strcmp(syms[1], "BINANCE:BTCUSDT") == 0,
	    "symbols known: %zu, sorted", n);
	is_int(colstore_latest_trades(e.cs, &q, 100, &r), 0, "latest 100");
	ok(r->nseries == 1 && r->series[0].n == 100, "100 rows");
	for (i = 1; i < r->series[0].n; i++)
		good &= r->series[0].t[i - 1] >= r->series[0].t[i];
	{
		int64_t newest = 0;

		for (i = 0; i < nall; i++)
			if (all[i].t > newest)
				newest = all[i].t;
		ok(good && r->series[0].t[0] == newest &&
		        r->series[0].rowsym[0] != NULL,
		    "newest first, from the newest trade");
	}
	{
		/* The same 100 times as the reference's newest 100, and
		 * every row one of the reference's trades. */
		int64_t *rt = malloc(nall * sizeof(*rt));
		size_t j, bad = 0;

		for (i = 0; i < nall; i++)
			rt[i] = all[i].t;
		qsort(rt, nall, sizeof(*rt), cmp_desc);
		for (i = 0; i < 100; i++)
			bad += r->series[0].t[i] != rt[i];
		for (i = 0; i < 100; i++) {
			int found = 0;

			for (j = 0; j < nall && !found; j++)
				found = all[j].t == r->series[0].t[i] &&
				        strcmp(symbols[all[j].sym],
				            r->series[0].rowsym[i]) == 0 &&
				        decnum_to_double(all[j].p) ==
				            r->series[0].price[i];
			bad += !found;
		}
		is_int(
		    bad, 0, "the newest 100 trades, as a recomputation says");
		free(rt);
	}
	colstore_result_free(r);
	env_close(&e);
}

/*
 * Many chunks in memory (nothing compacted), late trades among them
 * and chunks of an older backfill between them: narrow scans (a live panel's "what is new") skip the chunks before
 * their range and still find every trade, the late ones too.
 */
static void
test_narrow_scans(void)
{
	struct env e;
	int64_t now;
	size_t i, first = nall, bad = 0, chunks;
	int round;

	memset(&e, 0, sizeof(e));
	env_open(&e, 1000000000);
	now = T0 + 3 * 3600000;
	for (round = 0; round < 80; round++) {
		if (round % 20 == 10) { /* a chunk of a backfill, older */
			int64_t back = now - 1800000;

			add_trades(&e, 50, &back);
		} else {
			add_trades(
			    &e, 20 + (size_t)(xorshift64s(&seed) % 100), &now);
		}
		if (flush(&e, now) != 0)
			bad++;
	}
	chunks = colstore_chunks(e.cs);
	ok(bad == 0 && chunks >= 80, "80 flushes, %zu chunks held", chunks);
	add_trades(&e, 50, &now); /* and some in the window */
	for (i = 0; i < 300; i++) {
		const struct ref *r =
		    &all[first + xorshift64s(&seed) % (nall - first)];
		int64_t from = r->t - (int64_t)(xorshift64s(&seed) % 2000);
		int64_t to = from + 1 + (int64_t)(xorshift64s(&seed) % 3000);

		bad += !check_trades(&e, r->sym, from, to);
	}
	is_int(bad, 0, "300 narrow scans equal a recomputation");
	bad = 0;
	for (i = 0; i < NSYM; i++)
		bad += !check_trades(&e, (int)i, now - 1000, now + 1);
	is_int(bad, 0, "the last second of every symbol");
	env_close(&e);
}

static void
test_retention(void)
{
	struct env e;
	char path[COLSTORE_PATH_MAX];
	struct colstore_done d;
	uint32_t day = colfile_day(T0) + 1;

	memset(&e, 0, sizeof(e));
	env_open(&e, 1000000);
	colstore_forget_before(e.cs, COLFILE_TRADES, day);
	memset(&d, 0, sizeof(d));
	is_int(colstore_writer_retire(e.wr, COLFILE_TRADES, day, &d), 0,
	    "retire trades before day %u", day);
	colstore_apply(e.cs, &d);
	colstore_file_path(dir, COLFILE_TRADES, day - 1, path);
	is_int(osfile_exists(path), 0, "the old day file is gone");
	colstore_file_path(dir, COLFILE_BARS, day - 1, path);
	is_int(osfile_exists(path), 1, "bars of that day are kept");
	{
		const char *names[1] = {symbols[0]};
		struct colstore_query q = {names, 1, 0, (int64_t)day * DAY};
		struct colstore_result *r;

		is_int(colstore_scan_trades(e.cs, &q, &r), 0, "scan old days");
		is_int(r->series[0].n, 0, "no trades before the floor");
		colstore_result_free(r);
	}
	env_close(&e);
	env_open(&e, 1000000);
	{
		const char *names[1] = {symbols[0]};
		struct colstore_query q = {names, 1, 0, (int64_t)day * DAY};
		struct colstore_result *r;

		colstore_scan_trades(e.cs, &q, &r);
		is_int(r->series[0].n, 0, "restart: still none");
		colstore_result_free(r);
	}
	env_close(&e);
}

static void
test_damage_and_dump(void)
{
	char path[COLSTORE_PATH_MAX], line[4096];
	uint8_t b;
	FILE *fp;
	int fd, rows = 0;

	fp = tmpfile();
	is_int(colstore_dump(dir, COLFILE_TRADES, fp), 0, "dump trades");
	rewind(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		rows += line[0] != '#';
	ok(rows > 0, "dump: %d trades", rows);
	fclose(fp);
	fp = tmpfile();
	is_int(colstore_dump(dir, COLFILE_BARS, fp), 0, "dump bars");
	fclose(fp);
	/* Flip a byte inside a committed block. */
	colstore_file_path(dir, COLFILE_BARS, colfile_day(T0), path);
	fd = open(path, O_RDWR);
	if (pread(fd, &b, 1, 40) != 1)
		abort();
	b ^= 0x10;
	if (pwrite(fd, &b, 1, 40) != 1)
		abort();
	close(fd);
	fp = tmpfile();
	is_int(colstore_verify(dir, fp), 1, "verify: a flipped byte is damage");
	fclose(fp);
}

int
main(void)
{
	char cmd[600];

	plan_lazy();
	tap_timeout(300);
	snprintf(dir, sizeof(dir), "%s/test_colstore.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	strcat(dir, "/store");
	membudget_init(&mb, 0);
	test_flush_compact_restart();
	test_release();
	test_torn();
	test_faults();
	test_latest_and_symbols();
	test_narrow_scans();
	test_retention();
	test_damage_and_dump();
	is_int(membudget_used(&mb), 0, "every byte charged was released");
	snprintf(
	    cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 6), dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
