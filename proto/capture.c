/*
 * capture.c: (1) the capture file's header and records (see capture.h
 * for the format).
 */
#include <config.h>

#include <limits.h>
#include <string.h>

#include "base/byteorder.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "proto/capture.h"
#include "proto/rbuf.h"

/* Bytes of a record before its payload. */
#define REC_HEAD 13

void
capture_encode_header(struct wbuf *w)
{
	size_t start = wbuf_mark(w);

	wbuf_put(w, CAPTURE_MAGIC, 8);
	wbuf_u16(w, CAPTURE_VERSION);
	wbuf_u16(w, 0);
	if (w->err == 0)
		wbuf_u32(w, crc32c(0, w->buf + start, 12));
}

void
capture_encode_frame(
    struct wbuf *w, uint64_t t_us, int opcode, const uint8_t *p, size_t n)
{
	size_t start = wbuf_mark(w);

	if (w->err != 0)
		return;
	if (opcode != CAPTURE_OP_TEXT && opcode != CAPTURE_OP_BINARY) {
		w->err = ERR_RANGE;
		return;
	}
	if (n > UINT32_MAX) {
		w->err = ERR_TOO_BIG;
		return;
	}
	/* One reservation, so a record is either written whole or not. */
	if (wbuf_reserve(w, CAPTURE_RECORD_OVERHEAD + n) != 0)
		return;
	wbuf_u64(w, t_us);
	wbuf_u8(w, (uint8_t)opcode);
	wbuf_u32(w, (uint32_t)n);
	wbuf_put(w, p, n);
	wbuf_u32(w, crc32c(0, w->buf + start, REC_HEAD + n));
}

int
capture_decode_header(const uint8_t *p, size_t n)
{
	size_t m = n < 8 ? n : 8;

	if (n == 0)
		return 0;
	if (memcmp(p, CAPTURE_MAGIC, m) != 0)
		return ERR_MALFORMED;
	if (n < CAPTURE_HEADER_LEN)
		return 0;
	if ((p[8] << 8 | p[9]) != CAPTURE_VERSION)
		return ERR_UNSUPPORTED;
	if (be32_load(p + 12) != crc32c(0, p, 12))
		return ERR_CRC;
	if ((p[10] << 8 | p[11]) != 0)
		return ERR_UNSUPPORTED;
	return CAPTURE_HEADER_LEN;
}

int
capture_decode_frame(
    const uint8_t *p, size_t n, size_t max_payload, struct capture_frame *out)
{
	struct rbuf r;
	uint64_t t_us;
	uint32_t len;
	uint8_t op;
	size_t total;

	if (n < REC_HEAD)
		return 0;
	rbuf_init(&r, p, REC_HEAD);
	t_us = rbuf_u64(&r);
	op = rbuf_u8(&r);
	len = rbuf_u32(&r);
	/* The return value is an int: keep the record length inside it. */
	if (len > max_payload ||
	    len > (size_t)INT_MAX - CAPTURE_RECORD_OVERHEAD)
		return ERR_TOO_BIG;
	if (op != CAPTURE_OP_TEXT && op != CAPTURE_OP_BINARY)
		return ERR_MALFORMED;
	total = CAPTURE_RECORD_OVERHEAD + (size_t)len;
	if (n < total)
		return 0;
	if (be32_load(p + REC_HEAD + len) != crc32c(0, p, REC_HEAD + len))
		return ERR_CRC;
	out->t_us = t_us;
	out->opcode = op;
	out->payload = p + REC_HEAD;
	out->len = len;
	return (int)total;
}
