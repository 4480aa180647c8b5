/*
 * fuzz_colcommit.c: (4) bytes as a commit slot of the store holds them
 * (storage/colfile.h): decoded or refused, never a crash, and a record
 * that decodes encodes back to one that decodes to the same state.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/byteorder.h"
#include "base/crc32c.h"
#include "proto/wbuf.h"
#include "storage/colfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(const uint8_t *data, size_t size)
{
	struct colfile_commit c, d;
	struct wbuf w;
	size_t i;

	if (colfile_commit_decode(data, size, &c) != 0)
		return;
	wbuf_init(&w, 0);
	colfile_commit_encode(&w, &c);
	if (w.err != 0 || colfile_commit_decode(w.buf, w.len, &d) != 0)
		abort();
	if (d.seq != c.seq || d.time_ms != c.time_ms ||
	    d.tail_gen != c.tail_gen || d.tail_len != c.tail_len ||
	    d.nfiles != c.nfiles || d.nparts != c.nparts ||
	    strcmp(d.topic, c.topic) != 0 || d.trades != c.trades ||
	    d.bars != c.bars || d.lost != c.lost || d.invalid != c.invalid ||
	    d.floor_day[0] != c.floor_day[0] ||
	    d.floor_day[1] != c.floor_day[1])
		abort();
	for (i = 0; i < c.nfiles; i++)
		if (d.files[i].table != c.files[i].table ||
		    d.files[i].day != c.files[i].day ||
		    d.files[i].len != c.files[i].len)
			abort();
	for (i = 0; i < c.nparts; i++)
		if (d.offsets[i] != c.offsets[i] || d.ends[i] != c.ends[i])
			abort();
	colfile_commit_fini(&c);
	colfile_commit_fini(&d);
	wbuf_fini(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	one(data, size);
	/* Mutations nearly always break the CRC: decode a copy resealed
	 * (length and CRC made right) so the body's decoder is reached. */
	if (size < 12 || size > COLFILE_MAX_COMMIT ||
	    (copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	be32_store(copy + 4, (uint32_t)size);
	be32_store(copy + size - 4, crc32c(0, copy, size - 4));
	one(copy, size);
	free(copy);
	return 0;
}
