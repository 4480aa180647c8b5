/*
 * webpath.h: (5) the request paths and validators of the chart page's
 * static files (server/http/http_static.c serves them).
 *
 * A static route is a folder prefix ("/ui/", "/vendor/uplot/") and one
 * file name after it.  Only a plain name is served, so no request can
 * name a file outside the folder, whatever it encodes:
 *
 *	name      1..WEBPATH_MAX_NAME bytes of [A-Za-z0-9._-], not starting
 *	          with '.'; no '/', no '%' (nothing is percent-decoded), so
 *	          "..", "%2e%2e", "a/../b" and dot files are refused
 *	type      by the name's last extension, from a fixed table; a name
 *	          without a known type is not served either
 *
 * Revalidation: an ETag W/"<size hex>-<mtime ns hex>" per file, and
 * If-None-Match as RFC 9110 §13.1.2 reads it (a list of entity tags,
 * weak comparison, or "*").
 *
 * Pure: no I/O, no allocation.
 */
#ifndef PROTO_WEBPATH_H
#define PROTO_WEBPATH_H

#include <stddef.h>
#include <stdint.h>

#define WEBPATH_MAX_NAME 128
/* W/"16 hex-16 hex" and a NUL */
#define WEBPATH_ETAG_SIZE 40

/*
 * The file name of path[0..n) under prefix (which ends with '/'): 0 and
 * name[0..len) pointing into path, or ERR_NOTFOUND when path is not
 * under prefix or the rest is not a plain name (above).
 */
int webpath_name(const char *path, size_t n, const char *prefix,
    const char **name, size_t *len);

/* The Content-Type of a file name, or NULL for a type not served. */
const char *webpath_type(const char *name, size_t len);

/* The ETag of a file of size bytes modified at mtime_ns, into buf. */
void webpath_etag(
    uint64_t size, uint64_t mtime_ns, char buf[WEBPATH_ETAG_SIZE]);

/*
 * 1 when an If-None-Match value v[0..n) matches etag (weakly), else 0;
 * a malformed list matches nothing.
 */
int webpath_etag_match(const char *v, size_t n, const char *etag);

#endif
