/*
 * test_colfile.c: (4) the block and commit-record format
 * (storage/colfile.c): golden bytes (computed independently from the
 * tables in colfile.h), round trips of trades and bars blocks, every
 * truncation and every flipped byte refused, consistent-looking blocks
 * whose content contradicts their header refused, and commit records
 * that lie about their counts refused before allocating.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/byteorder.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/xorshift.h"
#include "proto/decnum.h"
#include "proto/wbuf.h"
#include "storage/colfile.h"
#include "tests/lib/hex.h"
#include "tests/lib/tap.h"

#define COND1 "[\"1\",\"24\",\"12\"]"

static struct colenc_scratch sc;
static uint64_t seed = 99;

static const char golden_block[] =
    "4653423100000052010000044141504c9b970101f2d48bfed5300004090907150"
    "0e4a997fcab610000020000bcca010000000000000200000001105b2231222c22"
    "3234222c223132225d00000000ad909bee";
static const char golden_commit[] =
    "465343310000004700000000000000070000018bcfe5680003d20902019b9701"
    "8020029b970180040674726164657302648080800869d4808008e807320302b894"
    "010041aca676";

static void
dec(const char *s, struct decnum *v)
{
	if (decnum_parse(s, strlen(s), v) != 0)
		abort();
}

static void
hexdiag(const uint8_t *p, size_t n)
{
	char buf[1024];
	size_t i;

	for (i = 0; i < n && i < 500; i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	diag("  got %s", buf);
}

static void
test_golden_block(void)
{
	int64_t t = 1672348887666LL, ot;
	struct decnum p, v, op, ov;
	struct colenc_str c = {(const uint8_t *)COND1, 15}, oc;
	struct colfile_trades out = {&ot, &op, &ov, &oc};
	struct colfile_head h;
	struct wbuf w;
	uint8_t *want;
	size_t wlen;

	dec("129.58", &p);
	dec("1", &v);
	wbuf_init(&w, 0);
	colfile_encode_trades(&w, "AAPL", 4, &t, &p, &v, &c, 1, &sc);
	want = unhex(golden_block, &wlen);
	if (!is_mem(w.buf, w.len, want, wlen, "golden bytes: one AAPL trade"))
		hexdiag(w.buf, w.len);
	is_int(
	    colfile_head_decode(want, wlen, &h), (int)wlen, "header decodes");
	ok(h.table == COLFILE_TRADES && h.rows == 1 && h.day == 19355 &&
	        strcmp(h.symbol, "AAPL") == 0 && h.min_t == t && h.max_t == t,
	    "header fields");
	is_int(colfile_block_check(want, wlen, &h), 0, "CRC checks");
	is_int(colfile_decode_trades(want, &h, &out, &sc), 0, "columns decode");
	ok(ot == t && decnum_eq(op, p) && decnum_eq(ov, v) && oc.len == 15 &&
	        memcmp(oc.p, COND1, 15) == 0,
	    "the trade comes back");
	free(want);
	wbuf_fini(&w);
}

static void
test_golden_commit(void)
{
	struct colfile_file files[2] = {
	    {COLFILE_TRADES, 19355, 4096}, {COLFILE_BARS, 19355, 512}};
	int64_t offs[2] = {100, 16777216}, ends[2] = {105, 16777300};
	struct colfile_commit c, d;
	struct wbuf w;
	uint8_t *want;
	size_t wlen;

	memset(&c, 0, sizeof(c));
	c.seq = 7;
	c.time_ms = 1700000000000LL;
	c.tail_gen = 3;
	c.tail_len = 1234;
	c.nfiles = 2;
	c.files = files;
	strcpy(c.topic, "trades");
	c.nparts = 2;
	c.offsets = offs;
	c.ends = ends;
	c.trades = 1000;
	c.bars = 50;
	c.lost = 3;
	c.invalid = 2;
	c.floor_day[0] = 19000;
	wbuf_init(&w, 0);
	colfile_commit_encode(&w, &c);
	want = unhex(golden_commit, &wlen);
	if (!is_mem(w.buf, w.len, want, wlen, "golden bytes: a commit record"))
		hexdiag(w.buf, w.len);
	is_int(colfile_commit_decode(want, wlen, &d), 0, "it decodes");
	ok(d.seq == 7 && d.time_ms == c.time_ms && d.tail_gen == 3 &&
	        d.tail_len == 1234 && d.nfiles == 2 &&
	        d.files[1].table == COLFILE_BARS && d.files[1].len == 512 &&
	        strcmp(d.topic, "trades") == 0 && d.nparts == 2 &&
	        d.offsets[1] == 16777216 && d.ends[0] == 105 &&
	        d.ends[1] == 16777300 && d.trades == 1000 && d.bars == 50 &&
	        d.lost == 3 && d.invalid == 2 && d.floor_day[0] == 19000 &&
	        d.floor_day[1] == 0,
	    "every field comes back");
	colfile_commit_fini(&d);
	free(want);
	wbuf_fini(&w);
}

/* A realistic trades block of n rows. */
static void
make_trades(struct wbuf *w, size_t n, int64_t *t, struct decnum *p,
    struct decnum *v, struct colenc_str *c)
{
	static const char *const conds[] = {COND1, "[\"1\"]", "[\"1\",\"8\"]"};
	size_t i;

	t[0] = 1700000000000LL;
	for (i = 0; i < n; i++) {
		if (i > 0)
			t[i] = t[i - 1] + (int64_t)(xorshift64s(&seed) % 5);
		decnum_make(
		    18998 + (int64_t)(xorshift64s(&seed) % 9), 2, &p[i]);
		decnum_make(1 + (int64_t)(xorshift64s(&seed) % 300), 0, &v[i]);
		if (i % 5 == 0) {
			c[i].p = NULL;
			c[i].len = -1;
		} else {
			c[i].p = (const uint8_t *)conds[i % 3];
			c[i].len = (int32_t)strlen(conds[i % 3]);
		}
	}
	colfile_encode_trades(w, "BINANCE:BTCUSDT", 15, t, p, v, c, n, &sc);
}

static void
test_trades_roundtrip(void)
{
	enum { N = 5000 };
	static int64_t t[N], ot[N];
	static struct decnum p[N], v[N], op[N], ov[N];
	static struct colenc_str c[N], oc[N];
	struct colfile_trades out = {ot, op, ov, oc};
	struct colfile_head h;
	struct wbuf w;
	size_t i;
	int good;

	wbuf_init(&w, 0);
	make_trades(&w, N, t, p, v, c);
	ok(w.err == 0 && colfile_head_decode(w.buf, w.len, &h) == (int)w.len &&
	        colfile_block_check(w.buf, w.len, &h) == 0 &&
	        colfile_decode_trades(w.buf, &h, &out, &sc) == 0,
	    "5000 trades: encode, check, decode (%zu bytes, %.2f per trade)",
	    w.len, (double)w.len / N);
	for (i = 0, good = 1; good && i < N; i++)
		good = ot[i] == t[i] && decnum_eq(op[i], p[i]) &&
		       decnum_eq(ov[i], v[i]) && oc[i].len == c[i].len &&
		       (c[i].len < 0 || memcmp(oc[i].p, c[i].p, c[i].len) == 0);
	ok(good, "every trade comes back");
	wbuf_fini(&w);
}

static void
test_bars_roundtrip(void)
{
	static struct colbar rows[3000], out[3000];
	struct colfile_head h;
	struct wbuf w;
	int level, good;
	size_t i;

	wbuf_init(&w, 0);
	for (level = 0; level < COLFILE_NLEVELS; level++) {
		int64_t size = colfile_level_ms[level];
		size_t n = level == COLFILE_NLEVELS - 1 ? 24 : 1000;

		for (i = 0; i < n; i++) {
			struct colbar *b = &rows[i];

			b->t = 1700006400000LL + (int64_t)i * size;
			decnum_make(18990 + (int64_t)(i % 13), 2, &b->open);
			decnum_make(19000 + (int64_t)(i % 7), 2, &b->high);
			decnum_make(18980 + (int64_t)(i % 5), 2, &b->low);
			decnum_make(18995, 2, &b->close);
			b->open_dt = (int32_t)(i % (size_t)size);
			b->close_dt = (int32_t)((i * 7) % (size_t)size);
			decnum_make(100 + (int64_t)i, 0, &b->volume);
			decnum_make(1899500 + (int64_t)i * 3, 2, &b->pv);
			b->count = 1 + i % 40;
		}
		wbuf_reset(&w);
		colfile_encode_bars(&w, "AAPL", 4, level, rows, n, &sc);
		good = w.err == 0 &&
		       colfile_head_decode(w.buf, w.len, &h) == (int)w.len &&
		       h.level == level &&
		       colfile_block_check(w.buf, w.len, &h) == 0 &&
		       colfile_decode_bars(w.buf, &h, out, &sc) == 0;
		for (i = 0; good && i < n; i++)
			good = out[i].t == rows[i].t &&
			       decnum_eq(out[i].open, rows[i].open) &&
			       decnum_eq(out[i].high, rows[i].high) &&
			       decnum_eq(out[i].low, rows[i].low) &&
			       decnum_eq(out[i].close, rows[i].close) &&
			       out[i].open_dt == rows[i].open_dt &&
			       out[i].close_dt == rows[i].close_dt &&
			       decnum_eq(out[i].volume, rows[i].volume) &&
			       decnum_eq(out[i].pv, rows[i].pv) &&
			       out[i].count == rows[i].count;
		ok(good, "bars level %d: %zu rows round trip (%zu bytes)",
		    level, n, w.len);
		ok(h.flags == COLFILE_F_DIFF, "stored as differences");
	}
	/* One row whose pv is a double: no differences for the block. */
	decnum_parse("1e300", 5, &rows[7].pv);
	wbuf_reset(&w);
	colfile_encode_bars(&w, "AAPL", 4, 0, rows, 24, &sc);
	good = colfile_head_decode(w.buf, w.len, &h) == (int)w.len &&
	       h.flags == 0 && colfile_decode_bars(w.buf, &h, out, &sc) == 0 &&
	       decnum_eq(out[7].pv, rows[7].pv) &&
	       decnum_eq(out[8].high, rows[8].high);
	ok(good, "a row that does not difference exactly: stored raw");
	wbuf_fini(&w);
}

/* Re-seal a block whose bytes were edited (a valid CRC again). */
static void
reseal(uint8_t *p, size_t n)
{
	be32_store(p + n - 4, crc32c(0, p, n - 4));
}

static void
test_damage(void)
{
	enum { N = 200 };
	static int64_t t[N], ot[N];
	static struct decnum p[N], v[N], op[N], ov[N];
	static struct colenc_str c[N], oc[N];
	struct colfile_trades out = {ot, op, ov, oc};
	struct colfile_head h;
	struct wbuf w;
	uint8_t *copy;
	size_t n, i;
	int bad = 0, rc;

	wbuf_init(&w, 0);
	make_trades(&w, N, t, p, v, c);
	n = w.len;
	copy = malloc(n);
	/* Every prefix: the header asks for more or the block fails. */
	for (i = 0; i < n; i++) {
		rc = colfile_head_decode(w.buf, i, &h);
		if (rc > 0 && colfile_block_check(w.buf, i, &h) == 0)
			bad++;
		if (rc > 0 && rc != (int)n)
			bad++;
	}
	is_int(bad, 0, "every one of %zu truncations refused", n);
	/* Every byte flipped: refused by the header or the CRC. */
	for (i = 0, bad = 0; i < n; i++) {
		memcpy(copy, w.buf, n);
		copy[i] ^= 0x5a;
		rc = colfile_head_decode(copy, n, &h);
		if (rc > 0 && (size_t)rc == n &&
		    colfile_block_check(copy, n, &h) == 0)
			bad++;
	}
	is_int(bad, 0, "every one of %zu flipped bytes refused", n);
	/* A block whose CRC is right but whose columns contradict the
	 * header: min_t one ms too early. */
	memcpy(copy, w.buf, n);
	rc = colfile_head_decode(copy, n, &h);
	{
		size_t off = 12 + h.symlen;
		struct rbuf r;

		rbuf_init(&r, copy + off, n - off);
		(void)rbuf_uvarint_n(&r, 10); /* day */
		(void)rbuf_uvarint_n(&r, 10); /* rows */
		off += rbuf_off(&r);
		/* min_t's first varint byte: one less (no carry: ...00). */
		copy[off] = (uint8_t)(copy[off] - 1);
	}
	reseal(copy, n);
	rc = colfile_head_decode(copy, n, &h);
	ok(rc < 0 || colfile_decode_trades(copy, &h, &out, &sc) != 0,
	    "times that do not match min_t: refused");
	/* The column lengths shifted by one between two columns. */
	memcpy(copy, w.buf, n);
	colfile_head_decode(copy, n, &h);
	copy[h.head_len - 4]++;
	copy[h.head_len - 3]--;
	reseal(copy, n);
	rc = colfile_head_decode(copy, n, &h);
	ok(rc < 0 || colfile_decode_trades(copy, &h, &out, &sc) != 0,
	    "column lengths that do not match the columns: refused");
	free(copy);
	wbuf_fini(&w);
}

static void
test_commit_damage(void)
{
	uint8_t *rec, *copy, buf[64];
	struct colfile_commit c;
	size_t n, i;
	int bad = 0;

	rec = unhex(golden_commit, &n);
	copy = malloc(n);
	for (i = 0; i < n; i++) {
		if (colfile_commit_decode(rec, i, &c) == 0) {
			bad++;
			colfile_commit_fini(&c);
		}
	}
	is_int(bad, 0, "every one of %zu truncations refused", n);
	for (i = 0, bad = 0; i < n; i++) {
		memcpy(copy, rec, n);
		copy[i] ^= 0x01;
		if (colfile_commit_decode(copy, n, &c) == 0) {
			bad++;
			colfile_commit_fini(&c);
		}
	}
	is_int(bad, 0, "every one of %zu flipped bits refused", n);
	/* A record claiming 100000 files in 40 bytes, with a valid CRC. */
	memset(buf, 0, sizeof(buf));
	be32_store(buf, COLFILE_COMMIT_MAGIC);
	be32_store(buf + 4, 40);
	buf[15] = 1;    /* seq 1 */
	buf[24] = 0;    /* tail gen */
	buf[25] = 0;    /* tail len */
	buf[26] = 0xa0; /* nfiles = 100000: a0 8d 06 */
	buf[27] = 0x8d;
	buf[28] = 0x06;
	be32_store(buf + 36, crc32c(0, buf, 36));
	is_int(colfile_commit_decode(buf, 40, &c), ERR_MALFORMED,
	    "a file count beyond the bytes: refused before allocating");
	free(copy);
	free(rec);
}

int
main(void)
{
	plan_lazy();
	test_golden_block();
	test_golden_commit();
	test_trades_roundtrip();
	test_bars_roundtrip();
	test_damage();
	test_commit_damage();
	colenc_scratch_fini(&sc);
	return done_testing();
}
