/*
 * kafka_records.h: (2)/(2') Kafka RecordBatch v2 (magic 2): parse,
 * validate, iterate, encode.
 *
 * The feed's hot path encodes trades straight into batches here; the
 * broker validates batches produced by clients, stamps their base offset
 * and serves them verbatim; the aggregator iterates records back out.
 *
 * Layout (offsets from the batch start, big-endian; notes/kafka.md 2.2):
 *
 *	OFF SIZE FIELD
 *	  0   8  baseOffset          broker-assigned; outside the CRC
 *	  8   4  batchLength         bytes after this field (total - 12)
 *	 12   4  partitionLeaderEpoch outside the CRC
 *	 16   1  magic               2
 *	 17   4  crc                 CRC-32C over [21, end)
 *	 21   2  attributes          bits 0-2 codec, 3 LogAppendTime,
 *	                             4 transactional, 5 control
 *	 23   4  lastOffsetDelta
 *	 27   8  baseTimestamp
 *	 35   8  maxTimestamp
 *	 43   8  producerId          -1 when not idempotent
 *	 51   2  producerEpoch
 *	 53   4  baseSequence
 *	 57   4  recordCount
 *	 61   -  records             (one compressed blob when codec != 0)
 *
 * Record (varints zigzag): length, attributes i8, timestampDelta varlong,
 * offsetDelta varint, keyLength varint (-1 null), key, valueLength varint
 * (-1 null), value, headerCount varint, headers [keyLength (>= 0), key,
 * valueLength (-1 null), value].
 *
 * Pure code: no I/O, no allocation (the encoder grows the caller's wbuf).
 */
#ifndef PROTO_KAFKA_RECORDS_H
#define PROTO_KAFKA_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "base/byteorder.h"
#include "proto/rbuf.h"
#include "proto/wbuf.h"

#define KAFKA_BATCH_HEADER_LEN 61 /* bytes before the first record */
#define KAFKA_BATCH_LEN_OFF    12 /* bytes up to and including batchLength */
#define KAFKA_BATCH_CRC_START  21 /* the CRC covers [21, end) */
#define KAFKA_BATCH_MIN_LENGTH (KAFKA_BATCH_HEADER_LEN - KAFKA_BATCH_LEN_OFF)

/* Field offsets of the table above. */
#define KAFKA_BATCH_OFF_BASE_OFFSET       0
#define KAFKA_BATCH_OFF_LENGTH            8
#define KAFKA_BATCH_OFF_LEADER_EPOCH      12
#define KAFKA_BATCH_OFF_MAGIC             16
#define KAFKA_BATCH_OFF_CRC               17
#define KAFKA_BATCH_OFF_ATTRIBUTES        21
#define KAFKA_BATCH_OFF_LAST_OFFSET_DELTA 23
#define KAFKA_BATCH_OFF_BASE_TIMESTAMP    27
#define KAFKA_BATCH_OFF_MAX_TIMESTAMP     35
#define KAFKA_BATCH_OFF_PRODUCER_ID       43
#define KAFKA_BATCH_OFF_PRODUCER_EPOCH    51
#define KAFKA_BATCH_OFF_BASE_SEQUENCE     53
#define KAFKA_BATCH_OFF_RECORD_COUNT      57

/*
 * Fixed fields of a batch already validated (kafka_batch_parse), for
 * readers that keep batches whole (the seglog).  b points at the batch
 * start and holds at least KAFKA_BATCH_HEADER_LEN bytes.
 */
static inline int32_t
kafka_batch_length(const uint8_t *b)
{
	return (int32_t)be32_load(b + KAFKA_BATCH_OFF_LENGTH);
}

static inline int32_t
kafka_batch_last_offset_delta(const uint8_t *b)
{
	return (int32_t)be32_load(b + KAFKA_BATCH_OFF_LAST_OFFSET_DELTA);
}

static inline int64_t
kafka_batch_max_timestamp(const uint8_t *b)
{
	return (int64_t)be64_load(b + KAFKA_BATCH_OFF_MAX_TIMESTAMP);
}

static inline int32_t
kafka_batch_record_count(const uint8_t *b)
{
	return (int32_t)be32_load(b + KAFKA_BATCH_OFF_RECORD_COUNT);
}

/* attributes bits */
#define KAFKA_ATTR_CODEC_MASK      0x07
#define KAFKA_ATTR_LOG_APPEND_TIME 0x08
#define KAFKA_ATTR_TRANSACTIONAL   0x10
#define KAFKA_ATTR_CONTROL         0x20

enum kafka_codec {
	KAFKA_CODEC_NONE = 0,
	KAFKA_CODEC_GZIP = 1,
	KAFKA_CODEC_SNAPPY = 2,
	KAFKA_CODEC_LZ4 = 3,
	KAFKA_CODEC_ZSTD = 4
};

/* A parsed batch header; records points into the parsed bytes. */
struct kafka_batch {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
	const uint8_t *records; /* the records area, after the header */
	size_t records_len;
	size_t total_len; /* 12 + batch_length */
};

/*
 * Parse the batch header at the start of p (n bytes available; more
 * batches may follow).  Returns the batch's total length (12 +
 * batchLength, > 0) when the whole batch is in p; 0 when p holds less
 * (fewer than 17 bytes, or fewer than the total); ERR_MALFORMED when
 * batchLength < 49 or would overflow an int; ERR_UNSUPPORTED when magic
 * is not 2 (MessageSet v0/v1).  The length and magic are checked as soon
 * as their bytes are present, before the rest arrives.  *b is filled only
 * when the return is > 0.  Checks no CRC: see kafka_batch_validate.
 */
int kafka_batch_parse(const uint8_t *p, size_t n, struct kafka_batch *b);

/*
 * The broker's checks on one produced batch: p/n must be exactly one
 * batch (n == 12 + batchLength), magic 2, a correct CRC-32C, the control
 * bit clear, codec <= 4, recordCount >= 1 and lastOffsetDelta ==
 * recordCount - 1.  For an uncompressed batch every record is walked too:
 * lengths fit, offsetDeltas are 0, 1, 2, ..., and the records fill the
 * batch exactly with recordCount records.
 *
 * Returns 0 and fills *b (when b is not NULL; on failure *b may be
 * partly filled), or a negative ERR_*: ERR_MALFORMED (lengths, counts,
 * records), ERR_CRC, ERR_UNSUPPORTED (magic 0/1), ERR_PROTO (control
 * bit).  *kafka_err (when not NULL) gets the code for the Produce
 * response: NONE on success, INVALID_RECORD (87) for a control batch,
 * CORRUPT_MESSAGE (2) for anything else.
 * Does not reject compression codecs 1-4: the caller decides per topic
 * (UNSUPPORTED_COMPRESSION_TYPE, 76).
 */
int kafka_batch_validate(
    const uint8_t *p, size_t n, struct kafka_batch *b, int *kafka_err);

/*
 * Set baseOffset (bytes 0..7) of the batch at p; outside the CRC, so the
 * batch stays valid.  p must hold at least 8 bytes.
 */
void kafka_batch_set_base_offset(uint8_t *p, int64_t off);

/* ------------------------------------------------------------------ */
/* Record iteration */

struct kafka_record {
	int64_t offset;    /* base offset + offsetDelta */
	int64_t timestamp; /* base timestamp + delta (maxTimestamp for
			      LogAppendTime batches) */
	int8_t attributes;
	const uint8_t *key; /* NULL when key_len is -1 */
	int32_t key_len;    /* -1 = null */
	const uint8_t *value;
	int32_t value_len; /* -1 = null */
	int32_t header_count;
	const uint8_t *headers; /* header_count headers, validated */
	size_t headers_len;
};

struct kafka_rec_iter {
	struct rbuf r;
	int64_t base_offset;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int log_append_time;
	int32_t left; /* records still to return */
	int err;      /* ERR_UNSUPPORTED for a compressed batch */
};

/*
 * Start iterating the records of b (from kafka_batch_parse or _validate),
 * which must stay valid while iterating.  A compressed batch makes
 * kafka_records_next return ERR_UNSUPPORTED.
 */
void kafka_records_init(struct kafka_rec_iter *it, const struct kafka_batch *b);

/*
 * The next record: 1 and *rec (pointers into the batch), 0 after the last
 * of recordCount records, or a negative ERR_* (ERR_MALFORMED when a
 * length does not fit the bytes left or a record's length field disagrees
 * with its contents; sticky).  Bytes left over after the last record are
 * not an error here (kafka_batch_validate rejects them).
 */
int kafka_records_next(struct kafka_rec_iter *it, struct kafka_record *rec);

/*
 * Headers of a record: kafka_rec_header_next(&p, &left, ...) returns 1
 * and the next header (key non-null, value len -1 = null) or 0 at the end
 * of the bytes.  Start with p = rec->headers, left = rec->headers_len;
 * they were validated by kafka_records_next.
 */
int kafka_rec_header_next(const uint8_t **p, size_t *left, const uint8_t **key,
    int32_t *key_len, const uint8_t **value, int32_t *value_len);

/* ------------------------------------------------------------------ */
/* Encoding */

/*
 * A batch being appended to a wbuf.  Records carry no headers; attributes
 * 0 (uncompressed, CreateTime); producerId -1, producerEpoch -1,
 * baseSequence -1, partitionLeaderEpoch -1, baseOffset 0.
 */
struct kafka_batch_enc {
	struct wbuf *w;
	size_t start; /* offset of the batch in w->buf */
	int64_t base_ts;
	int64_t max_ts;
	int32_t count;
};

/*
 * Start a batch at the end of w, with base timestamp base_ts (ms).  Writes
 * the 61-byte header with placeholders.
 */
void kafka_batch_enc_begin(
    struct kafka_batch_enc *e, struct wbuf *w, int64_t base_ts);

/*
 * Append one record: key/klen and val/vlen (len -1 = null, pointer may be
 * NULL then), timestamp ts (ms; any value, stored as ts - base_ts).  One
 * reserve and one copy of the key and value; no allocation beyond the
 * wbuf's growth.
 */
void kafka_batch_enc_add(struct kafka_batch_enc *e, const void *key,
    int32_t klen, const void *val, int32_t vlen, int64_t ts);

/* Records added so far. */
static inline int32_t
kafka_batch_enc_count(const struct kafka_batch_enc *e)
{
	return e->count;
}

/* Bytes the batch occupies so far (header included). */
static inline size_t
kafka_batch_enc_len(const struct kafka_batch_enc *e)
{
	return e->w->len - e->start;
}

/*
 * Finish the batch: patch batchLength, lastOffsetDelta, maxTimestamp,
 * recordCount and the CRC.  Returns the batch length (> 0; the batch is
 * w->buf[e->start .. e->start + len)), ERR_RANGE when no record was added
 * (the header is removed from w again), or w's latched error.
 */
int kafka_batch_enc_end(struct kafka_batch_enc *e);

#endif
