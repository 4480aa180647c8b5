/*
 * colstore_tool.c: (4) the column store read offline: --verify-store
 * and --dump-store (see colstore.h).  Nothing here writes: a torn tail
 * is reported as what the next open will cut, never cut here.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "storage/colstore.h"
#include "storage/colstore_int.h"
#include "storage/osfile.h"

struct slotinfo {
	int present, valid;
	struct colfile_commit c;
};

/* Both slots; returns the index of the newer valid one, or -1. */
static int
load_slots(const char *dir, struct slotinfo s[2])
{
	int k, best = -1;

	for (k = 0; k < 2; k++) {
		char path[COLSTORE_PATH_MAX];
		uint8_t *buf = NULL;
		size_t len = 0;
		int rc;

		memset(&s[k], 0, sizeof(s[k]));
		snprintf(path, sizeof(path), "%s/commit.%d", dir, k);
		rc = osfile_read_all(path, COLFILE_MAX_COMMIT, &buf, &len);
		if (rc == -ENOENT)
			continue;
		s[k].present = 1;
		if (rc == 0 && colfile_commit_decode(buf, len, &s[k].c) == 0)
			s[k].valid = 1;
		free(buf);
		if (s[k].valid && (best < 0 || s[k].c.seq > s[best].c.seq))
			best = k;
	}
	return best;
}

static void
free_slots(struct slotinfo s[2])
{
	colfile_commit_fini(&s[0].c);
	colfile_commit_fini(&s[1].c);
}

/* ------------------------------------------------------------------ */
/* Verify */

struct vstate {
	FILE *fp;
	struct colenc_scratch sc;
	uint8_t *buf;
	size_t cap;
	uint64_t blocks, rows;
	int damaged;
	const struct colfile_commit *c;
	const char *dir;
	int table;
	int extra; /* files the next open removes */
};

static int
positive(struct decnum v)
{
	struct decnum zero = {0, 0};

	return decnum_cmp(v, zero) > 0;
}

static int
nonneg(struct decnum v)
{
	struct decnum zero = {0, 0};

	return decnum_cmp(v, zero) >= 0;
}

/* Decode a checked block whole and check what its rows say. */
static const char *
check_rows(struct vstate *vs, const struct colfile_head *h)
{
	const char *why = NULL;
	size_t i;

	if (h->table == COLFILE_TRADES) {
		struct colfile_trades tr;

		tr.t = xreallocarray(NULL, h->rows, sizeof(*tr.t));
		tr.price = xreallocarray(NULL, h->rows, sizeof(*tr.price));
		tr.volume = xreallocarray(NULL, h->rows, sizeof(*tr.volume));
		tr.cond = xreallocarray(NULL, h->rows, sizeof(*tr.cond));
		if (colfile_decode_trades(vs->buf, h, &tr, &vs->sc) != 0)
			why = "columns do not decode";
		for (i = 0; why == NULL && i < h->rows; i++)
			if (!positive(tr.price[i]) || !nonneg(tr.volume[i]))
				why = "a price <= 0 or a volume < 0";
		free(tr.t);
		free(tr.price);
		free(tr.volume);
		free(tr.cond);
	} else {
		struct colbar *b = xreallocarray(NULL, h->rows, sizeof(*b));

		if (colfile_decode_bars(vs->buf, h, b, &vs->sc) != 0)
			why = "columns do not decode";
		for (i = 0; why == NULL && i < h->rows; i++) {
			if (decnum_cmp(b[i].low, b[i].high) > 0 ||
			    decnum_cmp(b[i].open, b[i].low) < 0 ||
			    decnum_cmp(b[i].open, b[i].high) > 0 ||
			    decnum_cmp(b[i].close, b[i].low) < 0 ||
			    decnum_cmp(b[i].close, b[i].high) > 0)
				why = "a bar whose open or close is outside "
				      "[low, high]";
			else if (!nonneg(b[i].volume))
				why = "a bar with a negative volume";
		}
		free(b);
	}
	return why;
}

/* Walk [0, len) of path; tail: any table, bars of level 0 only. */
static void
verify_file(struct vstate *vs, const char *path, const char *label, int table,
    uint32_t day, uint64_t len)
{
	struct colfile_head h;
	uint64_t off = 0;
	int64_t size;
	int fd, rc;

	if ((fd = osfile_open(path, O_RDONLY, 0)) < 0) {
		fprintf(vs->fp, "%s: cannot open: %s\n", label, err_str(fd));
		vs->damaged = 1;
		return;
	}
	size = osfile_size(fd);
	if (size >= 0 && (uint64_t)size < len) {
		fprintf(vs->fp,
		    "%s: DAMAGED: %" PRIu64 " bytes short of its commit "
		    "(%" PRIu64 ")\n",
		    label, len - (uint64_t)size, len);
		vs->damaged = 1;
		len = (uint64_t)size;
	}
	while (off < len) {
		const char *why = NULL;

		rc = colstore_read_block(fd, off, len, &vs->buf, &vs->cap, &h);
		if (rc <= 0)
			why = rc == 0 ? "a block cut short" : err_str(rc);
		else if (table != 0 && (h.table != table || h.day != day))
			why = "a block of another table or day";
		else if (table == 0 && h.table == COLFILE_BARS && h.level != 0)
			why = "a rolled-up bar in the tail";
		else
			why = check_rows(vs, &h);
		if (why != NULL) {
			fprintf(vs->fp,
			    "%s: DAMAGED: block at offset %" PRIu64 ": %s\n",
			    label, off, why);
			vs->damaged = 1;
			break;
		}
		vs->blocks++;
		vs->rows += h.rows;
		off += h.len;
	}
	if (size >= 0 && (uint64_t)size > len)
		fprintf(vs->fp,
		    "%s: %" PRIu64 " bytes past the commit: a torn or "
		    "uncommitted tail that the next start cuts (not damage)\n",
		    label, (uint64_t)size - len);
	osfile_close(fd);
}

static int
on_tail_extra(const char *name, void *arg)
{
	struct vstate *vs = arg;
	char *end;
	unsigned long long gen;

	if (strncmp(name, "tail.", 5) != 0 || name[5] == '\0')
		return 0;
	gen = strtoull(name + 5, &end, 10);
	if (*end != '\0' || gen == vs->c->tail_gen)
		return 0;
	fprintf(vs->fp, "%s: %s: the next start removes it\n", name,
	    gen > vs->c->tail_gen ? "not committed (an interrupted flush)"
	                          : "already compacted");
	vs->extra++;
	return 0;
}

static int
on_day_extra(const char *name, void *arg)
{
	struct vstate *vs = arg;
	uint32_t day;
	size_t i;

	if (colstore_parse_day(name, &day) != 0)
		return 0;
	for (i = 0; i < vs->c->nfiles; i++)
		if (vs->c->files[i].table == vs->table &&
		    vs->c->files[i].day == day)
			return 0;
	fprintf(vs->fp,
	    "%s/%s: not committed (an interrupted compaction): the next "
	    "start removes it\n",
	    colstore_table_name(vs->table), name);
	vs->extra++;
	return 0;
}

int
colstore_verify(const char *dir, FILE *fp)
{
	struct slotinfo s[2];
	struct vstate vs;
	char path[COLSTORE_PATH_MAX], label[64], day[16];
	const struct colfile_commit *c;
	size_t i;
	int best, k;

	memset(&vs, 0, sizeof(vs));
	vs.fp = fp;
	vs.dir = dir;
	if (osfile_exists(dir) != 1) {
		fprintf(
		    fp, "store %s: no store here (nothing to verify)\n", dir);
		return 0;
	}
	best = load_slots(dir, s);
	for (k = 0; k < 2; k++) {
		if (!s[k].present)
			fprintf(fp, "commit.%d: absent\n", k);
		else if (s[k].valid)
			fprintf(fp, "commit.%d: commit %" PRIu64 "%s\n", k,
			    s[k].c.seq, k == best ? " (in force)" : "");
		else
			fprintf(fp,
			    "commit.%d: torn or damaged: ignored, the other "
			    "slot holds the commit in force\n",
			    k);
	}
	if (best < 0) {
		fprintf(fp, "store %s: no valid commit record\n", dir);
		free_slots(s);
		return s[0].present || s[1].present ? 1 : 0;
	}
	c = vs.c = &s[best].c;
	for (i = 0; i < c->nfiles; i++) {
		colstore_file_path(
		    dir, c->files[i].table, c->files[i].day, path);
		colstore_day_name(c->files[i].day, day);
		snprintf(label, sizeof(label), "%s/%s",
		    colstore_table_name(c->files[i].table), day);
		verify_file(&vs, path, label, c->files[i].table,
		    c->files[i].day, c->files[i].len);
	}
	colstore_tail_path(dir, c->tail_gen, path);
	snprintf(label, sizeof(label), "tail.%" PRIu64, c->tail_gen);
	if (osfile_exists(path) == 1)
		verify_file(&vs, path, label, 0, 0, c->tail_len);
	else if (c->tail_len > 0) {
		fprintf(fp,
		    "%s: DAMAGED: missing (%" PRIu64 " bytes "
		    "committed)\n",
		    label, c->tail_len);
		vs.damaged = 1;
	}
	(void)osfile_list_dir(dir, on_tail_extra, &vs);
	for (vs.table = COLFILE_TRADES; vs.table <= COLFILE_BARS; vs.table++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    colstore_table_name(vs.table));
		(void)osfile_list_dir(path, on_day_extra, &vs);
	}
	fprintf(fp,
	    "store %s: commit %" PRIu64 ", %zu day files, %" PRIu64
	    " blocks, %" PRIu64 " rows checked; %" PRIu64 " trades and "
	    "%" PRIu64 " bars stored, %" PRIu64 " offsets lost, %" PRIu64
	    " records invalid: %s\n",
	    dir, c->seq, c->nfiles, vs.blocks, vs.rows, c->trades, c->bars,
	    c->lost, c->invalid, vs.damaged ? "DAMAGED" : "OK");
	colenc_scratch_fini(&vs.sc);
	free(vs.buf);
	free_slots(s);
	return vs.damaged ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Dump */

struct dstate {
	FILE *fp;
	struct colenc_scratch sc;
	uint8_t *buf;
	size_t cap;
	int table;
	/* bars of one day, per symbol in write order */
	struct dsym {
		char sym[COLFILE_MAX_SYMBOL + 1];
		struct colbar *rows;
		size_t n, cap;
	} * syms;
	size_t nsyms, symcap;
};

static void
print_trades(struct dstate *ds, const struct colfile_head *h)
{
	struct colfile_trades tr;
	char p[DECNUM_TEXT_MAX], v[DECNUM_TEXT_MAX];
	size_t i;

	tr.t = xreallocarray(NULL, h->rows, sizeof(*tr.t));
	tr.price = xreallocarray(NULL, h->rows, sizeof(*tr.price));
	tr.volume = xreallocarray(NULL, h->rows, sizeof(*tr.volume));
	tr.cond = xreallocarray(NULL, h->rows, sizeof(*tr.cond));
	if (colfile_decode_trades(ds->buf, h, &tr, &ds->sc) == 0)
		for (i = 0; i < h->rows; i++) {
			decnum_format(tr.price[i], p, sizeof(p));
			decnum_format(tr.volume[i], v, sizeof(v));
			fprintf(ds->fp, "%s\t%" PRId64 "\t%s\t%s\t%.*s\n",
			    h->symbol, tr.t[i], p, v,
			    tr.cond[i].len < 0 ? 4 : (int)tr.cond[i].len,
			    tr.cond[i].len < 0 ? "null"
			                       : (const char *)tr.cond[i].p);
		}
	free(tr.t);
	free(tr.price);
	free(tr.volume);
	free(tr.cond);
}

static void
keep_bars(struct dstate *ds, const struct colfile_head *h)
{
	struct dsym *d = NULL;
	size_t i;

	for (i = 0; i < ds->nsyms; i++)
		if (strcmp(ds->syms[i].sym, h->symbol) == 0)
			d = &ds->syms[i];
	if (d == NULL) {
		if (ds->nsyms == ds->symcap) {
			ds->symcap = ds->symcap ? ds->symcap * 2 : 16;
			ds->syms = xreallocarray(
			    ds->syms, ds->symcap, sizeof(*ds->syms));
		}
		d = &ds->syms[ds->nsyms++];
		memset(d, 0, sizeof(*d));
		snprintf(d->sym, sizeof(d->sym), "%s", h->symbol);
	}
	if (d->n + h->rows > d->cap) {
		d->cap = (d->n + h->rows) * 2;
		d->rows = xreallocarray(d->rows, d->cap, sizeof(*d->rows));
	}
	if (colfile_decode_bars(ds->buf, h, d->rows + d->n, &ds->sc) == 0)
		d->n += h->rows;
}

/* Blocks of [0, len) of path (of table, day when day_only) to ds. */
static int
dump_file(struct dstate *ds, const char *path, uint64_t len, int day_only,
    uint32_t day)
{
	struct colfile_head h;
	uint64_t off = 0;
	int fd, rc;

	if ((fd = osfile_open(path, O_RDONLY, 0)) < 0)
		return fd == -ENOENT ? 0 : fd;
	while ((rc = colstore_read_block(
	            fd, off, len, &ds->buf, &ds->cap, &h)) > 0) {
		off += h.len;
		if (h.table != ds->table || (day_only && h.day != day))
			continue;
		if (h.table == COLFILE_TRADES)
			print_trades(ds, &h);
		else if (h.level == 0)
			keep_bars(ds, &h);
	}
	osfile_close(fd);
	return rc < 0 ? rc : 0;
}

static int
cmp_dsym(const void *a, const void *b)
{
	return strcmp(
	    ((const struct dsym *)a)->sym, ((const struct dsym *)b)->sym);
}

static void
print_bars(struct dstate *ds)
{
	char t[6][DECNUM_TEXT_MAX];
	size_t i, k, n;

	qsort(ds->syms, ds->nsyms, sizeof(*ds->syms), cmp_dsym);
	for (i = 0; i < ds->nsyms; i++) {
		struct colbar *m =
		    colstore_merge_rows(ds->syms[i].rows, ds->syms[i].n, &n);

		for (k = 0; k < n; k++) {
			decnum_format(m[k].open, t[0], sizeof(t[0]));
			decnum_format(m[k].high, t[1], sizeof(t[1]));
			decnum_format(m[k].low, t[2], sizeof(t[2]));
			decnum_format(m[k].close, t[3], sizeof(t[3]));
			decnum_format(m[k].volume, t[4], sizeof(t[4]));
			decnum_format(m[k].pv, t[5], sizeof(t[5]));
			fprintf(ds->fp,
			    "%s\t%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%" PRIu64
			    "\t%s\n",
			    ds->syms[i].sym, m[k].t, t[0], t[1], t[2], t[3],
			    t[4], m[k].count, t[5]);
		}
		free(m);
		free(ds->syms[i].rows);
	}
	ds->nsyms = 0;
}

int
colstore_dump(const char *dir, int table, FILE *fp)
{
	struct slotinfo s[2];
	struct dstate ds;
	const struct colfile_commit *c;
	char path[COLSTORE_PATH_MAX], tail[COLSTORE_PATH_MAX];
	uint32_t *days = NULL;
	size_t i, ndays = 0;
	int best, rc = 0;

	memset(&ds, 0, sizeof(ds));
	ds.fp = fp;
	ds.table = table;
	best = load_slots(dir, s);
	if (best < 0) {
		fprintf(fp, "# commit none\n");
		free_slots(s);
		return s[0].present || s[1].present ? ERR_MALFORMED : 0;
	}
	c = &s[best].c;
	fprintf(fp,
	    "# commit %" PRIu64 " trades %" PRIu64 " bars %" PRIu64
	    " lost %" PRIu64 " invalid %" PRIu64 " offsets",
	    c->seq, c->trades, c->bars, c->lost, c->invalid);
	for (i = 0; i < c->nparts; i++)
		fprintf(fp, "%s%" PRId64, i ? "," : " ", c->offsets[i]);
	fprintf(fp, " ends");
	for (i = 0; i < c->nparts; i++)
		fprintf(fp, "%s%" PRId64, i ? "," : " ", c->ends[i]);
	fprintf(fp, "\n");
	colstore_tail_path(dir, c->tail_gen, tail);
	if (table == COLFILE_TRADES) {
		/* Day files, then the tail: write order per symbol. */
		for (i = 0; i < c->nfiles && rc == 0; i++) {
			if (c->files[i].table != table)
				continue;
			colstore_file_path(dir, table, c->files[i].day, path);
			rc = dump_file(&ds, path, c->files[i].len, 0, 0);
		}
		if (rc == 0)
			rc = dump_file(&ds, tail, c->tail_len, 0, 0);
	} else {
		/* Per day: the day file's 1 s rows, then the tail's. */
		struct colfile_head h;
		uint64_t off = 0;
		int fd;

		days = xreallocarray(NULL, c->nfiles + 1, sizeof(*days));
		for (i = 0; i < c->nfiles; i++)
			if (c->files[i].table == table)
				days[ndays++] = c->files[i].day;
		if ((fd = osfile_open(tail, O_RDONLY, 0)) >= 0) {
			while (colstore_read_block(fd, off, c->tail_len,
			           &ds.buf, &ds.cap, &h) > 0) {
				size_t k;

				off += h.len;
				for (k = 0; k < ndays && days[k] != h.day; k++)
					;
				if (h.table == table && k == ndays) {
					days = xreallocarray(
					    days, ndays + 2, sizeof(*days));
					days[ndays++] = h.day;
				}
			}
			osfile_close(fd);
		}
		for (i = 0; i < ndays && rc == 0; i++) {
			struct colfile_file *f = NULL;
			size_t k;

			for (k = 0; k < c->nfiles; k++)
				if (c->files[k].table == table &&
				    c->files[k].day == days[i])
					f = &c->files[k];
			if (f != NULL) {
				colstore_file_path(dir, table, f->day, path);
				rc = dump_file(&ds, path, f->len, 1, days[i]);
			}
			if (rc == 0)
				rc = dump_file(
				    &ds, tail, c->tail_len, 1, days[i]);
			print_bars(&ds);
		}
	}
	free(days);
	free(ds.syms);
	free(ds.buf);
	colenc_scratch_fini(&ds.sc);
	free_slots(s);
	return rc;
}
