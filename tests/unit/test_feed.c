/*
 * test_feed.c: (1) the Finnhub message scanner and the feed's JSON writers
 * (proto/feed.c).
 *
 * Golden vectors are Finnhub's own frames (real captures and the docs'
 * samples); the scanner's numbers are checked against strtod() and its
 * output values against cJSON, an independent parser.
 */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "proto/feed.h"
#include "proto/wbuf.h"
#include "tests/lib/tap.h"

#define MAXT 256

static struct feed_trade tr[MAXT];
static struct feed_msg msg;
static uint8_t *in; /* the message, in a buffer of its exact size */
static char *scr;   /* scratch, as long as the message */
static size_t in_len;

/* Decode s (n bytes) with maxtrades max and scratch of scrlen bytes. */
static int
decode_n(const void *s, size_t n, size_t max, size_t scrlen, size_t *off)
{
	free(in);
	free(scr);
	in = malloc(n ? n : 1);
	scr = malloc(scrlen ? scrlen : 1);
	if (in == NULL || scr == NULL)
		abort();
	memcpy(in, s, n);
	in_len = n;
	return feed_decode(in, n, &msg, tr, max, scr, scrlen, off);
}

static int
decode(const char *s)
{
	size_t off;

	return decode_n(s, strlen(s), MAXT, strlen(s), &off);
}

/* s with anything unprintable as \xNN, for test names. */
static const char *
printable(const char *s, size_t n)
{
	static char buf[512];
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '#')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(
			    buf + o, sizeof(buf) - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

static int
slice_is(struct feed_slice s, const char *want)
{
	return s.p != NULL && s.len == strlen(want) &&
	       memcmp(s.p, want, s.len) == 0;
}

/* Trade i has exactly these fields (c == NULL: null or absent). */
static void
check_trade(int i, const char *s, const char *p, double pv, const char *v,
    double vv, int64_t t, const char *c)
{
	const struct feed_trade *x = &tr[i];

	ok(x->valid && x->bad == FEED_BAD_NONE, "trade %d valid", i);
	ok(slice_is(x->s, s), "trade %d s = %s", i, s);
	ok(slice_is(x->p_tok, p), "trade %d p token %s", i, p);
	ok(x->p == pv, "trade %d p = %.17g", i, pv);
	ok(slice_is(x->v_tok, v), "trade %d v token %s", i, v);
	ok(x->v == vv, "trade %d v = %.17g", i, vv);
	ok(x->t == t, "trade %d t = %lld", i, (long long)t);
	if (c == NULL)
		ok(x->c.p == NULL && x->c.len == 0, "trade %d c null", i);
	else
		ok(slice_is(x->c, c), "trade %d c = %s", i, c);
}

static void
check_value(int i, const char *want)
{
	uint8_t v[512];
	size_t n = feed_trade_value(&tr[i], v, sizeof(v));

	is_mem(v, n, want, strlen(want), "value of trade %d: %s", i, want);
}

/* ---- golden frames: Finnhub captures and the docs' samples ------------ */

static const char crypto_frame[] =
    "{\"data\":[{\"c\":null,\"p\":66972.77,\"s\":\"BINANCE:BTCUSDT\","
    "\"t\":1721555886208,\"v\":0.01559},"
    "{\"c\":null,\"p\":66972.77,\"s\":\"BINANCE:BTCUSDT\","
    "\"t\":1721555886208,\"v\":0.00008},"
    "{\"c\":null,\"p\":66972.78,\"s\":\"BINANCE:BTCUSDT\","
    "\"t\":1721555886311,\"v\":0.0001}],\"type\":\"trade\"}";

/* The same, with newlines and indentation between the trades. */
static const char crypto_frame_ws[] =
    "{\"data\":[{\"c\":null,\"p\":66972.77,\"s\":\"BINANCE:BTCUSDT\","
    "\"t\":1721555886208,\"v\":0.01559},\n"
    "         {\"c\":null,\"p\":66972.77,\"s\":\"BINANCE:BTCUSDT\","
    "\"t\":1721555886208,\"v\":0.00008},\n"
    "         {\"c\":null,\"p\":66972.78,\"s\":\"BINANCE:BTCUSDT\","
    "\"t\":1721555886311,\"v\":0.0001}],\"type\":\"trade\"}";

static const char stock_frame[] =
    "{\"data\":[{\"c\":[\"1\",\"8\",\"24\",\"12\"],\"p\":122.1,"
    "\"s\":\"TSLA\",\"t\":1672348887195,\"v\":1},"
    "{\"c\":[\"1\",\"24\",\"12\"],\"p\":129.58,\"s\":\"AAPL\","
    "\"t\":1672348887666,\"v\":1}],\"type\":\"trade\"}";

static const char docs_frame[] =
    "{\"data\":[{\"p\":7296.89,\"s\":\"BINANCE:BTCUSDT\","
    "\"t\":1575526691134,\"v\":0.011467}],\"type\":\"trade\"}";

static const char fx_frame[] =
    "{\"data\":[{\"p\":1.08412,\"s\":\"OANDA:EUR_USD\","
    "\"t\":1718000000123,\"v\":0}],\"type\":\"trade\"}";

static const char ping_frame[] = "{\"type\":\"ping\"}";

static const char error_frame[] =
    "{\"msg\":\"Subscribing to too many symbols\",\"type\":\"error\"}";

static const char news_frame[] =
    "{\"data\":[{\"category\":\"company\",\"datetime\":1679920200,"
    "\"headline\":\"Shares of X rise\",\"id\":119440189,"
    "\"image\":\"https://example.com/x.jpg\",\"related\":\"CVVUF\","
    "\"source\":\"Yahoo\",\"summary\":\"A summary.\","
    "\"url\":\"https://example.com/x\"}],\"type\":\"news\"}";

static const char pr_frame[] =
    "{\"data\":[{\"datetime\":1637696940,\"fullText\":\"https://x\","
    "\"headline\":\"Y\",\"symbol\":\"PAE,ZIXI,KRA\",\"url\":\"https://x\"}],"
    "\"type\":\"pr\"}";

static const char *const golden[] = {crypto_frame, crypto_frame_ws, stock_frame,
    docs_frame, fx_frame, ping_frame, error_frame, news_frame, pr_frame};
#define NGOLDEN (sizeof(golden) / sizeof(golden[0]))

static void
check_crypto(const char *frame, const char *what)
{
	diag("%s", what);
	is_int(decode(frame), (int)strlen(frame), "decodes whole");
	is_int(msg.type, FEED_MSG_TRADE, "a trade message");
	is_int(msg.ntrades, 3, "three trades");
	is_int(msg.nvalid, 3, "all valid");
	ok(slice_is(msg.kind, "trade"), "kind trade");
	check_trade(0, "BINANCE:BTCUSDT", "66972.77", 66972.77, "0.01559",
	    0.01559, 1721555886208LL, NULL);
	check_trade(1, "BINANCE:BTCUSDT", "66972.77", 66972.77, "0.00008",
	    0.00008, 1721555886208LL, NULL);
	check_trade(2, "BINANCE:BTCUSDT", "66972.78", 66972.78, "0.0001",
	    0.0001, 1721555886311LL, NULL);
	ok(tr[0].t == tr[1].t, "same-ms trades both kept");
	check_value(0, "{\"s\":\"BINANCE:BTCUSDT\",\"p\":66972.77,"
	               "\"v\":0.01559,\"t\":1721555886208,\"c\":null}");
	check_value(1, "{\"s\":\"BINANCE:BTCUSDT\",\"p\":66972.77,"
	               "\"v\":0.00008,\"t\":1721555886208,\"c\":null}");
	check_value(2, "{\"s\":\"BINANCE:BTCUSDT\",\"p\":66972.78,"
	               "\"v\":0.0001,\"t\":1721555886311,\"c\":null}");
}

static void
test_golden(void)
{
	check_crypto(crypto_frame, "crypto, c:null, same-ms duplicates");
	check_crypto(crypto_frame_ws, "the same with newlines and spaces");

	diag("stocks, mixed symbols, string-array c");
	is_int(decode(stock_frame), (int)strlen(stock_frame), "decodes");
	is_int(msg.type, FEED_MSG_TRADE, "trade");
	is_int(msg.ntrades, 2, "two trades");
	check_trade(0, "TSLA", "122.1", 122.1, "1", 1, 1672348887195LL,
	    "[\"1\",\"8\",\"24\",\"12\"]");
	check_trade(1, "AAPL", "129.58", 129.58, "1", 1, 1672348887666LL,
	    "[\"1\",\"24\",\"12\"]");
	check_value(0,
	    "{\"s\":\"TSLA\",\"p\":122.1,\"v\":1,"
	    "\"t\":1672348887195,\"c\":[\"1\",\"8\",\"24\",\"12\"]}");
	check_value(1, "{\"s\":\"AAPL\",\"p\":129.58,\"v\":1,"
	               "\"t\":1672348887666,\"c\":[\"1\",\"24\",\"12\"]}");

	diag("the docs' sample: c absent");
	is_int(decode(docs_frame), (int)strlen(docs_frame), "decodes");
	is_int(msg.ntrades, 1, "one trade");
	check_trade(0, "BINANCE:BTCUSDT", "7296.89", 7296.89, "0.011467",
	    0.011467, 1575526691134LL, NULL);
	check_value(0, "{\"s\":\"BINANCE:BTCUSDT\",\"p\":7296.89,"
	               "\"v\":0.011467,\"t\":1575526691134,\"c\":null}");

	diag("FX price-only update: v = 0");
	is_int(decode(fx_frame), (int)strlen(fx_frame), "decodes");
	check_trade(0, "OANDA:EUR_USD", "1.08412", 1.08412, "0", 0,
	    1718000000123LL, NULL);
	check_value(0, "{\"s\":\"OANDA:EUR_USD\",\"p\":1.08412,\"v\":0,"
	               "\"t\":1718000000123,\"c\":null}");

	is_int(decode(ping_frame), (int)strlen(ping_frame), "ping decodes");
	is_int(msg.type, FEED_MSG_PING, "ping");
	is_int(msg.ntrades, 0, "no trades");

	is_int(decode(error_frame), (int)strlen(error_frame), "error decodes");
	is_int(msg.type, FEED_MSG_ERROR, "error");
	ok(slice_is(msg.err, "Subscribing to too many symbols"), "its msg");

	is_int(decode(news_frame), (int)strlen(news_frame), "news decodes");
	is_int(msg.type, FEED_MSG_OTHER, "news is OTHER");
	ok(slice_is(msg.kind, "news"), "kind news");
	is_int(msg.ntrades, 0, "no trades from news");
	is_int(decode(pr_frame), (int)strlen(pr_frame), "pr decodes");
	is_int(msg.type, FEED_MSG_OTHER, "pr is OTHER");
}

/* A websocket message is complete: every prefix is malformed JSON. */
static void
test_truncations(void)
{
	size_t g, k, off, bad;
	int rc;

	for (g = 0; g < NGOLDEN; g++) {
		size_t n = strlen(golden[g]);

		bad = 0;
		for (k = 0; k < n; k++) {
			rc = decode_n(golden[g], k, MAXT, k, &off);
			if (rc != ERR_MALFORMED || off > k || msg.ntrades != 0)
				bad++;
		}
		ok(bad == 0, "golden %zu: all %zu truncations malformed", g, n);
	}
}

static void
test_order_and_ws(void)
{
	static const char type_first[] =
	    "{\"type\":\"trade\",\"data\":[{\"v\":0.5,\"t\":1700000000000,"
	    "\"s\":\"X:Y\",\"c\":[],\"p\":2}]}";
	static const char spaced[] =
	    " \r\n\t{ \"data\" :\n[ { \"s\" : \"AAPL\" , \"p\" : 1.5 , "
	    "\"v\" : 10 , \"t\" : 1700000000001 , \"c\" : [ \"1\" , \"12\" ] "
	    "} ] , \"type\" : \"trade\" } \n";
	static const char unknown[] =
	    "{\"seq\":{\"a\":[1,{\"b\":null}],\"c\":\"d\"},\"data\":[{\"x\":"
	    "{\"y\":[true,false,null,-1.5e3,\"z\"]},\"s\":\"A\",\"p\":1,"
	    "\"cond\":[1,2],\"v\":2,\"t\":3,\"extra\":\"\"}],\"flag\":true,"
	    "\"type\":\"trade\",\"tail\":[]}";
	static const char t_last[] =
	    "{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":66972.77,"
	    "\"v\":0.01559,\"t\":1721555886208}]}";
	static const char empty_data[] = "{\"data\":[],\"type\":\"trade\"}";
	static const char empty_obj[] = "{}";
	static const char ws_only_ping[] = "  {\"type\"  :  \"ping\"}  ";

	is_int(decode(type_first), (int)strlen(type_first), "type first");
	is_int(msg.type, FEED_MSG_TRADE, "still a trade");
	check_trade(0, "X:Y", "2", 2, "0.5", 0.5, 1700000000000LL, "[]");

	is_int(decode(spaced), (int)strlen(spaced), "whitespace everywhere");
	check_trade(0, "AAPL", "1.5", 1.5, "10", 10, 1700000000001LL,
	    "[ \"1\" , \"12\" ]");
	check_value(0, "{\"s\":\"AAPL\",\"p\":1.5,\"v\":10,"
	               "\"t\":1700000000001,\"c\":[ \"1\" , \"12\" ]}");

	is_int(decode(unknown), (int)strlen(unknown), "unknown keys skipped");
	is_int(msg.type, FEED_MSG_TRADE, "trade");
	is_int(msg.ntrades, 1, "one trade");
	check_trade(0, "A", "1", 1, "2", 2, 3, NULL);

	is_int(decode(t_last), (int)strlen(t_last), "t last, at the end");
	check_trade(0, "A", "66972.77", 66972.77, "0.01559", 0.01559,
	    1721555886208LL, NULL);

	is_int(decode(empty_data), (int)strlen(empty_data), "empty data");
	is_int(msg.type, FEED_MSG_TRADE, "a trade message");
	is_int(msg.ntrades, 0, "with no trades");
	is_int(decode(empty_obj), 2, "{} decodes");
	is_int(msg.type, FEED_MSG_OTHER, "as OTHER");
	is_int(decode(ws_only_ping), (int)strlen(ws_only_ping),
	    "ping with spaces");
	is_int(msg.type, FEED_MSG_PING, "ping");
}

static void
test_escapes(void)
{
	static const char esc_sym[] =
	    "{\"d\\u0061ta\":[{\"s\":\"\\u0041A\\/PL\",\"p\":1,\"v\":1,"
	    "\"t\":1},{\"\\u0073\":\"q\\\"uo\\\\te\",\"p\":1,\"v\":1,\"t\":1},"
	    "{\"s\":\"\\ud83d\\ude00X\",\"p\":1,\"v\":1,\"t\":1},"
	    "{\"s\":\"\\ud83dX\",\"p\":1,\"v\":1,\"t\":1},"
	    "{\"s\":\"\\u00e9\\u20ac\",\"p\":1,\"v\":1,\"t\":1},"
	    "{\"s\":\"a\\nb\",\"p\":1,\"v\":1,\"t\":1},"
	    "{\"s\":\"\xc3\xa9t\xc3\xa9\",\"p\":1,\"v\":1,\"t\":1}],"
	    "\"\\u0074ype\":\"tr\\u0061de\"}";
	static const char esc_err[] =
	    "{\"msg\":\"line1\\nline2 \\\"q\\\" \\u00e9\",\"type\":\"error\"}";

	is_int(decode(esc_sym), (int)strlen(esc_sym), "escapes decode");
	is_int(msg.type, FEED_MSG_TRADE, "escaped type value and key");
	is_int(msg.ntrades, 7, "seven trades");
	ok(tr[0].valid && slice_is(tr[0].s, "AA/PL"), "\\u0041 and \\/");
	ok((const uint8_t *)tr[0].s.p < in ||
	        (const uint8_t *)tr[0].s.p >= in + in_len,
	    "an unescaped symbol lives in scratch");
	ok(tr[1].valid && slice_is(tr[1].s, "q\"uo\\te"),
	    "escaped key, quote and backslash");
	check_value(1, "{\"s\":\"q\\\"uo\\\\te\",\"p\":1,\"v\":1,\"t\":1,"
	               "\"c\":null}");
	ok(tr[2].valid && slice_is(tr[2].s, "\xf0\x9f\x98\x80X"),
	    "surrogate pair -> U+1F600");
	ok(!tr[3].valid && tr[3].bad == FEED_BAD_S, "lone surrogate: bad s");
	ok(tr[4].valid && slice_is(tr[4].s, "\xc3\xa9\xe2\x82\xac"),
	    "2- and 3-byte code points");
	ok(!tr[5].valid && tr[5].bad == FEED_BAD_S, "control char: bad s");
	ok(tr[6].valid && slice_is(tr[6].s, "\xc3\xa9t\xc3\xa9") &&
	        (const uint8_t *)tr[6].s.p >= in &&
	        (const uint8_t *)tr[6].s.p < in + in_len,
	    "raw UTF-8 points into the message");
	is_int(msg.nvalid, 5, "five valid");

	is_int(decode(esc_err), (int)strlen(esc_err), "escaped error msg");
	is_int(msg.type, FEED_MSG_ERROR, "error");
	ok(slice_is(msg.err, "line1\nline2 \"q\" \xc3\xa9"), "unescaped msg");
}

/* {"data":[<obj>],"type":"trade"}: the one trade's bad reason. */
static int
bad_of(const char *obj)
{
	char buf[1024];
	int rc;

	snprintf(buf, sizeof(buf), "{\"data\":[%s],\"type\":\"trade\"}", obj);
	rc = decode(buf);
	if (rc < 0)
		return 1000 + rc;
	if (msg.type != FEED_MSG_TRADE || msg.ntrades != 1)
		return -1;
	if (tr[0].valid != (tr[0].bad == FEED_BAD_NONE))
		return -2;
	return tr[0].bad;
}

static void
test_invalid_trades(void)
{
	static const struct {
		const char *obj;
		int bad;
	} cases[] = {
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1}", FEED_BAD_NONE},
	    {"{}", FEED_BAD_NO_S},
	    {"{\"p\":1,\"v\":1,\"t\":1}", FEED_BAD_NO_S},
	    {"{\"s\":\"A\",\"v\":1,\"t\":1}", FEED_BAD_NO_P},
	    {"{\"s\":\"A\",\"p\":1,\"t\":1}", FEED_BAD_NO_V},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1}", FEED_BAD_NO_T},
	    {"{\"s\":\"\",\"p\":1,\"v\":1,\"t\":1}", FEED_BAD_S},
	    {"{\"s\":1,\"p\":1,\"v\":1,\"t\":1}", FEED_BAD_S},
	    {"{\"s\":null,\"p\":1,\"v\":1,\"t\":1}", FEED_BAD_S},
	    {"{\"s\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"p\":1,\"v\":1,\"t\":1}",
	        FEED_BAD_S},
	    {"{\"s\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"p\":1,\"v\":1,\"t\":1}",
	        FEED_BAD_NONE},
	    {"{\"s\":\"A\",\"p\":\"1.5\",\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":0,\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":-0,\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":-1.5,\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":1e400,\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":1e-400,\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":null,\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":[1],\"v\":1,\"t\":1}", FEED_BAD_P},
	    {"{\"s\":\"A\",\"p\":1,\"v\":-1,\"t\":1}", FEED_BAD_V},
	    {"{\"s\":\"A\",\"p\":1,\"v\":-0,\"t\":1}", FEED_BAD_NONE},
	    {"{\"s\":\"A\",\"p\":1,\"v\":0.0,\"t\":1}", FEED_BAD_NONE},
	    {"{\"s\":\"A\",\"p\":1,\"v\":2e400,\"t\":1}", FEED_BAD_V},
	    {"{\"s\":\"A\",\"p\":1,\"v\":true,\"t\":1}", FEED_BAD_V},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":0}", FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":-5}", FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1.5}", FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1.0}", FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1e3}", FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":\"1\"}", FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":9007199254740991}",
	        FEED_BAD_NONE},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":9007199254740992}",
	        FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":99999999999999999999999}",
	        FEED_BAD_T},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":1}", FEED_BAD_C},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":\"1\"}", FEED_BAD_C},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":{}}", FEED_BAD_C},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":[\"1\",2]}",
	        FEED_BAD_C},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":[null]}", FEED_BAD_C},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":[]}", FEED_BAD_NONE},
	    {"{\"s\":\"A\",\"s\":\"B\",\"p\":1,\"v\":1,\"t\":1}", FEED_BAD_DUP},
	    {"{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"t\":2}", FEED_BAD_DUP},
	    {"{\"s\":\"A\",\"p\":0,\"v\":-1,\"t\":1}", FEED_BAD_P},
	    {"{\"p\":0,\"v\":1,\"t\":1}", FEED_BAD_P},
	};
	static const char mixed[] =
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1},"
	    "{\"s\":\"B\",\"p\":\"x\",\"v\":1,\"t\":1},"
	    "{\"s\":\"C\",\"p\":3,\"v\":1,\"t\":3}],\"type\":\"trade\"}";
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(bad_of(cases[i].obj), cases[i].bad, "%s: %s",
		    cases[i].obj, feed_bad_str(cases[i].bad));
	is_int(decode(mixed), (int)strlen(mixed), "a bad trade among good");
	is_int(msg.ntrades, 3, "three trades");
	is_int(msg.nvalid, 2, "two valid");
	ok(tr[0].valid && !tr[1].valid && tr[2].valid, "the middle one bad");
	ok(slice_is(tr[2].s, "C") && tr[2].t == 3, "the one after it intact");
	is_int(feed_trade_value(&tr[1], (uint8_t[64]){0}, 64), 0,
	    "no value for an invalid trade");
	ok(strcmp(feed_bad_str(FEED_BAD_LAST), "unknown") == 0 &&
	        strcmp(feed_bad_str(-1), "unknown") == 0,
	    "feed_bad_str out of range");
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "[]",
	    "\"type\"",
	    "1",
	    "null",
	    "{\"type\":\"ping\"}x",
	    "{\"type\":\"ping\"}{}",
	    "{\"type\":\"ping\",}",
	    "{\"type\" \"ping\"}",
	    "{\"type\":\"ping\"",
	    "{type:\"ping\"}",
	    "{'type':'ping'}",
	    "{\"type\":\"ping\"]",
	    "{\"type\":\"trade\"}",
	    "{\"data\":null,\"type\":\"trade\"}",
	    "{\"data\":{},\"type\":\"trade\"}",
	    "{\"data\":[1],\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1},[]],"
	    "\"type\":\"trade\"}",
	    "{\"data\":\"x\",\"type\":\"trade\"}",
	    "{\"data\":[],\"data\":[],\"type\":\"trade\"}",
	    "{\"type\":\"trade\",\"data\":[],\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":01,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":NaN,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":Infinity,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":-Infinity,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":+1,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":.5,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1.,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1e,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1e+,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":-,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":0x10,\"v\":1,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1},],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":[\"1\",]}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":nul}],"
	    "\"type\":\"trade\"}",
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1,\"c\":nullx}],"
	    "\"type\":\"trade\"}",
	    "{\"x\":tru,\"type\":\"ping\"}",
	    "{\"x\":True,\"type\":\"ping\"}",
	    "{\"x\":[1 2],\"type\":\"ping\"}",
	    "{\"x\":{\"a\" 1},\"type\":\"ping\"}",
	    "{\"x\":{\"a\":1,},\"type\":\"ping\"}",
	    "{\"x\":{1:1},\"type\":\"ping\"}",
	    "{\"x\":\"a\\x\",\"type\":\"ping\"}",
	    "{\"x\":\"a\\u12\",\"type\":\"ping\"}",
	    "{\"x\":\"a\\u12g4\",\"type\":\"ping\"}",
	    "{\"x\":\"a\tb\",\"type\":\"ping\"}",
	    "{\"x\":\"a\nb\",\"type\":\"ping\"}",
	    "{\"x\":\"\xff\",\"type\":\"ping\"}",
	    "{\"x\":\"\xc3\",\"type\":\"ping\"}",
	    "{\"x\":\"\xc0\xaf\",\"type\":\"ping\"}",
	    "{\"x\":\"\xe0\x80\xaf\",\"type\":\"ping\"}",
	    "{\"x\":\"\xed\xa0\x80\",\"type\":\"ping\"}",
	    "{\"x\":\"\xf4\x90\x80\x80\",\"type\":\"ping\"}",
	    "{\"x\":\"\xe2\x82\",\"type\":\"ping\"}",
	    "\xef\xbb\xbf{\"type\":\"ping\"}",
	    "{\"type\":\"ping\"}\x00",
	    "{\"type\":\"ping\"\x0b}",
	};
	size_t i, off;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);

		if (strcmp(bad[i], "{\"type\":\"ping\"}") == 0)
			n++; /* the one with a NUL after it */
		rc = decode_n(bad[i], n, MAXT, n, &off);
		ok(rc == ERR_MALFORMED && off <= n && msg.ntrades == 0,
		    "malformed %zu: %s (at %zu)", i, printable(bad[i], n), off);
	}
	/* Not malformed: valid multi-byte UTF-8 in any string. */
	{
		static const char u[] = "{\"x\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f"
		                        "\x98\x80\xf4\x8f\xbf\xbf\",\"type\":"
		                        "\"ping\"}";

		is_int(decode(u), (int)strlen(u), "UTF-8 up to U+10FFFF");
	}
	/* Non-trade messages need not have trade-shaped data. */
	is_int(decode("{\"data\":[1,\"x\",null],\"type\":\"news\"}"), 35,
	    "news with odd data is fine");
	is_int(msg.type, FEED_MSG_OTHER, "OTHER");
	is_int(decode("{\"type\":\"news\",\"data\":{\"a\":[1]}}"), 32,
	    "news, type first, data an object");
	is_int(decode("{\"type\":5}"), 10, "a non-string type");
	is_int(msg.type, FEED_MSG_OTHER, "is OTHER");
	is_int(decode("{\"type\":\"error\"}"), 16, "error without msg");
	ok(msg.type == FEED_MSG_ERROR && msg.err.len == 0, "empty msg");

	rc = decode_n("{\"type\":\"ping\",x}", 17, MAXT, 17, &off);
	ok(rc == ERR_MALFORMED && off == 15, "err_off at the bad key (%zu)",
	    off);
	rc = decode_n(
	    "{\"data\":[{},7],\"type\":\"trade\"}", 30, MAXT, 30, &off);
	ok(rc == ERR_MALFORMED && off == 12,
	    "err_off at the non-object element (%zu)", off);
}

static void
test_depth(void)
{
	char buf[512];
	int d, n, i, rc;

	/* The top object is depth 1, so an unknown key's value may open
	 * FEED_MAX_DEPTH - 1 containers. */
	for (d = FEED_MAX_DEPTH - 3; d <= FEED_MAX_DEPTH + 3; d++) {
		n = snprintf(buf, sizeof(buf), "{\"x\":");
		for (i = 0; i < d; i++) {
			if (i % 2 == 0)
				n += snprintf(buf + n, sizeof(buf) - (size_t)n,
				    "{\"k\":");
			else
				buf[n++] = '[';
		}
		buf[n++] = '1';
		for (i = d - 1; i >= 0; i--)
			buf[n++] = i % 2 == 0 ? '}' : ']';
		n += snprintf(
		    buf + n, sizeof(buf) - (size_t)n, ",\"type\":\"ping\"}");
		rc = decode(buf);
		if (d + 1 <= FEED_MAX_DEPTH)
			is_int(rc, n, "nesting depth %d accepted", d + 1);
		else
			is_int(rc, ERR_MALFORMED, "nesting depth %d refused",
			    d + 1);
	}
	/* Deep inside a trade too: data (2), trade (3), unknown key. */
	n = snprintf(buf, sizeof(buf), "{\"data\":[{\"x\":");
	for (i = 0; i < 40; i++)
		buf[n++] = '[';
	for (i = 0; i < 40; i++)
		buf[n++] = ']';
	n += snprintf(buf + n, sizeof(buf) - (size_t)n,
	    ",\"s\":\"A\",\"p\":1,\"v\":1,\"t\":1}],\"type\":\"trade\"}");
	is_int(decode(buf), ERR_MALFORMED, "deep nesting in a trade refused");
	/* A huge nesting fails fast and without recursion. */
	{
		size_t big = 1 << 20, k;
		char *p = malloc(big);

		p[0] = '{';
		memcpy(p + 1, "\"x\":", 4);
		for (k = 5; k < big; k++)
			p[k] = '[';
		is_int(decode_n(p, big, MAXT, big, &k), ERR_MALFORMED,
		    "a megabyte of [ refused");
		free(p);
	}
}

/*
 * The trade's v given as tok against strtod, in two layouts: with the
 * rest of the message after the number, and with the number 3 bytes
 * from the end (the scanner reads 8 bytes at a time where it can).
 */
static int
v_matches(const char *tok)
{
	char buf[2][512];
	double want = strtod(tok, NULL);
	size_t i;

	snprintf(buf[0], sizeof(buf[0]),
	    "{\"data\":[{\"s\":\"A\",\"p\":1,\"v\":%s,\"t\":1}],"
	    "\"type\":\"trade\"}",
	    tok);
	snprintf(buf[1], sizeof(buf[1]),
	    "{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,"
	    "\"v\":%s}]}",
	    tok);
	for (i = 0; i < 2; i++)
		if (decode(buf[i]) < 0 || msg.ntrades != 1 ||
		    !slice_is(tr[0].v_tok, tok) ||
		    memcmp(&tr[0].v, &want, sizeof(want)) != 0)
			return 0;
	return 1;
}

static void
test_numbers(void)
{
	static const char *const toks[] = {"0", "-0", "0.0", "-0.0", "1", "-1",
	    "0.1", "0.2", "0.3", "1e22", "1e23", "9007199254740993",
	    "9007199254740992", "9007199254740991", "18446744073709551615",
	    "18446744073709551616", "123456789012345678901234567890", "0.1e1",
	    "1E2", "1e+2", "1e-2", "1.5E-7", "6.697277E4",
	    "2.2250738585072011e-308", "2.2250738585072014e-308",
	    "4.9406564584124654e-324", "2.4703282292062327e-324",
	    "2.4703282292062328e-324", "1.7976931348623157e308",
	    "1.7976931348623158e308", "1.7976931348623159e308", "1e400",
	    "-1e400", "1e-400", "1e99999999999999999999", "1e-99999999999999",
	    "0.000000000000000000000000000000000000000001",
	    "100000000000000000000000000000000000000001e-40",
	    "3.14159265358979323846264338327950", "0.00012", "66972.77",
	    "0.5612", "1.08412",
	    "9.999999999999999999999999999999999999999999e22", "89255.0e-22",
	    "7.038531e-26", "1448997445238699e-325",
	    "0.1000000000000000055511151231257827021181583404541015625",
	    "0.1000000000000000055511151231257827021181583404541015624",
	    "0.1000000000000000055511151231257827021181583404541015626"};
	char tok[128];
	uint64_t x = 88172645463325252ull;
	size_t i, bad = 0, j;

	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++)
		ok(v_matches(toks[i]), "number %s", toks[i]);
	/* Random decimals: the fast path and the fallback agree with
	 * strtod on every one. */
	for (i = 0; i < 20000; i++) {
		int ni, nf, n = 0;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ni = 1 + (int)(x % 12);
		nf = (int)((x >> 8) % 15);
		if ((x >> 16) & 1)
			tok[n++] = '-';
		for (j = 0; j < (size_t)ni; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			tok[n++] = (char)((j == 0 && ni > 1 ? '1' : '0') +
			                  x % (j == 0 && ni > 1 ? 9 : 10));
		}
		if (nf > 0)
			tok[n++] = '.';
		for (j = 0; j < (size_t)nf; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			tok[n++] = (char)('0' + x % 10);
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (x % 3 == 0) {
			int e = (int)((x >> 20) % 60) - 30;

			if (x % 7 == 0)
				e *= 11;
			n += sprintf(tok + n, "%s%d", x % 2 ? "e" : "E", e);
		}
		tok[n] = '\0';
		if (!v_matches(tok)) {
			if (bad++ < 5)
				diag("mismatch on %s", tok);
		}
	}
	ok(bad == 0, "20000 random decimals match strtod (%zu bad)", bad);
}

static void
test_limits(void)
{
	static const char one[] = "{\"s\":\"A\",\"p\":1,\"v\":0,\"t\":1}";
	char *buf;
	size_t n, k, off, len, cap = 4096 * 28 + 64;
	int rc;

	ok(strlen(one) == 27, "the smallest valid trade is 27 bytes");
	/* The bound: len / FEED_MIN_TRADE_BYTES + 1 entries always fit the
	 * trades of a message of minimal trades, with or without spaces. */
	buf = malloc(cap);
	for (k = 1; k <= 4096; k *= 4) {
		len = (size_t)sprintf(buf, "{\"data\":[");
		for (n = 0; n < k; n++)
			len += (size_t)sprintf(
			    buf + len, "%s%s", n ? "," : "", one);
		len += (size_t)sprintf(buf + len, "],\"type\":\"trade\"}");
		{
			struct feed_trade *t =
			    calloc(len / FEED_MIN_TRADE_BYTES + 1, sizeof(*t));
			struct feed_msg mm;
			char *s = malloc(len);

			rc = feed_decode((uint8_t *)buf, len, &mm, t,
			    len / FEED_MIN_TRADE_BYTES + 1, s, len, &off);
			ok(rc == (int)len && mm.nvalid == k,
			    "%zu minimal trades fit len/%d+1 = %zu entries", k,
			    FEED_MIN_TRADE_BYTES,
			    len / FEED_MIN_TRADE_BYTES + 1);
			free(t);
			free(s);
		}
		ok(k * 28 + 25 <= len, "%zu trades take >= 28 bytes each", k);
	}
	free(buf);

	is_int(decode_n(crypto_frame, strlen(crypto_frame), 2,
	           strlen(crypto_frame), &off),
	    ERR_TOO_BIG, "3 trades, room for 2: ERR_TOO_BIG");
	is_int(decode_n(crypto_frame, strlen(crypto_frame), 3,
	           strlen(crypto_frame), &off),
	    (int)strlen(crypto_frame), "room for 3: fine");
	is_int(decode_n(crypto_frame, strlen(crypto_frame), 0,
	           strlen(crypto_frame), &off),
	    ERR_TOO_BIG, "room for none: ERR_TOO_BIG");
	is_int(decode_n(ping_frame, strlen(ping_frame), 0, 0, &off),
	    (int)strlen(ping_frame), "ping needs no room at all");
	is_int(decode_n(news_frame, strlen(news_frame), 0, 0, &off),
	    (int)strlen(news_frame), "nor does news");
	/* Garbage objects beyond the bound fail the message. */
	{
		char g[2000];

		len = (size_t)sprintf(g, "{\"data\":[{}");
		for (n = 1; n < 300; n++)
			len += (size_t)sprintf(g + len, ",{}");
		len += (size_t)sprintf(g + len, "],\"type\":\"trade\"}");
		is_int(
		    decode_n(g, len, len / FEED_MIN_TRADE_BYTES + 1, len, &off),
		    ERR_TOO_BIG, "300 empty objects: ERR_TOO_BIG");
	}
	/* Scratch: as long as the message always suffices; less may not. */
	{
		static const char e[] =
		    "{\"data\":[{\"s\":\"\\u0041\\u0042\","
		    "\"p\":1,\"v\":1,\"t\":1},"
		    "{\"s\":\"\\u00e9\\u00e9\\u00e9\","
		    "\"p\":1,\"v\":1,\"t\":1}],"
		    "\"msg\":\"\\u0041\",\"type\":\"trade\"}";

		is_int(decode_n(e, strlen(e), MAXT, strlen(e), &off),
		    (int)strlen(e), "scratch of len bytes");
		ok(slice_is(tr[0].s, "AB") &&
		        slice_is(tr[1].s, "\xc3\xa9\xc3\xa9\xc3\xa9"),
		    "both unescaped");
		is_int(decode_n(e, strlen(e), MAXT, 8, &off), ERR_TOO_BIG,
		    "8 bytes of scratch: ERR_TOO_BIG");
		is_int(decode_n(e, strlen(e), MAXT, 0, &off), ERR_TOO_BIG,
		    "no scratch: ERR_TOO_BIG");
		is_int(
		    decode_n(crypto_frame, strlen(crypto_frame), MAXT, 0, &off),
		    (int)strlen(crypto_frame), "no escapes need no scratch");
	}
	/* A long number needs scratch for strtod; len bytes are enough. */
	{
		char b[400];
		char digits[300];

		memset(digits, '1', sizeof(digits) - 1);
		digits[sizeof(digits) - 1] = '\0';
		len = (size_t)snprintf(b, sizeof(b),
		    "{\"data\":[{\"s\":\"A\",\"p\":1.%s,\"v\":1,\"t\":1}],"
		    "\"type\":\"trade\"}",
		    digits);
		is_int(decode_n(b, len, MAXT, len, &off), (int)len,
		    "a 301-byte number with len bytes of scratch");
		ok(tr[0].valid &&
		        tr[0].p == strtod("1.111111111111111111111", NULL),
		    "converted exactly");
		is_int(decode_n(b, len, MAXT, 16, &off), ERR_TOO_BIG,
		    "with 16 bytes: ERR_TOO_BIG");
	}
}

/* The value of every valid trade, wrapped as a message, decodes to the
 * same trade; cJSON reads it as the same JSON. */
static void
roundtrip_all(const char *frame, const char *what)
{
	struct feed_trade orig[MAXT];
	struct feed_msg om;
	size_t i, n, bad = 0, len = strlen(frame), off;
	char *copy = strdup(frame), *oscr = malloc(len);

	if (feed_decode((const uint8_t *)copy, len, &om, orig, MAXT, oscr, len,
	        &off) < 0) {
		ok(0, "%s decodes", what);
		goto out;
	}
	n = om.ntrades;
	for (i = 0; i < n; i++) {
		uint8_t v[1024];
		char m[1100];
		size_t vl;
		cJSON *j;

		if (!orig[i].valid)
			continue;
		vl = feed_trade_value(&orig[i], v, sizeof(v));
		if (vl == 0) {
			bad++;
			continue;
		}
		snprintf(m, sizeof(m), "{\"data\":[%.*s],\"type\":\"trade\"}",
		    (int)vl, v);
		j = cJSON_ParseWithLength((const char *)v, vl);
		if (j == NULL ||
		    cJSON_GetObjectItem(j, "p")->valuedouble != orig[i].p ||
		    cJSON_GetObjectItem(j, "t")->valuedouble !=
		        (double)orig[i].t ||
		    strlen(cJSON_GetObjectItem(j, "s")->valuestring) !=
		        orig[i].s.len)
			bad++;
		cJSON_Delete(j);
		if (decode(m) < 0 || msg.ntrades != 1 || !tr[0].valid ||
		    tr[0].s.len != orig[i].s.len ||
		    memcmp(tr[0].s.p, orig[i].s.p, orig[i].s.len) != 0 ||
		    tr[0].p != orig[i].p || tr[0].v != orig[i].v ||
		    tr[0].t != orig[i].t ||
		    tr[0].p_tok.len != orig[i].p_tok.len ||
		    memcmp(tr[0].p_tok.p, orig[i].p_tok.p, tr[0].p_tok.len) !=
		        0 ||
		    tr[0].v_tok.len != orig[i].v_tok.len ||
		    memcmp(tr[0].v_tok.p, orig[i].v_tok.p, tr[0].v_tok.len) !=
		        0 ||
		    (orig[i].c.p == NULL) != (tr[0].c.p == NULL) ||
		    tr[0].c.len != orig[i].c.len ||
		    (tr[0].c.p != NULL &&
		        memcmp(tr[0].c.p, orig[i].c.p, tr[0].c.len) != 0))
			bad++;
	}
	ok(bad == 0, "%s: every value round-trips (%zu bad)", what, bad);
out:
	free(copy);
	free(oscr);
}

static void
test_value(void)
{
	static const char weird[] =
	    "{\"data\":[{\"s\":\"a\\u0000b\",\"p\":1,\"v\":1,\"t\":1},"
	    "{\"s\":\"\\u007f\\\"\\\\\",\"p\":1E+2,\"v\":-0,\"t\":12,"
	    "\"c\":[\"\\u00e9\"]}],\"type\":\"trade\"}";
	uint8_t v[256];
	size_t n, need;

	roundtrip_all(crypto_frame, "crypto");
	roundtrip_all(stock_frame, "stocks");
	roundtrip_all(docs_frame, "docs");
	roundtrip_all(fx_frame, "fx");
	roundtrip_all(weird, "escapes");

	decode(weird);
	ok(!tr[0].valid, "\\u0000 in a symbol is refused");
	n = feed_trade_value(&tr[1], v, sizeof(v));
	is_mem(v, n,
	    "{\"s\":\"\\u007f\\\"\\\\\",\"p\":1E+2,\"v\":-0,\"t\":12,"
	    "\"c\":[\"\\u00e9\"]}",
	    strlen("{\"s\":\"\\u007f\\\"\\\\\",\"p\":1E+2,\"v\":-0,\"t\":12,"
	           "\"c\":[\"\\u00e9\"]}"),
	    "symbol re-escaped, tokens and c verbatim");

	decode(stock_frame);
	need = feed_trade_value(&tr[0], v, sizeof(v));
	is_int(feed_trade_value(&tr[0], v, need), need, "fits exactly");
	is_int(feed_trade_value(&tr[0], v, need - 1), 0, "one byte short: 0");
	is_int(feed_trade_value(&tr[0], v, 0), 0, "no room: 0");
}

#define is_wbuf(w, want, ...)                                                  \
	is_mem((w)->buf, (w)->len, (want), strlen(want), __VA_ARGS__)

static void
test_subscribe(void)
{
	struct wbuf w;

	wbuf_init(&w, 0);
	feed_encode_subscribe(&w, "subscribe", "AAPL");
	is_wbuf(&w, "{\"type\":\"subscribe\",\"symbol\":\"AAPL\"}",
	    "subscribe AAPL");
	wbuf_reset(&w);
	feed_encode_subscribe(&w, "unsubscribe", "BINANCE:BTCUSDT");
	is_wbuf(&w, "{\"type\":\"unsubscribe\",\"symbol\":\"BINANCE:BTCUSDT\"}",
	    "unsubscribe BINANCE:BTCUSDT");
	wbuf_reset(&w);
	feed_encode_subscribe(&w, "subscribe", "IC MARKETS:1");
	is_wbuf(&w, "{\"type\":\"subscribe\",\"symbol\":\"IC MARKETS:1\"}",
	    "a space stays");
	wbuf_reset(&w);
	feed_encode_subscribe(&w, "subscribe", "A\"B\\C\n\x01\xc3\xa9");
	is_wbuf(&w,
	    "{\"type\":\"subscribe\",\"symbol\":\"A\\\"B\\\\C\\n\\u0001"
	    "\xc3\xa9\"}",
	    "quote, backslash, controls escaped; UTF-8 kept");
	{
		cJSON *j = cJSON_ParseWithLength((const char *)w.buf, w.len);

		ok(j != NULL &&
		        strcmp(cJSON_GetObjectItem(j, "symbol")->valuestring,
		            "A\"B\\C\n\x01\xc3\xa9") == 0,
		    "cJSON reads the symbol back");
		cJSON_Delete(j);
	}
	wbuf_fini(&w);
	wbuf_init(&w, 10);
	feed_encode_subscribe(&w, "subscribe", "AAPL");
	is_int(w.err, ERR_TOO_BIG, "a bounded wbuf latches ERR_TOO_BIG");
	wbuf_fini(&w);
}

int
main(void)
{
	plan_lazy();
	test_golden();
	test_truncations();
	test_order_and_ws();
	test_escapes();
	test_invalid_trades();
	test_malformed();
	test_depth();
	test_numbers();
	test_limits();
	test_value();
	test_subscribe();
	free(in);
	free(scr);
	return done_testing();
}
