/*
 * test_membudget.c: the daemon-wide memory budget.
 */
#include <config.h>

#include <pthread.h>
#include <stdint.h>

#include "base/err.h"
#include "base/membudget.h"
#include "tests/lib/tap.h"

static void
test_limit(void)
{
	struct membudget b;

	membudget_init(&b, 1000);
	is_int(membudget_charge(&b, 600), 0, "600 of 1000: charged");
	is_int(membudget_charge(&b, 401), ERR_NOMEM, "401 more: refused");
	is_int(membudget_used(&b), 600, "a refused charge costs nothing");
	is_int(membudget_charge(&b, 400), 0, "exactly to the limit: charged");
	is_int(membudget_room(&b), 0, "no room left");
	is_int(membudget_charge(&b, 1), ERR_NOMEM, "one byte past: refused");
	is_int(membudget_charge(&b, SIZE_MAX), ERR_NOMEM,
	    "SIZE_MAX: refused, no wrap-around");
	membudget_release(&b, 1000);
	is_int(membudget_used(&b), 0, "released");
	is_int(membudget_charge(&b, 1001), ERR_NOMEM, "over the limit alone");
	membudget_force(&b, 1500);
	is_int(membudget_used(&b), 1500, "force charges past the limit");
	is_int(membudget_room(&b), 0, "and leaves no room");
	is_int(atomic_load(&b.peak), 1500, "peak follows");
	is_int(atomic_load(&b.refused), 4, "refusals are counted");
	membudget_release(&b, 1500);

	membudget_init(&b, 0);
	is_int(membudget_charge(&b, (size_t)1 << 40), 0, "limit 0: unlimited");
	ok(membudget_room(&b) == UINT64_MAX, "room unlimited");
}

/* A reclaimer holding 10 blocks of 100 bytes, giving one per call. */
static int held = 10, calls;

static size_t
give_back(void *arg, size_t need)
{
	struct membudget *b = arg;

	calls++;
	if (held == 0)
		return 0;
	held--;
	membudget_release(b, 100);
	return 100;
}

static void
test_reclaim(void)
{
	struct membudget b;

	membudget_init(&b, 1000);
	membudget_charge(&b, 1000); /* the reclaimer's 10 blocks */
	membudget_set_reclaim(&b, give_back, &b);
	is_int(membudget_charge(&b, 250), ERR_NOMEM,
	    "a plain charge does not reclaim");
	is_int(
	    membudget_charge_reclaim(&b, 250), 0, "charge_reclaim makes room");
	is_int(held, 7, "three blocks given back for 250 bytes");
	is_int(membudget_used(&b), 950, "and the charge is in");
	is_int(membudget_charge_reclaim(&b, 2000), ERR_NOMEM,
	    "more than the limit: refused without reclaiming");
	is_int(held, 7, "nothing given back for it");
	held = 0;
	calls = 0;
	is_int(membudget_charge_reclaim(&b, 100), ERR_NOMEM,
	    "a reclaimer with nothing left: refused");
	is_int(calls, 1, "after asking once");
}

static struct membudget shared;

static void *
churn(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100000; i++) {
		if (membudget_charge(&shared, 7) == 0)
			membudget_release(&shared, 7);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[4];
	int i;

	membudget_init(&shared, 20);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	is_int(membudget_used(&shared), 0, "4 threads charge and release");
	ok(atomic_load(&shared.peak) <= 20, "never past the limit (peak %llu)",
	    (unsigned long long)atomic_load(&shared.peak));
}

int
main(void)
{
	plan_lazy();
	test_limit();
	test_reclaim();
	test_threads();
	return done_testing();
}
