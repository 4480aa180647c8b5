/*
 * colstore.h: (4) the column store: tables `trades` (every trade) and
 * `bars` (exact 1-second aggregates, with 10 s, 60 s and 3600 s levels
 * rolled up from them), partitioned by symbol and UTC day, on disk under one
 * directory, crash-safe, read through a scan API.
 *
 * Files (blocks and commit records: colfile.h):
 *
 *	DIR/commit.0, DIR/commit.1   the two commit slots; commit N goes to
 *	                             slot N % 2, so a torn write leaves the
 *	                             other (the previous commit) intact
 *	DIR/tail.G                   flushed chunks not yet compacted: small
 *	                             blocks of any table, day and symbol
 *	                             (bars: 1 s deltas), appended per flush
 *	DIR/trades/YYYY-MM-DD        compacted trades of one UTC day: blocks
 *	                             of up to COLSTORE_BLOCK_ROWS rows of one
 *	                             symbol each
 *	DIR/bars/YYYY-MM-DD          compacted bars of one UTC day: levels 0
 *	                             (1 s), 1 (10 s), 2 (60 s), 3 (3600 s)
 *
 * A partition (symbol, day) is the set of blocks of that symbol in the
 * day's files; a day's files hold every symbol's partitions, so a symbol
 * that trades once a minute costs no file descriptor and no file of its
 * own.  All files are append-only; only recovery truncates (to the last
 * commit) and only retention and compaction remove (whole files).
 *
 * Write path (the writer thread; colstore_writer_*):
 *
 *	chunks (agg_window_seal) --flush--> a block per (table, day,
 *	    symbol) of the chunks' rows appended to tail.G, [fsync], commit
 *	    record N+1 with the tail's new length, the log offsets the last
 *	    chunk ends at and the running totals, [fsync]
 *	tail an hour old, or 256 Ki rows (store_compact_rows), or 64 MiB,
 *	    or memory short
 *	    --compact--> the tail's rows, grouped per (table, day, symbol),
 *	    deltas merged per bucket and rolled up to 10 s, 60 s and 3600 s,
 *	    appended to the day files as blocks of COLSTORE_BLOCK_ROWS,
 *	    [fsync], commit N+2 naming the new lengths and tail G+1 (empty),
 *	    [fsync], tail.G removed
 *
 * The chunks stay in memory until compacted (readers scan them there; the
 * tail is read back only by recovery, which compacts it at open), so the
 * tail's many small blocks never cost a reader anything.
 *
 * Bars are deltas: a row of a bucket holds the aggregate of the trades
 * one flush (or one compaction) added to it, and readers merge the rows
 * of a bucket in file order (agg_bar_merge_row), main files first, then
 * the chunks still in memory, then the aggregator's open buckets.  The
 * bars on disk are therefore always the exact aggregate of the trades on
 * disk, and a late trade costs one more small row, never a rewrite.
 * Readers keep merged views (one row per bucket) of the day files' 10 s,
 * 60 s and 3600 s levels and of the chunks in memory, so a chart of a whole
 * day merges a few thousand rows, not every block and chunk again.
 *
 * Invariants:
 *  1. A commit names, for every file, the length up to which its blocks
 *     are complete and durable (with fsync on); bytes past it are a torn
 *     or uncommitted tail and are cut at the next open.
 *  2. The trades and the bar deltas of a chunk enter the store in the
 *     same commit, together with the log offsets the chunk ends at: a
 *     restart resumes the aggregator exactly there (nothing is counted
 *     twice, nothing skipped but what the log no longer holds).
 *  3. Per (symbol, day), file order is arrival order: main-file blocks
 *     precede the tail's, compactions append in tail order, and chunks
 *     leave memory only once their rows are in a main file.
 *  4. The writer thread owns every file descriptor it writes and the
 *     committed state; the loop thread owns the index, the chunks in
 *     memory and its read descriptors.  They share only sealed chunks
 *     (immutable) and file bytes below a committed length (immutable);
 *     what one side changes reaches the other as a struct colstore_done.
 *
 * Not thread-safe beyond invariant 4: the colstore (reader side) is used
 * by one thread, the writer by one thread.
 */
#ifndef STORAGE_COLSTORE_H
#define STORAGE_COLSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/membudget.h"
#include "storage/agg_window.h"
#include "storage/colfile.h"

#define COLSTORE_BLOCK_ROWS    4096 /* rows per compacted block */
#define COLSTORE_COMPACT_ROWS  ((uint64_t)1 << 18)
#define COLSTORE_COMPACT_MS    (60 * 60 * 1000)
#define COLSTORE_COMPACT_BYTES ((uint64_t)64 << 20)
#define COLSTORE_MAX_BUCKETS   ((size_t)1 << 18) /* per scanned series */
#define COLSTORE_MAX_SCAN_ROWS ((size_t)1 << 24)
#define COLSTORE_VIEW_BYTES    ((size_t)32 << 20) /* merged coarse bars kept */

struct colstore_opts {
	const char *dir;        /* the store's directory (created if missing) */
	int fsync;              /* 1: fsync data, then each commit record */
	const char *topic;      /* the log topic the offsets belong to */
	uint64_t compact_rows;  /* 0: COLSTORE_COMPACT_ROWS */
	int64_t compact_ms;     /* 0: COLSTORE_COMPACT_MS */
	uint64_t compact_bytes; /* 0: COLSTORE_COMPACT_BYTES */
	struct membudget *mb;   /* NULL: membudget_global */
};

/* What opening the store found and did (one log line's worth). */
struct colstore_recovery {
	int fresh;                /* no store yet: created */
	uint64_t commit_seq;      /* the commit in force */
	uint64_t truncated_bytes; /* torn or uncommitted bytes cut */
	size_t truncated_files;
	size_t removed_files; /* uncommitted or retired files removed */
	uint64_t tail_rows;   /* rows of the tail compacted at open */
	int damaged;          /* a committed file shorter than its
	                             commit, or a committed block that does
	                             not verify (the rest was kept) */
	char detail[512];     /* the first few things done, for the log */
	/* Where the aggregator resumes (the commit's offsets). */
	char topic[COLFILE_MAX_TOPIC + 1];
	size_t nparts;
	int64_t *offsets; /* malloc()ed; free with colstore_recovery_fini */
	int64_t *ends;    /* the log's ends at that commit (colfile.h) */
	uint64_t trades, bars, lost, invalid;
};

void colstore_recovery_fini(struct colstore_recovery *r);

/*
 * What a writer job changed, handed to the loop thread (colstore_apply).
 * Produced by colstore_writer_*, consumed (and freed) by colstore_apply.
 */
struct colstore_done {
	int err;    /* 0, or why the job failed: nothing it was to do is
	                   on disk then, and the store is as before */
	int failed; /* the store can no longer write (a failure could
	                   not be undone): stop sending it work */
	uint64_t flushed_upto;   /* chunks with seq <= are committed */
	uint64_t compacted_upto; /* chunks with seq <= are in main files */
	size_t nfiles;
	struct colfile_file *files; /* main files' committed lengths now
	                               (every file, after a compaction or a
	                               retirement; else none) */
	uint64_t commit_seq;
	uint64_t trades, bars;  /* totals after this job */
	uint64_t bytes_on_disk; /* committed bytes of every file */
	uint64_t bytes_written;
	int64_t flush_us, compact_us;
	uint64_t compacted_rows;
};

void colstore_done_fini(struct colstore_done *d);

/* ------------------------------------------------------------------ */
/* The writer (one thread) */

struct colstore_writer;

/*
 * Open (or create) the store: read the commit slots, cut every file to
 * its committed length, remove files no commit names, and compact the
 * committed tail into the day files, so the store starts with an empty
 * tail.  Returns 0, *out and *rec; or a negative error: ERR_MALFORMED
 * when data files exist but no commit record is valid (the store is not
 * guessed at: move it aside), -errno for I/O.
 */
int colstore_writer_open(const struct colstore_opts *o,
    struct colstore_recovery *rec, struct colstore_writer **out);

/*
 * Flush chunks[0..n) (sealed, in order; seqs[] their sequence numbers,
 * increasing) in one commit.  The chunks are borrowed until a later
 * done says compacted_upto >= their seq.  On failure the tail is cut
 * back and d->err says why; the caller may send the same chunks again.
 * Then compacts when the tail is big or old enough.  Returns d->err.
 */
int colstore_writer_flush(struct colstore_writer *wr,
    struct agg_chunk *const *chunks, const uint64_t *seqs, size_t n,
    int64_t now_ms, struct colstore_done *d);

/* Compact now if there is anything in the tail (shutdown, tests). */
int colstore_writer_compact(
    struct colstore_writer *wr, struct colstore_done *d);

/*
 * Retention: drop every day of table before floor_day (days since the
 * epoch), in one commit, then remove their files.
 */
int colstore_writer_retire(struct colstore_writer *wr, int table,
    uint32_t floor_day, struct colstore_done *d);

/* Committed state for the reader: every main file and its length
 * (malloc()ed array), and the retention floors. */
void colstore_writer_files(const struct colstore_writer *wr,
    struct colfile_file **files, size_t *nfiles, uint32_t floor_day[2]);

void colstore_writer_close(struct colstore_writer *wr);

/* ------------------------------------------------------------------ */
/* The reader (the event-loop thread) */

struct colstore;

/*
 * The reader over the files the writer committed (files/nfiles as from
 * colstore_writer_files; copied), and the aggregator's window w (may be
 * NULL) for the unflushed tail.  Bars files are indexed now (for the
 * list of symbols); trades files on first use.
 */
struct colstore *colstore_new(const struct colstore_opts *o,
    const struct colfile_file *files, size_t nfiles,
    const uint32_t floor_day[2], const struct agg_window *w);
void colstore_free(struct colstore *cs);

/*
 * A chunk sealed and sent to the writer with sequence number seq (> the
 * previous one): the reader scans it until a done says it is in a main
 * file, then lets it go (colstore_set_release).
 */
void colstore_add_chunk(struct colstore *cs, struct agg_chunk *c, uint64_t seq);

/*
 * What becomes of a chunk that leaves memory in colstore_apply: fn takes
 * it (the reader holds no pointer into it any more), or, with fn NULL
 * (the default), agg_chunk_free at once.  The daemon's store frees them
 * on its writer thread: returning a compaction's worth of arrays to the
 * kernel takes milliseconds.
 */
void colstore_set_release(
    struct colstore *cs, void (*fn)(void *arg, struct agg_chunk *c), void *arg);

/* Chunks held in memory (sealed, not yet in a day file). */
size_t colstore_chunks(const struct colstore *cs);

/* Apply (and free the contents of) what the writer did; chunks now in
 * day files leave memory. */
void colstore_apply(struct colstore *cs, struct colstore_done *d);

/*
 * Retention on the reader side: forget days of table before floor_day
 * (call before sending the writer the same retirement).
 */
void colstore_forget_before(struct colstore *cs, int table, uint32_t floor_day);

/* A scan request: symbols (NULL or empty: every known symbol) over the
 * time range [from_ms, to_ms). */
struct colstore_query {
	const char *const *symbols;
	size_t nsymbols;
	int64_t from_ms, to_ms;
};

/* A JSON text (conditions) or null (p NULL, len -1). */
struct colstore_text {
	const char *p;
	int32_t len;
};

/*
 * One series of a result.  Trades: t, price, volume, cond (sorted by t;
 * ties in arrival order).  Bars: t (bucket start), open, high, low,
 * close, volume, count, pv; buckets without trades are left out.
 * Latest trades: one series, newest first, symbol NULL and rowsym[i]
 * giving each row's symbol.  Arrays are owned by the result.
 */
struct colstore_series {
	const char *symbol;
	size_t n;
	int64_t *t;
	double *price, *volume;
	struct colstore_text *cond;
	double *open, *high, *low, *close, *pv;
	uint64_t *count;
	const char **rowsym;
};

struct colstore_result {
	size_t nseries;
	struct colstore_series *series;
	int64_t bucket_ms;     /* bars: the bucket size */
	int level;             /* bars: the stored level read (0..2) */
	size_t blocks_read;    /* blocks read from disk */
	size_t blocks_skipped; /* blocks of the symbols outside the range */
	int truncated;         /* hit COLSTORE_MAX_SCAN_ROWS or the limit */
	/* private */
	void *mem;
};

void colstore_result_free(struct colstore_result *r);

/*
 * Trades of the query's symbols with t in [from, to).  Returns 0 and
 * *out (free with colstore_result_free); ERR_RANGE for from >= to;
 * ERR_TOO_BIG past COLSTORE_MAX_SCAN_ROWS rows in all (out is then
 * NULL); ERR_MALFORMED or ERR_CRC when a block on disk is damaged (the
 * scan stops; nothing is returned).
 */
int colstore_scan_trades(struct colstore *cs, const struct colstore_query *q,
    struct colstore_result **out);

/*
 * Bars rolled up to buckets of bucket_ms (a positive multiple of 1000),
 * aligned to the epoch: every bucket whose start lies in
 * [floor(from / bucket) * bucket, to) is returned whole.  Reads the
 * coarsest stored level that divides bucket_ms (3600 s, 60 s, 10 s,
 * else 1 s), then the unflushed tail.  ERR_RANGE for a bad bucket or range,
 * ERR_TOO_BIG past COLSTORE_MAX_BUCKETS buckets per series.
 */
int colstore_scan_bars(struct colstore *cs, const struct colstore_query *q,
    int64_t bucket_ms, struct colstore_result **out);

/*
 * The newest trades (by t, then arrival) of the query's symbols in
 * [from, to), at most limit (1..COLSTORE_MAX_SCAN_ROWS) rows, newest
 * first, in one series.
 */
int colstore_latest_trades(struct colstore *cs, const struct colstore_query *q,
    size_t limit, struct colstore_result **out);

/*
 * Every symbol known (in the indexed files, the chunks in memory or the
 * aggregator's window), sorted; *out is a malloc()ed array of pointers
 * owned by the colstore (valid until the next call into it).
 */
size_t colstore_symbols(struct colstore *cs, const char ***out);

/*
 * The time of the oldest data retained (ms): the earliest 1 s bar of
 * the day files past the retention floor, the chunks in memory and the
 * window's pending trades; INT64_MAX when there is none.
 */
int64_t colstore_oldest_ms(const struct colstore *cs);

/*
 * A bucket for a chart of range_ms shown in at most max_points points:
 * the smallest multiple of 1 s that keeps within max_points, rounded up
 * to a multiple of 10 s, 60 s or 3600 s when it is at least that long,
 * so the scan reads a pre-rolled level.
 */
int64_t colstore_pick_bucket(int64_t range_ms, size_t max_points);

/* VWAP of bar i of s: 1 and *out, or 0 when its volume is 0 (null). */
int colstore_bar_vwap(const struct colstore_series *s, size_t i, double *out);

/* ------------------------------------------------------------------ */
/* Offline: --verify-store and --dump-store (read-only) */

/*
 * Check every committed block of the store at dir (CRC, columns, and
 * what the header says of them) without changing anything; write a
 * report to fp.  Bytes past a commit are reported as what the next open
 * will cut, not as damage.  Returns 0 when every committed block
 * verifies, 1 when something is damaged, or a negative error when the
 * store cannot be read at all.
 */
int colstore_verify(const char *dir, FILE *fp);

/*
 * Print the committed rows of table (COLFILE_TRADES or COLFILE_BARS) as
 * tab-separated text: trades "symbol t price volume cond" in file order;
 * bars "symbol t open high low close volume count pv" per 1 s bucket,
 * its deltas merged; exact decimals.  A first line "# commit ..." gives
 * the commit's totals.  0 or a negative error.
 */
int colstore_dump(const char *dir, int table, FILE *fp);

/* File names of a day: "YYYY-MM-DD" into buf (>= 11 bytes). */
void colstore_day_name(uint32_t day, char *buf);

#endif
