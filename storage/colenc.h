/*
 * colenc.h: (4) the column encodings of the store: pure functions from an
 * array of values to bytes and back.
 *
 * Three encodings, each chosen for what a trade column holds
 * (notes/storage.md section 4):
 *
 * INT (times, counts, dictionary ids, the integer part of decimals).
 * Either the values themselves (FOR) or their differences (DELTA: v[i] -
 * v[i-1], for times and prices that move by a few ticks), cut into
 * miniblocks of 128; each miniblock stores its minimum and then, bit-
 * packed, every value minus that minimum, with its own width and patched
 * exceptions (PFOR: the few values wider than the chosen width keep their
 * high bits aside).  So one block trade of 2,000,000 shares, or one late
 * trade whose time goes back, widens no more than its own miniblock.
 * Arithmetic is modulo 2^64: any int64 sequence round-trips exactly.
 *
 *	OFF  SIZE   FIELD
 *	  0     1   mode: 0 FOR, 1 DELTA (DELTA only when n >= 2)
 *	  1   var   DELTA: v[0] (zigzag varint)
 *	  -     -   miniblocks over the n (FOR) or n - 1 (DELTA) values x,
 *	            128 values each, the last one shorter:
 *	            var   the miniblock's minimum m (zigzag varint); the
 *	                  values below are u = x - m
 *	              1   b, the width in bits (0..64)
 *	              1   nexc, exceptions (0..128; 0 when b is 64)
 *	              -   ceil(cnt * b / 8) bytes: the low b bits of each
 *	                  value, least significant bit first
 *	              -   nexc x { index in the miniblock (1 byte, strictly
 *	                  increasing), the bits above b (uvarint, > 0) }
 *
 * DEC (prices, volumes, sums): exact decimals (proto/decnum.h) at a
 * common scale S, split into an integer part q = floor(m / 10^k) (INT
 * encoded) and a sparse remainder r = m - q * 10^k, so the sub-penny
 * prints of a cent-priced stock (a few percent of its trades) do not make
 * every price four digits wider.  Values that do not fit the common scale
 * (doubles, or a mantissa that would pass 10^18) are exceptions stored
 * whole; their q slot repeats the previous one.
 *
 *	OFF  SIZE   FIELD
 *	  0     1   S, the common scale (0..18)
 *	  1     1   k, digits in the remainder (0..S)
 *	  2     -   INT column of q (n values)
 *	  -   var   k > 0: nrem (uvarint), then nrem x { row gap (uvarint:
 *	            row - previous row - 1), r (uvarint, 1..10^k - 1) }
 *	  -   var   nexc (uvarint), then nexc x { row gap (uvarint), kind
 *	            (1 byte: 0 decimal, 1 double), decimal: m (zigzag
 *	            varint) and s (1 byte); double: 8 bytes, big-endian
 *	            IEEE bits }
 *
 * A DEC column of sizes (volumes, the sums and differences of bars:
 * those encoded FOR) whose values repeat, as the round and odd lots of a
 * stock's volumes do, may instead be written as a dictionary of its most
 * frequent values (at most 255, in increasing order), an INT column of
 * ids into it, where id ndict (the escape) marks a value left out, and
 * an INT column of those values.  The encoder writes it only when it is
 * shorter than the form above:
 *
 *	OFF  SIZE   FIELD
 *	  0     1   S, the common scale (0..18)
 *	  1     1   255 (COLENC_DEC_DICT)
 *	  2   var   ndict (uvarint, 1..255 and <= n)
 *	  -   var   the smallest value's mantissa at scale S (zigzag varint)
 *	  -     -   ndict - 1 x { the difference to the previous value
 *	            (uvarint, > 0: values strictly increasing, |m| < 10^18) }
 *	  -     -   INT column of ids (n values, each <= ndict; an exception's
 *	            slot holds some id below ndict and is ignored)
 *	  -     -   nrest > 0 (the ids equal to ndict): INT column of their
 *	            mantissas at scale S, none of them in the dictionary
 *	  -   var   the exceptions, as above
 *
 * DICT (trade conditions): the distinct byte strings of the block, then
 * an INT column of indexes into them.
 *
 *	OFF  SIZE   FIELD
 *	  0   var   ndict (uvarint, 1..n)
 *	  -     -   ndict x { len + 1 (uvarint; 0 = null), the bytes }
 *	  -     -   INT column of ids (n values, each < ndict)
 *
 * Encoders append to a wbuf (errors latch in w->err); decoders read with
 * the bounded cursor (proto/rbuf.h) and return 0 or a negative ERR_*
 * (ERR_MALFORMED for anything that does not follow the format), never
 * reading outside the bytes given.  No allocation but the caller's
 * buffers; no I/O.
 */
#ifndef STORAGE_COLENC_H
#define STORAGE_COLENC_H

#include <stddef.h>
#include <stdint.h>

#include "proto/decnum.h"
#include "proto/rbuf.h"
#include "proto/wbuf.h"

#define COLENC_MINIBLOCK    128
#define COLENC_MAX_STR      1024 /* longest dictionary string */
#define COLENC_DEC_DICT     255  /* DEC: the k byte of the dictionary form */
#define COLENC_DEC_DICT_MAX 255  /* DEC: most values in its dictionary */

enum colenc_int_mode {
	COLENC_FOR = 0,
	COLENC_DELTA = 1,
	COLENC_AUTO = 2 /* encoder only: the smaller of the two */
};

/* A dictionary string: len -1 is null (p ignored). */
struct colenc_str {
	const uint8_t *p;
	int32_t len;
};

/* A value and how often it occurs (the DEC encoder's counting). */
struct colenc_cnt {
	int64_t v;
	uint32_t n;
};

/*
 * Scratch buffers the encoders and decoders grow as they need (n is
 * bounded by the caller: a block holds at most COLFILE_MAX_ROWS rows).
 * Zero-initialise; colenc_scratch_fini frees.
 */
struct colenc_scratch {
	int64_t *i64;
	size_t ni64;
	int64_t *i64b; /* DEC dictionary form: values left out */
	size_t ni64b;
	struct colenc_cnt *cnt;
	size_t ncnt;
	uint32_t *u32;
	size_t nu32;
	struct colenc_str *str;
	size_t nstr;
	struct wbuf body; /* for colfile's encoders */
	struct wbuf alt;  /* DEC: the dictionary form, while compared */
	int64_t *iv;      /* colfile's one-column arrays */
	struct decnum *dv;
	struct decnum *df; /* four per row: bar differences */
	size_t nv;
};

void colenc_scratch_fini(struct colenc_scratch *s);

/* Encode n >= 1 values (mode COLENC_FOR, _DELTA or _AUTO). */
void colenc_int_encode(struct wbuf *w, const int64_t *v, size_t n, int mode);

/* Decode n values into out; 0 or ERR_MALFORMED (r->err latched). */
int colenc_int_decode(struct rbuf *r, int64_t *out, size_t n);

/* Encode n >= 1 decimals; qmode is the INT mode of their integer part
 * (COLENC_DELTA for prices, COLENC_FOR for volumes, or COLENC_AUTO). */
void colenc_dec_encode(struct wbuf *w, const struct decnum *v, size_t n,
    int qmode, struct colenc_scratch *sc);

/* Decode n decimals into out (canonical, as decnum_make leaves them); 0
 * or ERR_MALFORMED. */
int colenc_dec_decode(
    struct rbuf *r, struct decnum *out, size_t n, struct colenc_scratch *sc);

/* Encode n >= 1 strings (each len <= COLENC_MAX_STR, or -1: null). */
void colenc_dict_encode(struct wbuf *w, const struct colenc_str *v, size_t n,
    struct colenc_scratch *sc);

/*
 * Decode n strings: out[i] points into the bytes of r (which must
 * outlive them); 0 or ERR_MALFORMED.
 */
int colenc_dict_decode(struct rbuf *r, struct colenc_str *out, size_t n,
    struct colenc_scratch *sc);

#endif
