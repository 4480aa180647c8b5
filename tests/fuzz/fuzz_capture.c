/*
 * fuzz_capture.c: (1) the capture file decoders (proto/capture.c) on
 * arbitrary bytes, as a replay reads a file: a header, then records.
 *
 * A decoded header or record re-encodes to the very bytes it came from,
 * lies inside the input, respects the payload limit, and every proper
 * prefix of it asks for more; errors are the documented ones.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/capture.h"
#include "proto/wbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
records(const uint8_t *p, size_t n, size_t max)
{
	struct capture_frame f;
	struct wbuf w;
	int rc;

	wbuf_init(&w, 0);
	for (;;) {
		rc = capture_decode_frame(p, n, max, &f);
		if (rc <= 0) {
			if (rc < 0 && rc != ERR_TOO_BIG && rc != ERR_CRC &&
			    rc != ERR_MALFORMED)
				abort();
			if (rc == 0 && n >= CAPTURE_RECORD_OVERHEAD + max)
				abort(); /* a whole record fits: no excuse */
			break;
		}
		if ((size_t)rc > n || f.len > max ||
		    (size_t)rc != CAPTURE_RECORD_OVERHEAD + f.len ||
		    f.payload != p + 13)
			abort();
		wbuf_reset(&w);
		capture_encode_frame(&w, f.t_us, f.opcode, f.payload, f.len);
		if (w.err != 0 || w.len != (size_t)rc ||
		    memcmp(w.buf, p, w.len) != 0)
			abort();
		if (capture_decode_frame(p, (size_t)rc - 1, max, &f) != 0)
			abort();
		p += rc;
		n -= (size_t)rc;
	}
	wbuf_fini(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbuf w;
	int rc = capture_decode_header(data, size);

	if (rc > 0) {
		if (rc != CAPTURE_HEADER_LEN)
			abort();
		wbuf_init(&w, 0);
		capture_encode_header(&w);
		if (w.len != (size_t)rc || memcmp(w.buf, data, w.len) != 0)
			abort();
		wbuf_fini(&w);
	} else if (rc < 0 && rc != ERR_MALFORMED && rc != ERR_UNSUPPORTED &&
	           rc != ERR_CRC) {
		abort();
	}
	/* Records from after a header if there is one, else from byte 0. */
	rc = rc > 0 ? rc : 0;
	records(data + rc, size - (size_t)rc, 4096);
	records(data + rc, size - (size_t)rc, 16);
	return 0;
}
