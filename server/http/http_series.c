/*
 * http_series.c: (5) GET /api/v1/series?metric=&symbols=&from=&to=
 * &points=&interval=&running=: the data of /grafana/query as plain JSON
 * columns, for the Grafana Infinity and JSON API plugins and for curl
 * (the README documents the format; http_query.c writes it).
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "proto/grafana_req.h"
#include "server/http/http_int.h"

/*
 * from=all: from the oldest data retained (to the second), or the
 * default range before `to` when there is none (or it is not older).
 */
static void
from_oldest(struct http_call *c, struct gf_query *q)
{
	struct colstore *cs = http_colstore(c->hs);
	int64_t t = cs != NULL ? colstore_oldest_ms(cs) : INT64_MAX;

	if (t != INT64_MAX && t >= 0 && t < q->to_ms)
		q->from_ms = t - t % 1000;
	else
		q->from_ms = q->to_ms >= GF_DEFAULT_RANGE
		                 ? q->to_ms - GF_DEFAULT_RANGE
		                 : 0;
}

int
http_series(struct http_call *c)
{
	struct gf_query q;
	struct gf_err e;
	const char *qs = c->query != NULL ? c->query : "";
	int rc;

	stats.http_queries_total++;
	if ((rc = gf_decode_series(
	         qs, strlen(qs), c->now_ms, &q, c->arena, &e)) != 0)
		return http_decode_error(c, rc, &e);
	if (q.from_all)
		from_oldest(c, &q);
	return http_query_series(c, &q);
}
