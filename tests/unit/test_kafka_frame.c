/*
 * test_kafka_frame.c: framing, request/response headers, primitive types
 * and the protocol tables.
 *
 * Golden frames were captured from real clients (kcat 1.7.1 / librdkafka
 * 2.0.2, kafka-python 2.0.2) connecting to a listener on loopback.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kafka_frame.h"
#include "tests/lib/hex.h"
#include "tests/lib/tap.h"

/* librdkafka's first request: ApiVersions v3 (header v2, flexible body). */
static const char rdk_apiver_v3[] =
    "000000240012000300000001000772646b61666b61000b6c696272646b61666b"
    "6106322e302e3200";
/* kafka-python's probe: ApiVersions v0, header v1. */
static const char kp_apiver_v0[] =
    "00000021001200000000000100176b61666b612d707974686f6e2d70726f6475"
    "6365722d31";

static void
test_frame_size(void)
{
	uint8_t buf[256];
	size_t n, i, flen = 0;
	int rc, bad = 0;

	n = unhex_into(rdk_apiver_v3, buf, sizeof(buf));
	for (i = 0; i < 4; i++)
		if (kafka_frame_size(buf, i, 1024, &flen) != 0)
			bad++;
	is_int(bad, 0, "fewer than 4 bytes: need more");
	/* With 4..n bytes the size is known and the frame is complete at n. */
	for (i = 4; i <= n; i++) {
		flen = 0;
		if (kafka_frame_size(buf, i, 1024, &flen) != 1 || flen != n)
			bad++;
	}
	is_int(bad, 0, "every split point from 4 bytes gives frame_len %zu", n);

	memcpy(buf, "\x00\x00\x04\x01", 4);
	is_int(kafka_frame_size(buf, 4, 1024, &flen), ERR_TOO_BIG,
	    "size over max before the body arrives");
	memcpy(buf, "\x00\x00\x04\x00", 4);
	rc = kafka_frame_size(buf, 4, 1024, &flen);
	ok(rc == 1 && flen == 1028, "size == max is fine");
	memcpy(buf, "\x7f\xff\xff\xff", 4);
	is_int(kafka_frame_size(buf, 4, (size_t)1 << 40, &flen), 1,
	    "INT32_MAX accepted under a huge max");
	memcpy(buf, "\xff\xff\xff\xff", 4);
	is_int(kafka_frame_size(buf, 4, 1024, &flen), ERR_MALFORMED,
	    "negative size");
	memcpy(buf, "\x80\x00\x00\x00", 4);
	is_int(kafka_frame_size(buf, 4, (size_t)1 << 40, &flen), ERR_MALFORMED,
	    "INT32_MIN size");
	memcpy(buf, "\x00\x00\x00\x07", 4);
	is_int(kafka_frame_size(buf, 4, 1024, &flen), ERR_MALFORMED,
	    "size below a header's fixed part");
	memcpy(buf, "\x00\x00\x00\x08", 4);
	is_int(kafka_frame_size(buf, 4, 1024, &flen), 1, "size 8 accepted");
}

static void
test_request_header(void)
{
	struct kafka_req_header h;
	uint8_t buf[256];
	size_t n, i, off;
	int rc, bad = 0;

	n = unhex_into(rdk_apiver_v3, buf, sizeof(buf));
	rc = kafka_decode_request_header(buf + 4, n - 4, &h, &off);
	is_int(rc, 2 + 2 + 4 + 2 + 7 + 1, "v3 ApiVersions: header v2 length");
	is_int(h.api_key, KAFKA_API_API_VERSIONS, "api key");
	is_int(h.api_version, 3, "api version");
	is_int(h.correlation_id, 1, "correlation id");
	ok(kafka_str_eq(h.client_id, "rdkafka"), "client id");
	is_int(h.flexible, 1, "flexible");
	for (i = 0; i < (size_t)rc; i++)
		if (kafka_decode_request_header(buf + 4, i, &h, NULL) >= 0)
			bad++;
	is_int(bad, 0, "every truncated header fails");

	/* A version newer than anything we serve still yields the id. */
	buf[4 + 3] = 9;
	rc = kafka_decode_request_header(buf + 4, n - 4, &h, NULL);
	ok(rc == 18 && h.api_version == 9 && h.correlation_id == 1,
	    "ApiVersions v9 header still decodes");

	n = unhex_into(kp_apiver_v0, buf, sizeof(buf));
	rc = kafka_decode_request_header(buf + 4, n - 4, &h, NULL);
	is_int(rc, (int)(n - 4), "v0 ApiVersions: the whole frame is header");
	ok(h.flexible == 0 &&
	        kafka_str_eq(h.client_id, "kafka-python-producer-1"),
	    "kafka-python client id, header v1");

	/* null client id; bad lengths. */
	memcpy(buf, "\x00\x03\x00\x01\x00\x00\x00\x07\xff\xff", 10);
	rc = kafka_decode_request_header(buf, 10, &h, NULL);
	ok(rc == 10 && h.client_id.len == -1 && h.client_id.p == NULL,
	    "null client id");
	memcpy(buf, "\x00\x03\x00\x01\x00\x00\x00\x07\xff\xfe", 10);
	is_int(kafka_decode_request_header(buf, 10, &h, &off), ERR_MALFORMED,
	    "client id length -2");
	memcpy(buf,
	    "\x00\x03\x00\x01\x00\x00\x00\x07\x00\x05"
	    "ab",
	    12);
	is_int(kafka_decode_request_header(buf, 12, &h, &off), ERR_MALFORMED,
	    "client id longer than the frame");
	/* Header v2 with one tagged field (tag 0, 2 bytes), then a bad one. */
	memcpy(
	    buf, "\x00\x12\x00\x03\x00\x00\x00\x07\x00\x00\x01\x00\x02xy", 15);
	is_int(kafka_decode_request_header(buf, 15, &h, NULL), 15,
	    "header tags skipped");
	buf[12] = 9;
	is_int(kafka_decode_request_header(buf, 15, &h, NULL), ERR_MALFORMED,
	    "header tag size past the end");
	/* Unknown api key: header v1. */
	memcpy(buf, "\x03\xe7\x00\x63\x00\x00\x00\x07\x00\x00\x00", 11);
	rc = kafka_decode_request_header(buf, 11, &h, NULL);
	ok(rc == 10 && h.flexible == 0, "unknown key decodes as header v1");
}

static void
test_response_header(void)
{
	struct wbuf w;
	size_t mark;

	wbuf_init(&w, 0);
	kafka_encode_response_header(&w, KAFKA_API_METADATA, 4, 0x01020304);
	is_mem(w.buf, w.len, "\x01\x02\x03\x04", 4, "header v0");
	wbuf_reset(&w);
	kafka_encode_response_header(&w, KAFKA_API_METADATA, 9, 7);
	is_mem(w.buf, w.len, "\x00\x00\x00\x07\x00", 5, "header v1 (flexible)");
	wbuf_reset(&w);
	kafka_encode_response_header(&w, KAFKA_API_API_VERSIONS, 3, 7);
	is_mem(w.buf, w.len, "\x00\x00\x00\x07", 4,
	    "ApiVersions v3 keeps header v0");

	wbuf_reset(&w);
	mark = kafka_frame_begin(&w);
	wbuf_put(&w, "abcdef", 6);
	kafka_frame_end(&w, mark, 100);
	is_mem(w.buf, w.len,
	    "\x00\x00\x00\x6a"
	    "abcdef",
	    10, "frame size counts bytes sent by reference");
	wbuf_fini(&w);
}

static void
test_tables(void)
{
	is_str(kafka_api_name(0), "Produce", "api name 0");
	is_str(kafka_api_name(18), "ApiVersions", "api name 18");
	is_str(kafka_api_name(14), "SyncGroup", "api name 14");
	is_str(kafka_api_name(-1), "Unknown", "api name -1");
	is_str(kafka_api_name(1000), "Unknown", "api name 1000");
	is_str(kafka_err_name(0), "NONE", "err 0");
	is_str(kafka_err_name(35), "UNSUPPORTED_VERSION", "err 35");
	is_str(kafka_err_name(87), "INVALID_RECORD", "err 87");
	is_str(kafka_err_name(-1), "UNKNOWN_SERVER_ERROR", "err -1");
	is_str(kafka_err_name(10000), "UNKNOWN", "err 10000");
	is_int(KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE, 76, "err 76");
	is_int(KAFKA_ERR_MEMBER_ID_REQUIRED, 79, "err 79");
	is_int(KAFKA_ERR_INVALID_REQUEST, 42, "err 42");

	is_int(kafka_first_flexible(KAFKA_API_PRODUCE), 9, "Produce flex 9");
	is_int(kafka_first_flexible(KAFKA_API_FETCH), 12, "Fetch flex 12");
	is_int(
	    kafka_first_flexible(KAFKA_API_LIST_OFFSETS), 6, "ListOffsets 6");
	is_int(kafka_first_flexible(KAFKA_API_METADATA), 9, "Metadata 9");
	is_int(
	    kafka_first_flexible(KAFKA_API_OFFSET_COMMIT), 8, "OffsetCommit");
	is_int(kafka_first_flexible(KAFKA_API_OFFSET_FETCH), 6, "OffsetFetch");
	is_int(
	    kafka_first_flexible(KAFKA_API_FIND_COORDINATOR), 3, "FindCoord");
	is_int(kafka_first_flexible(KAFKA_API_JOIN_GROUP), 6, "JoinGroup");
	is_int(kafka_first_flexible(KAFKA_API_HEARTBEAT), 4, "Heartbeat");
	is_int(kafka_first_flexible(KAFKA_API_LEAVE_GROUP), 4, "LeaveGroup");
	is_int(kafka_first_flexible(KAFKA_API_SYNC_GROUP), 4, "SyncGroup");
	is_int(kafka_first_flexible(KAFKA_API_API_VERSIONS), 3, "ApiVersions");
	is_int(kafka_first_flexible(KAFKA_API_SASL_HANDSHAKE), -1, "Sasl none");
	is_int(kafka_first_flexible(999), -1, "unknown key");
	ok(!kafka_request_flexible(KAFKA_API_FETCH, 11) &&
	        kafka_request_flexible(KAFKA_API_FETCH, 12),
	    "Fetch 11 / 12");
	ok(!kafka_request_flexible(KAFKA_API_API_VERSIONS, 2) &&
	        kafka_request_flexible(KAFKA_API_API_VERSIONS, 3),
	    "ApiVersions");
}

/* Write every primitive, read it back, both forms. */
static void
test_primitives_roundtrip(void)
{
	struct kafka_str s;
	struct kafka_bytes b;
	struct rbuf r;
	struct wbuf w;
	int flex;

	for (flex = 0; flex <= 1; flex++) {
		wbuf_init(&w, 0);
		kafka_wr_fstr(&w, flex, "topic", 5);
		kafka_wr_fnstr(&w, flex, NULL, -1);
		kafka_wr_fnstr(&w, flex, "", 0);
		kafka_wr_fbytes(&w, flex, "\x00\x01", 2);
		kafka_wr_fnbytes(&w, flex, NULL, -1);
		kafka_wr_farray(&w, flex, 2);
		kafka_wr_farray(&w, flex, -1);
		kafka_wr_ftags(&w, flex);
		ok(w.err == 0, "flex %d: written", flex);

		rbuf_init(&r, w.buf, w.len);
		s = kafka_rd_fstr(&r, flex);
		ok(kafka_str_eq(s, "topic"), "flex %d: string", flex);
		s = kafka_rd_fnstr(&r, flex);
		ok(s.len == -1 && s.p == NULL, "flex %d: null string", flex);
		s = kafka_rd_fnstr(&r, flex);
		ok(s.len == 0 && s.p != NULL, "flex %d: empty string", flex);
		b = kafka_rd_fbytes(&r, flex);
		ok(b.len == 2 && memcmp(b.p, "\x00\x01", 2) == 0,
		    "flex %d: bytes", flex);
		b = kafka_rd_fnbytes(&r, flex);
		ok(b.len == -1 && b.p == NULL, "flex %d: null bytes", flex);
		/* 2 one-byte elements fit in the null array + tags left. */
		is_int(kafka_rd_farray(&r, flex, 1), 2,
		    "flex %d: array count fits the bytes left", flex);
		is_int(kafka_rd_farray(&r, flex, 1), -1, "flex %d: null array",
		    flex);
		kafka_rd_ftags(&r, flex);
		ok(r.err == 0 && rbuf_left(&r) == 0, "flex %d: all consumed",
		    flex);
		wbuf_fini(&w);
	}
	/* Compact forms on the wire. */
	wbuf_init(&w, 0);
	kafka_wr_cstr(&w, "ab", 2);
	kafka_wr_cnstr(&w, NULL, -1);
	kafka_wr_carray(&w, 0);
	kafka_wr_tags(&w);
	is_mem(w.buf, w.len,
	    "\x03"
	    "ab"
	    "\x00\x01\x00",
	    6, "compact bytes");
	wbuf_reset(&w);
	kafka_wr_str(&w, "ab", 2);
	kafka_wr_nstr(&w, NULL, -1);
	kafka_wr_nbytes(&w, NULL, -1);
	kafka_wr_array(&w, 2);
	is_mem(w.buf, w.len,
	    "\x00\x02"
	    "ab"
	    "\xff\xff\xff\xff\xff\xff"
	    "\x00\x00\x00\x02",
	    14, "classic bytes");
	wbuf_fini(&w);
}

static void
test_primitives_bad(void)
{
	struct rbuf r;
	struct kafka_str s;

	rbuf_init(&r, "\xff\xff", 2);
	s = kafka_rd_str(&r);
	ok(r.err == ERR_MALFORMED && s.len == -1, "null non-nullable string");
	rbuf_init(&r, "\x00", 1);
	(void)kafka_rd_cstr(&r);
	is_int(r.err, ERR_MALFORMED, "null non-nullable compact string");
	rbuf_init(&r,
	    "\x00\x03"
	    "ab",
	    4);
	(void)kafka_rd_nstr(&r);
	is_int(r.err, ERR_MALFORMED, "string past the end");
	rbuf_init(&r, "\x80\x80\x80\x80\x10", 5);
	(void)kafka_rd_cnbytes(&r);
	is_int(r.err, ERR_MALFORMED, "compact length over INT32_MAX");
	rbuf_init(&r, "\x80\x80\x80\x80\x80\x01", 6);
	(void)kafka_rd_cnbytes(&r);
	is_int(r.err, ERR_MALFORMED, "uvarint longer than 5 bytes");
	rbuf_init(&r, "\x7f\xff\xff\xff", 4);
	is_int(kafka_rd_array(&r, 1), 0, "huge count returns 0");
	is_int(r.err, ERR_MALFORMED, "huge count latches ERR_MALFORMED");
	rbuf_init(&r,
	    "\x00\x00\x00\x02"
	    "12345678",
	    12);
	is_int(kafka_rd_array(&r, 4), 2, "2 x 4 bytes fit in 8");
	rbuf_init(&r,
	    "\x00\x00\x00\x03"
	    "12345678",
	    12);
	(void)kafka_rd_array(&r, 4);
	is_int(r.err, ERR_MALFORMED, "3 x 4 bytes do not fit in 8");
	rbuf_init(&r, "\xff\xff\xff\xfe", 4);
	(void)kafka_rd_array(&r, 1);
	is_int(r.err, ERR_MALFORMED, "array count -2");
	rbuf_init(&r, "\x02\x05\x00\x01\x00", 5);
	kafka_rd_tags(&r);
	is_int(r.err, ERR_MALFORMED, "tags out of order");
	rbuf_init(&r, "\x02\x01\x00\x05\x00", 5);
	kafka_rd_tags(&r);
	ok(r.err == 0 && rbuf_left(&r) == 0, "two empty tags in order");
	rbuf_init(&r, "\xff\xff\xff\xff\x0f", 5);
	kafka_rd_tags(&r);
	is_int(r.err, ERR_MALFORMED, "huge tag count");
	rbuf_init(&r, "\x01\x00\x80\x80\x80\x80\x0f", 7);
	kafka_rd_tags(&r);
	is_int(r.err, ERR_MALFORMED, "huge tag size");
}

int
main(void)
{
	plan_lazy();
	test_frame_size();
	test_request_header();
	test_response_header();
	test_tables();
	test_primitives_roundtrip();
	test_primitives_bad();
	return done_testing();
}
