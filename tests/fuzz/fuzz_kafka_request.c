/*
 * fuzz_kafka_request.c: a Kafka request frame as the broker reads it: the
 * size prefix against a limit, the request header, then the body decoder
 * for the header's (api key, version) with a small arena cap, for every
 * API the broker serves, the group APIs included.  Decoded
 * slices are read back so the sanitizers see any pointer outside the input.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
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

/* The group APIs; returns 1 when key is one of them. */
static int
decode_group(int key, int16_t ver, const uint8_t *p, size_t n, struct arena *a)
{
	union {
		struct kafka_find_coordinator_req fc;
		struct kafka_join_group_req jg;
		struct kafka_sync_group_req sg;
		struct kafka_heartbeat_req hb;
		struct kafka_leave_group_req lg;
		struct kafka_offset_commit_req oc;
		struct kafka_offset_fetch_req of;
		struct kafka_describe_groups_req dg;
		struct kafka_list_groups_req li;
	} u;
	size_t eo;
	int32_t i, j, k;

	switch (key) {
	case KAFKA_API_FIND_COORDINATOR:
		if (kafka_decode_find_coordinator_req(
		        p, n, ver, &u.fc, a, &eo) >= 0)
			for (i = 0; i < u.fc.nkeys; i++)
				touch_str(u.fc.keys[i]);
		return 1;
	case KAFKA_API_JOIN_GROUP:
		if (kafka_decode_join_group_req(p, n, ver, &u.jg, a, &eo) < 0)
			return 1;
		touch_str(u.jg.group_id);
		touch_str(u.jg.member_id);
		touch_str(u.jg.group_instance_id);
		touch_str(u.jg.protocol_type);
		touch_str(u.jg.reason);
		for (i = 0; i < u.jg.nprotocols; i++) {
			touch_str(u.jg.protocols[i].name);
			touch(u.jg.protocols[i].metadata.p,
			    u.jg.protocols[i].metadata.len);
		}
		return 1;
	case KAFKA_API_SYNC_GROUP:
		if (kafka_decode_sync_group_req(p, n, ver, &u.sg, a, &eo) < 0)
			return 1;
		touch_str(u.sg.member_id);
		touch_str(u.sg.protocol_name);
		for (i = 0; i < u.sg.nassignments; i++) {
			touch_str(u.sg.assignments[i].member_id);
			touch(u.sg.assignments[i].assignment.p,
			    u.sg.assignments[i].assignment.len);
		}
		return 1;
	case KAFKA_API_HEARTBEAT:
		if (kafka_decode_heartbeat_req(p, n, ver, &u.hb, a, &eo) >= 0)
			touch_str(u.hb.member_id);
		return 1;
	case KAFKA_API_LEAVE_GROUP:
		if (kafka_decode_leave_group_req(p, n, ver, &u.lg, a, &eo) >= 0)
			for (i = 0; i < u.lg.nmembers; i++) {
				touch_str(u.lg.members[i].member_id);
				touch_str(u.lg.members[i].reason);
			}
		return 1;
	case KAFKA_API_OFFSET_COMMIT:
		if (kafka_decode_offset_commit_req(p, n, ver, &u.oc, a, &eo) <
		    0)
			return 1;
		for (i = 0; i < u.oc.ntopics; i++) {
			touch_str(u.oc.topics[i].name);
			for (j = 0; j < u.oc.topics[i].nparts; j++)
				touch_str(u.oc.topics[i].parts[j].metadata);
		}
		return 1;
	case KAFKA_API_OFFSET_FETCH:
		if (kafka_decode_offset_fetch_req(p, n, ver, &u.of, a, &eo) < 0)
			return 1;
		for (i = 0; i < u.of.ngroups; i++) {
			touch_str(u.of.groups[i].group_id);
			for (j = 0; j < u.of.groups[i].ntopics; j++) {
				touch_str(u.of.groups[i].topics[j].name);
				for (k = 0; k < u.of.groups[i].topics[j].nparts;
				     k++)
					sink += (unsigned)u.of.groups[i]
					            .topics[j]
					            .parts[k];
			}
		}
		return 1;
	case KAFKA_API_DESCRIBE_GROUPS:
		if (kafka_decode_describe_groups_req(
		        p, n, ver, &u.dg, a, &eo) >= 0)
			for (i = 0; i < u.dg.ngroups; i++)
				touch_str(u.dg.groups[i]);
		return 1;
	case KAFKA_API_LIST_GROUPS:
		if (kafka_decode_list_groups_req(p, n, ver, &u.li, a, &eo) >=
		    0) {
			for (i = 0; i < u.li.nstates; i++)
				touch_str(u.li.states[i]);
			for (i = 0; i < u.li.ntypes; i++)
				touch_str(u.li.types[i]);
		}
		return 1;
	}
	return 0;
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

	if (decode_group(key, ver, p, n, a))
		return;
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
	for (v = 0; v <= 18; v++) {
		arena_reset(&a);
		decode(h.api_key, (int16_t)v, data + 4 + hl,
		    flen - 4 - (size_t)hl, &a);
	}
	arena_fini(&a);
	return 0;
}
