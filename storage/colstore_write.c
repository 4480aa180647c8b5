/*
 * colstore_write.c: (4) the column store's writer side: open and
 * recovery, flush, compaction, retention (see colstore.h); the offline
 * --verify-store and --dump-store live in colstore_tool.c.
 *
 * Every change follows one pattern: write the new bytes past the
 * committed lengths, [fsync them], then write the next commit record to
 * the older slot, [fsync it].  Until that record is complete the old one
 * stands, so a crash or an error at any step leaves the store as of the
 * previous commit; on an error the writer also cuts the new bytes off
 * again and restores its in-memory state, so the same work can be tried
 * again.  If even that fails the writer is "failed" and refuses work (a
 * restart recovers: the next open cuts what the commit does not name).
 *
 * Invariants (beyond colstore.h's):
 *  1. wr->files, wr->tail_len, wr->offsets and the totals are always the
 *     state of the commit wr->seq (restored on every failed step).
 *  2. wr->pend holds, in order, the chunks flushed since the last
 *     compaction, all of them in the tail; compaction empties it.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/wbuf.h"
#include "storage/colstore.h"
#include "storage/colstore_int.h"
#include "storage/osfile.h"

struct wfile {
	int table;
	uint32_t day;
	uint64_t len;
	int fd; /* -1 until written to */
};

struct colstore_writer {
	char *dir;
	int fsync;
	char topic[COLFILE_MAX_TOPIC + 1];
	struct membudget *mb;
	uint64_t compact_rows;
	int64_t compact_ms;
	uint64_t compact_bytes;
	/* The committed state (invariant 1). */
	uint64_t seq;
	uint64_t tail_gen, tail_len;
	struct wfile *files; /* sorted by (table, day) */
	size_t nfiles, filescap;
	size_t nparts;
	int64_t *offsets;
	int64_t *ends;
	uint64_t trades, bars, lost, invalid;
	uint32_t floor[2];
	int tail_fd;
	int slot_fd[2];
	/* Since the last compaction (invariant 2). */
	struct agg_chunk **pend;
	size_t npend, pendcap;
	uint64_t pend_last_seq;
	uint64_t pend_rows;
	int64_t pend_since_ms;
	int failed;
	struct wbuf w;
	struct colenc_scratch sc;
};

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
colstore_recovery_fini(struct colstore_recovery *r)
{
	free(r->offsets);
	free(r->ends);
	r->offsets = NULL;
	r->ends = NULL;
	r->nparts = 0;
}

void
colstore_done_fini(struct colstore_done *d)
{
	free(d->files);
	d->files = NULL;
	d->nfiles = 0;
}

static void note(struct colstore_recovery *rec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct colstore_recovery *rec, const char *fmt, ...)
{
	size_t n = strlen(rec->detail);
	va_list ap;

	if (n + 4 >= sizeof(rec->detail))
		return;
	if (n > 0) {
		rec->detail[n++] = ';';
		rec->detail[n++] = ' ';
		rec->detail[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(rec->detail + n, sizeof(rec->detail) - n, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Files of the committed state */

static struct wfile *
file_find(struct colstore_writer *wr, int table, uint32_t day)
{
	size_t lo = 0, hi = wr->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct wfile *f = &wr->files[mid];

		if (f->table < table || (f->table == table && f->day < day))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < wr->nfiles && wr->files[lo].table == table &&
	    wr->files[lo].day == day)
		return &wr->files[lo];
	return NULL;
}

/* Insert (table, day) with length 0 (not there yet). */
static struct wfile *
file_add(struct colstore_writer *wr, int table, uint32_t day)
{
	size_t i;

	if (wr->nfiles == wr->filescap) {
		wr->filescap = wr->filescap ? wr->filescap * 2 : 16;
		wr->files =
		    xreallocarray(wr->files, wr->filescap, sizeof(*wr->files));
	}
	for (i = wr->nfiles; i > 0; i--) {
		struct wfile *f = &wr->files[i - 1];

		if (f->table < table || (f->table == table && f->day < day))
			break;
		wr->files[i] = *f;
	}
	wr->files[i].table = table;
	wr->files[i].day = day;
	wr->files[i].len = 0;
	wr->files[i].fd = -1;
	wr->nfiles++;
	return &wr->files[i];
}

static void
file_remove(struct colstore_writer *wr, struct wfile *f)
{
	size_t i = (size_t)(f - wr->files);

	if (f->fd >= 0)
		osfile_close(f->fd);
	memmove(f, f + 1, (wr->nfiles - i - 1) * sizeof(*f));
	wr->nfiles--;
}

static uint64_t
bytes_on_disk(const struct colstore_writer *wr)
{
	uint64_t n = wr->tail_len;
	size_t i;

	for (i = 0; i < wr->nfiles; i++)
		n += wr->files[i].len;
	return n;
}

void
colstore_writer_files(const struct colstore_writer *wr,
    struct colfile_file **files, size_t *nfiles, uint32_t floor_day[2])
{
	size_t i;

	*files = xreallocarray(NULL, wr->nfiles, sizeof(**files));
	for (i = 0; i < wr->nfiles; i++) {
		(*files)[i].table = wr->files[i].table;
		(*files)[i].day = wr->files[i].day;
		(*files)[i].len = wr->files[i].len;
	}
	*nfiles = wr->nfiles;
	floor_day[0] = wr->floor[0];
	floor_day[1] = wr->floor[1];
}

static void
done_files(const struct colstore_writer *wr, struct colstore_done *d)
{
	uint32_t fl[2];

	free(d->files);
	colstore_writer_files(wr, &d->files, &d->nfiles, fl);
}

/* ------------------------------------------------------------------ */
/* Commit records */

/* Write commit wr->seq + 1 of the current state; wr->seq advances on
 * success. */
static int
commit(struct colstore_writer *wr)
{
	struct colfile_commit c;
	struct colfile_file *files;
	char path[COLSTORE_PATH_MAX];
	uint64_t seq = wr->seq + 1;
	int slot = (int)(seq % 2), rc, created = 0;
	size_t i;

	memset(&c, 0, sizeof(c));
	files = xreallocarray(NULL, wr->nfiles, sizeof(*files));
	for (i = 0; i < wr->nfiles; i++) {
		files[i].table = wr->files[i].table;
		files[i].day = wr->files[i].day;
		files[i].len = wr->files[i].len;
	}
	c.seq = seq;
	c.time_ms = clock_wall_ms();
	c.tail_gen = wr->tail_gen;
	c.tail_len = wr->tail_len;
	c.nfiles = wr->nfiles;
	c.files = files;
	snprintf(c.topic, sizeof(c.topic), "%s", wr->topic);
	c.nparts = wr->nparts;
	c.offsets = wr->offsets;
	c.ends = wr->ends;
	c.trades = wr->trades;
	c.bars = wr->bars;
	c.lost = wr->lost;
	c.invalid = wr->invalid;
	c.floor_day[0] = wr->floor[0];
	c.floor_day[1] = wr->floor[1];
	wbuf_reset(&wr->w);
	colfile_commit_encode(&wr->w, &c);
	free(files);
	if ((rc = wr->w.err) != 0)
		return rc;
	if (wr->slot_fd[slot] < 0) {
		snprintf(path, sizeof(path), "%s/commit.%d", wr->dir, slot);
		created = osfile_exists(path) == 0;
		if ((rc = osfile_open(path, O_RDWR | O_CREAT, 0640)) < 0)
			return rc;
		wr->slot_fd[slot] = rc;
	}
	if ((rc = osfile_pwrite(wr->slot_fd[slot], wr->w.buf, wr->w.len, 0)) !=
	        0 ||
	    (rc = osfile_truncate(wr->slot_fd[slot], wr->w.len)) != 0 ||
	    (wr->fsync && (rc = osfile_fsync(wr->slot_fd[slot])) != 0))
		goto invalidate;
	if (created && wr->fsync) {
		snprintf(path, sizeof(path), "%s/commit.%d", wr->dir, slot);
		if ((rc = osfile_fsync_dir(path)) != 0)
			goto invalidate;
	}
	wr->seq = seq;
	return 0;
invalidate:
	/*
	 * The record may have landed whole even though a later step failed:
	 * it would name bytes the caller is about to cut back.  Make it
	 * invalid first (the other slot holds the commit in force); if even
	 * that fails, nothing may be cut: the writer is failed, and the next
	 * open sorts out which commit stands (invariant 1 either way).
	 */
	{
		static const uint8_t zero[8];

		if (osfile_pwrite(wr->slot_fd[slot], zero, sizeof(zero), 0) !=
		        0 ||
		    (wr->fsync && osfile_fsync(wr->slot_fd[slot]) != 0))
			wr->failed = 1;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Compaction */

/* A group of input parts of one (day, symbol): indexes into the input. */
struct grp {
	uint32_t day;
	const char *sym;
	size_t first; /* in the sorted order */
	size_t n;
};

struct cin {
	const struct agg_part *p;
	size_t order; /* position in the input: ties keep it */
};

static int
cmp_cin(const void *a, const void *b)
{
	const struct cin *x = a, *y = b;
	int c;

	if (x->p->day != y->p->day)
		return x->p->day < y->p->day ? -1 : 1;
	if ((c = strcmp(x->p->sym, y->p->sym)) != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A per-(table, day) buffer of new blocks. */
struct dbuf {
	int table;
	uint32_t day;
	struct wbuf w;
	int touched; /* the write of this buffer was started */
	int created;
	uint64_t old_len;
};

static struct dbuf *
dbuf_get(struct dbuf **bufs, size_t *n, size_t *cap, int table, uint32_t day)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*bufs)[i].table == table && (*bufs)[i].day == day)
			return &(*bufs)[i];
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*bufs = xreallocarray(*bufs, *cap, sizeof(**bufs));
	}
	memset(&(*bufs)[*n], 0, sizeof(**bufs));
	(*bufs)[*n].table = table;
	(*bufs)[*n].day = day;
	wbuf_init(&(*bufs)[*n].w, 0);
	return &(*bufs)[(*n)++];
}

/* The rows of one group of parts (one day, one symbol) in write order:
 * the part's own arrays when it is alone, else copies. */
struct gathered {
	size_t nt, nb;
	int64_t *t;
	struct decnum *p, *v;
	struct colenc_str *c;
	struct colbar *bars;
	int copied;
};

static void
gather(const struct cin *in, size_t n, struct gathered *g)
{
	size_t i, k;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < n; i++) {
		g->nt += in[i].p->ntrades;
		g->nb += in[i].p->nbars;
	}
	if (n == 1) {
		const struct agg_part *p = in[0].p;

		g->t = p->t;
		g->p = p->price;
		g->v = p->volume;
		g->c = p->cond;
		g->bars = p->bars;
		return;
	}
	g->copied = 1;
	g->t = xreallocarray(NULL, g->nt ? g->nt : 1, sizeof(*g->t));
	g->p = xreallocarray(NULL, g->nt ? g->nt : 1, sizeof(*g->p));
	g->v = xreallocarray(NULL, g->nt ? g->nt : 1, sizeof(*g->v));
	g->c = xreallocarray(NULL, g->nt ? g->nt : 1, sizeof(*g->c));
	g->bars = xreallocarray(NULL, g->nb ? g->nb : 1, sizeof(*g->bars));
	for (i = 0, k = 0; i < n; i++) {
		const struct agg_part *p = in[i].p;

		if (p->ntrades == 0)
			continue;
		memcpy(g->t + k, p->t, p->ntrades * sizeof(*g->t));
		memcpy(g->p + k, p->price, p->ntrades * sizeof(*g->p));
		memcpy(g->v + k, p->volume, p->ntrades * sizeof(*g->v));
		memcpy(g->c + k, p->cond, p->ntrades * sizeof(*g->c));
		k += p->ntrades;
	}
	for (i = 0, k = 0; i < n; i++) {
		if (in[i].p->nbars == 0)
			continue;
		memcpy(g->bars + k, in[i].p->bars,
		    in[i].p->nbars * sizeof(*g->bars));
		k += in[i].p->nbars;
	}
}

static void
gathered_fini(struct gathered *g)
{
	if (g->copied) {
		free(g->t);
		free(g->p);
		free(g->v);
		free(g->c);
		free(g->bars);
	}
	memset(g, 0, sizeof(*g));
}

/* Trades of g in blocks of up to rows rows, appended to w. */
static void
put_trades(struct colstore_writer *wr, struct wbuf *w, const char *sym,
    size_t symlen, const struct gathered *g, size_t rows)
{
	size_t k, m;

	for (k = 0; k < g->nt; k += m) {
		m = g->nt - k < rows ? g->nt - k : rows;
		colfile_encode_trades(w, sym, symlen, g->t + k, g->p + k,
		    g->v + k, g->c + k, m, &wr->sc);
	}
}

static void
put_bars(struct colstore_writer *wr, struct wbuf *w, const char *sym,
    size_t symlen, int level, const struct colbar *rows, size_t n, size_t per)
{
	size_t k, m;

	for (k = 0; k < n; k += m) {
		m = n - k < per ? n - k : per;
		colfile_encode_bars(
		    w, sym, symlen, level, rows + k, m, &wr->sc);
	}
}

/* Group parts[0..n) by (day, symbol), write order kept. */
static struct cin *
group_parts(const struct agg_part *const *parts, size_t n)
{
	struct cin *in = xreallocarray(NULL, n ? n : 1, sizeof(*in));
	size_t i;

	for (i = 0; i < n; i++) {
		in[i].p = parts[i];
		in[i].order = i;
	}
	qsort(in, n, sizeof(*in), cmp_cin);
	return in;
}

/* The end of the group that starts at i. */
static size_t
group_end(const struct cin *in, size_t n, size_t i)
{
	size_t j;

	for (j = i + 1; j < n && in[j].p->day == in[i].p->day &&
	                strcmp(in[j].p->sym, in[i].p->sym) == 0;
	     j++)
		;
	return j;
}

/* Encode the rows of one group into its day buffers. */
static void
compact_group(struct colstore_writer *wr, const struct cin *in, size_t n,
    struct dbuf **bufs, size_t *nbufs, size_t *capbufs, uint64_t *rows)
{
	const struct agg_part *p0 = in[0].p;
	struct colbar *merged, *roll;
	struct gathered g;
	struct dbuf *db;
	size_t nm, nr;
	int level;

	gather(in, n, &g);
	if (g.nt > 0 && p0->day >= wr->floor[0]) {
		db = dbuf_get(bufs, nbufs, capbufs, COLFILE_TRADES, p0->day);
		put_trades(
		    wr, &db->w, p0->sym, p0->symlen, &g, COLSTORE_BLOCK_ROWS);
		*rows += g.nt;
	}
	if (g.nb > 0 && p0->day >= wr->floor[1]) {
		merged = colstore_merge_rows(g.bars, g.nb, &nm);
		db = dbuf_get(bufs, nbufs, capbufs, COLFILE_BARS, p0->day);
		for (level = 0; level < COLFILE_NLEVELS; level++) {
			roll = level == 0 ? NULL
			                  : colstore_rollup(merged, nm,
			                        colfile_level_ms[level], &nr);
			put_bars(wr, &db->w, p0->sym, p0->symlen, level,
			    level == 0 ? merged : roll, level == 0 ? nm : nr,
			    COLSTORE_BLOCK_ROWS);
			free(roll);
		}
		free(merged);
		*rows += g.nb;
	}
	gathered_fini(&g);
}

/*
 * Compact parts[0..n) (in write order) into the day files and commit
 * with an empty new tail generation.  On failure the day files are cut
 * back and the state restored.
 */
static int
compact_parts(struct colstore_writer *wr, const struct agg_part *const *parts,
    size_t n, struct colstore_done *d)
{
	struct cin *in = group_parts(parts, n);
	struct dbuf *bufs = NULL;
	size_t nbufs = 0, capbufs = 0, i, j;
	uint64_t rows = 0, old_gen = wr->tail_gen, old_tail = wr->tail_len;
	char path[COLSTORE_PATH_MAX];
	int64_t t0 = mono_us();
	int rc = 0, undo_rc;

	for (i = 0; i < n; i = j) {
		j = group_end(in, n, i);
		compact_group(
		    wr, in + i, j - i, &bufs, &nbufs, &capbufs, &rows);
	}
	free(in);
	/* Write each day's new blocks past its committed length. */
	for (i = 0; i < nbufs && rc == 0; i++) {
		struct dbuf *b = &bufs[i];
		struct wfile *f = file_find(wr, b->table, b->day);

		if ((rc = b->w.err) != 0)
			break;
		b->touched = 1;
		if (f == NULL) {
			f = file_add(wr, b->table, b->day);
			b->created = 1;
		}
		b->old_len = f->len;
		if (f->fd < 0) {
			colstore_file_path(wr->dir, b->table, b->day, path);
			if ((rc = osfile_open(path, O_RDWR | O_CREAT, 0640)) <
			    0)
				break;
			f->fd = rc;
			rc = 0;
		}
		if ((rc = osfile_pwrite(f->fd, b->w.buf, b->w.len, f->len)) !=
		    0)
			break;
		if (wr->fsync && (rc = osfile_fsync(f->fd)) != 0)
			break;
		if (b->created && wr->fsync &&
		    (rc = osfile_fsync_dir(path)) != 0)
			break;
		f->len += b->w.len;
		d->bytes_written += b->w.len;
	}
	if (rc == 0) {
		wr->tail_gen++;
		wr->tail_len = 0;
		rc = commit(wr);
	}
	if (rc != 0 && wr->failed) {
		/* The commit may stand: cut nothing; the next open decides. */
		wr->tail_gen = old_gen;
		wr->tail_len = old_tail;
	} else if (rc != 0) {
		/* Undo: the old lengths, the old tail, new files gone. */
		undo_rc = 0;
		wr->tail_gen = old_gen;
		wr->tail_len = old_tail;
		for (i = 0; i < nbufs; i++) {
			struct wfile *f =
			    file_find(wr, bufs[i].table, bufs[i].day);

			if (f == NULL || !bufs[i].touched)
				continue;
			if (bufs[i].created) {
				colstore_file_path(
				    wr->dir, f->table, f->day, path);
				if (osfile_unlink(path) != 0)
					undo_rc = -1;
				file_remove(wr, f);
			} else {
				f->len = bufs[i].old_len;
				if (f->fd >= 0 &&
				    osfile_truncate(f->fd, f->len) != 0)
					undo_rc = -1;
			}
		}
		if (undo_rc != 0)
			wr->failed = 1;
	} else {
		if (wr->tail_fd >= 0) {
			osfile_close(wr->tail_fd);
			wr->tail_fd = -1;
		}
		colstore_tail_path(wr->dir, old_gen, path);
		(void)osfile_unlink(path); /* a leftover goes at next open */
		d->compacted_upto = wr->pend_last_seq;
		d->compacted_rows = rows;
		done_files(wr, d);
	}
	for (i = 0; i < nbufs; i++)
		wbuf_fini(&bufs[i].w);
	free(bufs);
	d->compact_us = mono_us() - t0;
	return rc;
}

static int
compact_pending(struct colstore_writer *wr, struct colstore_done *d)
{
	const struct agg_part **parts;
	size_t n = 0, i, k;
	int rc;

	for (i = 0; i < wr->npend; i++)
		n += wr->pend[i]->nparts;
	parts = xreallocarray(NULL, n ? n : 1, sizeof(*parts));
	for (i = 0, n = 0; i < wr->npend; i++)
		for (k = 0; k < wr->pend[i]->nparts; k++)
			parts[n++] = &wr->pend[i]->parts[k];
	rc = compact_parts(wr, parts, n, d);
	free(parts);
	if (rc == 0) {
		wr->npend = 0;
		wr->pend_rows = 0;
		wr->pend_since_ms = 0;
	}
	return rc;
}

int
colstore_writer_compact(struct colstore_writer *wr, struct colstore_done *d)
{
	if (wr->failed) {
		d->failed = 1;
		return d->err = ERR_CLOSED;
	}
	if (wr->npend == 0 && wr->tail_len == 0)
		return 0;
	d->err = compact_pending(wr, d);
	d->failed = wr->failed;
	return d->err;
}

/* ------------------------------------------------------------------ */
/* Flush */

static int
tail_open(struct colstore_writer *wr)
{
	char path[COLSTORE_PATH_MAX];
	int fd, created, rc;

	if (wr->tail_fd >= 0)
		return 0;
	colstore_tail_path(wr->dir, wr->tail_gen, path);
	created = osfile_exists(path) == 0;
	if ((fd = osfile_open(path, O_RDWR | O_CREAT, 0640)) < 0)
		return fd;
	if (created && wr->fsync && (rc = osfile_fsync_dir(path)) != 0) {
		osfile_close(fd);
		return rc;
	}
	wr->tail_fd = fd;
	return 0;
}

/*
 * The blocks of chunks[0..n), appended to wr->w: one per (day, symbol)
 * and table, the chunks' rows concatenated in order (bar deltas of a
 * bucket merged: they enter the store in this one commit).
 */
static void
encode_chunks(
    struct colstore_writer *wr, struct agg_chunk *const *chunks, size_t n)
{
	const struct agg_part **parts;
	struct gathered g;
	struct colbar *merged;
	struct cin *in;
	size_t np = 0, i, j, k, nm;

	for (i = 0; i < n; i++)
		np += chunks[i]->nparts;
	parts = xreallocarray(NULL, np ? np : 1, sizeof(*parts));
	for (i = 0, np = 0; i < n; i++)
		for (k = 0; k < chunks[i]->nparts; k++)
			parts[np++] = &chunks[i]->parts[k];
	in = group_parts(parts, np);
	for (i = 0; i < np; i = j) {
		const struct agg_part *p0 = in[i].p;

		j = group_end(in, np, i);
		gather(in + i, j - i, &g);
		put_trades(
		    wr, &wr->w, p0->sym, p0->symlen, &g, COLFILE_MAX_ROWS);
		if (g.nb > 0) {
			merged = j - i > 1
			             ? colstore_merge_rows(g.bars, g.nb, &nm)
			             : NULL;
			put_bars(wr, &wr->w, p0->sym, p0->symlen, 0,
			    merged != NULL ? merged : g.bars,
			    merged != NULL ? nm : g.nb, COLFILE_MAX_ROWS);
			free(merged);
		}
		gathered_fini(&g);
	}
	free(in);
	free(parts);
}

int
colstore_writer_flush(struct colstore_writer *wr,
    struct agg_chunk *const *chunks, const uint64_t *seqs, size_t n,
    int64_t now_ms, struct colstore_done *d)
{
	const struct agg_chunk *last = chunks[n - 1];
	uint64_t old_tail = wr->tail_len, old_trades = wr->trades;
	uint64_t old_bars = wr->bars, old_lost = wr->lost;
	uint64_t old_invalid = wr->invalid, add_t = 0, add_b = 0;
	int64_t *old_off = NULL, *old_ends = NULL, t0 = mono_us();
	size_t old_nparts = wr->nparts, i;
	int rc;

	if (wr->failed) {
		d->failed = 1;
		return d->err = ERR_CLOSED;
	}
	wbuf_reset(&wr->w);
	encode_chunks(wr, chunks, n);
	for (i = 0; i < n; i++) {
		add_t += chunks[i]->ntrades;
		add_b += chunks[i]->nbars;
	}
	if ((rc = wr->w.err) != 0)
		goto fail;
	if ((rc = tail_open(wr)) != 0)
		goto fail;
	if ((rc = osfile_pwrite(
	         wr->tail_fd, wr->w.buf, wr->w.len, wr->tail_len)) != 0)
		goto undo;
	if (wr->fsync && (rc = osfile_fsync(wr->tail_fd)) != 0)
		goto undo;
	d->bytes_written += wr->w.len;
	wr->tail_len += wr->w.len;
	old_off = wr->offsets;
	old_ends = wr->ends;
	wr->offsets = xreallocarray(
	    NULL, last->noffsets ? last->noffsets : 1, sizeof(*wr->offsets));
	wr->ends = xreallocarray(
	    NULL, last->noffsets ? last->noffsets : 1, sizeof(*wr->ends));
	if (last->noffsets > 0)
		memcpy(wr->offsets, last->offsets,
		    last->noffsets * sizeof(*wr->offsets));
	for (i = 0; i < last->noffsets; i++)
		wr->ends[i] =
		    last->ends != NULL && last->ends[i] > last->offsets[i]
		        ? last->ends[i]
		        : last->offsets[i];
	wr->nparts = last->noffsets;
	wr->trades += add_t;
	wr->bars += add_b;
	wr->lost = last->lost_total;
	wr->invalid = last->invalid_total;
	if ((rc = commit(wr)) != 0) {
		free(wr->offsets);
		free(wr->ends);
		wr->offsets = old_off;
		wr->ends = old_ends;
		wr->nparts = old_nparts;
		wr->trades = old_trades;
		wr->bars = old_bars;
		wr->lost = old_lost;
		wr->invalid = old_invalid;
		wr->tail_len = old_tail;
		goto undo;
	}
	free(old_off);
	free(old_ends);
	for (i = 0; i < n; i++) {
		if (wr->npend == wr->pendcap) {
			wr->pendcap = wr->pendcap ? wr->pendcap * 2 : 64;
			wr->pend = xreallocarray(
			    wr->pend, wr->pendcap, sizeof(*wr->pend));
		}
		wr->pend[wr->npend++] = chunks[i];
		wr->pend_last_seq = seqs[i];
	}
	wr->pend_rows += add_t + add_b;
	if (wr->pend_since_ms == 0)
		wr->pend_since_ms = now_ms;
	d->flushed_upto = seqs[n - 1];
	d->flush_us = mono_us() - t0;
	if (wr->pend_rows >= wr->compact_rows ||
	    wr->tail_len >= wr->compact_bytes ||
	    now_ms - wr->pend_since_ms >= wr->compact_ms ||
	    (wr->mb->limit != 0 &&
	        membudget_room(wr->mb) < wr->mb->limit / 8)) {
		struct colstore_done cd;

		/* A failed compaction leaves the flush done: it is tried
		 * again after the next flush. */
		memset(&cd, 0, sizeof(cd));
		if (compact_pending(wr, &cd) == 0) {
			d->compacted_upto = cd.compacted_upto;
			d->compacted_rows = cd.compacted_rows;
			d->files = cd.files;
			d->nfiles = cd.nfiles;
			d->bytes_written += cd.bytes_written;
		} else {
			colstore_done_fini(&cd);
			d->failed = wr->failed;
		}
		d->compact_us = cd.compact_us;
	}
	goto out;
undo:
	if (!wr->failed && wr->tail_fd >= 0 &&
	    osfile_truncate(wr->tail_fd, old_tail) != 0)
		wr->failed = 1;
fail:
	d->failed = wr->failed;
	d->err = rc;
out:
	d->commit_seq = wr->seq;
	d->trades = wr->trades;
	d->bars = wr->bars;
	d->bytes_on_disk = bytes_on_disk(wr);
	return d->err;
}

/* ------------------------------------------------------------------ */
/* Retention */

int
colstore_writer_retire(struct colstore_writer *wr, int table,
    uint32_t floor_day, struct colstore_done *d)
{
	struct wfile *gone = NULL;
	char path[COLSTORE_PATH_MAX];
	size_t ngone = 0, i;
	uint32_t old_floor;
	int ti = table == COLFILE_TRADES ? 0 : 1, rc;

	if (wr->failed) {
		d->failed = 1;
		return d->err = ERR_CLOSED;
	}
	if (floor_day <= wr->floor[ti])
		return 0;
	old_floor = wr->floor[ti];
	gone = xreallocarray(NULL, wr->nfiles ? wr->nfiles : 1, sizeof(*gone));
	for (i = 0; i < wr->nfiles;) {
		if (wr->files[i].table == table &&
		    wr->files[i].day < floor_day) {
			gone[ngone++] = wr->files[i];
			memmove(&wr->files[i], &wr->files[i + 1],
			    (wr->nfiles - i - 1) * sizeof(*wr->files));
			wr->nfiles--;
		} else {
			i++;
		}
	}
	wr->floor[ti] = floor_day;
	if ((rc = commit(wr)) != 0) {
		/* Put them back (the array keeps its order by re-adding). */
		wr->floor[ti] = old_floor;
		for (i = 0; i < ngone; i++)
			*file_add(wr, gone[i].table, gone[i].day) = gone[i];
		free(gone);
		d->failed = wr->failed;
		return d->err = rc;
	}
	for (i = 0; i < ngone; i++) {
		if (gone[i].fd >= 0)
			osfile_close(gone[i].fd);
		colstore_file_path(wr->dir, gone[i].table, gone[i].day, path);
		(void)osfile_unlink(path);
	}
	free(gone);
	done_files(wr, d);
	d->commit_seq = wr->seq;
	d->bytes_on_disk = bytes_on_disk(wr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open and recovery */

struct scan_ctx {
	struct colstore_writer *wr;
	struct colstore_recovery *rec;
	const struct colfile_commit *c;
	int table; /* for day files */
	int data;  /* data files seen */
	int rc;
};

static int
on_tail_name(const char *name, void *arg)
{
	struct scan_ctx *sx = arg;
	char path[COLSTORE_PATH_MAX], *end;
	unsigned long long gen;

	if (strncmp(name, "tail.", 5) != 0)
		return 0;
	gen = strtoull(name + 5, &end, 10);
	if (*end != '\0' || name[5] == '\0')
		return 0;
	sx->data = 1;
	if (sx->c != NULL && gen == sx->c->tail_gen)
		return 0;
	if (sx->c == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", sx->wr->dir, name);
	if (osfile_unlink(path) == 0) {
		sx->rec->removed_files++;
		note(sx->rec, "removed %s (%s)", name,
		    gen > sx->c->tail_gen ? "uncommitted"
		                          : "already compacted");
	}
	return 0;
}

static int
on_day_name(const char *name, void *arg)
{
	struct scan_ctx *sx = arg;
	char path[COLSTORE_PATH_MAX];
	uint32_t day;
	size_t i;
	int found = 0;

	if (colstore_parse_day(name, &day) != 0)
		return 0;
	sx->data = 1;
	if (sx->c == NULL)
		return 0;
	for (i = 0; i < sx->c->nfiles; i++)
		if (sx->c->files[i].table == sx->table &&
		    sx->c->files[i].day == day)
			found = 1;
	if (found)
		return 0;
	colstore_file_path(sx->wr->dir, sx->table, day, path);
	if (osfile_unlink(path) == 0) {
		sx->rec->removed_files++;
		note(sx->rec, "removed %s/%s (uncommitted)",
		    colstore_table_name(sx->table), name);
	}
	return 0;
}

/* Cut path to len if longer; note it.  A shorter file is damage. */
static int
cut_to(struct colstore_recovery *rec, const char *path, const char *label,
    uint64_t len, int *fdp)
{
	int64_t size;
	int fd, rc = 0;

	if ((fd = osfile_open(path, O_RDWR | O_CREAT, 0640)) < 0)
		return fd;
	if ((size = osfile_size(fd)) < 0) {
		osfile_close(fd);
		return (int)size;
	}
	if ((uint64_t)size > len) {
		if ((rc = osfile_truncate(fd, len)) != 0) {
			osfile_close(fd);
			return rc;
		}
		rec->truncated_bytes += (uint64_t)size - len;
		rec->truncated_files++;
		note(rec, "cut %" PRIu64 " uncommitted bytes from %s",
		    (uint64_t)size - len, label);
	} else if ((uint64_t)size < len) {
		rec->damaged = 1;
		note(rec, "%s is %" PRIu64 " bytes short of its commit", label,
		    len - (uint64_t)size);
	}
	*fdp = fd;
	return 0;
}

/* The committed tail decoded for compaction: one part per block; the
 * trades blocks' bytes are kept, since their conditions point there. */
struct tailset {
	struct agg_part *parts;
	size_t n, cap;
	uint8_t **keep;
	size_t nkeep;
};

static void
tailset_fini(struct tailset *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		free((char *)(uintptr_t)ts->parts[i].sym);
		free(ts->parts[i].t);
		free(ts->parts[i].price);
		free(ts->parts[i].volume);
		free(ts->parts[i].cond);
		free(ts->parts[i].bars);
	}
	for (i = 0; i < ts->nkeep; i++)
		free(ts->keep[i]);
	free(ts->parts);
	free(ts->keep);
	memset(ts, 0, sizeof(*ts));
}

/* Decode one block into a new part of ts; 0 or ERR_MALFORMED. */
static int
tail_part(struct colstore_writer *wr, struct tailset *ts, uint8_t **bufp,
    size_t *capp, const struct colfile_head *h)
{
	struct agg_part *p;
	int rc;

	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 64;
		ts->parts =
		    xreallocarray(ts->parts, ts->cap, sizeof(*ts->parts));
		ts->keep = xreallocarray(ts->keep, ts->cap, sizeof(*ts->keep));
	}
	p = &ts->parts[ts->n++];
	memset(p, 0, sizeof(*p));
	p->sym = xstrdup(h->symbol);
	p->symlen = h->symlen;
	p->day = h->day;
	if (h->table == COLFILE_TRADES) {
		struct colfile_trades tr;

		tr.t = p->t = xreallocarray(NULL, h->rows, sizeof(*p->t));
		tr.price = p->price =
		    xreallocarray(NULL, h->rows, sizeof(*p->price));
		tr.volume = p->volume =
		    xreallocarray(NULL, h->rows, sizeof(*p->volume));
		tr.cond = p->cond =
		    xreallocarray(NULL, h->rows, sizeof(*p->cond));
		if ((rc = colfile_decode_trades(*bufp, h, &tr, &wr->sc)) != 0)
			return rc;
		p->ntrades = h->rows;
		/* The conditions point into the block: it stays with the
		 * set, and the reader gets a new buffer. */
		ts->keep[ts->nkeep++] = *bufp;
		*bufp = NULL;
		*capp = 0;
		return 0;
	}
	if (h->level != 0)
		return ERR_MALFORMED; /* the tail holds 1 s deltas only */
	p->bars = xreallocarray(NULL, h->rows, sizeof(*p->bars));
	if ((rc = colfile_decode_bars(*bufp, h, p->bars, &wr->sc)) != 0)
		return rc;
	p->nbars = h->rows;
	return 0;
}

/* Decode the committed tail [0, len) of fd into ts. */
static void
tail_read(struct colstore_writer *wr, int fd, uint64_t len,
    struct colstore_recovery *rec, struct tailset *ts)
{
	struct colfile_head h;
	uint8_t *buf = NULL;
	size_t cap = 0;
	uint64_t off = 0;
	int rc;

	while (off < len) {
		rc = colstore_read_block(fd, off, len, &buf, &cap, &h);
		if (rc > 0 && (rc = tail_part(wr, ts, &buf, &cap, &h)) == 0) {
			off += h.len;
			continue;
		}
		rec->damaged = 1;
		note(rec,
		    "tail block at %" PRIu64 ": %s; the %" PRIu64
		    " committed bytes from there are lost",
		    off, rc == 0 ? "cut short" : err_str(rc), len - off);
		break;
	}
	free(buf);
}

static struct colstore_writer *
writer_alloc(const struct colstore_opts *o)
{
	struct colstore_writer *wr = xcalloc(1, sizeof(*wr));

	wr->dir = xstrdup(o->dir);
	wr->fsync = o->fsync;
	snprintf(wr->topic, sizeof(wr->topic), "%s",
	    o->topic != NULL ? o->topic : "trades");
	wr->mb = o->mb != NULL ? o->mb : &membudget_global;
	wr->compact_rows =
	    o->compact_rows ? o->compact_rows : COLSTORE_COMPACT_ROWS;
	wr->compact_ms = o->compact_ms ? o->compact_ms : COLSTORE_COMPACT_MS;
	wr->compact_bytes =
	    o->compact_bytes ? o->compact_bytes : COLSTORE_COMPACT_BYTES;
	wr->tail_fd = -1;
	wr->slot_fd[0] = wr->slot_fd[1] = -1;
	wbuf_init(&wr->w, 0);
	return wr;
}

/* The newer valid commit slot: 0 and *c, or ERR_NOTFOUND (none valid,
 * *nslots says how many files exist). */
static int
read_slots(const char *dir, struct colfile_commit *c, int *nslots)
{
	struct colfile_commit s[2];
	int ok[2] = {0, 0}, k;

	*nslots = 0;
	for (k = 0; k < 2; k++) {
		char path[COLSTORE_PATH_MAX];
		uint8_t *buf;
		size_t len;

		snprintf(path, sizeof(path), "%s/commit.%d", dir, k);
		if (osfile_read_all(path, COLFILE_MAX_COMMIT, &buf, &len) ==
		    -ENOENT)
			continue;
		(*nslots)++;
		if (buf != NULL && colfile_commit_decode(buf, len, &s[k]) == 0)
			ok[k] = 1;
		free(buf);
	}
	if (!ok[0] && !ok[1])
		return ERR_NOTFOUND;
	k = !ok[0] ? 1 : !ok[1] ? 0 : s[1].seq > s[0].seq ? 1 : 0;
	*c = s[k];
	if (ok[!k])
		colfile_commit_fini(&s[!k]);
	return 0;
}

int
colstore_writer_open(const struct colstore_opts *o,
    struct colstore_recovery *rec, struct colstore_writer **out)
{
	struct colstore_writer *wr = writer_alloc(o);
	struct colfile_commit c;
	struct scan_ctx sx;
	char path[COLSTORE_PATH_MAX];
	size_t i;
	int rc, nslots, have;

	memset(rec, 0, sizeof(*rec));
	memset(&c, 0, sizeof(c));
	snprintf(path, sizeof(path), "%s/trades", o->dir);
	if ((rc = osfile_mkdir_p(path)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/bars", o->dir);
	if ((rc = osfile_mkdir_p(path)) != 0)
		goto fail;
	have = read_slots(o->dir, &c, &nslots) == 0;
	memset(&sx, 0, sizeof(sx));
	sx.wr = wr;
	sx.rec = rec;
	sx.c = have ? &c : NULL;
	if ((rc = osfile_list_dir(o->dir, on_tail_name, &sx)) != 0)
		goto fail;
	for (sx.table = COLFILE_TRADES; sx.table <= COLFILE_BARS; sx.table++) {
		snprintf(path, sizeof(path), "%s/%s", o->dir,
		    colstore_table_name(sx.table));
		if ((rc = osfile_list_dir(path, on_day_name, &sx)) != 0)
			goto fail;
	}
	if (!have) {
		if (sx.data) {
			rc = ERR_MALFORMED; /* data, but no valid commit */
			goto fail;
		}
		/* A new store (or one whose first commit was torn before
		 * any data was written): commit 1, empty. */
		rec->fresh = 1;
		wr->tail_gen = 1;
		for (i = 0; i < 2; i++) {
			snprintf(
			    path, sizeof(path), "%s/commit.%zu", o->dir, i);
			(void)osfile_unlink(path);
		}
		if ((rc = commit(wr)) != 0)
			goto fail;
		rec->commit_seq = wr->seq;
		snprintf(rec->topic, sizeof(rec->topic), "%s", wr->topic);
		*out = wr;
		return 0;
	}
	/* The committed state. */
	wr->seq = c.seq;
	wr->tail_gen = c.tail_gen;
	wr->tail_len = c.tail_len;
	wr->nparts = c.nparts;
	wr->offsets = c.offsets;
	wr->ends = c.ends;
	c.offsets = NULL;
	c.ends = NULL;
	wr->trades = c.trades;
	wr->bars = c.bars;
	wr->lost = c.lost;
	wr->invalid = c.invalid;
	wr->floor[0] = c.floor_day[0];
	wr->floor[1] = c.floor_day[1];
	for (i = 0; i < c.nfiles; i++) {
		struct wfile *f =
		    file_add(wr, c.files[i].table, c.files[i].day);
		char label[32], day[16];

		f->len = c.files[i].len;
		colstore_file_path(o->dir, f->table, f->day, path);
		colstore_day_name(f->day, day);
		snprintf(label, sizeof(label), "%s/%s",
		    colstore_table_name(f->table), day);
		if ((rc = cut_to(rec, path, label, f->len, &f->fd)) != 0)
			goto fail;
	}
	if (strcmp(c.topic, wr->topic) != 0) {
		note(rec,
		    "the store's offsets are of topic %s, not %s: the "
		    "aggregator starts at the log's start",
		    c.topic, wr->topic);
		wr->nparts = 0;
	}
	rec->commit_seq = c.seq;
	snprintf(rec->topic, sizeof(rec->topic), "%s", wr->topic);
	rec->nparts = wr->nparts;
	rec->offsets = xreallocarray(
	    NULL, wr->nparts ? wr->nparts : 1, sizeof(*rec->offsets));
	rec->ends = xreallocarray(
	    NULL, wr->nparts ? wr->nparts : 1, sizeof(*rec->ends));
	if (wr->nparts > 0) {
		memcpy(rec->offsets, wr->offsets,
		    wr->nparts * sizeof(*rec->offsets));
		memcpy(rec->ends, wr->ends, wr->nparts * sizeof(*rec->ends));
	}
	rec->trades = wr->trades;
	rec->bars = wr->bars;
	rec->lost = wr->lost;
	rec->invalid = wr->invalid;
	/* The tail: cut, then compacted into the day files. */
	colstore_tail_path(o->dir, wr->tail_gen, path);
	{
		int fd = -1;
		char label[32];

		snprintf(label, sizeof(label), "tail.%" PRIu64, wr->tail_gen);
		if ((rc = cut_to(rec, path, label, wr->tail_len, &fd)) != 0)
			goto fail;
		wr->tail_fd = fd;
	}
	if (wr->tail_len > 0) {
		const struct agg_part **pp;
		struct colstore_done d;
		struct tailset ts;

		memset(&ts, 0, sizeof(ts));
		tail_read(wr, wr->tail_fd, wr->tail_len, rec, &ts);
		pp = xreallocarray(NULL, ts.n ? ts.n : 1, sizeof(*pp));
		for (i = 0; i < ts.n; i++) {
			pp[i] = &ts.parts[i];
			rec->tail_rows +=
			    ts.parts[i].ntrades + ts.parts[i].nbars;
		}
		memset(&d, 0, sizeof(d));
		rc = compact_parts(wr, pp, ts.n, &d);
		colstore_done_fini(&d);
		free(pp);
		tailset_fini(&ts);
		if (rc != 0)
			goto fail;
		rec->commit_seq = wr->seq;
	}
	colfile_commit_fini(&c);
	*out = wr;
	return 0;
fail:
	colfile_commit_fini(&c);
	colstore_recovery_fini(rec);
	colstore_writer_close(wr);
	return rc;
}

void
colstore_writer_close(struct colstore_writer *wr)
{
	size_t i;

	if (wr == NULL)
		return;
	for (i = 0; i < wr->nfiles; i++)
		if (wr->files[i].fd >= 0)
			osfile_close(wr->files[i].fd);
	if (wr->tail_fd >= 0)
		osfile_close(wr->tail_fd);
	for (i = 0; i < 2; i++)
		if (wr->slot_fd[i] >= 0)
			osfile_close(wr->slot_fd[i]);
	free(wr->files);
	free(wr->offsets);
	free(wr->ends);
	free(wr->pend);
	wbuf_fini(&wr->w);
	colenc_scratch_fini(&wr->sc);
	free(wr->dir);
	free(wr);
}
