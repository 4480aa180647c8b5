/*
 * kafka_msgs_int.h: (2') the decoding helpers shared by the per-API codec
 * files (kafka_msgs.c, kafka_group_msgs.c) and nothing else.
 *
 * A decoder opens a `struct dec` with dec_begin (version and size checks),
 * reads fields through the rbuf and kafka_rd_f* primitives, calls dec_mark
 * before each element so a failure can name where it happened, and ends
 * with dec_end, which turns trailing bytes or the latched rbuf error into
 * the return value of kafka_msgs.h.  Counts go through dec_count (checked
 * against the bytes left and KAFKA_MAX_ARRAY) and arrays through dec_array
 * (the arena, zeroed), so nothing is allocated for a count the frame
 * cannot hold.
 */
#ifndef PROTO_KAFKA_MSGS_INT_H
#define PROTO_KAFKA_MSGS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "proto/rbuf.h"

/* Smallest encodings, for checking counts against the bytes left. */
#define MIN_STR(flex)   ((flex) ? 1u : 2u)
#define MIN_ARRAY(flex) ((flex) ? 1u : 4u)
#define MIN_TAGS(flex)  ((flex) ? 1u : 0u)

struct dec {
	struct rbuf r;
	struct arena *a;
	int flex;
	size_t mark; /* start of the element being decoded, for err_off */
};

/* 0, or ERR_UNSUPPORTED / ERR_TOO_BIG (with *err_off 0). */
static inline int
dec_begin(struct dec *d, const uint8_t *p, size_t n, int api_key, int ver,
    int min_ver, int max_ver, struct arena *a, size_t *err_off)
{
	rbuf_init(&d->r, p, n);
	d->a = a;
	d->flex = kafka_request_flexible(api_key, ver);
	d->mark = 0;
	if (ver < min_ver || ver > max_ver) {
		if (err_off != NULL)
			*err_off = 0;
		return ERR_UNSUPPORTED;
	}
	if (n > INT32_MAX) {
		if (err_off != NULL)
			*err_off = 0;
		return ERR_TOO_BIG;
	}
	return 0;
}

/* Remember where the next element starts, unless decoding already failed. */
static inline void
dec_mark(struct dec *d)
{
	if (!d->r.err)
		d->mark = rbuf_off(&d->r);
}

/* All bytes consumed: their count; else the error, *err_off its place. */
static inline int
dec_end(struct dec *d, size_t *err_off)
{
	if (!d->r.err && rbuf_left(&d->r) != 0) {
		/* Trailing bytes: a version mix-up or garbage. */
		d->mark = rbuf_off(&d->r);
		d->r.err = ERR_MALFORMED;
	}
	if (d->r.err) {
		if (err_off != NULL)
			*err_off = d->mark;
		return d->r.err;
	}
	return (int)rbuf_off(&d->r);
}

/*
 * An array count, checked against the bytes left (min_elem per element)
 * and KAFKA_MAX_ARRAY.  Null (-1) is returned only when nullable is set;
 * otherwise it is malformed.
 */
static inline int32_t
dec_count_n(struct dec *d, size_t min_elem, int nullable)
{
	int32_t n = kafka_rd_farray(&d->r, d->flex, min_elem);

	if (d->r.err)
		return 0;
	if (n < 0) {
		if (nullable)
			return -1;
		rbuf_fail(&d->r, ERR_MALFORMED);
		return 0;
	}
	if (n > KAFKA_MAX_ARRAY) {
		rbuf_fail(&d->r, ERR_TOO_BIG);
		return 0;
	}
	return n;
}

static inline int32_t
dec_count(struct dec *d, size_t min_elem)
{
	return dec_count_n(d, min_elem, 0);
}

/* Zeroed room for n elements from the arena; NULL (error latched) if not. */
static inline void *
dec_array(struct dec *d, int32_t n, size_t size)
{
	void *p;

	if (d->r.err || n <= 0)
		return NULL;
	if ((p = arena_calloc(d->a, (size_t)n, size)) == NULL)
		rbuf_fail(&d->r, ERR_TOO_BIG);
	return p;
}

#endif
