/*
 * colstore.c: (4) the column store's reader side: the index of blocks,
 * the chunks still in memory, and the scan API (see colstore.h); plus
 * the helpers the writer and the offline tools share (colstore_int.h).
 *
 * Shape:
 *
 *	colstore --files[] (sorted by table, day)--> rfile
 *	rfile = committed length + blocks[] (header facts, in file order),
 *	        indexed lazily up to the committed length
 *	colstore --chunks[] (seq order)--> sealed chunks not yet compacted
 *	colstore --win--> the aggregator's open buckets and pending trades
 *
 * A scan reads, per symbol and in this order (colstore.h invariant 3):
 * the blocks of the day files whose [min_t, max_t] meets the range (other
 * blocks are skipped on their index entry, never read), the chunks, then
 * the window.  Blocks are read with pread() of committed, immutable bytes
 * and checked (header and CRC) before they are decoded.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "storage/colstore.h"
#include "storage/colstore_int.h"
#include "storage/osfile.h"

/* ------------------------------------------------------------------ */
/* Shared helpers (colstore_int.h) */

const char *
colstore_table_name(int table)
{
	return table == COLFILE_TRADES ? "trades" : "bars";
}

void
colstore_day_name(uint32_t day, char *buf)
{
	/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
	int64_t z = (int64_t)day + 719468, era, doe, yoe, y, doy, mp, d, m;

	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)(y % 10000),
	    (unsigned)m % 100, (unsigned)d % 100);
}

int
colstore_parse_day(const char *name, uint32_t *day)
{
	int64_t y, m, d, era, yoe, doy, doe, days;
	char back[16];
	int i;

	if (strlen(name) != 10 || name[4] != '-' || name[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (name[i] < '0' || name[i] > '9'))
			return -1;
	y = atoi(name);
	m = atoi(name + 5);
	d = atoi(name + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	if (days < 0 || days > UINT32_MAX)
		return -1;
	colstore_day_name((uint32_t)days, back);
	if (strcmp(back, name) != 0)
		return -1; /* 2024-02-31 and friends */
	*day = (uint32_t)days;
	return 0;
}

void
colstore_file_path(const char *dir, int table, uint32_t day, char *buf)
{
	char name[16];

	colstore_day_name(day, name);
	snprintf(buf, COLSTORE_PATH_MAX, "%s/%s/%s", dir,
	    colstore_table_name(table), name);
}

void
colstore_tail_path(const char *dir, uint64_t gen, char *buf)
{
	snprintf(buf, COLSTORE_PATH_MAX, "%s/tail.%" PRIu64, dir, gen);
}

static int
grow(uint8_t **buf, size_t *cap, size_t n)
{
	uint8_t *p;

	if (*cap >= n)
		return 0;
	if ((p = realloc(*buf, n)) == NULL)
		return ERR_NOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int
colstore_read_block(int fd, uint64_t off, uint64_t end, uint8_t **buf,
    size_t *cap, struct colfile_head *h)
{
	size_t n;
	int64_t got;
	int rc;

	if (off >= end)
		return 0;
	n = end - off < COLFILE_HEAD_MAX ? (size_t)(end - off)
	                                 : COLFILE_HEAD_MAX;
	if ((rc = grow(buf, cap, COLFILE_HEAD_MAX)) != 0)
		return rc;
	if ((got = osfile_pread(fd, *buf, n, off)) < 0)
		return (int)got;
	if ((rc = colfile_head_decode(*buf, (size_t)got, h)) <= 0)
		return rc == 0 ? ((size_t)got < n ? 0 : ERR_MALFORMED) : rc;
	if (h->len > end - off)
		return 0; /* the block runs past the committed end */
	if ((rc = grow(buf, cap, h->len)) != 0)
		return rc;
	if ((got = osfile_pread(fd, *buf, h->len, off)) < 0)
		return (int)got;
	if ((uint64_t)got != h->len)
		return 0;
	if ((rc = colfile_block_check(*buf, h->len, h)) != 0)
		return rc;
	return (int)h->len;
}

struct tidx {
	int64_t t;
	size_t i;
};

static int
cmp_tidx(const void *a, const void *b)
{
	const struct tidx *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

struct colbar *
colstore_merge_rows(const struct colbar *rows, size_t n, size_t *nout)
{
	struct tidx *ix = xreallocarray(NULL, n ? n : 1, sizeof(*ix));
	struct colbar *out = xreallocarray(NULL, n ? n : 1, sizeof(*out));
	struct agg_bar b;
	size_t i, j, k = 0;

	for (i = 0; i < n; i++) {
		ix[i].t = rows[i].t;
		ix[i].i = i;
	}
	qsort(ix, n, sizeof(*ix), cmp_tidx); /* stable by (t, i) */
	for (i = 0; i < n; i = j) {
		agg_bar_init(&b, ix[i].t);
		for (j = i; j < n && ix[j].t == ix[i].t; j++)
			agg_bar_merge_row(&b, &rows[ix[j].i]);
		agg_bar_to_row(&b, &out[k++]);
	}
	free(ix);
	*nout = k;
	return out;
}

struct colbar *
colstore_rollup(const struct colbar *rows, size_t n, int64_t size, size_t *nout)
{
	struct colbar *out = xreallocarray(NULL, n ? n : 1, sizeof(*out));
	struct agg_bar b;
	size_t i, j, k = 0;

	for (i = 0; i < n; i = j) {
		int64_t start = rows[i].t - rows[i].t % size;

		agg_bar_init(&b, start);
		for (j = i; j < n && rows[j].t - rows[j].t % size == start; j++)
			agg_bar_merge_row(&b, &rows[j]);
		agg_bar_to_row(&b, &out[k++]);
	}
	*nout = k;
	return out;
}

/* ------------------------------------------------------------------ */
/* The reader */

struct rblock {
	uint64_t off;
	uint32_t len, rows;
	int64_t min_t, max_t;
	uint32_t sym;
	uint8_t level;
};

struct rfile {
	int table;
	uint32_t day;
	uint64_t len;     /* committed, as the writer last said */
	uint64_t indexed; /* headers walked up to here */
	int fd;
	int bad; /* indexing stopped at a damaged block */
	struct rblock *b;
	size_t nb, cap;
};

struct rchunk {
	struct agg_chunk *c;
	uint64_t seq;
	uint32_t *sids;       /* the symbol id of each part */
	int64_t min_t, max_t; /* of its trades (min > max: none) */
	int64_t pmax;         /* the largest max_t of it and every earlier
	                         chunk: a scan starts at the first that
	                         reaches its from (chunks_from) */
};

/*
 * A view holds the bars of one symbol at one level merged, sorted by t,
 * one per bucket: a day file's coarse level (built once from its
 * blocks, extended as compactions append more), or the chunks in memory
 * rolled up (extended as chunks arrive, rebuilt when compaction frees
 * some).  A scan then merges a few hundred rows per symbol instead of
 * reading and decoding every block or every chunk again.
 */
struct view {
	struct agg_bar *rows;
	size_t n, cap;
};

/* A day file's coarse level for one symbol. */
struct dview {
	uint32_t day;
	uint32_t sym;
	int level;
	size_t upto; /* blocks of the file merged */
	uint64_t used;
	struct view v;
};

/* The chunks' bars of one symbol, per level. */
struct tview {
	struct view v[COLFILE_NLEVELS];
};

static void view_fini(struct view *v);
static size_t view_bytes(const struct view *v);
static void tview_add_chunk(struct colstore *cs, const struct agg_chunk *c);
static void tview_rebuild(struct colstore *cs);

struct colstore {
	char *dir;
	struct membudget *mb;
	struct rfile *files;
	size_t nfiles, filecap;
	uint32_t floor[2];
	char **syms;
	size_t nsyms, symcap;
	uint32_t *symtab;
	size_t symtabcap;
	struct rchunk *chunks;
	size_t nchunks, chunkcap;
	void (*release)(void *arg, struct agg_chunk *c);
	void *release_arg;
	const struct agg_window *win;
	uint8_t *buf;
	size_t bufcap;
	struct colenc_scratch sc;
	int64_t *dt;
	struct decnum *dp, *dv;
	struct colenc_str *dc;
	size_t dcap;
	struct colbar *dbars;
	size_t dbarcap;
	const char **symlist;
	struct dview *dviews; /* coarse levels of day files, LRU */
	size_t ndviews, dviewcap;
	size_t view_bytes;
	uint64_t clock;
	struct tview *tviews; /* the chunks' bars, by symbol id */
	size_t ntviews;
};

static uint32_t
hash_str(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The id of a symbol: interned when create, else UINT32_MAX if unknown. */
static uint32_t
sym_id(struct colstore *cs, const char *s, size_t n, int create)
{
	uint32_t h, i;

	if (cs->symtabcap == 0 ||
	    (create && (cs->nsyms + 1) * 2 > cs->symtabcap)) {
		size_t ncap = cs->symtabcap ? cs->symtabcap * 2 : 64, k;
		uint32_t *nt;

		if (!create && cs->symtabcap == 0)
			return UINT32_MAX;
		nt = xcalloc(ncap, sizeof(*nt));
		for (k = 0; k < cs->nsyms; k++) {
			h = hash_str(cs->syms[k], strlen(cs->syms[k])) &
			    (uint32_t)(ncap - 1);
			while (nt[h] != 0)
				h = (h + 1) & (uint32_t)(ncap - 1);
			nt[h] = (uint32_t)k + 1;
		}
		free(cs->symtab);
		cs->symtab = nt;
		cs->symtabcap = ncap;
	}
	h = hash_str(s, n) & (uint32_t)(cs->symtabcap - 1);
	while ((i = cs->symtab[h]) != 0) {
		const char *x = cs->syms[i - 1];

		if (strlen(x) == n && memcmp(x, s, n) == 0)
			return i - 1;
		h = (h + 1) & (uint32_t)(cs->symtabcap - 1);
	}
	if (!create)
		return UINT32_MAX;
	if (cs->nsyms == cs->symcap) {
		cs->symcap = cs->symcap ? cs->symcap * 2 : 64;
		cs->syms =
		    xreallocarray(cs->syms, cs->symcap, sizeof(*cs->syms));
	}
	cs->syms[cs->nsyms++] = xstrndup(s, n);
	cs->symtab[h] = (uint32_t)cs->nsyms;
	return (uint32_t)cs->nsyms - 1;
}

/* The index of the first file at or after (table, day). */
static size_t
rfile_lower(const struct colstore *cs, int table, uint32_t day)
{
	size_t lo = 0, hi = cs->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rfile *f = &cs->files[mid];

		if (f->table < table || (f->table == table && f->day < day))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct rfile *
rfile_find(struct colstore *cs, int table, uint32_t day)
{
	size_t lo = 0, hi = cs->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct rfile *f = &cs->files[mid];

		if (f->table < table || (f->table == table && f->day < day))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cs->nfiles && cs->files[lo].table == table &&
	    cs->files[lo].day == day)
		return &cs->files[lo];
	return NULL;
}

static struct rfile *
rfile_add(struct colstore *cs, int table, uint32_t day)
{
	size_t i;

	if (cs->nfiles == cs->filecap) {
		cs->filecap = cs->filecap ? cs->filecap * 2 : 16;
		cs->files =
		    xreallocarray(cs->files, cs->filecap, sizeof(*cs->files));
	}
	for (i = cs->nfiles; i > 0; i--) {
		struct rfile *f = &cs->files[i - 1];

		if (f->table < table || (f->table == table && f->day < day))
			break;
		cs->files[i] = *f;
	}
	memset(&cs->files[i], 0, sizeof(cs->files[i]));
	cs->files[i].table = table;
	cs->files[i].day = day;
	cs->files[i].fd = -1;
	cs->nfiles++;
	return &cs->files[i];
}

static void
rfile_fini(struct rfile *f)
{
	if (f->fd >= 0)
		osfile_close(f->fd);
	free(f->b);
	f->b = NULL;
	f->fd = -1;
}

/* Walk the headers of f up to its committed length.  0, or the error
 * of the damaged block where indexing stopped (f->bad). */
static int
rfile_index(struct colstore *cs, struct rfile *f)
{
	char path[COLSTORE_PATH_MAX];
	struct colfile_head h;
	int64_t got;
	int rc;

	if (f->bad)
		return ERR_MALFORMED;
	if (f->indexed >= f->len)
		return 0;
	if (f->fd < 0) {
		colstore_file_path(cs->dir, f->table, f->day, path);
		if ((rc = osfile_open(path, O_RDONLY, 0)) < 0)
			return rc;
		f->fd = rc;
	}
	if ((rc = grow(&cs->buf, &cs->bufcap, COLFILE_HEAD_MAX)) != 0)
		return rc;
	while (f->indexed < f->len) {
		uint64_t left = f->len - f->indexed;
		size_t n =
		    left < COLFILE_HEAD_MAX ? (size_t)left : COLFILE_HEAD_MAX;
		struct rblock *b;

		got = osfile_pread(f->fd, cs->buf, n, f->indexed);
		if (got < 0)
			return (int)got;
		rc = colfile_head_decode(cs->buf, (size_t)got, &h);
		if (rc <= 0 || h.len > left || h.table != f->table ||
		    h.day != f->day) {
			f->bad = 1;
			return rc < 0 ? rc : ERR_MALFORMED;
		}
		if (f->nb == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 64;
			f->b = xreallocarray(f->b, f->cap, sizeof(*f->b));
		}
		b = &f->b[f->nb++];
		b->off = f->indexed;
		b->len = h.len;
		b->rows = h.rows;
		b->min_t = h.min_t;
		b->max_t = h.max_t;
		b->level = (uint8_t)h.level;
		b->sym = sym_id(cs, h.symbol, h.symlen, 1);
		f->indexed += h.len;
	}
	return 0;
}

struct colstore *
colstore_new(const struct colstore_opts *o, const struct colfile_file *files,
    size_t nfiles, const uint32_t floor_day[2], const struct agg_window *w)
{
	struct colstore *cs = xcalloc(1, sizeof(*cs));
	size_t i;

	cs->dir = xstrdup(o->dir);
	cs->mb = o->mb != NULL ? o->mb : &membudget_global;
	cs->win = w;
	cs->floor[0] = floor_day[0];
	cs->floor[1] = floor_day[1];
	for (i = 0; i < nfiles; i++)
		rfile_add(cs, files[i].table, files[i].day)->len = files[i].len;
	/* Bars files are small: index them now, for the symbols. */
	for (i = 0; i < cs->nfiles; i++)
		if (cs->files[i].table == COLFILE_BARS)
			(void)rfile_index(cs, &cs->files[i]);
	return cs;
}

void
colstore_free(struct colstore *cs)
{
	size_t i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->nfiles; i++)
		rfile_fini(&cs->files[i]);
	free(cs->files);
	for (i = 0; i < cs->nsyms; i++)
		free(cs->syms[i]);
	free(cs->syms);
	free(cs->symtab);
	for (i = 0; i < cs->nchunks; i++) {
		agg_chunk_free(cs->chunks[i].c);
		free(cs->chunks[i].sids);
	}
	free(cs->chunks);
	free(cs->buf);
	colenc_scratch_fini(&cs->sc);
	free(cs->dt);
	free(cs->dp);
	free(cs->dv);
	free(cs->dc);
	free(cs->dbars);
	free(cs->symlist);
	for (i = 0; i < cs->ndviews; i++)
		view_fini(&cs->dviews[i].v);
	free(cs->dviews);
	for (i = 0; i < cs->ntviews; i++) {
		int level;

		for (level = 0; level < COLFILE_NLEVELS; level++)
			view_fini(&cs->tviews[i].v[level]);
	}
	free(cs->tviews);
	free(cs->dir);
	free(cs);
}

/* min_t, max_t and pmax of chunk i (after those of chunk i - 1). */
static void
chunk_bounds(struct colstore *cs, size_t i)
{
	struct rchunk *ch = &cs->chunks[i];
	size_t k;

	ch->min_t = INT64_MAX;
	ch->max_t = INT64_MIN;
	for (k = 0; k < ch->c->nparts; k++) {
		const struct agg_part *p = &ch->c->parts[k];

		if (p->ntrades == 0)
			continue;
		if (p->min_t < ch->min_t)
			ch->min_t = p->min_t;
		if (p->max_t > ch->max_t)
			ch->max_t = p->max_t;
	}
	ch->pmax = i > 0 && cs->chunks[i - 1].pmax > ch->max_t
	               ? cs->chunks[i - 1].pmax
	               : ch->max_t;
}

/* The first chunk that may hold a trade at or after from: every chunk
 * before it ends before from. */
static size_t
chunks_from(const struct colstore *cs, int64_t from)
{
	size_t lo = 0, hi = cs->nchunks, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cs->chunks[mid].pmax < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first part of c for sym (parts are sorted by symbol, then day);
 * c->nparts when it has none. */
static size_t
part_find(const struct agg_chunk *c, const char *sym)
{
	size_t lo = 0, hi = c->nparts, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(c->parts[mid].sym, sym) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nparts && strcmp(c->parts[lo].sym, sym) == 0 ? lo
	                                                            : c->nparts;
}

void
colstore_add_chunk(struct colstore *cs, struct agg_chunk *c, uint64_t seq)
{
	size_t i;

	ASSERT(cs->nchunks == 0 || cs->chunks[cs->nchunks - 1].seq < seq);
	if (cs->nchunks == cs->chunkcap) {
		cs->chunkcap = cs->chunkcap ? cs->chunkcap * 2 : 16;
		cs->chunks = xreallocarray(
		    cs->chunks, cs->chunkcap, sizeof(*cs->chunks));
	}
	cs->chunks[cs->nchunks].c = c;
	cs->chunks[cs->nchunks].seq = seq;
	cs->chunks[cs->nchunks].sids =
	    xreallocarray(NULL, c->nparts ? c->nparts : 1, sizeof(uint32_t));
	for (i = 0; i < c->nparts; i++) {
		/* part_find's order (agg_window.h) */
		ASSERT(i == 0 ||
		       strcmp(c->parts[i - 1].sym, c->parts[i].sym) <= 0);
		cs->chunks[cs->nchunks].sids[i] =
		    sym_id(cs, c->parts[i].sym, c->parts[i].symlen, 1);
	}
	chunk_bounds(cs, cs->nchunks++);
	tview_add_chunk(cs, c);
}

void
colstore_set_release(
    struct colstore *cs, void (*fn)(void *arg, struct agg_chunk *c), void *arg)
{
	cs->release = fn;
	cs->release_arg = arg;
}

size_t
colstore_chunks(const struct colstore *cs)
{
	return cs->nchunks;
}

void
colstore_apply(struct colstore *cs, struct colstore_done *d)
{
	size_t i, k;

	for (i = 0; i < d->nfiles; i++) {
		struct rfile *f =
		    rfile_find(cs, d->files[i].table, d->files[i].day);

		/* Retired here first (colstore_forget_before): the writer's
		 * news of it may come after a compaction that still had it. */
		if (d->files[i].day <
		    cs->floor[d->files[i].table == COLFILE_TRADES ? 0 : 1])
			continue;
		if (f == NULL)
			f = rfile_add(cs, d->files[i].table, d->files[i].day);
		if (d->files[i].len > f->len)
			f->len = d->files[i].len;
		if (f->table == COLFILE_BARS)
			(void)rfile_index(cs, f);
	}
	/* Chunks now in main files leave memory (colstore.h inv. 3). */
	for (i = 0; i < cs->nchunks && cs->chunks[i].seq <= d->compacted_upto;
	     i++) {
		if (cs->release != NULL)
			cs->release(cs->release_arg, cs->chunks[i].c);
		else
			agg_chunk_free(cs->chunks[i].c);
		free(cs->chunks[i].sids);
	}
	for (k = 0; i < cs->nchunks; i++, k++)
		cs->chunks[k] = cs->chunks[i];
	if (k < cs->nchunks) {
		cs->nchunks = k;
		for (i = 0; i < k; i++)
			chunk_bounds(cs, i);
		tview_rebuild(cs);
	}
	colstore_done_fini(d);
}

void
colstore_forget_before(struct colstore *cs, int table, uint32_t floor_day)
{
	size_t i, k;
	int ti = table == COLFILE_TRADES ? 0 : 1;

	if (floor_day > cs->floor[ti])
		cs->floor[ti] = floor_day;
	if (table == COLFILE_BARS)
		for (i = 0; i < cs->ndviews;) {
			if (cs->dviews[i].day >= floor_day) {
				i++;
				continue;
			}
			cs->view_bytes -= view_bytes(&cs->dviews[i].v);
			view_fini(&cs->dviews[i].v);
			cs->dviews[i] = cs->dviews[--cs->ndviews];
		}
	for (i = 0, k = 0; i < cs->nfiles; i++) {
		if (cs->files[i].table == table &&
		    cs->files[i].day < floor_day) {
			rfile_fini(&cs->files[i]);
			continue;
		}
		cs->files[k++] = cs->files[i];
	}
	cs->nfiles = k;
}

/* ------------------------------------------------------------------ */
/* Reading blocks */

static int
read_rblock(struct colstore *cs, struct rfile *f, const struct rblock *b,
    struct colfile_head *h)
{
	int rc = colstore_read_block(
	    f->fd, b->off, f->len, &cs->buf, &cs->bufcap, h);

	if (rc == 0)
		return ERR_MALFORMED; /* the index said it was there */
	return rc < 0 ? rc : 0;
}

static void
decode_room(struct colstore *cs, size_t rows)
{
	if (cs->dcap >= rows)
		return;
	cs->dt = xreallocarray(cs->dt, rows, sizeof(*cs->dt));
	cs->dp = xreallocarray(cs->dp, rows, sizeof(*cs->dp));
	cs->dv = xreallocarray(cs->dv, rows, sizeof(*cs->dv));
	cs->dc = xreallocarray(cs->dc, rows, sizeof(*cs->dc));
	cs->dcap = rows;
}

static void
bar_room(struct colstore *cs, size_t rows)
{
	if (cs->dbarcap >= rows)
		return;
	cs->dbars = xreallocarray(cs->dbars, rows, sizeof(*cs->dbars));
	cs->dbarcap = rows;
}

/* ------------------------------------------------------------------ */
/* Views: merged bars kept in memory */

/* The row of bucket t in v, created in order when missing. */
static struct agg_bar *
view_slot(struct view *v, int64_t t)
{
	size_t lo, hi;

	if (v->n > 0 && v->rows[v->n - 1].t == t)
		return &v->rows[v->n - 1];
	if (v->n == 0 || v->rows[v->n - 1].t < t) {
		lo = v->n;
	} else {
		for (lo = 0, hi = v->n; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (v->rows[mid].t < t)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < v->n && v->rows[lo].t == t)
			return &v->rows[lo];
	}
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->rows = xreallocarray(v->rows, v->cap, sizeof(*v->rows));
	}
	memmove(&v->rows[lo + 1], &v->rows[lo], (v->n - lo) * sizeof(*v->rows));
	agg_bar_init(&v->rows[lo], t);
	v->n++;
	return &v->rows[lo];
}

static void
view_row(struct view *v, int64_t size, const struct colbar *r)
{
	agg_bar_merge_row(view_slot(v, r->t - r->t % size), r);
}

static void
view_fini(struct view *v)
{
	free(v->rows);
	memset(v, 0, sizeof(*v));
}

static size_t
view_bytes(const struct view *v)
{
	return v->cap * sizeof(*v->rows);
}

static struct tview *
tview_of(struct colstore *cs, uint32_t sid)
{
	if (sid >= cs->ntviews) {
		size_t n = cs->ntviews ? cs->ntviews : 16;

		while (n <= sid)
			n *= 2;
		cs->tviews = xreallocarray(cs->tviews, n, sizeof(*cs->tviews));
		memset(cs->tviews + cs->ntviews, 0,
		    (n - cs->ntviews) * sizeof(*cs->tviews));
		cs->ntviews = n;
	}
	return &cs->tviews[sid];
}

static void
tview_add_chunk(struct colstore *cs, const struct agg_chunk *c)
{
	size_t i, k;
	int level;

	for (i = 0; i < c->nparts; i++) {
		const struct agg_part *p = &c->parts[i];
		struct tview *tv =
		    tview_of(cs, sym_id(cs, p->sym, p->symlen, 1));

		for (level = 0; level < COLFILE_NLEVELS; level++)
			for (k = 0; k < p->nbars; k++)
				view_row(&tv->v[level], colfile_level_ms[level],
				    &p->bars[k]);
	}
}

/* After chunks left memory: the tail views again from those left. */
static void
tview_rebuild(struct colstore *cs)
{
	size_t i;
	int level;

	for (i = 0; i < cs->ntviews; i++)
		for (level = 0; level < COLFILE_NLEVELS; level++)
			cs->tviews[i].v[level].n = 0;
	for (i = 0; i < cs->nchunks; i++)
		tview_add_chunk(cs, cs->chunks[i].c);
	/* Keep the memory of busy symbols, give back what grew large. */
	for (i = 0; i < cs->ntviews; i++)
		for (level = 0; level < COLFILE_NLEVELS; level++)
			if (cs->tviews[i].v[level].n == 0 &&
			    cs->tviews[i].v[level].cap > 4096)
				view_fini(&cs->tviews[i].v[level]);
}

static void
dview_evict(struct colstore *cs, size_t keep)
{
	while (cs->view_bytes > COLSTORE_VIEW_BYTES && cs->ndviews > 1) {
		size_t i, old = keep == 0 ? 1 : 0;

		for (i = 0; i < cs->ndviews; i++)
			if (i != keep &&
			    cs->dviews[i].used < cs->dviews[old].used)
				old = i;
		cs->view_bytes -= view_bytes(&cs->dviews[old].v);
		view_fini(&cs->dviews[old].v);
		cs->dviews[old] = cs->dviews[--cs->ndviews];
		if (keep == cs->ndviews)
			keep = old;
	}
}

/* The coarse view (level >= 1) of symbol sid in bars file f, brought up
 * to the file's committed length.  NULL and *rc on a damaged block. */
static struct view *
dview_get(struct colstore *cs, struct colstore_result *r, struct rfile *f,
    uint32_t sid, int level, int *rc)
{
	struct colfile_head h;
	struct dview *dv = NULL;
	size_t i, k, before;

	for (i = 0; i < cs->ndviews; i++)
		if (cs->dviews[i].day == f->day && cs->dviews[i].sym == sid &&
		    cs->dviews[i].level == level) {
			dv = &cs->dviews[i];
			break;
		}
	if (dv == NULL) {
		if (cs->ndviews == cs->dviewcap) {
			cs->dviewcap = cs->dviewcap ? cs->dviewcap * 2 : 16;
			cs->dviews = xreallocarray(
			    cs->dviews, cs->dviewcap, sizeof(*cs->dviews));
		}
		dv = &cs->dviews[cs->ndviews++];
		memset(dv, 0, sizeof(*dv));
		dv->day = f->day;
		dv->sym = sid;
		dv->level = level;
	}
	dv->used = ++cs->clock;
	if ((*rc = rfile_index(cs, f)) != 0)
		return NULL;
	before = view_bytes(&dv->v);
	for (i = dv->upto; i < f->nb; i++) {
		const struct rblock *b = &f->b[i];

		if (b->sym != sid || b->level != level)
			continue;
		if ((*rc = read_rblock(cs, f, b, &h)) != 0)
			return NULL;
		bar_room(cs, h.rows);
		if ((*rc = colfile_decode_bars(
		         cs->buf, &h, cs->dbars, &cs->sc)) != 0)
			return NULL;
		r->blocks_read++;
		for (k = 0; k < h.rows; k++)
			view_row(
			    &dv->v, colfile_level_ms[level], &cs->dbars[k]);
	}
	dv->upto = f->nb;
	cs->view_bytes += view_bytes(&dv->v) - before;
	dview_evict(cs, (size_t)(dv - cs->dviews));
	/* Eviction may have moved it: find it again. */
	for (i = 0; i < cs->ndviews; i++)
		if (cs->dviews[i].day == f->day && cs->dviews[i].sym == sid &&
		    cs->dviews[i].level == level)
			return &cs->dviews[i].v;
	return NULL;
}

/* Merge the rows of v with t in [start, end) into acc (buckets of
 * size from start). */
static void
view_into(const struct view *v, int64_t start, int64_t end, int64_t size,
    uint32_t floor, struct agg_bar *acc)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->rows[mid].t < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->n && v->rows[lo].t < end; lo++)
		if (colfile_day(v->rows[lo].t) >= floor)
			agg_bar_merge(
			    &acc[(v->rows[lo].t - start) / size], &v->rows[lo]);
}

/* ------------------------------------------------------------------ */
/* Results */

struct rmem {
	char **strs; /* copies of condition texts and symbols */
	size_t n, cap;
};

static const char *
rmem_str(struct colstore_result *r, const void *p, size_t n)
{
	struct rmem *m = r->mem;
	char *s;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->strs = xreallocarray(m->strs, m->cap, sizeof(*m->strs));
	}
	s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	m->strs[m->n++] = s;
	return s;
}

static struct colstore_result *
result_new(size_t nseries)
{
	struct colstore_result *r = xcalloc(1, sizeof(*r));

	r->series = xcalloc(nseries ? nseries : 1, sizeof(*r->series));
	r->mem = xcalloc(1, sizeof(struct rmem));
	return r;
}

void
colstore_result_free(struct colstore_result *r)
{
	struct rmem *m;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nseries; i++) {
		struct colstore_series *s = &r->series[i];

		free(s->t);
		free(s->price);
		free(s->volume);
		free(s->cond);
		free(s->open);
		free(s->high);
		free(s->low);
		free(s->close);
		free(s->pv);
		free(s->count);
		free(s->rowsym);
	}
	m = r->mem;
	for (i = 0; i < m->n; i++)
		free(m->strs[i]);
	free(m->strs);
	free(m);
	free(r->series);
	free(r);
}

/* The symbols a query names, or every known one (colstore_symbols). */
static size_t
query_symbols(struct colstore *cs, const struct colstore_query *q,
    const char *const **out)
{
	const char **all;

	if (q->symbols != NULL && q->nsymbols > 0) {
		*out = q->symbols;
		return q->nsymbols;
	}
	{
		size_t n = colstore_symbols(cs, &all);

		*out = all;
		return n;
	}
}

/* Trade rows collected for one series, before sorting. */
struct trows {
	int64_t *t;
	double *p, *v;
	struct colstore_text *c;
	uint64_t *pos; /* write order, for ties */
	size_t n, cap;
};

static int
trows_push(struct trows *tr, int64_t t, struct decnum p, struct decnum v,
    struct colstore_text c, uint64_t pos)
{
	if (tr->n == tr->cap) {
		size_t ncap = tr->cap ? tr->cap * 2 : 256;

		if (ncap > COLSTORE_MAX_SCAN_ROWS)
			ncap = COLSTORE_MAX_SCAN_ROWS;
		if (tr->n >= ncap)
			return ERR_TOO_BIG;
		tr->t = xreallocarray(tr->t, ncap, sizeof(*tr->t));
		tr->p = xreallocarray(tr->p, ncap, sizeof(*tr->p));
		tr->v = xreallocarray(tr->v, ncap, sizeof(*tr->v));
		tr->c = xreallocarray(tr->c, ncap, sizeof(*tr->c));
		tr->pos = xreallocarray(tr->pos, ncap, sizeof(*tr->pos));
		tr->cap = ncap;
	}
	tr->t[tr->n] = t;
	tr->p[tr->n] = decnum_to_double(p);
	tr->v[tr->n] = decnum_to_double(v);
	tr->c[tr->n] = c;
	tr->pos[tr->n] = pos;
	tr->n++;
	return 0;
}

static void
trows_fini(struct trows *tr)
{
	free(tr->t);
	free(tr->p);
	free(tr->v);
	free(tr->c);
	free(tr->pos);
	memset(tr, 0, sizeof(*tr));
}

/* A condition text as the result keeps it (interned per result by
 * pointer: the same source text is copied once). */
struct ctext_cache {
	const uint8_t *src[8];
	const char *dst[8];
	int next;
};

static struct colstore_text
ctext(struct colstore_result *r, struct ctext_cache *cc,
    const struct colenc_str *s)
{
	struct colstore_text out = {NULL, -1};
	int i;

	if (s->len < 0)
		return out;
	out.len = s->len;
	for (i = 0; i < 8; i++)
		if (cc->src[i] == s->p && cc->dst[i] != NULL) {
			out.p = cc->dst[i];
			return out;
		}
	out.p = rmem_str(r, s->p, (size_t)s->len);
	cc->src[cc->next] = s->p;
	cc->dst[cc->next] = out.p;
	cc->next = (cc->next + 1) % 8;
	return out;
}

/* The days [*d0, *d1] of [from, to), clamped; 0 when empty. */
static int
day_range(struct colstore *cs, int ti, int64_t *from, int64_t *to, uint32_t *d0,
    uint32_t *d1)
{
	if (*from < 0)
		*from = 0;
	if (*to > COLFILE_MAX_T)
		*to = COLFILE_MAX_T;
	if (*from >= *to)
		return 0;
	*d0 = colfile_day(*from);
	*d1 = colfile_day(*to - 1);
	if (*d0 < cs->floor[ti])
		*d0 = cs->floor[ti];
	return *d0 <= *d1;
}

/* The rows of block b of f with t in [from, to), pos + row for ties. */
static int
block_rows(struct colstore *cs, struct colstore_result *r, struct rfile *f,
    const struct rblock *b, int64_t from, int64_t to, struct trows *tr,
    uint64_t pos)
{
	struct colfile_trades out;
	struct ctext_cache cc;
	struct colfile_head h;
	size_t k;
	int rc;

	if ((rc = read_rblock(cs, f, b, &h)) != 0)
		return rc;
	decode_room(cs, h.rows);
	out.t = cs->dt;
	out.price = cs->dp;
	out.volume = cs->dv;
	out.cond = cs->dc;
	if ((rc = colfile_decode_trades(cs->buf, &h, &out, &cs->sc)) != 0)
		return rc;
	r->blocks_read++;
	memset(&cc, 0, sizeof(cc));
	for (k = 0; k < h.rows; k++)
		if (cs->dt[k] >= from && cs->dt[k] < to &&
		    (rc = trows_push(tr, cs->dt[k], cs->dp[k], cs->dv[k],
		         ctext(r, &cc, &cs->dc[k]), pos + k)) != 0)
			return rc;
	return 0;
}

/* Rows sealed or pending in memory come after every row on disk. */
#define MEM_POS ((uint64_t)1 << 62)

/* The trades of sym with t in [from, to) held in memory: the chunks,
 * then the window (colstore.h invariant 3). */
static int
memory_rows(struct colstore *cs, struct colstore_result *r, const char *sym,
    uint32_t sid, uint32_t d0, uint32_t d1, int64_t from, int64_t to,
    struct trows *tr)
{
	struct ctext_cache cc;
	uint64_t pos = MEM_POS;
	size_t i, k, j;
	int rc;

	memset(&cc, 0, sizeof(cc));
	for (i = chunks_from(cs, from); i < cs->nchunks && sid != UINT32_MAX;
	     i++) {
		const struct agg_chunk *c = cs->chunks[i].c;

		if (cs->chunks[i].max_t < from || cs->chunks[i].min_t >= to)
			continue;
		for (k = part_find(c, sym); k < c->nparts; k++) {
			const struct agg_part *p = &c->parts[k];

			if (cs->chunks[i].sids[k] != sid)
				break;
			if (p->day < d0 || p->day > d1)
				continue;
			for (j = 0; j < p->ntrades; j++)
				if (p->t[j] >= from && p->t[j] < to &&
				    (rc = trows_push(tr, p->t[j], p->price[j],
				         p->volume[j],
				         ctext(r, &cc, &p->cond[j]),
				         pos + j)) != 0)
					return rc;
			pos += p->ntrades;
		}
	}
	if (cs->win != NULL) {
		const struct agg_sym *s =
		    agg_window_sym(cs->win, sym, strlen(sym));

		for (k = 0; s != NULL && k < s->ntrades; k++)
			if (s->t[k] >= from && s->t[k] < to &&
			    colfile_day(s->t[k]) >= d0 &&
			    (rc = trows_push(tr, s->t[k], s->price[k],
			         s->volume[k], ctext(r, &cc, &s->cond[k]),
			         pos + k)) != 0)
				return rc;
	}
	return 0;
}

/* A block's place in the store: ties between trades of one symbol at
 * one ms go by it (file order is arrival order). */
static uint64_t
block_pos(size_t fi, size_t bi)
{
	return (uint64_t)fi << 44 | (uint64_t)bi << 17;
}

/*
 * Collect the trades of symbol sym (id sid, may be UINT32_MAX) with t in
 * [from, to) into tr, from every source in write order.
 */
static int
collect_trades(struct colstore *cs, struct colstore_result *r, const char *sym,
    uint32_t sid, int64_t from, int64_t to, struct trows *tr)
{
	uint32_t d0, d1;
	size_t i, fi;
	int rc;

	if (!day_range(cs, 0, &from, &to, &d0, &d1))
		return 0;
	for (fi = rfile_lower(cs, COLFILE_TRADES, d0);
	     sid != UINT32_MAX && fi < cs->nfiles &&
	     cs->files[fi].table == COLFILE_TRADES && cs->files[fi].day <= d1;
	     fi++) {
		struct rfile *f = &cs->files[fi];

		if ((rc = rfile_index(cs, f)) != 0)
			return rc;
		for (i = 0; i < f->nb; i++) {
			const struct rblock *b = &f->b[i];

			if (b->sym != sid)
				continue;
			if (b->max_t < from || b->min_t >= to) {
				r->blocks_skipped++;
				continue;
			}
			if ((rc = block_rows(cs, r, f, b, from, to, tr,
			         block_pos(fi, i))) != 0)
				return rc;
		}
	}
	return memory_rows(cs, r, sym, sid, d0, d1, from, to, tr);
}

/* Sort tr by (t, pos) ascending into series s (which takes arrays). */
static void
trows_to_series(struct trows *tr, struct colstore_series *s, int newest_first)
{
	struct tidx *ix;
	size_t i, n = tr->n;
	int sorted = 1;

	for (i = 1; i < n && sorted; i++)
		sorted = tr->t[i - 1] <= tr->t[i];
	s->n = n;
	s->t = xreallocarray(NULL, n ? n : 1, sizeof(*s->t));
	s->price = xreallocarray(NULL, n ? n : 1, sizeof(*s->price));
	s->volume = xreallocarray(NULL, n ? n : 1, sizeof(*s->volume));
	s->cond = xreallocarray(NULL, n ? n : 1, sizeof(*s->cond));
	ix = xreallocarray(NULL, n ? n : 1, sizeof(*ix));
	for (i = 0; i < n; i++) {
		ix[i].t = tr->t[i];
		ix[i].i = i;
	}
	if (!sorted)
		qsort(ix, n, sizeof(*ix), cmp_tidx);
	for (i = 0; i < n; i++) {
		size_t j = ix[newest_first ? n - 1 - i : i].i;

		s->t[i] = tr->t[j];
		s->price[i] = tr->p[j];
		s->volume[i] = tr->v[j];
		s->cond[i] = tr->c[j];
	}
	free(ix);
}

int
colstore_scan_trades(struct colstore *cs, const struct colstore_query *q,
    struct colstore_result **out)
{
	const char *const *syms;
	struct colstore_result *r;
	struct trows tr;
	size_t nsyms, i, total = 0;
	int rc = 0;

	*out = NULL;
	if (q->from_ms >= q->to_ms)
		return ERR_RANGE;
	nsyms = query_symbols(cs, q, &syms);
	r = result_new(nsyms);
	memset(&tr, 0, sizeof(tr));
	for (i = 0; i < nsyms; i++) {
		const char *sym = syms[i];
		uint32_t sid = sym_id(cs, sym, strlen(sym), 0);

		trows_fini(&tr);
		if ((rc = collect_trades(
		         cs, r, sym, sid, q->from_ms, q->to_ms, &tr)) != 0)
			break;
		if (tr.n == 0 && q->nsymbols == 0)
			continue;
		if ((total += tr.n) > COLSTORE_MAX_SCAN_ROWS) {
			rc = ERR_TOO_BIG;
			break;
		}
		r->series[r->nseries].symbol = rmem_str(r, sym, strlen(sym));
		trows_to_series(&tr, &r->series[r->nseries], 0);
		r->nseries++;
	}
	trows_fini(&tr);
	if (rc != 0) {
		colstore_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Bars */

static int
bars_level(int64_t bucket)
{
	int level;

	for (level = COLFILE_NLEVELS - 1; level > 0; level--)
		if (bucket % colfile_level_ms[level] == 0)
			return level;
	return 0;
}

int64_t
colstore_pick_bucket(int64_t range_ms, size_t max_points)
{
	int64_t b;
	int level;

	if (max_points == 0)
		max_points = 1;
	if (range_ms < 1)
		range_ms = 1;
	b = (range_ms + (int64_t)max_points - 1) / (int64_t)max_points;
	b = (b + 999) / 1000 * 1000;
	for (level = COLFILE_NLEVELS - 1; level > 0; level--) {
		int64_t l = colfile_level_ms[level];

		if (b >= l) {
			b = (b + l - 1) / l * l;
			break;
		}
	}
	return b;
}

int
colstore_bar_vwap(const struct colstore_series *s, size_t i, double *out)
{
	if (i >= s->n || s->volume[i] == 0)
		return 0;
	*out = s->pv[i] / s->volume[i];
	return 1;
}

/* Bars of one symbol into acc[nb] (buckets of size from start). */
static int
collect_bars(struct colstore *cs, struct colstore_result *r, const char *sym,
    uint32_t sid, int level, int64_t start, int64_t size, size_t nb,
    struct agg_bar *acc)
{
	int64_t end = start + (int64_t)nb * size, lsize;
	struct colfile_head h;
	uint32_t d0, d1;
	size_t i, k, fi;
	int rc;

	lsize = colfile_level_ms[level];
	d0 = colfile_day(start);
	d1 = colfile_day(end - 1);
	if (d0 < cs->floor[1])
		d0 = cs->floor[1];
	for (fi = rfile_lower(cs, COLFILE_BARS, d0);
	     sid != UINT32_MAX && fi < cs->nfiles &&
	     cs->files[fi].table == COLFILE_BARS && cs->files[fi].day <= d1;
	     fi++) {
		struct rfile *f = &cs->files[fi];

		if ((rc = rfile_index(cs, f)) != 0)
			return rc;
		if (level > 0) { /* the day's merged view */
			const struct view *v =
			    dview_get(cs, r, f, sid, level, &rc);

			if (v == NULL)
				return rc;
			view_into(v, start, end, size, cs->floor[1], acc);
			continue;
		}
		for (i = 0; i < f->nb; i++) {
			const struct rblock *b = &f->b[i];

			if (b->sym != sid || b->level != level)
				continue;
			if (b->max_t + lsize <= start || b->min_t >= end) {
				r->blocks_skipped++;
				continue;
			}
			if ((rc = read_rblock(cs, f, b, &h)) != 0)
				return rc;
			bar_room(cs, h.rows);
			if ((rc = colfile_decode_bars(
			         cs->buf, &h, cs->dbars, &cs->sc)) != 0)
				return rc;
			r->blocks_read++;
			for (k = 0; k < h.rows; k++) {
				const struct colbar *row = &cs->dbars[k];

				if (row->t >= start && row->t < end)
					agg_bar_merge_row(
					    &acc[(row->t - start) / size], row);
			}
		}
	}
	/* The chunks, through their merged view at this level. */
	if (sid != UINT32_MAX && sid < cs->ntviews)
		view_into(&cs->tviews[sid].v[level], start, end, size,
		    cs->floor[1], acc);
	if (cs->win != NULL) {
		const struct agg_sym *s =
		    agg_window_sym(cs->win, sym, strlen(sym));

		for (k = 0; s != NULL && k < s->nbuckets; k++) {
			const struct agg_bar *b =
			    agg_window_bucket(cs->win, s->buckets[k]);

			if (b->t >= start && b->t < end &&
			    colfile_day(b->t) >= cs->floor[1])
				agg_bar_merge(&acc[(b->t - start) / size], b);
		}
	}
	return 0;
}

int
colstore_scan_bars(struct colstore *cs, const struct colstore_query *q,
    int64_t bucket, struct colstore_result **out)
{
	const char *const *syms;
	struct colstore_result *r;
	struct agg_bar *acc;
	int64_t start;
	size_t nsyms, nb, i, k;
	int rc = 0, level;

	*out = NULL;
	if (bucket < 1000 || bucket % 1000 != 0 || q->from_ms >= q->to_ms ||
	    q->from_ms < 0)
		return ERR_RANGE;
	start = q->from_ms - q->from_ms % bucket;
	if (start >= COLFILE_MAX_T)
		return ERR_RANGE;
	if ((uint64_t)(q->to_ms - start) / (uint64_t)bucket >=
	    COLSTORE_MAX_BUCKETS)
		return ERR_TOO_BIG;
	nb = (size_t)((q->to_ms - start + bucket - 1) / bucket);
	level = bars_level(bucket);
	nsyms = query_symbols(cs, q, &syms);
	r = result_new(nsyms);
	r->bucket_ms = bucket;
	r->level = level;
	acc = xreallocarray(NULL, nb, sizeof(*acc));
	for (i = 0; i < nsyms && rc == 0; i++) {
		const char *sym = syms[i];
		struct colstore_series *s = &r->series[r->nseries];
		size_t n = 0;

		for (k = 0; k < nb; k++)
			agg_bar_init(&acc[k], start + (int64_t)k * bucket);
		rc = collect_bars(cs, r, sym, sym_id(cs, sym, strlen(sym), 0),
		    level, start, bucket, nb, acc);
		if (rc != 0)
			break;
		for (k = 0; k < nb; k++)
			n += acc[k].count > 0;
		if (n == 0 && q->nsymbols == 0)
			continue;
		s->symbol = rmem_str(r, sym, strlen(sym));
		s->t = xreallocarray(NULL, n ? n : 1, sizeof(*s->t));
		s->open = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->high = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->low = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->close = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->volume = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->pv = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->count = xreallocarray(NULL, n ? n : 1, sizeof(*s->count));
		for (k = 0; k < nb; k++) {
			const struct agg_bar *b = &acc[k];

			if (b->count == 0)
				continue;
			s->t[s->n] = b->t;
			s->open[s->n] = decnum_to_double(b->open);
			s->high[s->n] = decnum_to_double(b->high);
			s->low[s->n] = decnum_to_double(b->low);
			s->close[s->n] = decnum_to_double(b->close);
			s->volume[s->n] = decacc_double(&b->volume);
			s->pv[s->n] = decacc_double(&b->pv);
			s->count[s->n] = b->count;
			s->n++;
		}
		r->nseries++;
	}
	free(acc);
	if (rc != 0) {
		colstore_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Latest trades */

struct lrow {
	int64_t t;
	uint64_t pos; /* (symbol << 40) | write order, for ties */
	double p, v;
	struct colstore_text c;
	const char *sym;
};

static int
cmp_lrow_desc(const void *a, const void *b)
{
	const struct lrow *x = a, *y = b;

	if (x->t != y->t)
		return x->t > y->t ? -1 : 1;
	return x->pos > y->pos ? -1 : x->pos < y->pos;
}

/* A place trades may come from, for the newest-first scan: a block of
 * a day file (chunk < 0) or a part of a chunk in memory. */
struct src {
	int64_t max_t;
	size_t fi, bi; /* day file, block */
	ssize_t chunk;
	size_t part;
};

static int
cmp_src_desc(const void *a, const void *b)
{
	const struct src *x = a, *y = b;

	return x->max_t > y->max_t ? -1 : x->max_t < y->max_t;
}

static int
cmp_i64_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x > y ? -1 : x < y;
}

/* The k-th newest time in tr (k <= tr->n). */
static int64_t
kth_newest(const struct trows *tr, size_t k, int64_t **tmp, size_t *tmpcap)
{
	if (*tmpcap < tr->n) {
		*tmpcap = tr->n;
		*tmp = xreallocarray(*tmp, *tmpcap, sizeof(**tmp));
	}
	memcpy(*tmp, tr->t, tr->n * sizeof(**tmp));
	qsort(*tmp, tr->n, sizeof(**tmp), cmp_i64_desc);
	return (*tmp)[k - 1];
}

/* The rows of part k of chunk i with t in [from, to). */
static int
part_rows(struct colstore *cs, struct colstore_result *r, size_t i, size_t k,
    int64_t from, int64_t to, struct trows *tr)
{
	const struct agg_part *p = &cs->chunks[i].c->parts[k];
	struct ctext_cache cc;
	uint64_t pos = MEM_POS + ((uint64_t)i << 32);
	size_t j;
	int rc;

	memset(&cc, 0, sizeof(cc));
	for (j = 0; j < p->ntrades; j++)
		if (p->t[j] >= from && p->t[j] < to &&
		    (rc = trows_push(tr, p->t[j], p->price[j], p->volume[j],
		         ctext(r, &cc, &p->cond[j]), pos + j)) != 0)
			return rc;
	return 0;
}

/* The window's pending trades of sym with t in [from, to). */
static int
window_rows(struct colstore *cs, struct colstore_result *r, const char *sym,
    uint32_t d0, int64_t from, int64_t to, struct trows *tr)
{
	const struct agg_sym *s;
	struct ctext_cache cc;
	size_t k;
	int rc;

	if (cs->win == NULL ||
	    (s = agg_window_sym(cs->win, sym, strlen(sym))) == NULL)
		return 0;
	memset(&cc, 0, sizeof(cc));
	for (k = 0; k < s->ntrades; k++)
		if (s->t[k] >= from && s->t[k] < to &&
		    colfile_day(s->t[k]) >= d0 &&
		    (rc = trows_push(tr, s->t[k], s->price[k], s->volume[k],
		         ctext(r, &cc, &s->cond[k]), UINT64_MAX / 2 + k)) != 0)
			return rc;
	return 0;
}

int
colstore_latest_trades(struct colstore *cs, const struct colstore_query *q,
    size_t limit, struct colstore_result **out)
{
	const char *const *syms;
	struct colstore_result *r;
	struct lrow *rows = NULL;
	struct src *srcs = NULL;
	int64_t *tmp = NULL, from = q->from_ms, to = q->to_ms;
	struct trows tr;
	size_t nsyms, i, k, n = 0, cap = 0, ns, scap = 0, tmpcap = 0, fi;
	uint32_t d0 = 0, d1 = 0;
	int rc = 0, any;

	*out = NULL;
	if (q->from_ms >= q->to_ms || q->from_ms < 0 || limit == 0 ||
	    limit > COLSTORE_MAX_SCAN_ROWS)
		return ERR_RANGE;
	any = day_range(cs, 0, &from, &to, &d0, &d1);
	nsyms = query_symbols(cs, q, &syms);
	r = result_new(1);
	memset(&tr, 0, sizeof(tr));
	for (i = 0; i < nsyms && rc == 0 && any; i++) {
		const char *sym = rmem_str(r, syms[i], strlen(syms[i]));
		uint32_t sid = sym_id(cs, sym, strlen(sym), 0);

		trows_fini(&tr);
		if ((rc = window_rows(cs, r, sym, d0, from, to, &tr)) != 0)
			break;
		/* Every block and chunk part of the symbol in range, newest
		 * first: once limit rows are held, a source whose newest
		 * trade is older than the limit-th newest cannot add one. */
		ns = 0;
#define SRC_ROOM()                                                             \
	do {                                                                   \
		if (ns == scap) {                                              \
			scap = scap ? scap * 2 : 64;                           \
			srcs = xreallocarray(srcs, scap, sizeof(*srcs));       \
		}                                                              \
	} while (0)
		for (fi = rfile_lower(cs, COLFILE_TRADES, d0);
		     sid != UINT32_MAX && fi < cs->nfiles &&
		     cs->files[fi].table == COLFILE_TRADES &&
		     cs->files[fi].day <= d1;
		     fi++) {
			struct rfile *f = &cs->files[fi];

			if ((rc = rfile_index(cs, f)) != 0)
				break;
			for (k = 0; k < f->nb; k++) {
				if (f->b[k].sym != sid ||
				    f->b[k].max_t < from || f->b[k].min_t >= to)
					continue;
				SRC_ROOM();
				srcs[ns].max_t = f->b[k].max_t;
				srcs[ns].fi = fi;
				srcs[ns].bi = k;
				srcs[ns].chunk = -1;
				ns++;
			}
		}
		for (k = chunks_from(cs, from); k < cs->nchunks && rc == 0;
		     k++) {
			const struct agg_chunk *c = cs->chunks[k].c;
			size_t j;

			if (cs->chunks[k].max_t < from ||
			    cs->chunks[k].min_t >= to)
				continue;
			for (j = part_find(c, sym); j < c->nparts; j++) {
				const struct agg_part *p = &c->parts[j];

				if (cs->chunks[k].sids[j] != sid)
					break;
				if (p->day < d0 || p->day > d1 ||
				    p->ntrades == 0 || p->max_t < from ||
				    p->min_t >= to)
					continue;
				SRC_ROOM();
				srcs[ns].max_t = p->max_t;
				srcs[ns].chunk = (ssize_t)k;
				srcs[ns].part = j;
				ns++;
			}
		}
#undef SRC_ROOM
		if (rc != 0)
			break;
		qsort(srcs, ns, sizeof(*srcs), cmp_src_desc);
		for (k = 0; k < ns && rc == 0; k++) {
			if (tr.n >= limit &&
			    srcs[k].max_t <
			        kth_newest(&tr, limit, &tmp, &tmpcap)) {
				r->blocks_skipped += ns - k;
				break;
			}
			if (srcs[k].chunk >= 0) {
				rc = part_rows(cs, r, (size_t)srcs[k].chunk,
				    srcs[k].part, from, to, &tr);
			} else {
				struct rfile *f = &cs->files[srcs[k].fi];

				rc = block_rows(cs, r, f, &f->b[srcs[k].bi],
				    from, to, &tr,
				    block_pos(srcs[k].fi, srcs[k].bi));
			}
		}
		if (rc != 0)
			break;
		if (n + tr.n > cap) {
			cap = (n + tr.n) * 2;
			rows = xreallocarray(rows, cap, sizeof(*rows));
		}
		for (k = 0; k < tr.n; k++) {
			struct lrow *l = &rows[n++];

			l->t = tr.t[k];
			l->pos = tr.pos[k];
			l->p = tr.p[k];
			l->v = tr.v[k];
			l->c = tr.c[k];
			l->sym = sym;
		}
		/* Keep the pile small: sort and cut at limit. */
		if (n > 2 * limit) {
			qsort(rows, n, sizeof(*rows), cmp_lrow_desc);
			n = limit;
			r->truncated = 1;
		}
	}
	trows_fini(&tr);
	free(srcs);
	free(tmp);
	if (rc != 0) {
		free(rows);
		colstore_result_free(r);
		return rc;
	}
	qsort(rows, n, sizeof(*rows), cmp_lrow_desc);
	if (n > limit) {
		n = limit;
		r->truncated = 1;
	}
	{
		struct colstore_series *s = &r->series[0];

		r->nseries = 1;
		s->n = n;
		s->t = xreallocarray(NULL, n ? n : 1, sizeof(*s->t));
		s->price = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->volume = xreallocarray(NULL, n ? n : 1, sizeof(double));
		s->cond = xreallocarray(NULL, n ? n : 1, sizeof(*s->cond));
		s->rowsym = xreallocarray(NULL, n ? n : 1, sizeof(*s->rowsym));
		for (k = 0; k < n; k++) {
			s->t[k] = rows[k].t;
			s->price[k] = rows[k].p;
			s->volume[k] = rows[k].v;
			s->cond[k] = rows[k].c;
			s->rowsym[k] = rows[k].sym;
		}
	}
	free(rows);
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Symbols */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int64_t
colstore_oldest_ms(const struct colstore *cs)
{
	const struct agg_sym *s;
	int64_t t = INT64_MAX;
	size_t i, j;

	for (i = 0; i < cs->nfiles; i++) {
		const struct rfile *f = &cs->files[i];

		if (f->table != COLFILE_BARS || f->day < cs->floor[1])
			continue;
		for (j = 0; j < f->nb; j++) /* 1 s bars: coarser start early */
			if (f->b[j].level == 0 && f->b[j].min_t < t)
				t = f->b[j].min_t;
	}
	for (i = 0; i < cs->nchunks; i++)
		for (j = 0; j < cs->chunks[i].c->nparts; j++) {
			const struct agg_part *p = &cs->chunks[i].c->parts[j];

			if (p->ntrades > 0 && p->min_t < t)
				t = p->min_t;
			if (p->nbars > 0 && p->bars[0].t < t)
				t = p->bars[0].t;
		}
	if (cs->win != NULL)
		for (i = 0; (s = agg_window_sym_at(cs->win, i)) != NULL; i++)
			for (j = 0; j < s->ntrades; j++)
				if (s->t[j] < t)
					t = s->t[j];
	return t;
}

size_t
colstore_symbols(struct colstore *cs, const char ***out)
{
	const struct agg_sym *s;
	size_t i;

	if (cs->win != NULL)
		for (i = 0; (s = agg_window_sym_at(cs->win, i)) != NULL; i++)
			(void)sym_id(cs, s->sym, s->symlen, 1);
	free(cs->symlist);
	cs->symlist = xreallocarray(
	    NULL, cs->nsyms ? cs->nsyms : 1, sizeof(*cs->symlist));
	for (i = 0; i < cs->nsyms; i++)
		cs->symlist[i] = cs->syms[i];
	qsort(cs->symlist, cs->nsyms, sizeof(*cs->symlist), cmp_str);
	*out = cs->symlist;
	return cs->nsyms;
}
