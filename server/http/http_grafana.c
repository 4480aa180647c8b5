/*
 * http_grafana.c: (5) the simpod-json-datasource contract under /grafana
 * (notes: Grafana's JSON datasource; the plugin's OpenAPI spec):
 *
 *	GET  /grafana, /grafana/          200: "Save & test"
 *	POST /grafana/metrics (/search)   MetricConfig objects: value,
 *	                                  label, payloads (symbols: a
 *	                                  multi-select; running: a select)
 *	POST /grafana/metric-payload-options  the options of a payload
 *	POST /grafana/query               the data (http_query.c)
 *	POST /grafana/variable            symbols as __text/__value and
 *	                                  text/value items
 *	POST /grafana/tag-keys            [{"type":"string","text":"symbol"}]
 *	POST /grafana/tag-values          symbols as [{"text": ...}]
 *
 * Every answer is a top-level JSON array (the plugin maps it), but the
 * root's status object.
 */
#include <config.h>

#include <regex.h>
#include <string.h>

#include "base/err.h"
#include "proto/grafana_req.h"
#include "proto/jsonw.h"
#include "server/http/http_int.h"
#include "storage/colstore.h"

int
http_grafana_root(struct http_call *c)
{
	int i;

	JSONW_LIT(c->w, "{\"status\":\"ok\",\"name\":\"finnstream\","
	                "\"version\":\"" PACKAGE_VERSION "\",\"metrics\":[");
	for (i = 1; i <= GF_NMETRICS; i++) {
		if (i > 1)
			JSONW_LIT(c->w, ",");
		jsonw_cstr(c->w, gf_metrics[i].name);
	}
	JSONW_LIT(c->w, "]}\n");
	return 200;
}

/* The metrics whose payload may ask for running values. */
static int
has_running(int m)
{
	return m == GF_AVG_PRICE_VOLUME || m == GF_VWAP || m == GF_VOLUME ||
	       m == GF_TRADES;
}

int
http_grafana_metrics(struct http_call *c)
{
	struct gf_err e;
	int rc, i;

	if ((rc = gf_decode_metrics(c->body, c->body_len, &e)) != 0)
		return http_decode_error(c, rc, &e);
	JSONW_LIT(c->w, "[");
	for (i = 1; i <= GF_NMETRICS; i++) {
		if (i > 1)
			JSONW_LIT(c->w, ",");
		JSONW_LIT(c->w, "{\"value\":");
		jsonw_cstr(c->w, gf_metrics[i].name);
		JSONW_LIT(c->w, ",\"label\":");
		jsonw_cstr(c->w, gf_metrics[i].label);
		JSONW_LIT(c->w,
		    ",\"payloads\":[{\"name\":\"symbols\",\"label\":"
		    "\"Symbols\",\"type\":\"multi-select\",\"placeholder\":"
		    "\"every symbol\",\"width\":40}");
		if (has_running(i))
			JSONW_LIT(c->w,
			    ",{\"name\":\"running\",\"label\":\"Window\","
			    "\"type\":\"select\",\"width\":30,\"options\":["
			    "{\"label\":\"per bucket\",\"value\":\"false\"},"
			    "{\"label\":\"running since the oldest retained "
			    "data\",\"value\":\"true\"}]}");
		JSONW_LIT(c->w, "]}");
	}
	JSONW_LIT(c->w, "]\n");
	return 200;
}

/* Every known symbol, sorted, as items in one of three shapes. */
enum item_shape {
	ITEM_OPTION,   /* {"label": s, "value": s} */
	ITEM_VARIABLE, /* {"__text", "__value", "text", "value"} */
	ITEM_TAG       /* {"text": s} */
};

static int
symbol_items(struct http_call *c, enum item_shape shape, const char *pattern)
{
	struct colstore *cs = http_colstore(c->hs);
	const char **syms = NULL;
	regex_t rx;
	size_t n = 0, i;
	int first = 1, have_rx = 0, rc;

	if (pattern != NULL) {
		size_t plen = strlen(pattern);
		char *pat = arena_alloc(c->arena, plen + 5);

		if (pat == NULL)
			return http_error(
			    c, 400, "too_large", "query too long");
		memcpy(pat, "^(", 2);
		memcpy(pat + 2, pattern, plen);
		memcpy(pat + 2 + plen, ")$", 3);
		if ((rc = regcomp(&rx, pat, REG_EXTENDED | REG_NOSUB)) != 0) {
			char msg[128];

			regerror(rc, &rx, msg, sizeof(msg));
			return http_error(c, 400, "bad_request",
			    "the variable's query \"%.64s\" is not a regular "
			    "expression: %s",
			    pattern, msg);
		}
		have_rx = 1;
	}
	if (cs != NULL)
		n = colstore_symbols(cs, &syms);
	JSONW_LIT(c->w, "[");
	for (i = 0; i < n; i++) {
		if (have_rx && regexec(&rx, syms[i], 0, NULL, 0) != 0)
			continue;
		if (!first)
			JSONW_LIT(c->w, ",");
		first = 0;
		switch (shape) {
		case ITEM_OPTION:
			JSONW_LIT(c->w, "{\"label\":");
			jsonw_cstr(c->w, syms[i]);
			JSONW_LIT(c->w, ",\"value\":");
			jsonw_cstr(c->w, syms[i]);
			break;
		case ITEM_VARIABLE:
			JSONW_LIT(c->w, "{\"__text\":");
			jsonw_cstr(c->w, syms[i]);
			JSONW_LIT(c->w, ",\"__value\":");
			jsonw_cstr(c->w, syms[i]);
			JSONW_LIT(c->w, ",\"text\":");
			jsonw_cstr(c->w, syms[i]);
			JSONW_LIT(c->w, ",\"value\":");
			jsonw_cstr(c->w, syms[i]);
			break;
		case ITEM_TAG:
			JSONW_LIT(c->w, "{\"text\":");
			jsonw_cstr(c->w, syms[i]);
			break;
		}
		JSONW_LIT(c->w, "}");
	}
	JSONW_LIT(c->w, "]\n");
	if (have_rx)
		regfree(&rx);
	return 200;
}

int
http_grafana_payload_options(struct http_call *c)
{
	struct gf_payload_options po;
	struct gf_err e;
	int rc;

	if ((rc = gf_decode_payload_options(
	         c->body, c->body_len, &po, c->arena, &e)) != 0)
		return http_decode_error(c, rc, &e);
	if (po.metric != 0 &&
	    (strcmp(po.name, "symbols") == 0 || strcmp(po.name, "symbol") == 0))
		return symbol_items(c, ITEM_OPTION, NULL);
	if (po.metric != 0 && has_running(po.metric) &&
	    strcmp(po.name, "running") == 0) {
		JSONW_LIT(c->w,
		    "[{\"label\":\"per bucket\",\"value\":"
		    "\"false\"},{\"label\":\"running since the "
		    "oldest retained data\",\"value\":\"true\"}]\n");
		return 200;
	}
	JSONW_LIT(c->w, "[]\n");
	return 200;
}

int
http_grafana_query(struct http_call *c)
{
	struct gf_query q;
	struct gf_err e;
	int rc;

	stats.http_queries_total++;
	if ((rc = gf_decode_query(
	         c->body, c->body_len, c->now_ms, &q, c->arena, &e)) != 0)
		return http_decode_error(c, rc, &e);
	return http_query_grafana(c, &q);
}

int
http_grafana_variable(struct http_call *c)
{
	struct gf_variable v;
	struct gf_err e;
	const char *t;
	int rc, i;

	if ((rc = gf_decode_variable(c->body, c->body_len, &v, c->arena, &e)) !=
	    0)
		return http_decode_error(c, rc, &e);
	t = v.target;
	if (t != NULL && strcmp(t, "metrics") == 0) {
		JSONW_LIT(c->w, "[");
		for (i = 1; i <= GF_NMETRICS; i++) {
			if (i > 1)
				JSONW_LIT(c->w, ",");
			JSONW_LIT(c->w, "{\"__text\":");
			jsonw_cstr(c->w, gf_metrics[i].name);
			JSONW_LIT(c->w, ",\"__value\":");
			jsonw_cstr(c->w, gf_metrics[i].name);
			JSONW_LIT(c->w, ",\"text\":");
			jsonw_cstr(c->w, gf_metrics[i].name);
			JSONW_LIT(c->w, ",\"value\":");
			jsonw_cstr(c->w, gf_metrics[i].name);
			JSONW_LIT(c->w, "}");
		}
		JSONW_LIT(c->w, "]\n");
		return 200;
	}
	/* Anything else is a pattern over the symbols; the usual queries
	 * (empty, "symbols", "*") list them all. */
	if (t == NULL || t[0] == '\0' || strcmp(t, "symbols") == 0 ||
	    strcmp(t, "symbol") == 0 || strcmp(t, "*") == 0)
		t = NULL;
	return symbol_items(c, ITEM_VARIABLE, t);
}

int
http_grafana_tag_keys(struct http_call *c)
{
	struct gf_err e;
	int rc;

	if ((rc = gf_decode_metrics(c->body, c->body_len, &e)) != 0)
		return http_decode_error(c, rc, &e);
	JSONW_LIT(c->w, "[{\"type\":\"string\",\"text\":\"symbol\"}]\n");
	return 200;
}

int
http_grafana_tag_values(struct http_call *c)
{
	const char *key;
	struct gf_err e;
	int rc;

	if ((rc = gf_decode_tag_values(
	         c->body, c->body_len, &key, c->arena, &e)) != 0)
		return http_decode_error(c, rc, &e);
	if (strcmp(key, "symbol") != 0) {
		JSONW_LIT(c->w, "[]\n");
		return 200;
	}
	return symbol_items(c, ITEM_TAG, NULL);
}
