/*
 * feed.h: (1) Finnhub's websocket messages: the bounded scanner that turns
 * a message into trades, and the few JSON texts the feed writes (the
 * Kafka record value of a trade, the subscribe request).
 *
 * Finnhub sends one JSON object per websocket text message, its "type"
 * usually last:
 *
 *	{"data":[{"c":["1","24","12"],"p":129.58,"s":"AAPL",
 *	          "t":1672348887666,"v":1}, ...],"type":"trade"}
 *	{"type":"ping"}
 *	{"msg":"Subscribing to too many symbols","type":"error"}
 *	{"data":[...],"type":"news"}		(and other types)
 *
 * The scanner reads such a message in one pass, allocates nothing, and
 * writes only into the arrays the caller gives it.  Number tokens are
 * returned verbatim (so the log stores exactly what Finnhub sent) beside
 * their parsed values; strings point into the message unless they hold
 * backslash escapes, in which case they are unescaped into the caller's
 * scratch buffer.
 *
 * Numbers are converted in the C locale's format: the daemon never calls
 * setlocale(), and a program that sets LC_NUMERIC to a locale whose
 * decimal point is not '.' must not use this module.
 */
#ifndef PROTO_FEED_H
#define PROTO_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wbuf.h"

/*
 * The shortest valid trade object is 27 bytes ({"s":"A","p":1,"v":0,"t":1}),
 * 28 with the comma that separates it from the next one, and the
 * {"data":[ ],"type":"trade"} around the array takes 26 more; so a message
 * of len bytes holds at most len / 28 valid trades.  FEED_MIN_TRADE_BYTES
 * is set below that, at 24, which only makes the array a little longer
 * than needed: a trade array of len / FEED_MIN_TRADE_BYTES + 1 entries
 * always has room for every valid trade.  A
 * message with more array elements than that holds elements that are not
 * valid trades, and fails whole (ERR_TOO_BIG), which is what such garbage
 * deserves.
 */
#define FEED_MIN_TRADE_BYTES 24
/* Longest symbol accepted, in bytes after unescaping (Finnhub: ~20). */
#define FEED_MAX_SYMBOL 64
/* Deepest nesting of objects and arrays, the top-level object being 1. */
#define FEED_MAX_DEPTH 32
/* Largest message feed_decode reads (its offsets must fit an int). */
#define FEED_MAX_MSG ((size_t)1 << 30)

/* A byte range inside the message or the scratch buffer; no NUL. */
struct feed_slice {
	const char *p;
	size_t len;
};

enum feed_msg_type {
	FEED_MSG_OTHER = 0, /* valid JSON of another (or no) type: news... */
	FEED_MSG_TRADE,
	FEED_MSG_PING,
	FEED_MSG_ERROR
};

/* Why a trade is not valid; the first problem met in the object wins. */
enum feed_bad {
	FEED_BAD_NONE = 0,
	FEED_BAD_NO_S, /* "s" absent */
	FEED_BAD_NO_P, /* "p" absent */
	FEED_BAD_NO_V, /* "v" absent */
	FEED_BAD_NO_T, /* "t" absent */
	FEED_BAD_S,    /* not a string of 1..64 bytes without controls */
	FEED_BAD_P,    /* not a finite number > 0 */
	FEED_BAD_V,    /* not a finite number >= 0 */
	FEED_BAD_T,    /* not an integer in 1 .. 2^53-1 */
	FEED_BAD_C,    /* neither null nor an array of strings */
	FEED_BAD_DUP,  /* a key given twice */
	FEED_BAD_LAST
};

struct feed_trade {
	struct feed_slice s;     /* symbol, unescaped (in buf or scratch) */
	struct feed_slice p_tok; /* the price token, verbatim in buf */
	struct feed_slice v_tok; /* the volume token, verbatim in buf */
	struct feed_slice t_tok; /* the time token, verbatim in buf */
	struct feed_slice c;     /* the conditions array's JSON text,
				    verbatim in buf; p NULL for null/absent */
	double p;                /* price */
	double v;                /* volume (0 for price-only updates) */
	int64_t t;               /* UNIX milliseconds */
	int valid;               /* 1: every field above is set and checked */
	int bad;                 /* enum feed_bad; FEED_BAD_NONE when valid */
};

struct feed_msg {
	int type;               /* enum feed_msg_type */
	struct feed_slice kind; /* the "type" string as sent (escapes and
				   all), empty when absent or not a string */
	struct feed_slice err;  /* FEED_MSG_ERROR: the "msg" text,
				   unescaped; empty when absent */
	size_t ntrades;         /* FEED_MSG_TRADE: trades[0 .. ntrades) */
	size_t nvalid;          /* of which valid */
};

/*
 * Decode one complete message of len bytes at buf (a websocket message is
 * never partial, so a JSON text cut short is malformed, not "need more").
 *
 * trades has room for maxtrades entries (len / FEED_MIN_TRADE_BYTES + 1 is
 * always enough for a trade message of valid trades); scratch has
 * scratchlen bytes for unescaped strings (scratchlen >= len is always
 * enough).  Keys may come in any order; unknown keys are skipped,
 * whatever their value, down to FEED_MAX_DEPTH.
 *
 * A trade that lacks a field or has a bad one is kept with valid = 0 and
 * bad saying why, and the rest of the message still decodes: the caller
 * counts and skips it.  Anything that is not JSON fails the whole message.
 *
 * Returns len (> 0) with *msg filled in; for FEED_MSG_TRADE trades[0 ..
 * msg->ntrades) (other types leave trades with unspecified contents and
 * ntrades 0).  The slices point into buf or scratch, which must outlive
 * their use.  Errors, with *err_off (if not NULL) the byte offset of the
 * problem:
 *	ERR_MALFORMED	not JSON, not an object, bytes after the object,
 *			not UTF-8, nesting deeper than FEED_MAX_DEPTH, a key
 *			"data" or "type" given twice, or a trade message
 *			whose "data" is not an array of objects
 *	ERR_TOO_BIG	a trade message with more than maxtrades elements,
 *			len > FEED_MAX_MSG, or scratch too small
 */
int feed_decode(const uint8_t *buf, size_t len, struct feed_msg *msg,
    struct feed_trade *trades, size_t maxtrades, char *scratch,
    size_t scratchlen, size_t *err_off);

/*
 * Decode one trade object alone, such as the Kafka record value that
 * feed_trade_value writes ({"s":..,"p":..,"v":..,"t":..,"c":..}), with
 * the rules of a trade inside a message.  Returns len and *t (t->valid
 * says whether it is a valid trade, t->bad why not); ERR_MALFORMED when
 * the bytes are not one JSON object (t->valid 0), ERR_TOO_BIG when
 * scratch is too small for an escaped symbol.  The aggregator reads the
 * trades topic, whose records may come from any producer, through this.
 */
int feed_decode_trade(const uint8_t *buf, size_t len, struct feed_trade *t,
    char *scratch, size_t scratchlen, size_t *err_off);

/* A short text for enum feed_bad (for logs); never NULL. */
const char *feed_bad_str(int bad);

/*
 * The Kafka record value of a valid trade t (from feed_decode):
 *
 *	{"s":"SYM","p":<p as sent>,"v":<v as sent>,"t":<t>,"c":<c as sent>}
 *
 * with Finnhub's field names, the symbol re-escaped as a JSON string, and
 * "c":null when the feed sent null or nothing.  Writes into dst and
 * returns the length; returns 0 (dst unspecified) when t is not valid or
 * the value does not fit in dstlen bytes.
 */
size_t feed_trade_value(
    const struct feed_trade *t, uint8_t *dst, size_t dstlen);

/*
 * Append {"type":"<type>","symbol":"<symbol>"}: type is "subscribe" or
 * "unsubscribe" (or another of Finnhub's request types), both
 * NUL-terminated UTF-8, escaped as JSON needs.  Errors latch in w->err.
 */
void feed_encode_subscribe(
    struct wbuf *w, const char *type, const char *symbol);

/*
 * Append the n bytes at s (UTF-8) as a quoted JSON string: '"', '\' and
 * control characters escaped, everything else as is.  Errors latch in
 * w->err.
 */
void feed_encode_string(struct wbuf *w, const char *s, size_t n);

#endif
