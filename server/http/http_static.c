/*
 * http_static.c: (5) the chart page's static files: GET / (index.html)
 * and /ui/NAME from http_web_dir, /vendor/uplot/NAME (the charting
 * library, installed apart) from http_chart_dir.
 *
 * A request names one plain file of its folder (proto/webpath.h: no
 * '/', no '%', no leading dot), of a type in webpath's table, and the
 * file must be a regular file of at most STATIC_MAX_FILE bytes:
 * anything else is 404, so no path reaches outside the folder and no
 * folder is listed.  Files are read per request (a few tens of KB; the
 * page loads them once) and revalidated with an ETag: Cache-Control
 * no-cache, and 304 for a matching If-None-Match.  They need no token:
 * the page holds no data, and it asks for the token itself.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/err.h"
#include "proto/webpath.h"
#include "proto/wbuf.h"
#include "server/http/http_int.h"
#include "server/log.h"

#define STATIC_MAX_FILE ((off_t)4 << 20)

/* Read dir/name[0..len) into the answer, or say why not. */
static int
serve(struct http_call *c, const char *dir, const char *key, const char *name,
    size_t len)
{
	struct evkeyvalq *ih = evhttp_request_get_input_headers(c->req);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(c->req);
	const char *type = webpath_type(name, len), *inm;
	char path[4096], etag[WEBPATH_ETAG_SIZE];
	struct stat st;
	uint8_t *p;
	ssize_t got;
	size_t done;
	int fd;

	if (dir == NULL || type == NULL)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%.*s", dir, (int)len,
	        name) >= sizeof(path))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn(
			    "http: %s: %s (%s)", path, strerror(errno), key);
		return 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STATIC_MAX_FILE) {
		close(fd);
		return 0;
	}
	webpath_etag((uint64_t)st.st_size,
	    (uint64_t)st.st_mtim.tv_sec * 1000000000u +
	        (uint64_t)st.st_mtim.tv_nsec,
	    etag);
	c->content_type = type;
	c->cache_control = "no-cache";
	evhttp_add_header(oh, "ETag", etag);
	inm = evhttp_find_header(ih, "If-None-Match");
	if (inm != NULL && webpath_etag_match(inm, strlen(inm), etag)) {
		close(fd);
		return 304;
	}
	if (wbuf_reserve(c->w, (size_t)st.st_size) != 0) {
		close(fd);
		return -1; /* on_request answers from w->err */
	}
	p = c->w->buf + c->w->len;
	for (done = 0; done < (size_t)st.st_size; done += (size_t)got) {
		got = read(fd, p + done, (size_t)st.st_size - done);
		if (got <= 0) {
			if (got < 0 && errno == EINTR) {
				got = 0;
				continue;
			}
			log_warn("http: %s: %s", path,
			    got < 0 ? strerror(errno) : "shorter than it was");
			close(fd);
			return http_error(c, 500, "read_failed",
			    "the file could not be read");
		}
	}
	close(fd);
	c->w->len += done;
	return 200;
}

static int
not_found(struct http_call *c, const char *what)
{
	return http_error(c, 404, "not_found", "%s", what);
}

int
http_static_page(struct http_call *c)
{
	const char *dir = http_config(c->hs)->http_web_dir;
	int rc = serve(c, dir, "http_web_dir", "index.html", 10);

	if (rc == 200 || rc == 304)
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Content-Security-Policy",
		    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
		    "frame-ancestors 'none'");

	if (rc == 0)
		return not_found(c,
		    "the chart page is not installed: http_web_dir names the "
		    "folder of its files (index.html, app.js, style.css); "
		    "make install puts them in the package's data folder");
	return rc < 0 ? 200 : rc;
}

/* A file of dir by its plain name after prefix, or 404 saying missing. */
static int
serve_tree(struct http_call *c, const char *prefix, const char *dir,
    const char *key, const char *missing)
{
	const char *name;
	size_t len;
	int rc = 0;

	if (webpath_name(c->path, strlen(c->path), prefix, &name, &len) == 0)
		rc = serve(c, dir, key, name, len);
	if (rc == 0)
		return not_found(c, missing);
	return rc < 0 ? 200 : rc;
}

int
http_static_ui(struct http_call *c)
{
	return serve_tree(c, "/ui/", http_config(c->hs)->http_web_dir,
	    "http_web_dir", "no such file of the chart page");
}

int
http_static_vendor(struct http_call *c)
{
	return serve_tree(c, "/vendor/uplot/",
	    http_config(c->hs)->http_chart_dir, "http_chart_dir",
	    "the chart library (uPlot) is not installed: install it (npm "
	    "install uplot) and name its dist folder in http_chart_dir");
}
