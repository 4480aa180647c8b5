/*
 * test_webpath.c: the static file names, types and ETags of the chart
 * page (proto/webpath.c): names accepted and refused (traversal, encoded
 * dots, dot files, long names, every byte), every prefix of a path,
 * types, and If-None-Match lists.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "proto/webpath.h"
#include "tests/lib/tap.h"

static int
name_of(const char *path, const char *prefix, char *out, size_t size)
{
	const char *name;
	size_t len;
	int rc = webpath_name(path, strlen(path), prefix, &name, &len);

	if (rc == 0)
		snprintf(out, size, "%.*s", (int)len, name);
	return rc;
}

static void
test_names(void)
{
	static const char *const good[] = {
	    "/ui/app.js", "/ui/style.css", "/ui/a-b_c.1.min.js", "/ui/x"};
	static const char *const bad[] = {"/ui/", "/ui", "/u", "", "/ui/..",
	    "/ui/../etc/passwd", "/ui/%2e%2e/x", "/ui/%2E%2E", "/ui/.hidden",
	    "/ui/a/b.js", "/ui/a%2fb", "/ui/a\\b", "/ui/a b", "/ui/a?b",
	    "/vendor/uplot/x.js", "/UI/app.js", "/ui//app.js", "//ui/app.js"};
	char buf[WEBPATH_MAX_NAME + 1], path[WEBPATH_MAX_NAME + 16];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		is_int(name_of(good[i], "/ui/", buf, sizeof(buf)), 0,
		    "%s is served", good[i]);
		is_str(buf, good[i] + 4, "  as %s", good[i] + 4);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(name_of(bad[i], "/ui/", buf, sizeof(buf)), ERR_NOTFOUND,
		    "\"%s\" is not", bad[i]);

	/* The longest name, and one byte more. */
	memcpy(path, "/ui/", 4);
	memset(path + 4, 'a', WEBPATH_MAX_NAME);
	path[4 + WEBPATH_MAX_NAME] = '\0';
	is_int(name_of(path, "/ui/", buf, sizeof(buf)), 0,
	    "a name of %d bytes is served", WEBPATH_MAX_NAME);
	path[4 + WEBPATH_MAX_NAME] = 'a';
	path[5 + WEBPATH_MAX_NAME] = '\0';
	is_int(name_of(path, "/ui/", buf, sizeof(buf)), ERR_NOTFOUND,
	    "one of %d is not", WEBPATH_MAX_NAME + 1);

	/* Every byte in the second position of a name. */
	{
		int c, wrong = 0;

		for (c = 0; c < 256; c++) {
			char p[8] = "/ui/a?b";
			const char *name;
			size_t len;
			int want = (c >= 'a' && c <= 'z') ||
			           (c >= 'A' && c <= 'Z') ||
			           (c >= '0' && c <= '9') || c == '.' ||
			           c == '_' || c == '-';

			p[5] = (char)c;
			if ((webpath_name(p, 7, "/ui/", &name, &len) == 0) !=
			    want)
				wrong++;
		}
		is_int(wrong, 0, "only [A-Za-z0-9._-] in a name");
	}

	/* Every prefix of a good path: only the whole of it names a file
	 * (a prefix that ends inside the folder's prefix names none). */
	{
		const char *p = "/vendor/uplot/uPlot.iife.min.js";
		size_t n, served = 0;
		const char *name;
		size_t len;

		for (n = 0; n <= strlen(p); n++)
			if (webpath_name(p, n, "/vendor/uplot/", &name, &len) ==
			    0)
				served++;
		is_int(served, strlen(p) - strlen("/vendor/uplot/"),
		    "each prefix past the folder names a (shorter) file");
	}
}

static void
test_types(void)
{
	static const struct {
		const char *name, *type;
	} g[] = {
	    {"index.html", "text/html; charset=utf-8"},
	    {"style.css", "text/css; charset=utf-8"},
	    {"uPlot.iife.min.js", "text/javascript; charset=utf-8"},
	    {"uPlot.min.css", "text/css; charset=utf-8"},
	    {"a.svg", "image/svg+xml"},
	    {"favicon.ico", "image/x-icon"},
	    {"x.map", "application/json; charset=utf-8"},
	};
	static const char *const none[] = {
	    "uPlot.d.ts", "README", "a.html~", "a.sh", ".js", "js", "a.JS"};
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		const char *t = webpath_type(g[i].name, strlen(g[i].name));

		is_str(t != NULL ? t : "(null)", g[i].type, "%s", g[i].name);
	}
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ok(webpath_type(none[i], strlen(none[i])) == NULL,
		    "%s has no type served", none[i]);
}

static void
test_etags(void)
{
	char e[WEBPATH_ETAG_SIZE], f[WEBPATH_ETAG_SIZE];
	static const char *const yes[] = {"W/\"2710-5f5e100\"",
	    "\"2710-5f5e100\"", "*", " * ", "\"a\", W/\"2710-5f5e100\"",
	    "\"a\",W/\"2710-5f5e100\" ,\"b\"", " W/\"2710-5f5e100\" "};
	static const char *const no[] = {"", "W/\"2710-5f5e101\"",
	    "\"2710-5f5e100", "2710-5f5e100", "W/ \"2710-5f5e100\"",
	    "\"a\" \"2710-5f5e100\"", "\"a\",", "\"a\";W/\"2710-5f5e100\"",
	    "**", "W/\"2710 5f5e100\"", "\"a\",garbage,W/\"2710-5f5e100\""};
	size_t i;

	webpath_etag(10000, 100000000, e);
	is_str(e, "W/\"2710-5f5e100\"", "ETag golden");
	webpath_etag(UINT64_MAX, UINT64_MAX, f);
	ok(strlen(f) < WEBPATH_ETAG_SIZE, "the longest ETag fits (%s)", f);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		is_int(webpath_etag_match(yes[i], strlen(yes[i]), e), 1,
		    "If-None-Match: %s matches", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		is_int(webpath_etag_match(no[i], strlen(no[i]), e), 0,
		    "If-None-Match: %s does not", no[i]);
	/* Every truncation of a matching list: never a read past it. */
	{
		const char *v = "\"a\", W/\"2710-5f5e100\"";
		size_t n, m = 0;

		for (n = 0; n < strlen(v); n++)
			m += (size_t)webpath_etag_match(v, n, e);
		is_int(m, 0, "no truncation of a matching list matches");
	}
}

int
main(void)
{
	plan_lazy();
	test_names();
	test_types();
	test_etags();
	return done_testing();
}
