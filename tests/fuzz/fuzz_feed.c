/*
 * fuzz_feed.c: (1) the Finnhub message scanner (proto/feed.c) on
 * arbitrary bytes.
 *
 * Besides not crashing, a result must be consistent: an error comes with
 * an offset inside the input; a success consumed everything, every slice
 * lies inside the message or the scratch buffer, every trade flagged valid
 * obeys the field rules, room for fewer trades only ever turns a success
 * into ERR_TOO_BIG, and the Kafka value of each valid trade, wrapped as a
 * message of its own, decodes back to the same trade.
 */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct area {
	const char *p;
	size_t n;
};

static void
check_slice(struct feed_slice s, struct area a, struct area b)
{
	if (s.p == NULL) {
		if (s.len != 0)
			abort();
		return;
	}
	if (s.p >= a.p && s.len <= a.n && s.p <= a.p + a.n - s.len)
		return;
	if (s.p >= b.p && s.len <= b.n && s.p <= b.p + b.n - s.len)
		return;
	abort();
}

static int
same_slice(struct feed_slice x, struct feed_slice y)
{
	if ((x.p == NULL) != (y.p == NULL) || x.len != y.len)
		return 0;
	return x.len == 0 || memcmp(x.p, y.p, x.len) == 0;
}

/* The value of a valid trade, wrapped, decodes to the same trade. */
static void
roundtrip(const struct feed_trade *t)
{
	static const char pre[] = "{\"data\":[",
	                  post[] = "],\"type\":\"trade\"}";
	size_t cap =
	    6 * FEED_MAX_SYMBOL + t->p_tok.len + t->v_tok.len + t->c.len + 128;
	uint8_t *m = malloc(cap);
	char *scr = malloc(cap);
	struct feed_trade back;
	struct feed_msg msg;
	size_t vl, len, off;

	if (m == NULL || scr == NULL)
		abort();
	memcpy(m, pre, sizeof(pre) - 1);
	vl = feed_trade_value(
	    t, m + sizeof(pre) - 1, cap - sizeof(pre) - sizeof(post));
	if (vl == 0)
		abort();
	memcpy(m + sizeof(pre) - 1 + vl, post, sizeof(post) - 1);
	len = sizeof(pre) - 1 + vl + sizeof(post) - 1;
	if (feed_decode(m, len, &msg, &back, 1, scr, len, &off) != (int)len ||
	    msg.type != FEED_MSG_TRADE || msg.ntrades != 1 || !back.valid)
		abort();
	if (!same_slice(back.s, t->s) || !same_slice(back.p_tok, t->p_tok) ||
	    !same_slice(back.v_tok, t->v_tok) || !same_slice(back.c, t->c) ||
	    back.t != t->t || memcmp(&back.p, &t->p, sizeof(double)) != 0 ||
	    memcmp(&back.v, &t->v, sizeof(double)) != 0)
		abort();
	free(m);
	free(scr);
}

static int
run(const uint8_t *data, size_t size, size_t max, struct feed_msg *msg,
    int full)
{
	struct feed_trade *tr = calloc(max ? max : 1, sizeof(*tr));
	char *scr = malloc(size ? size : 1);
	struct area a = {(const char *)data, size}, b;
	size_t off = SIZE_MAX, i, nvalid = 0;
	int rc;

	if (tr == NULL || scr == NULL)
		abort();
	b.p = scr;
	b.n = size;
	rc = feed_decode(data, size, msg, tr, max, scr, size, &off);
	if (rc < 0) {
		if ((rc != ERR_MALFORMED && rc != ERR_TOO_BIG) || off > size ||
		    msg->ntrades != 0)
			abort();
		goto out;
	}
	if ((size_t)rc != size || msg->ntrades > max ||
	    (msg->type != FEED_MSG_TRADE && msg->ntrades != 0))
		abort();
	check_slice(msg->kind, a, b);
	check_slice(msg->err, a, b);
	for (i = 0; i < msg->ntrades; i++) {
		const struct feed_trade *t = &tr[i];

		check_slice(t->s, a, b);
		check_slice(t->p_tok, a, b);
		check_slice(t->v_tok, a, b);
		check_slice(t->t_tok, a, b);
		check_slice(t->c, a, b);
		if (t->valid != (t->bad == FEED_BAD_NONE))
			abort();
		if (!t->valid)
			continue;
		nvalid++;
		if (t->s.len < 1 || t->s.len > FEED_MAX_SYMBOL ||
		    !isfinite(t->p) || !(t->p > 0) || !isfinite(t->v) ||
		    !(t->v >= 0) || t->t < 1 || t->t >= ((int64_t)1 << 53))
			abort();
		if (full)
			roundtrip(t);
	}
	if (nvalid != msg->nvalid)
		abort();
out:
	free(tr);
	free(scr);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_msg big, small;
	int rc_big, rc_small;

	rc_big = run(data, size, size / FEED_MIN_TRADE_BYTES + 1, &big, 1);
	rc_small = run(data, size, 1, &small, 0);
	/* Less room only ever makes a message with more trades too big. */
	if (rc_big >= 0 && big.ntrades <= 1 && rc_small != rc_big)
		abort();
	if (rc_big >= 0 && big.ntrades > 1 && rc_small != ERR_TOO_BIG)
		abort();
	if (rc_big < 0 && rc_small != rc_big && rc_small != ERR_TOO_BIG)
		abort();
	return 0;
}
