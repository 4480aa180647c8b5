/*
 * arena.c: bounded bump allocator for per-request decoding (see arena.h).
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/arena.h"

/* The first chunk; later ones double, up to the cap. */
#define ARENA_MIN_CHUNK 4096

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* usable bytes after the header */
	size_t off;  /* next free byte */
	/* data follows, aligned by the union below */
	union {
		long double ld;
		void *p;
		long long ll;
	} data[];
};

static size_t
round_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static uint8_t *
chunk_data(struct arena_chunk *c)
{
	return (uint8_t *)c->data;
}

void
arena_init(struct arena *a, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->cap = cap;
}

static void
free_chunks(struct arena_chunk *c)
{
	while (c != NULL) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
}

/* A new chunk holding at least n bytes, linked after a->cur. */
static struct arena_chunk *
chunk_add(struct arena *a, size_t n)
{
	struct arena_chunk *c;
	size_t size;

	size = a->cur ? a->cur->size * 2 : ARENA_MIN_CHUNK;
	if (size > a->cap)
		size = round_up(a->cap);
	if (size < n)
		size = n;
	/*
	 * Chunks that were skipped because a request did not fit stay in
	 * the list; bound what the list may hold.
	 */
	if (a->held + size > 2 * a->cap + ARENA_MIN_CHUNK)
		return NULL;
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->size = size;
	c->off = 0;
	if (a->cur == NULL) {
		c->next = a->head;
		a->head = c;
	} else {
		c->next = a->cur->next;
		a->cur->next = c;
	}
	a->held += size;
	return c;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c;
	void *p;

	if (n > a->cap)
		return NULL;
	n = round_up(n ? n : 1);
	if (n > a->cap - a->used)
		return NULL;
	c = a->cur ? a->cur : a->head;
	/* Reuse chunks kept from before a reset while they fit. */
	while (c != NULL && c->size - c->off < n)
		c = c->next;
	if (c == NULL) {
		if ((c = chunk_add(a, n)) == NULL)
			return NULL;
	}
	a->cur = c;
	p = chunk_data(c) + c->off;
	c->off += n;
	a->used += n;
	return p;
}

void *
arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = arena_alloc(a, nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

void
arena_reset(struct arena *a)
{
	struct arena_chunk *c;

	for (c = a->head; c != NULL; c = c->next)
		c->off = 0;
	a->cur = a->head;
	a->used = 0;
}

void
arena_fini(struct arena *a)
{
	free_chunks(a->head);
	memset(a, 0, sizeof(*a));
}
