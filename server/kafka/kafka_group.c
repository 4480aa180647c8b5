/*
 * kafka_group.c: (2') the consumer-group coordinator's state machine (see
 * kafka_group.h for the states, the invariants and the contract).
 *
 * Shape:
 *
 *	coord --groups[], sorted by id--> group --members[], join order--> member
 *	group --pending[]--> ids minted for MEMBER_ID_REQUIRED, not joined yet
 *
 * The rules follow Apache Kafka's GroupCoordinator (classic protocol)
 * where they are visible to a client: which error each request gets in
 * each state, commits allowed while a rebalance is being prepared,
 * members that do not rejoin in time removed when the join completes,
 * members that do not sync in time removed when the sync round times
 * out, heartbeats answered REBALANCE_IN_PROGRESS so members rejoin.
 * What it leaves out: static members keep no identity across a rejoin
 * (group.instance.id only fences the member it replaces), and the group
 * state is not persisted (after a restart members rejoin; their committed
 * offsets are in groupstore).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/xmalloc.h"
#include "proto/kafka_frame.h"
#include "server/kafka/kafka_group.h"

struct kg_proto {
	char *name;
	uint8_t *meta;
	size_t metalen;
};

struct kg_member {
	char *id;
	char *instance_id; /* NULL: dynamic */
	char *client_id;
	char *client_host;
	int32_t session_ms;
	int32_t rebalance_ms;
	struct kg_proto *protos;
	size_t nprotos;
	uint8_t *assignment;
	size_t assignment_len;
	int64_t last_seen;
	void *join_waiter; /* invariant 1: one of each at most */
	void *sync_waiter;
};

struct kg_pending {
	char *id;
	int64_t deadline;
};

struct kafka_group {
	char *id;
	size_t idlen;
	enum kafka_group_state state;
	int32_t generation;
	char *protocol_type; /* NULL until a member joins */
	char
	    *protocol_name; /* chosen protocol; NULL unless Completing/Stable */
	char *leader;       /* NULL when none */
	struct kg_member **m;
	size_t nm;
	size_t mcap;
	struct kg_pending *pending;
	size_t npending;
	size_t pcap;
	int64_t deadline;    /* Preparing: join; Completing: sync; else -1 */
	int initial;         /* Preparing a new group: the initial delay */
	int64_t initial_cap; /* the initial delay never passes this */
};

struct kafka_group_coord {
	struct kafka_group_callbacks cb;
	int32_t initial_delay_ms;
	uint64_t nonce;
	uint64_t counter;
	struct kafka_group **g; /* sorted by id */
	size_t ng;
	size_t gcap;
	/* Invariant 6: over every group, members + pending ids, and the
	 * bytes of their protocol metadata and assignments. */
	size_t nmembers;
	size_t held;
	struct kafka_group_member_view *views; /* results' member lists */
	size_t viewcap;
	/* The request being handled: its own answer is returned, not
	 * called back (see notify_join / notify_sync). */
	void *inline_waiter;
	struct kafka_group_join_result *inline_join;
	struct kafka_group_sync_result *inline_sync;
	int inline_done;
};

static const char *const state_names[] = {
    "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"};

const char *
kafka_group_state_name(enum kafka_group_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0])
	           ? state_names[s]
	           : "Unknown";
}

/* ------------------------------------------------------------------ */
/* Small helpers */

/* A NUL-terminated copy of all of b's bytes (lengths are kept apart,
 * so a NUL inside b cannot shorten what is compared later). */
static char *
bytes_dup(struct kafka_group_bytes b)
{
	char *s = xmalloc(b.len + 1);

	if (b.len > 0)
		memcpy(s, b.p, b.len);
	s[b.len] = '\0';
	return s;
}

static int
bytes_eq(const char *s, struct kafka_group_bytes b)
{
	return s != NULL && strlen(s) == b.len &&
	       (b.len == 0 || memcmp(s, b.p, b.len) == 0);
}

static int
bytes_cmp(const char *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static void
protos_free(struct kg_proto *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].meta);
	}
	free(p);
}

/* The bytes of m's protocol metadata (invariant 6). */
static size_t
member_meta(const struct kg_member *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->nprotos; i++)
		n += m->protos[i].metalen;
	return n;
}

static void
member_free(struct kafka_group_coord *co, struct kg_member *m)
{
	co->held -= member_meta(m) + m->assignment_len;
	co->nmembers--;
	free(m->id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	protos_free(m->protos, m->nprotos);
	free(m->assignment);
	free(m);
}

static const struct kg_proto *
member_proto(const struct kg_member *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nprotos; i++)
		if (name != NULL && strcmp(m->protos[i].name, name) == 0)
			return &m->protos[i];
	return NULL;
}

static struct kg_member *
member_find(const struct kafka_group *g, struct kafka_group_bytes id)
{
	size_t i;

	for (i = 0; i < g->nm; i++)
		if (bytes_eq(g->m[i]->id, id))
			return g->m[i];
	return NULL;
}

static int32_t
max_rebalance_ms(const struct kafka_group *g)
{
	int32_t t = 0;
	size_t i;

	for (i = 0; i < g->nm; i++)
		if (g->m[i]->rebalance_ms > t)
			t = g->m[i]->rebalance_ms;
	return t;
}

/* ------------------------------------------------------------------ */
/* Groups */

static long
group_index(const struct kafka_group_coord *co, struct kafka_group_bytes id)
{
	size_t lo = 0, hi = co->ng;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c =
		    bytes_cmp(co->g[mid]->id, co->g[mid]->idlen, id.p, id.len);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static struct kafka_group *
group_find(const struct kafka_group_coord *co, struct kafka_group_bytes id)
{
	long i = group_index(co, id);

	return i >= 0 ? co->g[i] : NULL;
}

static void
group_free(struct kafka_group_coord *co, struct kafka_group *g)
{
	size_t i;

	for (i = 0; i < g->nm; i++)
		member_free(co, g->m[i]);
	for (i = 0; i < g->npending; i++)
		free(g->pending[i].id);
	co->nmembers -= g->npending;
	free(g->m);
	free(g->pending);
	free(g->id);
	free(g->protocol_type);
	free(g->protocol_name);
	free(g->leader);
	free(g);
}

/* Make room for one more group: drop an idle Empty one if full. */
static int
group_room(struct kafka_group_coord *co)
{
	size_t i;

	if (co->ng < KAFKA_GROUP_MAX_GROUPS)
		return 0;
	for (i = 0; i < co->ng; i++) {
		struct kafka_group *g = co->g[i];

		if (g->state == KAFKA_GROUP_EMPTY && g->npending == 0) {
			group_free(co, g);
			memmove(&co->g[i], &co->g[i + 1],
			    (co->ng - i - 1) * sizeof(*co->g));
			co->ng--;
			return 0;
		}
	}
	return -1;
}

static struct kafka_group *
group_create(struct kafka_group_coord *co, struct kafka_group_bytes id)
{
	struct kafka_group *g;
	long at;

	if (group_room(co) != 0)
		return NULL;
	at = -group_index(co, id) - 1;
	if (co->ng == co->gcap) {
		co->gcap = co->gcap ? co->gcap * 2 : 16;
		co->g = xreallocarray(co->g, co->gcap, sizeof(*co->g));
	}
	g = xcalloc(1, sizeof(*g));
	g->id = bytes_dup(id);
	g->idlen = id.len;
	g->state = KAFKA_GROUP_EMPTY;
	g->deadline = -1;
	memmove(
	    &co->g[at + 1], &co->g[at], (co->ng - (size_t)at) * sizeof(*co->g));
	co->g[at] = g;
	co->ng++;
	return g;
}

/* ------------------------------------------------------------------ */
/* Answers */

static void
notify_join(struct kafka_group_coord *co, struct kg_member *m,
    const struct kafka_group_join_result *r)
{
	void *w = m->join_waiter;

	if (w == NULL)
		return;
	m->join_waiter = NULL;
	if (w == co->inline_waiter && co->inline_join != NULL) {
		*co->inline_join = *r;
		co->inline_done = 1;
		return;
	}
	co->cb.on_join(w, r);
}

static void
notify_sync(struct kafka_group_coord *co, struct kg_member *m,
    const struct kafka_group_sync_result *r)
{
	void *w = m->sync_waiter;

	if (w == NULL)
		return;
	m->sync_waiter = NULL;
	if (w == co->inline_waiter && co->inline_sync != NULL) {
		*co->inline_sync = *r;
		co->inline_done = 1;
		return;
	}
	co->cb.on_sync(w, r);
}

static void
join_error(struct kafka_group_join_result *r, int16_t error,
    const struct kafka_group *g, const char *member_id)
{
	memset(r, 0, sizeof(*r));
	r->error = error;
	r->generation_id = -1;
	r->leader_id = "";
	(void)g;
	r->member_id = member_id != NULL ? member_id : "";
}

static void
sync_error(struct kafka_group_sync_result *r, int16_t error)
{
	memset(r, 0, sizeof(*r));
	r->error = error;
}

/* Answer whatever m is waiting in with error. */
static void
member_fail_waits(struct kafka_group_coord *co, struct kafka_group *g,
    struct kg_member *m, int16_t error)
{
	struct kafka_group_join_result jr;
	struct kafka_group_sync_result sr;

	if (m->join_waiter != NULL) {
		join_error(&jr, error, g, m->id);
		notify_join(co, m, &jr);
	}
	if (m->sync_waiter != NULL) {
		sync_error(&sr, error);
		notify_sync(co, m, &sr);
	}
}

/* Remove member i from g (its waits answered with error first). */
static void
member_remove(struct kafka_group_coord *co, struct kafka_group *g, size_t i,
    int16_t error)
{
	struct kg_member *m = g->m[i];

	member_fail_waits(co, g, m, error);
	if (g->leader != NULL && strcmp(g->leader, m->id) == 0) {
		free(g->leader);
		g->leader = NULL;
	}
	memmove(&g->m[i], &g->m[i + 1], (g->nm - i - 1) * sizeof(*g->m));
	g->nm--;
	member_free(co, m);
}

/* ------------------------------------------------------------------ */
/* Rebalancing */

static void complete_join(
    struct kafka_group_coord *co, struct kafka_group *g, int64_t now);

/* The member views of g (for the leader's JoinGroup, or DescribeGroups). */
static const struct kafka_group_member_view *
build_views(struct kafka_group_coord *co, const struct kafka_group *g,
    int with_payloads)
{
	size_t i;

	if (g->nm > co->viewcap) {
		co->viewcap = g->nm;
		co->views =
		    xreallocarray(co->views, co->viewcap, sizeof(*co->views));
	}
	for (i = 0; i < g->nm; i++) {
		const struct kg_member *m = g->m[i];
		struct kafka_group_member_view *v = &co->views[i];
		const struct kg_proto *p = member_proto(m, g->protocol_name);

		memset(v, 0, sizeof(*v));
		v->member_id = m->id;
		v->instance_id = m->instance_id;
		v->client_id = m->client_id;
		v->client_host = m->client_host;
		if (with_payloads && p != NULL) {
			v->metadata = p->meta;
			v->metadata_len = p->metalen;
		}
		if (with_payloads && g->state == KAFKA_GROUP_STABLE) {
			v->assignment = m->assignment;
			v->assignment_len = m->assignment_len;
		}
	}
	return co->views;
}

/* Move to PreparingRebalance: members must rejoin within the timeout. */
static void
prepare_rebalance(
    struct kafka_group_coord *co, struct kafka_group *g, int64_t now)
{
	struct kafka_group_sync_result sr;
	size_t i;

	if (g->state == KAFKA_GROUP_PREPARING)
		return;
	if (g->state == KAFKA_GROUP_COMPLETING) {
		/* Syncs of the round that is being abandoned. */
		sync_error(&sr, KAFKA_ERR_REBALANCE_IN_PROGRESS);
		for (i = 0; i < g->nm; i++)
			notify_sync(co, g->m[i], &sr);
	}
	for (i = 0; i < g->nm; i++) {
		co->held -= g->m[i]->assignment_len;
		free(g->m[i]->assignment);
		g->m[i]->assignment = NULL;
		g->m[i]->assignment_len = 0;
	}
	g->initial = g->state == KAFKA_GROUP_EMPTY && co->initial_delay_ms > 0;
	g->state = KAFKA_GROUP_PREPARING;
	if (g->initial) {
		g->initial_cap = now + max_rebalance_ms(g);
		g->deadline = now + co->initial_delay_ms;
		if (g->deadline > g->initial_cap)
			g->deadline = g->initial_cap;
	} else {
		g->deadline = now + max_rebalance_ms(g);
	}
}

/* Complete the join once every member has rejoined (Preparing only). */
static void
maybe_complete_join(
    struct kafka_group_coord *co, struct kafka_group *g, int64_t now)
{
	size_t i;

	if (g->state != KAFKA_GROUP_PREPARING || g->initial)
		return;
	for (i = 0; i < g->nm; i++)
		if (g->m[i]->join_waiter == NULL)
			return;
	complete_join(co, g, now);
}

/* 1 when every member of g lists the protocol called name. */
static int
all_support(const struct kafka_group *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nm; i++)
		if (member_proto(g->m[i], name) == NULL)
			return 0;
	return 1;
}

/*
 * Kafka's vote: each member votes for the first protocol of its list that
 * every member supports; the most votes win, ties going to the earlier
 * one in the leader's list.
 */
static char *
select_protocol(const struct kafka_group *g, const struct kg_member *leader)
{
	size_t i, j, k, votes, best = 0;
	long bestvotes = -1;

	for (i = 0; i < leader->nprotos; i++) {
		const char *name = leader->protos[i].name;

		if (!all_support(g, name))
			continue;
		votes = 0;
		for (j = 0; j < g->nm; j++) {
			const struct kg_member *m = g->m[j];

			for (k = 0; k < m->nprotos; k++)
				if (all_support(g, m->protos[k].name))
					break;
			if (k < m->nprotos &&
			    strcmp(m->protos[k].name, name) == 0)
				votes++;
		}
		if ((long)votes > bestvotes) {
			best = i;
			bestvotes = (long)votes;
		}
	}
	return xstrdup(leader->protos[best].name);
}

static void
complete_join(struct kafka_group_coord *co, struct kafka_group *g, int64_t now)
{
	const struct kafka_group_member_view *views;
	struct kafka_group_join_result r;
	struct kg_member *leader = NULL;
	size_t i;

	/* Members that did not rejoin in time are out. */
	for (i = g->nm; i-- > 0;)
		if (g->m[i]->join_waiter == NULL)
			member_remove(co, g, i, KAFKA_ERR_UNKNOWN_MEMBER_ID);
	g->generation++;
	g->initial = 0;
	free(g->protocol_name);
	g->protocol_name = NULL;
	if (g->nm == 0) {
		free(g->leader);
		g->leader = NULL;
		g->state = KAFKA_GROUP_EMPTY;
		g->deadline = -1;
		return;
	}
	for (i = 0; i < g->nm && g->leader != NULL; i++)
		if (strcmp(g->m[i]->id, g->leader) == 0)
			leader = g->m[i];
	if (leader == NULL) {
		leader = g->m[0];
		free(g->leader);
		g->leader = xstrdup(leader->id);
	}
	g->protocol_name = select_protocol(g, leader);
	g->state = KAFKA_GROUP_COMPLETING;
	g->deadline = now + max_rebalance_ms(g);
	views = build_views(co, g, 1);
	for (i = 0; i < g->nm; i++) {
		struct kg_member *m = g->m[i];

		memset(&r, 0, sizeof(r));
		r.generation_id = g->generation;
		r.protocol_type = g->protocol_type;
		r.protocol_name = g->protocol_name;
		r.leader_id = g->leader;
		r.member_id = m->id;
		if (m == leader) {
			r.nmembers = g->nm;
			r.members = views;
		}
		m->last_seen = now;
		notify_join(co, m, &r);
	}
}

/* After a member left or expired: rebalance, or finish a pending one. */
static void
after_removal(struct kafka_group_coord *co, struct kafka_group *g, int64_t now)
{
	switch (g->state) {
	case KAFKA_GROUP_STABLE:
	case KAFKA_GROUP_COMPLETING:
		prepare_rebalance(co, g, now);
		/* fall through */
	case KAFKA_GROUP_PREPARING:
		if (g->nm == 0)
			g->initial = 0;
		maybe_complete_join(co, g, now);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* JoinGroup */

static int16_t
join_check(const struct kafka_group_join_req *rq)
{
	size_t i;

	/* A NUL could not round-trip through the C strings ids are kept
	 * in (nor through groupstore): such an id is invalid here. */
	if (rq->group_id.len == 0 ||
	    memchr(rq->group_id.p, '\0', rq->group_id.len))
		return KAFKA_ERR_INVALID_GROUP_ID;
	if (rq->session_timeout_ms < KAFKA_GROUP_MIN_SESSION_MS ||
	    rq->session_timeout_ms > KAFKA_GROUP_MAX_SESSION_MS)
		return KAFKA_ERR_INVALID_SESSION_TIMEOUT;
	if (rq->protocol_type.len == 0 || rq->nprotocols == 0)
		return KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
	if (rq->nprotocols > KAFKA_GROUP_MAX_PROTOCOLS)
		return KAFKA_ERR_INVALID_REQUEST;
	for (i = 0; i < rq->nprotocols; i++)
		if (rq->protocols[i].metadata.len > KAFKA_GROUP_MAX_PAYLOAD ||
		    rq->protocols[i].name.len == 0)
			return KAFKA_ERR_INVALID_REQUEST;
	return 0;
}

/* Is the member's protocol list acceptable to the group as it is? */
static int
protocols_fit(const struct kafka_group *g, const struct kg_member *self,
    const struct kafka_group_join_req *rq)
{
	size_t i, j, others = 0;

	for (j = 0; j < g->nm; j++)
		if (g->m[j] != self)
			others++;
	if (others == 0)
		return 1;
	if (g->protocol_type != NULL &&
	    !bytes_eq(g->protocol_type, rq->protocol_type))
		return 0;
	for (i = 0; i < rq->nprotocols; i++) {
		char *name = bytes_dup(rq->protocols[i].name);
		int all = 1;

		for (j = 0; j < g->nm && all; j++)
			if (g->m[j] != self &&
			    member_proto(g->m[j], name) == NULL)
				all = 0;
		free(name);
		if (all)
			return 1;
	}
	return 0;
}

/* 1 when rq carries the same protocols and metadata m has. */
static int
protocols_same(const struct kg_member *m, const struct kafka_group_join_req *rq)
{
	size_t i;

	if (m->nprotos != rq->nprotocols)
		return 0;
	for (i = 0; i < m->nprotos; i++) {
		const struct kafka_group_protocol_in *p = &rq->protocols[i];

		if (!bytes_eq(m->protos[i].name, p->name) ||
		    m->protos[i].metalen != p->metadata.len ||
		    (p->metadata.len > 0 &&
		        memcmp(m->protos[i].meta, p->metadata.p,
		            p->metadata.len) != 0))
			return 0;
	}
	return 1;
}

/* Would rq's metadata in place of m's (NULL: a new member) pass
 * KAFKA_GROUP_MAX_HELD? */
static int
held_full(const struct kafka_group_coord *co, const struct kg_member *m,
    const struct kafka_group_join_req *rq)
{
	size_t i, n = 0, old = m != NULL ? member_meta(m) : 0;

	for (i = 0; i < rq->nprotocols; i++)
		n += rq->protocols[i].metadata.len;
	return n > old && co->held + (n - old) > KAFKA_GROUP_MAX_HELD;
}

static void
member_set_protocols(struct kafka_group_coord *co, struct kg_member *m,
    const struct kafka_group_join_req *rq)
{
	size_t i;

	co->held -= member_meta(m);
	protos_free(m->protos, m->nprotos);
	m->protos = xcalloc(rq->nprotocols, sizeof(*m->protos));
	m->nprotos = rq->nprotocols;
	for (i = 0; i < rq->nprotocols; i++) {
		const struct kafka_group_protocol_in *p = &rq->protocols[i];

		m->protos[i].name = bytes_dup(p->name);
		m->protos[i].metalen = p->metadata.len;
		m->protos[i].meta =
		    xmalloc(p->metadata.len ? p->metadata.len : 1);
		if (p->metadata.len > 0)
			memcpy(
			    m->protos[i].meta, p->metadata.p, p->metadata.len);
	}
	co->held += member_meta(m);
	m->session_ms = rq->session_timeout_ms;
	m->rebalance_ms = rq->rebalance_timeout_ms > 0
	                      ? rq->rebalance_timeout_ms
	                      : rq->session_timeout_ms;
}

/* A member id: the client id (printable, capped), the nonce, a counter. */
static char *
mint_member_id(struct kafka_group_coord *co, struct kafka_group_bytes client)
{
	char cid[65], buf[128];
	size_t i, n = client.len < 64 ? client.len : 64;

	for (i = 0; i < n; i++) {
		char c = ((const char *)client.p)[i];

		cid[i] = c > 0x20 && c < 0x7f ? c : '_';
	}
	cid[n] = '\0';
	snprintf(buf, sizeof(buf), "%s-%016llx-%llu", n ? cid : "member",
	    (unsigned long long)co->nonce, (unsigned long long)++co->counter);
	return xstrdup(buf);
}

static long
pending_find(const struct kafka_group *g, struct kafka_group_bytes id)
{
	size_t i;

	for (i = 0; i < g->npending; i++)
		if (bytes_eq(g->pending[i].id, id))
			return (long)i;
	return -1;
}

static void
pending_remove(struct kafka_group_coord *co, struct kafka_group *g, size_t i)
{
	co->nmembers--;
	free(g->pending[i].id);
	g->pending[i] = g->pending[--g->npending];
}

static struct kg_member *
member_add(struct kafka_group_coord *co, struct kafka_group *g, char *id,
    const struct kafka_group_join_req *rq, int64_t now)
{
	struct kg_member *m = xcalloc(1, sizeof(*m));

	m->id = id;
	m->instance_id =
	    rq->instance_id.p != NULL ? bytes_dup(rq->instance_id) : NULL;
	m->client_id = bytes_dup(rq->client_id);
	m->client_host = bytes_dup(rq->client_host);
	member_set_protocols(co, m, rq);
	m->last_seen = now;
	if (g->nm == g->mcap) {
		g->mcap = g->mcap ? g->mcap * 2 : 8;
		g->m = xreallocarray(g->m, g->mcap, sizeof(*g->m));
	}
	g->m[g->nm++] = m;
	co->nmembers++;
	if (g->nm == 1) {
		free(g->protocol_type);
		g->protocol_type = bytes_dup(rq->protocol_type);
	}
	return m;
}

/* The current generation as a rejoining member sees it. */
static void
join_current(struct kafka_group_coord *co, const struct kafka_group *g,
    const struct kg_member *m, struct kafka_group_join_result *r)
{
	memset(r, 0, sizeof(*r));
	r->generation_id = g->generation;
	r->protocol_type = g->protocol_type;
	r->protocol_name = g->protocol_name;
	r->leader_id = g->leader != NULL ? g->leader : "";
	r->member_id = m->id;
	if (g->leader != NULL && strcmp(g->leader, m->id) == 0) {
		r->nmembers = g->nm;
		r->members = build_views(co, g, 1);
	}
}

/* Add a join of m to the rebalance being prepared; may complete it. */
static void
join_wait(struct kafka_group_coord *co, struct kafka_group *g,
    struct kg_member *m, void *waiter, int64_t now, int is_new)
{
	struct kafka_group_join_result jr;

	if (m->join_waiter != NULL && m->join_waiter != waiter) {
		/* The same member joins again on another connection: the
		 * older request is answered and forgotten. */
		join_error(&jr, KAFKA_ERR_REBALANCE_IN_PROGRESS, g, m->id);
		notify_join(co, m, &jr);
	}
	prepare_rebalance(co, g, now);
	m->join_waiter = waiter;
	if (g->initial && is_new) {
		/* Each new member during the initial delay extends it. */
		g->deadline = now + co->initial_delay_ms;
		if (g->deadline > g->initial_cap)
			g->deadline = g->initial_cap;
	}
	maybe_complete_join(co, g, now);
}

static int16_t
join_locked(struct kafka_group_coord *co, const struct kafka_group_join_req *rq,
    void *waiter, int64_t now, struct kafka_group_join_result *res)
{
	struct kafka_group *g;
	struct kg_member *m;
	int16_t err;
	long pi;
	size_t i;

	if ((err = join_check(rq)) != 0)
		return err;
	g = group_find(co, rq->group_id);
	if (rq->member_id.len == 0) {
		char *id;

		if (g == NULL && (g = group_create(co, rq->group_id)) == NULL)
			return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
		if (!protocols_fit(g, NULL, rq))
			return KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
		if (g->nm + g->npending >= KAFKA_GROUP_MAX_MEMBERS)
			return KAFKA_ERR_GROUP_MAX_SIZE_REACHED;
		if (co->nmembers >= KAFKA_GROUP_MAX_ALL_MEMBERS ||
		    held_full(co, NULL, rq))
			return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
		if (rq->instance_id.p != NULL) {
			/* A static member restarting replaces (fences) the
			 * member that had its instance id. */
			for (i = 0; i < g->nm; i++)
				if (bytes_eq(g->m[i]->instance_id,
				        rq->instance_id)) {
					member_remove(co, g, i,
					    KAFKA_ERR_FENCED_INSTANCE_ID);
					break;
				}
		}
		id = mint_member_id(co, rq->client_id);
		if (rq->require_known_member_id && rq->instance_id.p == NULL) {
			struct kg_pending *p;

			if (g->npending == g->pcap) {
				g->pcap = g->pcap ? g->pcap * 2 : 4;
				g->pending = xreallocarray(
				    g->pending, g->pcap, sizeof(*g->pending));
			}
			p = &g->pending[g->npending++];
			co->nmembers++;
			p->id = id;
			p->deadline = now + rq->session_timeout_ms;
			join_error(res, KAFKA_ERR_MEMBER_ID_REQUIRED, g, id);
			return KAFKA_ERR_MEMBER_ID_REQUIRED;
		}
		m = member_add(co, g, id, rq, now);
		join_wait(co, g, m, waiter, now, 1);
		return 0;
	}
	if (g == NULL)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	if ((pi = pending_find(g, rq->member_id)) >= 0) {
		char *id = g->pending[pi].id;

		if (held_full(co, NULL, rq))
			return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
		g->pending[pi].id = NULL;
		pending_remove(co, g, (size_t)pi);
		if (!protocols_fit(g, NULL, rq)) {
			free(id);
			return KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
		}
		m = member_add(co, g, id, rq, now);
		join_wait(co, g, m, waiter, now, 1);
		return 0;
	}
	if ((m = member_find(g, rq->member_id)) == NULL)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	if (!protocols_fit(g, m, rq))
		return KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
	m->last_seen = now;
	if (held_full(co, m, rq))
		return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
	switch (g->state) {
	case KAFKA_GROUP_PREPARING:
		member_set_protocols(co, m, rq);
		join_wait(co, g, m, waiter, now, 0);
		return 0;
	case KAFKA_GROUP_COMPLETING:
	case KAFKA_GROUP_STABLE:
		if (protocols_same(m, rq) &&
		    (g->state == KAFKA_GROUP_COMPLETING || g->leader == NULL ||
		        strcmp(g->leader, m->id) != 0)) {
			/* Nothing changed: the member missed its answer. */
			join_current(co, g, m, res);
			return 0;
		}
		member_set_protocols(co, m, rq);
		join_wait(co, g, m, waiter, now, 0);
		return 0;
	default:
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	}
}

int
kafka_group_join(struct kafka_group_coord *co,
    const struct kafka_group_join_req *rq, void *waiter, int64_t now,
    struct kafka_group_join_result *res)
{
	struct kafka_group *g;
	struct kg_member *m;
	int16_t err;
	int rc = KAFKA_GROUP_DONE;

	ASSERT(waiter != NULL);
	memset(res, 0, sizeof(*res));
	res->error = -1; /* not filled yet */
	co->inline_waiter = waiter;
	co->inline_join = res;
	co->inline_done = 0;
	err = join_locked(co, rq, waiter, now, res);
	if (err != 0 && err != KAFKA_ERR_MEMBER_ID_REQUIRED) {
		join_error(res, err, NULL, NULL);
	} else if (err == 0 && !co->inline_done && res->error == -1) {
		/* Neither answered inline nor by join_current: parked. */
		g = group_find(co, rq->group_id);
		m = NULL;
		if (g != NULL) {
			size_t i;

			for (i = 0; i < g->nm; i++)
				if (g->m[i]->join_waiter == waiter)
					m = g->m[i];
		}
		(void)ALWAYS(m != NULL);
		rc = KAFKA_GROUP_WAIT;
	}
	co->inline_waiter = NULL;
	co->inline_join = NULL;
	co->inline_done = 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* SyncGroup */

static int16_t
store_assignments(struct kafka_group_coord *co, struct kafka_group *g,
    const struct kafka_group_sync_req *rq)
{
	size_t i, n = 0, old = 0;

	for (i = 0; i < rq->nassignments; i++)
		if (rq->assignments[i].assignment.len > KAFKA_GROUP_MAX_PAYLOAD)
			return KAFKA_ERR_INVALID_REQUEST;
	for (i = 0; i < g->nm; i++)
		old += g->m[i]->assignment_len;
	for (i = 0; i < rq->nassignments; i++)
		if (member_find(g, rq->assignments[i].member_id) != NULL)
			n += rq->assignments[i].assignment.len;
	if (n > old && co->held + (n - old) > KAFKA_GROUP_MAX_HELD)
		return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
	for (i = 0; i < rq->nassignments; i++) {
		const struct kafka_group_assignment_in *a = &rq->assignments[i];
		struct kg_member *m = member_find(g, a->member_id);

		if (m == NULL)
			continue; /* a member that is gone: nothing to hand */
		co->held += a->assignment.len;
		co->held -= m->assignment_len;
		free(m->assignment);
		m->assignment_len = a->assignment.len;
		m->assignment =
		    xmalloc(a->assignment.len ? a->assignment.len : 1);
		if (a->assignment.len > 0)
			memcpy(
			    m->assignment, a->assignment.p, a->assignment.len);
	}
	return 0;
}

static void
sync_answer(const struct kafka_group *g, const struct kg_member *m,
    struct kafka_group_sync_result *r)
{
	memset(r, 0, sizeof(*r));
	r->protocol_type = g->protocol_type;
	r->protocol_name = g->protocol_name;
	r->assignment = m->assignment;
	r->assignment_len = m->assignment_len;
}

static int16_t
sync_locked(struct kafka_group_coord *co, const struct kafka_group_sync_req *rq,
    void *waiter, int64_t now, struct kafka_group_sync_result *res, int *wait)
{
	struct kafka_group *g = group_find(co, rq->group_id);
	struct kafka_group_sync_result r;
	struct kg_member *m;
	int16_t err;
	size_t i;

	*wait = 0;
	if (g == NULL || (m = member_find(g, rq->member_id)) == NULL)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	m->last_seen = now;
	if (rq->generation_id != g->generation)
		return KAFKA_ERR_ILLEGAL_GENERATION;
	if ((rq->protocol_type.p != NULL &&
	        !bytes_eq(g->protocol_type, rq->protocol_type)) ||
	    (rq->protocol_name.p != NULL && g->protocol_name != NULL &&
	        !bytes_eq(g->protocol_name, rq->protocol_name)))
		return KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
	switch (g->state) {
	case KAFKA_GROUP_PREPARING:
		return KAFKA_ERR_REBALANCE_IN_PROGRESS;
	case KAFKA_GROUP_STABLE:
		sync_answer(g, m, res);
		return 0;
	case KAFKA_GROUP_COMPLETING:
		break;
	default:
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	}
	if (m->sync_waiter != NULL && m->sync_waiter != waiter) {
		sync_error(&r, KAFKA_ERR_REBALANCE_IN_PROGRESS);
		notify_sync(co, m, &r);
	}
	m->sync_waiter = waiter;
	if (g->leader == NULL || strcmp(g->leader, m->id) != 0) {
		*wait = 1;
		return 0;
	}
	if ((err = store_assignments(co, g, rq)) != 0) {
		m->sync_waiter = NULL;
		return err;
	}
	g->state = KAFKA_GROUP_STABLE;
	g->deadline = -1;
	for (i = 0; i < g->nm; i++) {
		sync_answer(g, g->m[i], &r);
		notify_sync(co, g->m[i], &r);
	}
	return 0;
}

int
kafka_group_sync(struct kafka_group_coord *co,
    const struct kafka_group_sync_req *rq, void *waiter, int64_t now,
    struct kafka_group_sync_result *res)
{
	int16_t err;
	int wait = 0, rc = KAFKA_GROUP_DONE;

	ASSERT(waiter != NULL);
	memset(res, 0, sizeof(*res));
	co->inline_waiter = waiter;
	co->inline_sync = res;
	co->inline_done = 0;
	err = sync_locked(co, rq, waiter, now, res, &wait);
	if (err != 0)
		sync_error(res, err);
	else if (wait && !co->inline_done)
		rc = KAFKA_GROUP_WAIT;
	co->inline_waiter = NULL;
	co->inline_sync = NULL;
	co->inline_done = 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Heartbeat, LeaveGroup, OffsetCommit */

int16_t
kafka_group_heartbeat(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_bytes member_id,
    int32_t generation_id, int64_t now)
{
	struct kafka_group *g = group_find(co, group_id);
	struct kg_member *m;

	if (g == NULL || (m = member_find(g, member_id)) == NULL)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	m->last_seen = now;
	if (generation_id != g->generation)
		return KAFKA_ERR_ILLEGAL_GENERATION;
	if (g->state == KAFKA_GROUP_PREPARING)
		return KAFKA_ERR_REBALANCE_IN_PROGRESS;
	return 0;
}

int16_t
kafka_group_leave(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_bytes member_id,
    struct kafka_group_bytes instance_id, int64_t now)
{
	struct kafka_group *g = group_find(co, group_id);
	long pi;
	size_t i;

	if (g == NULL)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	if (member_id.len > 0 && (pi = pending_find(g, member_id)) >= 0) {
		pending_remove(co, g, (size_t)pi);
		return 0;
	}
	for (i = 0; i < g->nm; i++) {
		const struct kg_member *m = g->m[i];

		if (member_id.len > 0
		        ? bytes_eq(m->id, member_id)
		        : instance_id.p != NULL &&
		              bytes_eq(m->instance_id, instance_id))
			break;
	}
	if (i == g->nm)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	member_remove(co, g, i, KAFKA_ERR_UNKNOWN_MEMBER_ID);
	after_removal(co, g, now);
	return 0;
}

int16_t
kafka_group_commit_allowed(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_bytes member_id,
    int32_t generation_id, int64_t now)
{
	struct kafka_group *g = group_find(co, group_id);
	struct kg_member *m;

	/* No members: only a consumer that manages its own partitions
	 * (assign()) commits here, with generation -1. */
	if (g == NULL)
		return generation_id < 0 ? 0 : KAFKA_ERR_ILLEGAL_GENERATION;
	if (g->nm == 0 && generation_id < 0)
		return 0;
	if ((m = member_find(g, member_id)) == NULL)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	m->last_seen = now;
	if (generation_id != g->generation)
		return KAFKA_ERR_ILLEGAL_GENERATION;
	if (g->state == KAFKA_GROUP_COMPLETING)
		return KAFKA_ERR_REBALANCE_IN_PROGRESS;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Waiters and time */

void
kafka_group_cancel(struct kafka_group_coord *co, void *waiter)
{
	size_t i, k;

	if (waiter == NULL)
		return;
	for (i = 0; i < co->ng; i++) {
		struct kafka_group *g = co->g[i];

		for (k = 0; k < g->nm; k++) {
			if (g->m[k]->join_waiter == waiter)
				g->m[k]->join_waiter = NULL;
			if (g->m[k]->sync_waiter == waiter)
				g->m[k]->sync_waiter = NULL;
		}
	}
}

static void
group_tick(struct kafka_group_coord *co, struct kafka_group *g, int64_t now)
{
	struct kafka_group_sync_result sr;
	size_t i, removed = 0;

	for (i = g->npending; i-- > 0;)
		if (now >= g->pending[i].deadline)
			pending_remove(co, g, i);
	/* Sessions (invariant 3: not while waiting in a request). */
	for (i = g->nm; i-- > 0;) {
		struct kg_member *m = g->m[i];

		if (m->join_waiter != NULL || m->sync_waiter != NULL)
			continue;
		if (now >= m->last_seen + m->session_ms) {
			member_remove(co, g, i, KAFKA_ERR_UNKNOWN_MEMBER_ID);
			removed++;
		}
	}
	if (removed > 0)
		after_removal(co, g, now);
	if (g->deadline < 0 || now < g->deadline)
		return;
	if (g->state == KAFKA_GROUP_PREPARING) {
		complete_join(co, g, now);
	} else if (g->state == KAFKA_GROUP_COMPLETING) {
		/* The leader never sent its assignment: members that did
		 * not sync are out, the others must rejoin. */
		for (i = g->nm; i-- > 0;)
			if (g->m[i]->sync_waiter == NULL)
				member_remove(
				    co, g, i, KAFKA_ERR_UNKNOWN_MEMBER_ID);
		sync_error(&sr, KAFKA_ERR_REBALANCE_IN_PROGRESS);
		for (i = 0; i < g->nm; i++)
			notify_sync(co, g->m[i], &sr);
		prepare_rebalance(co, g, now);
		maybe_complete_join(co, g, now);
	}
}

void
kafka_group_tick(struct kafka_group_coord *co, int64_t now)
{
	size_t i;

	for (i = 0; i < co->ng; i++)
		group_tick(co, co->g[i], now);
}

int64_t
kafka_group_next_deadline(const struct kafka_group_coord *co)
{
	int64_t next = -1;
	size_t i, k;

#define CONSIDER(t)                                                            \
	do {                                                                   \
		int64_t t_ = (t);                                              \
		if (next < 0 || t_ < next)                                     \
			next = t_;                                             \
	} while (0)
	for (i = 0; i < co->ng; i++) {
		const struct kafka_group *g = co->g[i];

		if (g->deadline >= 0)
			CONSIDER(g->deadline);
		for (k = 0; k < g->npending; k++)
			CONSIDER(g->pending[k].deadline);
		for (k = 0; k < g->nm; k++) {
			const struct kg_member *m = g->m[k];

			if (m->join_waiter == NULL && m->sync_waiter == NULL)
				CONSIDER(m->last_seen + m->session_ms);
		}
	}
#undef CONSIDER
	return next;
}

/* ------------------------------------------------------------------ */
/* Describing */

static void
summary(const struct kafka_group *g, struct kafka_group_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->group_id = g->id;
	out->state = g->state;
	out->protocol_type = g->protocol_type != NULL ? g->protocol_type : "";
	out->protocol_name =
	    (g->state == KAFKA_GROUP_STABLE) && g->protocol_name != NULL
	        ? g->protocol_name
	        : "";
	out->nmembers = g->nm;
}

int
kafka_group_describe(struct kafka_group_coord *co,
    struct kafka_group_bytes group_id, struct kafka_group_summary *out)
{
	struct kafka_group *g = group_find(co, group_id);

	if (g == NULL)
		return 0;
	summary(g, out);
	/* Kafka shows payloads only for a Stable group. */
	out->members = build_views(co, g, g->state == KAFKA_GROUP_STABLE);
	return 1;
}

int
kafka_group_at(const struct kafka_group_coord *co, size_t idx,
    struct kafka_group_summary *out)
{
	if (idx >= co->ng)
		return 0;
	summary(co->g[idx], out);
	return 1;
}

/* ------------------------------------------------------------------ */

struct kafka_group_coord *
kafka_group_coord_new(const struct kafka_group_callbacks *cb,
    int32_t initial_delay_ms, uint64_t nonce)
{
	struct kafka_group_coord *co = xcalloc(1, sizeof(*co));

	co->cb = *cb;
	co->initial_delay_ms = initial_delay_ms > 0 ? initial_delay_ms : 0;
	co->nonce = nonce;
	return co;
}

void
kafka_group_coord_free(struct kafka_group_coord *co)
{
	size_t i;

	if (co == NULL)
		return;
	for (i = 0; i < co->ng; i++)
		group_free(co, co->g[i]);
	ASSERT(co->nmembers == 0 && co->held == 0); /* invariant 6 */
	free(co->g);
	free(co->views);
	free(co);
}
