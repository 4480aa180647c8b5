/*
 * kafka_records.c: RecordBatch v2 parse, validate, iterate and encode (see
 * kafka_records.h).
 *
 * The encoder is on the feed's hot path (millions of records a second):
 * it sizes each record arithmetically, reserves once, writes varints and
 * copies key and value straight into the wbuf, and computes the CRC once
 * per batch at the end.
 */
#include <config.h>

#include <string.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_records.h"

/* The smallest record: length, attributes, 3 zero varints, 2 lengths. */
#define MIN_RECORD_LEN 7

/* Two's-complement add without signed-overflow UB (hostile deltas). */
static inline int64_t
add_wrap(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

int
kafka_batch_parse(const uint8_t *p, size_t n, struct kafka_batch *b)
{
	int32_t blen;
	size_t total;

	if (n < KAFKA_BATCH_LEN_OFF)
		return 0;
	blen = (int32_t)be32_load(p + KAFKA_BATCH_OFF_LENGTH);
	if (blen < KAFKA_BATCH_MIN_LENGTH ||
	    blen > INT32_MAX - KAFKA_BATCH_LEN_OFF)
		return ERR_MALFORMED;
	if (n <= KAFKA_BATCH_OFF_MAGIC)
		return 0;
	if (p[KAFKA_BATCH_OFF_MAGIC] != 2)
		return ERR_UNSUPPORTED;
	total = KAFKA_BATCH_LEN_OFF + (size_t)blen;
	if (n < total)
		return 0;

	b->base_offset = (int64_t)be64_load(p + KAFKA_BATCH_OFF_BASE_OFFSET);
	b->batch_length = blen;
	b->partition_leader_epoch =
	    (int32_t)be32_load(p + KAFKA_BATCH_OFF_LEADER_EPOCH);
	b->magic = (int8_t)p[KAFKA_BATCH_OFF_MAGIC];
	b->crc = be32_load(p + KAFKA_BATCH_OFF_CRC);
	b->attributes = (int16_t)((uint16_t)p[KAFKA_BATCH_OFF_ATTRIBUTES] << 8 |
	                          p[KAFKA_BATCH_OFF_ATTRIBUTES + 1]);
	b->last_offset_delta =
	    (int32_t)be32_load(p + KAFKA_BATCH_OFF_LAST_OFFSET_DELTA);
	b->base_timestamp =
	    (int64_t)be64_load(p + KAFKA_BATCH_OFF_BASE_TIMESTAMP);
	b->max_timestamp =
	    (int64_t)be64_load(p + KAFKA_BATCH_OFF_MAX_TIMESTAMP);
	b->producer_id = (int64_t)be64_load(p + KAFKA_BATCH_OFF_PRODUCER_ID);
	b->producer_epoch =
	    (int16_t)((uint16_t)p[KAFKA_BATCH_OFF_PRODUCER_EPOCH] << 8 |
	              p[KAFKA_BATCH_OFF_PRODUCER_EPOCH + 1]);
	b->base_sequence =
	    (int32_t)be32_load(p + KAFKA_BATCH_OFF_BASE_SEQUENCE);
	b->record_count = (int32_t)be32_load(p + KAFKA_BATCH_OFF_RECORD_COUNT);
	b->records = p + KAFKA_BATCH_HEADER_LEN;
	b->records_len = total - KAFKA_BATCH_HEADER_LEN;
	b->total_len = total;
	return (int)total;
}

/* Walk every record of an uncompressed batch; 0 when they fill it exactly. */
static int
validate_records(const struct kafka_batch *b)
{
	struct kafka_rec_iter it;
	struct kafka_record rec;
	int32_t i;
	int rc;

	if ((size_t)b->record_count > b->records_len / MIN_RECORD_LEN)
		return ERR_MALFORMED;
	kafka_records_init(&it, b);
	for (i = 0; i < b->record_count; i++) {
		if ((rc = kafka_records_next(&it, &rec)) != 1)
			return rc < 0 ? rc : ERR_MALFORMED;
		/* Fresh batches number their records 0, 1, 2, ... */
		if (rec.offset != add_wrap(b->base_offset, i))
			return ERR_MALFORMED;
	}
	if (rbuf_left(&it.r) != 0)
		return ERR_MALFORMED;
	return 0;
}

int
kafka_batch_validate(
    const uint8_t *p, size_t n, struct kafka_batch *b, int *kafka_err)
{
	struct kafka_batch tmp;
	int kerr = KAFKA_ERR_CORRUPT_MESSAGE;
	int rc;

	if (b == NULL)
		b = &tmp;
	rc = kafka_batch_parse(p, n, b);
	if (rc <= 0) {
		if (rc == 0)
			rc = ERR_MALFORMED; /* truncated */
		goto out;
	}
	if ((size_t)rc != n) {
		rc = ERR_MALFORMED; /* not exactly one batch */
		goto out;
	}
	if (crc32c(0, p + KAFKA_BATCH_CRC_START, n - KAFKA_BATCH_CRC_START) !=
	    b->crc) {
		rc = ERR_CRC;
		goto out;
	}
	if (b->attributes & KAFKA_ATTR_CONTROL) {
		/* Only a transaction coordinator writes control batches. */
		kerr = KAFKA_ERR_INVALID_RECORD;
		rc = ERR_PROTO;
		goto out;
	}
	if ((b->attributes & KAFKA_ATTR_CODEC_MASK) > KAFKA_CODEC_ZSTD ||
	    b->record_count < 1 ||
	    b->last_offset_delta != b->record_count - 1) {
		rc = ERR_MALFORMED;
		goto out;
	}
	if ((b->attributes & KAFKA_ATTR_CODEC_MASK) == KAFKA_CODEC_NONE &&
	    (rc = validate_records(b)) != 0)
		goto out;
	rc = 0;
	kerr = KAFKA_ERR_NONE;
out:
	if (kafka_err != NULL)
		*kafka_err = kerr;
	return rc;
}

void
kafka_batch_set_base_offset(uint8_t *p, int64_t off)
{
	be64_store(p + KAFKA_BATCH_OFF_BASE_OFFSET, (uint64_t)off);
}

/* ------------------------------------------------------------------ */
/* Iteration */

void
kafka_records_init(struct kafka_rec_iter *it, const struct kafka_batch *b)
{
	memset(it, 0, sizeof(*it));
	rbuf_init(&it->r, b->records, b->records_len);
	it->base_offset = b->base_offset;
	it->base_timestamp = b->base_timestamp;
	it->max_timestamp = b->max_timestamp;
	it->log_append_time = (b->attributes & KAFKA_ATTR_LOG_APPEND_TIME) != 0;
	it->left = b->record_count > 0 ? b->record_count : 0;
	if ((b->attributes & KAFKA_ATTR_CODEC_MASK) != KAFKA_CODEC_NONE)
		it->err = ERR_UNSUPPORTED;
}

/* A varint length of -1 (null) or 0..left bytes, and the bytes. */
static const uint8_t *
rd_var_bytes(struct rbuf *r, int32_t *len, int nullable)
{
	int32_t n = rbuf_varint(r);

	*len = -1;
	if (r->err)
		return NULL;
	if (n < -1 || (n == -1 && !nullable)) {
		rbuf_fail(r, ERR_MALFORMED);
		return NULL;
	}
	if (n == -1)
		return NULL;
	*len = n;
	return rbuf_bytes(r, (size_t)n);
}

int
kafka_records_next(struct kafka_rec_iter *it, struct kafka_record *rec)
{
	struct rbuf s;
	int32_t len, i, hk, hv;
	int64_t ts_delta;
	int32_t off_delta;

	if (it->err)
		return it->err;
	if (it->left == 0)
		return 0;
	len = rbuf_varint(&it->r);
	if (!it->r.err &&
	    (len < MIN_RECORD_LEN - 1 || (size_t)len > rbuf_left(&it->r)))
		rbuf_fail(&it->r, ERR_MALFORMED);
	if (it->r.err)
		return it->err = it->r.err;
	/* Parse the record inside its own bounds, then step over it. */
	rbuf_init(&s, it->r.p, (size_t)len);
	rbuf_skip(&it->r, (size_t)len);

	rec->attributes = (int8_t)rbuf_u8(&s);
	ts_delta = rbuf_varlong(&s);
	off_delta = rbuf_varint(&s);
	rec->key = rd_var_bytes(&s, &rec->key_len, 1);
	rec->value = rd_var_bytes(&s, &rec->value_len, 1);
	rec->header_count = rbuf_varint(&s);
	if (!s.err && (rec->header_count < 0 ||
	                  (size_t)rec->header_count > rbuf_left(&s) / 2))
		rbuf_fail(&s, ERR_MALFORMED);
	rec->headers = s.p;
	for (i = 0; i < rec->header_count && !s.err; i++) {
		(void)rd_var_bytes(&s, &hk, 0);
		(void)rd_var_bytes(&s, &hv, 1);
	}
	rec->headers_len = (size_t)(s.p - rec->headers);
	if (!s.err && rbuf_left(&s) != 0)
		rbuf_fail(&s, ERR_MALFORMED); /* length disagrees */
	if (s.err)
		return it->err = s.err;

	rec->offset = add_wrap(it->base_offset, off_delta);
	rec->timestamp = it->log_append_time
	                     ? it->max_timestamp
	                     : add_wrap(it->base_timestamp, ts_delta);
	it->left--;
	return 1;
}

int
kafka_rec_header_next(const uint8_t **p, size_t *left, const uint8_t **key,
    int32_t *key_len, const uint8_t **value, int32_t *value_len)
{
	struct rbuf r;

	if (*left == 0)
		return 0;
	rbuf_init(&r, *p, *left);
	*key = rd_var_bytes(&r, key_len, 0);
	*value = rd_var_bytes(&r, value_len, 1);
	if (r.err) {
		/* Not from kafka_records_next: stop rather than overrun. */
		*left = 0;
		return 0;
	}
	*p = r.p;
	*left = rbuf_left(&r);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Encoding */

static inline size_t
uvarint_len(uint64_t v)
{
	return 1 + (size_t)(63 - __builtin_clzll(v | 1)) / 7;
}

static inline uint64_t
zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline uint8_t *
put_uvarint(uint8_t *q, uint64_t v)
{
	while (v >= 0x80) {
		*q++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*q++ = (uint8_t)v;
	return q;
}

void
kafka_batch_enc_begin(
    struct kafka_batch_enc *e, struct wbuf *w, int64_t base_ts)
{
	uint8_t *h;

	e->w = w;
	e->start = w->len;
	e->base_ts = base_ts;
	e->max_ts = base_ts;
	e->count = 0;
	if (wbuf_reserve(w, KAFKA_BATCH_HEADER_LEN) != 0)
		return;
	h = w->buf + w->len;
	memset(h, 0, KAFKA_BATCH_HEADER_LEN);
	be32_store(h + KAFKA_BATCH_OFF_LEADER_EPOCH, UINT32_MAX); /* -1 */
	h[KAFKA_BATCH_OFF_MAGIC] = 2;
	be64_store(h + KAFKA_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
	be64_store(h + KAFKA_BATCH_OFF_PRODUCER_ID, UINT64_MAX); /* -1 */
	h[KAFKA_BATCH_OFF_PRODUCER_EPOCH] =
	    h[KAFKA_BATCH_OFF_PRODUCER_EPOCH + 1] = 0xff;          /* -1 */
	be32_store(h + KAFKA_BATCH_OFF_BASE_SEQUENCE, UINT32_MAX); /* -1 */
	w->len += KAFKA_BATCH_HEADER_LEN;
}

void
kafka_batch_enc_add(struct kafka_batch_enc *e, const void *key, int32_t klen,
    const void *val, int32_t vlen, int64_t ts)
{
	struct wbuf *w = e->w;
	uint64_t zts, zoff, zk, zv;
	size_t body, total, kn, vn;
	uint8_t *q;

	if (klen < 0)
		klen = -1;
	if (vlen < 0)
		vlen = -1;
	kn = klen > 0 ? (size_t)klen : 0;
	vn = vlen > 0 ? (size_t)vlen : 0;
	zts = zigzag((int64_t)((uint64_t)ts - (uint64_t)e->base_ts));
	zoff = zigzag(e->count);
	zk = zigzag(klen);
	zv = zigzag(vlen);
	/* attributes + deltas + key + value + headerCount (0) */
	body = 1 + uvarint_len(zts) + uvarint_len(zoff) + uvarint_len(zk) + kn +
	       uvarint_len(zv) + vn + 1;
	if (body > INT32_MAX) {
		if (!w->err)
			w->err = ERR_TOO_BIG;
		return;
	}
	total = uvarint_len(zigzag((int64_t)body)) + body;
	if (wbuf_reserve(w, total) != 0)
		return;
	q = w->buf + w->len;
	q = put_uvarint(q, zigzag((int64_t)body));
	*q++ = 0;
	q = put_uvarint(q, zts);
	q = put_uvarint(q, zoff);
	q = put_uvarint(q, zk);
	if (kn > 0) {
		memcpy(q, key, kn);
		q += kn;
	}
	q = put_uvarint(q, zv);
	if (vn > 0) {
		memcpy(q, val, vn);
		q += vn;
	}
	*q++ = 0;
	w->len += total;
	if (e->count == 0 || ts > e->max_ts)
		e->max_ts = ts;
	e->count++;
}

int
kafka_batch_enc_end(struct kafka_batch_enc *e)
{
	struct wbuf *w = e->w;
	size_t len;
	uint8_t *h;

	if (w->err)
		return w->err;
	if (e->count == 0) {
		w->len = e->start;
		return ERR_RANGE;
	}
	len = w->len - e->start;
	if (len - KAFKA_BATCH_LEN_OFF > INT32_MAX) {
		w->err = ERR_TOO_BIG;
		return w->err;
	}
	h = w->buf + e->start;
	be32_store(
	    h + KAFKA_BATCH_OFF_LENGTH, (uint32_t)(len - KAFKA_BATCH_LEN_OFF));
	be32_store(
	    h + KAFKA_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(e->count - 1));
	be64_store(h + KAFKA_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)e->max_ts);
	be32_store(h + KAFKA_BATCH_OFF_RECORD_COUNT, (uint32_t)e->count);
	be32_store(h + KAFKA_BATCH_OFF_CRC,
	    crc32c(0, h + KAFKA_BATCH_CRC_START, len - KAFKA_BATCH_CRC_START));
	return (int)len;
}
