/*
 * test_kafka_group_msgs.c: the consumer-group codecs (kafka_group_msgs.h).
 *
 * Requests: golden frames captured from real clients on loopback: kcat
 * 1.7.1 / librdkafka 2.0.2 (rdk_*), kafka-python 2.0.2 (kp_*), kafkajs
 * 2.2.4 (kjs_*) and @platformatic/kafka 1.35 (pk_*, which speaks only the
 * flexible versions).  Each goes through every split point of its size
 * prefix, every truncated header and body, a trailing byte and an
 * unsupported version; then the fields that matter are checked.  Versions
 * no client here sent are built from Apache Kafka 3.9's JSON schemas and
 * decoded the same way.
 *
 * Responses: byte-exact against vectors written field by field from the
 * JSON schemas, one non-flexible and one flexible version per API (and
 * every version's length where a field appears or goes).
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "tests/lib/hex.h"
#include "tests/lib/tap.h"

static const char kjs_commit_v5[] =
    "00000055000800050000000700086b6a732d7465737400046b6a736700000001"
    "001b6b6a732d746573742d343939373866663936363235373561612d36000000"
    "0100046b6a737400000001000000000000000000000005ffff";
static const char kjs_offfetch_v4[] =
    "00000036000900040000000500086b6a732d7465737400046b6a736700000001"
    "00046b6a73740000000400000000000000010000000200000003";
static const char kjs_findcoord_v2[] =
    "00000019000a00020000000000086b6a732d7465737400046b6a736700";
static const char kjs_join_v5[] =
    "0000005a000b00050000000100086b6a732d7465737400046b6a736700002710"
    "0000ea600000ffff0008636f6e73756d6572000000010012526f756e64526f62"
    "696e41737369676e65720000001000000000000100046b6a737400000000";
static const char kjs_join_v5_1[] =
    "00000075000b00050000000200086b6a732d7465737400046b6a736700002710"
    "0000ea60001b6b6a732d746573742d343939373866663936363235373561612d"
    "36ffff0008636f6e73756d6572000000010012526f756e64526f62696e417373"
    "69676e65720000001000000000000100046b6a737400000000";
static const char kjs_leave_v3[] =
    "0000003b000d00030000000a00086b6a732d7465737400046b6a736700000001"
    "001b6b6a732d746573742d343939373866663936363235373561612d36ffff";
static const char kjs_sync_v3[] =
    "00000084000e00030000000400086b6a732d7465737400046b6a736700000001"
    "001b6b6a732d746573742d343939373866663936363235373561612d36ffff00"
    "000001001b6b6a732d746573742d343939373866663936363235373561612d36"
    "0000002400000000000100046b6a737400000004000000000000000100000002"
    "0000000300000000";
static const char kjs_descgrp_v2[] =
    "0000001c000f00020000000500086b6a732d746573740000000100046b6a7367";
static const char kjs_listgrp_v2[] =
    "00000012001000020000000700086b6a732d74657374";
static const char kp_commit_v2[] =
    "00000086000800020000000400076b702d7465737400036b706700000001001a"
    "6b702d746573742d343939373866663936363235373561612d34ffffffffffff"
    "ffff000000010006747261646573000000040000000000000000000000000000"
    "00000001000000000000001e0000000000020000000000000000000000000003"
    "00000000000000000000";
static const char kp_offfetch_v1[] =
    "00000036000900010000000300076b702d7465737400036b7067000000010006"
    "7472616465730000000400000000000000010000000200000003";
static const char kp_offfetch_v3[] =
    "0000001b000900030000000700086b702d61646d696e00036b7067ffffffff";
static const char kp_findcoord_v0[] =
    "00000017000a00000000000400086b702d61646d696e00036b7067";
static const char kp_join_v2[] =
    "0000006d000b00020000000100076b702d7465737400036b7067000027100004"
    "93e000000008636f6e73756d657200000002000572616e676500000012000000"
    "000001000674726164657300000000000a726f756e64726f62696e0000001200"
    "0000000001000674726164657300000000";
static const char kp_leave_v1[] =
    "00000032000d00010000000600076b702d7465737400036b7067001a6b702d74"
    "6573742d343939373866663936363235373561612d34";
static const char kp_sync_v1[] =
    "00000080000e00010000000200076b702d7465737400036b706700000001001a"
    "6b702d746573742d343939373866663936363235373561612d3400000001001a"
    "6b702d746573742d343939373866663936363235373561612d34000000260000"
    "0000000100067472616465730000000400000000000000010000000200000003"
    "00000000";
static const char kp_descgrp_v3[] =
    "0000001c000f00030000000500086b702d61646d696e0000000100036b706700";
static const char kp_listgrp_v1[] =
    "00000012001000010000000300086b702d61646d696e";
static const char pk_commit_v9[] =
    "0000007400080009000000050007706b2d636f6e730004706b67000000011b70"
    "6b2d636f6e732d343939373866663936363235373561612d37000204706b7404"
    "000000000000000000000005ffffffff0000000000010000000000000004ffff"
    "ffff0000000000020000000000000001ffffffff00000000";
static const char pk_findcoord_v6[] =
    "00000019000a0006000000020007706b2d636f6e7300000204706b6700";
static const char pk_join_v9[] =
    "00000048000b0009000000010007706b2d636f6e730004706b67000027100001"
    "8e70010009636f6e73756d6572020b726f756e64726f62696e10000100000001"
    "0003706b74ffffffff000100";
static const char pk_join_v9_1[] =
    "00000062000b0009000000020007706b2d636f6e730004706b67000027100001"
    "8e701b706b2d636f6e732d343939373866663936363235373561612d37000963"
    "6f6e73756d6572020b726f756e64726f62696e100001000000010003706b74ff"
    "ffffff000100";
static const char pk_leave_v5[] =
    "00000036000d0005000000060007706b2d636f6e730004706b67021b706b2d63"
    "6f6e732d343939373866663936363235373561612d3700000000";
static const char pk_sync_v5[] =
    "0000008c000e0005000000030007706b2d636f6e730004706b67000000011b70"
    "6b2d636f6e732d343939373866663936363235373561612d370009636f6e7375"
    "6d65720b726f756e64726f62696e021b706b2d636f6e732d3439393738666639"
    "36363235373561612d37240000000000010003706b7400000004000000000000"
    "00010000000200000003000000000000";
static const char pk_descgrp_v5[] =
    "0000001a000f0005000000020008706b2d61646d696e000204706b670000";
static const char pk_listgrp_v5[] =
    "0000001e00100005000000010008706b2d61646d696e00010208636c61737369"
    "6300";
static const char rdk_commit_v7[] =
    "0000005b0008000700000008000772646b61666b610004677270310000000100"
    "1a72646b61666b612d343939373866663936363235373561612d31ffff000000"
    "01000674726164657300000001000000000000000000000032ffffffff0000";
static const char rdk_offfetch_v7[] =
    "000000330009000700000008000772646b61666b610005677270320207747261"
    "6465730500000000000000010000000200000003000100";
static const char rdk_findcoord_v2[] =
    "00000018000a000200000003000772646b61666b6100046772703100";
static const char rdk_join_v5[] =
    "00000078000b000500000003000772646b61666b610004677270310000177000"
    "0493e00000ffff0008636f6e73756d657200000002000572616e676500000016"
    "00010000000100067472616465730000000000000000000a726f756e64726f62"
    "696e0000001600010000000100067472616465730000000000000000";
static const char rdk_join_v5_1[] =
    "00000092000b000500000004000772646b61666b610004677270310000177000"
    "0493e0001a72646b61666b612d343939373866663936363235373561612d31ff"
    "ff0008636f6e73756d657200000002000572616e676500000016000100000001"
    "00067472616465730000000000000000000a726f756e64726f62696e00000016"
    "00010000000100067472616465730000000000000000";
static const char rdk_hb_v3[] =
    "00000039000c000300000007000772646b61666b610004677270310000000100"
    "1a72646b61666b612d343939373866663936363235373561612d31ffff";
static const char rdk_leave_v1[] =
    "00000033000d000100000009000772646b61666b61000467727031001a72646b"
    "61666b612d343939373866663936363235373561612d31";
static const char rdk_sync_v3[] =
    "00000083000e000300000006000772646b61666b610004677270310000000100"
    "1a72646b61666b612d343939373866663936363235373561612d31ffff000000"
    "01001a72646b61666b612d343939373866663936363235373561612d31000000"
    "2600000000000100067472616465730000000400000000000000010000000200"
    "00000300000000";
static const char rdk_descgrp_v0[] =
    "0000002f000f000000000004000772646b61666b610000000400036b70670004"
    "677270320004677270310007636b67726f7570";
static const char rdk_listgrp_v0[] =
    "000000110010000000000003000772646b61666b61";

static const struct golden {
	const char *name;
	const char *hex;
	int key;
	int ver;
} goldens[] = {
    {"kjs commit v5", kjs_commit_v5, 8, 5},
    {"kjs offfetch v4", kjs_offfetch_v4, 9, 4},
    {"kjs findcoord v2", kjs_findcoord_v2, 10, 2},
    {"kjs join v5", kjs_join_v5, 11, 5},
    {"kjs join v5 (2)", kjs_join_v5_1, 11, 5},
    {"kjs leave v3", kjs_leave_v3, 13, 3},
    {"kjs sync v3", kjs_sync_v3, 14, 3},
    {"kjs descgrp v2", kjs_descgrp_v2, 15, 2},
    {"kjs listgrp v2", kjs_listgrp_v2, 16, 2},
    {"kp commit v2", kp_commit_v2, 8, 2},
    {"kp offfetch v1", kp_offfetch_v1, 9, 1},
    {"kp offfetch v3", kp_offfetch_v3, 9, 3},
    {"kp findcoord v0", kp_findcoord_v0, 10, 0},
    {"kp join v2", kp_join_v2, 11, 2},
    {"kp leave v1", kp_leave_v1, 13, 1},
    {"kp sync v1", kp_sync_v1, 14, 1},
    {"kp descgrp v3", kp_descgrp_v3, 15, 3},
    {"kp listgrp v1", kp_listgrp_v1, 16, 1},
    {"pk commit v9", pk_commit_v9, 8, 9},
    {"pk findcoord v6", pk_findcoord_v6, 10, 6},
    {"pk join v9", pk_join_v9, 11, 9},
    {"pk join v9 (2)", pk_join_v9_1, 11, 9},
    {"pk leave v5", pk_leave_v5, 13, 5},
    {"pk sync v5", pk_sync_v5, 14, 5},
    {"pk descgrp v5", pk_descgrp_v5, 15, 5},
    {"pk listgrp v5", pk_listgrp_v5, 16, 5},
    {"rdk commit v7", rdk_commit_v7, 8, 7},
    {"rdk offfetch v7", rdk_offfetch_v7, 9, 7},
    {"rdk findcoord v2", rdk_findcoord_v2, 10, 2},
    {"rdk join v5", rdk_join_v5, 11, 5},
    {"rdk join v5 (2)", rdk_join_v5_1, 11, 5},
    {"rdk hb v3", rdk_hb_v3, 12, 3},
    {"rdk leave v1", rdk_leave_v1, 13, 1},
    {"rdk sync v3", rdk_sync_v3, 14, 3},
    {"rdk descgrp v0", rdk_descgrp_v0, 15, 0},
    {"rdk listgrp v0", rdk_listgrp_v0, 16, 0},
};

/*
 * Request frames no client here sent, written field by field from the
 * Kafka 3.9 JSON schemas (header v1 or v2, client id "sch").
 */
/* Heartbeat v4: header v2 (client "sch", tags), group "grp1", generation 7,
 * member "member-0-1", instance null, tags. */
static const char sch_hb_v4[] =
    "00000024000c0004000000630003736368000567727031000000070b6d656d62"
    "65722d302d310000";
/* OffsetFetch v8: groups [{"ga", topics [{"trades", [1]}]}, {"gb", topics
 * null}], require_stable 1. */
static const char sch_offfetch_v8[] =
    "0000002800090008000000640003736368000303676102077472616465730200"
    "000001000003676200000100";
/* OffsetFetch v9: groups [{"ga", member "m1", epoch 5, topics [{"trades",
 * [2]}]}], require_stable 0. */
static const char sch_offfetch_v9[] =
    "0000002a000900090000006500037363680002036761036d3100000005020774"
    "7261646573020000000200000000";
/* FindCoordinator v3: compact key "grp1", key type 0. */
static const char sch_findcoord_v3[] =
    "00000015000a00030000006600037363680005677270310000";
/* JoinGroup v0: "grp1", session 10000 (no rebalance timeout yet), member
 * "", "consumer", protocols [{"range", 01 02 03}]. */
static const char sch_join_v0[] =
    "00000035000b0000000000670003736368000467727031000027100000000863"
    "6f6e73756d657200000001000572616e676500000003010203";
/* SyncGroup v0: "grp1", generation 3, member "m1", assignments [{"m1",
 * 0a 0b}]. */
static const char sch_sync_v0[] =
    "00000029000e00000000006800037363680004677270310000000300026d3100"
    "00000100026d31000000020a0b";
/* ListGroups v4: states filter ["Stable"]. */
static const char sch_listgrp_v4[] =
    "0000001700100004000000690003736368000207537461626c6500";
/* DescribeGroups v3: ["grp1"], include authorized operations. */
static const char sch_descgrp_v3[] =
    "00000018000f00030000006a00037363680000000100046772703101";

static const struct golden schema_reqs[] = {
    {"schema Heartbeat v4", sch_hb_v4, 12, 4},
    {"schema OffsetFetch v8", sch_offfetch_v8, 9, 8},
    {"schema OffsetFetch v9", sch_offfetch_v9, 9, 9},
    {"schema FindCoordinator v3", sch_findcoord_v3, 10, 3},
    {"schema JoinGroup v0", sch_join_v0, 11, 0},
    {"schema SyncGroup v0", sch_sync_v0, 14, 0},
    {"schema ListGroups v4", sch_listgrp_v4, 16, 4},
    {"schema DescribeGroups v3", sch_descgrp_v3, 15, 3},
};

union req {
	struct kafka_find_coordinator_req fc;
	struct kafka_join_group_req jg;
	struct kafka_sync_group_req sg;
	struct kafka_heartbeat_req hb;
	struct kafka_leave_group_req lg;
	struct kafka_offset_commit_req oc;
	struct kafka_offset_fetch_req of;
	struct kafka_describe_groups_req dg;
	struct kafka_list_groups_req li;
};

static int
decode_body(int key, int ver, const uint8_t *p, size_t n, union req *u,
    struct arena *a, size_t *err_off)
{
	int16_t v = (int16_t)ver;

	switch (key) {
	case KAFKA_API_FIND_COORDINATOR:
		return kafka_decode_find_coordinator_req(
		    p, n, v, &u->fc, a, err_off);
	case KAFKA_API_JOIN_GROUP:
		return kafka_decode_join_group_req(p, n, v, &u->jg, a, err_off);
	case KAFKA_API_SYNC_GROUP:
		return kafka_decode_sync_group_req(p, n, v, &u->sg, a, err_off);
	case KAFKA_API_HEARTBEAT:
		return kafka_decode_heartbeat_req(p, n, v, &u->hb, a, err_off);
	case KAFKA_API_LEAVE_GROUP:
		return kafka_decode_leave_group_req(
		    p, n, v, &u->lg, a, err_off);
	case KAFKA_API_OFFSET_COMMIT:
		return kafka_decode_offset_commit_req(
		    p, n, v, &u->oc, a, err_off);
	case KAFKA_API_OFFSET_FETCH:
		return kafka_decode_offset_fetch_req(
		    p, n, v, &u->of, a, err_off);
	case KAFKA_API_DESCRIBE_GROUPS:
		return kafka_decode_describe_groups_req(
		    p, n, v, &u->dg, a, err_off);
	case KAFKA_API_LIST_GROUPS:
		return kafka_decode_list_groups_req(
		    p, n, v, &u->li, a, err_off);
	}
	return ERR_UNSUPPORTED;
}

/* Frame, header and body; returns the body offset (caller frees *framep)
 * or -1. */
static int
decode_golden(const struct golden *g, uint8_t **framep, size_t *flenp,
    union req *u, struct arena *a)
{
	struct kafka_req_header h;
	uint8_t *f;
	size_t n, flen = 0;
	int hl, rc;

	f = unhex(g->hex, &n);
	*framep = f;
	*flenp = n;
	if (kafka_frame_size(f, n, 1 << 20, &flen) != 1 || flen != n)
		return -1;
	hl = kafka_decode_request_header(f + 4, n - 4, &h, NULL);
	if (hl <= 0 || h.api_key != g->key || h.api_version != g->ver)
		return -1;
	rc = decode_body(
	    g->key, g->ver, f + 4 + hl, n - 4 - (size_t)hl, u, a, NULL);
	if (rc != (int)(n - 4 - (size_t)hl))
		return -1;
	return 4 + hl;
}

static void
test_golden_generic(const struct golden *g)
{
	struct kafka_req_header h;
	struct arena a;
	union req u;
	uint8_t *f = NULL, *t = NULL;
	size_t n, i, flen, body, blen, eo;
	int rc, bad;

	arena_init(&a, 1 << 20);
	rc = decode_golden(g, &f, &n, &u, &a);
	if (!ok(rc > 0, "%s: frame, header, body decode (%zu bytes)", g->name,
	        n))
		goto out;
	body = (size_t)rc;
	blen = n - body;

	bad = 0;
	for (i = 0; i <= n; i++) {
		rc = kafka_frame_size(f, i, 1 << 20, &flen);
		if (i < 4 ? rc != 0 : rc != 1 || flen != n)
			bad++;
	}
	is_int(bad, 0, "%s: every split point of the size prefix", g->name);
	bad = 0;
	for (i = 0; i < body - 4; i++)
		if (kafka_decode_request_header(f + 4, i, &h, NULL) >= 0)
			bad++;
	is_int(bad, 0, "%s: every truncated header fails", g->name);
	bad = 0;
	for (i = 0; i < blen; i++) {
		arena_reset(&a);
		if ((t = malloc(i ? i : 1)) == NULL)
			abort();
		memcpy(t, f + body, i);
		if (decode_body(g->key, g->ver, t, i, &u, &a, &eo) >= 0)
			bad++;
		free(t);
		t = NULL;
	}
	is_int(bad, 0, "%s: every truncated body (%zu) fails", g->name, blen);
	if ((t = malloc(blen + 1)) == NULL)
		abort();
	memcpy(t, f + body, blen);
	t[blen] = 0;
	arena_reset(&a);
	eo = 0;
	rc = decode_body(g->key, g->ver, t, blen + 1, &u, &a, &eo);
	ok(rc == ERR_MALFORMED && eo == blen, "%s: trailing byte rejected",
	    g->name);
	arena_reset(&a);
	is_int(decode_body(g->key, 99, f + body, blen, &u, &a, NULL),
	    ERR_UNSUPPORTED, "%s: v99 unsupported", g->name);
	/* A tight arena: refused, never overrun. */
	arena_fini(&a);
	arena_init(&a, 16);
	rc = decode_body(g->key, g->ver, f + body, blen, &u, &a, NULL);
	ok(rc == (int)blen || rc == ERR_TOO_BIG,
	    "%s: a 16-byte arena decodes or says ERR_TOO_BIG", g->name);
out:
	free(t);
	free(f);
	arena_fini(&a);
}

static const struct golden *
golden(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++)
		if (strcmp(goldens[i].name, name) == 0)
			return &goldens[i];
	for (i = 0; i < sizeof(schema_reqs) / sizeof(schema_reqs[0]); i++)
		if (strcmp(schema_reqs[i].name, name) == 0)
			return &schema_reqs[i];
	abort();
}

static int
bytes_is(struct kafka_bytes b, const char *hex)
{
	size_t n;
	uint8_t *want = unhex(hex, &n);
	int r = b.len >= 0 && (size_t)b.len == n &&
	        (n == 0 || memcmp(b.p, want, n) == 0);

	free(want);
	return r;
}

static void
test_golden_fields(void)
{
	struct arena a;
	union req u;
	uint8_t *f = NULL;
	size_t n;
	int rc;

	arena_init(&a, 1 << 20);
#define DEC(name)                                                              \
	(free(f), f = NULL, arena_reset(&a),                                   \
	    rc = decode_golden(golden(name), &f, &n, &u, &a))

	DEC("rdk findcoord v2");
	ok(rc > 0 && u.fc.key_type == 0 && u.fc.nkeys == 1 &&
	        kafka_str_eq(u.fc.keys[0], "grp1"),
	    "FindCoordinator v2 (librdkafka): one group key");
	DEC("pk findcoord v6");
	ok(rc > 0 && u.fc.key_type == 0 && u.fc.nkeys == 1 &&
	        kafka_str_eq(u.fc.keys[0], "pkg"),
	    "FindCoordinator v6 (flexible): a batch of one key");
	DEC("schema FindCoordinator v3");
	ok(rc > 0 && u.fc.nkeys == 1 && kafka_str_eq(u.fc.keys[0], "grp1"),
	    "FindCoordinator v3: compact key then key type");

	DEC("rdk join v5");
	ok(rc > 0 && kafka_str_eq(u.jg.group_id, "grp1") &&
	        u.jg.member_id.len == 0 && u.jg.group_instance_id.len == -1 &&
	        kafka_str_eq(u.jg.protocol_type, "consumer") &&
	        u.jg.nprotocols == 2 &&
	        kafka_str_eq(u.jg.protocols[0].name, "range") &&
	        kafka_str_eq(u.jg.protocols[1].name, "roundrobin"),
	    "JoinGroup v5 (librdkafka): new member, range and roundrobin");
	DEC("rdk join v5 (2)");
	ok(rc > 0 && u.jg.member_id.len > 0, "JoinGroup v5: the rejoin "
	                                     "carries the minted id");
	DEC("kjs join v5");
	ok(rc > 0 && kafka_str_eq(u.jg.group_id, "kjsg") &&
	        u.jg.session_timeout_ms == 10000 &&
	        u.jg.rebalance_timeout_ms == 60000 && u.jg.nprotocols == 1 &&
	        kafka_str_eq(u.jg.protocols[0].name, "RoundRobinAssigner"),
	    "JoinGroup v5 (kafkajs): its one protocol, timeouts");
	DEC("kp join v2");
	ok(rc > 0 && u.jg.nprotocols == 2 &&
	        kafka_str_eq(u.jg.protocols[0].name, "range"),
	    "JoinGroup v2 (kafka-python)");
	DEC("pk join v9");
	ok(rc > 0 && kafka_str_eq(u.jg.group_id, "pkg") &&
	        u.jg.session_timeout_ms == 10000 && u.jg.member_id.len == 0 &&
	        u.jg.group_instance_id.len == -1 && u.jg.nprotocols == 1 &&
	        kafka_str_eq(u.jg.protocols[0].name, "roundrobin") &&
	        u.jg.protocols[0].metadata.len == 15 && u.jg.reason.len == 0,
	    "JoinGroup v9 (flexible): compact fields, empty reason");
	DEC("pk join v9 (2)");
	ok(rc > 0 && kafka_str_eq(u.jg.member_id, "pk-cons-49978ff9662575aa-7"),
	    "JoinGroup v9: rejoin after MEMBER_ID_REQUIRED");
	DEC("schema JoinGroup v0");
	ok(rc > 0 && u.jg.session_timeout_ms == 10000 &&
	        u.jg.rebalance_timeout_ms == 10000 && u.jg.nprotocols == 1 &&
	        bytes_is(u.jg.protocols[0].metadata, "010203"),
	    "JoinGroup v0: the rebalance timeout is the session timeout");

	DEC("pk sync v5");
	ok(rc > 0 && u.sg.generation_id == 1 &&
	        kafka_str_eq(u.sg.protocol_type, "consumer") &&
	        kafka_str_eq(u.sg.protocol_name, "roundrobin") &&
	        u.sg.nassignments == 1 &&
	        kafka_str_eq(u.sg.assignments[0].member_id,
	            "pk-cons-49978ff9662575aa-7") &&
	        u.sg.assignments[0].assignment.len == 35,
	    "SyncGroup v5 (flexible): the leader's one assignment");
	DEC("rdk sync v3");
	ok(rc > 0 && u.sg.group_instance_id.len == -1 &&
	        u.sg.protocol_type.len == -1,
	    "SyncGroup v3: instance id null, no protocol fields");
	DEC("schema SyncGroup v0");
	ok(rc > 0 && u.sg.generation_id == 3 && u.sg.nassignments == 1 &&
	        bytes_is(u.sg.assignments[0].assignment, "0a0b"),
	    "SyncGroup v0");

	DEC("rdk hb v3");
	ok(rc > 0 && kafka_str_eq(u.hb.group_id, "grp1") &&
	        u.hb.generation_id == 1 && u.hb.group_instance_id.len == -1,
	    "Heartbeat v3 (librdkafka)");
	DEC("schema Heartbeat v4");
	ok(rc > 0 && u.hb.generation_id == 7 &&
	        kafka_str_eq(u.hb.member_id, "member-0-1"),
	    "Heartbeat v4 (flexible)");

	DEC("kp leave v1");
	ok(rc > 0 && u.lg.nmembers == 1 && u.lg.members[0].member_id.len > 0,
	    "LeaveGroup v1: one member");
	DEC("pk leave v5");
	ok(rc > 0 && u.lg.nmembers == 1 &&
	        kafka_str_eq(
	            u.lg.members[0].member_id, "pk-cons-49978ff9662575aa-7") &&
	        u.lg.members[0].reason.len == -1,
	    "LeaveGroup v5 (flexible): a batch of one, null reason");

	DEC("kp commit v2");
	ok(rc > 0 && u.oc.retention_time_ms == -1 && u.oc.ntopics == 1 &&
	        kafka_str_eq(u.oc.topics[0].name, "trades"),
	    "OffsetCommit v2 (kafka-python): retention -1");
	DEC("pk commit v9");
	ok(rc > 0 && u.oc.generation_id == 1 && u.oc.ntopics == 1 &&
	        u.oc.topics[0].nparts == 3 &&
	        u.oc.topics[0].parts[0].offset == 5 &&
	        u.oc.topics[0].parts[0].leader_epoch == -1 &&
	        u.oc.topics[0].parts[0].metadata.len == -1,
	    "OffsetCommit v9 (flexible): null metadata");

	DEC("kp offfetch v3");
	ok(rc > 0 && u.of.ngroups == 1 && u.of.groups[0].ntopics == -1,
	    "OffsetFetch v3: null topics = every committed topic");
	DEC("rdk offfetch v7");
	ok(rc > 0 && u.of.ngroups == 1 &&
	        kafka_str_eq(u.of.groups[0].group_id, "grp2") &&
	        u.of.groups[0].ntopics == 1 &&
	        u.of.groups[0].topics[0].nparts == 4 &&
	        u.of.groups[0].topics[0].parts[3] == 3 &&
	        u.of.require_stable == 1,
	    "OffsetFetch v7 (librdkafka, flexible): require_stable");
	DEC("schema OffsetFetch v8");
	ok(rc > 0 && u.of.ngroups == 2 && u.of.groups[0].ntopics == 1 &&
	        u.of.groups[0].topics[0].parts[0] == 1 &&
	        u.of.groups[1].ntopics == -1 && u.of.require_stable == 1,
	    "OffsetFetch v8: a batch of groups, null topics in one");
	DEC("schema OffsetFetch v9");
	ok(rc > 0 && u.of.ngroups == 1 &&
	        kafka_str_eq(u.of.groups[0].member_id, "m1") &&
	        u.of.groups[0].member_epoch == 5,
	    "OffsetFetch v9: member id and epoch");

	DEC("pk descgrp v5");
	ok(rc > 0 && u.dg.ngroups == 1 && kafka_str_eq(u.dg.groups[0], "pkg") &&
	        !u.dg.include_authorized_ops,
	    "DescribeGroups v5 (flexible)");
	DEC("schema DescribeGroups v3");
	ok(rc > 0 && u.dg.include_authorized_ops, "DescribeGroups v3: ops");
	DEC("pk listgrp v5");
	ok(rc > 0 && u.li.nstates == 0 && u.li.ntypes == 1 &&
	        kafka_str_eq(u.li.types[0], "classic"),
	    "ListGroups v5 (flexible): types filter");
	DEC("schema ListGroups v4");
	ok(rc > 0 && u.li.nstates == 1 &&
	        kafka_str_eq(u.li.states[0], "Stable"),
	    "ListGroups v4: states filter");
#undef DEC
	free(f);
	arena_fini(&a);
}

/* Response bodies written field by field from the 3.9 schemas. */
/* FindCoordinator v0: error 0, node 1, "127.0.0.1", 9092. */
static const char rsp_fc_v0[] = "00000000000100093132372e302e302e3100002384";
/* FindCoordinator v1: throttle 0, error 0, message null, node, host, port. */
static const char rsp_fc_v1[] =
    "000000000000ffff0000000100093132372e302e302e3100002384";
/* FindCoordinator v6: throttle, [{"grp1", 1, host, 9092, 0, null}, {"tx", -1,
 * "", -1, 15, "no transactions"}]. */
static const char rsp_fc_v6[] =
    "00000000030567727031000000010a3132372e302e302e310000238400000000"
    "037478ffffffff01ffffffff000f106e6f207472616e73616374696f6e730000";
/* JoinGroup v2, the leader's: throttle, error 0, generation 1, "range",
 * leader "m1", member "m1", members [{m1, 00 01}, {m2, 02}]. */
static const char rsp_join_v2[] =
    "00000000000000000001000572616e676500026d3100026d310000000200026d"
    "3100000002000100026d320000000102";
/* JoinGroup v9, a follower's: protocol type and name (nullable), leader
 * "m1", skip_assignment 0, member "m2", no members. */
static const char rsp_join_v9[] =
    "0000000000000000000109636f6e73756d65720672616e6765036d3100036d32"
    "0100";
/* JoinGroup v7: MEMBER_ID_REQUIRED (79), generation -1, null protocol
 * type and name, leader "", member "m3". */
static const char rsp_join_v7_err[] = "00000000004fffffffff000001036d330100";
/* JoinGroup v5: members carry group_instance_id (null, "inst-2"). */
static const char rsp_join_v5_leader[] =
    "00000000000000000002000a726f756e64726f62696e00026d3100026d310000"
    "000200026d31ffff00000002000100026d320006696e73742d320000000102";
/* SyncGroup v1: throttle, error 0, assignment 00 01 "abc". */
static const char rsp_sync_v1[] = "000000000000000000050001616263";
/* SyncGroup v4: throttle, REBALANCE_IN_PROGRESS, empty assignment, tags. */
static const char rsp_sync_v4[] = "00000000001b0100";
/* SyncGroup v5: protocol type and name, assignment "xyz", tags. */
static const char rsp_sync_v5[] =
    "00000000000009636f6e73756d65720672616e67650478797a00";
/* Heartbeat v0: REBALANCE_IN_PROGRESS only. */
static const char rsp_hb_v0[] = "001b";
/* Heartbeat v4: throttle, error 0, tags. */
static const char rsp_hb_v4[] = "00000000000000";
/* LeaveGroup v0: UNKNOWN_MEMBER_ID only. */
static const char rsp_leave_v0[] = "0019";
/* LeaveGroup v5: throttle, error 0, members [{m1, null, 25}]. */
static const char rsp_leave_v5[] = "00000000000002036d310000190000";
/* OffsetCommit v2: [{trades, [{0, 0}, {1, 3}]}]. */
static const char rsp_commit_v2[] =
    "00000001000674726164657300000002000000000000000000010003";
/* OffsetCommit v9: throttle, the same in compact form with tags. */
static const char rsp_commit_v9[] =
    "0000000002077472616465730300000000000000000000010003000000";
/* OffsetFetch v1: [{trades, [{0, 42, "md", 0}, {1, -1, "", 0}]}]. */
static const char rsp_offfetch_v1[] =
    "0000000100067472616465730000000200000000000000000000002a00026d64"
    "000000000001ffffffffffffffff00000000";
/* OffsetFetch v5: throttle, leader epochs (3, -1), top-level error. */
static const char rsp_offfetch_v5[] =
    "000000000000000100067472616465730000000200000000000000000000002a"
    "0000000300026d64000000000001ffffffffffffffffffffffff000000000000";
/* OffsetFetch v7: the v5 fields in compact form, tags. */
static const char rsp_offfetch_v7[] =
    "0000000002077472616465730300000000000000000000002a00000003036d64"
    "00000000000001ffffffffffffffffffffffff0100000000000000";
/* OffsetFetch v8: throttle, groups [{"g", topics, error 0}]. */
static const char rsp_offfetch_v8[] =
    "0000000002026702077472616465730300000000000000000000002a00000003"
    "036d6400000000000001ffffffffffffffffffffffff010000000000000000";
/* DescribeGroups v0: [{0, "g", "Stable", "consumer", "range", [{m1, "cid",
 * "/127.0.0.1", 01, 02 03}]}]. */
static const char rsp_desc_v0[] =
    "0000000100000001670006537461626c650008636f6e73756d6572000572616e"
    "67650000000100026d310003636964000a2f3132372e302e302e310000000101"
    "000000020203";
/* DescribeGroups v5: throttle, compact, instance id null, authorized
 * operations INT32_MIN (not asked for). */
static const char rsp_desc_v5[] =
    "00000000020000026707537461626c6509636f6e73756d65720672616e676502"
    "036d3100046369640b2f3132372e302e302e31020103020300800000000000";
/* ListGroups v0: error 0, [{"g", "consumer"}]. */
static const char rsp_list_v0[] = "0000000000010001670008636f6e73756d6572";
/* ListGroups v5: throttle, error, [{"g", "consumer", "Stable", "classic"}]. */
static const char rsp_list_v5[] =
    "00000000000002026709636f6e73756d657207537461626c6508636c61737369"
    "630000";

static void
check_resp(struct wbuf *w, const char *hex, const char *what)
{
	size_t n;
	uint8_t *want = unhex(hex, &n);

	if (!is_mem(
	        w->buf, w->len, want, n, "%s: byte-exact (%zu bytes)", what, n))
		diag("  got %zu bytes, err %d", w->len, w->err);
	free(want);
	wbuf_reset(w);
}

#define S(x) ((struct kafka_str){(x), (int32_t)sizeof(x) - 1})
#define NS   ((struct kafka_str){NULL, -1})
#define BY(x)                                                                  \
	((struct kafka_bytes){(const uint8_t *)(x), (int32_t)sizeof(x) - 1})

static void
test_responses(void)
{
	struct wbuf w;
	struct kafka_coordinator fc[2];
	struct kafka_join_group_member jm[2];
	struct kafka_join_group_resp jr;
	struct kafka_sync_group_resp sr;
	struct kafka_leave_member lm;
	struct kafka_commit_part cp[2];
	struct kafka_commit_topic ct;
	struct kafka_fetched_part fp[2];
	struct kafka_offset_fetch_topic ft;
	struct kafka_offset_fetch_group fg;
	struct kafka_described_member dm;
	struct kafka_described_group dg;
	struct kafka_listed_group lg;

	wbuf_init(&w, 0);
	memset(fc, 0, sizeof(fc));
	fc[0].key = S("grp1");
	fc[0].node_id = 1;
	fc[0].host = S("127.0.0.1");
	fc[0].port = 9092;
	fc[0].error_message = NS;
	fc[1].key = S("tx");
	fc[1].node_id = -1;
	fc[1].host = S("");
	fc[1].port = -1;
	fc[1].error = 15;
	fc[1].error_message = S("no transactions");
	kafka_encode_find_coordinator_resp(&w, 0, 0, fc, 1);
	check_resp(&w, rsp_fc_v0, "FindCoordinator v0");
	kafka_encode_find_coordinator_resp(&w, 1, 0, fc, 1);
	check_resp(&w, rsp_fc_v1, "FindCoordinator v1");
	kafka_encode_find_coordinator_resp(&w, 6, 0, fc, 2);
	check_resp(&w, rsp_fc_v6, "FindCoordinator v6");

	memset(&jr, 0, sizeof(jr));
	jm[0].member_id = S("m1");
	jm[0].group_instance_id = NS;
	jm[0].metadata = BY("\x00\x01");
	jm[1].member_id = S("m2");
	jm[1].group_instance_id = NS;
	jm[1].metadata = BY("\x02");
	jr.generation_id = 1;
	jr.protocol_type = S("consumer");
	jr.protocol_name = S("range");
	jr.leader = S("m1");
	jr.member_id = S("m1");
	jr.nmembers = 2;
	jr.members = jm;
	kafka_encode_join_group_resp(&w, 2, &jr);
	check_resp(&w, rsp_join_v2, "JoinGroup v2 (leader)");
	jr.member_id = S("m2");
	jr.nmembers = 0;
	kafka_encode_join_group_resp(&w, 9, &jr);
	check_resp(&w, rsp_join_v9, "JoinGroup v9 (follower)");
	jr.error = KAFKA_ERR_MEMBER_ID_REQUIRED;
	jr.generation_id = -1;
	jr.protocol_type = NS;
	jr.protocol_name = NS;
	jr.leader = S("");
	jr.member_id = S("m3");
	kafka_encode_join_group_resp(&w, 7, &jr);
	check_resp(&w, rsp_join_v7_err, "JoinGroup v7 MEMBER_ID_REQUIRED");
	jr.error = 0;
	jr.generation_id = 2;
	jr.protocol_name = S("roundrobin");
	jr.leader = S("m1");
	jr.member_id = S("m1");
	jr.nmembers = 2;
	jm[1].group_instance_id = S("inst-2");
	kafka_encode_join_group_resp(&w, 5, &jr);
	check_resp(&w, rsp_join_v5_leader, "JoinGroup v5 (instance ids)");

	memset(&sr, 0, sizeof(sr));
	sr.protocol_type = S("consumer");
	sr.protocol_name = S("range");
	sr.assignment = BY("\x00\x01"
	                   "abc");
	kafka_encode_sync_group_resp(&w, 1, &sr);
	check_resp(&w, rsp_sync_v1, "SyncGroup v1");
	sr.error = KAFKA_ERR_REBALANCE_IN_PROGRESS;
	sr.assignment.len = 0;
	kafka_encode_sync_group_resp(&w, 4, &sr);
	check_resp(&w, rsp_sync_v4, "SyncGroup v4");
	sr.error = 0;
	sr.assignment = BY("xyz");
	kafka_encode_sync_group_resp(&w, 5, &sr);
	check_resp(&w, rsp_sync_v5, "SyncGroup v5");

	kafka_encode_heartbeat_resp(&w, 0, 0, KAFKA_ERR_REBALANCE_IN_PROGRESS);
	check_resp(&w, rsp_hb_v0, "Heartbeat v0");
	kafka_encode_heartbeat_resp(&w, 4, 0, 0);
	check_resp(&w, rsp_hb_v4, "Heartbeat v4");

	memset(&lm, 0, sizeof(lm));
	lm.member_id = S("m1");
	lm.group_instance_id = NS;
	lm.error = KAFKA_ERR_UNKNOWN_MEMBER_ID;
	kafka_encode_leave_group_resp(
	    &w, 0, 0, KAFKA_ERR_UNKNOWN_MEMBER_ID, &lm, 1);
	check_resp(&w, rsp_leave_v0, "LeaveGroup v0");
	kafka_encode_leave_group_resp(&w, 5, 0, 0, &lm, 1);
	check_resp(&w, rsp_leave_v5, "LeaveGroup v5");

	memset(cp, 0, sizeof(cp));
	cp[1].partition = 1;
	cp[1].error = 3;
	ct.name = S("trades");
	ct.nparts = 2;
	ct.parts = cp;
	kafka_encode_offset_commit_resp(&w, 2, 0, &ct, 1);
	check_resp(&w, rsp_commit_v2, "OffsetCommit v2");
	kafka_encode_offset_commit_resp(&w, 9, 0, &ct, 1);
	check_resp(&w, rsp_commit_v9, "OffsetCommit v9");

	memset(fp, 0, sizeof(fp));
	fp[0].offset = 42;
	fp[0].leader_epoch = 3;
	fp[0].metadata = S("md");
	fp[1].partition = 1;
	fp[1].offset = -1;
	fp[1].leader_epoch = -1;
	fp[1].metadata = S("");
	memset(&ft, 0, sizeof(ft));
	ft.name = S("trades");
	ft.nparts = 2;
	ft.results = fp;
	memset(&fg, 0, sizeof(fg));
	fg.group_id = S("g");
	fg.ntopics = 1;
	fg.topics = &ft;
	kafka_encode_offset_fetch_resp(&w, 1, 0, &fg, 1);
	check_resp(&w, rsp_offfetch_v1, "OffsetFetch v1");
	kafka_encode_offset_fetch_resp(&w, 5, 0, &fg, 1);
	check_resp(&w, rsp_offfetch_v5, "OffsetFetch v5");
	kafka_encode_offset_fetch_resp(&w, 7, 0, &fg, 1);
	check_resp(&w, rsp_offfetch_v7, "OffsetFetch v7");
	kafka_encode_offset_fetch_resp(&w, 8, 0, &fg, 1);
	check_resp(&w, rsp_offfetch_v8, "OffsetFetch v8");

	memset(&dm, 0, sizeof(dm));
	dm.member_id = S("m1");
	dm.group_instance_id = NS;
	dm.client_id = S("cid");
	dm.client_host = S("/127.0.0.1");
	dm.metadata = BY("\x01");
	dm.assignment = BY("\x02\x03");
	memset(&dg, 0, sizeof(dg));
	dg.group_id = S("g");
	dg.state = S("Stable");
	dg.protocol_type = S("consumer");
	dg.protocol_data = S("range");
	dg.nmembers = 1;
	dg.members = &dm;
	dg.authorized_ops = KAFKA_AUTHORIZED_OPS_OMITTED;
	kafka_encode_describe_groups_resp(&w, 0, 0, &dg, 1);
	check_resp(&w, rsp_desc_v0, "DescribeGroups v0");
	kafka_encode_describe_groups_resp(&w, 5, 0, &dg, 1);
	check_resp(&w, rsp_desc_v5, "DescribeGroups v5");

	lg.group_id = S("g");
	lg.protocol_type = S("consumer");
	lg.state = S("Stable");
	lg.type = S("classic");
	kafka_encode_list_groups_resp(&w, 0, 0, 0, &lg, 1);
	check_resp(&w, rsp_list_v0, "ListGroups v0");
	kafka_encode_list_groups_resp(&w, 5, 0, 0, &lg, 1);
	check_resp(&w, rsp_list_v5, "ListGroups v5");
	wbuf_fini(&w);
}

/* Hostile counts are refused before anything is allocated. */
static void
test_hostile_counts(void)
{
	/* JoinGroup v2 claiming 100000000 protocols in a few bytes. */
	static const uint8_t join_huge[] = {0x00, 0x01, 'g', 0x00, 0x00, 0x27,
	    0x10, 0x00, 0x00, 0x27, 0x10, 0x00, 0x00, 0x00, 0x01, 'c', 0x05,
	    0xf5, 0xe1, 0x00};
	/* OffsetFetch v8 with a compact count of 2^31. */
	static const uint8_t ofetch_huge[] = {0x80, 0x80, 0x80, 0x80, 0x08};
	struct arena a;
	union req u;
	size_t eo;

	arena_init(&a, 1 << 20);
	is_int(kafka_decode_join_group_req(
	           join_huge, sizeof(join_huge), 2, &u.jg, &a, &eo),
	    ERR_MALFORMED, "JoinGroup: a protocol count the frame cannot hold");
	is_int(a.used, 0, "nothing allocated for it");
	ok(kafka_decode_offset_fetch_req(
	       ofetch_huge, sizeof(ofetch_huge), 8, &u.of, &a, &eo) < 0,
	    "OffsetFetch v8: an impossible group count");
	is_int(a.used, 0, "nothing allocated for it");
	arena_fini(&a);
}

int
main(void)
{
	size_t i;

	plan_lazy();
	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++)
		test_golden_generic(&goldens[i]);
	for (i = 0; i < sizeof(schema_reqs) / sizeof(schema_reqs[0]); i++)
		test_golden_generic(&schema_reqs[i]);
	test_golden_fields();
	test_responses();
	test_hostile_counts();
	return done_testing();
}
