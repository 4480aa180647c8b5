/*
 * kafka_frame.c: Kafka framing, headers and primitive types (see
 * kafka_frame.h).
 */
#include <config.h>

#include <string.h>

#include "base/byteorder.h"
#include "proto/kafka_frame.h"

static const char *const api_names[KAFKA_API__COUNT] = {
    [KAFKA_API_PRODUCE] = "Produce",
    [KAFKA_API_FETCH] = "Fetch",
    [KAFKA_API_LIST_OFFSETS] = "ListOffsets",
    [KAFKA_API_METADATA] = "Metadata",
    [KAFKA_API_LEADER_AND_ISR] = "LeaderAndIsr",
    [KAFKA_API_STOP_REPLICA] = "StopReplica",
    [KAFKA_API_UPDATE_METADATA] = "UpdateMetadata",
    [KAFKA_API_CONTROLLED_SHUTDOWN] = "ControlledShutdown",
    [KAFKA_API_OFFSET_COMMIT] = "OffsetCommit",
    [KAFKA_API_OFFSET_FETCH] = "OffsetFetch",
    [KAFKA_API_FIND_COORDINATOR] = "FindCoordinator",
    [KAFKA_API_JOIN_GROUP] = "JoinGroup",
    [KAFKA_API_HEARTBEAT] = "Heartbeat",
    [KAFKA_API_LEAVE_GROUP] = "LeaveGroup",
    [KAFKA_API_SYNC_GROUP] = "SyncGroup",
    [KAFKA_API_DESCRIBE_GROUPS] = "DescribeGroups",
    [KAFKA_API_LIST_GROUPS] = "ListGroups",
    [KAFKA_API_SASL_HANDSHAKE] = "SaslHandshake",
    [KAFKA_API_API_VERSIONS] = "ApiVersions",
    [KAFKA_API_CREATE_TOPICS] = "CreateTopics",
    [KAFKA_API_DELETE_TOPICS] = "DeleteTopics",
    [KAFKA_API_DELETE_RECORDS] = "DeleteRecords",
    [KAFKA_API_INIT_PRODUCER_ID] = "InitProducerId",
    [KAFKA_API_OFFSET_FOR_LEADER_EPOCH] = "OffsetForLeaderEpoch",
    [KAFKA_API_ADD_PARTITIONS_TO_TXN] = "AddPartitionsToTxn",
    [KAFKA_API_ADD_OFFSETS_TO_TXN] = "AddOffsetsToTxn",
    [KAFKA_API_END_TXN] = "EndTxn",
    [KAFKA_API_WRITE_TXN_MARKERS] = "WriteTxnMarkers",
    [KAFKA_API_TXN_OFFSET_COMMIT] = "TxnOffsetCommit",
    [KAFKA_API_DESCRIBE_ACLS] = "DescribeAcls",
    [KAFKA_API_CREATE_ACLS] = "CreateAcls",
    [KAFKA_API_DELETE_ACLS] = "DeleteAcls",
    [KAFKA_API_DESCRIBE_CONFIGS] = "DescribeConfigs",
    [KAFKA_API_ALTER_CONFIGS] = "AlterConfigs",
    [KAFKA_API_ALTER_REPLICA_LOG_DIRS] = "AlterReplicaLogDirs",
    [KAFKA_API_DESCRIBE_LOG_DIRS] = "DescribeLogDirs",
    [KAFKA_API_SASL_AUTHENTICATE] = "SaslAuthenticate",
    [KAFKA_API_CREATE_PARTITIONS] = "CreatePartitions",
    [KAFKA_API_CREATE_DELEGATION_TOKEN] = "CreateDelegationToken",
    [KAFKA_API_RENEW_DELEGATION_TOKEN] = "RenewDelegationToken",
    [KAFKA_API_EXPIRE_DELEGATION_TOKEN] = "ExpireDelegationToken",
    [KAFKA_API_DESCRIBE_DELEGATION_TOKEN] = "DescribeDelegationToken",
    [KAFKA_API_DELETE_GROUPS] = "DeleteGroups",
    [KAFKA_API_ELECT_LEADERS] = "ElectLeaders",
    [KAFKA_API_INCREMENTAL_ALTER_CONFIGS] = "IncrementalAlterConfigs",
    [KAFKA_API_ALTER_PARTITION_REASSIGNMENTS] = "AlterPartitionReassignments",
    [KAFKA_API_LIST_PARTITION_REASSIGNMENTS] = "ListPartitionReassignments",
    [KAFKA_API_OFFSET_DELETE] = "OffsetDelete",
};

/*
 * First flexible version per key, from the Apache Kafka 3.x message
 * schemas ("flexibleVersions": "N+"); -1 = none.  Index = api key.
 */
static const int8_t first_flexible[KAFKA_API__COUNT] = {
    [KAFKA_API_PRODUCE] = 9,
    [KAFKA_API_FETCH] = 12,
    [KAFKA_API_LIST_OFFSETS] = 6,
    [KAFKA_API_METADATA] = 9,
    [KAFKA_API_LEADER_AND_ISR] = 4,
    [KAFKA_API_STOP_REPLICA] = 2,
    [KAFKA_API_UPDATE_METADATA] = 6,
    [KAFKA_API_CONTROLLED_SHUTDOWN] = 3,
    [KAFKA_API_OFFSET_COMMIT] = 8,
    [KAFKA_API_OFFSET_FETCH] = 6,
    [KAFKA_API_FIND_COORDINATOR] = 3,
    [KAFKA_API_JOIN_GROUP] = 6,
    [KAFKA_API_HEARTBEAT] = 4,
    [KAFKA_API_LEAVE_GROUP] = 4,
    [KAFKA_API_SYNC_GROUP] = 4,
    [KAFKA_API_DESCRIBE_GROUPS] = 5,
    [KAFKA_API_LIST_GROUPS] = 3,
    [KAFKA_API_SASL_HANDSHAKE] = -1,
    [KAFKA_API_API_VERSIONS] = 3,
    [KAFKA_API_CREATE_TOPICS] = 5,
    [KAFKA_API_DELETE_TOPICS] = 4,
    [KAFKA_API_DELETE_RECORDS] = 2,
    [KAFKA_API_INIT_PRODUCER_ID] = 2,
    [KAFKA_API_OFFSET_FOR_LEADER_EPOCH] = 4,
    [KAFKA_API_ADD_PARTITIONS_TO_TXN] = 3,
    [KAFKA_API_ADD_OFFSETS_TO_TXN] = 3,
    [KAFKA_API_END_TXN] = 3,
    [KAFKA_API_WRITE_TXN_MARKERS] = 1,
    [KAFKA_API_TXN_OFFSET_COMMIT] = 3,
    [KAFKA_API_DESCRIBE_ACLS] = 2,
    [KAFKA_API_CREATE_ACLS] = 2,
    [KAFKA_API_DELETE_ACLS] = 2,
    [KAFKA_API_DESCRIBE_CONFIGS] = 4,
    [KAFKA_API_ALTER_CONFIGS] = 2,
    [KAFKA_API_ALTER_REPLICA_LOG_DIRS] = 2,
    [KAFKA_API_DESCRIBE_LOG_DIRS] = 2,
    [KAFKA_API_SASL_AUTHENTICATE] = 2,
    [KAFKA_API_CREATE_PARTITIONS] = 2,
    [KAFKA_API_CREATE_DELEGATION_TOKEN] = 2,
    [KAFKA_API_RENEW_DELEGATION_TOKEN] = 2,
    [KAFKA_API_EXPIRE_DELEGATION_TOKEN] = 2,
    [KAFKA_API_DESCRIBE_DELEGATION_TOKEN] = 2,
    [KAFKA_API_DELETE_GROUPS] = 2,
    [KAFKA_API_ELECT_LEADERS] = 2,
    [KAFKA_API_INCREMENTAL_ALTER_CONFIGS] = 1,
    [KAFKA_API_ALTER_PARTITION_REASSIGNMENTS] = 0,
    [KAFKA_API_LIST_PARTITION_REASSIGNMENTS] = 0,
    [KAFKA_API_OFFSET_DELETE] = -1,
};

static const char *const err_names[KAFKA_ERR__LAST + 1] = {
    "NONE",
    "OFFSET_OUT_OF_RANGE",
    "CORRUPT_MESSAGE",
    "UNKNOWN_TOPIC_OR_PARTITION",
    "INVALID_FETCH_SIZE",
    "LEADER_NOT_AVAILABLE",
    "NOT_LEADER_OR_FOLLOWER",
    "REQUEST_TIMED_OUT",
    "BROKER_NOT_AVAILABLE",
    "REPLICA_NOT_AVAILABLE",
    "MESSAGE_TOO_LARGE",
    "STALE_CONTROLLER_EPOCH",
    "OFFSET_METADATA_TOO_LARGE",
    "NETWORK_EXCEPTION",
    "COORDINATOR_LOAD_IN_PROGRESS",
    "COORDINATOR_NOT_AVAILABLE",
    "NOT_COORDINATOR",
    "INVALID_TOPIC_EXCEPTION",
    "RECORD_LIST_TOO_LARGE",
    "NOT_ENOUGH_REPLICAS",
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
    "INVALID_REQUIRED_ACKS",
    "ILLEGAL_GENERATION",
    "INCONSISTENT_GROUP_PROTOCOL",
    "INVALID_GROUP_ID",
    "UNKNOWN_MEMBER_ID",
    "INVALID_SESSION_TIMEOUT",
    "REBALANCE_IN_PROGRESS",
    "INVALID_COMMIT_OFFSET_SIZE",
    "TOPIC_AUTHORIZATION_FAILED",
    "GROUP_AUTHORIZATION_FAILED",
    "CLUSTER_AUTHORIZATION_FAILED",
    "INVALID_TIMESTAMP",
    "UNSUPPORTED_SASL_MECHANISM",
    "ILLEGAL_SASL_STATE",
    "UNSUPPORTED_VERSION",
    "TOPIC_ALREADY_EXISTS",
    "INVALID_PARTITIONS",
    "INVALID_REPLICATION_FACTOR",
    "INVALID_REPLICA_ASSIGNMENT",
    "INVALID_CONFIG",
    "NOT_CONTROLLER",
    "INVALID_REQUEST",
    "UNSUPPORTED_FOR_MESSAGE_FORMAT",
    "POLICY_VIOLATION",
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    "DUPLICATE_SEQUENCE_NUMBER",
    "INVALID_PRODUCER_EPOCH",
    "INVALID_TXN_STATE",
    "INVALID_PRODUCER_ID_MAPPING",
    "INVALID_TRANSACTION_TIMEOUT",
    "CONCURRENT_TRANSACTIONS",
    "TRANSACTION_COORDINATOR_FENCED",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
    "SECURITY_DISABLED",
    "OPERATION_NOT_ATTEMPTED",
    "KAFKA_STORAGE_ERROR",
    "LOG_DIR_NOT_FOUND",
    "SASL_AUTHENTICATION_FAILED",
    "UNKNOWN_PRODUCER_ID",
    "REASSIGNMENT_IN_PROGRESS",
    "DELEGATION_TOKEN_AUTH_DISABLED",
    "DELEGATION_TOKEN_NOT_FOUND",
    "DELEGATION_TOKEN_OWNER_MISMATCH",
    "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED",
    "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
    "DELEGATION_TOKEN_EXPIRED",
    "INVALID_PRINCIPAL_TYPE",
    "NON_EMPTY_GROUP",
    "GROUP_ID_NOT_FOUND",
    "FETCH_SESSION_ID_NOT_FOUND",
    "INVALID_FETCH_SESSION_EPOCH",
    "LISTENER_NOT_FOUND",
    "TOPIC_DELETION_DISABLED",
    "FENCED_LEADER_EPOCH",
    "UNKNOWN_LEADER_EPOCH",
    "UNSUPPORTED_COMPRESSION_TYPE",
    "STALE_BROKER_EPOCH",
    "OFFSET_NOT_AVAILABLE",
    "MEMBER_ID_REQUIRED",
    "PREFERRED_LEADER_NOT_AVAILABLE",
    "GROUP_MAX_SIZE_REACHED",
    "FENCED_INSTANCE_ID",
    "ELIGIBLE_LEADERS_NOT_AVAILABLE",
    "ELECTION_NOT_NEEDED",
    "NO_REASSIGNMENT_IN_PROGRESS",
    "GROUP_SUBSCRIBED_TO_TOPIC",
    "INVALID_RECORD",
    "UNSTABLE_OFFSET_COMMIT",
    "THROTTLING_QUOTA_EXCEEDED",
    "PRODUCER_FENCED",
    "RESOURCE_NOT_FOUND",
    "DUPLICATE_RESOURCE",
    "UNACCEPTABLE_CREDENTIAL",
    "INCONSISTENT_VOTER_SET",
    "INVALID_UPDATE_VERSION",
    "FEATURE_UPDATE_FAILED",
    "PRINCIPAL_DESERIALIZATION_FAILURE",
    "SNAPSHOT_NOT_FOUND",
    "POSITION_OUT_OF_RANGE",
    "UNKNOWN_TOPIC_ID",
    "DUPLICATE_BROKER_REGISTRATION",
    "BROKER_ID_NOT_REGISTERED",
    "INCONSISTENT_TOPIC_ID",
    "INCONSISTENT_CLUSTER_ID",
    "TRANSACTIONAL_ID_NOT_FOUND",
    "FETCH_SESSION_TOPIC_ID_ERROR",
    "INELIGIBLE_REPLICA",
    "NEW_LEADER_ELECTED",
    "OFFSET_MOVED_TO_TIERED_STORAGE",
    "FENCED_MEMBER_EPOCH",
    "UNRELEASED_INSTANCE_ID",
    "UNSUPPORTED_ASSIGNOR",
    "STALE_MEMBER_EPOCH",
    "MISMATCHED_ENDPOINT_TYPE",
    "UNSUPPORTED_ENDPOINT_TYPE",
    "UNKNOWN_CONTROLLER_ID",
    "UNKNOWN_SUBSCRIPTION_ID",
    "TELEMETRY_TOO_LARGE",
    "INVALID_REGISTRATION",
};

const char *
kafka_api_name(int api_key)
{
	if (api_key < 0 || api_key >= KAFKA_API__COUNT ||
	    api_names[api_key] == NULL)
		return "Unknown";
	return api_names[api_key];
}

const char *
kafka_err_name(int code)
{
	if (code == KAFKA_ERR_UNKNOWN_SERVER_ERROR)
		return "UNKNOWN_SERVER_ERROR";
	if (code < 0 || code > KAFKA_ERR__LAST)
		return "UNKNOWN";
	return err_names[code];
}

/* ------------------------------------------------------------------ */

int
kafka_frame_size(
    const uint8_t *p, size_t n, size_t max_bytes, size_t *frame_len)
{
	int32_t size;

	if (n < 4)
		return 0;
	size = (int32_t)be32_load(p);
	if (size < KAFKA_REQ_HEADER_FIXED)
		return ERR_MALFORMED;
	if ((uint64_t)size > max_bytes)
		return ERR_TOO_BIG;
	*frame_len = 4 + (size_t)size;
	return 1;
}

size_t
kafka_frame_begin(struct wbuf *w)
{
	size_t mark = wbuf_mark(w);

	wbuf_u32(w, 0);
	return mark;
}

void
kafka_frame_end(struct wbuf *w, size_t mark, size_t extra)
{
	size_t size;

	if (w->err || mark + 4 > w->len)
		return;
	size = w->len - mark - 4 + extra;
	if (size > INT32_MAX) {
		w->err = ERR_TOO_BIG;
		return;
	}
	wbuf_patch_u32(w, mark, (uint32_t)size);
}

/* ------------------------------------------------------------------ */

int
kafka_first_flexible(int api_key)
{
	if (api_key < 0 || api_key >= KAFKA_API__COUNT)
		return -1;
	/* Keys whose slot was left out of the table have none either. */
	if (api_names[api_key] == NULL)
		return -1;
	return first_flexible[api_key];
}

int
kafka_request_flexible(int api_key, int api_version)
{
	int first = kafka_first_flexible(api_key);

	return first >= 0 && api_version >= first;
}

int
kafka_str_eq(struct kafka_str s, const char *c)
{
	size_t n = strlen(c);

	return s.len >= 0 && (size_t)s.len == n && memcmp(s.p, c, n) == 0;
}

int
kafka_uuid_is_zero(const struct kafka_uuid *u)
{
	static const struct kafka_uuid zero;

	return memcmp(u->b, zero.b, KAFKA_UUID_LEN) == 0;
}

/* ------------------------------------------------------------------ */

int
kafka_decode_request_header(
    const uint8_t *p, size_t n, struct kafka_req_header *h, size_t *err_off)
{
	struct rbuf r;

	rbuf_init(&r, p, n);
	h->api_key = rbuf_i16(&r);
	h->api_version = rbuf_i16(&r);
	h->correlation_id = rbuf_i32(&r);
	h->client_id = kafka_rd_nstr(&r);
	h->flexible =
	    !r.err && kafka_request_flexible(h->api_key, h->api_version);
	kafka_rd_ftags(&r, h->flexible);
	if (r.err) {
		if (err_off != NULL)
			*err_off = rbuf_off(&r);
		return r.err;
	}
	return (int)rbuf_off(&r);
}

void
kafka_encode_response_header(
    struct wbuf *w, int api_key, int api_version, int32_t correlation_id)
{
	wbuf_i32(w, correlation_id);
	if (api_key != KAFKA_API_API_VERSIONS &&
	    kafka_request_flexible(api_key, api_version))
		kafka_wr_tags(w);
}

/* ------------------------------------------------------------------ */
/* Readers */

/* n bytes at the cursor as a slice, or a null slice and a latched error. */
static const uint8_t *
take(struct rbuf *r, int32_t n)
{
	return rbuf_bytes(r, (size_t)n);
}

struct kafka_str
kafka_rd_nstr(struct rbuf *r)
{
	struct kafka_str s = {NULL, -1};
	int16_t len = rbuf_i16(r);

	if (r->err || len == -1)
		return s;
	if (len < -1) {
		rbuf_fail(r, ERR_MALFORMED);
		return s;
	}
	if ((s.p = (const char *)take(r, len)) != NULL)
		s.len = len;
	return s;
}

struct kafka_str
kafka_rd_str(struct rbuf *r)
{
	struct kafka_str s = kafka_rd_nstr(r);

	if (!r->err && s.len < 0)
		rbuf_fail(r, ERR_MALFORMED);
	return s;
}

struct kafka_bytes
kafka_rd_nbytes(struct rbuf *r)
{
	struct kafka_bytes b = {NULL, -1};
	int32_t len = rbuf_i32(r);

	if (r->err || len == -1)
		return b;
	if (len < -1) {
		rbuf_fail(r, ERR_MALFORMED);
		return b;
	}
	if ((b.p = take(r, len)) != NULL)
		b.len = len;
	return b;
}

struct kafka_bytes
kafka_rd_bytes(struct rbuf *r)
{
	struct kafka_bytes b = kafka_rd_nbytes(r);

	if (!r->err && b.len < 0)
		rbuf_fail(r, ERR_MALFORMED);
	return b;
}

/* uvarint N+1: returns N, -1 for null, or latches an error. */
static int32_t
rd_compact_len(struct rbuf *r)
{
	uint32_t v = rbuf_uvarint(r);

	if (r->err)
		return -1;
	if (v > (uint32_t)INT32_MAX) {
		rbuf_fail(r, ERR_MALFORMED);
		return -1;
	}
	return (int32_t)v - 1;
}

struct kafka_str
kafka_rd_cnstr(struct rbuf *r)
{
	struct kafka_str s = {NULL, -1};
	int32_t len = rd_compact_len(r);

	if (r->err || len < 0 || len > INT16_MAX) {
		/* Strings are at most 32767 bytes in every form. */
		if (len > INT16_MAX)
			rbuf_fail(r, ERR_MALFORMED);
		return s;
	}
	if ((s.p = (const char *)take(r, len)) != NULL)
		s.len = len;
	return s;
}

struct kafka_str
kafka_rd_cstr(struct rbuf *r)
{
	struct kafka_str s = kafka_rd_cnstr(r);

	if (!r->err && s.len < 0)
		rbuf_fail(r, ERR_MALFORMED);
	return s;
}

struct kafka_bytes
kafka_rd_cnbytes(struct rbuf *r)
{
	struct kafka_bytes b = {NULL, -1};
	int32_t len = rd_compact_len(r);

	if (r->err || len < 0)
		return b;
	if ((b.p = take(r, len)) != NULL)
		b.len = len;
	return b;
}

struct kafka_bytes
kafka_rd_cbytes(struct rbuf *r)
{
	struct kafka_bytes b = kafka_rd_cnbytes(r);

	if (!r->err && b.len < 0)
		rbuf_fail(r, ERR_MALFORMED);
	return b;
}

struct kafka_str
kafka_rd_fstr(struct rbuf *r, int flex)
{
	return flex ? kafka_rd_cstr(r) : kafka_rd_str(r);
}

struct kafka_str
kafka_rd_fnstr(struct rbuf *r, int flex)
{
	return flex ? kafka_rd_cnstr(r) : kafka_rd_nstr(r);
}

struct kafka_bytes
kafka_rd_fbytes(struct rbuf *r, int flex)
{
	return flex ? kafka_rd_cbytes(r) : kafka_rd_bytes(r);
}

struct kafka_bytes
kafka_rd_fnbytes(struct rbuf *r, int flex)
{
	return flex ? kafka_rd_cnbytes(r) : kafka_rd_nbytes(r);
}

/* A count must leave room for count elements of min_elem bytes each. */
static int32_t
check_count(struct rbuf *r, int32_t n, size_t min_elem)
{
	if (r->err)
		return 0;
	if (n < -1) {
		rbuf_fail(r, ERR_MALFORMED);
		return 0;
	}
	if (min_elem == 0)
		min_elem = 1;
	if (n > 0 && (size_t)n > rbuf_left(r) / min_elem) {
		rbuf_fail(r, ERR_MALFORMED);
		return 0;
	}
	return n;
}

int32_t
kafka_rd_array(struct rbuf *r, size_t min_elem)
{
	return check_count(r, rbuf_i32(r), min_elem);
}

int32_t
kafka_rd_carray(struct rbuf *r, size_t min_elem)
{
	int32_t n = rd_compact_len(r);

	return r->err ? 0 : check_count(r, n, min_elem);
}

int32_t
kafka_rd_farray(struct rbuf *r, int flex, size_t min_elem)
{
	return flex ? kafka_rd_carray(r, min_elem)
	            : kafka_rd_array(r, min_elem);
}

void
kafka_rd_tags(struct rbuf *r)
{
	uint32_t n, i, tag, size;
	int64_t last = -1;

	n = rbuf_uvarint(r);
	/* Each field needs at least a tag and a size byte. */
	if (!r->err && n > rbuf_left(r) / 2) {
		rbuf_fail(r, ERR_MALFORMED);
		return;
	}
	for (i = 0; i < n && !r->err; i++) {
		tag = rbuf_uvarint(r);
		size = rbuf_uvarint(r);
		if (r->err)
			return;
		if ((int64_t)tag <= last) {
			rbuf_fail(r, ERR_MALFORMED);
			return;
		}
		last = tag;
		rbuf_skip(r, size);
	}
}

void
kafka_rd_ftags(struct rbuf *r, int flex)
{
	if (flex)
		kafka_rd_tags(r);
}

struct kafka_uuid
kafka_rd_uuid(struct rbuf *r)
{
	struct kafka_uuid u;
	const uint8_t *p = rbuf_bytes(r, KAFKA_UUID_LEN);

	if (p != NULL)
		memcpy(u.b, p, KAFKA_UUID_LEN);
	else
		memset(u.b, 0, KAFKA_UUID_LEN);
	return u;
}

/* ------------------------------------------------------------------ */
/* Writers */

void
kafka_wr_str(struct wbuf *w, const char *s, int32_t len)
{
	if (len < 0)
		len = 0;
	if (len > INT16_MAX) {
		/* Not representable: fail the message rather than corrupt it. */
		if (!w->err)
			w->err = ERR_RANGE;
		return;
	}
	wbuf_i16(w, len);
	wbuf_put(w, s, (size_t)len);
}

void
kafka_wr_nstr(struct wbuf *w, const char *s, int32_t len)
{
	if (len < 0)
		wbuf_i16(w, -1);
	else
		kafka_wr_str(w, s, len);
}

void
kafka_wr_bytes(struct wbuf *w, const void *p, int32_t len)
{
	if (len < 0)
		len = 0;
	wbuf_i32(w, len);
	wbuf_put(w, p, (size_t)len);
}

void
kafka_wr_nbytes(struct wbuf *w, const void *p, int32_t len)
{
	if (len < 0)
		wbuf_i32(w, -1);
	else
		kafka_wr_bytes(w, p, len);
}

void
kafka_wr_cstr(struct wbuf *w, const char *s, int32_t len)
{
	if (len < 0)
		len = 0;
	if (len > INT16_MAX) {
		if (!w->err)
			w->err = ERR_RANGE;
		return;
	}
	wbuf_uvarint(w, (uint64_t)len + 1);
	wbuf_put(w, s, (size_t)len);
}

void
kafka_wr_cnstr(struct wbuf *w, const char *s, int32_t len)
{
	if (len < 0)
		wbuf_u8(w, 0);
	else
		kafka_wr_cstr(w, s, len);
}

void
kafka_wr_cbytes(struct wbuf *w, const void *p, int32_t len)
{
	if (len < 0)
		len = 0;
	wbuf_uvarint(w, (uint64_t)len + 1);
	wbuf_put(w, p, (size_t)len);
}

void
kafka_wr_cnbytes(struct wbuf *w, const void *p, int32_t len)
{
	if (len < 0)
		wbuf_u8(w, 0);
	else
		kafka_wr_cbytes(w, p, len);
}

void
kafka_wr_fstr(struct wbuf *w, int flex, const char *s, int32_t len)
{
	if (flex)
		kafka_wr_cstr(w, s, len);
	else
		kafka_wr_str(w, s, len);
}

void
kafka_wr_fnstr(struct wbuf *w, int flex, const char *s, int32_t len)
{
	if (flex)
		kafka_wr_cnstr(w, s, len);
	else
		kafka_wr_nstr(w, s, len);
}

void
kafka_wr_fbytes(struct wbuf *w, int flex, const void *p, int32_t len)
{
	if (flex)
		kafka_wr_cbytes(w, p, len);
	else
		kafka_wr_bytes(w, p, len);
}

void
kafka_wr_fnbytes(struct wbuf *w, int flex, const void *p, int32_t len)
{
	if (flex)
		kafka_wr_cnbytes(w, p, len);
	else
		kafka_wr_nbytes(w, p, len);
}

void
kafka_wr_array(struct wbuf *w, int32_t n)
{
	wbuf_i32(w, n < 0 ? -1 : n);
}

void
kafka_wr_carray(struct wbuf *w, int32_t n)
{
	wbuf_uvarint(w, n < 0 ? 0 : (uint64_t)n + 1);
}

void
kafka_wr_farray(struct wbuf *w, int flex, int32_t n)
{
	if (flex)
		kafka_wr_carray(w, n);
	else
		kafka_wr_array(w, n);
}

void
kafka_wr_tags(struct wbuf *w)
{
	wbuf_u8(w, 0);
}

void
kafka_wr_ftags(struct wbuf *w, int flex)
{
	if (flex)
		kafka_wr_tags(w);
}

void
kafka_wr_uuid(struct wbuf *w, const struct kafka_uuid *u)
{
	wbuf_put(w, u->b, KAFKA_UUID_LEN);
}
