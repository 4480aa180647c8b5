/*
 * murmur2.c: Kafka's default-partitioner hash (see murmur2.h).
 *
 * Java computes in signed 32-bit ints with `>>>`; unsigned arithmetic here
 * gives the same bits without signed-overflow undefined behaviour.
 */
#include <config.h>

#include "proto/murmur2.h"

#define MURMUR2_SEED 0x9747b28cu
#define MURMUR2_M    0x5bd1e995u
#define MURMUR2_R    24

uint32_t
murmur2(const void *key, size_t len)
{
	const uint8_t *p = key;
	/* Java hashes byte[] whose length is an int. */
	uint32_t h = MURMUR2_SEED ^ (uint32_t)len;
	size_t i, n4 = len / 4;

	for (i = 0; i < n4; i++, p += 4) {
		uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

		k *= MURMUR2_M;
		k ^= k >> MURMUR2_R;
		k *= MURMUR2_M;
		h *= MURMUR2_M;
		h ^= k;
	}
	switch (len & 3) {
	case 3:
		h ^= (uint32_t)p[2] << 16;
		/* FALLTHROUGH */
	case 2:
		h ^= (uint32_t)p[1] << 8;
		/* FALLTHROUGH */
	case 1:
		h ^= p[0];
		h *= MURMUR2_M;
		break;
	default:
		break;
	}
	h ^= h >> 13;
	h *= MURMUR2_M;
	h ^= h >> 15;
	return h;
}

int
murmur2_partition(const void *key, size_t len, int npart)
{
	if (npart < 1)
		return 0;
	return (int)((murmur2(key, len) & 0x7fffffffu) % (uint32_t)npart);
}
