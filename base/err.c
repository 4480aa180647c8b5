/*
 * err.c: text for the project's error codes (see err.h).
 */
#include <config.h>

#include <string.h>

#include "base/err.h"

static const char *const err_names[] = {
    "try again",
    "malformed input",
    "size over limit",
    "unsupported version or feature",
    "checksum mismatch",
    "value out of range",
    "allocation refused",
    "connection closed by peer",
    "timed out",
    "TLS failure",
    "protocol violation",
    "invalid configuration",
    "already exists",
    "not found",
};

const char *
err_str(int err)
{
	if (err == 0)
		return "success";
	if (err < ERR_BASE && err > ERR_LAST)
		return err_names[ERR_BASE - err - 1];
	if (err < 0 && err > ERR_BASE)
		return strerror(-err);
	return "unknown error";
}
