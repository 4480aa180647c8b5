/*
 * capture.h: (1) the capture file: the raw upstream websocket messages
 * with the time each was received, written by `capture PATH`, read back by
 * `feed replay:PATH[@SPEED]` and served again by finnhub-sim.
 *
 * A file is a header, then records back to back up to the end of the
 * file.  Integers are big-endian.
 *
 * File header (CAPTURE_HEADER_LEN = 16 bytes):
 *
 *	OFFSET	SIZE	FIELD
 *	0	8	magic "FNHCAP01" (ASCII)
 *	8	2	version: 1
 *	10	2	flags: 0 (no flag is defined; readers refuse any)
 *	12	4	CRC-32C of bytes 0..11
 *
 * Record (CAPTURE_RECORD_OVERHEAD = 17 bytes + payload):
 *
 *	OFFSET	SIZE	FIELD
 *	0	8	receive time, microseconds since the UNIX epoch (u64)
 *	8	1	websocket opcode: 1 text, 2 binary
 *	9	4	payload length N (u32)
 *	13	N	payload: the whole websocket message, unmasked
 *	13+N	4	CRC-32C of bytes 0 .. 13+N-1 of this record
 *
 * The CRC-32C is Castagnoli's, as base/crc32c.h computes it.  A writer
 * appends whole records; a file cut short (a crash, a full disk) ends in
 * a torn record, which the decoder reports as "need more" (0) and a reader
 * at the end of the file reports as a torn tail and ignores.  Anything
 * else that does not decode is damage: ERR_CRC or ERR_MALFORMED.
 *
 * Pure code: no I/O; the decoders point into the bytes given.
 */
#ifndef PROTO_CAPTURE_H
#define PROTO_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wbuf.h"

#define CAPTURE_MAGIC           "FNHCAP01"
#define CAPTURE_VERSION         1
#define CAPTURE_HEADER_LEN      16
#define CAPTURE_RECORD_OVERHEAD 17
#define CAPTURE_OP_TEXT         1
#define CAPTURE_OP_BINARY       2

struct capture_frame {
	uint64_t t_us;          /* receive time, µs since the epoch */
	int opcode;             /* CAPTURE_OP_TEXT or CAPTURE_OP_BINARY */
	const uint8_t *payload; /* points into the bytes decoded */
	size_t len;
};

/* Append the file header.  Errors latch in w->err. */
void capture_encode_header(struct wbuf *w);

/*
 * Append one record: the n bytes at p (p may be NULL when n is 0),
 * received at t_us, with opcode CAPTURE_OP_TEXT or CAPTURE_OP_BINARY.
 * Errors latch in w->err: ERR_RANGE for another opcode, ERR_TOO_BIG for
 * n > UINT32_MAX, or the wbuf's own.
 */
void capture_encode_frame(
    struct wbuf *w, uint64_t t_us, int opcode, const uint8_t *p, size_t n);

/*
 * Check the file header at the start of the n bytes at p.  Returns
 * CAPTURE_HEADER_LEN; 0 when n is shorter and what is there matches;
 * ERR_MALFORMED when the magic differs (not a capture), ERR_UNSUPPORTED
 * for another version or unknown flags, ERR_CRC for a damaged header.
 */
int capture_decode_header(const uint8_t *p, size_t n);

/*
 * Decode the record at the start of the n bytes at p, refusing payloads
 * over max_payload.  Returns the record's length (> 0) with *out filled
 * in (out->payload points into p); or 0 when the n bytes hold only part of
 * a record (at the end of a file: a torn tail); or, in this order of
 * checks, ERR_TOO_BIG when the length field (read as soon as the first 13
 * bytes are there, before waiting for the payload) exceeds max_payload,
 * ERR_MALFORMED for an unknown opcode, ERR_CRC when the checksum differs.
 */
int capture_decode_frame(
    const uint8_t *p, size_t n, size_t max_payload, struct capture_frame *out);

#endif
