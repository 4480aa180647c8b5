/*
 * xorshift.h: xorshift64*, the cheap generator for things where only
 * spread matters (reconnect jitter, the sim feed's burst sizes, tests).
 * Not for anything an attacker may predict; the sim market's prices use
 * xoshiro256** (feed_sim.c) and the websocket masks RAND_bytes.
 */
#ifndef BASE_XORSHIFT_H
#define BASE_XORSHIFT_H

#include <stdint.h>

/* Next value; *state must be seeded non-zero and stays non-zero. */
static inline uint64_t
xorshift64s(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif
