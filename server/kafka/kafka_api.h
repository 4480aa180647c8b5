/*
 * kafka_api.h: (2') what the Kafka listener (kafka_server.c) shares with
 * its per-API files (kafka_api_<name>.c): the dispatch-table entry, the
 * request context, and the few connection services a handler needs
 * (answer, topic lookup, long-poll parking).  Internal to the broker:
 * nothing outside server/kafka_*.c includes it.
 *
 * A handler runs on the event loop with one whole request frame decoded
 * up to its header.  It decodes the body with the codec, acts on the log,
 * and either answers at once (kafka_reply_begin .. kafka_reply_end, or its
 * own by-reference write for Fetch), sends nothing (Produce acks=0), or
 * parks the connection until it can answer (kafka_conn_park).  Responses
 * leave each connection in request order because a connection handles
 * one request at a time and a parked one handles none.
 */
#ifndef SERVER_KAFKA_API_H
#define SERVER_KAFKA_API_H

#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "proto/wbuf.h"

struct config;
struct evbuffer;
struct kafka_conn;
struct kafka_coord;
struct kafka_server;
struct seglog;
struct seglog_topic;

/* This broker in Metadata: the only node, controller and replica. */
#define KAFKA_NODE_ID    1
#define KAFKA_CLUSTER_ID "finnstream"

/*
 * Per-connection cap on response bytes queued for the socket.  While more
 * than this waits (a consumer that does not read), the connection handles
 * no further request, so one stalled client pins at most about this much
 * (plus one response) of log segments past retention.  64 MiB lets a
 * librdkafka consumer's default 50 MiB fetch.max.bytes through in one go.
 */
#define KAFKA_CONN_MAX_OUTPUT ((size_t)64 << 20)

/* What a handler returns (or a negative ERR_* for a malformed body: the
 * listener then logs it with ctx->err_off and closes the connection). */
enum kafka_handled {
	KAFKA_DONE = 0,   /* answered, or nothing to answer (acks=0) */
	KAFKA_PARKED = 1, /* kafka_conn_park was called */
	KAFKA_CLOSE = 2   /* close after flushing (the handler logged why) */
};

struct kafka_req_ctx {
	struct kafka_server *ks;
	struct kafka_conn *conn;
	const struct config *cfg;
	struct seglog *seglog;
	struct kafka_coord *coord; /* consumer groups (kafka_coord.h) */
	const char *peer;          /* "ip:port", the log context */
	struct kafka_req_header hdr;
	const uint8_t *body; /* the request body, valid during the handler */
	size_t body_len;
	struct arena *arena; /* reset before each request; a parked
				request's state may live here */
	struct wbuf *w;      /* the connection's response buffer */
	size_t mark;         /* kafka_reply_begin's frame mark */
	size_t err_off;      /* body offset of a decode error */
	int64_t now_ms;      /* wall clock, cached per loop turn */
};

struct kafka_api_entry {
	int16_t api_key;
	int16_t min_ver; /* served (and advertised) versions */
	int16_t max_ver;
	int (*handle)(struct kafka_req_ctx *ctx);
};

/* One entry per API file. */
extern const struct kafka_api_entry kafka_api_versions_entry;
extern const struct kafka_api_entry kafka_api_metadata_entry;
extern const struct kafka_api_entry kafka_api_produce_entry;
extern const struct kafka_api_entry kafka_api_fetch_entry;
extern const struct kafka_api_entry kafka_api_list_offsets_entry;
extern const struct kafka_api_entry kafka_api_find_coordinator_entry;
extern const struct kafka_api_entry kafka_api_join_group_entry;
extern const struct kafka_api_entry kafka_api_sync_group_entry;
extern const struct kafka_api_entry kafka_api_heartbeat_entry;
extern const struct kafka_api_entry kafka_api_leave_group_entry;
extern const struct kafka_api_entry kafka_api_offset_commit_entry;
extern const struct kafka_api_entry kafka_api_offset_fetch_entry;
extern const struct kafka_api_entry kafka_api_describe_groups_entry;
extern const struct kafka_api_entry kafka_api_list_groups_entry;

/*
 * The served APIs as ApiVersions advertises them (kafka_server.c owns the
 * table): fills up to max ranges, returns how many there are.
 */
int kafka_api_ranges(struct kafka_api_range *out, int max);

/*
 * Start a response to ctx's request in ctx->w: the frame size placeholder
 * and the response header.  The handler then encodes the body into
 * ctx->w and calls kafka_reply_end, which sizes the frame and queues it
 * on the connection (copied; ctx->w may be reused).  A wbuf error (out of
 * memory) makes kafka_reply_end return it; the handler returns it too and
 * the connection is closed.
 */
void kafka_reply_begin(struct kafka_req_ctx *ctx);
int kafka_reply_end(struct kafka_req_ctx *ctx);

/*
 * The topic a request names, creating it on first use when create is set
 * (with the configured partition count).  Returns a Kafka error code:
 * 0 with *out set; KAFKA_ERR_INVALID_TOPIC_EXCEPTION for an illegal name;
 * KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION when it does not exist and create
 * is 0, or when the topic limit is reached (logged).  `why` names the
 * request for the creation log line.
 */
int kafka_topic_lookup(struct kafka_req_ctx *ctx, struct kafka_str name,
    int create, const char *why, struct seglog_topic **out);

/*
 * A topic's id (KIP-516), for Metadata v10+ and Fetch v13+: derived from
 * its name (SHA-256, as a version 8 UUID), so it is stable across
 * restarts without being stored, and never the zero id.
 */
void kafka_topic_id(const struct seglog_topic *t, struct kafka_uuid *out);

/* The topic whose id is id, or NULL. */
struct seglog_topic *kafka_topic_by_id(
    struct kafka_req_ctx *ctx, const struct kafka_uuid *id);

/* Printable, bounded copy of the request's client id for log lines. */
const char *kafka_client_id(
    const struct kafka_req_header *h, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Services for requests that answer later (long-poll Fetch) */

/* The connection's socket output, for by-reference record bytes. */
struct evbuffer *kafka_conn_output(struct kafka_conn *c);
/* The connection's response buffer (free to reuse while parked). */
struct wbuf *kafka_conn_wbuf(struct kafka_conn *c);
/* The connection's arena (not reset while the connection is parked). */
struct arena *kafka_conn_arena(struct kafka_conn *c);
const char *kafka_conn_peer(const struct kafka_conn *c);

/*
 * Called for a parked connection when a watched partition got an append
 * (expired 0) or the wait ran out (expired 1).  Returns 1 once it has
 * queued its response (the connection then handles its next request), 0
 * to keep waiting (only when expired is 0), or a negative ERR_* to close
 * the connection.  It must not free anything the listener owns and must
 * not append to the log.
 */
typedef int (*kafka_park_fn)(struct kafka_conn *c, void *arg, int expired);

/* A partition a parked request waits on; the links are the listener's. */
struct kafka_watch {
	struct seglog_topic *t;
	int part;
	struct kafka_conn *conn;
	struct kafka_watch *next;
	struct kafka_watch **pprev;
};

/*
 * Park ctx's connection: no further request is handled until fn returns
 * 1 (or the connection closes).  watch[0..nwatch) name the partitions
 * whose appends call fn; they and arg must stay valid until then (the
 * connection's arena is not reset while parked).  fn is called with
 * expired 1 after wait_ms.  Returns KAFKA_PARKED for the handler to
 * return.
 */
int kafka_conn_park(struct kafka_req_ctx *ctx, struct kafka_watch *watch,
    int nwatch, int wait_ms, kafka_park_fn fn, void *arg);

/*
 * Park ctx's connection until someone calls kafka_conn_wake on it (group
 * requests waiting for the rest of their group): no watch, no timer; fn
 * is called with expired 0 on each wake.  cancel(arg), if not NULL, is
 * called when the connection closes (or is closed) before fn answered,
 * so whoever would wake it forgets it.  Returns KAFKA_PARKED.
 */
int kafka_conn_wait(struct kafka_req_ctx *ctx, kafka_park_fn fn,
    void (*cancel)(void *arg), void *arg);

/*
 * Ask a connection parked by kafka_conn_wait to answer now (its fn runs
 * inside this call).  No-op for a connection that is not parked.  Safe
 * from inside another connection's handler.
 */
void kafka_conn_wake(struct kafka_conn *c);

#endif
