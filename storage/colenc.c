/*
 * colenc.c: (4) the store's column encodings (see colenc.h for the
 * formats).
 *
 * Invariants:
 *  1. Every decoded value comes from bytes that the cursor handed out:
 *     packed bits are copied into a padded local buffer before the
 *     64-bit loads of the unpacker, so no load passes the block's end.
 *  2. Integer arithmetic on values is done in uint64_t (modulo 2^64);
 *     only the final result is converted back to int64_t.
 *  3. A decoder rejects what no encoder writes (widths over 64,
 *     exceptions out of order or that would not change a value,
 *     remainders out of range, non-canonical lengths, dictionaries out
 *     of order) with ERR_MALFORMED, so every accepted column has one
 *     meaning.
 *  4. A DEC column is written in its dictionary form only when that is
 *     strictly smaller than the split form, so the golden bytes of the
 *     split form stay what they were for columns it already suited.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "storage/colenc.h"

#define MB COLENC_MINIBLOCK

static inline uint64_t
le64_load(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void
le64_store(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

static inline int
bitlen(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

static int64_t *
scratch_i64(struct colenc_scratch *sc, size_t n)
{
	if (sc->ni64 < n) {
		sc->i64 = xreallocarray(sc->i64, n, sizeof(*sc->i64));
		sc->ni64 = n;
	}
	return sc->i64;
}

static int64_t *
scratch_i64b(struct colenc_scratch *sc, size_t n)
{
	if (sc->ni64b < n) {
		sc->i64b = xreallocarray(sc->i64b, n, sizeof(*sc->i64b));
		sc->ni64b = n;
	}
	return sc->i64b;
}

static uint32_t *
scratch_u32(struct colenc_scratch *sc, size_t n)
{
	if (sc->nu32 < n) {
		sc->u32 = xreallocarray(sc->u32, n, sizeof(*sc->u32));
		sc->nu32 = n;
	}
	return sc->u32;
}

static struct colenc_str *
scratch_str(struct colenc_scratch *sc, size_t n)
{
	if (sc->nstr < n) {
		sc->str = xreallocarray(sc->str, n, sizeof(*sc->str));
		sc->nstr = n;
	}
	return sc->str;
}

void
colenc_scratch_fini(struct colenc_scratch *sc)
{
	free(sc->i64);
	free(sc->u32);
	free(sc->str);
	wbuf_fini(&sc->body);
	wbuf_fini(&sc->alt);
	free(sc->i64b);
	free(sc->cnt);
	free(sc->iv);
	free(sc->dv);
	free(sc->df);
	memset(sc, 0, sizeof(*sc));
}

/* ------------------------------------------------------------------ */
/* INT */

/*
 * The width for a miniblock of cnt values: the b that minimises cnt * b
 * bits plus, for each value wider than b, an index byte and its high bits
 * as a uvarint.  Returns b; *nexc and *cost (bits) for it.
 */
static int
choose_width(const uint64_t *u, int cnt, int *nexc, uint64_t *cost)
{
	int hist[65] = {0}, maxb = 0, b, best = 0, over = 0, i;
	uint64_t bestcost = UINT64_MAX;

	for (i = 0; i < cnt; i++)
		hist[bitlen(u[i])]++;
	for (b = 64; b > 0 && hist[b] == 0; b--)
		;
	maxb = b;
	/* over = values wider than b, walking b down from maxb. */
	for (b = maxb; b >= 0; b--) {
		uint64_t c;

		if (b < maxb)
			over += hist[b + 1];
		c = (uint64_t)cnt * (uint64_t)b +
		    (uint64_t)over * (8 + 8 * (uint64_t)((maxb - b + 6) / 7));
		if (c < bestcost) {
			bestcost = c;
			best = b;
			*nexc = over;
		}
	}
	*cost = bestcost + 16;
	return best;
}

/* The values x of miniblock k of an INT column (FOR: v; DELTA: the
 * differences v[i+1] - v[i], modulo 2^64), and their minimum (as int64)
 * in *base; returns how many. */
static int
mb_values(
    const int64_t *v, size_t n, int mode, size_t k, uint64_t *x, int64_t *base)
{
	size_t i, first, cnt, total = mode == COLENC_DELTA ? n - 1 : n;
	int64_t m = INT64_MAX;

	first = k * MB;
	cnt = total - first < MB ? total - first : MB;
	for (i = 0; i < cnt; i++) {
		size_t j = first + i;

		x[i] = mode == COLENC_DELTA
		           ? (uint64_t)v[j + 1] - (uint64_t)v[j]
		           : (uint64_t)v[j];
		if ((int64_t)x[i] < m)
			m = (int64_t)x[i];
	}
	for (i = 0; i < cnt; i++)
		x[i] -= (uint64_t)m; /* >= 0 as a difference, modulo 2^64 */
	*base = m;
	return (int)cnt;
}

/* Bits an INT column of mode would take. */
static uint64_t
int_cost(const int64_t *v, size_t n, int mode)
{
	uint64_t u[MB], total = 0, c;
	size_t k, nval = mode == COLENC_DELTA ? n - 1 : n;
	int64_t base;
	int cnt, nexc;

	for (k = 0; k * MB < nval; k++) {
		cnt = mb_values(v, n, mode, k, u, &base);
		choose_width(u, cnt, &nexc, &c);
		total += c + 8 * wbuf_varint_len(base);
	}
	return total;
}

static void
put_miniblock(struct wbuf *w, const uint64_t *u, int cnt, int64_t base)
{
	uint8_t buf[MB * 8 + 16];
	uint64_t mask, cost;
	size_t nbytes, bit = 0;
	int b, nexc, i;

	b = choose_width(u, cnt, &nexc, &cost);
	wbuf_varint(w, base);
	wbuf_u8(w, (uint8_t)b);
	wbuf_u8(w, (uint8_t)nexc);
	if (b > 0) {
		mask = b == 64 ? ~(uint64_t)0 : ((uint64_t)1 << b) - 1;
		nbytes = ((size_t)cnt * (size_t)b + 7) / 8;
		memset(buf, 0, nbytes + 16);
		for (i = 0; i < cnt; i++, bit += (size_t)b) {
			uint64_t x = u[i] & mask;
			size_t byte = bit >> 3;
			int sh = (int)(bit & 7);

			le64_store(buf + byte, le64_load(buf + byte) | x << sh);
			if (sh != 0 && sh + b > 64)
				buf[byte + 8] |= (uint8_t)(x >> (64 - sh));
		}
		wbuf_put(w, buf, nbytes);
	}
	if (nexc > 0) {
		for (i = 0; i < cnt; i++)
			if (b < 64 && u[i] >> b != 0) {
				wbuf_u8(w, (uint8_t)i);
				wbuf_uvarint(w, u[i] >> b);
			}
	}
}

void
colenc_int_encode(struct wbuf *w, const int64_t *v, size_t n, int mode)
{
	uint64_t u[MB];
	size_t k, nval;
	int64_t base;

	if (n < 2)
		mode = COLENC_FOR;
	else if (mode == COLENC_AUTO)
		mode = int_cost(v, n, COLENC_DELTA) < int_cost(v, n, COLENC_FOR)
		           ? COLENC_DELTA
		           : COLENC_FOR;
	wbuf_u8(w, (uint8_t)mode);
	if (mode == COLENC_DELTA)
		wbuf_varint(w, v[0]);
	nval = mode == COLENC_DELTA ? n - 1 : n;
	for (k = 0; k * MB < nval; k++) {
		int cnt = mb_values(v, n, mode, k, u, &base);

		put_miniblock(w, u, cnt, base);
	}
}

static int
get_miniblock(struct rbuf *r, uint64_t *u, int cnt)
{
	uint8_t buf[MB * 8 + 16];
	const uint8_t *p;
	uint64_t mask;
	size_t nbytes, bit = 0;
	int b, nexc, i, last = -1;

	b = rbuf_u8(r);
	nexc = rbuf_u8(r);
	if (r->err || b > 64 || nexc > cnt || (b == 64 && nexc > 0)) {
		rbuf_fail(r, ERR_MALFORMED);
		return ERR_MALFORMED;
	}
	if (b == 0) {
		memset(u, 0, (size_t)cnt * sizeof(*u));
	} else {
		mask = b == 64 ? ~(uint64_t)0 : ((uint64_t)1 << b) - 1;
		nbytes = ((size_t)cnt * (size_t)b + 7) / 8;
		if ((p = rbuf_bytes(r, nbytes)) == NULL)
			return ERR_MALFORMED;
		memcpy(buf, p, nbytes); /* invariant 1 */
		memset(buf + nbytes, 0, 16);
		for (i = 0; i < cnt; i++, bit += (size_t)b) {
			size_t byte = bit >> 3;
			int sh = (int)(bit & 7);
			uint64_t x = le64_load(buf + byte) >> sh;

			if (sh != 0 && sh + b > 64)
				x |= (uint64_t)buf[byte + 8] << (64 - sh);
			u[i] = x & mask;
		}
	}
	for (i = 0; i < nexc; i++) {
		int idx = rbuf_u8(r);
		uint64_t hi = rbuf_uvarint_n(r, 10);

		/* Invariant 3: increasing, inside, and really wider. */
		if (r->err || idx <= last || idx >= cnt || hi == 0 ||
		    (b > 0 && hi >> (64 - b) != 0)) {
			rbuf_fail(r, ERR_MALFORMED);
			return ERR_MALFORMED;
		}
		u[idx] |= hi << b;
		last = idx;
	}
	return 0;
}

int
colenc_int_decode(struct rbuf *r, int64_t *out, size_t n)
{
	uint64_t u[MB], base, acc = 0;
	size_t k, i, nval;
	int mode;

	if (n == 0)
		return 0;
	mode = rbuf_u8(r);
	if (mode != COLENC_FOR && mode != COLENC_DELTA) {
		rbuf_fail(r, ERR_MALFORMED);
		return ERR_MALFORMED;
	}
	if (mode == COLENC_DELTA && n < 2) {
		rbuf_fail(r, ERR_MALFORMED); /* the encoder writes FOR */
		return ERR_MALFORMED;
	}
	if (mode == COLENC_DELTA) {
		acc = (uint64_t)rbuf_varlong(r);
		out[0] = (int64_t)acc;
		nval = n - 1;
	} else {
		nval = n;
	}
	if (r->err)
		return ERR_MALFORMED;
	for (k = 0; k * MB < nval; k++) {
		int cnt = nval - k * MB < MB ? (int)(nval - k * MB) : MB;

		base = (uint64_t)rbuf_varlong(r);
		if (r->err || get_miniblock(r, u, cnt) != 0)
			return ERR_MALFORMED;
		for (i = 0; i < (size_t)cnt; i++) {
			if (mode == COLENC_DELTA) {
				acc += base + u[i];
				out[k * MB + i + 1] = (int64_t)acc;
			} else {
				out[k * MB + i] = (int64_t)(base + u[i]);
			}
		}
	}
	return r->err ? ERR_MALFORMED : 0;
}

/* ------------------------------------------------------------------ */
/* DEC */

/* Trailing decimal zeros of m (m != 0), at most 18. */
static int
tz10(int64_t m)
{
	int k = 0;

	while (k < 18 && m % 10 == 0) {
		m /= 10;
		k++;
	}
	return k;
}

/* m * 10^k fits |x| < 10^18; *out set. */
static int
scale_up(int64_t m, int k, int64_t *out)
{
	int64_t lim = decnum_pow10[18 - k];

	if (m <= -lim || m >= lim)
		return 0;
	*out = m * decnum_pow10[k];
	return 1;
}

static int64_t
floor_div(int64_t m, int64_t p, int64_t *rem)
{
	int64_t q = m / p, r = m % p;

	if (r < 0) {
		q--;
		r += p;
	}
	*rem = r;
	return q;
}

/* The exceptions of a DEC column (rows that do not fit scale S). */
static void
dec_exc_encode(
    struct wbuf *w, const struct decnum *v, size_t n, int S, size_t nexc)
{
	size_t i, prev;
	int64_t ms;

	wbuf_uvarint(w, nexc);
	for (i = 0, prev = 0; nexc > 0 && i < n; i++) {
		if (!decnum_is_double(v[i]) &&
		    scale_up(v[i].m, S - v[i].s, &ms))
			continue;
		nexc--;
		wbuf_uvarint(w, i - prev);
		prev = i + 1;
		if (decnum_is_double(v[i])) {
			wbuf_u8(w, 1);
			wbuf_u64(w, (uint64_t)v[i].m);
		} else {
			wbuf_u8(w, 0);
			wbuf_varint(w, v[i].m);
			wbuf_u8(w, v[i].s);
		}
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* More frequent first, then smaller. */
static int
cmp_freq(const void *a, const void *b)
{
	const struct colenc_cnt *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return (x->v > y->v) - (x->v < y->v);
}

static inline size_t
hash_i64(int64_t v, size_t mask)
{
	return (size_t)(((uint64_t)v * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

/* Bits to hold 0..x. */
static int
bits_for(uint64_t x)
{
	return x == 0 ? 0 : 64 - __builtin_clzll(x);
}

#define DICT_SLOTS 512 /* > 2 x COLENC_DEC_DICT_MAX, a power of two */
#define REST_BITS  16  /* the guessed cost of a value outside the dictionary */
#define DICT_PEEK  1024

/*
 * Count the decimal values of v[0..n) at scale S into sc->cnt (a hash
 * table of 2^k slots, more than twice ndec, the decimal rows among
 * them, *maskp + 1 of them); *ndp distinct.  Nonzero (given up) past ndec / 2 distinct.
 */
static int
count_values(const struct decnum *v, size_t n, int S, size_t ndec,
    struct colenc_scratch *sc, size_t *ndp, size_t *maskp)
{
	struct colenc_cnt *h;
	size_t i, j, mask, nd = 0;
	int64_t ms;

	for (mask = 63; mask < 2 * ndec; mask = mask * 2 + 1)
		;
	if (sc->ncnt < mask + 1) {
		free(sc->cnt);
		sc->cnt = xreallocarray(NULL, mask + 1, sizeof(*sc->cnt));
		sc->ncnt = mask + 1;
	}
	*maskp = mask;
	h = sc->cnt;
	memset(h, 0, (mask + 1) * sizeof(*h));
	for (i = 0; i < n; i++) {
		if (decnum_is_double(v[i]) ||
		    !scale_up(v[i].m, S - v[i].s, &ms))
			continue;
		for (j = hash_i64(ms, mask); h[j].n != 0 && h[j].v != ms;
		     j = (j + 1) & mask)
			;
		if (h[j].n++ == 0) {
			h[j].v = ms;
			if (++nd * 2 > ndec)
				return -1;
		}
	}
	*ndp = nd;
	return 0;
}

/* The decimal rows among the first DICT_PEEK. */
static size_t
ndec_peek(const struct decnum *v, int S)
{
	size_t i, k = 0;
	int64_t ms;

	for (i = 0; i < DICT_PEEK; i++)
		k += !decnum_is_double(v[i]) &&
		     scale_up(v[i].m, S - v[i].s, &ms);
	return k;
}

/*
 * The dictionary form of a DEC column, into sc->alt; 0 when it cannot
 * win (half the values or more are distinct).  The dictionary holds the
 * most frequent values, as many as minimise, by estimate, n x the width
 * of an id + REST_BITS x the values left out + the dictionary itself;
 * the caller compares the real lengths.
 */
static int
dec_dict_encode(const struct decnum *v, size_t n, size_t ndec, int S,
    struct colenc_scratch *sc)
{
	int64_t key[DICT_SLOTS], dict[COLENC_DEC_DICT_MAX], ms;
	int16_t slot[DICT_SLOTS];
	int64_t *ids, *rest, last = 0;
	struct colenc_cnt *h;
	size_t i, j, mask, nd = 0, nk = 0, nrest = 0, covered, bestk = 0;
	uint64_t cost, best = UINT64_MAX;
	int b;

	if (ndec < 2)
		return 0;
	/* A look at the first DICT_PEEK rows first, in a small table, so a
	 * column of distinct values (sums, crypto volumes) costs little. */
	if (n > DICT_PEEK &&
	    count_values(v, DICT_PEEK, S, ndec_peek(v, S), sc, &nd, &mask) != 0)
		return 0;
	if (count_values(v, n, S, ndec, sc, &nd, &mask) != 0)
		return 0;
	h = sc->cnt;
	for (i = 0, j = 0; i <= mask; i++)
		if (h[i].n != 0)
			h[j++] = h[i];
	qsort(h, nd, sizeof(*h), cmp_freq);
	/* K = 2^b - 1 values and an escape id, or all nd values. */
	for (b = 1, covered = 0; b <= 8 && nk < nd; b++) {
		size_t k = ((size_t)1 << b) - 1;

		if (k > nd)
			k = nd;
		for (; nk < k; nk++)
			covered += h[nk].n;
		cost =
		    (uint64_t)ndec * (uint64_t)bits_for(k == nd ? k - 1 : k) +
		    (uint64_t)(ndec - covered) * REST_BITS + k * 12;
		if (cost < best) {
			best = cost;
			bestk = k;
		}
	}
	for (i = 0; i < bestk; i++)
		dict[i] = h[i].v;
	qsort(dict, bestk, sizeof(dict[0]), cmp_i64);
	memset(slot, 0xff, sizeof(slot));
	for (i = 0; i < bestk; i++) {
		for (j = hash_i64(dict[i], DICT_SLOTS - 1); slot[j] >= 0;
		     j = (j + 1) & (DICT_SLOTS - 1))
			;
		key[j] = dict[i];
		slot[j] = (int16_t)i;
	}
	ids = scratch_i64(sc, n);
	rest = scratch_i64b(sc, n);
	for (i = 0; i < n; i++) {
		if (decnum_is_double(v[i]) ||
		    !scale_up(v[i].m, S - v[i].s, &ms)) {
			ids[i] = last; /* an exception: any id but the escape */
			continue;
		}
		for (j = hash_i64(ms, DICT_SLOTS - 1);
		     slot[j] >= 0 && key[j] != ms;
		     j = (j + 1) & (DICT_SLOTS - 1))
			;
		if (slot[j] >= 0) {
			ids[i] = last = slot[j];
		} else {
			ids[i] = (int64_t)bestk;
			rest[nrest++] = ms;
		}
	}
	wbuf_reset(&sc->alt);
	wbuf_u8(&sc->alt, (uint8_t)S);
	wbuf_u8(&sc->alt, COLENC_DEC_DICT);
	wbuf_uvarint(&sc->alt, bestk);
	wbuf_varint(&sc->alt, dict[0]);
	for (i = 1; i < bestk; i++)
		wbuf_uvarint(
		    &sc->alt, (uint64_t)dict[i] - (uint64_t)dict[i - 1]);
	colenc_int_encode(&sc->alt, ids, n, COLENC_FOR);
	if (nrest > 0)
		colenc_int_encode(&sc->alt, rest, nrest, COLENC_FOR);
	dec_exc_encode(&sc->alt, v, n, S, n - ndec);
	return sc->alt.err == 0;
}

void
colenc_dec_encode(struct wbuf *w, const struct decnum *v, size_t n, int qmode,
    struct colenc_scratch *sc)
{
	int64_t *q = scratch_i64(sc, n), ms, rem, prevq = 0, p10;
	size_t i, nrem = 0, ndec = 0, below, prev, start = wbuf_mark(w);
	int S = 0, k, best = 0, tzh[19] = {0};

	for (i = 0; i < n; i++)
		if (!decnum_is_double(v[i]) && v[i].s > S)
			S = v[i].s;
	for (i = 0; i < n; i++) {
		int kk = S - v[i].s;

		if (decnum_is_double(v[i]) || !scale_up(v[i].m, kk, &ms))
			continue;
		ndec++;
		tzh[v[i].m == 0             ? S
		    : v[i].s > 0            ? kk
		    : kk + tz10(v[i].m) > S ? S
		                            : kk + tz10(v[i].m)]++;
	}
	/* The widest remainder split that leaves at most a quarter of the
	 * values with a remainder. */
	for (k = S, below = 0; k >= 1; k--) {
		size_t j;

		for (below = 0, j = 0; j < (size_t)k; j++)
			below += (size_t)tzh[j];
		if (below * 4 <= ndec) {
			best = k;
			break;
		}
	}
	p10 = decnum_pow10[best];
	for (i = 0; i < n; i++) {
		if (decnum_is_double(v[i]) ||
		    !scale_up(v[i].m, S - v[i].s, &ms)) {
			q[i] = prevq;
			continue;
		}
		q[i] = prevq = floor_div(ms, p10, &rem);
		nrem += rem != 0;
	}
	wbuf_u8(w, (uint8_t)S);
	wbuf_u8(w, (uint8_t)best);
	colenc_int_encode(w, q, n, qmode);
	if (best > 0) {
		wbuf_uvarint(w, nrem);
		for (i = 0, prev = 0; i < n; i++) {
			if (decnum_is_double(v[i]) ||
			    !scale_up(v[i].m, S - v[i].s, &ms))
				continue;
			(void)floor_div(ms, p10, &rem);
			if (rem == 0)
				continue;
			wbuf_uvarint(w, i - prev);
			wbuf_uvarint(w, (uint64_t)rem);
			prev = i + 1;
		}
	}
	dec_exc_encode(w, v, n, S, n - ndec);
	/* Invariant 4: the dictionary form replaces the split form only
	 * when it is strictly smaller; it is tried for FOR columns (sizes,
	 * which repeat), not for prices, whose differences are smaller. */
	if (w->err == 0 && qmode == COLENC_FOR &&
	    dec_dict_encode(v, n, ndec, S, sc) &&
	    sc->alt.len < w->len - start) {
		w->len = start;
		wbuf_put(w, sc->alt.buf, sc->alt.len);
	}
}

/* The exceptions of a DEC column over out[0..n). */
static int
dec_exc_decode(struct rbuf *r, struct decnum *out, size_t n)
{
	uint64_t cnt, gap;
	size_t row;

	cnt = rbuf_uvarint_n(r, 10);
	if (r->err || cnt > n)
		return ERR_MALFORMED;
	for (row = 0; cnt > 0; cnt--) {
		int kind;

		gap = rbuf_uvarint_n(r, 10);
		kind = rbuf_u8(r);
		if (r->err || gap >= n - row)
			return ERR_MALFORMED;
		row += gap;
		if (kind == 0) {
			int64_t em = rbuf_varlong(r);
			int es = rbuf_u8(r);

			if (r->err || decnum_make(em, es, &out[row]) != 0)
				return ERR_MALFORMED;
		} else if (kind == 1) {
			uint64_t bits = rbuf_u64(r);
			double d;

			memcpy(&d, &bits, sizeof(d));
			if (r->err || !isfinite(d))
				return ERR_MALFORMED;
			out[row].m = (int64_t)bits;
			out[row].s = DECNUM_DOUBLE;
		} else {
			return ERR_MALFORMED;
		}
		row++;
	}
	return 0;
}

/* The dictionary form, after its S and mode bytes. */
static int
dec_dict_decode(struct rbuf *r, struct decnum *out, size_t n, int S,
    struct colenc_scratch *sc)
{
	struct decnum dict[COLENC_DEC_DICT_MAX];
	int64_t vals[COLENC_DEC_DICT_MAX];
	int64_t *ids = scratch_i64(sc, n), *rest, m, lim = decnum_pow10[18];
	uint64_t nd, gap;
	size_t i, nrest = 0, k;

	nd = rbuf_uvarint_n(r, 10);
	if (r->err || nd == 0 || nd > COLENC_DEC_DICT_MAX || nd > n)
		return ERR_MALFORMED;
	m = rbuf_varlong(r);
	for (i = 0; i < nd; i++) {
		if (i > 0) {
			gap = rbuf_uvarint_n(r, 10);
			if (gap == 0 || gap >= (uint64_t)(lim - m))
				return ERR_MALFORMED;
			m += (int64_t)gap; /* < 10^18: no overflow */
		}
		if (r->err || m <= -lim || m >= lim ||
		    decnum_make(m, S, &dict[i]) != 0)
			return ERR_MALFORMED;
		vals[i] = m;
	}
	if (colenc_int_decode(r, ids, n) != 0)
		return ERR_MALFORMED;
	for (i = 0; i < n; i++) {
		if ((uint64_t)ids[i] > nd)
			return ERR_MALFORMED;
		if (ids[i] == (int64_t)nd)
			nrest++;
		else
			out[i] = dict[ids[i]];
	}
	if (nrest > 0) {
		rest = scratch_i64b(sc, nrest);
		if (colenc_int_decode(r, rest, nrest) != 0)
			return ERR_MALFORMED;
		for (i = 0, k = 0; i < n; i++) {
			if (ids[i] != (int64_t)nd)
				continue;
			m = rest[k++];
			/* Not in the dictionary: the encoder would have used
			 * its id. */
			if (m <= -lim || m >= lim ||
			    bsearch(&m, vals, nd, sizeof(vals[0]), cmp_i64) !=
			        NULL ||
			    decnum_make(m, S, &out[i]) != 0)
				return ERR_MALFORMED;
		}
	}
	return dec_exc_decode(r, out, n);
}

int
colenc_dec_decode(
    struct rbuf *r, struct decnum *out, size_t n, struct colenc_scratch *sc)
{
	int64_t *q, p10, lim, m;
	uint64_t cnt, gap, rv;
	size_t i, row;
	int S, k;

	if (n == 0)
		return 0;
	S = rbuf_u8(r);
	k = rbuf_u8(r);
	if (r->err || S > DECNUM_MAX_SCALE)
		goto bad;
	if (k == COLENC_DEC_DICT) {
		if (dec_dict_decode(r, out, n, S, sc) != 0)
			goto bad;
		return 0;
	}
	if (k > S)
		goto bad;
	q = scratch_i64(sc, n);
	if (colenc_int_decode(r, q, n) != 0)
		goto bad;
	p10 = decnum_pow10[k];
	lim = decnum_pow10[18 - k];
	for (i = 0; i < n; i++) {
		if (q[i] <= -lim || q[i] >= lim)
			goto bad;
		out[i].m = q[i] * p10; /* |m| < 10^18 */
		out[i].s = (uint8_t)S;
	}
	if (k > 0) {
		cnt = rbuf_uvarint_n(r, 10);
		if (r->err || cnt > n)
			goto bad;
		for (row = 0; cnt > 0; cnt--) {
			gap = rbuf_uvarint_n(r, 10);
			rv = rbuf_uvarint_n(r, 10);
			if (r->err || gap >= n - row || rv == 0 ||
			    rv >= (uint64_t)p10)
				goto bad;
			row += gap;
			m = out[row].m + (int64_t)rv;
			if (m >= decnum_pow10[18])
				goto bad;
			out[row].m = m;
			row++;
		}
	}
	for (i = 0; i < n; i++)
		if (decnum_make(out[i].m, S, &out[i]) != 0)
			goto bad;
	if (dec_exc_decode(r, out, n) != 0)
		goto bad;
	return 0;
bad:
	rbuf_fail(r, ERR_MALFORMED);
	return ERR_MALFORMED;
}

/* ------------------------------------------------------------------ */
/* DICT */

static uint32_t
str_hash(const struct colenc_str *s)
{
	uint32_t h = 2166136261u;
	int32_t i;

	if (s->len < 0)
		return 0x9e3779b9u;
	for (i = 0; i < s->len; i++) {
		h ^= s->p[i];
		h *= 16777619u;
	}
	return h;
}

static int
str_eq(const struct colenc_str *a, const struct colenc_str *b)
{
	return a->len == b->len &&
	       (a->len <= 0 || memcmp(a->p, b->p, (size_t)a->len) == 0);
}

void
colenc_dict_encode(struct wbuf *w, const struct colenc_str *v, size_t n,
    struct colenc_scratch *sc)
{
	int64_t *ids = scratch_i64(sc, n);
	size_t cap = 16, i, ndict = 0;
	uint32_t *tab, *first;

	while (cap < 2 * n)
		cap *= 2;
	/* tab[cap]: 1 + dictionary index, 0 empty; first[ndict]: the row
	 * where each entry first appeared. */
	tab = scratch_u32(sc, cap + n);
	first = tab + cap;
	memset(tab, 0, cap * sizeof(*tab));
	for (i = 0; i < n; i++) {
		uint32_t h = str_hash(&v[i]) & (uint32_t)(cap - 1);

		while (tab[h] != 0 && !str_eq(&v[first[tab[h] - 1]], &v[i]))
			h = (h + 1) & (uint32_t)(cap - 1);
		if (tab[h] == 0) {
			first[ndict] = (uint32_t)i;
			tab[h] = (uint32_t)++ndict;
		}
		ids[i] = tab[h] - 1;
	}
	wbuf_uvarint(w, ndict);
	for (i = 0; i < ndict; i++) {
		const struct colenc_str *s = &v[first[i]];

		wbuf_uvarint(w, (uint64_t)(s->len + 1));
		if (s->len > 0)
			wbuf_put(w, s->p, (size_t)s->len);
	}
	colenc_int_encode(w, ids, n, COLENC_FOR);
}

int
colenc_dict_decode(
    struct rbuf *r, struct colenc_str *out, size_t n, struct colenc_scratch *sc)
{
	struct colenc_str *dict;
	int64_t *ids;
	uint64_t ndict, len;
	size_t i;

	if (n == 0)
		return 0;
	ndict = rbuf_uvarint_n(r, 10);
	if (r->err || ndict == 0 || ndict > n)
		goto bad;
	dict = scratch_str(sc, (size_t)ndict);
	for (i = 0; i < ndict; i++) {
		len = rbuf_uvarint_n(r, 10);
		if (r->err || len > COLENC_MAX_STR + 1)
			goto bad;
		dict[i].len = (int32_t)len - 1;
		dict[i].p = len > 1 ? rbuf_bytes(r, (size_t)len - 1) : NULL;
		if (r->err)
			goto bad;
	}
	ids = scratch_i64(sc, n);
	if (colenc_int_decode(r, ids, n) != 0)
		goto bad;
	for (i = 0; i < n; i++) {
		if (ids[i] < 0 || (uint64_t)ids[i] >= ndict)
			goto bad;
		out[i] = dict[ids[i]];
	}
	return 0;
bad:
	rbuf_fail(r, ERR_MALFORMED);
	return ERR_MALFORMED;
}
