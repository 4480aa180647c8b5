/*
 * rbuf.h: a bounded read cursor over bytes, shared by every codec.
 *
 * Each getter returns the value, or 0 when the bytes run out; running out
 * latches r->err (sticky) so a decoder reads a whole structure and checks
 * the error once at the end.  Integers are big-endian (Kafka's order);
 * the varint getters implement protobuf-style LEB128, zigzag or plain.
 * Nothing here allocates or touches I/O.
 */
#ifndef PROTO_RBUF_H
#define PROTO_RBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

struct rbuf {
	const uint8_t *p;
	const uint8_t *start;
	const uint8_t *end;
	int err; /* 0, or ERR_* of the first failure (see err.h) */
};

static inline void
rbuf_init(struct rbuf *r, const void *p, size_t n)
{
	r->p = r->start = (const uint8_t *)p;
	r->end = r->p + n;
	r->err = 0;
}

static inline size_t
rbuf_left(const struct rbuf *r)
{
	return (size_t)(r->end - r->p);
}

static inline size_t
rbuf_off(const struct rbuf *r)
{
	return (size_t)(r->p - r->start);
}

static inline int
rbuf_need(struct rbuf *r, size_t n)
{
	if (r->err)
		return 0;
	if (rbuf_left(r) < n) {
		r->err = ERR_MALFORMED;
		r->p = r->end;
		return 0;
	}
	return 1;
}

/* Latch an error (the first one wins). */
static inline void
rbuf_fail(struct rbuf *r, int err)
{
	if (!r->err)
		r->err = err;
	r->p = r->end;
}

static inline uint8_t
rbuf_u8(struct rbuf *r)
{
	if (!rbuf_need(r, 1))
		return 0;
	return *r->p++;
}

static inline uint16_t
rbuf_u16(struct rbuf *r)
{
	uint16_t v;

	if (!rbuf_need(r, 2))
		return 0;
	v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return v;
}

static inline uint32_t
rbuf_u32(struct rbuf *r)
{
	uint32_t v;

	if (!rbuf_need(r, 4))
		return 0;
	v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return v;
}

static inline uint64_t
rbuf_u64(struct rbuf *r)
{
	uint64_t hi = rbuf_u32(r);
	return hi << 32 | rbuf_u32(r);
}

static inline int16_t
rbuf_i16(struct rbuf *r)
{
	return (int16_t)rbuf_u16(r);
}

static inline int32_t
rbuf_i32(struct rbuf *r)
{
	return (int32_t)rbuf_u32(r);
}

static inline int64_t
rbuf_i64(struct rbuf *r)
{
	return (int64_t)rbuf_u64(r);
}

/* Unsigned LEB128 of at most maxbytes bytes (5 for 32 bits, 10 for 64). */
static inline uint64_t
rbuf_uvarint_n(struct rbuf *r, int maxbytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < maxbytes; i++) {
		uint8_t b;

		if (!rbuf_need(r, 1))
			return 0;
		b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	rbuf_fail(r, ERR_MALFORMED);
	return 0;
}

static inline uint32_t
rbuf_uvarint(struct rbuf *r)
{
	uint64_t v = rbuf_uvarint_n(r, 5);

	if (v > UINT32_MAX) {
		rbuf_fail(r, ERR_MALFORMED);
		return 0;
	}
	return (uint32_t)v;
}

/* Zigzag varint (Kafka record fields): at most 5 bytes. */
static inline int32_t
rbuf_varint(struct rbuf *r)
{
	uint32_t u = rbuf_uvarint(r);

	return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* Zigzag varlong: at most 10 bytes. */
static inline int64_t
rbuf_varlong(struct rbuf *r)
{
	uint64_t u = rbuf_uvarint_n(r, 10);

	return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* Returns a pointer to the next n bytes and skips them, or NULL. */
static inline const uint8_t *
rbuf_bytes(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (!rbuf_need(r, n))
		return NULL;
	p = r->p;
	r->p += n;
	return p;
}

static inline void
rbuf_skip(struct rbuf *r, size_t n)
{
	(void)rbuf_bytes(r, n);
}

#endif
