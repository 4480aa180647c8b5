/*
 * test_kafka_group.c: the group coordinator's state machine, driven with
 * explicit times (no clock, no sockets): joins, MEMBER_ID_REQUIRED,
 * rebalances on join, leave and session expiry, the initial delay,
 * rebalance and sync timeouts, protocol selection, the errors each state
 * answers, commit rules, and withdrawn waiters.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kafka_frame.h"
#include "server/kafka/kafka_group.h"
#include "tests/lib/tap.h"

/* A waiter is a small record of what the coordinator called back. */
struct waiter {
	int joins;
	int syncs;
	int16_t error;
	int32_t generation;
	char member_id[128];
	char leader[128];
	char protocol[32];
	size_t nmembers;
	char assignment[64];
};

static void
on_join(void *w, const struct kafka_group_join_result *r)
{
	struct waiter *x = w;

	x->joins++;
	x->error = r->error;
	x->generation = r->generation_id;
	snprintf(x->member_id, sizeof(x->member_id), "%s", r->member_id);
	snprintf(x->leader, sizeof(x->leader), "%s", r->leader_id);
	snprintf(x->protocol, sizeof(x->protocol), "%s",
	    r->protocol_name ? r->protocol_name : "");
	x->nmembers = r->nmembers;
}

static void
on_sync(void *w, const struct kafka_group_sync_result *r)
{
	struct waiter *x = w;

	x->syncs++;
	x->error = r->error;
	snprintf(x->assignment, sizeof(x->assignment), "%.*s",
	    (int)r->assignment_len,
	    r->assignment ? (const char *)r->assignment : "");
}

static const struct kafka_group_callbacks cbs = {on_join, on_sync};

static struct kafka_group_bytes
B(const char *s) {
	struct kafka_group_bytes b = {s, s ? strlen(s) : 0};

	return b;
}

static struct kafka_group_protocol_in range_rr[2] = {
    {{"range", 5}, {"m", 1}}, {{"roundrobin", 10}, {"m", 1}}};

static struct kafka_group_join_req
jreq(const char *group, const char *member)
{
	struct kafka_group_join_req r;

	memset(&r, 0, sizeof(r));
	r.group_id = B(group);
	r.member_id = B(member);
	r.client_id = B("cli");
	r.client_host = B("/127.0.0.1");
	r.protocol_type = B("consumer");
	r.session_timeout_ms = 10000;
	r.rebalance_timeout_ms = 30000;
	r.nprotocols = 2;
	r.protocols = range_rr;
	return r;
}

/* Join and copy the inline answer into the waiter; returns DONE/WAIT. */
static int
join(struct kafka_group_coord *co, struct kafka_group_join_req *rq,
    struct waiter *w, int64_t now)
{
	struct kafka_group_join_result r;
	int rc = kafka_group_join(co, rq, w, now, &r);

	if (rc == KAFKA_GROUP_DONE)
		on_join(w, &r);
	return rc;
}

static int
sync_(struct kafka_group_coord *co, const char *group, const char *member,
    int32_t gen, size_t na, const struct kafka_group_assignment_in *a,
    struct waiter *w, int64_t now)
{
	struct kafka_group_sync_req rq;
	struct kafka_group_sync_result r;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.group_id = B(group);
	rq.member_id = B(member);
	rq.generation_id = gen;
	rq.nassignments = na;
	rq.assignments = a;
	rc = kafka_group_sync(co, &rq, w, now, &r);
	if (rc == KAFKA_GROUP_DONE)
		on_sync(w, &r);
	return rc;
}

static void
test_single_member(void)
{
	struct kafka_group_coord *co = kafka_group_coord_new(&cbs, 0, 7);
	struct kafka_group_join_req rq = jreq("g", "");
	struct waiter a = {0}, a2 = {0};
	struct kafka_group_summary s;
	char id[128];

	rq.require_known_member_id = 1;
	is_int(join(co, &rq, &a, 1000), KAFKA_GROUP_DONE,
	    "v4+ new member: answered at once");
	is_int(a.error, KAFKA_ERR_MEMBER_ID_REQUIRED, "MEMBER_ID_REQUIRED");
	ok(strncmp(a.member_id, "cli-", 4) == 0, "with a minted id (%s)",
	    a.member_id);
	snprintf(id, sizeof(id), "%s", a.member_id);
	ok(kafka_group_describe(co, B("g"), &s) &&
	        s.state == KAFKA_GROUP_EMPTY && s.nmembers == 0,
	    "the pending id is not a member yet");

	rq.member_id = B(id);
	memset(&a, 0, sizeof(a));
	is_int(join(co, &rq, &a, 1001), KAFKA_GROUP_DONE,
	    "rejoin with the id: a one-member group completes at once");
	ok(a.error == 0 && a.generation == 1 && strcmp(a.leader, id) == 0 &&
	        a.nmembers == 1 && strcmp(a.protocol, "range") == 0,
	    "generation 1, leader itself, one member, protocol range");
	is_int(kafka_group_heartbeat(co, B("g"), B(id), 1, 1002), 0,
	    "heartbeat while completing: 0");
	{
		struct kafka_group_assignment_in as = {B(id), {"A0", 2}};

		is_int(sync_(co, "g", id, 1, 1, &as, &a2, 1003),
		    KAFKA_GROUP_DONE, "the leader's sync completes the round");
		ok(a2.error == 0 && strcmp(a2.assignment, "A0") == 0,
		    "and gets its own assignment");
	}
	ok(kafka_group_describe(co, B("g"), &s) &&
	        s.state == KAFKA_GROUP_STABLE &&
	        strcmp(s.protocol_name, "range") == 0 && s.nmembers == 1 &&
	        s.members[0].assignment_len == 2,
	    "Stable, with the assignment described");
	is_int(kafka_group_heartbeat(co, B("g"), B(id), 0, 1004),
	    KAFKA_ERR_ILLEGAL_GENERATION, "old generation: ILLEGAL_GENERATION");
	is_int(kafka_group_heartbeat(co, B("g"), B("nobody"), 1, 1004),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID, "unknown member: UNKNOWN_MEMBER_ID");
	is_int(kafka_group_heartbeat(co, B("nogroup"), B(id), 1, 1004),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID, "unknown group: UNKNOWN_MEMBER_ID");

	/* An unchanged rejoin in Stable from the leader rebalances; from
	 * the same metadata it gets generation 2 at once (one member). */
	memset(&a, 0, sizeof(a));
	is_int(join(co, &rq, &a, 1005), KAFKA_GROUP_DONE, "leader rejoins");
	is_int(a.generation, 2, "a one-member rebalance: generation 2");

	is_int(kafka_group_leave(co, B("g"), B(id), B(NULL), 1006), 0, "leave");
	ok(kafka_group_describe(co, B("g"), &s) && s.state == KAFKA_GROUP_EMPTY,
	    "the group is Empty");
	is_int(kafka_group_leave(co, B("g"), B(id), B(NULL), 1007),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID, "leaving twice: UNKNOWN_MEMBER_ID");
	is_int(kafka_group_next_deadline(co), -1, "nothing left to time");
	kafka_group_coord_free(co);
}

/* Two members: a rebalance on join, sync hand-out, leave, expiry. */
static void
test_two_members(void)
{
	struct kafka_group_coord *co = kafka_group_coord_new(&cbs, 0, 7);
	struct kafka_group_join_req rq;
	struct waiter a = {0}, b = {0}, as = {0}, bs = {0};
	char ida[128], idb[128];
	struct kafka_group_assignment_in asg[2];

	rq = jreq("g", "");
	join(co, &rq, &a, 0);
	snprintf(ida, sizeof(ida), "%s", a.member_id);
	sync_(co, "g", ida, 1, 0, NULL, &as, 1);
	is_int(as.error, 0, "A alone: Stable at generation 1");

	rq = jreq("g", "");
	is_int(join(co, &rq, &b, 100), KAFKA_GROUP_WAIT,
	    "B joins a Stable group: waits for A to rejoin");
	is_int(kafka_group_heartbeat(co, B("g"), B(ida), 1, 200),
	    KAFKA_ERR_REBALANCE_IN_PROGRESS,
	    "A's heartbeat: REBALANCE_IN_PROGRESS");
	is_int(kafka_group_commit_allowed(co, B("g"), B(ida), 1, 200), 0,
	    "A may still commit while the rebalance is prepared");
	is_int(sync_(co, "g", ida, 1, 0, NULL, &as, 200), KAFKA_GROUP_DONE,
	    "a sync while preparing is answered at once");
	is_int(as.error, KAFKA_ERR_REBALANCE_IN_PROGRESS,
	    "with REBALANCE_IN_PROGRESS");
	rq = jreq("g", ida);
	memset(&a, 0, sizeof(a));
	is_int(join(co, &rq, &a, 300), KAFKA_GROUP_DONE,
	    "A rejoins: the last one completes the join");
	snprintf(idb, sizeof(idb), "%s", b.member_id);
	ok(a.error == 0 && a.generation == 2 && strcmp(a.leader, ida) == 0 &&
	        a.nmembers == 2,
	    "A: generation 2, still the leader, sees both members");
	ok(b.joins == 1 && b.error == 0 && b.generation == 2 &&
	        strcmp(b.leader, ida) == 0 && b.nmembers == 0 &&
	        strcmp(b.member_id, ida) != 0,
	    "B called back: generation 2, follower, its own new id");
	is_int(kafka_group_commit_allowed(co, B("g"), B(idb), 2, 310),
	    KAFKA_ERR_REBALANCE_IN_PROGRESS,
	    "commits while completing: REBALANCE_IN_PROGRESS");

	memset(&bs, 0, sizeof(bs));
	is_int(sync_(co, "g", idb, 2, 0, NULL, &bs, 400), KAFKA_GROUP_WAIT,
	    "B's sync waits for the leader");
	asg[0].member_id = B(ida);
	asg[0].assignment.p = "AA";
	asg[0].assignment.len = 2;
	asg[1].member_id = B(idb);
	asg[1].assignment.p = "BBB";
	asg[1].assignment.len = 3;
	memset(&as, 0, sizeof(as));
	is_int(sync_(co, "g", ida, 2, 2, asg, &as, 500), KAFKA_GROUP_DONE,
	    "the leader's sync");
	ok(strcmp(as.assignment, "AA") == 0 && bs.syncs == 1 &&
	        strcmp(bs.assignment, "BBB") == 0,
	    "each member gets its own assignment");
	is_int(kafka_group_commit_allowed(co, B("g"), B(idb), 2, 600), 0,
	    "B commits in generation 2");
	is_int(kafka_group_commit_allowed(co, B("g"), B(idb), 1, 600),
	    KAFKA_ERR_ILLEGAL_GENERATION,
	    "a commit of generation 1 is refused");

	/* B leaves: A is told to rejoin and gets the group alone. */
	is_int(
	    kafka_group_leave(co, B("g"), B(idb), B(NULL), 700), 0, "B leaves");
	is_int(kafka_group_heartbeat(co, B("g"), B(ida), 2, 800),
	    KAFKA_ERR_REBALANCE_IN_PROGRESS, "A is told to rejoin");
	memset(&a, 0, sizeof(a));
	join(co, &rq, &a, 900);
	ok(a.generation == 3 && a.nmembers == 1, "A alone in generation 3");
	sync_(co, "g", ida, 3, 0, NULL, &as, 901);

	/* B comes back, then dies: its session expires. */
	rq = jreq("g", "");
	memset(&b, 0, sizeof(b));
	is_int(join(co, &rq, &b, 1000), KAFKA_GROUP_WAIT, "B joins again");
	rq = jreq("g", ida);
	memset(&a, 0, sizeof(a));
	join(co, &rq, &a, 1100);
	snprintf(idb, sizeof(idb), "%s", b.member_id);
	ok(a.generation == 4 && b.generation == 4, "generation 4, two members");
	memset(&bs, 0, sizeof(bs));
	sync_(co, "g", idb, 4, 0, NULL, &bs, 1200);
	sync_(co, "g", ida, 4, 0, NULL, &as, 1200);
	is_int(kafka_group_next_deadline(co), 1200 + 10000,
	    "next deadline: the first session to run out");
	kafka_group_tick(co, 11100);
	is_int(kafka_group_heartbeat(co, B("g"), B(ida), 4, 11150), 0,
	    "A's heartbeat keeps A");
	kafka_group_tick(co, 11199);
	is_int(kafka_group_heartbeat(co, B("g"), B(idb), 4, 11100), 0,
	    "B still a member just before its session ends");
	kafka_group_tick(co, 21100);
	is_int(kafka_group_heartbeat(co, B("g"), B(idb), 4, 21100),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID, "B expired after its session timeout");
	kafka_group_coord_free(co);
}

static void
test_initial_delay_and_timeouts(void)
{
	struct kafka_group_coord *co = kafka_group_coord_new(&cbs, 3000, 1);
	struct kafka_group_join_req rq;
	struct waiter a = {0}, b = {0}, c = {0}, as = {0}, bs = {0};
	char ida[128], idb[128];

	rq = jreq("d", "");
	is_int(join(co, &rq, &a, 0), KAFKA_GROUP_WAIT,
	    "a new group waits out the initial delay");
	is_int(kafka_group_next_deadline(co), 3000, "delay ends at 3000");
	rq = jreq("d", "");
	join(co, &rq, &b, 1000);
	is_int(kafka_group_next_deadline(co), 4000,
	    "a second member extends it to 4000");
	kafka_group_tick(co, 3999);
	is_int(a.joins + b.joins, 0, "nothing before the delay ends");
	kafka_group_tick(co, 4000);
	ok(a.joins == 1 && b.joins == 1 && a.generation == 1 &&
	        b.generation == 1,
	    "both answered in generation 1 by the timer");
	ok((a.nmembers == 2) != (b.nmembers == 2),
	    "exactly one of them is the leader");
	snprintf(ida, sizeof(ida), "%s",
	    a.nmembers == 2 ? a.member_id : b.member_id);
	snprintf(idb, sizeof(idb), "%s",
	    a.nmembers == 2 ? b.member_id : a.member_id);

	/* The follower syncs, the leader never does. */
	is_int(sync_(co, "d", idb, 1, 0, NULL, &bs, 4100), KAFKA_GROUP_WAIT,
	    "the follower's sync waits");
	is_int(kafka_group_next_deadline(co), 4000 + 10000,
	    "next deadline: the leader's session");
	/* The leader heartbeats (0 while completing) but never syncs. */
	is_int(kafka_group_heartbeat(co, B("d"), B(ida), 1, 10000), 0,
	    "heartbeat while completing");
	kafka_group_heartbeat(co, B("d"), B(ida), 1, 20000);
	kafka_group_heartbeat(co, B("d"), B(ida), 1, 30000);
	is_int(kafka_group_next_deadline(co), 4000 + 30000,
	    "sync round deadline: the rebalance timeout");
	kafka_group_tick(co, 33999);
	is_int(bs.syncs, 0, "not before the deadline");
	kafka_group_tick(co, 34000);
	ok(bs.syncs == 1 && bs.error == KAFKA_ERR_REBALANCE_IN_PROGRESS,
	    "sync timeout: the follower is told to rejoin");
	is_int(kafka_group_heartbeat(co, B("d"), B(ida), 1, 34001),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID, "the silent leader was removed");

	/* The follower rejoins alone; a member that never rejoins a
	 * rebalance is dropped when its timeout ends. */
	rq = jreq("d", idb);
	memset(&b, 0, sizeof(b));
	is_int(join(co, &rq, &b, 34002), KAFKA_GROUP_DONE,
	    "the follower rejoins and completes alone");
	sync_(co, "d", idb, b.generation, 0, NULL, &bs, 34003);
	rq = jreq("d", "");
	is_int(join(co, &rq, &c, 35000), KAFKA_GROUP_WAIT, "C joins");
	/* The old member heartbeats (told to rejoin) but never rejoins. */
	is_int(kafka_group_heartbeat(co, B("d"), B(idb), b.generation, 40000),
	    KAFKA_ERR_REBALANCE_IN_PROGRESS, "told to rejoin");
	kafka_group_heartbeat(co, B("d"), B(idb), b.generation, 50000);
	kafka_group_heartbeat(co, B("d"), B(idb), b.generation, 60000);
	is_int(kafka_group_next_deadline(co), 35000 + 30000,
	    "the join deadline is the rebalance timeout");
	kafka_group_tick(co, 65000);
	ok(c.joins == 1 && c.error == 0 && c.nmembers == 1,
	    "at the deadline C completes alone, as leader");
	is_int(kafka_group_heartbeat(co, B("d"), B(idb), b.generation, 65001),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID,
	    "the member that did not rejoin is out");
	(void)as;
	kafka_group_coord_free(co);
}

static void
test_errors_and_protocols(void)
{
	struct kafka_group_coord *co = kafka_group_coord_new(&cbs, 0, 1);
	struct kafka_group_join_req rq;
	struct waiter a = {0}, b = {0}, c = {0};
	struct kafka_group_protocol_in rr_range[2] = {
	    {{"roundrobin", 10}, {"m", 1}}, {{"range", 5}, {"m", 1}}};
	struct kafka_group_protocol_in rr_only[1] = {
	    {{"roundrobin", 10}, {"m", 1}}};
	struct kafka_group_protocol_in other[1] = {
	    {{"RoundRobinAssigner", 18}, {"m", 1}}};
	char ida[128];

	rq = jreq("", "");
	join(co, &rq, &a, 0);
	is_int(a.error, KAFKA_ERR_INVALID_GROUP_ID, "empty group id");
	/* A group id with a NUL inside (found by fuzzing the listener: it
	 * was kept as a shorter C string and compared at its full length). */
	rq = jreq("e", "");
	rq.group_id.p = "g\0x";
	rq.group_id.len = 3;
	memset(&a, 0, sizeof(a));
	join(co, &rq, &a, 0);
	is_int(a.error, KAFKA_ERR_INVALID_GROUP_ID, "a NUL in the group id");
	is_int(kafka_group_heartbeat(co, rq.group_id, B("m"), 1, 0),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID, "and no such group exists after it");
	rq = jreq("e", "");
	rq.session_timeout_ms = 5999;
	join(co, &rq, &a, 0);
	is_int(a.error, KAFKA_ERR_INVALID_SESSION_TIMEOUT,
	    "session timeout below 6000");
	rq.session_timeout_ms = 1800001;
	join(co, &rq, &a, 0);
	is_int(a.error, KAFKA_ERR_INVALID_SESSION_TIMEOUT,
	    "session timeout above 1800000");
	rq = jreq("e", "unknown-id");
	join(co, &rq, &a, 0);
	is_int(a.error, KAFKA_ERR_UNKNOWN_MEMBER_ID,
	    "a made-up member id: UNKNOWN_MEMBER_ID");
	rq = jreq("e", "");
	rq.nprotocols = 0;
	join(co, &rq, &a, 0);
	is_int(a.error, KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL, "no protocols");

	/* Protocol vote: A [range, rr], B [rr, range], C [rr]. */
	rq = jreq("p", "");
	memset(&a, 0, sizeof(a));
	join(co, &rq, &a, 0);
	snprintf(ida, sizeof(ida), "%s", a.member_id);
	rq = jreq("p", "");
	rq.protocols = other;
	rq.nprotocols = 1;
	memset(&b, 0, sizeof(b));
	join(co, &rq, &b, 10);
	is_int(b.error, KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL,
	    "no protocol in common (kafkajs next to librdkafka)");
	rq = jreq("p", "");
	rq.protocols = rr_range;
	memset(&b, 0, sizeof(b));
	is_int(join(co, &rq, &b, 20), KAFKA_GROUP_WAIT, "B joins");
	rq = jreq("p", "");
	rq.protocols = rr_only;
	rq.nprotocols = 1;
	is_int(join(co, &rq, &c, 30), KAFKA_GROUP_WAIT, "C joins");
	rq = jreq("p", ida);
	memset(&a, 0, sizeof(a));
	join(co, &rq, &a, 40);
	ok(strcmp(a.protocol, "roundrobin") == 0 &&
	        strcmp(b.protocol, "roundrobin") == 0 && a.nmembers == 3,
	    "the only protocol all share wins: roundrobin");

	/* Commits. */
	is_int(kafka_group_commit_allowed(co, B("solo"), B(""), -1, 50), 0,
	    "a simple commit to a group without members");
	is_int(kafka_group_commit_allowed(co, B("solo"), B("x"), 3, 50),
	    KAFKA_ERR_ILLEGAL_GENERATION,
	    "a generation for a group that does not exist");
	is_int(kafka_group_commit_allowed(co, B("p"), B(""), -1, 50),
	    KAFKA_ERR_UNKNOWN_MEMBER_ID,
	    "a simple commit to a group with members");
	kafka_group_coord_free(co);
}

/* A cancelled waiter is never called back; the rebalance goes on. */
static void
test_cancel(void)
{
	struct kafka_group_coord *co = kafka_group_coord_new(&cbs, 0, 1);
	struct kafka_group_join_req rq;
	struct waiter a = {0}, b = {0}, as = {0};
	char ida[128];

	rq = jreq("c", "");
	join(co, &rq, &a, 0);
	snprintf(ida, sizeof(ida), "%s", a.member_id);
	sync_(co, "c", ida, 1, 0, NULL, &as, 0);
	rq = jreq("c", "");
	is_int(join(co, &rq, &b, 10), KAFKA_GROUP_WAIT, "B waits");
	kafka_group_cancel(co, &b);
	rq = jreq("c", ida);
	memset(&a, 0, sizeof(a));
	is_int(join(co, &rq, &a, 20), KAFKA_GROUP_WAIT,
	    "A rejoins; B's join was withdrawn, so the group waits for B");
	kafka_group_tick(co, 20 + 30000);
	ok(b.joins == 0, "the withdrawn waiter is never called");
	ok(a.joins == 1 && a.nmembers == 1 && a.generation == 2,
	    "at the rebalance timeout A completes without B");
	kafka_group_coord_free(co);
}

/*
 * What all groups together may hold: members (and ids handed out) past
 * KAFKA_GROUP_MAX_ALL_MEMBERS, or metadata and assignments past
 * KAFKA_GROUP_MAX_HELD, get COORDINATOR_NOT_AVAILABLE; room comes back
 * as members go.  kafka_group_coord_free asserts the counts end at 0.
 */
static void
test_limits(void)
{
	static char big[KAFKA_GROUP_MAX_PAYLOAD];
	struct kafka_group_coord *co = kafka_group_coord_new(&cbs, 0, 1);
	struct kafka_group_protocol_in fat[1] = {
	    {{"range", 5}, {big, sizeof(big)}}};
	struct kafka_group_assignment_in as[1];
	struct kafka_group_join_req rq;
	struct waiter w, lead, second;
	char gid[32];
	int i, refused = 0, done = 0;

	for (i = 0; i < KAFKA_GROUP_MAX_ALL_MEMBERS + 1; i++) {
		snprintf(gid, sizeof(gid), "m%d", i);
		rq = jreq(gid, "");
		memset(&w, 0, sizeof(w));
		join(co, &rq, &w, 0);
		if (w.error == KAFKA_ERR_COORDINATOR_NOT_AVAILABLE)
			refused++;
		else if (w.error == 0)
			done++;
	}
	is_int(done, KAFKA_GROUP_MAX_ALL_MEMBERS, "%d members join", done);
	is_int(refused, 1, "the next: COORDINATOR_NOT_AVAILABLE");
	/* Their sessions end (none is waiting in a request): room again. */
	kafka_group_tick(co, 20000);
	rq = jreq("m-again", "");
	memset(&w, 0, sizeof(w));
	join(co, &rq, &w, 20000);
	is_int(w.error, 0, "after the sessions expired, a member joins");
	kafka_group_coord_free(co);

	/* 1 MiB of metadata each: 16 fit in KAFKA_GROUP_MAX_HELD. */
	co = kafka_group_coord_new(&cbs, 0, 1);
	memset(&lead, 0, sizeof(lead));
	memset(big, 'x', sizeof(big));
	refused = done = 0;
	for (i = 0; i < 17; i++) {
		snprintf(gid, sizeof(gid), "fat%d", i);
		rq = jreq(gid, "");
		rq.protocols = fat;
		rq.nprotocols = 1;
		memset(&w, 0, sizeof(w));
		join(co, &rq, i == 0 ? &lead : &w, 30000);
		if (i == 0)
			continue;
		if (i == 1)
			second = w;
		if (w.error == KAFKA_ERR_COORDINATOR_NOT_AVAILABLE)
			refused++;
		else if (w.error == 0)
			done++;
	}
	ok(lead.error == 0 && done == 15 && refused == 1,
	    "16 members of 1 MiB metadata join, the 17th is refused");
	/* The leader of fat0 hands itself a 1 MiB assignment: no room. */
	as[0].member_id = B(lead.member_id);
	as[0].assignment.p = big;
	as[0].assignment.len = sizeof(big);
	memset(&w, 0, sizeof(w));
	sync_(co, "fat0", lead.member_id, lead.generation, 1, as, &w, 30000);
	is_int(w.error, KAFKA_ERR_COORDINATOR_NOT_AVAILABLE,
	    "an assignment past the limit: COORDINATOR_NOT_AVAILABLE");
	is_int(kafka_group_leave(
	           co, B("fat1"), B(second.member_id), B(NULL), 30000),
	    0, "a member of 1 MiB leaves");
	memset(&w, 0, sizeof(w));
	sync_(co, "fat0", lead.member_id, lead.generation, 1, as, &w, 30000);
	ok(w.error == 0 && w.syncs == 1, "now the assignment fits");
	kafka_group_coord_free(co);
}

int
main(void)
{
	plan_lazy();
	is_str(kafka_group_state_name(KAFKA_GROUP_COMPLETING),
	    "CompletingRebalance", "state names as Kafka spells them");
	test_single_member();
	test_two_members();
	test_initial_delay_and_timeouts();
	test_errors_and_protocols();
	test_cancel();
	test_limits();
	return done_testing();
}
