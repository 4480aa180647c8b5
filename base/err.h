/*
 * err.h: the one error convention of finnstream.
 *
 * 0 is success.  Negative values are errors: -errno for system errors, and
 * the ERR_* values below (all below ERR_BASE, so they never collide with an
 * errno) for protocol and format errors.  Codecs return >0 for bytes
 * consumed, 0 for "need more bytes", and a negative ERR_* on bad input.
 */
#ifndef BASE_ERR_H
#define BASE_ERR_H

enum {
	ERR_BASE = -10000,
	ERR_AGAIN = -10001,       /* try again later; not a failure */
	ERR_MALFORMED = -10002,   /* bytes do not follow the format */
	ERR_TOO_BIG = -10003,     /* a size exceeds its configured limit */
	ERR_UNSUPPORTED = -10004, /* valid, but a version/feature we lack */
	ERR_CRC = -10005,         /* checksum mismatch */
	ERR_RANGE = -10006,       /* a value is outside its allowed range */
	ERR_NOMEM = -10007,       /* a bounded allocation was refused */
	ERR_CLOSED = -10008,      /* the peer closed the stream */
	ERR_TIMEOUT = -10009,     /* a deadline passed */
	ERR_TLS = -10010,         /* TLS handshake or verification failed */
	ERR_PROTO = -10011,       /* the peer broke the protocol's rules */
	ERR_CONFIG = -10012,      /* invalid configuration */
	ERR_EXISTS = -10013,      /* the thing already exists */
	ERR_NOTFOUND = -10014,    /* the thing does not exist */
	ERR_LAST = -10015
};

/*
 * Text for an error code: ERR_* names a format problem, anything else
 * in (ERR_BASE, 0) is taken as -errno.  Returns a static string; never
 * NULL.
 */
const char *err_str(int err);

#endif
