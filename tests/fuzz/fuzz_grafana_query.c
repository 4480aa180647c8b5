/*
 * fuzz_grafana_query.c: (5) the HTTP stage's request decoders
 * (proto/grafana_req.c) on arbitrary bytes: as a /grafana/query body
 * (the target of the issue), and the same bytes as the other bodies, a
 * series query string, a symbols value and a time.
 *
 * Whatever decodes satisfies what the handlers rely on: a range with
 * from < to inside 0..GF_MAX_T, maxDataPoints in 1..GF_MAX_POINTS, at
 * most GF_MAX_TARGETS targets of known metrics, symbol lists of distinct
 * symbols of 1..GF_MAX_SYMBOL bytes without control characters, filters
 * with a known operator and at least one value; errors are the
 * documented ones and come with a message.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/arena.h"
#include "proto/grafana_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000000LL

static void
check_rc(int rc, const struct gf_err *e)
{
	if (rc != 0 && rc != ERR_MALFORMED && rc != ERR_RANGE &&
	    rc != ERR_TOO_BIG && rc != ERR_NOTFOUND)
		abort();
	if (rc != 0 && e->msg[0] == '\0')
		abort(); /* every refusal explains itself */
}

static void
check_symbols(const struct gf_symbols *s)
{
	size_t i, k, n;

	if (s->n > GF_MAX_SYMBOLS || (!s->all && s->n == 0))
		abort();
	for (i = 0; i < s->n; i++) {
		n = strlen(s->v[i]);
		if (n == 0 || n > GF_MAX_SYMBOL)
			abort();
		for (k = 0; k < n; k++)
			if ((unsigned char)s->v[i][k] < 0x20 ||
			    s->v[i][k] == 0x7f)
				abort();
		for (k = 0; k < i; k++)
			if (strcmp(s->v[i], s->v[k]) == 0)
				abort();
	}
}

static void
check_query(const struct gf_query *q)
{
	size_t i;

	if (q->from_ms < 0 || q->to_ms > GF_MAX_T || q->from_ms >= q->to_ms)
		abort();
	if (q->max_points < 1 || q->max_points > GF_MAX_POINTS ||
	    q->interval_ms < 0 || q->interval_ms > GF_MAX_INTERVAL)
		abort();
	if (q->ntargets > GF_MAX_TARGETS || q->nfilters > GF_MAX_FILTERS)
		abort();
	for (i = 0; i < q->ntargets; i++) {
		const struct gf_target *t = &q->targets[i];

		if (t->metric < 1 || t->metric > GF_NMETRICS ||
		    t->ref_id == NULL || (t->running != 0 && t->running != 1))
			abort();
		check_symbols(&t->symbols);
	}
	for (i = 0; i < q->nfilters; i++)
		if (q->filters[i].op < GF_OP_EQ ||
		    q->filters[i].op > GF_OP_NIN ||
		    q->filters[i].nvalues == 0 ||
		    q->filters[i].values[0] == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gf_payload_options po;
	struct gf_variable v;
	struct gf_symbols s;
	struct gf_query q;
	struct gf_err e;
	struct arena a;
	const char *key;
	int64_t t;
	int rc;

	arena_init(&a, 1 << 20);
	e.msg[0] = '\0';
	rc = gf_decode_query(data, size, NOW, &q, &a, &e);
	check_rc(rc, &e);
	if (rc == 0)
		check_query(&q);

	arena_reset(&a);
	e.msg[0] = '\0';
	rc = gf_decode_series((const char *)data, size, NOW, &q, &a, &e);
	check_rc(rc, &e);
	if (rc == 0)
		check_query(&q);

	arena_reset(&a);
	memset(&s, 0, sizeof(s));
	e.msg[0] = '\0';
	rc = gf_parse_symbols((const char *)data, size, &s, &a, &e);
	check_rc(rc, &e);
	if (rc == 0)
		check_symbols(&s);

	rc = gf_parse_time((const char *)data, size, NOW, &t);
	if (rc == 0 && (t < 0 || t > GF_MAX_T))
		abort();

	arena_reset(&a);
	e.msg[0] = '\0';
	check_rc(gf_decode_metrics(data, size, &e), &e);
	e.msg[0] = '\0';
	check_rc(gf_decode_payload_options(data, size, &po, &a, &e), &e);
	e.msg[0] = '\0';
	check_rc(gf_decode_variable(data, size, &v, &a, &e), &e);
	e.msg[0] = '\0';
	check_rc(gf_decode_tag_values(data, size, &key, &a, &e), &e);
	arena_fini(&a);
	return 0;
}
