/*
 * agg_window.c: (3) the aggregator's window logic (see agg_window.h).
 *
 * Shape:
 *
 *	window --symhash--> agg_sym (per symbol: pending trades, SoA arrays;
 *	                             indexes of its buckets)
 *	window --bhash (symbol index, second)--> buckets[] (agg_bar deltas)
 *	window --strs--> interned condition texts of the pending trades
 *
 * Sealing copies each symbol's pending trades, split per day (usually
 * one), and its buckets, as colbar rows sorted by t, into one allocation
 * per chunk; the window keeps its arrays for the next trades, so a busy
 * feed costs two mallocs per seal, not a chain of reallocs per symbol.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "storage/agg_window.h"

#define TRADE_BYTES                                                            \
	(sizeof(int64_t) + 2 * sizeof(struct decnum) +                         \
	    sizeof(struct colenc_str))

/* Interned condition texts: one copy per distinct text per chunk. */
struct agg_strs {
	uint8_t **strs; /* each a malloc()ed copy */
	size_t n, cap;
	uint32_t *tab; /* open addressing: 1 + index, 0 empty */
	size_t tabcap;
	size_t bytes;
};

struct agg_window {
	struct membudget *mb;
	struct agg_sym **syms;
	size_t nsyms, symcap;
	uint32_t *symtab; /* 1 + index, 0 empty */
	size_t symtabcap;
	struct agg_bar *buckets;
	uint32_t *bucket_sym; /* symbol index of each bucket */
	size_t nbuckets, bcap;
	uint32_t *btab; /* 1 + bucket index, 0 empty */
	size_t btabcap;
	struct agg_strs *strs;
	size_t pending;
	size_t charged; /* bytes charged for what the window holds */
};

static uint32_t
hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t
hash_bucket(uint32_t sym, int64_t t)
{
	uint64_t x = ((uint64_t)sym << 40) ^ (uint64_t)(t / 1000);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static int
charge(struct agg_window *w, size_t n)
{
	if (n == 0)
		return 0;
	/* The log's oldest segments make room first (the loop thread owns
	 * them, as it owns the window). */
	if (membudget_charge_reclaim(w->mb, n) != 0)
		return ERR_NOMEM;
	w->charged += n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Interned strings */

static struct agg_strs *
strs_new(void)
{
	return xcalloc(1, sizeof(struct agg_strs));
}

static void
strs_free(struct agg_strs *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s->tab);
	free(s);
}

/* The interned copy of p/len (len >= 1), or NULL when the budget said
 * no.  Each copy is stored with its length in front. */
static const uint8_t *
strs_intern(struct agg_window *w, const uint8_t *p, int32_t len)
{
	struct agg_strs *s = w->strs;
	uint32_t h, i;
	uint8_t *copy;

	if (s->tabcap == 0 || (s->n + 1) * 2 > s->tabcap) {
		size_t ncap = s->tabcap ? s->tabcap * 2 : 64, k;
		uint32_t *nt = xcalloc(ncap, sizeof(*nt));

		for (k = 0; k < s->n; k++) {
			uint32_t len0;

			memcpy(&len0, s->strs[k], 4);
			h = hash_bytes(s->strs[k] + 4, len0) &
			    (uint32_t)(ncap - 1);
			while (nt[h] != 0)
				h = (h + 1) & (uint32_t)(ncap - 1);
			nt[h] = (uint32_t)k + 1;
		}
		free(s->tab);
		s->tab = nt;
		s->tabcap = ncap;
	}
	h = hash_bytes(p, (size_t)len) & (uint32_t)(s->tabcap - 1);
	while ((i = s->tab[h]) != 0) {
		uint32_t l;

		memcpy(&l, s->strs[i - 1], 4);
		if (l == (uint32_t)len &&
		    memcmp(s->strs[i - 1] + 4, p, (size_t)len) == 0)
			return s->strs[i - 1] + 4;
		h = (h + 1) & (uint32_t)(s->tabcap - 1);
	}
	if (charge(w, (size_t)len + 4) != 0)
		return NULL;
	copy = xmalloc((size_t)len + 4);
	memcpy(copy, &len, 4);
	memcpy(copy + 4, p, (size_t)len);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->strs = xreallocarray(s->strs, s->cap, sizeof(*s->strs));
	}
	s->strs[s->n++] = copy;
	s->bytes += (size_t)len + 4;
	s->tab[h] = (uint32_t)s->n;
	return copy + 4;
}

/* ------------------------------------------------------------------ */
/* Bars */

void
agg_bar_init(struct agg_bar *b, int64_t t)
{
	memset(b, 0, sizeof(*b));
	b->t = t;
	decacc_init(&b->volume);
	decacc_init(&b->pv);
}

void
agg_bar_add(struct agg_bar *b, int64_t t, struct decnum p, struct decnum v)
{
	if (b->count == 0) {
		b->open = b->high = b->low = b->close = p;
		b->open_t = b->close_t = t;
	} else {
		if (t < b->open_t) {
			b->open = p;
			b->open_t = t;
		}
		if (t >= b->close_t) {
			b->close = p;
			b->close_t = t;
		}
		if (decnum_cmp(p, b->high) > 0)
			b->high = p;
		if (decnum_cmp(p, b->low) < 0)
			b->low = p;
	}
	decacc_add(&b->volume, v);
	decacc_add_product(&b->pv, p, v);
	b->count++;
}

/* a += a later part with these fields (invariant 3). */
static void
merge_fields(struct agg_bar *a, struct decnum open, int64_t open_t,
    struct decnum high, struct decnum low, struct decnum close, int64_t close_t,
    uint64_t count)
{
	if (a->count == 0) {
		a->open = open;
		a->open_t = open_t;
		a->high = high;
		a->low = low;
		a->close = close;
		a->close_t = close_t;
	} else {
		if (open_t < a->open_t) {
			a->open = open;
			a->open_t = open_t;
		}
		if (close_t >= a->close_t) {
			a->close = close;
			a->close_t = close_t;
		}
		if (decnum_cmp(high, a->high) > 0)
			a->high = high;
		if (decnum_cmp(low, a->low) < 0)
			a->low = low;
	}
	a->count += count;
}

void
agg_bar_merge_row(struct agg_bar *b, const struct colbar *r)
{
	merge_fields(b, r->open, r->t + r->open_dt, r->high, r->low, r->close,
	    r->t + r->close_dt, r->count);
	decacc_add(&b->volume, r->volume);
	decacc_add(&b->pv, r->pv);
}

void
agg_bar_merge(struct agg_bar *a, const struct agg_bar *b)
{
	if (b->count == 0)
		return;
	merge_fields(a, b->open, b->open_t, b->high, b->low, b->close,
	    b->close_t, b->count);
	decacc_merge(&a->volume, &b->volume);
	decacc_merge(&a->pv, &b->pv);
}

void
agg_bar_to_row(const struct agg_bar *b, struct colbar *r)
{
	r->t = b->t;
	r->open = b->open;
	r->high = b->high;
	r->low = b->low;
	r->close = b->close;
	r->open_dt = (int32_t)(b->open_t - b->t);
	r->close_dt = (int32_t)(b->close_t - b->t);
	r->volume = decacc_value(&b->volume);
	r->pv = decacc_value(&b->pv);
	r->count = b->count;
}

int
agg_bar_vwap(const struct agg_bar *b, double *out)
{
	double v = decacc_double(&b->volume);

	if (b->count == 0 || decacc_is_zero(&b->volume) || v == 0)
		return 0;
	*out = decacc_double(&b->pv) / v;
	return 1;
}

int
agg_bar_avg_pv(const struct agg_bar *b, double *out)
{
	if (b->count == 0)
		return 0;
	*out = decacc_double(&b->pv) / (double)b->count;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The window */

struct agg_window *
agg_window_new(struct membudget *mb)
{
	struct agg_window *w = xcalloc(1, sizeof(*w));

	w->mb = mb != NULL ? mb : &membudget_global;
	w->strs = strs_new();
	return w;
}

static void
sym_free_arrays(struct agg_sym *s)
{
	free(s->t);
	free(s->price);
	free(s->volume);
	free(s->cond);
	s->t = NULL;
	s->price = s->volume = NULL;
	s->cond = NULL;
	s->ntrades = s->cap = 0;
}

void
agg_window_free(struct agg_window *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nsyms; i++) {
		sym_free_arrays(w->syms[i]);
		free(w->syms[i]->buckets);
		free(w->syms[i]->sym);
		free(w->syms[i]);
	}
	free(w->syms);
	free(w->symtab);
	free(w->buckets);
	free(w->bucket_sym);
	free(w->btab);
	strs_free(w->strs);
	if (w->charged > 0)
		membudget_release(w->mb, w->charged);
	free(w);
}

size_t
agg_window_pending(const struct agg_window *w)
{
	return w->pending;
}

static void
symtab_grow(struct agg_window *w)
{
	size_t ncap = w->symtabcap ? w->symtabcap * 2 : 64, i;
	uint32_t *nt = xcalloc(ncap, sizeof(*nt));

	for (i = 0; i < w->nsyms; i++) {
		uint32_t h = hash_bytes(w->syms[i]->sym, w->syms[i]->symlen) &
		             (uint32_t)(ncap - 1);

		while (nt[h] != 0)
			h = (h + 1) & (uint32_t)(ncap - 1);
		nt[h] = (uint32_t)i + 1;
	}
	free(w->symtab);
	w->symtab = nt;
	w->symtabcap = ncap;
}

/* The index of sym, or -1; *slot gets its hash slot (or the free one). */
static int64_t
sym_find(
    const struct agg_window *w, const char *sym, size_t len, uint32_t *slot)
{
	const struct agg_sym *s;
	uint32_t h, i;

	if (w->symtabcap == 0)
		return -1;
	h = hash_bytes(sym, len) & (uint32_t)(w->symtabcap - 1);
	while ((i = w->symtab[h]) != 0) {
		s = w->syms[i - 1];
		if (s->symlen == len && memcmp(s->sym, sym, len) == 0)
			return i - 1;
		h = (h + 1) & (uint32_t)(w->symtabcap - 1);
	}
	*slot = h;
	return -1;
}

/* The index of sym (created when new), or -1 when the budget said no. */
static int64_t
sym_index(struct agg_window *w, const char *sym, size_t len)
{
	struct agg_sym *s;
	uint32_t h = 0;
	int64_t i;

	if (w->symtabcap == 0)
		symtab_grow(w);
	if ((i = sym_find(w, sym, len, &h)) >= 0)
		return i;
	if (charge(w, sizeof(*s) + len + 1 + 16) != 0)
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->sym = xstrndup(sym, len);
	s->symlen = len;
	if (w->nsyms == w->symcap) {
		w->symcap = w->symcap ? w->symcap * 2 : 16;
		w->syms = xreallocarray(w->syms, w->symcap, sizeof(*w->syms));
	}
	w->syms[w->nsyms++] = s;
	w->symtab[h] = (uint32_t)w->nsyms;
	if (w->nsyms * 2 > w->symtabcap)
		symtab_grow(w);
	return (int64_t)w->nsyms - 1;
}

static void
btab_rebuild(struct agg_window *w, size_t ncap)
{
	size_t i;

	free(w->btab);
	w->btab = xcalloc(ncap, sizeof(*w->btab));
	w->btabcap = ncap;
	for (i = 0; i < w->nbuckets; i++) {
		uint32_t h = hash_bucket(w->bucket_sym[i], w->buckets[i].t) &
		             (uint32_t)(ncap - 1);

		while (w->btab[h] != 0)
			h = (h + 1) & (uint32_t)(ncap - 1);
		w->btab[h] = (uint32_t)i + 1;
	}
}

/* The delta of (symbol si, bucket start t), created when new; NULL when
 * the budget said no. */
static struct agg_bar *
bucket_get(struct agg_window *w, uint32_t si, int64_t t)
{
	struct agg_sym *s = w->syms[si];
	uint32_t h, i;

	if (w->btabcap == 0)
		btab_rebuild(w, 256);
	h = hash_bucket(si, t) & (uint32_t)(w->btabcap - 1);
	while ((i = w->btab[h]) != 0) {
		if (w->bucket_sym[i - 1] == si && w->buckets[i - 1].t == t)
			return &w->buckets[i - 1];
		h = (h + 1) & (uint32_t)(w->btabcap - 1);
	}
	if (w->nbuckets == w->bcap) {
		size_t ncap = w->bcap ? w->bcap * 2 : 64;

		if (charge(w, (ncap - w->bcap) * (sizeof(struct agg_bar) +
		                                     sizeof(uint32_t) * 3)) !=
		    0)
			return NULL;
		w->buckets =
		    xreallocarray(w->buckets, ncap, sizeof(*w->buckets));
		w->bucket_sym =
		    xreallocarray(w->bucket_sym, ncap, sizeof(*w->bucket_sym));
		w->bcap = ncap;
	}
	if (s->nbuckets == s->bcap) {
		size_t ncap = s->bcap ? s->bcap * 2 : 4;

		if (charge(w, (ncap - s->bcap) * sizeof(uint32_t)) != 0)
			return NULL;
		s->buckets = xreallocarray(s->buckets, ncap, sizeof(uint32_t));
		s->bcap = ncap;
	}
	i = (uint32_t)w->nbuckets++;
	agg_bar_init(&w->buckets[i], t);
	w->bucket_sym[i] = si;
	s->buckets[s->nbuckets++] = i;
	if (w->nbuckets * 2 > w->btabcap)
		btab_rebuild(w, w->btabcap * 2);
	else
		w->btab[h] = i + 1;
	return &w->buckets[i];
}

static int
sym_reserve(struct agg_window *w, struct agg_sym *s)
{
	size_t ncap;

	if (s->ntrades < s->cap)
		return 0;
	ncap = s->cap ? s->cap * 2 : s->hint > 64 ? s->hint : 64;
	if (charge(w, (ncap - s->cap) * TRADE_BYTES) != 0)
		return ERR_NOMEM;
	s->t = xreallocarray(s->t, ncap, sizeof(*s->t));
	s->price = xreallocarray(s->price, ncap, sizeof(*s->price));
	s->volume = xreallocarray(s->volume, ncap, sizeof(*s->volume));
	s->cond = xreallocarray(s->cond, ncap, sizeof(*s->cond));
	s->cap = ncap;
	return 0;
}

int
agg_window_add(struct agg_window *w, const struct agg_trade *tr)
{
	const uint8_t *cond = NULL;
	struct agg_bar *b;
	struct agg_sym *s;
	int64_t si;
	size_t k;

	ASSERT(tr->t >= 0 && tr->t < COLFILE_MAX_T);
	ASSERT(tr->symlen >= 1 && tr->symlen <= COLFILE_MAX_SYMBOL);
	if ((si = sym_index(w, tr->sym, tr->symlen)) < 0)
		return ERR_NOMEM;
	s = w->syms[si];
	/* Everything that can be refused first, so a refusal adds
	 * nothing. */
	if (sym_reserve(w, s) != 0)
		return ERR_NOMEM;
	if (tr->condlen > 0 &&
	    (cond = strs_intern(w, tr->cond, tr->condlen)) == NULL)
		return ERR_NOMEM;
	if ((b = bucket_get(w, (uint32_t)si, tr->t - tr->t % 1000)) == NULL)
		return ERR_NOMEM;
	agg_bar_add(b, tr->t, tr->price, tr->volume);
	k = s->ntrades++;
	if (k == 0 || tr->t < s->min_t)
		s->min_t = tr->t;
	if (k == 0 || tr->t > s->max_t)
		s->max_t = tr->t;
	s->t[k] = tr->t;
	s->price[k] = tr->price;
	s->volume[k] = tr->volume;
	s->cond[k].p = cond;
	s->cond[k].len = tr->condlen > 0 ? tr->condlen : -1;
	w->pending++;
	return 0;
}

const struct agg_sym *
agg_window_sym(const struct agg_window *w, const char *sym, size_t symlen)
{
	uint32_t slot;
	int64_t i = sym_find(w, sym, symlen, &slot);

	return i < 0 ? NULL : w->syms[i];
}

const struct agg_sym *
agg_window_sym_at(const struct agg_window *w, size_t i)
{
	return i < w->nsyms ? w->syms[i] : NULL;
}

const struct agg_bar *
agg_window_bucket(const struct agg_window *w, uint32_t i)
{
	ASSERT(i < w->nbuckets);
	return &w->buckets[i];
}

/* ------------------------------------------------------------------ */
/* Sealing */

static int
cmp_bar_t(const void *a, const void *b)
{
	const struct colbar *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

static int
cmp_sym(const void *a, const void *b)
{
	const struct agg_sym *x = *(const struct agg_sym *const *)a;
	const struct agg_sym *y = *(const struct agg_sym *const *)b;

	return strcmp(x->sym, y->sym);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The distinct days of s's trades, ascending, into d (room for
 * s->ntrades); returns how many.  One day, the usual case, is known
 * from the trades' first and last times, kept as they arrived.
 */
static size_t
sym_days(const struct agg_sym *s, uint32_t *d)
{
	size_t i, n = 0;

	d[0] = colfile_day(s->min_t);
	if (d[0] == colfile_day(s->max_t))
		return 1;
	for (i = 0; i < s->ntrades; i++)
		d[i] = colfile_day(s->t[i]);
	qsort(d, s->ntrades, sizeof(*d), cmp_u32);
	for (i = 0; i < s->ntrades; i++)
		if (n == 0 || d[n - 1] != d[i])
			d[n++] = d[i];
	return n;
}

/* Carve n bytes, aligned to 16, from *p. */
static void *
carve(uint8_t **p, size_t n)
{
	void *r = *p;

	*p += (n + 15) & ~(size_t)15;
	return r;
}

/*
 * Seal s's trades (all of one day) into p by handing its arrays to the
 * chunk, with what they were charged.  s is left with none: its next
 * trade allocates arrays for as many trades as this seal took (rounded
 * up to a power of two), so a seal costs no copy and no allocation, and
 * a symbol that went quiet gives its room back.
 */
static void
hand_over(struct agg_window *w, struct agg_chunk *c, struct agg_sym *s,
    struct agg_part *p)
{
	size_t moved = s->cap * TRADE_BYTES, hint = 64;

	p->t = s->t;
	p->price = s->price;
	p->volume = s->volume;
	p->cond = s->cond;
	p->ntrades = s->ntrades;
	p->min_t = s->min_t;
	p->max_t = s->max_t;
	c->owned[c->nowned++] = s->t;
	c->owned[c->nowned++] = s->price;
	c->owned[c->nowned++] = s->volume;
	c->owned[c->nowned++] = s->cond;
	w->charged -= moved;
	c->charged += moved;
	while (hint < s->ntrades)
		hint *= 2;
	s->hint = hint;
	s->t = NULL;
	s->price = s->volume = NULL;
	s->cond = NULL;
	s->cap = 0;
}

struct agg_chunk *
agg_window_seal(struct agg_window *w)
{
	struct agg_sym **order;
	struct agg_chunk *c;
	uint32_t *days;
	size_t i, k, b, nsym = 0, np = 0, maxt = 0, bytes, ntr = 0;
	uint8_t *mem;

	if (w->pending == 0)
		return NULL;
	order = xreallocarray(NULL, w->nsyms, sizeof(*order));
	for (i = 0; i < w->nsyms; i++) {
		struct agg_sym *s = w->syms[i];

		if (s->ntrades == 0)
			continue;
		order[nsym++] = s;
		/* Room for the days of a symbol whose trades span more
		 * than one (sym_days). */
		if (colfile_day(s->min_t) != colfile_day(s->max_t) &&
		    s->ntrades > maxt)
			maxt = s->ntrades;
	}
	qsort(order, nsym, sizeof(*order), cmp_sym);
	/* Sizes first: one allocation holds the chunk's parts, symbols
	 * and arrays (the window keeps its own, for the next trades). */
	days = xreallocarray(NULL, maxt > 0 ? maxt : 1, sizeof(*days));
	bytes = 16;
	for (i = 0; i < nsym; i++) {
		size_t nd = sym_days(order[i], days);

		np += nd;
		ntr += order[i]->ntrades;
		/* A symbol whose trades are all of one day hands its arrays
		 * over (below); only a split across days copies them. */
		bytes += order[i]->symlen + 1 + 16 +
		         (nd > 1 ? order[i]->ntrades * (TRADE_BYTES + 16) : 0) +
		         order[i]->nbuckets * sizeof(struct colbar) +
		         nd * (4 * 16 + 16);
	}
	bytes += np * sizeof(struct agg_part) + 16;
	c = xcalloc(1, sizeof(*c));
	c->symbols = xmalloc(bytes);
	c->owned = xreallocarray(NULL, 4 * nsym + 1, sizeof(*c->owned));
	mem = (uint8_t *)c->symbols;
	c->parts = carve(&mem, np * sizeof(*c->parts));
	for (i = 0; i < nsym; i++) {
		struct agg_sym *s = order[i];
		size_t nd = sym_days(s, days), base = c->nparts;
		char *name = carve(&mem, s->symlen + 1);

		memcpy(name, s->sym, s->symlen + 1);
		for (k = 0; k < nd; k++) {
			struct agg_part *p = &c->parts[c->nparts++];
			size_t n = 0, j, nb = 0;

			memset(p, 0, sizeof(*p));
			p->sym = name;
			p->symlen = s->symlen;
			p->day = days[k];
			if (nd == 1)
				n = s->ntrades;
			else
				for (j = 0; j < s->ntrades; j++)
					n += colfile_day(s->t[j]) == p->day;
			for (b = 0; b < s->nbuckets; b++)
				nb +=
				    colfile_day(w->buckets[s->buckets[b]].t) ==
				    p->day;
			p->bars = carve(&mem, nb * sizeof(*p->bars));
			if (nd == 1) {
				/* Invariant 2 (arrival order) holds: the
				 * arrays themselves go to the chunk, so a seal
				 * costs no copy of the trades. */
				hand_over(w, c, s, p);
			} else {
				p->t = carve(&mem, n * sizeof(*p->t));
				p->price = carve(&mem, n * sizeof(*p->price));
				p->volume = carve(&mem, n * sizeof(*p->volume));
				p->cond = carve(&mem, n * sizeof(*p->cond));
				for (j = 0; j < s->ntrades; j++) {
					if (colfile_day(s->t[j]) != p->day)
						continue;
					p->t[p->ntrades] = s->t[j];
					p->price[p->ntrades] = s->price[j];
					p->volume[p->ntrades] = s->volume[j];
					p->cond[p->ntrades] = s->cond[j];
					p->ntrades++;
				}
			}
			for (b = 0; b < s->nbuckets; b++) {
				const struct agg_bar *bb =
				    &w->buckets[s->buckets[b]];

				if (colfile_day(bb->t) == p->day)
					agg_bar_to_row(
					    bb, &p->bars[p->nbars++]);
			}
			qsort(p->bars, p->nbars, sizeof(*p->bars), cmp_bar_t);
			if (nd > 1) {
				p->min_t = p->max_t = p->t[0];
				for (j = 1; j < p->ntrades; j++) {
					if (p->t[j] < p->min_t)
						p->min_t = p->t[j];
					if (p->t[j] > p->max_t)
						p->max_t = p->t[j];
				}
			}
			c->ntrades += p->ntrades;
			c->nbars += p->nbars;
		}
		(void)base;
		s->ntrades = 0;
		s->nbuckets = 0;
	}
	ASSERT((size_t)(mem - (uint8_t *)c->symbols) <= bytes);
	free(days);
	free(order);
	/* The chunk takes the interned strings; its copies are charged
	 * (forced: the trades are already held, and the chunk releases
	 * all of it when freed). */
	c->strs = w->strs;
	w->strs = strs_new();
	w->charged -= c->strs->bytes;
	c->charged += c->strs->bytes + bytes;
	membudget_force(w->mb, bytes);
	c->mb = w->mb;
	w->nbuckets = 0;
	if (w->btabcap > 0)
		memset(w->btab, 0, w->btabcap * sizeof(*w->btab));
	w->pending = 0;
	(void)ntr;
	return c;
}

void
agg_chunk_free(struct agg_chunk *c)
{
	if (c == NULL)
		return;
	free(c->offsets);
	free(c->ends);
	strs_free(c->strs);
	free(c->symbols);
	while (c->nowned > 0)
		free(c->owned[--c->nowned]);
	free(c->owned);
	if (c->charged > 0)
		membudget_release(c->mb, c->charged);
	free(c);
}
