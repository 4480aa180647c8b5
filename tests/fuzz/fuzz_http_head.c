/*
 * fuzz_http_head.c: (5) the HTTP gate's request-head scanner
 * (proto/http_head.c) on arbitrary bytes, as a connection delivers them.
 *
 * A head that scans ends with a line feed inside the input and within
 * the limit, every proper prefix of it asks for more, and what it
 * reports is in range; errors are the documented ones, and a complete
 * head is never asked to wait.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head h, h2;
	size_t i, off;
	int rc, rc2;

	rc = http_head_scan(data, size, MAX, &h, &off);
	if (rc < 0) {
		if (rc != ERR_TOO_BIG && rc != ERR_MALFORMED &&
		    rc != ERR_UNSUPPORTED)
			abort();
		if (rc != ERR_TOO_BIG && off >= size)
			abort();
		return 0;
	}
	if (rc == 0) {
		if (size >= MAX)
			abort(); /* no end within the limit is an error */
		return 0;
	}
	if ((size_t)rc > size || rc > MAX || data[rc - 1] != '\n')
		abort();
	if (h.method < HTTP_M_GET || h.method > HTTP_M_PATCH ||
	    h.content_length < -1 || h.content_length > 999999999999999LL ||
	    (h.chunked && h.content_length >= 0) || h.target_len == 0 ||
	    h.target < data || h.target + h.target_len > data + rc)
		abort();
	/* Prefixes (a few, for speed) wait for the rest. */
	for (i = 0; i < (size_t)rc; i += 1 + (size_t)rc / 64) {
		rc2 = http_head_scan(data, i, MAX, &h2, NULL);
		if (rc2 != 0)
			abort();
	}
	return 0;
}
