/*
 * http_series.c: (5) GET /api/v1/series?metric=&symbols=&from=&to=
 * &points=&interval=&running=: the data of /grafana/query as plain JSON
 * columns, for the Grafana Infinity and JSON API plugins and for curl
 * (the README documents the format; http_query.c writes it).
 */
#include <config.h>

#include <string.h>

#include "proto/grafana_req.h"
#include "server/http/http_int.h"

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
	return http_query_series(c, &q);
}
