/*
 * test_feed_trade.c: (1)(3) one trade object decoded alone
 * (feed_decode_trade in proto/feed.c), as the aggregator reads the
 * records of the trades topic: the feed's own record values round trip,
 * producers' variants (key order, whitespace, escapes, no "c") decode,
 * invalid trades are flagged, and every truncation is refused.
 */
#include <config.h>

#include <string.h>

#include "base/err.h"
#include "proto/feed.h"
#include "tests/lib/tap.h"

static char scratch[4096];

static int
dec(const char *s, struct feed_trade *t)
{
	return feed_decode_trade(
	    (const uint8_t *)s, strlen(s), t, scratch, sizeof(scratch), NULL);
}

int
main(void)
{
	static const char *const good =
	    "{\"s\":\"AAPL\",\"p\":129.58,\"v\":1,\"t\":1672348887666,"
	    "\"c\":[\"1\",\"24\",\"12\"]}";
	uint8_t out[512];
	struct feed_trade t;
	size_t n, cut;
	int bad = 0;

	plan_lazy();
	is_int(dec(good, &t), (int)strlen(good), "the feed's record value");
	ok(t.valid && t.s.len == 4 && memcmp(t.s.p, "AAPL", 4) == 0 &&
	        t.t == 1672348887666LL && t.p_tok.len == 6 &&
	        memcmp(t.p_tok.p, "129.58", 6) == 0 && t.v_tok.len == 1 &&
	        t.c.len == 15,
	    "fields, tokens verbatim");
	n = feed_trade_value(&t, out, sizeof(out));
	ok(n == strlen(good) && memcmp(out, good, n) == 0,
	    "re-encoded byte for byte");
	ok(dec(" {\"t\":1,\"v\":0.00012,\"p\":66972.77,\"s\":\"BINANCE:BTCUSDT\"}"
	       "\n",
	       &t) > 0 &&
	        t.valid && t.c.p == NULL,
	    "keys in any order, whitespace, no c");
	ok(dec("{\"s\":\"A\\u0042\",\"p\":1,\"v\":0,\"t\":5,\"c\":null}", &t) >
	            0 &&
	        t.valid && t.s.len == 2 && memcmp(t.s.p, "AB", 2) == 0,
	    "an escaped symbol is unescaped");
	ok(dec("{\"s\":\"A\",\"p\":0,\"v\":1,\"t\":5}", &t) > 0 && !t.valid &&
	        t.bad == FEED_BAD_P,
	    "price 0: not a valid trade");
	ok(dec("{\"s\":\"A\",\"p\":1,\"v\":-1,\"t\":5}", &t) > 0 && !t.valid &&
	        t.bad == FEED_BAD_V,
	    "negative volume: not valid");
	ok(dec("{\"s\":\"A\",\"p\":1,\"v\":1}", &t) > 0 && !t.valid &&
	        t.bad == FEED_BAD_NO_T,
	    "no t: not valid");
	ok(dec("{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1.5}", &t) > 0 && !t.valid,
	    "fractional t: not valid");
	ok(dec("{\"s\":\"A\",\"p\":1e999,\"v\":1,\"t\":5}", &t) > 0 && !t.valid,
	    "an infinite price: not valid");
	is_int(dec("[1,2]", &t), ERR_MALFORMED, "an array: malformed");
	is_int(dec("{\"s\":\"A\"} x", &t), ERR_MALFORMED, "trailing bytes");
	is_int(dec("", &t), ERR_MALFORMED, "empty");
	ok(!t.valid, "a malformed value is never valid");
	for (cut = 0; cut < strlen(good); cut++) {
		int rc = feed_decode_trade((const uint8_t *)good, cut, &t,
		    scratch, sizeof(scratch), NULL);

		bad += rc > 0 && t.valid;
	}
	is_int(bad, 0, "every truncation is refused or invalid");
	return done_testing();
}
