/*
 * kafka_frame.h: (2') Kafka wire framing, request/response headers,
 * primitive types and the protocol's numbers (API keys, error codes).
 *
 * Every Kafka message is `int32 size` + size bytes, big-endian.  A request
 * frame starts with a request header:
 *
 *	v1: api_key i16, api_version i16, correlation_id i32,
 *	    client_id nullable string (i16 length, -1 = null)
 *	v2: v1 + a tagged-field buffer; used when (api_key, api_version) is
 *	    a flexible version (KIP-482).  client_id stays non-compact.
 *
 * A response starts with header v0 (correlation_id) or, for a flexible
 * version, v1 (+ tagged fields); ApiVersions always answers with v0 so a
 * client that sent a version we do not know can still read the error.
 *
 * Flexible versions use "compact" forms: unsigned varint N+1 then N bytes
 * or elements, where 0 means null.  A tagged-field buffer is a uvarint
 * count, then per field a uvarint tag, uvarint size and the bytes; the
 * empty buffer is one 0 byte.  The readers and writers below take a `flex`
 * flag (from kafka_request_flexible) so a message codec branches once per
 * version instead of per field.
 *
 * Pure code: no allocation, no I/O.  Slices returned point into the bytes
 * given.
 */
#ifndef PROTO_KAFKA_FRAME_H
#define PROTO_KAFKA_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "proto/rbuf.h"
#include "proto/wbuf.h"

/* API keys (Apache Kafka protocol numbering). */
enum kafka_api {
	KAFKA_API_PRODUCE = 0,
	KAFKA_API_FETCH = 1,
	KAFKA_API_LIST_OFFSETS = 2,
	KAFKA_API_METADATA = 3,
	KAFKA_API_LEADER_AND_ISR = 4,
	KAFKA_API_STOP_REPLICA = 5,
	KAFKA_API_UPDATE_METADATA = 6,
	KAFKA_API_CONTROLLED_SHUTDOWN = 7,
	KAFKA_API_OFFSET_COMMIT = 8,
	KAFKA_API_OFFSET_FETCH = 9,
	KAFKA_API_FIND_COORDINATOR = 10,
	KAFKA_API_JOIN_GROUP = 11,
	KAFKA_API_HEARTBEAT = 12,
	KAFKA_API_LEAVE_GROUP = 13,
	KAFKA_API_SYNC_GROUP = 14,
	KAFKA_API_DESCRIBE_GROUPS = 15,
	KAFKA_API_LIST_GROUPS = 16,
	KAFKA_API_SASL_HANDSHAKE = 17,
	KAFKA_API_API_VERSIONS = 18,
	KAFKA_API_CREATE_TOPICS = 19,
	KAFKA_API_DELETE_TOPICS = 20,
	KAFKA_API_DELETE_RECORDS = 21,
	KAFKA_API_INIT_PRODUCER_ID = 22,
	KAFKA_API_OFFSET_FOR_LEADER_EPOCH = 23,
	KAFKA_API_ADD_PARTITIONS_TO_TXN = 24,
	KAFKA_API_ADD_OFFSETS_TO_TXN = 25,
	KAFKA_API_END_TXN = 26,
	KAFKA_API_WRITE_TXN_MARKERS = 27,
	KAFKA_API_TXN_OFFSET_COMMIT = 28,
	KAFKA_API_DESCRIBE_ACLS = 29,
	KAFKA_API_CREATE_ACLS = 30,
	KAFKA_API_DELETE_ACLS = 31,
	KAFKA_API_DESCRIBE_CONFIGS = 32,
	KAFKA_API_ALTER_CONFIGS = 33,
	KAFKA_API_ALTER_REPLICA_LOG_DIRS = 34,
	KAFKA_API_DESCRIBE_LOG_DIRS = 35,
	KAFKA_API_SASL_AUTHENTICATE = 36,
	KAFKA_API_CREATE_PARTITIONS = 37,
	KAFKA_API_CREATE_DELEGATION_TOKEN = 38,
	KAFKA_API_RENEW_DELEGATION_TOKEN = 39,
	KAFKA_API_EXPIRE_DELEGATION_TOKEN = 40,
	KAFKA_API_DESCRIBE_DELEGATION_TOKEN = 41,
	KAFKA_API_DELETE_GROUPS = 42,
	KAFKA_API_ELECT_LEADERS = 43,
	KAFKA_API_INCREMENTAL_ALTER_CONFIGS = 44,
	KAFKA_API_ALTER_PARTITION_REASSIGNMENTS = 45,
	KAFKA_API_LIST_PARTITION_REASSIGNMENTS = 46,
	KAFKA_API_OFFSET_DELETE = 47,
	KAFKA_API__COUNT /* one past the last key this file names */
};

/* Error codes carried in responses (Apache Kafka's Errors.java). */
enum kafka_error {
	KAFKA_ERR_UNKNOWN_SERVER_ERROR = -1,
	KAFKA_ERR_NONE = 0,
	KAFKA_ERR_OFFSET_OUT_OF_RANGE = 1,
	KAFKA_ERR_CORRUPT_MESSAGE = 2,
	KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
	KAFKA_ERR_INVALID_FETCH_SIZE = 4,
	KAFKA_ERR_LEADER_NOT_AVAILABLE = 5,
	KAFKA_ERR_NOT_LEADER_OR_FOLLOWER = 6,
	KAFKA_ERR_REQUEST_TIMED_OUT = 7,
	KAFKA_ERR_BROKER_NOT_AVAILABLE = 8,
	KAFKA_ERR_REPLICA_NOT_AVAILABLE = 9,
	KAFKA_ERR_MESSAGE_TOO_LARGE = 10,
	KAFKA_ERR_STALE_CONTROLLER_EPOCH = 11,
	KAFKA_ERR_OFFSET_METADATA_TOO_LARGE = 12,
	KAFKA_ERR_NETWORK_EXCEPTION = 13,
	KAFKA_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
	KAFKA_ERR_COORDINATOR_NOT_AVAILABLE = 15,
	KAFKA_ERR_NOT_COORDINATOR = 16,
	KAFKA_ERR_INVALID_TOPIC_EXCEPTION = 17,
	KAFKA_ERR_RECORD_LIST_TOO_LARGE = 18,
	KAFKA_ERR_NOT_ENOUGH_REPLICAS = 19,
	KAFKA_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
	KAFKA_ERR_INVALID_REQUIRED_ACKS = 21,
	KAFKA_ERR_ILLEGAL_GENERATION = 22,
	KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
	KAFKA_ERR_INVALID_GROUP_ID = 24,
	KAFKA_ERR_UNKNOWN_MEMBER_ID = 25,
	KAFKA_ERR_INVALID_SESSION_TIMEOUT = 26,
	KAFKA_ERR_REBALANCE_IN_PROGRESS = 27,
	KAFKA_ERR_INVALID_COMMIT_OFFSET_SIZE = 28,
	KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
	KAFKA_ERR_GROUP_AUTHORIZATION_FAILED = 30,
	KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
	KAFKA_ERR_INVALID_TIMESTAMP = 32,
	KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
	KAFKA_ERR_ILLEGAL_SASL_STATE = 34,
	KAFKA_ERR_UNSUPPORTED_VERSION = 35,
	KAFKA_ERR_TOPIC_ALREADY_EXISTS = 36,
	KAFKA_ERR_INVALID_PARTITIONS = 37,
	KAFKA_ERR_INVALID_REPLICATION_FACTOR = 38,
	KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
	KAFKA_ERR_INVALID_CONFIG = 40,
	KAFKA_ERR_NOT_CONTROLLER = 41,
	KAFKA_ERR_INVALID_REQUEST = 42,
	KAFKA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
	KAFKA_ERR_POLICY_VIOLATION = 44,
	KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
	KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER = 46,
	KAFKA_ERR_INVALID_PRODUCER_EPOCH = 47,
	KAFKA_ERR_INVALID_TXN_STATE = 48,
	KAFKA_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
	KAFKA_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
	KAFKA_ERR_CONCURRENT_TRANSACTIONS = 51,
	KAFKA_ERR_TRANSACTION_COORDINATOR_FENCED = 52,
	KAFKA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
	KAFKA_ERR_SECURITY_DISABLED = 54,
	KAFKA_ERR_OPERATION_NOT_ATTEMPTED = 55,
	KAFKA_ERR_KAFKA_STORAGE_ERROR = 56,
	KAFKA_ERR_LOG_DIR_NOT_FOUND = 57,
	KAFKA_ERR_SASL_AUTHENTICATION_FAILED = 58,
	KAFKA_ERR_UNKNOWN_PRODUCER_ID = 59,
	KAFKA_ERR_REASSIGNMENT_IN_PROGRESS = 60,
	KAFKA_ERR_DELEGATION_TOKEN_AUTH_DISABLED = 61,
	KAFKA_ERR_DELEGATION_TOKEN_NOT_FOUND = 62,
	KAFKA_ERR_DELEGATION_TOKEN_OWNER_MISMATCH = 63,
	KAFKA_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64,
	KAFKA_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65,
	KAFKA_ERR_DELEGATION_TOKEN_EXPIRED = 66,
	KAFKA_ERR_INVALID_PRINCIPAL_TYPE = 67,
	KAFKA_ERR_NON_EMPTY_GROUP = 68,
	KAFKA_ERR_GROUP_ID_NOT_FOUND = 69,
	KAFKA_ERR_FETCH_SESSION_ID_NOT_FOUND = 70,
	KAFKA_ERR_INVALID_FETCH_SESSION_EPOCH = 71,
	KAFKA_ERR_LISTENER_NOT_FOUND = 72,
	KAFKA_ERR_TOPIC_DELETION_DISABLED = 73,
	KAFKA_ERR_FENCED_LEADER_EPOCH = 74,
	KAFKA_ERR_UNKNOWN_LEADER_EPOCH = 75,
	KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
	KAFKA_ERR_STALE_BROKER_EPOCH = 77,
	KAFKA_ERR_OFFSET_NOT_AVAILABLE = 78,
	KAFKA_ERR_MEMBER_ID_REQUIRED = 79,
	KAFKA_ERR_PREFERRED_LEADER_NOT_AVAILABLE = 80,
	KAFKA_ERR_GROUP_MAX_SIZE_REACHED = 81,
	KAFKA_ERR_FENCED_INSTANCE_ID = 82,
	KAFKA_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE = 83,
	KAFKA_ERR_ELECTION_NOT_NEEDED = 84,
	KAFKA_ERR_NO_REASSIGNMENT_IN_PROGRESS = 85,
	KAFKA_ERR_GROUP_SUBSCRIBED_TO_TOPIC = 86,
	KAFKA_ERR_INVALID_RECORD = 87,
	KAFKA_ERR_UNSTABLE_OFFSET_COMMIT = 88,
	KAFKA_ERR_THROTTLING_QUOTA_EXCEEDED = 89,
	KAFKA_ERR_PRODUCER_FENCED = 90,
	KAFKA_ERR_RESOURCE_NOT_FOUND = 91,
	KAFKA_ERR_DUPLICATE_RESOURCE = 92,
	KAFKA_ERR_UNACCEPTABLE_CREDENTIAL = 93,
	KAFKA_ERR_INCONSISTENT_VOTER_SET = 94,
	KAFKA_ERR_INVALID_UPDATE_VERSION = 95,
	KAFKA_ERR_FEATURE_UPDATE_FAILED = 96,
	KAFKA_ERR_PRINCIPAL_DESERIALIZATION_FAILURE = 97,
	KAFKA_ERR_SNAPSHOT_NOT_FOUND = 98,
	KAFKA_ERR_POSITION_OUT_OF_RANGE = 99,
	KAFKA_ERR_UNKNOWN_TOPIC_ID = 100,
	KAFKA_ERR_DUPLICATE_BROKER_REGISTRATION = 101,
	KAFKA_ERR_BROKER_ID_NOT_REGISTERED = 102,
	KAFKA_ERR_INCONSISTENT_TOPIC_ID = 103,
	KAFKA_ERR_INCONSISTENT_CLUSTER_ID = 104,
	KAFKA_ERR_TRANSACTIONAL_ID_NOT_FOUND = 105,
	KAFKA_ERR_FETCH_SESSION_TOPIC_ID_ERROR = 106,
	KAFKA_ERR_INELIGIBLE_REPLICA = 107,
	KAFKA_ERR_NEW_LEADER_ELECTED = 108,
	KAFKA_ERR_OFFSET_MOVED_TO_TIERED_STORAGE = 109,
	KAFKA_ERR_FENCED_MEMBER_EPOCH = 110,
	KAFKA_ERR_UNRELEASED_INSTANCE_ID = 111,
	KAFKA_ERR_UNSUPPORTED_ASSIGNOR = 112,
	KAFKA_ERR_STALE_MEMBER_EPOCH = 113,
	KAFKA_ERR_MISMATCHED_ENDPOINT_TYPE = 114,
	KAFKA_ERR_UNSUPPORTED_ENDPOINT_TYPE = 115,
	KAFKA_ERR_UNKNOWN_CONTROLLER_ID = 116,
	KAFKA_ERR_UNKNOWN_SUBSCRIPTION_ID = 117,
	KAFKA_ERR_TELEMETRY_TOO_LARGE = 118,
	KAFKA_ERR_INVALID_REGISTRATION = 119,
	KAFKA_ERR__LAST = 119 /* highest code kafka_err_name knows */
};

/* "Produce", "ApiVersions", ...; "Unknown" for keys not listed above. */
const char *kafka_api_name(int api_key);

/* "NONE", "UNSUPPORTED_VERSION", ...; "UNKNOWN" for other codes. */
const char *kafka_err_name(int code);

/* ------------------------------------------------------------------ */
/* Framing */

/* Bytes of a request header v1 before client_id (key, version, corr id). */
#define KAFKA_REQ_HEADER_FIXED 8

/*
 * Looks at the size prefix of the frame starting at p (n bytes buffered so
 * far).  Check this BEFORE waiting for or allocating the body: the limit is
 * enforced on the 4-byte prefix alone.
 *
 * Returns 0 when n < 4 (need more); ERR_MALFORMED when the size is negative
 * or below KAFKA_REQ_HEADER_FIXED; ERR_TOO_BIG when it exceeds max_bytes;
 * otherwise 1 with *frame_len = 4 + size (the whole frame, prefix
 * included; the frame is complete once n >= *frame_len).
 */
int kafka_frame_size(
    const uint8_t *p, size_t n, size_t max_bytes, size_t *frame_len);

/*
 * Reserve the 4-byte size prefix of a frame being written; returns its
 * offset for kafka_frame_end.
 */
size_t kafka_frame_begin(struct wbuf *w);

/*
 * Patch the size prefix reserved at mark: size = bytes written after the
 * prefix + extra, where extra counts bytes the caller sends outside the
 * wbuf (Fetch record data sent by reference).  Ignored once w->err is set.
 */
void kafka_frame_end(struct wbuf *w, size_t mark, size_t extra);

/* ------------------------------------------------------------------ */
/* Flexible versions */

/*
 * The first flexible version of api_key (from the Apache Kafka 3.x JSON
 * schemas), or -1 when the key has none or is unknown to this file.
 */
int kafka_first_flexible(int api_key);

/* 1 when (api_key, api_version) uses request header v2 and compact forms. */
int kafka_request_flexible(int api_key, int api_version);

/* ------------------------------------------------------------------ */
/* Slices into a frame */

/* A string inside a frame; len -1 means null (p is NULL then). */
struct kafka_str {
	const char *p;
	int32_t len;
};

/* Bytes inside a frame; len -1 means null (p is NULL then). */
struct kafka_bytes {
	const uint8_t *p;
	int32_t len;
};

/* 1 when s is non-null and equals the NUL-terminated c. */
int kafka_str_eq(struct kafka_str s, const char *c);

/* A topic id (KIP-516): 16 bytes; all zero means "none". */
#define KAFKA_UUID_LEN 16
struct kafka_uuid {
	uint8_t b[KAFKA_UUID_LEN];
};

/* 1 when u is the all-zero uuid (Kafka's ZERO_UUID: no id). */
int kafka_uuid_is_zero(const struct kafka_uuid *u);

/* ------------------------------------------------------------------ */
/* Request header */

struct kafka_req_header {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	struct kafka_str client_id; /* points into the frame; may be null */
	int flexible;               /* 1: header v2 (tags were skipped) */
};

/*
 * Decode the request header at p, the frame payload after the 4-byte size
 * prefix (n = that size).  The header version follows from (api_key,
 * api_version) via kafka_request_flexible, whatever versions the server
 * serves: an ApiVersions request newer than ours (v3+, header v2) still
 * decodes, so the server can answer UNSUPPORTED_VERSION with the right
 * correlation id.  Unknown keys decode as header v1.
 *
 * Returns the header length (> 0; the body starts at p + that), or
 * ERR_MALFORMED (truncated, bad client_id length or bad tagged fields),
 * with *err_off (if not NULL) the offset of the problem.
 */
int kafka_decode_request_header(
    const uint8_t *p, size_t n, struct kafka_req_header *h, size_t *err_off);

/*
 * Append a response header for the given request: correlation_id, then
 * (header v1) an empty tag buffer when the request version is flexible,
 * except for ApiVersions, which always uses header v0.
 */
void kafka_encode_response_header(
    struct wbuf *w, int api_key, int api_version, int32_t correlation_id);

/* ------------------------------------------------------------------ */
/*
 * Primitive readers.  Each reads one value at r's cursor; on truncation or
 * an invalid length it latches r->err (ERR_MALFORMED) and returns a null /
 * zero value, so a decoder reads a whole structure and checks r->err once.
 * Slices point into r's bytes.
 *
 * Names: str = non-nullable string, nstr = nullable string, bytes/nbytes
 * the same for bytes; c* = compact (flexible) forms; f* take `flex` and
 * pick the compact form when it is set.  A non-nullable string that
 * arrives as null is ERR_MALFORMED.
 */
struct kafka_str kafka_rd_str(struct rbuf *r);
struct kafka_str kafka_rd_nstr(struct rbuf *r);
struct kafka_bytes kafka_rd_bytes(struct rbuf *r);
struct kafka_bytes kafka_rd_nbytes(struct rbuf *r);
struct kafka_str kafka_rd_cstr(struct rbuf *r);
struct kafka_str kafka_rd_cnstr(struct rbuf *r);
struct kafka_bytes kafka_rd_cbytes(struct rbuf *r);
struct kafka_bytes kafka_rd_cnbytes(struct rbuf *r);
struct kafka_str kafka_rd_fstr(struct rbuf *r, int flex);
struct kafka_str kafka_rd_fnstr(struct rbuf *r, int flex);
struct kafka_bytes kafka_rd_fbytes(struct rbuf *r, int flex);
struct kafka_bytes kafka_rd_fnbytes(struct rbuf *r, int flex);

/*
 * Array element counts: int32 (classic) or uvarint N+1 (compact).  Return
 * the count, or -1 for a null array.  The count is not trusted: each
 * element needs at least min_elem bytes (>= 1), and a count that cannot
 * fit in the bytes left latches ERR_MALFORMED and returns 0.  A classic
 * count below -1 is ERR_MALFORMED.
 */
int32_t kafka_rd_array(struct rbuf *r, size_t min_elem);
int32_t kafka_rd_carray(struct rbuf *r, size_t min_elem);
int32_t kafka_rd_farray(struct rbuf *r, int flex, size_t min_elem);

/*
 * A tagged-field buffer: validates every (tag, size) against the bytes
 * left, requires tags in strictly increasing order, and skips them all
 * (no tagged field is interpreted yet).  kafka_rd_ftags does nothing
 * unless flex is set.
 */
void kafka_rd_tags(struct rbuf *r);
void kafka_rd_ftags(struct rbuf *r, int flex);

/* A uuid: 16 raw bytes (the same in every version). */
struct kafka_uuid kafka_rd_uuid(struct rbuf *r);

/* ------------------------------------------------------------------ */
/*
 * Primitive writers.  Lengths: len -1 writes null (only for the n* forms;
 * the non-nullable forms treat a negative len as empty).  Strings are
 * bytes, no NUL is written; s may be NULL when len <= 0.
 */
void kafka_wr_str(struct wbuf *w, const char *s, int32_t len);
void kafka_wr_nstr(struct wbuf *w, const char *s, int32_t len);
void kafka_wr_bytes(struct wbuf *w, const void *p, int32_t len);
void kafka_wr_nbytes(struct wbuf *w, const void *p, int32_t len);
void kafka_wr_cstr(struct wbuf *w, const char *s, int32_t len);
void kafka_wr_cnstr(struct wbuf *w, const char *s, int32_t len);
void kafka_wr_cbytes(struct wbuf *w, const void *p, int32_t len);
void kafka_wr_cnbytes(struct wbuf *w, const void *p, int32_t len);
void kafka_wr_fstr(struct wbuf *w, int flex, const char *s, int32_t len);
void kafka_wr_fnstr(struct wbuf *w, int flex, const char *s, int32_t len);
void kafka_wr_fbytes(struct wbuf *w, int flex, const void *p, int32_t len);
void kafka_wr_fnbytes(struct wbuf *w, int flex, const void *p, int32_t len);

/* Array counts; n -1 writes a null array. */
void kafka_wr_array(struct wbuf *w, int32_t n);
void kafka_wr_carray(struct wbuf *w, int32_t n);
void kafka_wr_farray(struct wbuf *w, int flex, int32_t n);

/* An empty tag buffer (one 0 byte); the f form only when flex is set. */
void kafka_wr_tags(struct wbuf *w);
void kafka_wr_ftags(struct wbuf *w, int flex);

void kafka_wr_uuid(struct wbuf *w, const struct kafka_uuid *u);

#endif
