/*
 * test_wbuf.c: the byte cursors every codec uses (proto/rbuf.h, wbuf.c).
 */
#include <config.h>

#include <stdint.h>

#include "base/err.h"
#include "proto/rbuf.h"
#include "proto/wbuf.h"
#include "tests/lib/tap.h"

static void
test_ints(void)
{
	static const uint8_t want[] = {0x01, 0x02, 0x03, 0xff, 0xff, 0xff, 0xfe,
	    0x80, 0, 0, 0, 0, 0, 0, 1};
	struct wbuf w;
	struct rbuf r;

	wbuf_init(&w, 0);
	wbuf_u8(&w, 1);
	wbuf_u16(&w, 0x0203);
	wbuf_i32(&w, -2);
	wbuf_u64(&w, 0x8000000000000001ull);
	is_mem(w.buf, w.len, want, sizeof(want), "big-endian writes");
	rbuf_init(&r, w.buf, w.len);
	is_int(rbuf_u8(&r), 1, "u8");
	is_int(rbuf_u16(&r), 0x0203, "u16");
	is_int(rbuf_i32(&r), -2, "i32");
	ok(rbuf_u64(&r) == 0x8000000000000001ull, "u64");
	is_int(r.err, 0, "no error at the exact end");
	is_int(rbuf_u8(&r), 0, "read past end gives 0");
	is_int(r.err, ERR_MALFORMED, "and latches ERR_MALFORMED");
	wbuf_fini(&w);
}

static void
test_varints(void)
{
	static const int64_t vals[] = {0, 1, -1, 63, -64, 64, 300, -300,
	    INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
	struct wbuf w;
	struct rbuf r;
	size_t i;

	wbuf_init(&w, 0);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		wbuf_reset(&w);
		wbuf_varint(&w, vals[i]);
		is_int(w.len, wbuf_varint_len(vals[i]), "varint length %lld",
		    (long long)vals[i]);
		rbuf_init(&r, w.buf, w.len);
		ok(rbuf_varlong(&r) == vals[i] && r.err == 0 &&
		        rbuf_left(&r) == 0,
		    "varlong round trip %lld", (long long)vals[i]);
	}
	/* Golden: zigzag(-1) = 1, zigzag(150) = 300 = ac 02. */
	wbuf_reset(&w);
	wbuf_varint(&w, 150);
	is_mem(w.buf, w.len, "\xac\x02", 2, "zigzag 150 = ac 02");
	/* Every truncation of a multi-byte varint fails. */
	wbuf_reset(&w);
	wbuf_varint(&w, INT64_MIN);
	for (i = 0; i < w.len; i++) {
		rbuf_init(&r, w.buf, i);
		(void)rbuf_varlong(&r);
		ok(r.err == ERR_MALFORMED, "varlong cut at %zu fails", i);
	}
	/* Over-long: 6 continuation bytes is not a 32-bit varint. */
	rbuf_init(&r, "\x80\x80\x80\x80\x80\x01", 6);
	(void)rbuf_varint(&r);
	ok(r.err == ERR_MALFORMED, "6-byte varint rejected");
	wbuf_fini(&w);
}

static void
test_limits(void)
{
	struct wbuf w;

	wbuf_init(&w, 8);
	wbuf_u64(&w, 1);
	is_int(w.err, 0, "fits exactly");
	wbuf_u8(&w, 1);
	is_int(w.err, ERR_TOO_BIG, "growth past max latches ERR_TOO_BIG");
	wbuf_u8(&w, 1);
	is_int(w.len, 8, "later writes dropped");
	wbuf_fini(&w);
	wbuf_init(&w, 0);
	wbuf_u32(&w, 0);
	wbuf_printf(&w, "%d-%s", 42, "x");
	wbuf_patch_u32(&w, 0, (uint32_t)(w.len - 4));
	is_mem(w.buf, w.len,
	    "\0\0\0\x04"
	    "42-x",
	    8, "printf and patch");
	wbuf_fini(&w);
	is_str(err_str(ERR_CRC), "checksum mismatch", "err_str of ERR_*");
	is_str(err_str(-2), "No such file or directory", "err_str of -errno");
}

int
main(void)
{
	plan_lazy();
	test_ints();
	test_varints();
	test_limits();
	return done_testing();
}
