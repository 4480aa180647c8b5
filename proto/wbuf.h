/*
 * wbuf.h: a growable byte writer for encoders.
 *
 * Encoders append to a wbuf and cannot fail on I/O, because there is none.
 * Growth past w->max (or a failed realloc) latches w->err = ERR_TOO_BIG or
 * ERR_NOMEM; later writes are dropped, and the caller checks w->err once
 * when the message is complete.  Integers are written big-endian; varints
 * as LEB128 (plain or zigzag).  Length fields can be reserved and patched
 * afterwards (wbuf_mark + wbuf_patch_*).
 *
 * Ownership: the wbuf owns buf; wbuf_fini frees it, wbuf_detach hands it
 * to the caller (who frees it with free()).
 */
#ifndef PROTO_WBUF_H
#define PROTO_WBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wbuf {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t max; /* 0 = unbounded (still limited by memory) */
	int err;
};

/* An empty writer that may grow to max bytes (0: no limit). */
void wbuf_init(struct wbuf *w, size_t max);
void wbuf_fini(struct wbuf *w);
/* Forget the contents (and the error), keep the allocation. */
void wbuf_reset(struct wbuf *w);
/* Make room for n more bytes; 0 or the latched error. */
int wbuf_reserve(struct wbuf *w, size_t n);
/* Hand buf to the caller (who frees it); the wbuf becomes empty. */
uint8_t *wbuf_detach(struct wbuf *w, size_t *lenp);

void wbuf_put(struct wbuf *w, const void *p, size_t n);
void wbuf_fill(struct wbuf *w, int c, size_t n);
void wbuf_u8(struct wbuf *w, uint8_t v);
void wbuf_u16(struct wbuf *w, uint16_t v);
void wbuf_u32(struct wbuf *w, uint32_t v);
void wbuf_u64(struct wbuf *w, uint64_t v);
void wbuf_uvarint(struct wbuf *w, uint64_t v);
void wbuf_varint(struct wbuf *w, int64_t v);  /* zigzag */
void wbuf_str(struct wbuf *w, const char *s); /* raw bytes, no length */
void wbuf_printf(struct wbuf *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define wbuf_i16(w, v) wbuf_u16((w), (uint16_t)(v))
#define wbuf_i32(w, v) wbuf_u32((w), (uint32_t)(v))
#define wbuf_i64(w, v) wbuf_u64((w), (uint64_t)(v))

/* Offset of the next byte, for a later patch. */
static inline size_t
wbuf_mark(const struct wbuf *w)
{
	return w->len;
}

/* Overwrite 4 bytes at off (big-endian); ignored after an error. */
void wbuf_patch_u32(struct wbuf *w, size_t off, uint32_t v);

/* Bytes a uvarint / zigzag varint takes. */
size_t wbuf_uvarint_len(uint64_t v);
size_t wbuf_varint_len(int64_t v);

#endif
