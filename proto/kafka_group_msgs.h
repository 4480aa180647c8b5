/*
 * kafka_group_msgs.h: (2') Kafka consumer-group request bodies decoded and
 * response bodies encoded: FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups and
 * ListGroups, every version of Apache Kafka 3.9 from the lowest a client
 * of this broker sends (see KAFKA_*_MIN_VER), flexible (KIP-482) and not.
 *
 * The conventions are those of kafka_msgs.h: decoders take the request
 * BODY and return n (all consumed) or ERR_MALFORMED / ERR_TOO_BIG /
 * ERR_UNSUPPORTED with *err_off; strings and bytes point into the body;
 * arrays come from the arena.  Where a later version reshaped a request
 * (FindCoordinator v4 and OffsetFetch v8 batch several groups, LeaveGroup
 * v3 several members), the decoded struct always has the batched shape,
 * so the broker handles every version alike; the encoders write the shape
 * of the version asked for from the same struct.
 *
 * Group protocol payloads (a member's subscription metadata and its
 * assignment) are opaque bytes here: the leader client computes the
 * assignment, the broker only carries it.
 */
#ifndef PROTO_KAFKA_GROUP_MSGS_H
#define PROTO_KAFKA_GROUP_MSGS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "proto/wbuf.h"

#define KAFKA_FIND_COORDINATOR_MIN_VER 0
#define KAFKA_FIND_COORDINATOR_MAX_VER 6
#define KAFKA_JOIN_GROUP_MIN_VER       0
#define KAFKA_JOIN_GROUP_MAX_VER       9
#define KAFKA_SYNC_GROUP_MIN_VER       0
#define KAFKA_SYNC_GROUP_MAX_VER       5
#define KAFKA_HEARTBEAT_MIN_VER        0
#define KAFKA_HEARTBEAT_MAX_VER        4
#define KAFKA_LEAVE_GROUP_MIN_VER      0
#define KAFKA_LEAVE_GROUP_MAX_VER      5
#define KAFKA_OFFSET_COMMIT_MIN_VER    2
#define KAFKA_OFFSET_COMMIT_MAX_VER    9
#define KAFKA_OFFSET_FETCH_MIN_VER     1
#define KAFKA_OFFSET_FETCH_MAX_VER     9
#define KAFKA_DESCRIBE_GROUPS_MIN_VER  0
#define KAFKA_DESCRIBE_GROUPS_MAX_VER  5
#define KAFKA_LIST_GROUPS_MIN_VER      0
#define KAFKA_LIST_GROUPS_MAX_VER      5

/* Versions that brought a behaviour the coordinator acts on. */
#define KAFKA_FIND_COORDINATOR_V_BATCH 4 /* coordinator_keys[] */
#define KAFKA_JOIN_GROUP_V_MEMBER_ID   4 /* MEMBER_ID_REQUIRED (KIP-394) */
#define KAFKA_OFFSET_FETCH_V_BATCH     8 /* groups[] */

/* FindCoordinator key types. */
#define KAFKA_COORD_KEY_GROUP       0
#define KAFKA_COORD_KEY_TRANSACTION 1

/* ------------------------------------------------------------------ */
/* FindCoordinator (10) */

struct kafka_find_coordinator_req {
	int8_t key_type; /* v1+; 0 = group before */
	int32_t nkeys;   /* 1 before v4 */
	struct kafka_str *keys;
};

int kafka_decode_find_coordinator_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_find_coordinator_req *out, struct arena *a, size_t *err_off);

struct kafka_coordinator {
	struct kafka_str key; /* v4+ */
	int32_t node_id;
	struct kafka_str host;
	int32_t port;
	int16_t error;
	struct kafka_str error_message; /* v1+; len -1 = null */
};

/*
 * v0-3: [v1+ throttle] error, [v1+ error_message], node, host, port of
 * coords[0] (ncoords must be >= 1); v4+: throttle, coordinators[].
 */
void kafka_encode_find_coordinator_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, const struct kafka_coordinator *coords,
    int32_t ncoords);

/* ------------------------------------------------------------------ */
/* JoinGroup (11) */

struct kafka_group_protocol {
	struct kafka_str name;
	struct kafka_bytes metadata;
};

struct kafka_join_group_req {
	struct kafka_str group_id;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms; /* v1+; the session timeout before */
	struct kafka_str member_id;   /* empty for a new member */
	struct kafka_str group_instance_id; /* v5+; null = dynamic */
	struct kafka_str protocol_type;
	int32_t nprotocols;
	struct kafka_group_protocol *protocols;
	struct kafka_str reason; /* v8+; null */
};

int kafka_decode_join_group_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_join_group_req *out, struct arena *a, size_t *err_off);

struct kafka_join_group_member {
	struct kafka_str member_id;
	struct kafka_str group_instance_id; /* v5+; len -1 = null */
	struct kafka_bytes metadata;
};

struct kafka_join_group_resp {
	int32_t throttle_ms; /* v2+ */
	int16_t error;
	int32_t generation_id;
	struct kafka_str protocol_type; /* v7+; len -1 = null */
	struct kafka_str protocol_name; /* nullable v7+ (empty before) */
	struct kafka_str leader;
	int8_t skip_assignment; /* v9+ */
	struct kafka_str member_id;
	int32_t nmembers; /* the leader's response only */
	const struct kafka_join_group_member *members;
};

void kafka_encode_join_group_resp(
    struct wbuf *w, int16_t ver, const struct kafka_join_group_resp *r);

/* ------------------------------------------------------------------ */
/* SyncGroup (14) */

struct kafka_sync_assignment {
	struct kafka_str member_id;
	struct kafka_bytes assignment;
};

struct kafka_sync_group_req {
	struct kafka_str group_id;
	int32_t generation_id;
	struct kafka_str member_id;
	struct kafka_str group_instance_id; /* v3+; null */
	struct kafka_str protocol_type;     /* v5+; null */
	struct kafka_str protocol_name;     /* v5+; null */
	int32_t nassignments;               /* the leader's: one per member */
	struct kafka_sync_assignment *assignments;
};

int kafka_decode_sync_group_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_sync_group_req *out, struct arena *a, size_t *err_off);

struct kafka_sync_group_resp {
	int32_t throttle_ms; /* v1+ */
	int16_t error;
	struct kafka_str protocol_type; /* v5+; len -1 = null */
	struct kafka_str protocol_name; /* v5+; len -1 = null */
	struct kafka_bytes assignment;  /* len <= 0: empty */
};

void kafka_encode_sync_group_resp(
    struct wbuf *w, int16_t ver, const struct kafka_sync_group_resp *r);

/* ------------------------------------------------------------------ */
/* Heartbeat (12) */

struct kafka_heartbeat_req {
	struct kafka_str group_id;
	int32_t generation_id;
	struct kafka_str member_id;
	struct kafka_str group_instance_id; /* v3+; null */
};

int kafka_decode_heartbeat_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_heartbeat_req *out, struct arena *a, size_t *err_off);

/* [v1+ throttle] error.  Also the whole LeaveGroup v0-2 response. */
void kafka_encode_heartbeat_resp(
    struct wbuf *w, int16_t ver, int32_t throttle_ms, int16_t error);

/* ------------------------------------------------------------------ */
/* LeaveGroup (13) */

struct kafka_leave_member {
	struct kafka_str member_id;
	struct kafka_str group_instance_id; /* v3+; null */
	struct kafka_str reason;            /* v5+; null */
	int16_t error;                      /* for the response */
};

struct kafka_leave_group_req {
	struct kafka_str group_id;
	int32_t nmembers; /* 1 before v3 */
	struct kafka_leave_member *members;
};

int kafka_decode_leave_group_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_leave_group_req *out, struct arena *a, size_t *err_off);

/*
 * [v1+ throttle] error, (v3+) members[member_id, group_instance_id,
 * error] from members[0..nmembers).
 */
void kafka_encode_leave_group_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, int16_t error, const struct kafka_leave_member *m,
    int32_t nmembers);

/* ------------------------------------------------------------------ */
/* OffsetCommit (8) */

struct kafka_commit_part {
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;      /* v6+; -1 */
	struct kafka_str metadata; /* nullable */
	int16_t error;             /* for the response */
};

struct kafka_commit_topic {
	struct kafka_str name;
	int32_t nparts;
	struct kafka_commit_part *parts;
};

struct kafka_offset_commit_req {
	struct kafka_str group_id;
	int32_t generation_id; /* -1 with an empty member: a simple commit */
	struct kafka_str member_id;
	struct kafka_str group_instance_id; /* v7+; null */
	int64_t retention_time_ms;          /* v2-4; -1 */
	int32_t ntopics;
	struct kafka_commit_topic *topics;
};

int kafka_decode_offset_commit_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_offset_commit_req *out, struct arena *a, size_t *err_off);

/* [v3+ throttle] topics[name, partitions[partition, error]] from the
 * request's own topics, with each part's error filled in. */
void kafka_encode_offset_commit_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, const struct kafka_commit_topic *topics,
    int32_t ntopics);

/* ------------------------------------------------------------------ */
/* OffsetFetch (9) */

struct kafka_fetched_part {
	int32_t partition;
	int64_t offset;       /* -1: nothing committed */
	int32_t leader_epoch; /* v5+; -1 */
	struct kafka_str metadata;
	int16_t error;
};

struct kafka_offset_fetch_topic {
	struct kafka_str name;
	int32_t nparts;
	int32_t *parts; /* request: partition indexes */
	/* response: one result per partition */
	struct kafka_fetched_part *results;
};

struct kafka_offset_fetch_group {
	struct kafka_str group_id;
	struct kafka_str member_id; /* v9+; null */
	int32_t member_epoch;       /* v9+; -1 */
	int32_t ntopics;            /* -1: every topic with a commit */
	struct kafka_offset_fetch_topic *topics;
	int16_t error; /* for the response (v2+) */
};

struct kafka_offset_fetch_req {
	int32_t ngroups; /* 1 before v8 */
	struct kafka_offset_fetch_group *groups;
	int8_t require_stable; /* v7+ */
};

int kafka_decode_offset_fetch_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_offset_fetch_req *out, struct arena *a, size_t *err_off);

/*
 * v1-7: [v3+ throttle] topics[name, partitions[partition, offset,
 * (v5+) leader_epoch, metadata, error]], (v2+) error, of groups[0];
 * v8+: throttle, groups[group_id, topics[...], error].  Each topic's
 * results[0..nparts) are written; ntopics must be >= 0 by then.
 */
void kafka_encode_offset_fetch_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, const struct kafka_offset_fetch_group *groups,
    int32_t ngroups);

/* ------------------------------------------------------------------ */
/* DescribeGroups (15) */

struct kafka_describe_groups_req {
	int32_t ngroups;
	struct kafka_str *groups;
	int8_t include_authorized_ops; /* v3+ */
};

int kafka_decode_describe_groups_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_describe_groups_req *out, struct arena *a, size_t *err_off);

struct kafka_described_member {
	struct kafka_str member_id;
	struct kafka_str group_instance_id; /* v4+; len -1 = null */
	struct kafka_str client_id;
	struct kafka_str client_host;
	struct kafka_bytes metadata;
	struct kafka_bytes assignment;
};

struct kafka_described_group {
	int16_t error;
	struct kafka_str group_id;
	struct kafka_str state; /* "Stable", "Empty", "Dead", ... */
	struct kafka_str protocol_type;
	struct kafka_str protocol_data; /* the chosen protocol's name */
	int32_t nmembers;
	const struct kafka_described_member *members;
	int32_t authorized_ops; /* v3+; KAFKA_AUTHORIZED_OPS_OMITTED */
};

void kafka_encode_describe_groups_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, const struct kafka_described_group *g,
    int32_t ngroups);

/* ------------------------------------------------------------------ */
/* ListGroups (16) */

struct kafka_list_groups_req {
	int32_t nstates; /* v4+; 0 = any state */
	struct kafka_str *states;
	int32_t ntypes; /* v5+; 0 = any type */
	struct kafka_str *types;
};

int kafka_decode_list_groups_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_list_groups_req *out, struct arena *a, size_t *err_off);

struct kafka_listed_group {
	struct kafka_str group_id;
	struct kafka_str protocol_type;
	struct kafka_str state; /* v4+ */
	struct kafka_str type;  /* v5+: "classic" */
};

void kafka_encode_list_groups_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, int16_t error, const struct kafka_listed_group *g,
    int32_t ngroups);

#endif
