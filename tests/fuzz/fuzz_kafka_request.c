/*
 * fuzz_kafka_request.c: a Kafka request frame as the broker reads it: the
 * size prefix against a limit, the request header, then the body decoder
 * for the header's (api key, version) with a small arena cap.  Decoded
 * slices are read back so the sanitizers see any pointer outside the input.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void
touch(const void *p, int32_t len)
{
	const uint8_t *b = p;
	int32_t i;

	for (i = 0; i < len; i++)
		sink += b[i];
}

static void
touch_str(struct kafka_str s)
{
	touch(s.p, s.len);
}

static void
decode(int key, int16_t ver, const uint8_t *p, size_t n, struct arena *a)
{
	union {
		struct kafka_api_versions_req av;
		struct kafka_metadata_req md;
		struct kafka_produce_req pr;
		struct kafka_fetch_req fe;
		struct kafka_list_offsets_req lo;
	} u;
	size_t eo;
	int32_t i, j;

	switch (key) {
	case KAFKA_API_API_VERSIONS:
		if (kafka_decode_api_versions_req(p, n, ver, &u.av, a, &eo) < 0)
			return;
		touch_str(u.av.client_software_name);
		touch_str(u.av.client_software_version);
		break;
	case KAFKA_API_METADATA:
		if (kafka_decode_metadata_req(p, n, ver, &u.md, a, &eo) < 0)
			return;
		for (i = 0; i < u.md.ntopics; i++)
			touch_str(u.md.topics[i]);
		break;
	case KAFKA_API_PRODUCE:
		if (kafka_decode_produce_req(p, n, ver, &u.pr, a, &eo) < 0)
			return;
		touch_str(u.pr.transactional_id);
		for (i = 0; i < u.pr.ntopics; i++) {
			touch_str(u.pr.topics[i].name);
			for (j = 0; j < u.pr.topics[i].nparts; j++)
				touch(u.pr.topics[i].parts[j].records.p,
				    u.pr.topics[i].parts[j].records.len);
		}
		break;
	case KAFKA_API_FETCH:
		if (kafka_decode_fetch_req(p, n, ver, &u.fe, a, &eo) < 0)
			return;
		for (i = 0; i < u.fe.ntopics; i++) {
			touch_str(u.fe.topics[i].name);
			for (j = 0; j < u.fe.topics[i].nparts; j++)
				sink += (unsigned)u.fe.topics[i]
				            .parts[j]
				            .partition_max_bytes;
		}
		for (i = 0; i < u.fe.nforgotten; i++) {
			touch_str(u.fe.forgotten[i].name);
			for (j = 0; j < u.fe.forgotten[i].nparts; j++)
				sink += (unsigned)u.fe.forgotten[i].parts[j];
		}
		touch_str(u.fe.rack_id);
		break;
	case KAFKA_API_LIST_OFFSETS:
		if (kafka_decode_list_offsets_req(p, n, ver, &u.lo, a, &eo) < 0)
			return;
		for (i = 0; i < u.lo.ntopics; i++) {
			touch_str(u.lo.topics[i].name);
			for (j = 0; j < u.lo.topics[i].nparts; j++)
				sink +=
				    (unsigned)u.lo.topics[i].parts[j].partition;
		}
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kafka_req_header h;
	struct arena a;
	size_t flen, eo;
	int hl, v;

	if (kafka_frame_size(data, size, 1 << 20, &flen) != 1)
		return 0;
	/* Decode what arrived even if the prefix promised more. */
	if (flen > size)
		flen = size;
	hl = kafka_decode_request_header(data + 4, flen - 4, &h, &eo);
	if (hl < 0)
		return 0;
	touch_str(h.client_id);
	arena_init(&a, 64 << 10);
	decode(
	    h.api_key, h.api_version, data + 4 + hl, flen - 4 - (size_t)hl, &a);
	/* The same body under every version of its key, arena reused. */
	for (v = 0; v <= 12; v++) {
		arena_reset(&a);
		decode(h.api_key, (int16_t)v, data + 4 + hl,
		    flen - 4 - (size_t)hl, &a);
	}
	arena_fini(&a);
	return 0;
}
