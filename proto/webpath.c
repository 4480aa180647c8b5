/*
 * webpath.c: (5) static file names, types and ETags (webpath.h).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "proto/webpath.h"

static int
name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int
webpath_name(const char *path, size_t n, const char *prefix, const char **name,
    size_t *len)
{
	size_t pn = strlen(prefix), i;

	if (n <= pn || memcmp(path, prefix, pn) != 0)
		return ERR_NOTFOUND;
	path += pn;
	n -= pn;
	if (n > WEBPATH_MAX_NAME || path[0] == '.')
		return ERR_NOTFOUND;
	for (i = 0; i < n; i++)
		if (!name_byte((unsigned char)path[i]))
			return ERR_NOTFOUND;
	*name = path;
	*len = n;
	return 0;
}

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *
webpath_type(const char *name, size_t len)
{
	size_t i, en;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		en = strlen(types[i].ext);
		if (len > en && memcmp(name + len - en, types[i].ext, en) == 0)
			return types[i].type;
	}
	return NULL;
}

void
webpath_etag(uint64_t size, uint64_t mtime_ns, char buf[WEBPATH_ETAG_SIZE])
{
	snprintf(buf, WEBPATH_ETAG_SIZE, "W/\"%" PRIx64 "-%" PRIx64 "\"", size,
	    mtime_ns);
}

/* The opaque part of an entity tag: its quoted string, W/ dropped. */
static size_t
opaque(const char *s, size_t n, const char **o)
{
	size_t i;

	if (n >= 2 && s[0] == 'W' && s[1] == '/')
		s += 2, n -= 2;
	if (n < 2 || s[0] != '"')
		return 0;
	for (i = 1; i < n && s[i] != '"'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] == 0x7f)
			return 0;
	if (i != n - 1)
		return 0;
	*o = s;
	return n;
}

int
webpath_etag_match(const char *v, size_t n, const char *etag)
{
	const char *want, *got;
	size_t wn = opaque(etag, strlen(etag), &want), i = 0, j, k, gn;
	int match = 0;

	if (wn == 0)
		return 0;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (n > i && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n - i == 1 && v[i] == '*')
		return 1;
	for (;;) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i == n)
			return match;
		/* one tag: up to the closing quote */
		j = i;
		if (n - j >= 2 && v[j] == 'W' && v[j + 1] == '/')
			j += 2;
		if (j >= n || v[j] != '"')
			return 0;
		for (k = j + 1; k < n && v[k] != '"'; k++)
			;
		if (k == n)
			return 0;
		gn = opaque(v + i, k + 1 - i, &got);
		if (gn == 0)
			return 0;
		if (gn == wn && memcmp(got, want, wn) == 0)
			match = 1;
		i = k + 1;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i < n && v[i] != ',')
			return 0;
	}
}
