/*
 * kafka_group.h: (2') the consumer-group coordinator of the single broker
 * (notes/kafka.md section 4): membership, rebalances and generations.
 * Committed offsets are kept by storage/groupstore; this module only says
 * whether a commit may be stored.
 *
 * A pure state machine: no libevent, no clock, no I/O.  Every call takes
 * "now" (ms); the caller arms one timer at kafka_group_next_deadline and
 * calls kafka_group_tick when it fires.  Requests that must wait for the
 * rest of the group (JoinGroup until the rebalance completes, SyncGroup
 * until the leader's assignment arrives) pass an opaque `waiter`; when
 * their answer is ready the coordinator calls back on_join / on_sync with
 * that waiter and a result valid only during the callback.  A waiter
 * whose connection goes away is withdrawn with kafka_group_cancel.
 *
 * States of a group (Kafka's classic protocol):
 *
 *	            join (new group)
 *	  Empty --------------------------> PreparingRebalance
 *	    ^                                 |  ^        all members rejoined,
 *	    | last member leaves              |  |        or rebalance timeout
 *	    | or expires                      v  |        (initial delay for a
 *	    +------------------------ CompletingRebalance  new group)
 *	    |                                 |  ^
 *	    |        leader's SyncGroup       v  | join / leave / expiry
 *	    +----------------------------- Stable
 *
 * Invariants:
 *  1. A member has at most one waiting JoinGroup and one waiting
 *     SyncGroup; every waiter is answered exactly once (result, error, or
 *     withdrawn by kafka_group_cancel), and never after it was cancelled.
 *  2. Members are waiting in JoinGroup only in PreparingRebalance, and in
 *     SyncGroup only in CompletingRebalance.
 *  3. A member waiting in a request is not expired by its session
 *     timeout (its client is blocked on us); the rebalance timeout bounds
 *     both waits instead.
 *  4. generation_id only grows; each completed join increments it.
 *  5. Results handed to a callback or returned point into the
 *     coordinator's memory and stay valid only until the next call into
 *     it.
 *  6. Over every group, members plus pending member ids stay within
 *     KAFKA_GROUP_MAX_ALL_MEMBERS and the bytes of protocol metadata and
 *     assignments within KAFKA_GROUP_MAX_HELD (counted as they change;
 *     nothing left once the coordinator is freed).
 */
#ifndef SERVER_KAFKA_GROUP_H
#define SERVER_KAFKA_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/kafka_frame.h"

struct kafka_group_coord;

/* Kafka's broker defaults, except the initial delay (configurable). */
#define KAFKA_GROUP_MIN_SESSION_MS 6000    /* group.min.session.timeout.ms */
#define KAFKA_GROUP_MAX_SESSION_MS 1800000 /* group.max.session.timeout.ms */
#define KAFKA_GROUP_MAX_MEMBERS    1000    /* group.max.size */
#define KAFKA_GROUP_MAX_GROUPS     10000   /* groups held in memory */
/* A member's protocol metadata, or an assignment, at most this big. */
#define KAFKA_GROUP_MAX_PAYLOAD   ((size_t)1 << 20)
#define KAFKA_GROUP_MAX_PROTOCOLS 32
/*
 * What every group together may hold, so that no client runs away with
 * the coordinator's memory: members and member ids handed out but not
 * yet joined, and the bytes of protocol metadata and assignments.  A
 * JoinGroup or SyncGroup past them is answered
 * COORDINATOR_NOT_AVAILABLE (clients retry after a back-off).
 */
#define KAFKA_GROUP_MAX_ALL_MEMBERS 4096
#define KAFKA_GROUP_MAX_HELD        ((size_t)16 << 20)

/* State names as DescribeGroups and ListGroups report them. */
enum kafka_group_state {
	KAFKA_GROUP_EMPTY,
	KAFKA_GROUP_PREPARING,  /* "PreparingRebalance" */
	KAFKA_GROUP_COMPLETING, /* "CompletingRebalance" */
	KAFKA_GROUP_STABLE,
	KAFKA_GROUP_DEAD /* only reported, for groups that do not exist */
};
const char *kafka_group_state_name(enum kafka_group_state s);

/* What a coordinator call returns besides a Kafka error in the result. */
enum {
	KAFKA_GROUP_DONE = 0, /* the result is filled in: answer now */
	KAFKA_GROUP_WAIT = 1  /* the waiter will be called back */
};

struct kafka_group_member_view {
	const char *member_id;
	const char *instance_id; /* NULL: dynamic member */
	const char *client_id;
	const char *client_host;
	const uint8_t *metadata; /* of the chosen protocol (or the first) */
	size_t metadata_len;
	const uint8_t *assignment;
	size_t assignment_len;
};

struct kafka_group_join_result {
	int16_t error;
	int32_t generation_id;
	const char *protocol_type; /* NULL: none */
	const char *protocol_name; /* NULL: none */
	const char *leader_id;     /* "" when none */
	const char *member_id;     /* "" when none */
	/* The leader's answer lists every member with its metadata. */
	size_t nmembers;
	const struct kafka_group_member_view *members;
};

struct kafka_group_sync_result {
	int16_t error;
	const char *protocol_type;
	const char *protocol_name;
	const uint8_t *assignment;
	size_t assignment_len;
};

struct kafka_group_callbacks {
	void (*on_join)(void *waiter, const struct kafka_group_join_result *r);
	void (*on_sync)(void *waiter, const struct kafka_group_sync_result *r);
};

/*
 * A coordinator.  initial_delay_ms: how long a new group waits for more
 * members before its first rebalance completes (Kafka's
 * group.initial.rebalance.delay.ms, 3000 there; each join during the
 * delay extends it, up to the rebalance timeout).  nonce: any random
 * value, part of every member id minted, so ids differ across restarts.
 * Never fails (small allocation).
 */
struct kafka_group_coord *kafka_group_coord_new(
    const struct kafka_group_callbacks *cb, int32_t initial_delay_ms,
    uint64_t nonce);
/* Frees every group; pending waiters are dropped without a callback. */
void kafka_group_coord_free(struct kafka_group_coord *co);

/* Strings in requests are (pointer, length) pairs; p may be NULL if 0. */
struct kafka_group_bytes {
	const void *p;
	size_t len;
};

struct kafka_group_protocol_in {
	struct kafka_group_bytes name;
	struct kafka_group_bytes metadata;
};

struct kafka_group_join_req {
	struct kafka_group_bytes group_id;
	struct kafka_group_bytes member_id;   /* empty: a new member */
	struct kafka_group_bytes instance_id; /* p NULL: dynamic member */
	struct kafka_group_bytes client_id;
	struct kafka_group_bytes client_host;
	struct kafka_group_bytes protocol_type;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	size_t nprotocols;
	const struct kafka_group_protocol_in *protocols;
	/* JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED with
	 * its id, and must join again with it (KIP-394). */
	int require_known_member_id;
};

/*
 * JoinGroup.  Returns KAFKA_GROUP_DONE with *res set (an error, a new
 * member id with MEMBER_ID_REQUIRED, or the current generation for a
 * member that rejoins unchanged), or KAFKA_GROUP_WAIT: on_join(waiter)
 * comes when the rebalance completes, fails, or the member is removed.
 * Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT,
 * INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID, GROUP_MAX_SIZE_REACHED,
 * MEMBER_ID_REQUIRED, INVALID_REQUEST (over the payload limits),
 * COORDINATOR_NOT_AVAILABLE (too many groups).
 */
int kafka_group_join(struct kafka_group_coord *co,
    const struct kafka_group_join_req *rq, void *waiter, int64_t now,
    struct kafka_group_join_result *res);

struct kafka_group_assignment_in {
	struct kafka_group_bytes member_id;
	struct kafka_group_bytes assignment;
};

struct kafka_group_sync_req {
	struct kafka_group_bytes group_id;
	struct kafka_group_bytes member_id;
	int32_t generation_id;
	struct kafka_group_bytes protocol_type; /* p NULL: not checked */
	struct kafka_group_bytes protocol_name; /* p NULL: not checked */
	size_t nassignments;                    /* the leader's */
	const struct kafka_group_assignment_in *assignments;
};

/*
 * SyncGroup.  DONE with *res (an error, or the member's assignment in a
 * Stable group), or WAIT until the leader's assignment arrives (the
 * leader's own call completes the round and returns DONE).  Errors:
 * UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS,
 * INCONSISTENT_GROUP_PROTOCOL, INVALID_REQUEST.
 */
int kafka_group_sync(struct kafka_group_coord *co,
    const struct kafka_group_sync_req *rq, void *waiter, int64_t now,
    struct kafka_group_sync_result *res);

/*
 * Heartbeat: a Kafka error code: 0, UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS (rejoin).  Any call naming
 * a member keeps its session alive.
 */
int16_t kafka_group_heartbeat(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_bytes member_id,
    int32_t generation_id, int64_t now);

/*
 * LeaveGroup for one member (by id, or by instance id when member_id is
 * empty): 0, or UNKNOWN_MEMBER_ID.  The group rebalances, or becomes
 * Empty.
 */
int16_t kafka_group_leave(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_bytes member_id,
    struct kafka_group_bytes instance_id, int64_t now);

/*
 * May this OffsetCommit be stored?  0, or UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS.  generation -1 with an empty
 * member id is a "simple" commit (a consumer using assign()), allowed
 * when the group has no members.
 */
int16_t kafka_group_commit_allowed(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_bytes member_id,
    int32_t generation_id, int64_t now);

/* Withdraw a waiter whose connection closed (no callback follows). */
void kafka_group_cancel(struct kafka_group_coord *co, void *waiter);

/* Expire sessions and finish timed-out rebalances as of now. */
void kafka_group_tick(struct kafka_group_coord *co, int64_t now);

/* When kafka_group_tick next has work: a time in ms, or -1 for never. */
int64_t kafka_group_next_deadline(const struct kafka_group_coord *co);

/* ------------------------------------------------------------------ */
/* Describing groups (DescribeGroups, ListGroups) */

struct kafka_group_summary {
	const char *group_id;
	enum kafka_group_state state;
	const char *protocol_type; /* "" when none */
	const char *protocol_name; /* "" unless Stable or Completing */
	size_t nmembers;
	const struct kafka_group_member_view *members;
};

/*
 * The group called group_id: 1 and *out (valid until the next call that
 * changes the coordinator), or 0 if it holds no such group.
 */
int kafka_group_describe(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_summary *out);

/* Groups held: idx from 0 until it returns 0 (members not filled). */
int kafka_group_at(const struct kafka_group_coord *co, size_t idx,
    struct kafka_group_summary *out);

#endif
