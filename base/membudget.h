/*
 * membudget.h: the daemon-wide memory budget (`max_memory`).
 *
 * Every holder of memory whose size a client or the feed controls (log
 * segments, Kafka request buffers and queued Fetch output, the
 * aggregator's open buckets, the store's unflushed chunks) charges what
 * it holds here and releases it when it lets go.  A charge that would pass
 * the limit is refused; the holder then makes room (the log drops its
 * oldest segments across all topics) or refuses the work (a request that
 * would pass it closes its connection).  Small fixed-size objects are not
 * charged: they are the fixed overhead.
 *
 * Counters are atomic, so the store's writer thread may release what the
 * event loop charged.  One budget per process (membudget_global); tests
 * make their own.
 */
#ifndef BASE_MEMBUDGET_H
#define BASE_MEMBUDGET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A reclaimer frees memory charged to the budget when a charge would pass
 * the limit (the log evicts its oldest segments).  It is asked for need
 * bytes and returns how many it released (0: it has nothing left).
 */
typedef size_t (*membudget_reclaim_fn)(void *arg, size_t need);

struct membudget {
	_Atomic uint64_t used;
	_Atomic uint64_t peak;
	_Atomic uint64_t refused; /* charges refused so far */
	uint64_t limit;           /* 0: unlimited */
	membudget_reclaim_fn reclaim;
	void *reclaim_arg;
};

/* The process's budget; its limit is set from max_memory at start-up. */
extern struct membudget membudget_global;

void membudget_init(struct membudget *b, uint64_t limit);

/*
 * Charge n bytes: 0, or ERR_NOMEM (nothing charged) when used + n would
 * pass the limit.
 */
int membudget_charge(struct membudget *b, size_t n);

/*
 * The same, but when the limit is in the way first ask the reclaimer to
 * make room.  Only the thread that owns the reclaimer's memory (the event
 * loop) may call this.
 */
int membudget_charge_reclaim(struct membudget *b, size_t n);

/* Set the reclaimer (NULL: none). */
void membudget_set_reclaim(
    struct membudget *b, membudget_reclaim_fn fn, void *arg);

/* Charge n bytes even past the limit (memory already held that must be
 * counted, e.g. a segment retention will drop next). */
void membudget_force(struct membudget *b, size_t n);

/* Release n bytes charged earlier. */
void membudget_release(struct membudget *b, size_t n);

/* Bytes that can still be charged (UINT64_MAX when unlimited). */
uint64_t membudget_room(const struct membudget *b);

static inline uint64_t
membudget_used(const struct membudget *b)
{
	return atomic_load_explicit(&b->used, memory_order_relaxed);
}

#endif
