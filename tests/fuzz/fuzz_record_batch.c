/*
 * fuzz_record_batch.c: bytes as a partition log or a Produce request
 * carries them: a run of RecordBatch v2, each parsed, validated and
 * iterated (records and headers), whether or not validation passed, since
 * the iterator must be safe on its own.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kafka_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void
touch(const uint8_t *p, int32_t len)
{
	int32_t i;

	for (i = 0; i < len; i++)
		sink += p[i];
}

static void
iterate(const struct kafka_batch *b)
{
	struct kafka_rec_iter it;
	struct kafka_record r;
	const uint8_t *hp, *hk, *hv;
	size_t left;
	int32_t hkl, hvl;

	kafka_records_init(&it, b);
	while (kafka_records_next(&it, &r) == 1) {
		touch(r.key, r.key_len);
		touch(r.value, r.value_len);
		hp = r.headers;
		left = r.headers_len;
		while (
		    kafka_rec_header_next(&hp, &left, &hk, &hkl, &hv, &hvl)) {
			touch(hk, hkl);
			touch(hv, hvl);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kafka_batch b;
	size_t off = 0;
	int rc, kerr;

	while (off < size) {
		rc = kafka_batch_parse(data + off, size - off, &b);
		if (rc <= 0)
			break;
		(void)kafka_batch_validate(data + off, (size_t)rc, &b, &kerr);
		/* validate may fail after parse filled b; parse again. */
		if (kafka_batch_parse(data + off, (size_t)rc, &b) == rc)
			iterate(&b);
		off += (size_t)rc;
	}
	return 0;
}
