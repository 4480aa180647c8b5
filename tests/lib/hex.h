/*
 * hex.h: golden vectors are written as hex strings; these turn them into
 * bytes (header only, for tests).  Bad hex aborts: a test vector typo is
 * a bug in the test.
 */
#ifndef TESTS_LIB_HEX_H
#define TESTS_LIB_HEX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode h into out (room for cap bytes); returns the byte count. */
static inline size_t
unhex_into(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2, i;
	unsigned int b;

	if (n > cap)
		abort();
	for (i = 0; i < n; i++) {
		if (sscanf(h + 2 * i, "%2x", &b) != 1)
			abort();
		out[i] = (uint8_t)b;
	}
	return n;
}

/* Decode h into a malloc'd buffer of exactly *lenp bytes (caller frees). */
static inline uint8_t *
unhex(const char *h, size_t *lenp)
{
	size_t n = strlen(h) / 2;
	uint8_t *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	*lenp = unhex_into(h, p, n);
	return p;
}

#endif
