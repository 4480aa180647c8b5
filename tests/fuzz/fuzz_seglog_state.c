/*
 * fuzz_seglog_state.c: (2) the seglog state file (offset leases) as read
 * at start-up: any bytes on disk either load or are refused with
 * ERR_MALFORMED, never crash; a file that loads is rewritten on shutdown
 * and that rewrite loads again to the same topics and offsets.
 */
#include <config.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "storage/seglog.h"

static char path[256];

static void
put_file(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seglog_limits lim;
	struct seglog *sl = NULL, *again = NULL;
	struct seglog_topic *t, *u;
	size_t i;
	int rc, k;

	if (path[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(path, sizeof(path), "%s/fuzz_seglog_state.%d",
		    tmp ? tmp : "/tmp", (int)getpid());
	}
	memset(&lim, 0, sizeof(lim));
	lim.default_partitions = 1;
	put_file(data, size);
	rc = seglog_new(&lim, path, &sl);
	if (rc != 0) {
		if (rc != ERR_MALFORMED)
			abort();
		goto out;
	}
	if (seglog_sync(sl) != 0 || seglog_new(&lim, path, &again) != 0)
		abort();
	for (i = 0; (t = seglog_topic_at(sl, i)) != NULL; i++) {
		u = seglog_topic_at(again, i);
		if (u == NULL ||
		    strcmp(seglog_topic_name(t), seglog_topic_name(u)) != 0 ||
		    seglog_topic_partitions(t) != seglog_topic_partitions(u))
			abort();
		for (k = 0; k < seglog_topic_partitions(t); k++)
			if (seglog_end_offset(t, k) != seglog_end_offset(u, k))
				abort();
	}
	if (seglog_topic_at(again, i) != NULL)
		abort();
out:
	seglog_free(again);
	seglog_free(sl);
	unlink(path);
	return 0;
}
