/*
 * assert.h: invariants that stay on in every build, and the one way the
 * process dies on a broken invariant or an exhausted fixed-size
 * allocation.
 *
 *	ASSERT(x)          abort unless x
 *	ALWAYS(x), NEVER(x) mark a check that should be unreachable; they abort
 *	                   when it is reached and evaluate to x otherwise
 *	CHECK_MAGIC(p, m)  p is not NULL and p->magic == m (every struct that
 *	                   passes through libevent's void *arg has a magic)
 *
 * A failure formats one line and hands it to the hook the daemon installs
 * (its logging module, so the line reaches log_file or syslog after -d);
 * without a hook it goes to stderr.  Then abort().
 */
#ifndef BASE_ASSERT_H
#define BASE_ASSERT_H

#define ALWAYS(x) ((x) ? 1 : (assert_fail(#x, __FILE__, __LINE__), 0))
#define NEVER(x)  (!ALWAYS(!(x)))
#define ASSERT(x)                                                              \
	do {                                                                   \
		if (!(x))                                                      \
			assert_fail(#x, __FILE__, __LINE__);                   \
	} while (0)
#define CHECK_MAGIC(p, m)                                                      \
	do {                                                                   \
		ASSERT((p) != NULL);                                           \
		ASSERT((p)->magic == (m));                                     \
	} while (0)

void assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

/* Report msg (printf format) through the hook and abort(). */
void assert_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Where failure lines go (NULL: stderr).  msg is one line, no newline. */
typedef void (*assert_hook_fn)(const char *msg);
void assert_set_hook(assert_hook_fn fn);

#endif
