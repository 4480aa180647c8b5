/*
 * xmalloc.h: allocation for small, fixed-size internal objects.
 *
 * These abort with a message when memory runs out.  Never use them for a
 * size that came from the network or disk: check such sizes against a
 * configured limit and use malloc, returning ERR_NOMEM on failure.
 */
#ifndef BASE_XMALLOC_H
#define BASE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
