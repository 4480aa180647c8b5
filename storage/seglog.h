/*
 * seglog.h: (2) the partitioned log, in memory.
 *
 * A seglog holds topics; a topic holds partitions; a partition holds
 * Kafka RecordBatch v2 bytes exactly as a Fetch serves them, packed back to
 * back in refcounted segments (contiguous memory of up to segment_bytes).
 * A Fetch hands a span of a segment to the socket by reference (taking a
 * segment ref, dropped when the bytes have been written), so retention can
 * drop a segment from the partition while a slow reader still holds it,
 * and no byte is copied or re-encoded on the read path.
 *
 * Offsets never go back.  Each partition's offsets are leased: before a
 * partition hands out offsets beyond its persisted lease it writes a new
 * lease (next + SEGLOG_LEASE) to the state file.  After a restart every
 * partition starts empty at its lease, so committed consumer offsets stay
 * meaningful (the gap is what the crash lost).
 *
 * Invariants:
 *  1. In a partition, segments are ordered by offset and batches inside a
 *     segment by baseOffset; start_offset <= end_offset.
 *  2. The baseOffset field (bytes 0..7) of every stored batch equals the
 *     offset the log assigned; nothing else of a batch is changed, so the
 *     CRC (over bytes 21..end) stays valid.
 *  3. end_offset (= high watermark) only grows; start_offset only grows.
 *  4. A segment is freed (or kept for reuse) when it has left its
 *     partition and its last reference is dropped; every reference is
 *     dropped before seglog_free (it checks).
 *
 * Not thread-safe: every call happens on the event-loop thread.
 */
#ifndef STORAGE_SEGLOG_H
#define STORAGE_SEGLOG_H

#include <stddef.h>
#include <stdint.h>

#define SEGLOG_LEASE          ((int64_t)1 << 24)
#define SEGLOG_MAX_TOPIC_NAME 249 /* Kafka's limit */
#define SEGLOG_MAX_PARTITIONS 1024
#define SEGLOG_MAX_TOPICS     4096 /* topics are created by clients */
#define SEGLOG_SEGMENT_BYTES  ((size_t)1 << 20) /* default segment size */
#define SEGLOG_MAX_BATCH      ((size_t)1 << 20) /* default largest batch */
/* Freed segments of segment_bytes kept for reuse (see seglog.c). */
#define SEGLOG_FREE_SEGS 2
/* What a batch costs the budget beyond its bytes: its index entry. */
#define SEGLOG_BATCH_OVERHEAD 24

struct membudget;
struct seglog;
struct seglog_topic;
struct seglog_seg;

struct seglog_limits {
	size_t retention_bytes; /* per partition; 0 = unlimited */
	int64_t retention_ms;   /* per partition; 0 = unlimited */
	/* Charged with every byte the log holds (NULL: none); when it is
	 * full, the oldest segments across all topics go first. */
	struct membudget *budget;
	size_t max_topics;    /* topics seglog_topic_create makes (0: 4096) */
	size_t segment_bytes; /* segment size; a bigger batch gets its own
	                           (0: SEGLOG_SEGMENT_BYTES) */
	size_t
	    max_batch_bytes; /* largest batch accepted (0: SEGLOG_MAX_BATCH) */
	int default_partitions; /* for topics created on first use */
};

/* A run of whole batches inside one segment (see seglog_read). */
struct seglog_span {
	struct seglog_seg *seg;
	const uint8_t *p;
	size_t len;
};

/*
 * A new, empty log.  state_path names the file holding offset leases
 * (NULL: offsets start at 0 and nothing is persisted).  A damaged state
 * file is an error (ERR_MALFORMED), never silently reset; a missing one
 * means a first start.  Returns 0 and *out, or a negative error.
 */
int seglog_new(const struct seglog_limits *lim, const char *state_path,
    struct seglog **out);
/* Free the log; readers must have dropped every segment reference. */
void seglog_free(struct seglog *sl);

/*
 * Flush every partition's exact next offset to the state file (clean
 * shutdown: a restart then continues without a gap).  0, or a negative
 * errno (the persisted leases still hold then).  seglog_free does this
 * too, ignoring errors.  0 without a state file.
 */
int seglog_sync(struct seglog *sl);

/* 1 when name/len is a legal Kafka topic name (see seglog_topic_create). */
int seglog_topic_name_valid(const char *name, size_t len);

/* The topic called name, or NULL. */
struct seglog_topic *seglog_topic_get(
    struct seglog *sl, const char *name, size_t namelen);
/*
 * Create a topic (npart <= 0: the default count).  The name must be a
 * legal Kafka topic name ([a-zA-Z0-9._-], 1..249 bytes, not "." or ".."):
 * ERR_RANGE otherwise, and for npart > SEGLOG_MAX_PARTITIONS; ERR_EXISTS
 * if it exists (*out is set to it then, with the partition count it
 * already has); ERR_TOO_BIG past max_topics (or SEGLOG_MAX_TOPICS).  Topics named in the
 * state file exist from seglog_new on, empty, at their leased offsets.
 */
int seglog_topic_create(struct seglog *sl, const char *name, size_t namelen,
    int npart, struct seglog_topic **out);
/* Iterate topics: idx from 0 until NULL. */
struct seglog_topic *seglog_topic_at(struct seglog *sl, size_t idx);
const char *seglog_topic_name(const struct seglog_topic *t);
int seglog_topic_partitions(const struct seglog_topic *t);

/*
 * Append one RecordBatch v2 (already validated by the caller: magic 2,
 * lengths, CRC) to partition part.  The bytes are copied, and baseOffset
 * in the copy set to the log end offset; the end offset then grows by
 * lastOffsetDelta + 1.  Returns 0 and *base_offset, ERR_RANGE for a bad
 * partition, ERR_TOO_BIG over max_batch_bytes, or a negative errno if the
 * lease could not be persisted (nothing appended then).  Calls the append
 * hook.
 */
int seglog_append(struct seglog_topic *t, int part, const uint8_t *batch,
    size_t len, int64_t now_ms, int64_t *base_offset);

int64_t seglog_start_offset(const struct seglog_topic *t, int part);
int64_t seglog_end_offset(const struct seglog_topic *t, int part);
size_t seglog_bytes(const struct seglog_topic *t, int part);

/*
 * Whole batches from the one containing offset, in order, until adding
 * the next would pass max_bytes (the first batch is always included when
 * first_whole is set, as KIP-74 asks of the first partition of a Fetch).
 * Fills up to maxspans spans and sets *nspans; returns total bytes.
 * Spans are borrowed: a caller that keeps one past the current callback
 * takes seglog_seg_ref() and later seglog_seg_unref().  An offset outside
 * [start, end) yields 0 bytes (the caller checks the range first).
 */
size_t seglog_read(struct seglog_topic *t, int part, int64_t offset,
    size_t max_bytes, int first_whole, struct seglog_span *spans, int maxspans,
    int *nspans);

/*
 * First offset whose record timestamp >= ts, or -1 if none (ListOffsets).
 * The batch is found by binary search on the running maximum of batch
 * maxTimestamps; inside it the records are scanned (a compressed batch
 * answers its base offset).  *found_ts (if not NULL) gets that record's
 * timestamp (-1 if none).
 */
int64_t seglog_offset_for_time(
    struct seglog_topic *t, int part, int64_t ts, int64_t *found_ts);

/*
 * The largest record timestamp ever appended to the partition (a running
 * maximum, so it may belong to a batch retention dropped), or -1 when the
 * partition holds nothing.  With seglog_offset_for_time it finds the
 * newest record (ListOffsets -3).
 */
int64_t seglog_max_timestamp(const struct seglog_topic *t, int part);

void seglog_seg_ref(struct seglog_seg *s);
void seglog_seg_unref(struct seglog_seg *s);

/*
 * A consumer cursor for in-process readers (the aggregator): next_batch
 * returns 1 and the next whole batch at or after c->offset (c->offset then
 * moves past it), 0 at the end of the log, or ERR_RANGE when c->offset
 * fell below the start (retention): c->offset is moved to the start and
 * *lost is set to the number of offsets skipped.  When c->offset lies
 * inside a batch, that whole batch is returned: the caller skips records
 * below the offset it asked for, as Kafka consumers do.  The batch is
 * borrowed like a span.
 */
struct seglog_cursor {
	struct seglog_topic *topic;
	int part;
	int64_t offset;
};
int seglog_cursor_next(
    struct seglog_cursor *c, const uint8_t **batch, size_t *len, int64_t *lost);

/*
 * Offset leases written by another thread (the store's writer; see the
 * comment at the top of seglog.c for how appends wait).  write hands over
 * the whole state file: n bytes at buf (the callee owns buf and free()s
 * it) to be written atomically to path (which stays valid while the log
 * lives); the owner later calls seglog_lease_done(tag, rc) on the
 * log's thread.  wait blocks until every write handed over is done and
 * its seglog_lease_done has been called.  NULL (or write NULL): the log
 * writes its leases itself, on the calling thread.
 */
struct seglog_lease_io {
	void (*write)(
	    void *arg, const char *path, uint8_t *buf, size_t n, uint64_t tag);
	void (*wait)(void *arg);
	void *arg;
};
void seglog_set_lease_io(struct seglog *sl, const struct seglog_lease_io *io);

/* A lease write handed over is done: rc 0 (on disk) or a negative
 * error (the old leases stand; a later append asks again). */
void seglog_lease_done(struct seglog *sl, uint64_t tag, int rc);

/* Called after every append (long-poll wake-up, aggregator). */
typedef void (*seglog_append_hook)(struct seglog_topic *t, int part, void *arg);
void seglog_set_append_hook(
    struct seglog *sl, seglog_append_hook fn, void *arg);

/*
 * Retention by age: drop whole segments, oldest first across all topics,
 * whose newest batch was appended more than retention_ms before now_ms;
 * a partition always keeps its newest segment.  Visits at most
 * SEGLOG_EXPIRE_VISIT segments per call, so a call costs little however
 * many partitions exist (call it again for the rest).  The active
 * segment is rolled once it is retention_ms / SEGLOG_ROLL_DIV old, so age
 * retention also works on slow partitions.  Retention by bytes runs at
 * append time.  Returns bytes released.
 */
#define SEGLOG_ROLL_DIV     8
#define SEGLOG_EXPIRE_VISIT 1024
size_t seglog_expire(struct seglog *sl, int64_t now_ms);

/* Counters for /metrics (plain totals since seglog_new). */
struct seglog_stats {
	uint64_t appends; /* batches */
	uint64_t records; /* recordCount summed over batches */
	uint64_t bytes_appended;
	uint64_t bytes_expired;    /* by retention */
	uint64_t bytes_evicted;    /* by the memory budget */
	uint64_t segments_evicted; /* by the memory budget */
	uint64_t bytes;            /* held in partitions now */
	uint64_t segments;         /* held in partitions now */
	uint64_t lease_writes;     /* state file writes */
	uint64_t lease_waits;      /* appends that waited for a lease write */
};
void seglog_get_stats(const struct seglog *sl, struct seglog_stats *out);

#endif
