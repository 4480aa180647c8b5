/*
 * kafka_coord.h: (2') the group coordinator wired to the event loop: the
 * pure state machine of kafka_group.h, the committed offsets of
 * storage/groupstore.h, one timer for session and rebalance deadlines,
 * and the glue that parks a JoinGroup or SyncGroup connection until the
 * state machine answers it, or an OffsetCommit until its commits are on
 * disk.  Used by the group API files
 * (kafka_api_{find_coordinator,join_group,sync_group,heartbeat,
 * leave_group,offset_commit,offset_fetch,describe_groups,list_groups}.c).
 */
#ifndef SERVER_KAFKA_COORD_H
#define SERVER_KAFKA_COORD_H

#include <stdint.h>
#include <string.h>

#include "proto/wbuf.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_group.h"
#include "server/kafka/kafka_server.h"

struct event_base;
struct groupstore;
struct kafka_coord;

/*
 * A coordinator on base keeping offsets in gs (both must outlive it).
 * Never fails (small allocation).
 */
struct kafka_coord *kafka_coord_new(
    struct event_base *base, struct groupstore *gs, int32_t initial_delay_ms);
/* Frees the state machine and the timer (connections first: see
 * kafka_server_free).  NULL: no-op. */
void kafka_coord_free(struct kafka_coord *kc);

struct kafka_group_coord *kafka_coord_groups(struct kafka_coord *kc);
struct groupstore *kafka_coord_store(struct kafka_coord *kc);

/* The coordinator's clock (monotonic ms): pass it as every "now". */
int64_t kafka_coord_now(void);

/* Re-arm the deadline timer: call after every state-machine call. */
void kafka_coord_rearm(struct kafka_coord *kc);

/*
 * The waiter a parked JoinGroup or SyncGroup passes to the state machine
 * (kept in the connection's arena).  The state machine's callback sets
 * join or sync for the time of one kafka_conn_wake, during which the
 * park function (answer) encodes the response.
 */
struct kafka_coord_waiter {
	struct kafka_coord *kc;
	struct kafka_conn *conn;
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	const struct kafka_group_join_result *join;
	const struct kafka_group_sync_result *sync;
};

/* Park ctx's connection on w (fn answers it); returns KAFKA_PARKED. */
int kafka_coord_park(
    struct kafka_req_ctx *ctx, struct kafka_coord_waiter *w, kafka_park_fn fn);

/*
 * A response from a parked connection: the frame and header are written
 * to the connection's wbuf, the caller encodes the body into the wbuf
 * returned, then kafka_coord_reply_end queues it (0 or a negative error).
 */
struct wbuf *kafka_coord_reply_begin(
    struct kafka_coord_waiter *w, size_t *mark);
int kafka_coord_reply_end(struct kafka_coord_waiter *w, size_t mark);

/* Where the committed offsets' file is written (kafka_server.h); NULL:
 * on the loop, the default. */
void kafka_coord_set_io(
    struct kafka_coord *kc, const struct kafka_commit_io *io);

/*
 * An OffsetCommit waiting for its commits to reach the disk (kept in the
 * connection's arena).  kafka_coord_persist, after groupstore_put:
 * returns 0 when they are durable already (or were written on the loop),
 * a negative error when that write failed, or KAFKA_PARKED with the
 * connection parked until a write that holds them is done; then
 * c->done is set, c->rc is 0 or the write's error, and fn answers.
 * One write is in flight at a time; commits staged meanwhile go in the
 * next, together.
 */
struct kafka_coord_commit {
	struct kafka_coord_waiter w;
	uint64_t need; /* the groupstore version that holds them */
	int done, rc;
	int linked;
	struct kafka_coord_commit *next, **pprev;
};
int kafka_coord_persist(
    struct kafka_req_ctx *ctx, struct kafka_coord_commit *c, kafka_park_fn fn);

/* A string of a decoded request as the state machine takes it (a null
 * string has p NULL and len 0). */
static inline struct kafka_group_bytes
kafka_coord_bytes(struct kafka_str s)
{
	struct kafka_group_bytes b;

	b.p = s.len >= 0 ? s.p : NULL;
	b.len = s.len > 0 ? (size_t)s.len : 0;
	return b;
}

/* A C string (or NULL) as a response string (NULL: null). */
static inline struct kafka_str
kafka_coord_str(const char *s)
{
	struct kafka_str k;

	k.p = s;
	k.len = s != NULL ? (int32_t)strlen(s) : -1;
	return k;
}

/* "/ip" of "ip:port" or "[ip]:port" (Kafka's client_host), in buf. */
const char *kafka_coord_client_host(const char *peer, char *buf, size_t size);

#endif
