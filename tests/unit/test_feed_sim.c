/*
 * test_feed_sim.c: (1) the synthetic market (server/feed_sim.c): its
 * messages are Finnhub's, every trade valid to the feed's own scanner, on
 * each symbol's tick, reproducible from the seed.
 */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/feed.h"
#include "proto/wbuf.h"
#include "server/config.h"
#include "server/feed/feed_sim.h"
#include "tests/lib/tap.h"

#define NOW 1721555886208LL

static int
nsyms(const char *const *s)
{
	int n = 0;

	while (s[n] != NULL)
		n++;
	return n;
}

/* Digits after the '.' of a number token (it has no exponent). */
static size_t
decimals(struct feed_slice tok)
{
	const char *dot = memchr(tok.p, '.', tok.len);

	return dot == NULL ? 0 : tok.len - (size_t)(dot + 1 - tok.p);
}

/* As Finnhub prints: no exponent, no trailing zeros, no bare '.'. */
static int
shortest_form(struct feed_slice tok)
{
	if (memchr(tok.p, 'e', tok.len) != NULL ||
	    memchr(tok.p, 'E', tok.len) != NULL || tok.p[0] == '-')
		return 0;
	if (memchr(tok.p, '.', tok.len) != NULL &&
	    (tok.p[tok.len - 1] == '0' || tok.p[tok.len - 1] == '.'))
		return 0;
	return 1;
}

static int
sym_is(struct feed_slice s, const char *name)
{
	return s.len == strlen(name) && memcmp(s.p, name, s.len) == 0;
}

/* The daemon's default symbols (the default of the `symbols` key). */
static struct config defcfg;
static const char *const *defsyms;

static void
test_defaults(void)
{
	int n = nsyms(defsyms), i, crypto_first = 1, seen_stock = 0;
	int aapl = 0, btc = 0;

	ok(n >= 15 && n <= 50, "%d default symbols (Finnhub's cap is 50)", n);
	for (i = 0; i < n; i++) {
		int crypto = strncmp(defsyms[i], "BINANCE:", 8) == 0;

		if (crypto && seen_stock)
			crypto_first = 0;
		seen_stock |= !crypto;
		aapl |= strcmp(defsyms[i], "AAPL") == 0;
		btc |= strcmp(defsyms[i], "BINANCE:BTCUSDT") == 0;
	}
	ok(crypto_first, "crypto pairs come first");
	ok(aapl && btc, "AAPL and BINANCE:BTCUSDT among them");
	ok(strcmp(defsyms[0], "BINANCE:BTCUSDT") == 0, "BTCUSDT first");
}

static void
test_new_refuses(void)
{
	static const char *const empty[] = {""};
	static const char *const ctl[] = {"A\nB"};
	static const char *const nul[] = {NULL};
	static const char *const ok1[] = {"AAPL"};
	char long_sym[66];
	const char *lp[1] = {long_sym};
	struct feed_sim *m;

	ok(feed_sim_new(ok1, 0, 1) == NULL, "no symbols: NULL");
	ok(feed_sim_new(empty, 1, 1) == NULL, "empty symbol: NULL");
	ok(feed_sim_new(ctl, 1, 1) == NULL, "control char: NULL");
	ok(feed_sim_new(nul, 1, 1) == NULL, "NULL symbol: NULL");
	memset(long_sym, 'A', 65);
	long_sym[65] = '\0';
	ok(feed_sim_new(lp, 1, 1) == NULL, "65-byte symbol: NULL");
	long_sym[64] = '\0';
	ok((m = feed_sim_new(lp, 1, 1)) != NULL, "64-byte symbol: fine");
	feed_sim_free(m);
	feed_sim_free(NULL); /* a no-op: must not crash */
}

struct stats {
	size_t frames, trades, ties, pairs, bad_order, bad_now, stock,
	    stock_2dec, stock_bad, crypto, crypto_bad, fx, fx_bad, bad_form;
};

/* Decode one message and check every trade against its symbol's rules. */
static int
check_frame(
    const uint8_t *p, size_t len, int64_t now, int ntrades, struct stats *st)
{
	static struct feed_trade tr[8192];
	static char scratch[1 << 20];
	struct feed_msg msg;
	size_t off, i;
	int rc;

	rc = feed_decode(p, len, &msg, tr, sizeof(tr) / sizeof(tr[0]), scratch,
	    sizeof(scratch), &off);
	if (rc != (int)len || msg.type != FEED_MSG_TRADE ||
	    msg.ntrades != (size_t)ntrades || msg.nvalid != msg.ntrades) {
		diag("bad frame (%d at %zu): %.*s", rc, off,
		    (int)(len > 300 ? 300 : len), p);
		return 0;
	}
	st->frames++;
	for (i = 0; i < msg.ntrades; i++) {
		const struct feed_trade *t = &tr[i];
		int crypto = memchr(t->s.p, ':', t->s.len) != NULL &&
		             !sym_is(t->s, "OANDA:EUR_USD");

		st->trades++;
		if (t->t > now || t->t < 1)
			st->bad_now++;
		if (i > 0) {
			st->pairs++;
			st->ties += t->t == tr[i - 1].t;
			st->bad_order += t->t < tr[i - 1].t;
		}
		if (!shortest_form(t->p_tok) || !shortest_form(t->v_tok))
			st->bad_form++;
		if (sym_is(t->s, "OANDA:EUR_USD")) {
			st->fx++;
			if (t->v != 0 || t->c.p != NULL ||
			    decimals(t->p_tok) > 5)
				st->fx_bad++;
		} else if (crypto) {
			size_t pd = 2, vd = 5;

			st->crypto++;
			if (sym_is(t->s, "BINANCE:ETHUSDT"))
				vd = 4;
			else if (sym_is(t->s, "BINANCE:XRPUSDT"))
				pd = 4, vd = 0;
			else if (sym_is(t->s, "BINANCE:DOGEUSDT"))
				pd = 5, vd = 0;
			else if (sym_is(t->s, "BINANCE:SOLUSDT"))
				vd = 3;
			if (t->c.p != NULL || decimals(t->p_tok) > pd ||
			    decimals(t->v_tok) > vd || t->v <= 0)
				st->crypto_bad++;
		} else {
			st->stock++;
			st->stock_2dec += decimals(t->p_tok) <= 2;
			if (decimals(t->p_tok) > 4 || decimals(t->v_tok) != 0 ||
			    t->v < 1 || t->c.p == NULL || t->c.p[0] != '[' ||
			    t->c.len < 5)
				st->stock_bad++;
		}
	}
	return 1;
}

static void
test_validity(void)
{
	static const char *const syms[] = {"BINANCE:BTCUSDT", "BINANCE:ETHUSDT",
	    "BINANCE:XRPUSDT", "BINANCE:DOGEUSDT", "BINANCE:SOLUSDT", "AAPL",
	    "MSFT", "NVDA", "TSLA", "OANDA:EUR_USD", NULL};
	struct feed_sim *m = feed_sim_new(syms, nsyms(syms), 7);
	struct stats st;
	struct wbuf w;
	uint64_t x = 12345;
	int64_t now = NOW;
	size_t bad = 0, i;
	int n;

	memset(&st, 0, sizeof(st));
	wbuf_init(&w, 0);
	for (i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = 1 + (int)(x % 12);
		now += (int64_t)(x >> 40) % 50;
		wbuf_reset(&w);
		if (feed_sim_frame(m, now, n, &w) != (size_t)n || w.err != 0 ||
		    !check_frame(w.buf, w.len, now, n, &st))
			bad++;
	}
	ok(bad == 0, "100000 messages, every trade valid (%zu bad)", bad);
	diag("%zu trades: %zu stock, %zu crypto, %zu fx; %zu%% ties", st.trades,
	    st.stock, st.crypto, st.fx,
	    st.pairs ? 100 * st.ties / st.pairs : 0);
	is_int(st.bad_now, 0, "times in [1, now]");
	is_int(st.bad_order, 0, "times non-decreasing within a message");
	ok(st.ties * 10 > st.pairs, "many trades share a millisecond");
	is_int(st.bad_form, 0, "numbers printed as Finnhub prints them");
	is_int(st.stock_bad, 0, "stocks: <= 4 decimals, whole shares, c array");
	ok(st.stock_2dec * 100 > st.stock * 80, "stocks: mostly on the cent");
	ok(st.stock_2dec < st.stock, "stocks: some sub-penny prints");
	is_int(st.crypto_bad, 0, "crypto: on the pair's tick, c null");
	is_int(st.fx_bad, 0, "FX: 5 decimals, v = 0, no c");
	ok(st.stock > 0 && st.crypto > 0 && st.fx > 0, "all three kinds seen");

	/* A crypto trade has "c":null; an FX one has no "c" at all. */
	{
		static const char *const one[] = {"BINANCE:BTCUSDT", NULL};
		static const char *const fx[] = {"OANDA:EUR_USD", NULL};
		struct feed_sim *c = feed_sim_new(one, 1, 1);
		struct feed_sim *f = feed_sim_new(fx, 1, 1);

		wbuf_reset(&w);
		feed_sim_frame(c, NOW, 1, &w);
		ok(memmem(w.buf, w.len, "{\"c\":null,\"p\":", 14) != NULL,
		    "crypto: \"c\":null first, as Finnhub sends it");
		wbuf_reset(&w);
		feed_sim_frame(f, NOW, 1, &w);
		ok(memmem(w.buf, w.len, "\"c\"", 3) == NULL &&
		        memmem(w.buf, w.len, "\"v\":0}", 6) != NULL,
		    "FX: no c, v 0");
		feed_sim_free(c);
		feed_sim_free(f);
	}
	feed_sim_free(m);
	wbuf_fini(&w);
}

static void
test_determinism(void)
{
	int n = nsyms(defsyms), i;
	struct feed_sim *a = feed_sim_new(defsyms, n, 99);
	struct feed_sim *b = feed_sim_new(defsyms, n, 99);
	struct feed_sim *c = feed_sim_new(defsyms, n, 100);
	struct wbuf wa, wb, wc;

	wbuf_init(&wa, 0);
	wbuf_init(&wb, 0);
	wbuf_init(&wc, 0);
	for (i = 0; i < 1000; i++) {
		feed_sim_frame(a, NOW + i, 1 + i % 7, &wa);
		feed_sim_frame(b, NOW + i, 1 + i % 7, &wb);
		feed_sim_frame(c, NOW + i, 1 + i % 7, &wc);
	}
	ok(wa.len == wb.len && memcmp(wa.buf, wb.buf, wa.len) == 0,
	    "same seed, same calls: the same %zu bytes", wa.len);
	ok(wa.len != wc.len || memcmp(wa.buf, wc.buf, wa.len) != 0,
	    "another seed: other bytes");
	feed_sim_free(a);
	feed_sim_free(b);
	feed_sim_free(c);
	wbuf_fini(&wa);
	wbuf_fini(&wb);
	wbuf_fini(&wc);
}

static void
test_unknown_symbols(void)
{
	static const char *const syms[] = {"FOO", "KRAKEN:XBTUSD",
	    "COINBASE:SHIB-USD", "OANDA:AUD_USD", "IC MARKETS:1", "BRK.B",
	    "X:Y", NULL};
	struct feed_sim *m = feed_sim_new(syms, nsyms(syms), 3);
	struct stats st;
	struct wbuf w;
	size_t bad = 0, i;

	memset(&st, 0, sizeof(st));
	wbuf_init(&w, 0);
	for (i = 0; i < 20000; i++) {
		wbuf_reset(&w);
		feed_sim_frame(m, NOW + (int64_t)i, 5, &w);
		if (!check_frame(w.buf, w.len, NOW + (int64_t)i, 5, &st))
			bad++;
	}
	ok(bad == 0, "symbols it does not know: valid trades too");
	is_int(st.bad_form, 0, "and Finnhub's number format");
	feed_sim_free(m);
	wbuf_fini(&w);
}

static void
test_edges(void)
{
	static const char *const one[] = {"AAPL", NULL};
	struct feed_sim *m = feed_sim_new(defsyms, nsyms(defsyms), 5);
	struct feed_sim *s = feed_sim_new(one, 1, 5);
	struct stats st;
	struct wbuf w;
	int i, okay = 1;

	memset(&st, 0, sizeof(st));
	wbuf_init(&w, 0);
	is_int(feed_sim_frame(m, NOW, 0, &w), 0, "0 trades: 0");
	is_int(w.len, 0, "and nothing written");
	is_int(feed_sim_frame(m, NOW, 5000, &w), 5000, "5000 trades");
	ok(check_frame(w.buf, w.len, NOW, 5000, &st), "in one valid message");
	wbuf_reset(&w);
	is_int(feed_sim_frame(m, 1, 3, &w), 3, "at time 1");
	ok(check_frame(w.buf, w.len, 1, 3, &st), "times clamp to 1");
	/* Across messages too, times never go back. */
	{
		int64_t last = 0;
		struct feed_trade tr[16];
		struct feed_msg msg;
		char scr[4096];
		size_t off, k;

		for (i = 0; i < 2000; i++) {
			wbuf_reset(&w);
			feed_sim_frame(s, NOW + i / 3, 10, &w);
			if (feed_decode(w.buf, w.len, &msg, tr, 16, scr,
			        sizeof(scr), &off) < 0)
				okay = 0;
			for (k = 0; k < msg.ntrades; k++) {
				okay &= tr[k].t >= last;
				last = tr[k].t;
			}
		}
		ok(okay, "times non-decreasing across messages");
	}
	/* A long walk stays on the tick and above zero. */
	okay = 1;
	for (i = 0; i < 20000; i++) {
		struct feed_trade tr[64];
		struct feed_msg msg;
		char scr[8192];
		size_t off, k;

		wbuf_reset(&w);
		feed_sim_frame(s, NOW + i, 50, &w);
		if (feed_decode(
		        w.buf, w.len, &msg, tr, 64, scr, sizeof(scr), &off) < 0)
			okay = 0;
		for (k = 0; k < msg.ntrades; k++)
			okay &= tr[k].p > 15 && tr[k].p < 2000 &&
			        decimals(tr[k].p_tok) <= 4;
	}
	ok(okay, "a million AAPL prints stay within reason");
	wbuf_reset(&w);
	feed_sim_ping(&w);
	is_mem(w.buf, w.len, "{\"type\":\"ping\"}", 15, "ping");
	{
		struct feed_msg msg;
		size_t off;

		is_int(feed_decode(w.buf, w.len, &msg, NULL, 0, NULL, 0, &off),
		    15, "ping decodes");
		is_int(msg.type, FEED_MSG_PING, "as a ping");
	}
	wbuf_fini(&w);
	wbuf_init(&w, 64);
	is_int(feed_sim_frame(m, NOW, 10, &w), 0, "a wbuf too small: 0");
	ok(w.err == ERR_TOO_BIG, "with its error latched");
	wbuf_fini(&w);
	feed_sim_free(m);
	feed_sim_free(s);
}

int
main(void)
{
	int rc;

	plan_lazy();
	config_init(&defcfg);
	defsyms = (const char *const *)defcfg.symbols;
	test_defaults();
	test_new_refuses();
	test_validity();
	test_determinism();
	test_unknown_symbols();
	test_edges();
	rc = done_testing();
	config_fini(&defcfg);
	return rc;
}
