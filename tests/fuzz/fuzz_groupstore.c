/*
 * fuzz_groupstore.c: (2) the committed-offsets state file as read at
 * start-up: any bytes either load or are refused with ERR_MALFORMED,
 * never crash; an image that loads is canonical, so encoding what was
 * loaded gives back the very same bytes.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/wbuf.h"
#include "storage/groupstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct groupstore *gs = NULL;
	struct wbuf w;
	int rc;

	if (groupstore_open(NULL, &gs) != 0)
		abort();
	wbuf_init(&w, 0);
	rc = groupstore_decode(gs, data, size);
	if (rc != 0) {
		if (rc != ERR_MALFORMED || groupstore_group_at(gs, 0) != NULL)
			abort();
		goto out;
	}
	groupstore_encode(gs, &w);
	if (w.err != 0 || w.len != size || memcmp(w.buf, data, size) != 0)
		abort();
out:
	wbuf_fini(&w);
	groupstore_free(gs);
	return 0;
}
