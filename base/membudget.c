/*
 * membudget.c: the daemon-wide memory budget (see membudget.h).
 */
#include <config.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/membudget.h"

struct membudget membudget_global;

void
membudget_init(struct membudget *b, uint64_t limit)
{
	atomic_store(&b->used, 0);
	atomic_store(&b->peak, 0);
	atomic_store(&b->refused, 0);
	b->limit = limit;
	b->reclaim = NULL;
	b->reclaim_arg = NULL;
}

static void
note_peak(struct membudget *b, uint64_t now)
{
	uint64_t peak = atomic_load_explicit(&b->peak, memory_order_relaxed);

	while (now > peak &&
	       !atomic_compare_exchange_weak_explicit(&b->peak, &peak, now,
	           memory_order_relaxed, memory_order_relaxed))
		;
}

int
membudget_charge(struct membudget *b, size_t n)
{
	uint64_t used = atomic_load_explicit(&b->used, memory_order_relaxed);

	do {
		if (b->limit != 0 && (n > b->limit || used > b->limit - n)) {
			atomic_fetch_add_explicit(
			    &b->refused, 1, memory_order_relaxed);
			return ERR_NOMEM;
		}
	} while (!atomic_compare_exchange_weak_explicit(&b->used, &used,
	    used + n, memory_order_relaxed, memory_order_relaxed));
	note_peak(b, used + n);
	return 0;
}

void
membudget_set_reclaim(struct membudget *b, membudget_reclaim_fn fn, void *arg)
{
	b->reclaim = fn;
	b->reclaim_arg = arg;
}

int
membudget_charge_reclaim(struct membudget *b, size_t n)
{
	while (membudget_charge(b, n) != 0) {
		uint64_t used = membudget_used(b);
		size_t need;

		if (b->reclaim == NULL || n > b->limit)
			return ERR_NOMEM;
		need = used + n > b->limit ? (size_t)(used + n - b->limit) : 1;
		if (b->reclaim(b->reclaim_arg, need) == 0)
			return ERR_NOMEM;
	}
	return 0;
}

void
membudget_force(struct membudget *b, size_t n)
{
	uint64_t now =
	    atomic_fetch_add_explicit(&b->used, n, memory_order_relaxed) + n;

	note_peak(b, now);
}

void
membudget_release(struct membudget *b, size_t n)
{
	uint64_t old =
	    atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);

	ASSERT(old >= n);
}

uint64_t
membudget_room(const struct membudget *b)
{
	uint64_t used = membudget_used(b);

	if (b->limit == 0)
		return UINT64_MAX;
	return used >= b->limit ? 0 : b->limit - used;
}
