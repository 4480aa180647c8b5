/*
 * agg_window.h: (3) the aggregator's window logic: trades in, exact
 * 1-second bars and sealed chunks out.  Pure: no I/O, no clock, no
 * libevent; the wiring (reading the log, timers, the writer thread) is
 * server/agg/.
 *
 * Per symbol and 1-second bucket the window keeps open, high, low,
 * close, volume (sum of v), count and the sum of p * v, exactly
 * (proto/decnum.h).  Open and close are ordered by (t, arrival): of the
 * trades with the smallest t the first to arrive is the open, of those
 * with the largest t the last to arrive is the close.  The aggregator
 * reads each log partition in offset order and a symbol's trades share a
 * partition, so arrival order is offset order.  VWAP (pv / volume; null
 * at zero volume, never NaN) and the average p * v (pv / count) derive
 * from a bar.
 *
 * The window holds what arrived since the last seal: the trades, and per
 * touched bucket the aggregate of those trades only (a DELTA).  Sealing
 * hands both over as a chunk, grouped by (symbol, UTC day), and starts
 * empty again.  The store writes a chunk's trades and deltas in one
 * commit, so the bars on disk are always the exact aggregate of the
 * trades on disk; a late trade simply produces another delta for its
 * bucket, and readers add deltas up (agg_bar_merge), in the order they
 * were written, so nobody ever sees two versions of a bucket.
 *
 *	trade --agg_window_add--> window (trades + deltas since the seal)
 *	                              |
 *	                       agg_window_seal
 *	                              v
 *	                      chunk (immutable) --> writer --> disk
 *
 * Invariants:
 *  1. A delta's count equals the number of trades added to it since the
 *     seal, all of them in the chunk that carries it.
 *  2. Within a part (symbol, day) of a chunk, trades keep their arrival
 *     order and bars are sorted by bucket start, one row per bucket.
 *  3. agg_bar_merge(a, b) with b later than a gives the bar of the
 *     trades of a followed by those of b; it is associative, so deltas
 *     may be merged in any grouping as long as their order is kept.
 *  4. Every byte the window or a chunk holds for trades and buckets is
 *     charged to the memory budget given at creation and released when
 *     freed.
 *
 * Not thread-safe: one thread (the event loop) adds, seals and reads; a
 * sealed chunk is immutable and may be read by any thread.
 */
#ifndef STORAGE_AGG_WINDOW_H
#define STORAGE_AGG_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "base/membudget.h"
#include "proto/decnum.h"
#include "storage/colenc.h"
#include "storage/colfile.h"

/* One valid trade, as the aggregator hands it over (borrowed). */
struct agg_trade {
	const char *sym;
	size_t symlen; /* 1..COLFILE_MAX_SYMBOL */
	int64_t t;     /* ms, 0 .. COLFILE_MAX_T - 1 */
	struct decnum price;
	struct decnum volume;
	const uint8_t *cond; /* the "c" array's JSON text, NULL for null */
	int32_t condlen;     /* -1 for null, else 1..COLENC_MAX_STR */
};

/* A bar being built: deltas, and any merge of them. */
struct agg_bar {
	int64_t t; /* bucket start, ms */
	struct decnum open, high, low, close;
	int64_t open_t, close_t; /* ms of the open and close trades */
	struct decacc volume, pv;
	uint64_t count; /* 0: empty */
};

/* The trades and deltas of one (symbol, day). */
struct agg_part {
	const char *sym; /* NUL-terminated, owned by the window or chunk */
	size_t symlen;
	uint32_t day;
	size_t ntrades;
	int64_t min_t, max_t; /* of the trades (ntrades > 0) */
	int64_t *t;
	struct decnum *price;
	struct decnum *volume;
	struct colenc_str *cond; /* point into the chunk's strings */
	size_t nbars;
	struct colbar *bars; /* level 0, sorted by t, one per bucket */
};

/* A sealed chunk: immutable; the writer stores it, readers scan it. */
struct agg_chunk {
	size_t nparts;
	struct agg_part *parts; /* sorted by (symbol, day) */
	uint64_t ntrades, nbars;
	/* Filled in by the aggregator before the chunk leaves it: the next
	 * offset of every partition of the trades topic after this chunk,
	 * and its running totals. */
	size_t noffsets;
	int64_t *offsets; /* where the aggregator resumes */
	int64_t *ends;    /* the log's end offsets when sealed */
	uint64_t lost_total, invalid_total;
	/* private */
	struct membudget *mb;
	size_t charged;
	struct agg_strs *strs;
	char *symbols; /* parts, names, bars and split days live here */
	void **owned;  /* trade arrays handed over by the window */
	size_t nowned;
};

/* Per symbol: what arrived since the last seal (read-only outside). */
struct agg_sym {
	char *sym; /* NUL-terminated */
	size_t symlen;
	size_t ntrades, cap;
	size_t hint;          /* cap to allocate once a seal took the arrays */
	int64_t min_t, max_t; /* of the trades (ntrades > 0) */
	int64_t *t;
	struct decnum *price;
	struct decnum *volume;
	struct colenc_str *cond;
	size_t nbuckets, bcap;
	uint32_t *buckets; /* indexes into the window's bucket array */
};

struct agg_window;

/* An empty window charging mb (NULL: membudget_global). */
struct agg_window *agg_window_new(struct membudget *mb);
void agg_window_free(struct agg_window *w);

/*
 * Add a valid trade (t in range, symbol 1..64 bytes without control
 * characters, cond as described; the caller checked).  0, or ERR_NOMEM
 * when the memory budget refused what the trade needs (nothing added:
 * seal, let the writer free memory, and add it again).
 */
int agg_window_add(struct agg_window *w, const struct agg_trade *tr);

/* Trades added since the last seal. */
size_t agg_window_pending(const struct agg_window *w);

/*
 * Seal: hand over every trade and delta added since the last seal as a
 * chunk (free it with agg_chunk_free, on any thread) and start empty.
 * NULL when nothing was added.
 */
struct agg_chunk *agg_window_seal(struct agg_window *w);
void agg_chunk_free(struct agg_chunk *c);

/*
 * Readers of the unsealed tail: the symbol's pending state, or NULL if
 * it has none and was never seen; the bucket behind an index of
 * s->buckets.  Valid until the next add or seal.
 */
const struct agg_sym *agg_window_sym(
    const struct agg_window *w, const char *sym, size_t symlen);
const struct agg_bar *agg_window_bucket(const struct agg_window *w, uint32_t i);

/* Every symbol the window has seen (pending or not): idx from 0 until
 * NULL. */
const struct agg_sym *agg_window_sym_at(const struct agg_window *w, size_t i);

/* ------------------------------------------------------------------ */
/* Bars (shared with the store's readers and compaction) */

/* An empty bar for the bucket starting at t. */
void agg_bar_init(struct agg_bar *b, int64_t t);

/* Add one trade (later in order than every trade already in b). */
void agg_bar_add(
    struct agg_bar *b, int64_t t, struct decnum p, struct decnum v);

/* b += the stored row r (r later in order than everything in b). */
void agg_bar_merge_row(struct agg_bar *b, const struct colbar *r);

/* a += b (b later in order). */
void agg_bar_merge(struct agg_bar *a, const struct agg_bar *b);

/* The bar as a stored row (its t stays the bucket start). */
void agg_bar_to_row(const struct agg_bar *b, struct colbar *r);

/*
 * VWAP = pv / volume: 1 and *out, or 0 when volume is zero (null, never
 * NaN).  Average p * v = pv / count: 1 and *out, 0 for an empty bar.
 */
int agg_bar_vwap(const struct agg_bar *b, double *out);
int agg_bar_avg_pv(const struct agg_bar *b, double *out);

#endif
