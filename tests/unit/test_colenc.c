/*
 * test_colenc.c: (4) the column encodings (storage/colenc.c): golden
 * bytes, round trips on realistic and adversarial values (extremes,
 * repeats, out-of-order times, prices that do not scale, doubles), every
 * truncation refused, and random bytes decoded without harm.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xorshift.h"
#include "proto/decnum.h"
#include "proto/rbuf.h"
#include "proto/wbuf.h"
#include "storage/colenc.h"
#include "tests/lib/hex.h"
#include "tests/lib/tap.h"

static struct colenc_scratch sc;
static uint64_t seed = 12345;

static uint64_t
rnd(void)
{
	return xorshift64s(&seed);
}

/* Encode v, decode it back; 1 when equal and every byte was used. */
static int
int_roundtrip(const int64_t *v, size_t n, int mode, size_t *len)
{
	int64_t *out = calloc(n, sizeof(*out));
	struct wbuf w;
	struct rbuf r;
	int good;

	wbuf_init(&w, 0);
	colenc_int_encode(&w, v, n, mode);
	rbuf_init(&r, w.buf, w.len);
	good = w.err == 0 && colenc_int_decode(&r, out, n) == 0 &&
	       rbuf_left(&r) == 0 && memcmp(out, v, n * sizeof(*v)) == 0;
	if (len != NULL)
		*len = w.len;
	wbuf_fini(&w);
	free(out);
	return good;
}

static int
dec_roundtrip_mode(const struct decnum *v, size_t n, int qmode, size_t *len)
{
	struct decnum *out = calloc(n, sizeof(*out));
	struct wbuf w;
	struct rbuf r;
	size_t i;
	int good;

	wbuf_init(&w, 0);
	colenc_dec_encode(&w, v, n, qmode, &sc);
	rbuf_init(&r, w.buf, w.len);
	good = w.err == 0 && colenc_dec_decode(&r, out, n, &sc) == 0 &&
	       rbuf_left(&r) == 0;
	for (i = 0; good && i < n; i++)
		good = decnum_eq(out[i], v[i]);
	if (len != NULL)
		*len = w.len;
	wbuf_fini(&w);
	free(out);
	return good;
}

static int
dec_roundtrip(const struct decnum *v, size_t n, size_t *len)
{
	return dec_roundtrip_mode(v, n, COLENC_AUTO, len);
}

static void
golden(const char *what, const struct wbuf *w, const char *hex)
{
	uint8_t want[256];
	size_t n = unhex_into(hex, want, sizeof(want));

	if (!ok(w->err == 0 && w->len == n && memcmp(w->buf, want, n) == 0,
	        "golden bytes: %s", what)) {
		size_t i;
		char got[600];

		for (i = 0; i < w->len && i < 256; i++)
			snprintf(got + 2 * i, 3, "%02x", w->buf[i]);
		diag("  got %s", got);
	}
}

static void
test_golden(void)
{
	const int64_t same[] = {5, 5, 5}, up[] = {100, 101, 103};
	struct decnum d[2];
	struct colenc_str s[3] = {
	    {NULL, -1}, {(const uint8_t *)"[\"1\"]", 5}, {NULL, -1}};
	struct wbuf w;

	wbuf_init(&w, 0);
	colenc_int_encode(&w, same, 3, COLENC_AUTO);
	golden("FOR of 5, 5, 5 (width 0)", &w, "000a0000");
	wbuf_reset(&w);
	colenc_int_encode(&w, up, 3, COLENC_DELTA);
	golden("DELTA of 100, 101, 103", &w,
	    "01c80102"
	    "010002");
	wbuf_reset(&w);
	decnum_parse("1.5", 3, &d[0]);
	decnum_parse("2", 1, &d[1]);
	colenc_dec_encode(&w, d, 2, COLENC_AUTO, &sc);
	golden("DEC of 1.5, 2", &w,
	    "0100"
	    "011e0a0000"
	    "00");
	wbuf_reset(&w);
	colenc_dict_encode(&w, s, 3, &sc);
	golden("DICT of null, [\"1\"], null", &w,
	    "02"
	    "00"
	    "065b2231225d"
	    "0000010002");
	wbuf_fini(&w);
}

static void
test_int(void)
{
	static int64_t v[5000];
	size_t i, n, len;
	int mode;

	/* Adversarial: extremes next to each other, both modes. */
	{
		const int64_t ext[] = {INT64_MIN, INT64_MAX, 0, -1, INT64_MIN,
		    1, INT64_MAX, INT64_MAX, INT64_MIN + 1};

		for (mode = 0; mode <= 2; mode++)
			ok(int_roundtrip(ext, 9, mode, NULL),
			    "extremes round trip (mode %d)", mode);
	}
	v[0] = 42;
	ok(int_roundtrip(v, 1, COLENC_AUTO, NULL), "one value");
	ok(int_roundtrip(v, 1, COLENC_DELTA, NULL), "one value, DELTA asked");
	/* Sizes around the miniblock. */
	for (n = 126; n <= 260; n++) {
		for (i = 0; i < n; i++)
			v[i] = (int64_t)(rnd() % 1000) - 500;
		if (!int_roundtrip(v, n, COLENC_AUTO, NULL))
			break;
	}
	ok(n > 260, "126..260 random values round trip (n %zu)", n);
	/* Trade times: ms apart, many ties, a few out of order. */
	v[0] = 1700000000000LL;
	for (i = 1; i < 4096; i++)
		v[i] = v[i - 1] + (rnd() % 3 == 0 ? 0 : (int64_t)(rnd() % 20)) -
		       (rnd() % 97 == 0 ? 500 : 0);
	ok(int_roundtrip(v, 4096, COLENC_DELTA, &len),
	    "4096 trade times with ties and late ones round trip");
	ok(len < 4096 * 2, "in %zu bytes (< 2 per value)", len);
	/* Odd lots with rare blocks: exceptions keep the width small. */
	for (i = 0; i < 4096; i++)
		v[i] = rnd() % 50 == 0 ? (int64_t)(rnd() % 2000000)
		                       : 1 + (int64_t)(rnd() % 100);
	ok(int_roundtrip(v, 4096, COLENC_FOR, &len),
	    "volumes with blocks round trip");
	ok(len < 4096 * 14 / 8, "in %zu bytes (< 14 bits per value)", len);
	/* Constant: width 0. */
	for (i = 0; i < 5000; i++)
		v[i] = -7;
	i = (size_t)int_roundtrip(v, 5000, COLENC_AUTO, &len);
	ok(i && len < 5000 / 128 * 3 + 10, "5000 equal values in %zu bytes",
	    len);
	/* Every bit width, every mode. */
	for (mode = 0; mode < 2; mode++) {
		int b, good = 1;

		for (b = 0; b <= 64 && good; b++) {
			for (i = 0; i < 300; i++)
				v[i] =
				    b == 0 ? 0
				    : b == 64
				        ? (int64_t)rnd()
				        : (int64_t)(rnd() &
				                    (((uint64_t)1 << b) - 1));
			good = int_roundtrip(v, 300, mode, NULL);
		}
		ok(good, "widths 0..64 round trip (mode %d)", mode);
	}
}

static void
test_dec(void)
{
	static struct decnum v[4096];
	size_t i, len;
	char buf[40];

	/* A cent-priced stock with sub-penny prints. */
	for (i = 0; i < 4096; i++) {
		int64_t c = 18998 + (int64_t)(rnd() % 7) - 3;

		if (rnd() % 10 == 0)
			decnum_make(c * 100 + (int64_t)(rnd() % 100), 4, &v[i]);
		else
			decnum_make(c, 2, &v[i]);
	}
	ok(dec_roundtrip(v, 4096, &len), "stock prices round trip");
	ok(len < 4096, "in %zu bytes (< 8 bits per price)", len);
	/* Crypto volumes: fractional, several scales. */
	for (i = 0; i < 4096; i++)
		decnum_make(
		    1 + (int64_t)(rnd() % 100000), 3 + (int)(rnd() % 6), &v[i]);
	ok(dec_roundtrip(v, 4096, NULL), "crypto volumes round trip");
	/* FX: volume 0. */
	for (i = 0; i < 4096; i++)
		v[i].m = 0, v[i].s = 0;
	i = (size_t)dec_roundtrip(v, 4096, &len);
	ok(i && len < 200, "zero volumes in %zu bytes", len);
	/* Adversarial: doubles, huge, negative, tiny, scales that do not
	 * fit together. */
	{
		const char *const texts[] = {"1e300", "-1e-300", "0.1", "-5",
		    "999999999999999999", "-999999999999999999",
		    "0.000000000000000001", "123456789.123456789", "1e-19",
		    "66972.77", "0", "2.5e-7", "4.94e-324"};
		size_t nt = sizeof(texts) / sizeof(texts[0]);

		for (i = 0; i < 600; i++) {
			const char *t = texts[rnd() % nt];

			if (decnum_parse(t, strlen(t), &v[i]) != 0)
				break;
		}
		ok(i == 600 && dec_roundtrip(v, 600, NULL),
		    "doubles, extremes and scales that do not fit round trip");
	}
	/* Random decimals at random scales. */
	for (i = 0; i < 4096; i++) {
		int64_t m = (int64_t)(rnd() % (uint64_t)decnum_pow10[18]);

		if (decnum_make(rnd() & 1 ? m : -m, (int)(rnd() % 19), &v[i]))
			break;
	}
	ok(i == 4096 && dec_roundtrip(v, 4096, NULL),
	    "random decimals at random scales round trip");
	decnum_format(v[0], buf, sizeof(buf));
	ok(dec_roundtrip(v, 1, NULL), "one value (%s)", buf);
}

/* A dictionary form of a DEC column, written by hand (S 0); nrest
 * values left out. */
static void
dict_form(struct wbuf *w, uint64_t nd, int64_t first, const uint64_t *gap,
    const int64_t *ids, size_t n, const int64_t *rest, size_t nrest)
{
	uint64_t i;

	wbuf_reset(w);
	wbuf_u8(w, 0);
	wbuf_u8(w, COLENC_DEC_DICT);
	wbuf_uvarint(w, nd);
	wbuf_varint(w, first);
	for (i = 0; i + 1 < nd; i++)
		wbuf_uvarint(w, gap[i]);
	colenc_int_encode(w, ids, n, COLENC_FOR);
	if (nrest > 0)
		colenc_int_encode(w, rest, nrest, COLENC_FOR);
	wbuf_uvarint(w, 0);
}

static int
dec_form(const struct decnum *v, size_t n, size_t *len)
{
	struct wbuf w;
	int form;

	wbuf_init(&w, 0);
	colenc_dec_encode(&w, v, n, COLENC_FOR, &sc);
	form = w.err == 0 && w.len >= 2 ? w.buf[1] : -1;
	if (len != NULL)
		*len = w.len;
	wbuf_fini(&w);
	return form;
}

/* The dictionary form of DEC: golden bytes, when the encoder picks it,
 * values left out of it, round trips with exceptions and extremes,
 * malformed dictionaries. */
static void
test_dec_dict(void)
{
	static const int64_t lots[] = {100, 37, 100, 100, 200, 1, 500, 100, 10,
	    50, 300, 100, 2, 100, 1000, 25};
	static struct decnum v[4096], out[4096];
	int64_t ids[300], rest[2] = {6, 7};
	uint64_t gaps[300];
	struct wbuf w;
	struct rbuf r;
	size_t i, len, cut, split;
	int bad;

	/* 37 and 100: 11 bytes as a dictionary, 13 as FOR. */
	for (i = 0; i < 8; i++)
		decnum_make((0x59 >> i) & 1 ? 37 : 100, 0, &v[i]);
	wbuf_init(&w, 0);
	colenc_dec_encode(&w, v, 8, COLENC_FOR, &sc);
	golden("DEC dictionary of 37, 100, 100, 37, 37, 100, 37, 100", &w,
	    "00ff024a3f"
	    "00000100a6"
	    "00");
	ok(dec_roundtrip_mode(v, 8, COLENC_FOR, NULL), "and it round trips");
	wbuf_reset(&w);
	colenc_dec_encode(&w, v, 8, COLENC_DELTA, &sc);
	ok(w.err == 0 && w.buf[1] == 0, "a DELTA column (prices) does not");
	/* Stock volumes: round and odd lots, a block now and then. */
	for (i = 0; i < 4096; i++)
		decnum_make(
		    rnd() % 500 == 0
		        ? 2000000
		        : lots[rnd() % (sizeof(lots) / sizeof(lots[0]))],
		    0, &v[i]);
	ok(dec_form(v, 4096, &len) == COLENC_DEC_DICT &&
	        dec_roundtrip_mode(v, 4096, COLENC_FOR, NULL),
	    "stock volumes: the dictionary form, round trip");
	ok(len < 4096 * 5 / 8, "in %zu bytes (< 5 bits per volume)", len);
	/* As the sim trades them: 1..99 and lots, 7% mixed lots up to
	 * 5000: the frequent values in the dictionary, the rest aside. */
	for (i = 0; i < 4096; i++) {
		uint64_t x = rnd() % 100;

		decnum_make(x < 55   ? 1 + (int64_t)(rnd() % 99)
		            : x < 93 ? lots[rnd() % 16]
		                     : 101 + (int64_t)(rnd() % 4900),
		    0, &v[i]);
	}
	ok(dec_form(v, 4096, &len) == COLENC_DEC_DICT &&
	        dec_roundtrip_mode(v, 4096, COLENC_FOR, NULL),
	    "odd, round and mixed lots: the dictionary form, round trip");
	wbuf_reset(&w);
	colenc_dec_encode(&w, v, 4096, COLENC_DELTA, &sc); /* not tried */
	split = w.len;
	ok(w.buf[1] != COLENC_DEC_DICT && len < split,
	    "in %zu bytes (%zu without the dictionary)", len, split);
	/* Over half the values distinct: not tried. */
	for (i = 0; i < 4096; i++)
		decnum_make((int64_t)(i % 3000) * 7, 2, &v[i]);
	ok(dec_form(v, 4096, NULL) != COLENC_DEC_DICT &&
	        dec_roundtrip_mode(v, 4096, COLENC_FOR, NULL),
	    "3000 distinct values in 4096: the split form, round trip");
	/* Extremes, negatives, doubles and wider scales as exceptions,
	 * one at row 0. */
	for (i = 0; i < 3000; i++) {
		static const char *const t[] = {"999999999999999999",
		    "-999999999999999999", "-3", "1e300", "0.5", "-0"};
		const char *s = i == 0 ? "1e300" : t[rnd() % 6];

		decnum_parse(s, strlen(s), &v[i]);
	}
	ok(dec_form(v, 3000, NULL) == COLENC_DEC_DICT &&
	        dec_roundtrip_mode(v, 3000, COLENC_FOR, NULL),
	    "extremes, negatives and doubles: the dictionary form, round trip");
	/* Every proper prefix refused. */
	for (i = 0; i < 300; i++)
		decnum_make(
		    i % 9 == 0 ? (int64_t)(rnd() % 5000) : lots[rnd() % 16], 0,
		    &v[i]);
	decnum_parse("1e300", 5, &v[17]);
	wbuf_reset(&w);
	colenc_dec_encode(&w, v, 300, COLENC_FOR, &sc);
	ok(w.buf[1] == COLENC_DEC_DICT &&
	        dec_roundtrip_mode(v, 300, COLENC_FOR, NULL),
	    "a dictionary with values left out and an exception");
	for (cut = 0, bad = 0; cut < w.len; cut++) {
		rbuf_init(&r, w.buf, cut);
		bad += colenc_dec_decode(&r, out, 300, &sc) == 0;
	}
	is_int(bad, 0, "DEC dictionary: all %zu truncations refused", w.len);
	/* Hand-made dictionaries. */
	for (i = 0; i < 300; i++)
		ids[i] = (int64_t)(i % 3), gaps[i] = 1;
	dict_form(&w, 3, 5, gaps, ids, 300, NULL, 0);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == 0 && rbuf_left(&r) == 0 &&
	        out[299].m == 7,
	    "a hand-made dictionary decodes");
	ids[10] = ids[20] = 3;
	rest[0] = 9, rest[1] = 4;
	dict_form(&w, 3, 5, gaps, ids, 300, rest, 2);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == 0 && rbuf_left(&r) == 0 &&
	        out[10].m == 9 && out[20].m == 4 && out[21].m == 5,
	    "and with two values left out");
	rest[1] = 6;
	dict_form(&w, 3, 5, gaps, ids, 300, rest, 2);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "a value left out that is in the dictionary: refused");
	for (i = 100; i < 300; i++)
		ids[i] = 3; /* 200 escapes: a second miniblock is missing */
	dict_form(&w, 3, 5, gaps, ids, 300, rest, 2);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "fewer values left out than escapes: refused");
	ids[10] = 4;
	dict_form(&w, 3, 5, gaps, ids, 300, rest, 1);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "an id past the escape: refused");
	for (i = 0; i < 300; i++)
		ids[i] = (int64_t)(i % 3);
	dict_form(&w, 0, 5, gaps, ids, 300, NULL, 0);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "an empty dictionary: refused");
	dict_form(&w, 3, 5, gaps, ids, 2, NULL, 0);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 2, &sc) == ERR_MALFORMED,
	    "more values than rows: refused");
	for (i = 0; i < 300; i++)
		ids[i] = (int64_t)(i % 256);
	dict_form(&w, 256, 5, gaps, ids, 300, NULL, 0);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "256 values: refused");
	for (i = 0; i < 300; i++)
		ids[i] = (int64_t)(i % 3);
	gaps[1] = 0;
	dict_form(&w, 3, 5, gaps, ids, 300, NULL, 0);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "values not increasing: refused");
	gaps[1] = (uint64_t)decnum_pow10[18];
	dict_form(&w, 3, 5, gaps, ids, 300, NULL, 0);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "a value past 10^18: refused");
	gaps[1] = 1;
	dict_form(&w, 3, -decnum_pow10[18], gaps, ids, 300, NULL, 0);
	rbuf_init(&r, w.buf, w.len);
	ok(colenc_dec_decode(&r, out, 300, &sc) == ERR_MALFORMED,
	    "a first value of -10^18: refused");
	wbuf_fini(&w);
}

static void
test_dict(void)
{
	static struct colenc_str v[3000], out[3000];
	static char texts[3000][16];
	struct wbuf w;
	struct rbuf r;
	size_t i;
	int good = 1;

	for (i = 0; i < 3000; i++) {
		if (i % 7 == 0) {
			v[i].p = NULL;
			v[i].len = -1;
			continue;
		}
		/* Many repeats, and 500 distinct strings. */
		snprintf(texts[i], sizeof(texts[i]), "[\"%zu\"]",
		    i % 3 == 0 ? i % 500 : 1 + i % 4);
		v[i].p = (const uint8_t *)texts[i];
		v[i].len = (int32_t)strlen(texts[i]);
	}
	wbuf_init(&w, 0);
	colenc_dict_encode(&w, v, 3000, &sc);
	rbuf_init(&r, w.buf, w.len);
	if (colenc_dict_decode(&r, out, 3000, &sc) != 0 || rbuf_left(&r) != 0)
		good = 0;
	for (i = 0; good && i < 3000; i++)
		good = out[i].len == v[i].len &&
		       (v[i].len < 0 ||
		           memcmp(out[i].p, v[i].p, (size_t)v[i].len) == 0);
	ok(good, "3000 conditions (nulls, repeats) round trip");
	wbuf_fini(&w);
}

/* Every proper prefix of an encoding is refused. */
static void
test_truncation(void)
{
	int64_t iv[300], iout[300];
	struct decnum dv[300], dout[300];
	struct colenc_str sv[300], sout[300];
	struct wbuf w;
	size_t i, cut;
	int bad = 0;

	for (i = 0; i < 300; i++) {
		iv[i] = (int64_t)(rnd() % 100000);
		decnum_make(
		    (int64_t)(rnd() % 100000), (int)(rnd() % 5), &dv[i]);
		if (i % 50 == 3)
			decnum_parse("1e-300", 6, &dv[i]);
		sv[i].p = (const uint8_t *)(i % 2 ? "[\"1\"]" : "[\"12\"]");
		sv[i].len = i % 2 ? 5 : 6;
	}
	wbuf_init(&w, 0);
	colenc_int_encode(&w, iv, 300, COLENC_AUTO);
	for (cut = 0; cut < w.len; cut++) {
		struct rbuf r;

		rbuf_init(&r, w.buf, cut);
		bad += colenc_int_decode(&r, iout, 300) == 0;
	}
	is_int(bad, 0, "INT: all %zu truncations refused", w.len);
	wbuf_reset(&w);
	colenc_dec_encode(&w, dv, 300, COLENC_AUTO, &sc);
	for (cut = 0, bad = 0; cut < w.len; cut++) {
		struct rbuf r;

		rbuf_init(&r, w.buf, cut);
		bad += colenc_dec_decode(&r, dout, 300, &sc) == 0;
	}
	is_int(bad, 0, "DEC: all %zu truncations refused", w.len);
	wbuf_reset(&w);
	colenc_dict_encode(&w, sv, 300, &sc);
	for (cut = 0, bad = 0; cut < w.len; cut++) {
		struct rbuf r;

		rbuf_init(&r, w.buf, cut);
		bad += colenc_dict_decode(&r, sout, 300, &sc) == 0;
	}
	is_int(bad, 0, "DICT: all %zu truncations refused", w.len);
	wbuf_fini(&w);
}

/* Random bytes: decoders return, whatever they say (ASan watches). */
static void
test_garbage(void)
{
	uint8_t buf[512];
	int64_t iout[256];
	struct decnum dout[256];
	struct colenc_str sout[256];
	int i, accepted = 0;
	size_t k;

	for (i = 0; i < 3000; i++) {
		struct rbuf r;
		size_t n = 1 + rnd() % 256, len = rnd() % sizeof(buf);

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)(rnd() % 4 == 0 ? rnd() : rnd() % 3);
		rbuf_init(&r, buf, len);
		accepted += colenc_int_decode(&r, iout, n) == 0;
		rbuf_init(&r, buf, len);
		accepted += colenc_dec_decode(&r, dout, n, &sc) == 0;
		rbuf_init(&r, buf, len);
		accepted += colenc_dict_decode(&r, sout, n, &sc) == 0;
	}
	ok(1, "9000 random inputs decoded without harm (%d accepted)",
	    accepted);
}

int
main(void)
{
	plan_lazy();
	test_golden();
	test_int();
	test_dec();
	test_dec_dict();
	test_dict();
	test_truncation();
	test_garbage();
	colenc_scratch_fini(&sc);
	return done_testing();
}
