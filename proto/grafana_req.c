/*
 * grafana_req.c: the HTTP stage's request decoders (see grafana_req.h).
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "proto/grafana_req.h"

const struct gf_metric_info gf_metrics[GF_NMETRICS + 1] = {
    {NULL, NULL, 0},
    {"price", "Price (each bucket's last trade)", 0},
    {"volume", "Volume (sum of the bucket's trades)", 0},
    {"avg_price_volume", "Average price*volume (per bucket)", 0},
    {"vwap", "VWAP (sum price*volume / sum volume)", 0},
    {"trades", "Trades (count per bucket)", 0},
    {"ohlc", "OHLC table (open, high, low, close, volume, VWAP)", 1},
    {"trades_table", "Trades table (newest first)", 1},
};

int
gf_metric_find(const char *s, size_t n)
{
	int i;

	for (i = 1; i <= GF_NMETRICS; i++)
		if (strlen(gf_metrics[i].name) == n &&
		    memcmp(gf_metrics[i].name, s, n) == 0)
			return i;
	return 0;
}

static int __attribute__((format(printf, 3, 4)))
fail(struct gf_err *e, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return rc;
}

static char *
adup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The JSON document p[0..n): NULL with *rc and *e when it does not
 * parse, or when anything but whitespace follows it.
 */
static cJSON *
parse_json(const uint8_t *p, size_t n, int *rc, struct gf_err *e)
{
	const char *end = NULL;
	cJSON *root;

	root = cJSON_ParseWithLengthOpts((const char *)p, n, &end, 0);
	if (root == NULL) {
		size_t off = end != NULL && end >= (const char *)p
		                 ? (size_t)(end - (const char *)p)
		                 : 0;

		*rc = fail(e, ERR_MALFORMED,
		    "the body is not valid JSON (near byte %zu)", off);
		return NULL;
	}
	while (end < (const char *)p + n && is_space((unsigned char)*end))
		end++;
	if (end != (const char *)p + n) {
		*rc = fail(e, ERR_MALFORMED,
		    "the body is not valid JSON (text after the value at "
		    "byte %zu)",
		    (size_t)(end - (const char *)p));
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ------------------------------------------------------------------ */
/* Times */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dm[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/* k decimal digits at *p (advanced) into *v; 0 or -1. */
static int
digits(const char **p, const char *end, int k, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < k; i++, (*p)++) {
		if (*p >= end || **p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

static int
parse_iso(const char *s, size_t n, int64_t *out)
{
	const char *p = s, *end = s + n;
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, oh = 0, om = 0, k;
	int64_t t, off = 0;

	if (digits(&p, end, 4, &y) != 0 || p >= end || *p++ != '-' ||
	    digits(&p, end, 2, &mo) != 0 || p >= end || *p++ != '-' ||
	    digits(&p, end, 2, &d) != 0)
		return ERR_MALFORMED;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return ERR_RANGE;
	if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
		p++;
		if (digits(&p, end, 2, &h) != 0 || p >= end || *p++ != ':' ||
		    digits(&p, end, 2, &mi) != 0)
			return ERR_MALFORMED;
		if (p < end && *p == ':') {
			p++;
			if (digits(&p, end, 2, &sec) != 0)
				return ERR_MALFORMED;
			if (p < end && (*p == '.' || *p == ',')) {
				p++;
				if (p >= end || *p < '0' || *p > '9')
					return ERR_MALFORMED;
				for (k = 0; p < end && *p >= '0' && *p <= '9';
				     p++, k++)
					if (k < 3)
						ms = ms * 10 + (*p - '0');
				for (; k < 3; k++)
					ms *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return ERR_RANGE;
		if (p < end && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < end && (*p == '+' || *p == '-')) {
			int sign = *p++ == '-' ? -1 : 1;

			if (digits(&p, end, 2, &oh) != 0)
				return ERR_MALFORMED;
			if (p < end && *p == ':')
				p++;
			if (p < end && digits(&p, end, 2, &om) != 0)
				return ERR_MALFORMED;
			if (oh > 23 || om > 59)
				return ERR_RANGE;
			off = sign * ((int64_t)oh * 60 + om) * 60000;
		}
	}
	if (p != end)
		return ERR_MALFORMED;
	t = days_from_civil(y, mo, d) * 86400000 +
	    ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + ms - off;
	*out = t;
	return 0;
}

int
gf_parse_time(const char *s, size_t n, int64_t now_ms, int64_t *out)
{
	int64_t t = 0;
	size_t i;
	int rc;

	while (n > 0 && is_space((unsigned char)*s))
		s++, n--;
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return ERR_MALFORMED;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == n && n <= 16) { /* epoch milliseconds */
		for (i = 0; i < n; i++)
			t = t * 10 + (s[i] - '0');
	} else if (n >= 3 && memcmp(s, "now", 3) == 0) {
		int64_t k = 0, unit;
		int sign;

		t = now_ms;
		if (n > 3) {
			if (s[3] != '-' && s[3] != '+')
				return ERR_MALFORMED;
			sign = s[3] == '-' ? -1 : 1;
			for (i = 4; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
				if (i >= 16)
					return ERR_RANGE;
				k = k * 10 + (s[i] - '0');
			}
			if (i == 4)
				return ERR_MALFORMED;
			if (n - i == 2 && memcmp(s + i, "ms", 2) == 0)
				unit = 1;
			else if (n - i != 1)
				return ERR_MALFORMED;
			else if (s[i] == 's')
				unit = 1000;
			else if (s[i] == 'm')
				unit = 60000;
			else if (s[i] == 'h')
				unit = 3600000;
			else if (s[i] == 'd')
				unit = 86400000;
			else if (s[i] == 'w')
				unit = 7 * 86400000LL;
			else
				return ERR_MALFORMED;
			if (k > GF_MAX_T / unit)
				return ERR_RANGE;
			t += sign * k * unit;
		}
	} else if ((rc = parse_iso(s, n, &t)) != 0) {
		return rc;
	}
	if (t < 0 || t > GF_MAX_T)
		return ERR_RANGE;
	*out = t;
	return 0;
}

/* A time given as a JSON string or number. */
static int
json_time(const cJSON *j, const char *what, int64_t now_ms, int64_t *out,
    struct gf_err *e)
{
	int rc;

	if (cJSON_IsNumber(j)) {
		double v = j->valuedouble;

		if (!(v >= 0 && v <= (double)GF_MAX_T))
			return fail(e, ERR_RANGE,
			    "%s: %.0f is outside 0..%lld ms", what, v,
			    (long long)GF_MAX_T);
		*out = (int64_t)v;
		return 0;
	}
	if (!cJSON_IsString(j))
		return fail(e, ERR_MALFORMED,
		    "%s: expected a time (ISO 8601 text or epoch ms)", what);
	rc = gf_parse_time(j->valuestring, strlen(j->valuestring), now_ms, out);
	if (rc == ERR_RANGE)
		return fail(e, rc, "%s: \"%.40s\" is out of range", what,
		    j->valuestring);
	if (rc != 0)
		return fail(e, rc,
		    "%s: \"%.40s\" is not a time (ISO 8601, epoch ms, or "
		    "now-5m)",
		    what, j->valuestring);
	return 0;
}

static int
check_range(int64_t from, int64_t to, struct gf_err *e)
{
	if (from >= to)
		return fail(e, ERR_RANGE,
		    "the time range is empty or inverted: from %lld is not "
		    "before to %lld",
		    (long long)from, (long long)to);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Symbols */

static int
all_token(const char *s, size_t n)
{
	static const char *const all[] = {
	    "$__all", "__all", "All", "all", "*", ".*", "ALL"};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strlen(all[i]) == n && memcmp(all[i], s, n) == 0)
			return 1;
	return 0;
}

/* One symbol (already unquoted and unescaped). */
static int
sym_add(struct gf_symbols *out, const char *s, size_t n, struct arena *a,
    struct gf_err *e)
{
	const char **v;
	size_t i;

	if (n == 0)
		return 0;
	if (all_token(s, n)) {
		out->all = 1;
		return 0;
	}
	if (n > GF_MAX_SYMBOL) /* s is a slice: print a bounded part */
		return fail(e, ERR_RANGE,
		    "symbol \"%.*s...\" is longer than %d bytes", 20, s,
		    GF_MAX_SYMBOL);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(
			    e, ERR_RANGE, "a symbol holds a control character");
	for (i = 0; i < out->n; i++)
		if (strlen(out->v[i]) == n && memcmp(out->v[i], s, n) == 0)
			return 0;
	if (out->n >= GF_MAX_SYMBOLS)
		return fail(e, ERR_TOO_BIG, "more than %d symbols in one list",
		    GF_MAX_SYMBOLS);
	if (out->n == out->cap) { /* the old array goes with the arena */
		size_t cap = out->cap ? out->cap * 2 : 8;

		if ((v = arena_alloc(a, cap * sizeof(*v))) == NULL)
			return fail(e, ERR_TOO_BIG, "the request is too large");
		if (out->n > 0)
			memcpy(v, out->v, out->n * sizeof(*v));
		out->v = v;
		out->cap = cap;
	}
	if ((out->v[out->n] = adup(a, s, n)) == NULL)
		return fail(e, ERR_TOO_BIG, "the request is too large");
	out->n++;
	return 0;
}

/* One token: trimmed, quotes stripped, backslash escapes undone. */
static int
token_add(struct gf_symbols *out, const char *s, size_t n, struct arena *a,
    struct gf_err *e)
{
	char buf[GF_MAX_SYMBOL * 2 + 2];
	size_t i, k = 0;

	while (n > 0 && is_space((unsigned char)*s))
		s++, n--;
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0])
		s++, n -= 2;
	if (n > sizeof(buf))
		return fail(e, ERR_RANGE,
		    "symbol \"%.*s...\" is longer than %d bytes", 20, s,
		    GF_MAX_SYMBOL);
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		buf[k++] = s[i];
	}
	return sym_add(out, buf, k, a, e);
}

/* Split s on unescaped separators (any byte of seps). */
static int
split_add(struct gf_symbols *out, const char *s, size_t n, const char *seps,
    struct arena *a, struct gf_err *e)
{
	size_t i, start = 0;
	int rc;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] == '\\') {
			i++;
			continue;
		}
		if (i == n || strchr(seps, s[i]) != NULL) {
			if ((rc = token_add(out, s + start, i - start, a, e)) !=
			    0)
				return rc;
			start = i + 1;
		}
	}
	return 0;
}

/* Lucene's ("A" OR "B"): every double-quoted string. */
static int
quoted_add(struct gf_symbols *out, const char *s, size_t n, struct arena *a,
    struct gf_err *e)
{
	size_t i = 0, start;
	int rc;

	while (i < n) {
		if (s[i] != '"') {
			i++;
			continue;
		}
		start = ++i;
		while (i < n && s[i] != '"')
			i += s[i] == '\\' ? 2 : 1;
		if (i > n)
			i = n;
		if ((rc = token_add(out, s + start, i - start, a, e)) != 0)
			return rc;
		i++;
	}
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into the arena ('+' is a space when plus). */
static char *
pct_decode(const char *s, size_t n, int plus, size_t *outn, struct arena *a)
{
	char *o = arena_alloc(a, n + 1);
	size_t i, k = 0;

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			o[k++] = (char)(hexval((unsigned char)s[i + 1]) * 16 +
			                hexval((unsigned char)s[i + 2]));
			i += 2;
		} else if (plus && s[i] == '+') {
			o[k++] = ' ';
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = '\0';
	*outn = k;
	return o;
}

static int
has_pct(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i++)
		if (s[i] == '%' && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0)
			return 1;
	return 0;
}

static const char *
find_str(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0)
			return s + i;
	return NULL;
}

static int parse_symbols(const char *s, size_t n, struct gf_symbols *out,
    struct arena *a, struct gf_err *e, int depth);

/* A JSON array of strings given as text. */
static int
json_array_add(const char *s, size_t n, struct gf_symbols *out, struct arena *a,
    struct gf_err *e, int depth)
{
	const cJSON *it;
	cJSON *root;
	int rc = 0;

	root = cJSON_ParseWithLength(s, n);
	if (root == NULL || !cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return fail(e, ERR_MALFORMED,
		    "symbols: \"%.*s\" is not a JSON array",
		    (int)(n < 40 ? n : 40), s);
	}
	if (cJSON_GetArraySize(root) == 0)
		out->all = 1;
	cJSON_ArrayForEach(it, root)
	{
		if (!cJSON_IsString(it)) {
			rc = fail(e, ERR_MALFORMED,
			    "symbols: expected an array of strings");
			break;
		}
		rc = parse_symbols(it->valuestring, strlen(it->valuestring),
		    out, a, e, depth + 1);
		if (rc != 0)
			break;
	}
	cJSON_Delete(root);
	return rc;
}

static int
parse_symbols(const char *s, size_t n, struct gf_symbols *out, struct arena *a,
    struct gf_err *e, int depth)
{
	while (n > 0 && is_space((unsigned char)*s))
		s++, n--;
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return 0; /* nothing: every symbol, unless others follow */
	if (all_token(s, n)) {
		out->all = 1;
		return 0;
	}
	if (depth < 2 && has_pct(s, n)) {
		size_t dn;
		char *d = pct_decode(s, n, 0, &dn, a);

		if (d == NULL)
			return fail(e, ERR_TOO_BIG, "the request is too large");
		return parse_symbols(d, dn, out, a, e, depth + 1);
	}
	if (s[0] == '[' && depth < 2)
		return json_array_add(s, n, out, a, e, depth);
	if (n >= 2 && s[0] == '(' && s[n - 1] == ')') {
		if (memchr(s, '"', n) != NULL)
			return quoted_add(out, s + 1, n - 2, a, e);
		return split_add(out, s + 1, n - 2, "|", a, e);
	}
	if (n >= 2 && s[0] == '{' && s[n - 1] == '}')
		return split_add(out, s + 1, n - 2, ",", a, e);
	if (find_str(s, n, " + ") != NULL) { /* Grafana's "text" format */
		const char *p = s, *q;
		int rc;

		while ((q = find_str(p, (size_t)(s + n - p), " + ")) != NULL) {
			if ((rc = token_add(out, p, (size_t)(q - p), a, e)) !=
			    0)
				return rc;
			p = q + 3;
		}
		return token_add(out, p, (size_t)(s + n - p), a, e);
	}
	return split_add(out, s, n, "|,", a, e);
}

int
gf_parse_symbols(const char *s, size_t n, struct gf_symbols *out,
    struct arena *a, struct gf_err *e)
{
	int rc = parse_symbols(s, n, out, a, e, 0);

	if (rc == 0 && out->n == 0)
		out->all = 1;
	return rc;
}

/* A payload's symbols value: string, array of strings, null. */
static int
json_symbols(const cJSON *j, const char *what, struct gf_symbols *out,
    struct arena *a, struct gf_err *e)
{
	const cJSON *it;
	int rc;

	memset(out, 0, sizeof(*out));
	if (j == NULL || cJSON_IsNull(j)) {
		out->all = 1;
		return 0;
	}
	if (cJSON_IsString(j))
		rc = parse_symbols(
		    j->valuestring, strlen(j->valuestring), out, a, e, 0);
	else if (cJSON_IsArray(j)) {
		rc = 0;
		cJSON_ArrayForEach(it, j)
		{
			if (!cJSON_IsString(it)) {
				rc = fail(e, ERR_MALFORMED,
				    "%s: expected a string or an array of "
				    "strings",
				    what);
				break;
			}
			rc = parse_symbols(it->valuestring,
			    strlen(it->valuestring), out, a, e, 0);
			if (rc != 0)
				break;
		}
	} else {
		rc = fail(e, ERR_MALFORMED,
		    "%s: expected a string or an array of strings", what);
	}
	if (rc == 0 && out->n == 0)
		out->all = 1;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Bodies */

static int
json_bool(const cJSON *j, const char *what, int *out, struct gf_err *e)
{
	if (j == NULL || cJSON_IsNull(j)) {
		*out = 0;
		return 0;
	}
	if (cJSON_IsBool(j)) {
		*out = cJSON_IsTrue(j);
		return 0;
	}
	if (cJSON_IsString(j) && (strcmp(j->valuestring, "true") == 0 ||
	                             strcmp(j->valuestring, "false") == 0 ||
	                             j->valuestring[0] == '\0')) {
		*out = strcmp(j->valuestring, "true") == 0;
		return 0;
	}
	return fail(e, ERR_MALFORMED, "%s: expected true or false", what);
}

/* A target's payload: an object, or JSON text of one, or nothing. */
static int
target_payload(const cJSON *pl, size_t i, struct gf_target *t, struct arena *a,
    struct gf_err *e)
{
	cJSON *parsed = NULL;
	const cJSON *sy;
	char what[64];
	int rc = 0;

	if (cJSON_IsString(pl)) {
		const char *s = pl->valuestring;

		while (is_space((unsigned char)*s))
			s++;
		if (*s == '\0') {
			pl = NULL;
		} else {
			parsed = cJSON_Parse(s);
			if (parsed == NULL)
				return fail(e, ERR_MALFORMED,
				    "targets[%zu].payload: not a JSON object",
				    i);
			pl = parsed;
		}
	}
	if (pl != NULL && !cJSON_IsNull(pl) && !cJSON_IsObject(pl)) {
		rc = fail(e, ERR_MALFORMED,
		    "targets[%zu].payload: expected an object", i);
		goto out;
	}
	if (pl == NULL || cJSON_IsNull(pl)) {
		memset(&t->symbols, 0, sizeof(t->symbols));
		t->symbols.all = 1;
		goto out;
	}
	sy = cJSON_GetObjectItemCaseSensitive(pl, "symbols");
	if (sy == NULL)
		sy = cJSON_GetObjectItemCaseSensitive(pl, "symbol");
	snprintf(what, sizeof(what), "targets[%zu].payload.symbols", i);
	if ((rc = json_symbols(sy, what, &t->symbols, a, e)) != 0)
		goto out;
	snprintf(what, sizeof(what), "targets[%zu].payload.running", i);
	rc = json_bool(cJSON_GetObjectItemCaseSensitive(pl, "running"), what,
	    &t->running, e);
out:
	cJSON_Delete(parsed);
	return rc;
}

static int
decode_target(const cJSON *j, size_t i, struct gf_target *t, int *keep,
    struct arena *a, struct gf_err *e)
{
	const cJSON *tg, *ref, *hide;
	int hidden = 0, rc;
	char letter[8];

	*keep = 0;
	memset(t, 0, sizeof(*t));
	if (!cJSON_IsObject(j))
		return fail(
		    e, ERR_MALFORMED, "targets[%zu]: expected an object", i);
	tg = cJSON_GetObjectItemCaseSensitive(j, "target");
	if (tg == NULL || cJSON_IsNull(tg))
		return 0; /* a placeholder: Grafana's plugin drops it too */
	if (!cJSON_IsString(tg))
		return fail(e, ERR_MALFORMED,
		    "targets[%zu].target: expected a metric name", i);
	hide = cJSON_GetObjectItemCaseSensitive(j, "hide");
	if (hide != NULL && (rc = json_bool(hide, "hide", &hidden, e)) != 0)
		return rc;
	if (hidden || tg->valuestring[0] == '\0')
		return 0;
	t->metric = gf_metric_find(tg->valuestring, strlen(tg->valuestring));
	if (t->metric == 0)
		return fail(e, ERR_NOTFOUND,
		    "targets[%zu].target: unknown metric \"%.64s\" (served: "
		    "price, volume, avg_price_volume, vwap, trades, ohlc, "
		    "trades_table)",
		    i, tg->valuestring);
	ref = cJSON_GetObjectItemCaseSensitive(j, "refId");
	if (ref != NULL && !cJSON_IsNull(ref) && !cJSON_IsString(ref))
		return fail(e, ERR_MALFORMED,
		    "targets[%zu].refId: expected a string", i);
	if (cJSON_IsString(ref)) {
		t->ref_id = adup(a, ref->valuestring, strlen(ref->valuestring));
	} else { /* Grafana's own naming: A, B, ..., Z, AA, ... */
		size_t k = i, n = 0;
		char tmp[8];

		do {
			tmp[n++] = (char)('A' + k % 26);
			k = k / 26;
		} while (k-- > 0 && n < sizeof(tmp));
		for (k = 0; k < n; k++)
			letter[k] = tmp[n - 1 - k];
		t->ref_id = adup(a, letter, n);
	}
	if (t->ref_id == NULL)
		return fail(e, ERR_TOO_BIG, "the request is too large");
	if ((rc = target_payload(cJSON_GetObjectItemCaseSensitive(j, "payload"),
	         i, t, a, e)) != 0)
		return rc;
	*keep = 1;
	return 0;
}

static int
decode_filters(const cJSON *arr, const char *name, struct gf_query *q,
    struct arena *a, struct gf_err *e)
{
	static const struct {
		const char *s;
		int op;
	} ops[] = {{"=", GF_OP_EQ}, {"!=", GF_OP_NE}, {"=~", GF_OP_RE},
	    {"!~", GF_OP_NRE}, {"=|", GF_OP_IN}, {"!=|", GF_OP_NIN}};
	const cJSON *f;
	size_t i = 0, k, cnt;

	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return fail(e, ERR_MALFORMED, "%s: expected an array", name);
	cnt = (size_t)cJSON_GetArraySize(arr);
	if (q->nfilters + cnt > GF_MAX_FILTERS)
		return fail(e, ERR_TOO_BIG, "%s: more than %d filters", name,
		    GF_MAX_FILTERS);
	if (q->filters == NULL) {
		q->filters =
		    arena_calloc(a, GF_MAX_FILTERS, sizeof(*q->filters));
		if (q->filters == NULL)
			return fail(e, ERR_TOO_BIG, "the request is too large");
	}
	cJSON_ArrayForEach(f, arr)
	{
		const cJSON *key, *op, *val, *vals, *it;
		struct gf_filter *gf = &q->filters[q->nfilters];

		key = cJSON_GetObjectItemCaseSensitive(f, "key");
		op = cJSON_GetObjectItemCaseSensitive(f, "operator");
		val = cJSON_GetObjectItemCaseSensitive(f, "value");
		vals = cJSON_GetObjectItemCaseSensitive(f, "values");
		if (!cJSON_IsObject(f) || !cJSON_IsString(key) ||
		    !cJSON_IsString(op))
			return fail(e, ERR_MALFORMED,
			    "%s[%zu]: expected {key, operator, value}", name,
			    i);
		i++;
		/* Filters on other keys cannot narrow anything here (Grafana
		 * may pass on a dashboard's filters meant for others). */
		if (strcmp(key->valuestring, "symbol") != 0)
			continue;
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (strcmp(ops[k].s, op->valuestring) == 0)
				break;
		if (k == sizeof(ops) / sizeof(ops[0]))
			return fail(e, ERR_RANGE,
			    "%s[%zu]: operator \"%.8s\" is not served on "
			    "symbol (=, !=, =~, !~, =|, !=|)",
			    name, i - 1, op->valuestring);
		gf->key = "symbol";
		gf->op = ops[k].op;
		cnt =
		    cJSON_IsArray(vals) ? (size_t)cJSON_GetArraySize(vals) : 0;
		if (cnt > GF_MAX_SYMBOLS)
			return fail(e, ERR_TOO_BIG, "%s[%zu]: too many values",
			    name, i - 1);
		gf->values = arena_calloc(a, cnt + 1, sizeof(*gf->values));
		if (gf->values == NULL)
			return fail(e, ERR_TOO_BIG, "the request is too large");
		if (cnt > 0) {
			cJSON_ArrayForEach(it, vals)
			{
				if (!cJSON_IsString(it))
					return fail(e, ERR_MALFORMED,
					    "%s[%zu].values: expected strings",
					    name, i - 1);
				gf->values[gf->nvalues] = adup(a,
				    it->valuestring, strlen(it->valuestring));
				if (gf->values[gf->nvalues++] == NULL)
					return fail(e, ERR_TOO_BIG,
					    "the request is too large");
			}
		} else if (cJSON_IsString(val)) {
			gf->values[0] =
			    adup(a, val->valuestring, strlen(val->valuestring));
			if (gf->values[0] == NULL)
				return fail(
				    e, ERR_TOO_BIG, "the request is too large");
			gf->nvalues = 1;
		} else {
			return fail(e, ERR_MALFORMED,
			    "%s[%zu].value: expected a string", name, i - 1);
		}
		q->nfilters++;
	}
	return 0;
}

static int
decode_range(
    const cJSON *root, int64_t now_ms, struct gf_query *q, struct gf_err *e)
{
	const cJSON *range = cJSON_GetObjectItemCaseSensitive(root, "range");
	int rc;

	q->to_ms = now_ms;
	q->from_ms = now_ms > GF_DEFAULT_RANGE ? now_ms - GF_DEFAULT_RANGE : 0;
	if (range == NULL || cJSON_IsNull(range))
		return check_range(q->from_ms, q->to_ms, e);
	if (!cJSON_IsObject(range))
		return fail(e, ERR_MALFORMED, "range: expected an object");
	if ((rc = json_time(cJSON_GetObjectItemCaseSensitive(range, "from"),
	         "range.from", now_ms, &q->from_ms, e)) != 0 ||
	    (rc = json_time(cJSON_GetObjectItemCaseSensitive(range, "to"),
	         "range.to", now_ms, &q->to_ms, e)) != 0)
		return rc;
	return check_range(q->from_ms, q->to_ms, e);
}

static int
json_int(const cJSON *j, const char *what, int64_t min, int64_t max,
    int64_t *out, struct gf_err *e)
{
	double v;

	if (!cJSON_IsNumber(j))
		return fail(e, ERR_MALFORMED, "%s: expected a number", what);
	v = floor(j->valuedouble);
	if (!(v >= (double)min && v <= (double)max))
		return fail(e, ERR_RANGE, "%s: %.17g is outside %lld..%lld",
		    what, j->valuedouble, (long long)min, (long long)max);
	*out = (int64_t)v;
	return 0;
}

int
gf_decode_query(const uint8_t *p, size_t n, int64_t now_ms,
    struct gf_query *out, struct arena *a, struct gf_err *e)
{
	const cJSON *targets, *j, *it;
	cJSON *root;
	size_t cnt, i = 0;
	int rc = 0, keep;

	memset(out, 0, sizeof(*out));
	out->max_points = GF_DEFAULT_POINTS;
	if ((root = parse_json(p, n, &rc, e)) == NULL)
		return rc;
	if (!cJSON_IsObject(root)) {
		rc = fail(e, ERR_MALFORMED, "the body is not a JSON object");
		goto out;
	}
	if ((rc = decode_range(root, now_ms, out, e)) != 0)
		goto out;
	j = cJSON_GetObjectItemCaseSensitive(root, "intervalMs");
	if (j != NULL && !cJSON_IsNull(j) &&
	    (rc = json_int(j, "intervalMs", 0, GF_MAX_INTERVAL,
	         &out->interval_ms, e)) != 0)
		goto out;
	j = cJSON_GetObjectItemCaseSensitive(root, "maxDataPoints");
	if (j != NULL && !cJSON_IsNull(j) &&
	    (rc = json_int(j, "maxDataPoints", 1, GF_MAX_POINTS,
	         &out->max_points, e)) != 0)
		goto out;
	targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
	if (!cJSON_IsArray(targets)) {
		rc = fail(e, ERR_MALFORMED, "targets: expected an array");
		goto out;
	}
	cnt = (size_t)cJSON_GetArraySize(targets);
	if (cnt > GF_MAX_TARGETS) {
		rc = fail(
		    e, ERR_TOO_BIG, "more than %d targets", GF_MAX_TARGETS);
		goto out;
	}
	out->targets = arena_calloc(a, cnt ? cnt : 1, sizeof(*out->targets));
	if (out->targets == NULL) {
		rc = fail(e, ERR_TOO_BIG, "the request is too large");
		goto out;
	}
	cJSON_ArrayForEach(it, targets)
	{
		rc = decode_target(
		    it, i++, &out->targets[out->ntargets], &keep, a, e);
		if (rc != 0)
			goto out;
		out->ntargets += keep;
	}
	if ((rc = decode_filters(
	         cJSON_GetObjectItemCaseSensitive(root, "filters"), "filters",
	         out, a, e)) != 0)
		goto out;
	rc = decode_filters(
	    cJSON_GetObjectItemCaseSensitive(root, "adhocFilters"),
	    "adhocFilters", out, a, e);
out:
	cJSON_Delete(root);
	return rc;
}

/* An empty body (only whitespace) is {}. */
static int
blank(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_space(p[i]))
			return 0;
	return 1;
}

int
gf_decode_metrics(const uint8_t *p, size_t n, struct gf_err *e)
{
	cJSON *root;
	int rc = 0;

	if (blank(p, n))
		return 0;
	if ((root = parse_json(p, n, &rc, e)) == NULL)
		return rc;
	if (!cJSON_IsObject(root))
		rc = fail(e, ERR_MALFORMED, "the body is not a JSON object");
	cJSON_Delete(root);
	return rc;
}

int
gf_decode_payload_options(const uint8_t *p, size_t n,
    struct gf_payload_options *out, struct arena *a, struct gf_err *e)
{
	const cJSON *m, *name;
	cJSON *root;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((root = parse_json(p, n, &rc, e)) == NULL)
		return rc;
	m = cJSON_GetObjectItemCaseSensitive(root, "metric");
	name = cJSON_GetObjectItemCaseSensitive(root, "name");
	if (!cJSON_IsObject(root) || !cJSON_IsString(m) ||
	    !cJSON_IsString(name)) {
		rc = fail(e, ERR_MALFORMED,
		    "expected {\"metric\": string, \"payload\": object, "
		    "\"name\": string}");
		goto out;
	}
	out->metric = gf_metric_find(m->valuestring, strlen(m->valuestring));
	out->name = adup(a, name->valuestring, strlen(name->valuestring));
	if (out->name == NULL)
		rc = fail(e, ERR_TOO_BIG, "the request is too large");
out:
	cJSON_Delete(root);
	return rc;
}

int
gf_decode_variable(const uint8_t *p, size_t n, struct gf_variable *out,
    struct arena *a, struct gf_err *e)
{
	const cJSON *pl, *tg;
	cJSON *root;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (blank(p, n))
		return 0;
	if ((root = parse_json(p, n, &rc, e)) == NULL)
		return rc;
	if (!cJSON_IsObject(root)) {
		rc = fail(e, ERR_MALFORMED, "the body is not a JSON object");
		goto out;
	}
	pl = cJSON_GetObjectItemCaseSensitive(root, "payload");
	tg = cJSON_IsObject(pl) ? cJSON_GetObjectItemCaseSensitive(pl, "target")
	     : cJSON_IsString(pl) ? pl
	                          : NULL;
	if (cJSON_IsString(tg)) {
		out->target = adup(a, tg->valuestring, strlen(tg->valuestring));
		if (out->target == NULL)
			rc = fail(e, ERR_TOO_BIG, "the request is too large");
	}
out:
	cJSON_Delete(root);
	return rc;
}

int
gf_decode_tag_values(const uint8_t *p, size_t n, const char **key,
    struct arena *a, struct gf_err *e)
{
	const cJSON *k;
	cJSON *root;
	int rc = 0;

	*key = NULL;
	if ((root = parse_json(p, n, &rc, e)) == NULL)
		return rc;
	k = cJSON_GetObjectItemCaseSensitive(root, "key");
	if (!cJSON_IsObject(root) || !cJSON_IsString(k)) {
		rc = fail(e, ERR_MALFORMED, "expected {\"key\": string}");
		goto out;
	}
	if ((*key = adup(a, k->valuestring, strlen(k->valuestring))) == NULL)
		rc = fail(e, ERR_TOO_BIG, "the request is too large");
out:
	cJSON_Delete(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* GET /api/v1/series */

static int
key_is(const char *k, size_t kn, const char *s)
{
	return strlen(s) == kn && memcmp(k, s, kn) == 0;
}

/* An integer parameter. */
static int
param_int(const char *v, size_t n, const char *what, int64_t min, int64_t max,
    int64_t *out, struct gf_err *e)
{
	int64_t x = 0;
	size_t i;

	if (n == 0 || n > 16)
		return fail(e, n == 0 ? ERR_MALFORMED : ERR_RANGE,
		    "%s: expected an integer in %lld..%lld", what,
		    (long long)min, (long long)max);
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(e, ERR_MALFORMED,
			    "%s: expected an integer in %lld..%lld", what,
			    (long long)min, (long long)max);
		x = x * 10 + (v[i] - '0');
	}
	if (x < min || x > max)
		return fail(e, ERR_RANGE, "%s: %lld is outside %lld..%lld",
		    what, (long long)x, (long long)min, (long long)max);
	*out = x;
	return 0;
}

static int
param_time(const char *v, size_t n, const char *what, int64_t now_ms,
    int64_t *out, struct gf_err *e)
{
	int rc = gf_parse_time(v, n, now_ms, out);

	if (rc == ERR_RANGE)
		return fail(e, rc, "%s: \"%.40s\" is out of range", what, v);
	if (rc != 0)
		return fail(e, rc,
		    "%s: \"%.40s\" is not a time (epoch ms, ISO 8601, or "
		    "now-5m)",
		    what, v);
	return 0;
}

int
gf_decode_series(const char *q, size_t n, int64_t now_ms, struct gf_query *out,
    struct arena *a, struct gf_err *e)
{
	struct gf_target *t;
	const char *p = q, *end = q + n;
	int have_from = 0, have_to = 0, rc;

	memset(out, 0, sizeof(*out));
	out->max_points = GF_DEFAULT_POINTS;
	out->targets = t = arena_calloc(a, 1, sizeof(*t));
	if (t == NULL)
		return fail(e, ERR_TOO_BIG, "the request is too large");
	t->ref_id = "A";
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
		const char *kend = amp != NULL ? amp : end;
		char *k, *v;
		size_t kn, vn;

		eq = memchr(p, '=', (size_t)(kend - p));
		k = pct_decode(
		    p, (size_t)((eq != NULL ? eq : kend) - p), 1, &kn, a);
		v = eq != NULL
		        ? pct_decode(eq + 1, (size_t)(kend - eq - 1), 1, &vn, a)
		        : pct_decode("", 0, 1, &vn, a);
		if (k == NULL || v == NULL)
			return fail(e, ERR_TOO_BIG, "the request is too large");
		if (key_is(k, kn, "metric")) {
			if ((t->metric = gf_metric_find(v, vn)) == 0)
				return fail(e, ERR_NOTFOUND,
				    "metric: unknown metric \"%.64s\" (served: "
				    "price, volume, avg_price_volume, vwap, "
				    "trades, ohlc, trades_table)",
				    v);
		} else if (key_is(k, kn, "symbols") ||
		           key_is(k, kn, "symbol")) {
			if ((rc = parse_symbols(v, vn, &t->symbols, a, e, 0)) !=
			    0)
				return rc;
			if (vn == 0)
				t->symbols.all = 1;
		} else if (key_is(k, kn, "from")) {
			out->from_all = vn == 3 && memcmp(v, "all", 3) == 0;
			if (out->from_all)
				out->from_ms = 0;
			else if (vn > 0 && (rc = param_time(v, vn, "from",
			                        now_ms, &out->from_ms, e)) != 0)
				return rc;
			have_from = vn > 0;
		} else if (key_is(k, kn, "to")) {
			if (vn > 0 && (rc = param_time(v, vn, "to", now_ms,
			                   &out->to_ms, e)) != 0)
				return rc;
			have_to = vn > 0;
		} else if (key_is(k, kn, "points") ||
		           key_is(k, kn, "maxDataPoints")) {
			if ((rc = param_int(v, vn, "points", 1, GF_MAX_POINTS,
			         &out->max_points, e)) != 0)
				return rc;
		} else if (key_is(k, kn, "interval") ||
		           key_is(k, kn, "intervalMs")) {
			if ((rc = param_int(v, vn, "interval", 0,
			         GF_MAX_INTERVAL, &out->interval_ms, e)) != 0)
				return rc;
		} else if (key_is(k, kn, "format")) {
			if (vn == 4 && memcmp(v, "rows", 4) == 0)
				out->rows = 1;
			else if (!(vn == 7 && memcmp(v, "columns", 7) == 0))
				return fail(e, ERR_MALFORMED,
				    "format: expected columns or rows");
		} else if (key_is(k, kn, "running")) {
			if (vn == 4 && memcmp(v, "true", 4) == 0)
				t->running = 1;
			else if (vn == 1 && v[0] == '1')
				t->running = 1;
			else if (!(vn == 0 ||
			             (vn == 5 && !memcmp(v, "false", 5)) ||
			             (vn == 1 && v[0] == '0')))
				return fail(e, ERR_MALFORMED,
				    "running: expected true or false");
		}
		p = amp != NULL ? amp + 1 : end;
	}
	if (t->metric == 0)
		return fail(e, ERR_MALFORMED,
		    "metric is required (price, volume, avg_price_volume, "
		    "vwap, trades, ohlc, trades_table)");
	if (t->symbols.n == 0)
		t->symbols.all = 1;
	if (!have_to)
		out->to_ms = now_ms;
	if (!have_from)
		out->from_ms = out->to_ms >= GF_DEFAULT_RANGE
		                   ? out->to_ms - GF_DEFAULT_RANGE
		                   : 0;
	out->ntargets = 1;
	return check_range(out->from_ms, out->to_ms, e);
}
