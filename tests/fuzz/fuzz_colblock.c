/*
 * fuzz_colblock.c: (4) bytes as a store file holds them: a run of blocks
 * (storage/colfile.h), each header decoded and its columns decoded
 * whether or not the CRC matches (the column decoders must be safe on
 * their own: the CRC only guards against accidents).  A block that
 * decodes is encoded again and must decode to the same rows.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wbuf.h"
#include "storage/colfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct colenc_scratch sc;

static void
trades_again(const struct colfile_head *h, const struct colfile_trades *a)
{
	struct colfile_head h2;
	struct colfile_trades b;
	struct wbuf w;
	size_t i, n = h->rows;

	wbuf_init(&w, 0);
	colfile_encode_trades(&w, h->symbol, h->symlen, a->t, a->price,
	    a->volume, a->cond, n, &sc);
	b.t = malloc(n * sizeof(*b.t));
	b.price = malloc(n * sizeof(*b.price));
	b.volume = malloc(n * sizeof(*b.volume));
	b.cond = malloc(n * sizeof(*b.cond));
	if (w.err != 0 ||
	    colfile_head_decode(w.buf, w.len, &h2) != (int)w.len ||
	    colfile_block_check(w.buf, w.len, &h2) != 0 ||
	    colfile_decode_trades(w.buf, &h2, &b, &sc) != 0)
		abort();
	for (i = 0; i < n; i++)
		if (b.t[i] != a->t[i] || !decnum_eq(b.price[i], a->price[i]) ||
		    !decnum_eq(b.volume[i], a->volume[i]) ||
		    b.cond[i].len != a->cond[i].len ||
		    (b.cond[i].len > 0 &&
		        memcmp(b.cond[i].p, a->cond[i].p, b.cond[i].len) != 0))
			abort();
	free(b.t);
	free(b.price);
	free(b.volume);
	free(b.cond);
	wbuf_fini(&w);
}

static void
bars_again(const struct colfile_head *h, const struct colbar *a)
{
	struct colfile_head h2;
	struct colbar *b;
	struct wbuf w;
	size_t i, n = h->rows;

	wbuf_init(&w, 0);
	colfile_encode_bars(&w, h->symbol, h->symlen, h->level, a, n, &sc);
	b = malloc(n * sizeof(*b));
	if (w.err != 0 ||
	    colfile_head_decode(w.buf, w.len, &h2) != (int)w.len ||
	    colfile_decode_bars(w.buf, &h2, b, &sc) != 0)
		abort();
	for (i = 0; i < n; i++)
		if (b[i].t != a[i].t || !decnum_eq(b[i].open, a[i].open) ||
		    !decnum_eq(b[i].close, a[i].close) ||
		    !decnum_eq(b[i].pv, a[i].pv) || b[i].count != a[i].count ||
		    b[i].open_dt != a[i].open_dt)
			abort();
	free(b);
	wbuf_fini(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct colfile_head h;
	size_t off = 0;
	int rc;

	while (off < size) {
		rc = colfile_head_decode(data + off, size - off, &h);
		if (rc <= 0 || (size_t)rc > size - off)
			break;
		(void)colfile_block_check(data + off, (size_t)rc, &h);
		if (h.table == COLFILE_TRADES) {
			struct colfile_trades t;
			size_t n = h.rows;

			t.t = malloc(n * sizeof(*t.t));
			t.price = malloc(n * sizeof(*t.price));
			t.volume = malloc(n * sizeof(*t.volume));
			t.cond = malloc(n * sizeof(*t.cond));
			if (colfile_decode_trades(data + off, &h, &t, &sc) == 0)
				trades_again(&h, &t);
			free(t.t);
			free(t.price);
			free(t.volume);
			free(t.cond);
		} else {
			struct colbar *b = malloc(h.rows * sizeof(*b));

			if (colfile_decode_bars(data + off, &h, b, &sc) == 0)
				bars_again(&h, b);
			free(b);
		}
		off += (size_t)rc;
	}
	return 0;
}
