/*
 * wbuf.c: growable byte writer (see wbuf.h).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "proto/wbuf.h"

void
wbuf_init(struct wbuf *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

void
wbuf_fini(struct wbuf *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void
wbuf_reset(struct wbuf *w)
{
	w->len = 0;
	w->err = 0;
}

uint8_t *
wbuf_detach(struct wbuf *w, size_t *lenp)
{
	uint8_t *p = w->buf;

	*lenp = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	w->err = 0;
	return p;
}

int
wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (w->err)
		return w->err;
	if (n <= w->cap - w->len)
		return 0;
	if (n > SIZE_MAX / 2 - w->len || (w->max != 0 && w->len + n > w->max)) {
		w->err = ERR_TOO_BIG;
		return w->err;
	}
	need = w->len + n;
	cap = w->cap ? w->cap : 256;
	while (cap < need)
		cap *= 2;
	if (w->max != 0 && cap > w->max)
		cap = w->max;
	if ((p = realloc(w->buf, cap)) == NULL) {
		w->err = ERR_NOMEM;
		return w->err;
	}
	w->buf = p;
	w->cap = cap;
	return 0;
}

void
wbuf_put(struct wbuf *w, const void *p, size_t n)
{
	if (n == 0 || wbuf_reserve(w, n) != 0)
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void
wbuf_fill(struct wbuf *w, int c, size_t n)
{
	if (n == 0 || wbuf_reserve(w, n) != 0)
		return;
	memset(w->buf + w->len, c, n);
	w->len += n;
}

void
wbuf_u8(struct wbuf *w, uint8_t v)
{
	if (wbuf_reserve(w, 1) != 0)
		return;
	w->buf[w->len++] = v;
}

void
wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	wbuf_put(w, b, 2);
}

void
wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	wbuf_put(w, b, 4);
}

void
wbuf_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)(v >> 32));
	wbuf_u32(w, (uint32_t)v);
}

void
wbuf_uvarint(struct wbuf *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	wbuf_put(w, b, n);
}

void
wbuf_varint(struct wbuf *w, int64_t v)
{
	wbuf_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

size_t
wbuf_uvarint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t
wbuf_varint_len(int64_t v)
{
	return wbuf_uvarint_len(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void
wbuf_str(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

void
wbuf_printf(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || wbuf_reserve(w, (size_t)n + 1) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf((char *)w->buf + w->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->len += (size_t)n;
}

void
wbuf_patch_u32(struct wbuf *w, size_t off, uint32_t v)
{
	if (w->err || off + 4 > w->len)
		return;
	w->buf[off] = (uint8_t)(v >> 24);
	w->buf[off + 1] = (uint8_t)(v >> 16);
	w->buf[off + 2] = (uint8_t)(v >> 8);
	w->buf[off + 3] = (uint8_t)v;
}
