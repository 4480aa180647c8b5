/*
 * kafka_msgs.h: (2') Kafka request bodies decoded, response bodies
 * encoded, one pair per API the broker serves.
 *
 * Versions implemented (KAFKA_<API>_MIN_VER..MAX_VER below), up to those
 * of Apache Kafka 3.9; the group APIs are in kafka_group_msgs.h:
 *	ApiVersions  0-4	Metadata     0-12
 *	Produce      3-11	Fetch        4-17
 *	ListOffsets  0-9
 * Produce and Fetch start where RecordBatch v2 (magic 2) does, which is
 * also where Kafka 4 starts them (KIP-896).
 * Every codec takes the version and derives `flex` from
 * kafka_request_flexible(); strings, arrays and tag buffers go through the
 * kafka_rd_f* / kafka_wr_f* primitives, so a flexible version of an API is
 * added by adding its new fields, not by restructuring.
 *
 * Decoders: p/n is the request BODY (after the header decoded by
 * kafka_decode_request_header).  Counts from the wire are checked against
 * the bytes left (each element needs a minimum size) and against
 * KAFKA_MAX_ARRAY before anything is allocated; arrays come from the arena
 * `a` (bounded by its cap); strings and record bytes point into p.  So the
 * decoded request is valid while both p and the arena (until arena_reset)
 * are.  Every decoder returns n (all bytes consumed; 0 for an empty body)
 * on success, or a negative error:
 *	ERR_MALFORMED	truncated, bad length, or trailing bytes
 *	ERR_TOO_BIG	a count over KAFKA_MAX_ARRAY or the arena cap
 *	ERR_UNSUPPORTED	a version outside MIN_VER..MAX_VER
 * with *err_off (if not NULL) set to the body offset of the element
 * (topic, partition, or the top-level field) whose decoding failed.
 * On error *out is partially filled and must not be used.
 *
 * Encoders append a response BODY to w (the caller writes the frame size
 * and kafka_encode_response_header first).  They cannot fail except
 * through w's latched error, which the caller checks once.  Calling one
 * with a version outside its implemented range is a caller bug (the
 * broker's API table bounds versions); it then writes whatever layout its
 * version branches produce, not an error.
 */
#ifndef PROTO_KAFKA_MSGS_H
#define PROTO_KAFKA_MSGS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/wbuf.h"

/* Sanity cap on any decoded array count (topics, partitions, ...). */
#define KAFKA_MAX_ARRAY 100000

/* Versions the codec decodes and encodes; the listener advertises the
 * subset each kafka_api_*.c entry names. */
#define KAFKA_API_VERSIONS_MIN_VER 0
#define KAFKA_API_VERSIONS_MAX_VER 4
#define KAFKA_METADATA_MIN_VER     0
#define KAFKA_METADATA_MAX_VER     12
#define KAFKA_PRODUCE_MIN_VER      3
#define KAFKA_PRODUCE_MAX_VER      11
#define KAFKA_FETCH_MIN_VER        4
#define KAFKA_FETCH_MAX_VER        17
#define KAFKA_LIST_OFFSETS_MIN_VER 0
#define KAFKA_LIST_OFFSETS_MAX_VER 9

/* Versions that brought a behaviour the broker acts on. */
#define KAFKA_METADATA_V_AUTO_CREATE_FLAG 4  /* allow_auto_topic_creation */
#define KAFKA_METADATA_V_TOPIC_ID         10 /* topic ids (KIP-516) */
#define KAFKA_PRODUCE_V_ZSTD              7  /* zstd batches (KIP-110) */
#define KAFKA_FETCH_V_TOPIC_ID            13 /* topics named by id */
#define KAFKA_LIST_OFFSETS_V_MAX_TS       7  /* -3: the newest record */

/* Bits of an "authorized operations" field (Kafka's AclOperation codes),
 * and the value that means "not asked for". */
#define KAFKA_ACL_OP_READ            3
#define KAFKA_ACL_OP_WRITE           4
#define KAFKA_ACL_OP_CREATE          5
#define KAFKA_ACL_OP_DESCRIBE        8
#define KAFKA_AUTHORIZED_OPS_OMITTED INT32_MIN

/* ------------------------------------------------------------------ */
/* ApiVersions (18) */

struct kafka_api_versions_req {
	struct kafka_str client_software_name;    /* v3+; null before */
	struct kafka_str client_software_version; /* v3+; null before */
};

int kafka_decode_api_versions_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_api_versions_req *out, struct arena *a, size_t *err_off);

/* One advertised API: the versions the broker serves for key. */
struct kafka_api_range {
	int16_t key;
	int16_t min_ver;
	int16_t max_ver;
};

/*
 * ApiVersions response body, version ver (0-4):
 *	v0:   error i16, [key i16, min i16, max i16]
 *	v1-2: v0 + throttle_ms i32
 *	v3-4: error, compact array of {key, min, max, tags}, throttle, tags
 *	      (no feature tags: this broker has no finalized features)
 * (always after a response header v0, see kafka_encode_response_header).
 */
void kafka_encode_api_versions_resp(struct wbuf *w, int16_t ver, int16_t error,
    const struct kafka_api_range *apis, int napis, int32_t throttle_ms);

/*
 * The answer to an ApiVersions request newer than KAFKA_API_VERSIONS_MAX_VER
 * (or newer than the broker advertises): like Apache Kafka (KIP-511), a v0
 * layout body with error UNSUPPORTED_VERSION (35) and the given ranges, so
 * the client can pick a version it shares and retry (librdkafka retries
 * with v0 or its max below the request; kafkajs steps down one version).
 * The body is not decoded first.  Use a response header v0.
 */
void kafka_encode_api_versions_unsupported(
    struct wbuf *w, const struct kafka_api_range *apis, int napis);

/* ------------------------------------------------------------------ */
/* Metadata (3) */

struct kafka_metadata_req {
	/*
	 * 1 when the client asks for every topic: v0 empty array, v1+ null
	 * array.  Then ntopics is 0.  (v1+ empty array = no topics: brokers
	 * only, all_topics 0 and ntopics 0.)
	 */
	int all_topics;
	int32_t ntopics;
	/* ntopics names, arena; null names only from v10, where a topic may
	 * be named by its id instead */
	struct kafka_str *topics;
	/* v10+: ntopics ids (zero = named by name); NULL before v10 */
	struct kafka_uuid *topic_ids;
	/* v4+ field; 1 for v0-v3, which behave as if it were set. */
	int8_t allow_auto_topic_creation;
	int8_t include_cluster_ops; /* v8-10 */
	int8_t include_topic_ops;   /* v8+ */
};

int kafka_decode_metadata_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_metadata_req *out, struct arena *a, size_t *err_off);

struct kafka_metadata_broker {
	int32_t node_id;
	struct kafka_str host;
	int32_t port;
	struct kafka_str rack; /* v1+; len -1 = null */
};

struct kafka_metadata_part {
	int16_t error;
	int32_t partition;
	int32_t leader;
	int32_t leader_epoch; /* v7+; -1 = unknown */
	int32_t nreplicas;
	const int32_t *replicas;
	int32_t nisr;
	const int32_t *isr;
};

struct kafka_metadata_topic {
	int16_t error;
	struct kafka_str name;      /* null only from v12 */
	struct kafka_uuid topic_id; /* v10+ */
	int8_t is_internal;         /* v1+ */
	int32_t nparts;
	const struct kafka_metadata_part *parts;
	int32_t authorized_ops; /* v8+; KAFKA_AUTHORIZED_OPS_OMITTED */
};

struct kafka_metadata_resp {
	int32_t throttle_ms; /* v3+ */
	int32_t nbrokers;
	const struct kafka_metadata_broker *brokers;
	struct kafka_str cluster_id; /* v2+; len -1 = null */
	int32_t controller_id;       /* v1+ */
	int32_t ntopics;
	const struct kafka_metadata_topic *topics;
	int32_t cluster_authorized_ops; /* v8-10 */
};

/*
 * Metadata response body, version ver (0-12):
 *	[v3+ throttle] brokers[node, host, port, (v1+) rack]
 *	(v2+) cluster_id (v1+) controller_id
 *	topics[error, name, (v10+) topic_id, (v1+) is_internal,
 *	       partitions[error, partition, leader, (v7+) leader_epoch,
 *	                  replicas[], isr[], (v5+) offline_replicas[] (empty)],
 *	       (v8+) topic_authorized_ops]
 *	(v8-10) cluster_authorized_ops
 * Fields a version lacks are not written.
 */
void kafka_encode_metadata_resp(
    struct wbuf *w, int16_t ver, const struct kafka_metadata_resp *m);

/* ------------------------------------------------------------------ */
/* Produce (0) */

struct kafka_produce_part {
	int32_t partition;
	/* The record set exactly as sent (len -1 = null); points into p. */
	struct kafka_bytes records;
};

struct kafka_produce_topic {
	struct kafka_str name;
	int32_t nparts;
	struct kafka_produce_part *parts; /* arena */
};

struct kafka_produce_req {
	struct kafka_str transactional_id; /* may be null */
	int16_t acks; /* -1, 0, 1; others are the caller's to refuse */
	int32_t timeout_ms;
	int32_t ntopics;
	struct kafka_produce_topic *topics; /* arena */
};

int kafka_decode_produce_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_produce_req *out, struct arena *a, size_t *err_off);

struct kafka_produce_part_resp {
	int32_t partition;
	int16_t error;
	int64_t base_offset;      /* -1 on error */
	int64_t log_append_time;  /* -1 for CreateTime topics */
	int64_t log_start_offset; /* v5+; -1 if unknown */
};

struct kafka_produce_topic_resp {
	struct kafka_str name;
	int32_t nparts;
	const struct kafka_produce_part_resp *parts;
};

struct kafka_produce_resp {
	int32_t ntopics;
	const struct kafka_produce_topic_resp *topics;
	int32_t throttle_ms;
};

/*
 * Produce response body, version ver (3-11):
 *	[topic, [partition, error, base_offset, log_append_time,
 *	         (v5+) log_start_offset,
 *	         (v8+) record_errors[] (empty), error_message (null)]],
 *	throttle_ms
 * (v10's tagged current-leader fields only matter after a leader change,
 * which a single broker never has: they are not written.)
 * (acks = 0 requests get no response at all; that is the caller's rule.)
 */
void kafka_encode_produce_resp(
    struct wbuf *w, int16_t ver, const struct kafka_produce_resp *r);

/* ------------------------------------------------------------------ */
/* Fetch (1) */

struct kafka_fetch_part {
	int32_t partition;
	int32_t current_leader_epoch; /* v9+; -1 before */
	int64_t fetch_offset;
	int32_t last_fetched_epoch; /* v12+; -1 before */
	int64_t log_start_offset;   /* v5+; -1 before (follower field) */
	int32_t partition_max_bytes;
};

struct kafka_fetch_topic {
	struct kafka_str name; /* v0-12; empty from v13 */
	struct kafka_uuid id;  /* v13+; zero before */
	int32_t nparts;
	struct kafka_fetch_part *parts; /* arena */
};

/* v7+ incremental fetch sessions: partitions to drop from the session. */
struct kafka_fetch_forgotten {
	struct kafka_str name; /* v7-12 */
	struct kafka_uuid id;  /* v13+ */
	int32_t nparts;
	int32_t *parts; /* arena */
};

struct kafka_fetch_req {
	int32_t replica_id; /* -1 for consumers (v15+: a tag, left at -1) */
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;      /* v3+ */
	int8_t isolation_level; /* v4+: 0 read_uncommitted, 1 committed */
	int32_t session_id;     /* v7+; 0 before */
	int32_t session_epoch;  /* v7+; -1 before (= full fetch, no session) */
	int32_t ntopics;
	struct kafka_fetch_topic *topics; /* arena */
	int32_t nforgotten;               /* v7+ */
	struct kafka_fetch_forgotten *forgotten;
	struct kafka_str rack_id; /* v11+; empty before */
};

int kafka_decode_fetch_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_fetch_req *out, struct arena *a, size_t *err_off);

/*
 * The Fetch response is written in pieces because record bytes go to the
 * socket by reference, never through the wbuf:
 *
 *	kafka_encode_fetch_resp_head(w, ver, throttle, error, session, nt)
 *	for each of nt topics:
 *		kafka_encode_fetch_topic_head(w, ver, name, namelen, id, np)
 *		for each of np partitions:
 *			kafka_encode_fetch_part_head(w, ver, &part)
 *			<caller sends exactly part.records_len record bytes
 *			 (none when records_len is -1 or 0)>
 *			kafka_encode_fetch_part_tail(w, ver)
 *		kafka_encode_fetch_topic_tail(w, ver)
 *	kafka_encode_fetch_resp_tail(w, ver)
 *
 * The *_tail calls write nothing for non-flexible versions and the tag
 * buffers of flexible ones (v12+); call them anyway.  A topic is written
 * by name up to v12 and by id (which must then not be NULL) from v13.
 * The frame size counts the record bytes (kafka_frame_end extra).
 */
void kafka_encode_fetch_resp_head(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, int16_t error, int32_t session_id, int32_t ntopics);
void kafka_encode_fetch_topic_head(struct wbuf *w, int16_t ver,
    const char *name, int32_t namelen, const struct kafka_uuid *id,
    int32_t nparts);

struct kafka_fetch_part_resp {
	int32_t partition;
	int16_t error;
	int64_t high_watermark;
	int64_t last_stable_offset;     /* v4+ */
	int64_t log_start_offset;       /* v5+ */
	int32_t preferred_read_replica; /* v11+; -1 = none */
	int32_t records_len;            /* -1 = null records */
};

/*
 * Partition header up to and including the records length: partition,
 * error, high_watermark, last_stable_offset, (v5+) log_start_offset,
 * aborted_transactions (always an empty array), (v11+)
 * preferred_read_replica, records length.
 */
void kafka_encode_fetch_part_head(
    struct wbuf *w, int16_t ver, const struct kafka_fetch_part_resp *part);
void kafka_encode_fetch_part_tail(struct wbuf *w, int16_t ver);
void kafka_encode_fetch_topic_tail(struct wbuf *w, int16_t ver);
void kafka_encode_fetch_resp_tail(struct wbuf *w, int16_t ver);

/* ------------------------------------------------------------------ */
/* ListOffsets (2) */

/* Special timestamps a ListOffsets partition may ask for. */
#define KAFKA_OFFSET_LATEST         (-1)
#define KAFKA_OFFSET_EARLIEST       (-2)
#define KAFKA_OFFSET_MAX_TIMESTAMP  (-3) /* v7+: the newest record */
#define KAFKA_OFFSET_EARLIEST_LOCAL (-4) /* v8+: tiered storage */
#define KAFKA_OFFSET_LATEST_TIERED  (-5) /* v9+: tiered storage */

struct kafka_list_offsets_part {
	int32_t partition;
	int32_t current_leader_epoch; /* v4+; -1 before */
	int64_t timestamp;            /* or one of the KAFKA_OFFSET_* above */
	int32_t max_num_offsets;      /* v0 only; 1 for v1+ */
};

struct kafka_list_offsets_topic {
	struct kafka_str name;
	int32_t nparts;
	struct kafka_list_offsets_part *parts; /* arena */
};

struct kafka_list_offsets_req {
	int32_t replica_id;
	int8_t isolation_level; /* v2+; 0 before */
	int32_t ntopics;
	struct kafka_list_offsets_topic *topics; /* arena */
};

int kafka_decode_list_offsets_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_list_offsets_req *out, struct arena *a, size_t *err_off);

struct kafka_list_offsets_part_resp {
	int32_t partition;
	int16_t error;
	int64_t timestamp;    /* v1+: -1 for the special queries */
	int64_t offset;       /* -1 when none */
	int32_t leader_epoch; /* v4+; -1 = unknown */
};

struct kafka_list_offsets_topic_resp {
	struct kafka_str name;
	int32_t nparts;
	const struct kafka_list_offsets_part_resp *parts;
};

struct kafka_list_offsets_resp {
	int32_t throttle_ms; /* v2+ */
	int32_t ntopics;
	const struct kafka_list_offsets_topic_resp *topics;
};

/*
 * ListOffsets response body, version ver (0-9):
 *	(v2+) throttle_ms,
 *	[topic, [partition, error, v0: old_style_offsets [i64] | v1+:
 *	         timestamp, offset, (v4+) leader_epoch]]
 * v0 writes a one-element offsets array ([offset]), or an empty one when
 * error is set or offset is -1 (as Kafka does).
 */
void kafka_encode_list_offsets_resp(
    struct wbuf *w, int16_t ver, const struct kafka_list_offsets_resp *r);

#endif
