/*
 * colfile.h: (4) the column store's on-disk format: blocks and commit
 * records, as pure functions over bytes.
 *
 * A BLOCK holds the rows of one table for one symbol and one UTC day (a
 * partition), all columns together, each column encoded as colenc.h
 * describes.  Blocks are appended back to back to the files of the store
 * (colstore.h says which); nothing in a block points outside it, so a
 * reader needs only the block's offset.  Integers are big-endian; "var"
 * is a LEB128 uvarint unless said otherwise.
 *
 *	OFF  SIZE    FIELD
 *	  0     4    magic "FSB1" (0x46534231)
 *	  4     4    len: bytes of the whole block, CRC included
 *	             (COLFILE_MIN_BLOCK..COLFILE_MAX_BLOCK)
 *	  8     1    table: 1 trades, 2 bars
 *	  9     1    level: 0 for trades; bars: 0, 1, 2, 3 = buckets of
 *	             1 s, 10 s, 60 s, 3600 s
 *	 10     1    flags: bit 0 (bars only): the bar columns are stored
 *	             as differences (below); other bits 0
 *	 11     1    symlen (1..64)
 *	 12  symlen  symbol (no byte below 0x20)
 *	  -   var    day: days since 1970-01-01 (UTC) of every row
 *	  -   var    rows (1..COLFILE_MAX_ROWS)
 *	  -   var    min_t (ms; for bars the first bucket's start)
 *	  -   var    max_t - min_t
 *	  -   var    ncols (4 for trades, 10 for bars)
 *	  -   var    ncols x column length in bytes
 *	  -    -     the columns, back to back, in the order below
 *	len-4   4    CRC-32C (base/crc32c.h) of bytes [0, len - 4)
 *
 * The header (everything before the columns) fits in the first
 * COLFILE_HEAD_MAX bytes, so an index is built by reading that much of
 * each block.
 *
 * Columns of trades (every trade, in the order the log gave them):
 *	t        INT     trade time, ms since the epoch
 *	price    DEC
 *	volume   DEC
 *	cond     DICT    the "c" array's JSON text as received, or null
 *
 * Columns of bars (one row per bucket touched by one flush: a delta that
 * readers add to the rows before it, see colstore.h):
 *	t        INT     bucket start, ms (a multiple of the level's size)
 *	open, high, low, close   DEC
 *	open_dt, close_dt        INT   ms from t to the trade that set
 *	                               open / close (0 .. size - 1)
 *	volume   DEC     sum of v
 *	count    INT     trades (>= 1)
 *	pv       DEC     sum of p * v
 *
 * With flags bit 0 (COLFILE_F_DIFF), which the encoder sets when every
 * row's differences are exact decimals, high, low, close and pv hold
 * high - max(open, close), min(open, close) - low, close - open and
 * pv - low * volume: small numbers where the raw values are wide (pv is
 * about price * volume), so bars take a third less room.
 *
 * A COMMIT RECORD names everything the store holds at one instant; the
 * store keeps two slots and overwrites the older one (colstore.h).
 *
 *	OFF  SIZE    FIELD
 *	  0     4    magic "FSC1" (0x46534331)
 *	  4     4    len: bytes of the whole record, CRC included
 *	  8     8    seq: 1, 2, 3, ... (the newer slot has the larger)
 *	 16     8    time: wall clock of the commit, ms
 *	 24   var    tail generation, tail length (bytes committed)
 *	  -   var    nfiles, then nfiles x { table (1 byte), day, length },
 *	             sorted by (table, day), no duplicates
 *	  -   var    topic name length (1..249), the name
 *	  -   var    nparts (0..1024), then nparts x the next offset the
 *	             aggregator reads in that partition, then nparts x the
 *	             log's end offset in that partition when the chunk was
 *	             sealed (offsets between the two were appended and are
 *	             not in the store: lost if the daemon dies)
 *	  -   var    trades stored, bars written, offsets lost, records
 *	             skipped as invalid (totals since the store was created)
 *	  -   var    retention floors: first day kept of trades, of bars
 *	len-4   4    CRC-32C of bytes [0, len - 4)
 */
#ifndef STORAGE_COLFILE_H
#define STORAGE_COLFILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/decnum.h"
#include "proto/wbuf.h"
#include "storage/colenc.h"

#define COLFILE_BLOCK_MAGIC  0x46534231u /* "FSB1" */
#define COLFILE_COMMIT_MAGIC 0x46534331u /* "FSC1" */
#define COLFILE_MIN_BLOCK    24
#define COLFILE_MAX_BLOCK    ((size_t)64 << 20)
#define COLFILE_MAX_ROWS     65536
#define COLFILE_HEAD_MAX     192
#define COLFILE_MAX_SYMBOL   64
#define COLFILE_MAX_COMMIT   ((size_t)16 << 20)
#define COLFILE_MAX_FILES    100000
#define COLFILE_MAX_PARTS    1024
#define COLFILE_MAX_TOPIC    249
#define COLFILE_DAY_MS       86400000LL
#define COLFILE_MAX_T        ((int64_t)1 << 53) /* the feed's bound */
#define COLFILE_F_DIFF       0x01 /* bars: columns as differences */

enum colfile_table { COLFILE_TRADES = 1, COLFILE_BARS = 2 };

#define COLFILE_NLEVELS      4
#define COLFILE_TRADES_NCOLS 4
#define COLFILE_BARS_NCOLS   10
#define COLFILE_MAX_NCOLS    10

/* Bucket size in ms of each bars level. */
extern const int64_t colfile_level_ms[COLFILE_NLEVELS];

/* One bar row (a delta: see colstore.h for how rows add up). */
struct colbar {
	int64_t t; /* bucket start, ms */
	struct decnum open, high, low, close;
	int32_t open_dt, close_dt; /* ms after t */
	struct decnum volume;      /* sum of v */
	struct decnum pv;          /* sum of p * v */
	uint64_t count;
};

/* The header of a block, as colfile_head_decode finds it. */
struct colfile_head {
	int table;
	int level;
	int flags;                           /* COLFILE_F_* */
	char symbol[COLFILE_MAX_SYMBOL + 1]; /* NUL-terminated */
	size_t symlen;
	uint32_t day;
	uint32_t rows;
	int64_t min_t, max_t;
	uint32_t len;    /* the whole block */
	size_t head_len; /* bytes before the first column */
	int ncols;
	uint32_t collen[COLFILE_MAX_NCOLS];
};

/* Trades decoded from a block: arrays of rows entries, caller-owned. */
struct colfile_trades {
	int64_t *t;
	struct decnum *price;
	struct decnum *volume;
	struct colenc_str *cond; /* points into the block's bytes */
};

/* Days since the epoch of a time in ms (t >= 0). */
static inline uint32_t
colfile_day(int64_t t_ms)
{
	return (uint32_t)(t_ms / COLFILE_DAY_MS);
}

/*
 * Append a trades block of n rows (1..COLFILE_MAX_ROWS, all of day
 * day(t)) for symbol/symlen (1..64 bytes).  Errors latch in w->err.
 */
void colfile_encode_trades(struct wbuf *w, const char *symbol, size_t symlen,
    const int64_t *t, const struct decnum *price, const struct decnum *volume,
    const struct colenc_str *cond, size_t n, struct colenc_scratch *sc);

/* Append a bars block of n rows of one level and one day. */
void colfile_encode_bars(struct wbuf *w, const char *symbol, size_t symlen,
    int level, const struct colbar *rows, size_t n, struct colenc_scratch *sc);

/*
 * Decode the header of the block at p (n bytes available, which may be
 * less than the whole block).  Returns the block's total length (> 0)
 * and *h; 0 when p holds fewer than COLFILE_HEAD_MAX bytes and the
 * block's header does not fit in what is there; ERR_MALFORMED when the
 * bytes are not a block header (magic, lengths, table, level, symbol,
 * counts, columns that do not add up to len).  Checks no CRC.
 */
int colfile_head_decode(const uint8_t *p, size_t n, struct colfile_head *h);

/*
 * Check a whole block: n must be h->len and the CRC right.  0,
 * ERR_MALFORMED or ERR_CRC.
 */
int colfile_block_check(
    const uint8_t *p, size_t n, const struct colfile_head *h);

/*
 * Decode the columns of a checked trades block p (h from
 * colfile_head_decode) into out, whose arrays hold h->rows entries.
 * Checks that every t lies in [min_t, max_t] with both attained and in
 * the block's day.  0 or ERR_MALFORMED.
 */
int colfile_decode_trades(const uint8_t *p, const struct colfile_head *h,
    struct colfile_trades *out, struct colenc_scratch *sc);

/*
 * Decode a checked bars block into rows[h->rows]: t multiples of the
 * level's size inside the block's day, attaining min_t and max_t;
 * open_dt and close_dt inside the bucket; count >= 1.  0 or
 * ERR_MALFORMED.
 */
int colfile_decode_bars(const uint8_t *p, const struct colfile_head *h,
    struct colbar *rows, struct colenc_scratch *sc);

/* One main file named by a commit record. */
struct colfile_file {
	int table;
	uint32_t day;
	uint64_t len;
};

struct colfile_commit {
	uint64_t seq;
	int64_t time_ms;
	uint64_t tail_gen;
	uint64_t tail_len;
	size_t nfiles;
	struct colfile_file *files; /* malloc()ed by the decoder */
	char topic[COLFILE_MAX_TOPIC + 1];
	size_t nparts;
	int64_t *offsets; /* malloc()ed by the decoder */
	int64_t *ends;    /* nparts entries, malloc()ed by the decoder */
	uint64_t trades, bars, lost, invalid;
	uint32_t floor_day[2]; /* [0] trades, [1] bars */
};

/* Append the record for c (files sorted, counts within the limits). */
void colfile_commit_encode(struct wbuf *w, const struct colfile_commit *c);

/*
 * Decode a commit record that must fill p/n exactly.  Returns 0 and *c
 * (free its arrays with colfile_commit_fini); ERR_MALFORMED for bytes
 * that do not follow the format (counts are checked against the bytes
 * left before anything is allocated), ERR_CRC for a bad checksum,
 * ERR_NOMEM.  On error c holds nothing to free.
 */
int colfile_commit_decode(const uint8_t *p, size_t n, struct colfile_commit *c);
void colfile_commit_fini(struct colfile_commit *c);

#endif
