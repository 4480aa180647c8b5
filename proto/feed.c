/*
 * feed.c: (1) the Finnhub message scanner and the feed's JSON writers
 * (see feed.h).
 *
 * One pass over the message, no allocation, no recursion: the parts of a
 * message the feed understands (the top-level object, its "data" array,
 * the trade objects and their "c" arrays) have a routine each, and every
 * other value is skipped by skip_value(), which keeps the kind of each
 * open container in the bits of one word and so needs no stack.
 *
 * Every routine takes the cursor p by value and returns where it stopped
 * (NULL after an error, which fail() records in struct scan): a cursor
 * kept in memory would put a store and a load on every step of the
 * critical path.
 *
 * Invariants:
 *  1. Every read of a byte is preceded by a check against sc->end; the
 *     message is not NUL-terminated.
 *  2. A routine consumes its value exactly: it returns the position just
 *     past the value's last byte.
 *  3. Unescaped strings are never longer than their escaped form, so the
 *     scratch bytes used never exceed the message length.
 *  4. A number token's value is converted exactly: directly when the
 *     decimal has at most 19 significant digits and 2^53 >= mantissa with
 *     |exponent| <= 22 (one correctly rounded IEEE operation on two exact
 *     operands), else by strtod() on a bounded NUL-terminated copy.
 */
#include <config.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/feed.h"

#if defined(__GNUC__)
#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define INLINE      static inline __attribute__((always_inline))
#else
#define LIKELY(x)   (x)
#define UNLIKELY(x) (x)
#define INLINE      static inline
#endif

/* x87-style excess precision would round twice on the fast path. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FEED_FAST_DOUBLE 1
#else
#define FEED_FAST_DOUBLE 0
#endif

/* Eight digits at a time where the byte order makes it simple. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FEED_SWAR 1
#else
#define FEED_SWAR 0
#endif

struct scan {
	const uint8_t *end;
	const uint8_t *err; /* where the first error was seen */
	int code;           /* its ERR_* */
	char *scratch;
	size_t used;
	size_t cap;
};

/* A string's body, between its quotes. */
struct str {
	const uint8_t *p;
	size_t n;
	int esc; /* it holds a backslash */
};

/* The decomposition of a JSON number token. */
struct num {
	uint64_t m;  /* its first 19 significant digits */
	int e10;     /* value = m * 10^e10, exactly unless inexact */
	int nd;      /* significant digits in m */
	int neg;     /* a leading '-' */
	int isint;   /* no fraction and no exponent */
	int inexact; /* non-zero digits beyond the 19th were dropped */
};

/*
 * Bytes a string scan must look at: '"', '\\', control characters (not
 * allowed raw in JSON strings) and bytes >= 0x80 (UTF-8 to validate).
 */
static const uint8_t str_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xa0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xb0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xc0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xd0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xe0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xf0 */
};

static const double pow10_exact[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22};

static const uint8_t *
fail(struct scan *sc, const uint8_t *at, int code)
{
	if (sc->err == NULL) {
		sc->err = at;
		sc->code = code;
	}
	return NULL;
}

static inline int
is_digit(uint8_t c)
{
	return (unsigned)(c - '0') < 10;
}

static const uint8_t *
skip_ws(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* The common case has no whitespace at all: one compare, no call. */
#define WS(p, end)                                                             \
	do {                                                                   \
		if ((p) < (end) && *(p) <= ' ')                                \
			(p) = skip_ws((p), (end));                             \
	} while (0)

/* p < end and *p == c. */
#define AT(p, end, c) ((p) < (end) && *(p) == (c))

static int
hex4(const uint8_t *p)
{
	int i, v = 0;

	for (i = 0; i < 4; i++) {
		uint8_t c = p[i];

		if (is_digit(c))
			v = v * 16 + (c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + ((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), or 0. */
static size_t
utf8_len(const uint8_t *p, const uint8_t *end)
{
	size_t avail = (size_t)(end - p);
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	} else
		return 0;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static size_t
put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Unescape the n bytes of a string body that scan_string accepted into
 * dst, which has room for n bytes (the output is never longer: invariant
 * 3).  A lone surrogate becomes U+FFFD and sets *lone.  Returns the
 * length written.
 */
static size_t
unescape(const uint8_t *s, size_t n, char *dst, int *lone)
{
	const uint8_t *end = s + n;
	char *o = dst;
	int cp, lo;

	while (s < end) {
		if (*s != '\\') {
			*o++ = (char)*s++;
			continue;
		}
		switch (s[1]) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			cp = hex4(s + 2);
			s += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && end - s >= 6 &&
			    s[0] == '\\' && s[1] == 'u' &&
			    (lo = hex4(s + 2)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd;
				*lone = 1;
			}
			o += put_utf8(o, (unsigned)cp);
			continue;
		default: /* '"', '\\', '/' stand for themselves */
			*o++ = (char)s[1];
			break;
		}
		s += 2;
	}
	return (size_t)(o - dst);
}

/*
 * Does the 8-byte word x hold a byte that a string scan must look at
 * (str_special)?  A borrow can flag a byte above a true hit, never below
 * one, and any hit sends the scan to the byte loop, so a false alarm
 * costs time only.
 */
static inline uint64_t
word_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return ((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x;
}

/*
 * At a string's opening quote: check it (escapes, raw controls, UTF-8)
 * and return the position past its closing quote, with its body in *s.
 */
INLINE const uint8_t *
scan_string(struct scan *sc, const uint8_t *p, struct str *s)
{
	const uint8_t *end = sc->end, *start = ++p;
	const uint64_t high = 0x8080808080808080ull;
	int esc = 0;
	size_t k;
	uint64_t x;

	for (;;) {
		/* Eight plain bytes at a time, then one at a time. */
		while (end - p >= 8) {
			memcpy(&x, p, 8);
			if (word_special(x) & high)
				break;
			p += 8;
		}
		while (p < end && !str_special[*p])
			p++;
		if (UNLIKELY(p >= end))
			return fail(sc, p, ERR_MALFORMED);
		if (LIKELY(*p == '"'))
			break;
		if (*p == '\\') {
			esc = 1;
			if (end - p < 2)
				return fail(sc, p, ERR_MALFORMED);
			switch (p[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				continue;
			case 'u':
				if (end - p < 6 || hex4(p + 2) < 0)
					return fail(sc, p, ERR_MALFORMED);
				p += 6;
				continue;
			default:
				return fail(sc, p, ERR_MALFORMED);
			}
		}
		if (*p < 0x20 || (k = utf8_len(p, end)) == 0)
			return fail(sc, p, ERR_MALFORMED);
		p += k;
	}
	s->p = start;
	s->n = (size_t)(p - start);
	s->esc = esc;
	return p + 1;
}

#if FEED_SWAR
/*
 * How many of the 8 bytes of x (in memory order) are ASCII digits before
 * the first that is not.  A byte is a digit when its high nibble is 3 and
 * adding 6 leaves it 3; the adds may carry, but only out of a byte >=
 * 0xfa, itself not a digit, so the first non-digit is found right.
 */
static inline unsigned
digit_run8(uint64_t x)
{
	const uint64_t hi = 0xf0f0f0f0f0f0f0f0ull,
	               three = 0x3030303030303030ull;
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full;
	uint64_t v =
	    ((x & hi) ^ three) | (((x + 0x0606060606060606ull) & hi) ^ three);
	/* High bit of each byte that is not zero, without carries. */
	uint64_t nz = (((v & lo7) + lo7) | v) & ~lo7;

	return nz == 0 ? 8 : (unsigned)__builtin_ctzll(nz) >> 3;
}

/* The value of 8 ASCII digits, the first one in the low byte of x. */
static inline uint64_t
eight_digits(uint64_t x)
{
	x = (x & 0x0f0f0f0f0f0f0f0full) * 2561 >> 8;
	x = (x & 0x00ff00ff00ff00ffull) * 6553601 >> 16;
	return (x & 0x0000ffff0000ffffull) * 42949672960001ull >> 32;
}
#endif

static const uint64_t pow10_u64[9] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* Fold the n (<= 19) digits at p into *m; end bounds the reads. */
static inline void
add_digits(uint64_t *m, const uint8_t *p, size_t n, const uint8_t *end)
{
	uint64_t v = *m;
#if FEED_SWAR
	uint64_t x;

	while (n >= 8 && end - p >= 8) {
		memcpy(&x, p, 8);
		v = v * 100000000 + eight_digits(x);
		p += 8;
		n -= 8;
	}
	if (n > 0 && end - p >= 8) {
		/* The digits to the top, zero bytes (digit 0) below. */
		memcpy(&x, p, 8);
		v = v * pow10_u64[n] + eight_digits(x << (8 * (8 - n)));
		n = 0;
	}
#endif
	while (n-- > 0)
		v = v * 10 + (unsigned)(*p++ - '0');
	*m = v;
}

static int
any_nonzero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != '0')
			return 1;
	return 0;
}

/* Past the run of digits at p. */
static inline const uint8_t *
skip_digits(const uint8_t *p, const uint8_t *end)
{
#if FEED_SWAR
	uint64_t x;
	unsigned k;

	while (end - p >= 8) {
		memcpy(&x, p, 8);
		k = digit_run8(x);
		p += k;
		if (k < 8)
			return p;
	}
#endif
	while (p < end && is_digit(*p))
		p++;
	return p;
}

/*
 * At a number's first byte ('-' or a digit): check the JSON grammar
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? and decompose it into
 * *n; return the position past it.  What follows the token is the
 * caller's to check (so "01" fails there).  Each run of digits is found
 * first and folded into the mantissa after, keeping the first 19
 * significant digits.
 */
INLINE const uint8_t *
scan_number(struct scan *sc, const uint8_t *p, struct num *n)
{
	const uint8_t *end = sc->end, *q;
	uint64_t m = 0;
	int nd = 0, e10 = 0, inexact = 0;
	size_t k, take;

	n->neg = 0;
	n->isint = 1;
	if (*p == '-') {
		n->neg = 1;
		if (++p >= end)
			return fail(sc, p, ERR_MALFORMED);
	}
	if (*p == '0') {
		p++;
	} else if ((unsigned)(*p - '1') < 9) {
		q = p;
		p = skip_digits(p + 1, end);
		k = (size_t)(p - q);
		take = k < 19 ? k : 19;
		add_digits(&m, q, take, end);
		nd = (int)take;
		if (UNLIKELY(k > take)) {
			e10 += (int)(k - take);
			inexact |= any_nonzero(q + take, k - take);
		}
	} else {
		return fail(sc, p, ERR_MALFORMED);
	}
	if (p < end && *p == '.') {
		n->isint = 0;
		q = ++p;
		p = skip_digits(p, end);
		if (p == q)
			return fail(sc, p, ERR_MALFORMED);
		if (m == 0) {
			/* Leading zeros of a fraction only scale. */
			while (q < p && *q == '0') {
				q++;
				e10--;
			}
		}
		k = (size_t)(p - q);
		take = k < (size_t)(19 - nd) ? k : (size_t)(19 - nd);
		add_digits(&m, q, take, end);
		nd += (int)take;
		e10 -= (int)take;
		if (UNLIKELY(k > take))
			inexact |= any_nonzero(q + take, k - take);
	}
	if (p < end && (*p | 0x20) == 'e') {
		int neg = 0, ex = 0;

		n->isint = 0;
		if (++p < end && (*p == '+' || *p == '-'))
			neg = *p++ == '-';
		if (p >= end || !is_digit(*p))
			return fail(sc, p, ERR_MALFORMED);
		do {
			/* Saturate: 10^100000 is as infinite as it gets. */
			if (ex < 100000)
				ex = ex * 10 + (*p - '0');
			p++;
		} while (p < end && is_digit(*p));
		e10 += neg ? -ex : ex;
	}
	n->m = m;
	n->e10 = e10;
	n->nd = nd;
	n->inexact = inexact;
	return p;
}

/* Write v in decimal at o; returns the length. */
static size_t
put_u64(char *o, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		o[i] = tmp[n - 1 - i];
	return n;
}

/*
 * The double value of a number token tok/tlen decomposed in *n
 * (invariant 4).  Returns 0, or -1 when a long token does not fit in
 * scratch for strtod().
 */
static int
num_double(struct scan *sc, const struct num *n, const uint8_t *tok,
    size_t tlen, double *out)
{
	char tmp[64], *s = tmp;
	double d;

	if (!n->inexact) {
		if (n->m == 0) {
			*out = n->neg ? -0.0 : 0.0;
			return 0;
		}
		if (FEED_FAST_DOUBLE && n->m <= ((uint64_t)1 << 53) &&
		    n->e10 >= -22 && n->e10 <= 22) {
			d = (double)n->m;
			d = n->e10 < 0 ? d / pow10_exact[-n->e10]
			               : d * pow10_exact[n->e10];
			*out = n->neg ? -d : d;
			return 0;
		}
		/* The value is exactly m * 10^e10: say so in few bytes. */
		if (n->neg)
			*s++ = '-';
		s += put_u64(s, n->m);
		*s++ = 'e';
		if (n->e10 < 0) {
			*s++ = '-';
			s += put_u64(s, (uint64_t)(-(int64_t)n->e10));
		} else {
			s += put_u64(s, (uint64_t)n->e10);
		}
		*s = '\0';
		*out = strtod(tmp, NULL);
		return 0;
	}
	/* More than 19 significant digits: the whole token decides. */
	if (tlen >= sizeof(tmp)) {
		if (tlen >= sc->cap - sc->used)
			return -1;
		s = sc->scratch + sc->used; /* not kept: no sc->used += */
	}
	memcpy(s, tok, tlen);
	s[tlen] = '\0';
	*out = strtod(s, NULL);
	return 0;
}

static const uint8_t *
match_literal(struct scan *sc, const uint8_t *p, const char *lit, size_t n)
{
	if ((size_t)(sc->end - p) < n || memcmp(p, lit, n) != 0)
		return fail(sc, p, ERR_MALFORMED);
	return p + n;
}

/* After a key's closing quote: whitespace, the colon, whitespace. */
INLINE const uint8_t *
colon(struct scan *sc, const uint8_t *p)
{
	const uint8_t *end = sc->end;

	WS(p, end);
	if (!AT(p, end, ':'))
		return fail(sc, p, ERR_MALFORMED);
	p++;
	WS(p, end);
	return p;
}

/* At an object key: skip it, the colon and the whitespace after. */
static const uint8_t *
skip_key(struct scan *sc, const uint8_t *p)
{
	struct str s;

	if (!AT(p, sc->end, '"'))
		return fail(sc, p, ERR_MALFORMED);
	if ((p = scan_string(sc, p, &s)) == NULL)
		return NULL;
	return colon(sc, p);
}

/*
 * Skip one JSON value of any kind that starts at p (after optional
 * whitespace), checking its syntax.  depth: the containers around it, so
 * the deepest one it opens is at depth + its own nesting.
 */
static const uint8_t *
skip_value(struct scan *sc, const uint8_t *p, int depth)
{
	const uint8_t *end = sc->end;
	uint64_t arr = 0; /* bit i: the (i+1)-th container opened here is
			     an array */
	struct str s;
	struct num num;
	int d = 0, isarr;
	uint8_t c;

	for (;;) {
		WS(p, end);
		if (p >= end)
			return fail(sc, p, ERR_MALFORMED);
		switch (c = *p) {
		case '"':
			p = scan_string(sc, p, &s);
			break;
		case '{':
		case '[':
			if (depth + d + 1 > FEED_MAX_DEPTH)
				return fail(sc, p, ERR_MALFORMED);
			isarr = c == '[';
			arr = (arr & ~((uint64_t)1 << d)) |
			      ((uint64_t)isarr << d);
			d++;
			p++;
			WS(p, end);
			if (AT(p, end, isarr ? ']' : '}')) {
				p++;
				d--;
				break;
			}
			if (!isarr && (p = skip_key(sc, p)) == NULL)
				return NULL;
			continue;
		case 't':
			p = match_literal(sc, p, "true", 4);
			break;
		case 'f':
			p = match_literal(sc, p, "false", 5);
			break;
		case 'n':
			p = match_literal(sc, p, "null", 4);
			break;
		default:
			if (c != '-' && !is_digit(c))
				return fail(sc, p, ERR_MALFORMED);
			p = scan_number(sc, p, &num);
			break;
		}
		if (p == NULL)
			return NULL;
		/* A value ended: close containers or go to the next value. */
		for (;;) {
			if (d == 0)
				return p;
			WS(p, end);
			if (p >= end)
				return fail(sc, p, ERR_MALFORMED);
			c = *p;
			isarr = (int)((arr >> (d - 1)) & 1);
			if (c == ',') {
				p++;
				if (!isarr) {
					WS(p, end);
					if ((p = skip_key(sc, p)) == NULL)
						return NULL;
				}
				break;
			}
			if (c != (isarr ? ']' : '}'))
				return fail(sc, p, ERR_MALFORMED);
			p++;
			d--;
		}
	}
}

/*
 * After a member or element: whitespace, then ',' (*more = 1, returns
 * past it and the whitespace after) or the closer (*more = 0, returns
 * past it).
 */
INLINE const uint8_t *
next_member(struct scan *sc, const uint8_t *p, uint8_t closer, int *more)
{
	const uint8_t *end = sc->end;

	WS(p, end);
	if (LIKELY(p < end)) {
		if (*p == ',') {
			p++;
			WS(p, end);
			*more = 1;
			return p;
		}
		if (*p == closer) {
			*more = 0;
			return p + 1;
		}
	}
	return fail(sc, p, ERR_MALFORMED);
}

/*
 * At a key of a trade object: *k = its single unescaped byte (the
 * trade's keys are one letter), or 0 for any other key; returns the
 * position past the colon and the whitespace after it.
 */
INLINE const uint8_t *
trade_key(struct scan *sc, const uint8_t *p, int *k)
{
	const uint8_t *end = sc->end;
	struct str s;
	char tmp[8];
	int lone = 0;

	/* "s": and friends, written the way Finnhub writes them. */
	if (LIKELY(end - p >= 4 && p[0] == '"' && p[2] == '"' && p[3] == ':' &&
	           p[1] > ' ' && p[1] != '\\' && p[1] < 0x80 && p[1] != '"')) {
		*k = p[1];
		p += 4;
		WS(p, end);
		return p;
	}
	if (!AT(p, end, '"'))
		return fail(sc, p, ERR_MALFORMED);
	if ((p = scan_string(sc, p, &s)) == NULL)
		return NULL;
	*k = 0;
	if (s.n == 1 && !s.esc)
		*k = s.p[0];
	else if (s.esc && s.n <= sizeof(tmp) &&
	         unescape(s.p, s.n, tmp, &lone) == 1)
		*k = (uint8_t)tmp[0];
	return colon(sc, p);
}

static void
set_bad(struct feed_trade *t, int why)
{
	if (t->bad == FEED_BAD_NONE)
		t->bad = why;
}

static const uint8_t *
trade_s(struct scan *sc, const uint8_t *p, struct feed_trade *t)
{
	struct str s;
	size_t n, i;
	int lone = 0;
	char *o;

	if (!AT(p, sc->end, '"')) {
		set_bad(t, FEED_BAD_S);
		return skip_value(sc, p, 3);
	}
	if ((p = scan_string(sc, p, &s)) == NULL)
		return NULL;
	if (LIKELY(!s.esc)) {
		t->s.p = (const char *)s.p;
		t->s.len = s.n;
		if (UNLIKELY(s.n == 0 || s.n > FEED_MAX_SYMBOL))
			set_bad(t, FEED_BAD_S);
		return p;
	}
	/* Each byte of the symbol takes at most 6 escaped ones (\u00XX). */
	if (s.n > 6 * FEED_MAX_SYMBOL) {
		set_bad(t, FEED_BAD_S);
		return p;
	}
	if (s.n > sc->cap - sc->used)
		return fail(sc, s.p, ERR_TOO_BIG);
	o = sc->scratch + sc->used;
	n = unescape(s.p, s.n, o, &lone);
	sc->used += n;
	t->s.p = o;
	t->s.len = n;
	if (lone || n == 0 || n > FEED_MAX_SYMBOL)
		set_bad(t, FEED_BAD_S);
	for (i = 0; i < n; i++)
		if ((uint8_t)o[i] < 0x20)
			set_bad(t, FEED_BAD_S);
	return p;
}

/* "p", "v" or "t" (key), a number. */
INLINE const uint8_t *
trade_num(struct scan *sc, const uint8_t *p, struct feed_trade *t, int key)
{
	const uint8_t *tok = p;
	struct feed_slice *slot;
	struct num n;
	double d;
	int why;

	why = key == 'p' ? FEED_BAD_P : key == 'v' ? FEED_BAD_V : FEED_BAD_T;
	if (p >= sc->end || (*p != '-' && !is_digit(*p))) {
		set_bad(t, why);
		return skip_value(sc, p, 3);
	}
	if ((p = scan_number(sc, p, &n)) == NULL)
		return NULL;
	slot = key == 'p' ? &t->p_tok : key == 'v' ? &t->v_tok : &t->t_tok;
	slot->p = (const char *)tok;
	slot->len = (size_t)(p - tok);
	if (key == 't') {
		/* ms since 1970 below 2^53 (year 287396): a double holds it
		 * exactly, so every consumer reads the same instant. */
		if (n.isint && !n.neg && n.nd <= 16 && n.m > 0 &&
		    n.m < ((uint64_t)1 << 53))
			t->t = (int64_t)n.m;
		else
			set_bad(t, why);
		return p;
	}
	if (num_double(sc, &n, tok, slot->len, &d) < 0)
		return fail(sc, tok, ERR_TOO_BIG);
	if (key == 'p') {
		t->p = d;
		if (!(isfinite(d) && d > 0))
			set_bad(t, why);
	} else {
		t->v = d;
		if (!(isfinite(d) && d >= 0))
			set_bad(t, why);
	}
	return p;
}

/* "c": null, or an array of strings (kept verbatim). */
static const uint8_t *
trade_c(struct scan *sc, const uint8_t *p, struct feed_trade *t)
{
	const uint8_t *start = p, *end = sc->end;
	struct str s;
	int more;

	t->c.p = NULL;
	t->c.len = 0;
	if (end - p >= 4 && memcmp(p, "null", 4) == 0)
		return p + 4;
	if (!AT(p, end, '[')) {
		set_bad(t, FEED_BAD_C);
		return skip_value(sc, p, 3);
	}
	p++;
	WS(p, end);
	if (AT(p, end, ']')) {
		p++;
	} else {
		do {
			if (LIKELY(AT(p, end, '"'))) {
				p = scan_string(sc, p, &s);
			} else {
				set_bad(t, FEED_BAD_C);
				p = skip_value(sc, p, 4);
			}
			if (p == NULL ||
			    (p = next_member(sc, p, ']', &more)) == NULL)
				return NULL;
		} while (more);
	}
	t->c.p = (const char *)start;
	t->c.len = (size_t)(p - start);
	return p;
}

/* At a trade object's '{'. */
static const uint8_t *
decode_trade(struct scan *sc, const uint8_t *p, struct feed_trade *t)
{
	const uint8_t *end = sc->end;
	unsigned seen = 0, bit;
	int k, more;

	memset(t, 0, sizeof(*t));
	p++;
	WS(p, end);
	if (AT(p, end, '}')) {
		p++;
		goto done;
	}
	do {
		if ((p = trade_key(sc, p, &k)) == NULL)
			return NULL;
		switch (k) {
		case 's':
			bit = 1;
			break;
		case 'p':
			bit = 2;
			break;
		case 'v':
			bit = 4;
			break;
		case 't':
			bit = 8;
			break;
		case 'c':
			bit = 16;
			break;
		default:
			bit = 0;
			break;
		}
		if (UNLIKELY(seen & bit)) {
			set_bad(t, FEED_BAD_DUP);
			k = 0; /* the first value stands */
		}
		seen |= bit;
		switch (k) {
		case 's':
			p = trade_s(sc, p, t);
			break;
		case 'p':
			p = trade_num(sc, p, t, 'p');
			break;
		case 'v':
			p = trade_num(sc, p, t, 'v');
			break;
		case 't':
			p = trade_num(sc, p, t, 't');
			break;
		case 'c':
			p = trade_c(sc, p, t);
			break;
		default:
			p = skip_value(sc, p, 3);
			break;
		}
		if (p == NULL || (p = next_member(sc, p, '}', &more)) == NULL)
			return NULL;
	} while (more);
done:
	if (UNLIKELY((seen & 15) != 15)) {
		set_bad(t, !(seen & 1)   ? FEED_BAD_NO_S
		           : !(seen & 2) ? FEED_BAD_NO_P
		           : !(seen & 4) ? FEED_BAD_NO_V
		                         : FEED_BAD_NO_T);
	}
	t->valid = t->bad == FEED_BAD_NONE;
	return p;
}

/*
 * The "data" value.  *np counts its elements; *bad_at is set at the first
 * place where it is not an array of objects (fatal only if the message
 * turns out to be a trade message).
 */
static const uint8_t *
decode_data(struct scan *sc, const uint8_t *p, struct feed_trade *trades,
    size_t max, size_t *np, const uint8_t **bad_at)
{
	const uint8_t *end = sc->end;
	size_t n = 0;
	int more;

	if (!AT(p, end, '[')) {
		*bad_at = p;
		return skip_value(sc, p, 1);
	}
	p++;
	WS(p, end);
	if (AT(p, end, ']')) {
		*np = 0;
		return p + 1;
	}
	do {
		if (LIKELY(AT(p, end, '{'))) {
			if (LIKELY(n < max))
				p = decode_trade(sc, p, &trades[n]);
			else
				p = skip_value(sc, p, 2);
			n++;
		} else {
			if (*bad_at == NULL)
				*bad_at = p;
			p = skip_value(sc, p, 2);
		}
		if (p == NULL || (p = next_member(sc, p, ']', &more)) == NULL)
			return NULL;
	} while (more);
	*np = n;
	return p;
}

enum top_key { KEY_OTHER, KEY_DATA, KEY_TYPE, KEY_MSG };

/* At a top-level key: *k which one; returns the position past the colon. */
static const uint8_t *
top_key(struct scan *sc, const uint8_t *p, int *k)
{
	const uint8_t *u;
	struct str s;
	char tmp[64];
	size_t n;
	int lone = 0;

	if (!AT(p, sc->end, '"'))
		return fail(sc, p, ERR_MALFORMED);
	if ((p = scan_string(sc, p, &s)) == NULL)
		return NULL;
	u = s.p;
	n = s.n;
	if (s.esc) {
		if (n > sizeof(tmp))
			n = 0; /* too long to be one of ours */
		else
			n = unescape(s.p, n, tmp, &lone);
		u = (const uint8_t *)tmp;
	}
	*k = KEY_OTHER;
	if (n == 4 && memcmp(u, "data", 4) == 0)
		*k = KEY_DATA;
	else if (n == 4 && memcmp(u, "type", 4) == 0)
		*k = KEY_TYPE;
	else if (n == 3 && memcmp(u, "msg", 3) == 0)
		*k = KEY_MSG;
	return colon(sc, p);
}

/* The "type" value: its message type, and msg->kind when a string. */
static const uint8_t *
decode_type(struct scan *sc, const uint8_t *p, struct feed_msg *msg, int *type)
{
	const uint8_t *u;
	struct str s;
	char tmp[64];
	size_t n;
	int lone = 0;

	*type = FEED_MSG_OTHER;
	if (!AT(p, sc->end, '"'))
		return skip_value(sc, p, 1);
	if ((p = scan_string(sc, p, &s)) == NULL)
		return NULL;
	msg->kind.p = (const char *)s.p;
	msg->kind.len = s.n;
	u = s.p;
	n = s.n;
	if (s.esc) {
		if (n > sizeof(tmp))
			return p;
		n = unescape(s.p, n, tmp, &lone);
		u = (const uint8_t *)tmp;
	}
	if (n == 5 && memcmp(u, "trade", 5) == 0)
		*type = FEED_MSG_TRADE;
	else if (n == 4 && memcmp(u, "ping", 4) == 0)
		*type = FEED_MSG_PING;
	else if (n == 5 && memcmp(u, "error", 5) == 0)
		*type = FEED_MSG_ERROR;
	return p;
}

/* The "msg" value: msg->err when a string. */
static const uint8_t *
decode_errmsg(struct scan *sc, const uint8_t *p, struct feed_msg *msg)
{
	struct str s;
	int lone = 0;
	char *o;

	if (!AT(p, sc->end, '"'))
		return skip_value(sc, p, 1);
	if ((p = scan_string(sc, p, &s)) == NULL)
		return NULL;
	if (!s.esc) {
		msg->err.p = (const char *)s.p;
		msg->err.len = s.n;
		return p;
	}
	if (s.n > sc->cap - sc->used)
		return fail(sc, s.p, ERR_TOO_BIG);
	o = sc->scratch + sc->used;
	msg->err.p = o;
	msg->err.len = unescape(s.p, s.n, o, &lone);
	sc->used += msg->err.len;
	return p;
}

int
feed_decode(const uint8_t *buf, size_t len, struct feed_msg *msg,
    struct feed_trade *trades, size_t maxtrades, char *scratch,
    size_t scratchlen, size_t *err_off)
{
	const uint8_t *data_bad = NULL, *data_at = NULL, *p = buf, *end;
	struct scan sc;
	int type = -1, seen_type = 0, k, more;
	size_t i, n = 0;

	memset(msg, 0, sizeof(*msg));
	msg->kind.p = msg->err.p = (const char *)buf;
	if (err_off != NULL)
		*err_off = 0;
	if (len > FEED_MAX_MSG)
		return ERR_TOO_BIG;
	memset(&sc, 0, sizeof(sc));
	end = sc.end = buf + len;
	sc.scratch = scratch;
	sc.cap = scratch != NULL ? scratchlen : 0;

	WS(p, end);
	if (!AT(p, end, '{')) {
		fail(&sc, p, ERR_MALFORMED);
		goto out;
	}
	p++;
	WS(p, end);
	if (AT(p, end, '}')) {
		p++;
		goto tail;
	}
	do {
		if ((p = top_key(&sc, p, &k)) == NULL)
			goto out;
		switch (k) {
		case KEY_DATA:
			/* Two "data" (or two "type") would leave the meaning
			 * to whichever parser reads the message: refuse. */
			if (data_at != NULL) {
				fail(&sc, p, ERR_MALFORMED);
				goto out;
			}
			data_at = p;
			/* "type" usually comes last, so data is read as
			 * trades unless the type is already known. */
			if (type >= 0 && type != FEED_MSG_TRADE)
				p = skip_value(&sc, p, 1);
			else
				p = decode_data(
				    &sc, p, trades, maxtrades, &n, &data_bad);
			break;
		case KEY_TYPE:
			if (seen_type) {
				fail(&sc, p, ERR_MALFORMED);
				goto out;
			}
			seen_type = 1;
			p = decode_type(&sc, p, msg, &type);
			break;
		case KEY_MSG:
			p = decode_errmsg(&sc, p, msg);
			break;
		default:
			p = skip_value(&sc, p, 1);
			break;
		}
		if (p == NULL || (p = next_member(&sc, p, '}', &more)) == NULL)
			goto out;
	} while (more);
tail:
	WS(p, end);
	if (p != end) {
		fail(&sc, p, ERR_MALFORMED);
		goto out;
	}
	msg->type = type < 0 ? FEED_MSG_OTHER : type;
	if (msg->type != FEED_MSG_TRADE)
		return (int)len;
	if (data_at == NULL || data_bad != NULL) {
		fail(&sc, data_at == NULL ? buf : data_bad, ERR_MALFORMED);
		goto out;
	}
	if (n > maxtrades) {
		fail(&sc, data_at, ERR_TOO_BIG);
		goto out;
	}
	msg->ntrades = n;
	for (i = 0; i < n; i++)
		msg->nvalid += (size_t)trades[i].valid;
	return (int)len;
out:
	if (err_off != NULL)
		*err_off = (size_t)(sc.err - buf);
	memset(msg, 0, sizeof(*msg));
	msg->kind.p = msg->err.p = (const char *)buf;
	return sc.code;
}

int
feed_decode_trade(const uint8_t *buf, size_t len, struct feed_trade *t,
    char *scratch, size_t scratchlen, size_t *err_off)
{
	const uint8_t *p = buf, *end;
	struct scan sc;

	memset(t, 0, sizeof(*t));
	if (err_off != NULL)
		*err_off = 0;
	if (len > FEED_MAX_MSG)
		return ERR_TOO_BIG;
	memset(&sc, 0, sizeof(sc));
	end = sc.end = buf + len;
	sc.scratch = scratch;
	sc.cap = scratch != NULL ? scratchlen : 0;
	WS(p, end);
	if (!AT(p, end, '{')) {
		fail(&sc, p, ERR_MALFORMED);
		goto out;
	}
	if ((p = decode_trade(&sc, p, t)) == NULL)
		goto out;
	WS(p, end);
	if (p == end)
		return (int)len;
	fail(&sc, p, ERR_MALFORMED);
out:
	if (err_off != NULL)
		*err_off = (size_t)(sc.err - buf);
	memset(t, 0, sizeof(*t));
	t->bad = FEED_BAD_LAST;
	return sc.code;
}

const char *
feed_bad_str(int bad)
{
	static const char *const names[] = {
	    [FEED_BAD_NONE] = "valid",
	    [FEED_BAD_NO_S] = "no symbol (s)",
	    [FEED_BAD_NO_P] = "no price (p)",
	    [FEED_BAD_NO_V] = "no volume (v)",
	    [FEED_BAD_NO_T] = "no time (t)",
	    [FEED_BAD_S] = "bad symbol (s)",
	    [FEED_BAD_P] = "bad price (p)",
	    [FEED_BAD_V] = "bad volume (v)",
	    [FEED_BAD_T] = "bad time (t)",
	    [FEED_BAD_C] = "bad conditions (c)",
	    [FEED_BAD_DUP] = "duplicate key",
	};

	if (bad < 0 || bad >= FEED_BAD_LAST)
		return "unknown";
	return names[bad];
}

/* ---- writers ---------------------------------------------------------- */

/* What a byte becomes inside a JSON string: 0 itself, else its escape
 * letter, or 'u' for \u00XX. */
static inline char
esc_char(uint8_t c)
{
	if (c >= 0x20)
		return c == '"' ? '"' : c == '\\' ? '\\' : c == 0x7f ? 'u' : 0;
	switch (c) {
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	default:
		return 'u';
	}
}

/* Escape n bytes of s into o (room for 6n bytes); returns the length. */
static size_t
escape_into(char *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *start = o, e;
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if ((e = esc_char(c)) == 0) {
			*o++ = (char)c;
		} else if (e != 'u') {
			*o++ = '\\';
			*o++ = e;
		} else {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		}
	}
	return (size_t)(o - start);
}

static size_t
escaped_len(const char *s, size_t n)
{
	size_t i, len = n;
	char e;

	for (i = 0; i < n; i++)
		if ((e = esc_char((uint8_t)s[i])) != 0)
			len += e == 'u' ? 5 : 1;
	return len;
}

size_t
feed_trade_value(const struct feed_trade *t, uint8_t *dst, size_t dstlen)
{
	char *o = (char *)dst, tbuf[20];
	size_t slen, need, clen, tlen;

	if (!t->valid)
		return 0;
	slen = escaped_len(t->s.p, t->s.len);
	clen = t->c.p != NULL ? t->c.len : 4;
	tlen = put_u64(tbuf, (uint64_t)t->t);
	/* {"s":"  ","p":  ,"v":  ,"t":  ,"c":  } */
	need = 6 + slen + 6 + t->p_tok.len + 5 + t->v_tok.len + 5 + tlen + 5 +
	       clen + 1;
	if (need > dstlen)
		return 0;
	memcpy(o, "{\"s\":\"", 6);
	o += 6;
	if (LIKELY(slen == t->s.len)) {
		memcpy(o, t->s.p, slen);
		o += slen;
	} else {
		o += escape_into(o, t->s.p, t->s.len);
	}
	memcpy(o, "\",\"p\":", 6);
	o += 6;
	memcpy(o, t->p_tok.p, t->p_tok.len);
	o += t->p_tok.len;
	memcpy(o, ",\"v\":", 5);
	o += 5;
	memcpy(o, t->v_tok.p, t->v_tok.len);
	o += t->v_tok.len;
	memcpy(o, ",\"t\":", 5);
	o += 5;
	memcpy(o, tbuf, tlen);
	o += tlen;
	memcpy(o, ",\"c\":", 5);
	o += 5;
	memcpy(o, t->c.p != NULL ? t->c.p : "null", clen);
	o += clen;
	*o++ = '}';
	return (size_t)(o - (char *)dst);
}

void
feed_encode_string(struct wbuf *w, const char *s, size_t n)
{
	size_t len;

	if (n > (SIZE_MAX - 2) / 6 ||
	    wbuf_reserve(w, (len = escaped_len(s, n)) + 2) != 0) {
		if (w->err == 0)
			w->err = ERR_TOO_BIG;
		return;
	}
	w->buf[w->len++] = '"';
	w->len += escape_into((char *)w->buf + w->len, s, n);
	w->buf[w->len++] = '"';
}

void
feed_encode_subscribe(struct wbuf *w, const char *type, const char *symbol)
{
	wbuf_put(w, "{\"type\":", 8);
	feed_encode_string(w, type, strlen(type));
	wbuf_put(w, ",\"symbol\":", 10);
	feed_encode_string(w, symbol, strlen(symbol));
	wbuf_put(w, "}", 1);
}
