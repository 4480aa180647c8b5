/*
 * test_capture.c: (1) the capture file format (proto/capture.c).
 *
 * The golden bytes were computed by an independent CRC-32C (bitwise,
 * polynomial 0x82F63B78) over the layout in capture.h.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "proto/capture.h"
#include "proto/wbuf.h"
#include "tests/lib/tap.h"

static const uint8_t golden_header[] = {0x46, 0x4e, 0x48, 0x43, 0x41, 0x50,
    0x30, 0x31, 0x00, 0x01, 0x00, 0x00, 0x00, 0x29, 0x4f, 0xa9};

/* {"type":"ping"} received at 1721555886208123 µs, as text. */
static const uint8_t golden_ping[] = {0x00, 0x06, 0x1d, 0xbe, 0xf7, 0x0e, 0xf4,
    0x7b, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x7b, 0x22, 0x74, 0x79, 0x70, 0x65,
    0x22, 0x3a, 0x22, 0x70, 0x69, 0x6e, 0x67, 0x22, 0x7d, 0x7d, 0xcd, 0x3a,
    0x2d};

/* An empty binary message at time 0. */
static const uint8_t golden_empty[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0xcc, 0x79, 0x7a, 0xbc};

#define PING "{\"type\":\"ping\"}"

/* A copy of n bytes in a buffer of exactly n bytes, for ASan. */
static uint8_t *
exact(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	if (q == NULL)
		abort();
	memcpy(q, p, n);
	return q;
}

static int
decode_exact(const uint8_t *p, size_t n, size_t max, struct capture_frame *f)
{
	uint8_t *q = exact(p, n);
	int rc = capture_decode_frame(q, n, max, f);

	free(q);
	return rc;
}

static void
test_golden(void)
{
	struct capture_frame f;
	struct wbuf w;

	wbuf_init(&w, 0);
	capture_encode_header(&w);
	is_mem(
	    w.buf, w.len, golden_header, sizeof(golden_header), "header bytes");
	is_int(capture_decode_header(golden_header, sizeof(golden_header)),
	    CAPTURE_HEADER_LEN, "header decodes");
	wbuf_reset(&w);
	capture_encode_frame(&w, 1721555886208123ull, CAPTURE_OP_TEXT,
	    (const uint8_t *)PING, strlen(PING));
	is_mem(w.buf, w.len, golden_ping, sizeof(golden_ping), "ping record");
	is_int(capture_decode_frame(golden_ping, sizeof(golden_ping), 1024, &f),
	    sizeof(golden_ping), "ping record decodes");
	ok(f.t_us == 1721555886208123ull, "its time");
	is_int(f.opcode, CAPTURE_OP_TEXT, "text");
	is_mem(f.payload, f.len, PING, strlen(PING), "its payload");
	ok(f.payload == golden_ping + 13, "payload points into the input");
	wbuf_reset(&w);
	capture_encode_frame(&w, 0, CAPTURE_OP_BINARY, NULL, 0);
	is_mem(w.buf, w.len, golden_empty, sizeof(golden_empty),
	    "empty binary record");
	is_int(capture_decode_frame(golden_empty, sizeof(golden_empty), 0, &f),
	    CAPTURE_RECORD_OVERHEAD, "decodes with max_payload 0");
	ok(f.t_us == 0 && f.opcode == CAPTURE_OP_BINARY && f.len == 0,
	    "time 0, binary, empty");
	wbuf_fini(&w);
}

static void
test_header_errors(void)
{
	uint8_t h[CAPTURE_HEADER_LEN];
	struct wbuf w;
	size_t k, bad = 0;

	for (k = 0; k < sizeof(golden_header); k++) {
		uint8_t *q = exact(golden_header, k);

		if (capture_decode_header(q, k) != 0)
			bad++;
		free(q);
	}
	ok(bad == 0, "every prefix of the header: need more");
	is_int(capture_decode_header((const uint8_t *)"FNHX", 4), ERR_MALFORMED,
	    "a differing prefix is refused at once");
	is_int(
	    capture_decode_header((const uint8_t *)"{\"type\":\"ping\"}", 15),
	    ERR_MALFORMED, "JSON is not a capture");
	memcpy(h, golden_header, sizeof(h));
	h[9] = 2;
	is_int(capture_decode_header(h, sizeof(h)), ERR_UNSUPPORTED,
	    "version 2: unsupported");
	memcpy(h, golden_header, sizeof(h));
	h[15] ^= 1;
	is_int(capture_decode_header(h, sizeof(h)), ERR_CRC, "damaged CRC");
	/* A flag with a correct CRC. */
	wbuf_init(&w, 0);
	wbuf_put(&w, CAPTURE_MAGIC, 8);
	wbuf_u16(&w, 1);
	wbuf_u16(&w, 4);
	wbuf_u32(&w, 0);
	{
		uint32_t c = crc32c(0, w.buf, 12);

		w.buf[12] = (uint8_t)(c >> 24);
		w.buf[13] = (uint8_t)(c >> 16);
		w.buf[14] = (uint8_t)(c >> 8);
		w.buf[15] = (uint8_t)c;
	}
	is_int(capture_decode_header(w.buf, w.len), ERR_UNSUPPORTED,
	    "an unknown flag: unsupported");
	wbuf_fini(&w);
	is_int(capture_decode_header(NULL, 0), 0, "nothing: need more");
}

/* Three records of different sizes in one buffer. */
static void
build(struct wbuf *w, size_t *ends)
{
	static uint8_t big[3000];
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	capture_encode_frame(
	    w, 1, CAPTURE_OP_TEXT, (const uint8_t *)PING, strlen(PING));
	ends[0] = w->len;
	capture_encode_frame(
	    w, UINT64_MAX, CAPTURE_OP_BINARY, big, sizeof(big));
	ends[1] = w->len;
	capture_encode_frame(w, 1700000000000000ull, CAPTURE_OP_TEXT, NULL, 0);
	ends[2] = w->len;
}

static void
test_roundtrip_splits(void)
{
	struct capture_frame f;
	struct wbuf w;
	size_t ends[3], k, off, bad = 0;
	int rc, i;

	wbuf_init(&w, 0);
	build(&w, ends);
	is_int(w.err, 0, "three records encoded");

	off = 0;
	for (i = 0; i < 3; i++) {
		rc = decode_exact(w.buf + off, w.len - off, 4096, &f);
		is_int(rc, ends[i] - off, "record %d: its length", i);
		off += (size_t)(rc > 0 ? rc : 0);
	}
	rc = capture_decode_frame(w.buf, w.len, 4096, &f);
	ok(rc > 0 && f.t_us == 1 && f.len == strlen(PING), "first again");
	rc = capture_decode_frame(w.buf + ends[0], w.len - ends[0], 4096, &f);
	ok(rc > 0 && f.t_us == UINT64_MAX && f.opcode == CAPTURE_OP_BINARY &&
	        f.len == 3000 && f.payload[2999] == (uint8_t)(2999 * 7),
	    "second: max time, binary, 3000 bytes");

	/* Every split point: a prefix of a record asks for more. */
	for (i = 0; i < 3; i++) {
		size_t start = i ? ends[i - 1] : 0, len = ends[i] - start;

		for (k = 0; k < len; k++)
			if (decode_exact(w.buf + start, k, 4096, &f) != 0)
				bad++;
		if (decode_exact(w.buf + start, len, 4096, &f) != (int)len)
			bad++;
	}
	ok(bad == 0, "every split point of every record");

	/* Every truncation of the file: whole records, then a torn tail. */
	bad = 0;
	for (k = 0; k <= w.len; k++) {
		uint8_t *q = exact(w.buf, k);
		size_t pos = 0, nrec = 0, want = 0;

		while ((rc = capture_decode_frame(q + pos, k - pos, 4096, &f)) >
		       0) {
			pos += (size_t)rc;
			nrec++;
		}
		for (i = 0; i < 3; i++)
			want += ends[i] <= k;
		if (rc != 0 || nrec != want ||
		    pos != (want ? ends[want - 1] : 0))
			bad++;
		free(q);
	}
	ok(bad == 0, "every truncation: whole records then a torn tail");
	wbuf_fini(&w);
}

static void
test_damage(void)
{
	struct capture_frame f;
	uint8_t rec[sizeof(golden_ping)];
	size_t i, bit, bad = 0, crc_errs = 0;
	int rc;

	/* Every single-bit flip is caught; none decodes. */
	for (i = 0; i < sizeof(rec); i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(rec, golden_ping, sizeof(rec));
			rec[i] ^= (uint8_t)(1 << bit);
			rc = decode_exact(rec, sizeof(rec), 1 << 20, &f);
			if (rc > 0)
				bad++;
			crc_errs += rc == ERR_CRC;
			/* Outside the length and opcode, it is the CRC. */
			if ((i < 8 || i >= 13) && rc != ERR_CRC)
				bad++;
		}
	ok(bad == 0, "every bit flip refused (%zu CRC errors)", crc_errs);

	memcpy(rec, golden_ping, sizeof(rec));
	rec[8] = 3;
	is_int(decode_exact(rec, sizeof(rec), 1024, &f), ERR_MALFORMED,
	    "opcode 3: malformed");
	rec[8] = 0;
	is_int(decode_exact(rec, 13, 1024, &f), ERR_MALFORMED,
	    "opcode 0: malformed before the payload arrives");
}

static void
test_oversize(void)
{
	struct capture_frame f;
	uint8_t head[13] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff};
	struct wbuf w;

	is_int(decode_exact(golden_ping, sizeof(golden_ping), 14, &f),
	    ERR_TOO_BIG, "15-byte payload over a 14-byte limit");
	is_int(decode_exact(golden_ping, 13, 14, &f), ERR_TOO_BIG,
	    "known from the first 13 bytes");
	is_int(decode_exact(golden_ping, 12, 14, &f), 0, "12 bytes: need more");
	is_int(decode_exact(golden_ping, sizeof(golden_ping), 15, &f),
	    sizeof(golden_ping), "exactly at the limit: fine");
	is_int(decode_exact(head, sizeof(head), SIZE_MAX, &f), ERR_TOO_BIG,
	    "4 GiB payload with no limit: still too big for an int");
	head[9] = 0;
	is_int(decode_exact(head, sizeof(head), SIZE_MAX, &f), 0,
	    "16 MiB payload allowed: need more");

	wbuf_init(&w, 0);
	capture_encode_frame(&w, 0, 0, NULL, 0);
	is_int(w.err, ERR_RANGE, "encoding opcode 0: ERR_RANGE");
	wbuf_fini(&w);
	wbuf_init(&w, 0);
	capture_encode_frame(
	    &w, 0, CAPTURE_OP_TEXT, NULL, (size_t)UINT32_MAX + 1);
	is_int(w.err, ERR_TOO_BIG, "a 4 GiB payload: ERR_TOO_BIG");
	is_int(w.len, 0, "nothing written");
	wbuf_fini(&w);
	wbuf_init(&w, 20);
	capture_encode_frame(
	    &w, 0, CAPTURE_OP_TEXT, (const uint8_t *)PING, strlen(PING));
	ok(w.err == ERR_TOO_BIG && w.len == 0,
	    "a record over the wbuf's max: not even partly written");
	wbuf_fini(&w);
}

int
main(void)
{
	plan_lazy();
	test_golden();
	test_header_errors();
	test_roundtrip_splits();
	test_damage();
	test_oversize();
	return done_testing();
}
