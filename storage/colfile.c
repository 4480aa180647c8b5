/*
 * colfile.c: (4) blocks and commit records of the column store (see
 * colfile.h for the formats).
 *
 * Decoders trust nothing: every length and count is checked against the
 * bytes that are there before it is used, and against the format's
 * limits before anything is allocated.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "base/byteorder.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/rbuf.h"
#include "storage/colfile.h"

const int64_t colfile_level_ms[COLFILE_NLEVELS] = {1000, 10000, 60000, 3600000};

/* colfile's own column arrays in the scratch (n bounded by the rows of a
 * block, checked by the caller). */
static void
col_arrays(struct colenc_scratch *sc, size_t n)
{
	if (sc->nv >= n)
		return;
	sc->iv = xreallocarray(sc->iv, n, sizeof(*sc->iv));
	sc->dv = xreallocarray(sc->dv, n, sizeof(*sc->dv));
	sc->df = xreallocarray(sc->df, n, 4 * sizeof(*sc->df));
	sc->nv = n;
}

static int
ncols_of(int table)
{
	return table == COLFILE_TRADES ? COLFILE_TRADES_NCOLS
	                               : COLFILE_BARS_NCOLS;
}

/*
 * The header, the columns written to sc->body (with their lengths in
 * collen), and the CRC, appended to w.
 */
static void
put_block(struct wbuf *w, int table, int level, int flags, const char *symbol,
    size_t symlen, uint32_t day, size_t rows, int64_t min_t, int64_t max_t,
    const size_t *collen, int ncols, const struct wbuf *body)
{
	size_t start = w->len, i;
	uint32_t crc;

	wbuf_u32(w, COLFILE_BLOCK_MAGIC);
	wbuf_u32(w, 0); /* len, patched */
	wbuf_u8(w, (uint8_t)table);
	wbuf_u8(w, (uint8_t)level);
	wbuf_u8(w, (uint8_t)flags);
	wbuf_u8(w, (uint8_t)symlen);
	wbuf_put(w, symbol, symlen);
	wbuf_uvarint(w, day);
	wbuf_uvarint(w, rows);
	wbuf_uvarint(w, (uint64_t)min_t);
	wbuf_uvarint(w, (uint64_t)(max_t - min_t));
	wbuf_uvarint(w, (uint64_t)ncols);
	for (i = 0; i < (size_t)ncols; i++)
		wbuf_uvarint(w, collen[i]);
	wbuf_put(w, body->buf, body->len);
	if (body->err != 0 && w->err == 0)
		w->err = body->err;
	if (w->err != 0)
		return;
	if (w->len - start + 4 > COLFILE_MAX_BLOCK) {
		w->err = ERR_TOO_BIG;
		return;
	}
	wbuf_patch_u32(w, start + 4, (uint32_t)(w->len - start + 4));
	crc = crc32c(0, w->buf + start, w->len - start);
	wbuf_u32(w, crc);
}

void
colfile_encode_trades(struct wbuf *w, const char *symbol, size_t symlen,
    const int64_t *t, const struct decnum *price, const struct decnum *volume,
    const struct colenc_str *cond, size_t n, struct colenc_scratch *sc)
{
	struct wbuf *b = &sc->body;
	size_t collen[COLFILE_TRADES_NCOLS], i, mark;
	int64_t lo = t[0], hi = t[0];

	for (i = 1; i < n; i++) {
		if (t[i] < lo)
			lo = t[i];
		if (t[i] > hi)
			hi = t[i];
	}
	wbuf_reset(b);
	mark = b->len;
	colenc_int_encode(b, t, n, COLENC_DELTA);
	collen[0] = b->len - mark;
	mark = b->len;
	colenc_dec_encode(b, price, n, COLENC_DELTA, sc);
	collen[1] = b->len - mark;
	mark = b->len;
	colenc_dec_encode(b, volume, n, COLENC_FOR, sc);
	collen[2] = b->len - mark;
	mark = b->len;
	colenc_dict_encode(b, cond, n, sc);
	collen[3] = b->len - mark;
	put_block(w, COLFILE_TRADES, 0, 0, symbol, symlen, colfile_day(lo), n,
	    lo, hi, collen, COLFILE_TRADES_NCOLS, b);
}

static struct decnum
dmax(struct decnum a, struct decnum b)
{
	return decnum_cmp(a, b) >= 0 ? a : b;
}

static struct decnum
dmin(struct decnum a, struct decnum b)
{
	return decnum_cmp(a, b) <= 0 ? a : b;
}

/* The four differences of a bar (COLFILE_F_DIFF): 0, or ERR_RANGE when
 * one is not an exact decimal. */
static int
bar_diffs(const struct colbar *r, struct decnum *d)
{
	struct decnum lv;

	if (decnum_sub(r->high, dmax(r->open, r->close), &d[0]) != 0 ||
	    decnum_sub(dmin(r->open, r->close), r->low, &d[1]) != 0 ||
	    decnum_sub(r->close, r->open, &d[2]) != 0 ||
	    decnum_mul(r->low, r->volume, &lv) != 0 ||
	    decnum_sub(r->pv, lv, &d[3]) != 0)
		return ERR_RANGE;
	return 0;
}

/* Undo bar_diffs on a decoded row (high, low, close, pv hold the
 * differences); 0 or ERR_MALFORMED. */
static int
bar_undiff(struct colbar *r)
{
	struct decnum lv, hi = r->high, lo = r->low, co = r->close, pr = r->pv;

	if (decnum_add(r->open, co, &r->close) != 0 ||
	    decnum_add(dmax(r->open, r->close), hi, &r->high) != 0 ||
	    decnum_sub(dmin(r->open, r->close), lo, &r->low) != 0 ||
	    decnum_mul(r->low, r->volume, &lv) != 0 ||
	    decnum_add(pr, lv, &r->pv) != 0)
		return ERR_MALFORMED;
	return 0;
}

void
colfile_encode_bars(struct wbuf *w, const char *symbol, size_t symlen,
    int level, const struct colbar *rows, size_t n, struct colenc_scratch *sc)
{
	struct wbuf *b = &sc->body;
	size_t collen[COLFILE_BARS_NCOLS], i, mark;
	int64_t lo = rows[0].t, hi = rows[0].t, *iv;
	struct decnum *dv, *df;
	int c, flags = COLFILE_F_DIFF;

	for (i = 1; i < n; i++) {
		if (rows[i].t < lo)
			lo = rows[i].t;
		if (rows[i].t > hi)
			hi = rows[i].t;
	}
	/* One column at a time through arrays of their own (colenc's
	 * scratch is busy inside the encoders); the differences first. */
	col_arrays(sc, n);
	iv = sc->iv;
	dv = sc->dv;
	df = sc->df;
	for (i = 0; i < n && flags != 0; i++)
		if (bar_diffs(&rows[i], df + 4 * i) != 0)
			flags = 0;
	wbuf_reset(b);
	for (c = 0; c < COLFILE_BARS_NCOLS; c++) {
		mark = b->len;
		for (i = 0; i < n; i++) {
			const struct colbar *r = &rows[i];
			const struct decnum *d = df + 4 * i;

			switch (c) {
			case 0:
				iv[i] = r->t;
				break;
			case 1:
				dv[i] = r->open;
				break;
			case 2:
				dv[i] = flags ? d[0] : r->high;
				break;
			case 3:
				dv[i] = flags ? d[1] : r->low;
				break;
			case 4:
				dv[i] = flags ? d[2] : r->close;
				break;
			case 5:
				iv[i] = r->open_dt;
				break;
			case 6:
				iv[i] = r->close_dt;
				break;
			case 7:
				dv[i] = r->volume;
				break;
			case 8:
				iv[i] = (int64_t)r->count;
				break;
			default:
				dv[i] = flags ? d[3] : r->pv;
				break;
			}
		}
		switch (c) {
		case 0:
			colenc_int_encode(b, iv, n, COLENC_DELTA);
			break;
		case 5:
		case 6:
		case 8:
			colenc_int_encode(b, iv, n, COLENC_FOR);
			break;
		default: /* open moves a little; the rest are sizes */
			colenc_dec_encode(b, dv, n,
			    c == 1 || (!flags && c <= 4) ? COLENC_DELTA
			                                 : COLENC_FOR,
			    sc);
			break;
		}
		collen[c] = b->len - mark;
	}
	put_block(w, COLFILE_BARS, level, flags, symbol, symlen,
	    colfile_day(lo), n, lo, hi, collen, COLFILE_BARS_NCOLS, b);
}

int
colfile_head_decode(const uint8_t *p, size_t n, struct colfile_head *h)
{
	struct rbuf r;
	uint64_t day, rows, min_t, span, ncols, sum;
	size_t i;
	int need_more;

	memset(h, 0, sizeof(*h));
	/* A header that ends before the bytes do is judged now; one cut
	 * short by n (less than COLFILE_HEAD_MAX) asks for more. */
	need_more = n < COLFILE_HEAD_MAX;
	if (n >= 4 && be32_load(p) != COLFILE_BLOCK_MAGIC)
		return ERR_MALFORMED;
	if (n < 12)
		return need_more ? 0 : ERR_MALFORMED;
	rbuf_init(&r, p, n);
	rbuf_skip(&r, 4);
	h->len = rbuf_u32(&r);
	h->table = rbuf_u8(&r);
	h->level = rbuf_u8(&r);
	h->flags = rbuf_u8(&r);
	if ((h->flags & ~COLFILE_F_DIFF) != 0 ||
	    (h->flags != 0 && h->table != COLFILE_BARS) ||
	    h->len < COLFILE_MIN_BLOCK || h->len > COLFILE_MAX_BLOCK ||
	    (h->table != COLFILE_TRADES && h->table != COLFILE_BARS) ||
	    h->level < 0 || h->level >= COLFILE_NLEVELS ||
	    (h->table == COLFILE_TRADES && h->level != 0))
		return ERR_MALFORMED;
	h->symlen = rbuf_u8(&r);
	if (h->symlen == 0 || h->symlen > COLFILE_MAX_SYMBOL)
		return ERR_MALFORMED;
	{
		const uint8_t *s = rbuf_bytes(&r, h->symlen);

		if (s == NULL)
			return need_more ? 0 : ERR_MALFORMED;
		for (i = 0; i < h->symlen; i++)
			if (s[i] < 0x20)
				return ERR_MALFORMED;
		memcpy(h->symbol, s, h->symlen);
		h->symbol[h->symlen] = '\0';
	}
	day = rbuf_uvarint_n(&r, 10);
	rows = rbuf_uvarint_n(&r, 10);
	min_t = rbuf_uvarint_n(&r, 10);
	span = rbuf_uvarint_n(&r, 10);
	ncols = rbuf_uvarint_n(&r, 10);
	if (r.err)
		return need_more && rbuf_off(&r) >= n ? 0 : ERR_MALFORMED;
	if (rows == 0 || rows > COLFILE_MAX_ROWS ||
	    ncols != (uint64_t)ncols_of(h->table) ||
	    min_t >= (uint64_t)COLFILE_MAX_T ||
	    span >= (uint64_t)COLFILE_DAY_MS ||
	    colfile_day((int64_t)min_t) != day ||
	    colfile_day((int64_t)(min_t + span)) != day)
		return ERR_MALFORMED;
	h->day = (uint32_t)day;
	h->rows = (uint32_t)rows;
	h->min_t = (int64_t)min_t;
	h->max_t = (int64_t)(min_t + span);
	h->ncols = (int)ncols;
	for (i = 0, sum = 0; i < ncols; i++) {
		uint64_t cl = rbuf_uvarint_n(&r, 10);

		if (r.err)
			return need_more && rbuf_off(&r) >= n ? 0
			                                      : ERR_MALFORMED;
		if (cl == 0 || cl > COLFILE_MAX_BLOCK)
			return ERR_MALFORMED;
		h->collen[i] = (uint32_t)cl;
		sum += cl;
	}
	h->head_len = rbuf_off(&r);
	if (h->head_len > COLFILE_HEAD_MAX ||
	    (uint64_t)h->head_len + sum + 4 != h->len)
		return ERR_MALFORMED;
	return (int)h->len;
}

int
colfile_block_check(const uint8_t *p, size_t n, const struct colfile_head *h)
{
	if (n != h->len || n < h->head_len + 4)
		return ERR_MALFORMED;
	if (crc32c(0, p, n - 4) != be32_load(p + n - 4))
		return ERR_CRC;
	return 0;
}

/* Column c of a block: a cursor over exactly its bytes. */
static void
col_cursor(
    const uint8_t *p, const struct colfile_head *h, int c, struct rbuf *r)
{
	size_t off = h->head_len;
	int i;

	for (i = 0; i < c; i++)
		off += h->collen[i];
	rbuf_init(r, p + off, h->collen[c]);
}

/* The column decoded and its bytes used exactly. */
static int
col_done(const struct rbuf *r, int rc)
{
	return rc == 0 && r->err == 0 && rbuf_left(r) == 0 ? 0 : ERR_MALFORMED;
}

/* Times in [min_t, max_t], both attained. */
static int
check_times(const int64_t *t, size_t n, const struct colfile_head *h)
{
	int64_t lo = t[0], hi = t[0];
	size_t i;

	for (i = 1; i < n; i++) {
		if (t[i] < lo)
			lo = t[i];
		if (t[i] > hi)
			hi = t[i];
	}
	return lo == h->min_t && hi == h->max_t ? 0 : ERR_MALFORMED;
}

int
colfile_decode_trades(const uint8_t *p, const struct colfile_head *h,
    struct colfile_trades *out, struct colenc_scratch *sc)
{
	struct rbuf r;
	size_t n = h->rows, i;

	if (h->table != COLFILE_TRADES)
		return ERR_MALFORMED;
	col_cursor(p, h, 0, &r);
	if (col_done(&r, colenc_int_decode(&r, out->t, n)) != 0 ||
	    check_times(out->t, n, h) != 0)
		return ERR_MALFORMED;
	col_cursor(p, h, 1, &r);
	if (col_done(&r, colenc_dec_decode(&r, out->price, n, sc)) != 0)
		return ERR_MALFORMED;
	col_cursor(p, h, 2, &r);
	if (col_done(&r, colenc_dec_decode(&r, out->volume, n, sc)) != 0)
		return ERR_MALFORMED;
	col_cursor(p, h, 3, &r);
	if (col_done(&r, colenc_dict_decode(&r, out->cond, n, sc)) != 0)
		return ERR_MALFORMED;
	for (i = 0; i < n; i++)
		if (out->cond[i].len == 0)
			return ERR_MALFORMED; /* "" is no JSON array */
	return 0;
}

int
colfile_decode_bars(const uint8_t *p, const struct colfile_head *h,
    struct colbar *rows, struct colenc_scratch *sc)
{
	struct decnum *dv = NULL;
	int64_t *iv = NULL, size;
	size_t n = h->rows, i;
	struct rbuf r;
	int c, rc = ERR_MALFORMED;

	if (h->table != COLFILE_BARS)
		return ERR_MALFORMED;
	size = colfile_level_ms[h->level];
	col_arrays(sc, n);
	iv = sc->iv;
	dv = sc->dv;
	for (c = 0; c < COLFILE_BARS_NCOLS; c++) {
		int isint = c == 0 || c == 5 || c == 6 || c == 8;

		col_cursor(p, h, c, &r);
		if (col_done(&r, isint ? colenc_int_decode(&r, iv, n)
		                       : colenc_dec_decode(&r, dv, n, sc)) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			struct colbar *b = &rows[i];

			switch (c) {
			case 0:
				if (iv[i] % size != 0)
					goto out;
				b->t = iv[i];
				break;
			case 1:
				b->open = dv[i];
				break;
			case 2:
				b->high = dv[i];
				break;
			case 3:
				b->low = dv[i];
				break;
			case 4:
				b->close = dv[i];
				break;
			case 5:
			case 6:
				if (iv[i] < 0 || iv[i] >= size)
					goto out;
				if (c == 5)
					b->open_dt = (int32_t)iv[i];
				else
					b->close_dt = (int32_t)iv[i];
				break;
			case 7:
				b->volume = dv[i];
				break;
			case 8:
				if (iv[i] < 1)
					goto out;
				b->count = (uint64_t)iv[i];
				break;
			default:
				b->pv = dv[i];
				break;
			}
		}
		if (c == 0 && check_times(iv, n, h) != 0)
			goto out;
	}
	if (h->flags & COLFILE_F_DIFF)
		for (i = 0; i < n; i++)
			if (bar_undiff(&rows[i]) != 0)
				goto out;
	rc = 0;
out:
	return rc;
}

/* ------------------------------------------------------------------ */
/* Commit records */

void
colfile_commit_encode(struct wbuf *w, const struct colfile_commit *c)
{
	size_t start = w->len, i, tl = strlen(c->topic);

	wbuf_u32(w, COLFILE_COMMIT_MAGIC);
	wbuf_u32(w, 0);
	wbuf_u64(w, c->seq);
	wbuf_u64(w, (uint64_t)c->time_ms);
	wbuf_uvarint(w, c->tail_gen);
	wbuf_uvarint(w, c->tail_len);
	wbuf_uvarint(w, c->nfiles);
	for (i = 0; i < c->nfiles; i++) {
		wbuf_u8(w, (uint8_t)c->files[i].table);
		wbuf_uvarint(w, c->files[i].day);
		wbuf_uvarint(w, c->files[i].len);
	}
	wbuf_uvarint(w, tl);
	wbuf_put(w, c->topic, tl);
	wbuf_uvarint(w, c->nparts);
	for (i = 0; i < c->nparts; i++)
		wbuf_uvarint(w, (uint64_t)c->offsets[i]);
	for (i = 0; i < c->nparts; i++)
		wbuf_uvarint(w, (uint64_t)c->ends[i]);
	wbuf_uvarint(w, c->trades);
	wbuf_uvarint(w, c->bars);
	wbuf_uvarint(w, c->lost);
	wbuf_uvarint(w, c->invalid);
	wbuf_uvarint(w, c->floor_day[0]);
	wbuf_uvarint(w, c->floor_day[1]);
	if (w->err != 0)
		return;
	wbuf_patch_u32(w, start + 4, (uint32_t)(w->len - start + 4));
	wbuf_u32(w, crc32c(0, w->buf + start, w->len - start));
}

void
colfile_commit_fini(struct colfile_commit *c)
{
	free(c->files);
	free(c->offsets);
	free(c->ends);
	c->files = NULL;
	c->offsets = NULL;
	c->ends = NULL;
	c->nfiles = c->nparts = 0;
}

int
colfile_commit_decode(const uint8_t *p, size_t n, struct colfile_commit *c)
{
	struct rbuf r;
	uint64_t v, len;
	size_t i;
	int rc = ERR_MALFORMED;

	memset(c, 0, sizeof(*c));
	if (n < 28 || n > COLFILE_MAX_COMMIT ||
	    be32_load(p) != COLFILE_COMMIT_MAGIC || be32_load(p + 4) != n)
		return ERR_MALFORMED;
	if (crc32c(0, p, n - 4) != be32_load(p + n - 4))
		return ERR_CRC;
	rbuf_init(&r, p, n - 4);
	rbuf_skip(&r, 8);
	c->seq = rbuf_u64(&r);
	c->time_ms = rbuf_i64(&r);
	c->tail_gen = rbuf_uvarint_n(&r, 10);
	c->tail_len = rbuf_uvarint_n(&r, 10);
	v = rbuf_uvarint_n(&r, 10);
	/* Each file takes at least 3 bytes: a count beyond what is left
	 * is a lie, refused before allocating. */
	if (r.err || c->seq == 0 || v > COLFILE_MAX_FILES ||
	    v > rbuf_left(&r) / 3)
		goto bad;
	c->nfiles = (size_t)v;
	if (v > 0 &&
	    (c->files = calloc((size_t)v, sizeof(*c->files))) == NULL) {
		rc = ERR_NOMEM;
		goto bad;
	}
	for (i = 0; i < c->nfiles; i++) {
		struct colfile_file *f = &c->files[i];

		f->table = rbuf_u8(&r);
		v = rbuf_uvarint_n(&r, 10);
		f->len = rbuf_uvarint_n(&r, 10);
		if (r.err ||
		    (f->table != COLFILE_TRADES && f->table != COLFILE_BARS) ||
		    v > UINT32_MAX || f->len > ((uint64_t)1 << 62))
			goto bad;
		f->day = (uint32_t)v;
		if (i > 0 &&
		    (f->table < f[-1].table ||
		        (f->table == f[-1].table && f->day <= f[-1].day)))
			goto bad;
	}
	len = rbuf_uvarint_n(&r, 10);
	if (r.err || len == 0 || len > COLFILE_MAX_TOPIC || len > rbuf_left(&r))
		goto bad;
	memcpy(c->topic, rbuf_bytes(&r, (size_t)len), (size_t)len);
	c->topic[len] = '\0';
	if (memchr(c->topic, '\0', (size_t)len) != NULL)
		goto bad;
	v = rbuf_uvarint_n(&r, 10);
	if (r.err || v > COLFILE_MAX_PARTS || v > rbuf_left(&r))
		goto bad;
	c->nparts = (size_t)v;
	if (v > 0 &&
	    ((c->offsets = calloc((size_t)v, sizeof(*c->offsets))) == NULL ||
	        (c->ends = calloc((size_t)v, sizeof(*c->ends))) == NULL)) {
		rc = ERR_NOMEM;
		goto bad;
	}
	for (i = 0; i < c->nparts; i++) {
		v = rbuf_uvarint_n(&r, 10);
		if (v > (uint64_t)INT64_MAX)
			goto bad;
		c->offsets[i] = (int64_t)v;
	}
	for (i = 0; i < c->nparts; i++) {
		v = rbuf_uvarint_n(&r, 10);
		if (v > (uint64_t)INT64_MAX || (int64_t)v < c->offsets[i])
			goto bad;
		c->ends[i] = (int64_t)v;
	}
	c->trades = rbuf_uvarint_n(&r, 10);
	c->bars = rbuf_uvarint_n(&r, 10);
	c->lost = rbuf_uvarint_n(&r, 10);
	c->invalid = rbuf_uvarint_n(&r, 10);
	v = rbuf_uvarint_n(&r, 10);
	len = rbuf_uvarint_n(&r, 10);
	if (r.err || rbuf_left(&r) != 0 || v > UINT32_MAX || len > UINT32_MAX)
		goto bad;
	c->floor_day[0] = (uint32_t)v;
	c->floor_day[1] = (uint32_t)len;
	return 0;
bad:
	colfile_commit_fini(c);
	return rc;
}
