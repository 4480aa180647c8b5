/*
 * fuzz_webpath.c: (5) the chart page's static file names and
 * If-None-Match lists (proto/webpath.c) on arbitrary bytes.
 *
 * A name accepted lies inside the input, after the prefix, and holds
 * only the bytes of a plain name (never '/', '%', or a leading dot); an
 * If-None-Match answer is 0 or 1 and does not depend on bytes past n.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/webpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *name;
	char etag[WEBPATH_ETAG_SIZE];
	size_t len, i;
	int rc, m;

	rc = webpath_name(p, size, "/ui/", &name, &len);
	if (rc != 0 && rc != ERR_NOTFOUND)
		abort();
	if (rc == 0) {
		if (name != p + 4 || len != size - 4 || len == 0 ||
		    len > WEBPATH_MAX_NAME || name[0] == '.')
			abort();
		for (i = 0; i < len; i++)
			if (name[i] == '/' || name[i] == '%' ||
			    name[i] == '\\' || name[i] == '\0')
				abort();
		(void)webpath_type(name, len);
	}
	webpath_etag(size, 1, etag);
	m = webpath_etag_match(p, size, etag);
	if (m != 0 && m != 1)
		abort();
	{
		/* The same bytes followed by more: the answer for the first
		 * size bytes is the same. */
		char *copy = malloc(size + 8);

		if (copy == NULL)
			return 0;
		memcpy(copy, p, size);
		memcpy(copy + size, "\"x\",*\"\"", 8);
		if (webpath_etag_match(copy, size, etag) != m)
			abort();
		free(copy);
	}
	return 0;
}
