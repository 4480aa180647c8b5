/*
 * arena.h: a bounded bump allocator for per-request decoding.
 *
 * Kafka request decoders allocate their arrays (topics, partitions) here
 * instead of with malloc, so a whole decoded request is dropped in one go
 * and a hostile count can cost at most the arena's byte cap.  Strings and
 * record bytes never live here: decoders point them into the frame.
 *
 * Memory comes in chunks that arena_reset keeps for the next request;
 * only arena_fini gives them back.  The cap bounds the bytes handed out
 * between two resets; the chunks held stay within about twice the cap.
 *
 * Not thread-safe; one arena per connection (or per request).
 */
#ifndef PROTO_ARENA_H
#define PROTO_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* first chunk (kept across resets) */
	struct arena_chunk *cur;  /* chunk being carved */
	size_t used;              /* bytes handed out since the last reset */
	size_t held;              /* bytes of chunks allocated */
	size_t cap;               /* limit on used */
};

/* Alignment of every pointer arena_alloc returns. */
#define ARENA_ALIGN 16

/*
 * An empty arena that hands out at most cap bytes between resets (each
 * allocation is rounded up to ARENA_ALIGN and counted that way).  Nothing
 * is allocated until the first arena_alloc.
 */
void arena_init(struct arena *a, size_t cap);

/*
 * n bytes aligned to ARENA_ALIGN, uninitialised, valid until the next
 * arena_reset or arena_fini.  Returns NULL when the cap would be passed or
 * malloc fails; the arena stays usable (smaller requests may succeed).
 * n == 0 is served as a 1-byte request (a distinct pointer not to be
 * dereferenced), so it also needs ARENA_ALIGN bytes under the cap.
 */
void *arena_alloc(struct arena *a, size_t n);

/*
 * nmemb * size zeroed bytes; NULL on multiplication overflow, past the cap,
 * or when malloc fails.
 */
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);

/*
 * Forget every allocation (pointers handed out become invalid) and keep the
 * chunks for reuse; frees nothing.
 */
void arena_reset(struct arena *a);

/* Free every chunk; the arena may be arena_init'ed again. */
void arena_fini(struct arena *a);

#endif
