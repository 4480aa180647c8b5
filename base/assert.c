/*
 * assert.c: the failure path of ASSERT, CHECK_MAGIC and xmalloc (see
 * assert.h).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/assert.h"

static assert_hook_fn assert_hook;

void
assert_set_hook(assert_hook_fn fn)
{
	assert_hook = fn;
}

void
assert_panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (assert_hook != NULL)
		assert_hook(msg);
	else
		fprintf(stderr, "%s\n", msg);
	abort();
}

void
assert_fail(const char *expr, const char *file, int line)
{
	assert_panic("assertion failed: %s (%s:%d)", expr, file, line);
}
