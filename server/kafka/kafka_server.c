/*
 * kafka_server.c: (2') the Kafka-protocol listener: accept, frame,
 * dispatch by table, answer in order, long-poll, flow control.
 *
 * Connection states (conn_set_state is the only writer of c->state):
 *
 *	          accept
 *	            |
 *	            v        handler parks (Fetch waits for data)
 *	     +-> READING ------------------------------------> PARKED
 *	     |    |   |  output > KAFKA_CONN_MAX_OUTPUT          |
 *	     |    |   +------------------------------> BLOCKED   |
 *	     |    |                                      |       |
 *	     +----+<-- output drained to half the cap ---+       |
 *	     +----+<-- park fn answered (append or timeout) -----+
 *	          |
 *	          | bad frame / unknown API / handler asks to close
 *	          v
 *	       DRAINING --- output written (or 10 s) ---> freed
 *
 *	EOF or a socket error in any state: freed at once.
 *
 * Invariants:
 *  1. A connection handles one request at a time, in arrival order, and
 *     none while PARKED: responses leave in request order (notes/kafka.md
 *     3.5), whatever waits.
 *  2. A frame's size is checked against max_request_bytes from its 4-byte
 *     prefix alone, before waiting for (or buffering) the body.  The input
 *     buffer is bounded by the read high-watermark (one maximal frame), so
 *     a client that pipelines while parked or blocked only fills that.
 *  3. Record bytes leave by reference (evbuffer_add_reference with a
 *     segment ref dropped when written): a Fetch copies no record byte.
 *  4. Only READING connections start requests; only PARKED ones have
 *     watches linked in ks->wake and a pending park timer.
 *  5. Nothing frees a connection from inside the log's append hook or a
 *     handler: closing from there goes through DRAINING and the resume
 *     event.
 *  6. Request bytes held in a connection's input are charged to the
 *     memory budget (c->in_charged, summed in ks->in_bytes) as they
 *     arrive, never at a frame's announced size.  Requests in flight may
 *     hold half of max_memory, and the log makes room for them; a frame
 *     whose rest would pass that half, or input the budget refuses,
 *     closes that connection.
 *  7. A connection with no request under way (nothing parked, nothing
 *     queued, no partial frame) is closed after kafka_idle_ms; a partial
 *     frame that stops arriving for KAFKA_PARTIAL_MS is closed too.
 *     Accepting pauses while kafka_max_connections are open.
 */
#include <config.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/evp.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/membudget.h"
#include "base/xmalloc.h"
#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "proto/wbuf.h"
#include "server/config.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_server.h"
#include "server/listen.h"
#include "server/log.h"
#include "server/stats.h"
#include "storage/seglog.h"

#define KAFKA_SERVER_MAGIC 0x6b737276u
#define KAFKA_CONN_MAGIC   0x6b636f6eu

/* Requests handled per read event before yielding to other connections. */
#define KAFKA_CONN_REQS_PER_EVENT 64
/* Decoded arrays of one request (a Fetch plan of ~20k partitions). */
#define KAFKA_CONN_ARENA_CAP ((size_t)4 << 20)
/* A response buffer grown past this is given back after the response. */
#define KAFKA_CONN_WBUF_KEEP ((size_t)1 << 20)
/* Per write() call: libevent's default of 16 KiB would cost a loop turn
 * per 16 KiB of a large Fetch. */
#define KAFKA_CONN_IO_CHUNK ((size_t)4 << 20)
/* Per read() call: what arrives is charged to the budget after it is
 * read, so this bounds how far one read can run ahead of the charge. */
#define KAFKA_CONN_READ_CHUNK ((size_t)256 << 10)
/* A request that spans the input's chains is copied into one buffer
 * shared by every connection (requests are handled one at a time); it
 * is kept for the next one up to this size. */
#define KAFKA_FRAME_KEEP ((size_t)4 << 20)
/* Longest wait a Fetch may ask for (kafkajs asks 5 s, librdkafka 0.5 s). */
#define KAFKA_MAX_WAIT_MS 300000
/* How long a closing connection may take to flush its last responses. */
#define KAFKA_DRAIN_SECS   10
#define KAFKA_WAKE_BUCKETS 1024
/* After accept() fails for lack of descriptors, retry after this. */
#define KAFKA_ACCEPT_RETRY_MS 500
/* A partial request that receives nothing for this long is dropped. */
#define KAFKA_PARTIAL_MS 30000

enum kafka_conn_state {
	KCONN_READING,
	KCONN_PARKED,
	KCONN_BLOCKED,
	KCONN_DRAINING
};

static const char *const kconn_state_names[] = {
    "reading", "parked", "blocked", "draining"};

struct kafka_conn {
	unsigned magic;
	struct kafka_server *ks;
	struct bufferevent *bev;
	enum kafka_conn_state state;
	char peer[64];
	struct arena arena;
	struct wbuf w;
	struct event *resume; /* drive again on the next loop turn */
	struct event *park_timer;
	kafka_park_fn park_fn;
	void (*park_cancel)(void *arg); /* kafka_conn_wait's, or NULL */
	void *park_arg;
	struct kafka_watch *watch;
	int nwatch;
	uint64_t wake_gen;   /* last kafka_server_on_append round seen */
	size_t in_charged;   /* input bytes charged to the budget (inv. 6) */
	int timeout_partial; /* the read timeout in force is the partial one */
	struct kafka_conn *next;
	struct kafka_conn *prev;
};

struct kafka_server {
	unsigned magic;
	struct event_base *base;
	const struct config *cfg;
	struct seglog *seglog;
	struct evconnlistener *lis;
	struct event *accept_retry;
	struct kafka_conn *conns;
	int nconns;
	uint64_t in_bytes; /* request bytes held by all connections */
	int at_cap;        /* accepting paused at kafka_max_connections */
	struct kafka_watch *wake[KAFKA_WAKE_BUCKETS];
	uint64_t wake_gen;
	int in_wake;
	struct kafka_conn **woken; /* scratch for kafka_server_on_append */
	size_t wokencap;
	char adv_host[256];
	int adv_port;
	int port;
	struct kafka_coord *coord;
	struct kafka_uuid *topic_ids; /* by seglog topic index (a cache) */
	size_t ntopic_ids;
	uint8_t *frame; /* a request's bytes made contiguous (frame_bytes) */
	size_t framecap;
	size_t framecharged; /* charged to max_memory while in use */
};

/* The dispatch table: what this broker serves, and advertises. */
static const struct kafka_api_entry *const kafka_apis[] = {
    &kafka_api_produce_entry,
    &kafka_api_fetch_entry,
    &kafka_api_list_offsets_entry,
    &kafka_api_metadata_entry,
    &kafka_api_offset_commit_entry,
    &kafka_api_offset_fetch_entry,
    &kafka_api_find_coordinator_entry,
    &kafka_api_join_group_entry,
    &kafka_api_heartbeat_entry,
    &kafka_api_leave_group_entry,
    &kafka_api_sync_group_entry,
    &kafka_api_describe_groups_entry,
    &kafka_api_list_groups_entry,
    &kafka_api_versions_entry,
};
#define KAFKA_NAPIS (sizeof(kafka_apis) / sizeof(kafka_apis[0]))

static void conn_drive(struct kafka_conn *c);
static void conn_free(struct kafka_conn *c);
static int conn_charge_input(struct kafka_conn *c);
static void conn_set_state(struct kafka_conn *c, enum kafka_conn_state s);

static const struct kafka_api_entry *
api_find(int16_t key)
{
	size_t i;

	for (i = 0; i < KAFKA_NAPIS; i++)
		if (kafka_apis[i]->api_key == key)
			return kafka_apis[i];
	return NULL;
}

int
kafka_api_ranges(struct kafka_api_range *out, int max)
{
	int i;

	for (i = 0; i < (int)KAFKA_NAPIS && i < max; i++) {
		out[i].key = kafka_apis[i]->api_key;
		out[i].min_ver = kafka_apis[i]->min_ver;
		out[i].max_ver = kafka_apis[i]->max_ver;
	}
	return (int)KAFKA_NAPIS;
}

const char *
kafka_client_id(const struct kafka_req_header *h, char *buf, size_t size)
{
	size_t i, n;

	if (h->client_id.len < 0)
		return "(null)";
	n = (size_t)h->client_id.len;
	if (n > size - 1)
		n = size - 1;
	/* Client ids are the peer's bytes: keep log lines one clean line. */
	for (i = 0; i < n; i++) {
		char ch = h->client_id.p[i];

		buf[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	buf[n] = '\0';
	return buf;
}

void
kafka_server_advertised(
    const struct kafka_server *ks, const char **host, int *port)
{
	*host = ks->adv_host;
	*port = ks->adv_port;
}

/* ------------------------------------------------------------------ */
/* Replies */

void
kafka_reply_begin(struct kafka_req_ctx *ctx)
{
	wbuf_reset(ctx->w);
	ctx->mark = kafka_frame_begin(ctx->w);
	kafka_encode_response_header(ctx->w, ctx->hdr.api_key,
	    ctx->hdr.api_version, ctx->hdr.correlation_id);
}

int
kafka_reply_end(struct kafka_req_ctx *ctx)
{
	kafka_frame_end(ctx->w, ctx->mark, 0);
	if (ctx->w->err != 0)
		return ctx->w->err;
	if (evbuffer_add(bufferevent_get_output(ctx->conn->bev), ctx->w->buf,
	        ctx->w->len) != 0)
		return ERR_NOMEM;
	return 0;
}

struct evbuffer *
kafka_conn_output(struct kafka_conn *c)
{
	return bufferevent_get_output(c->bev);
}

struct wbuf *
kafka_conn_wbuf(struct kafka_conn *c)
{
	return &c->w;
}

struct arena *
kafka_conn_arena(struct kafka_conn *c)
{
	return &c->arena;
}

const char *
kafka_conn_peer(const struct kafka_conn *c)
{
	return c->peer;
}

int
kafka_topic_lookup(struct kafka_req_ctx *ctx, struct kafka_str name, int create,
    const char *why, struct seglog_topic **out)
{
	struct seglog_topic *t;
	char cid[64];
	int rc;

	*out = NULL;
	if (name.len < 0 || !seglog_topic_name_valid(name.p, (size_t)name.len))
		return KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
	if ((t = seglog_topic_get(ctx->seglog, name.p, (size_t)name.len)) !=
	    NULL) {
		*out = t;
		return 0;
	}
	if (!create || !ctx->cfg->auto_create_topics)
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	rc = seglog_topic_create(
	    ctx->seglog, name.p, (size_t)name.len, ctx->cfg->partitions, &t);
	if (rc == ERR_TOO_BIG) {
		log_cwarn(ctx->peer,
		    "kafka: not creating topic %.*s: max_topics (%lld) reached",
		    (int)name.len, name.p, (long long)ctx->cfg->max_topics);
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rc != 0) {
		log_cwarn(ctx->peer, "kafka: cannot create topic %.*s: %s",
		    (int)name.len, name.p, err_str(rc));
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	log_cinfo(ctx->peer,
	    "kafka: created topic %s with %d partitions (first use by %s "
	    "from client \"%s\")",
	    seglog_topic_name(t), seglog_topic_partitions(t), why,
	    kafka_client_id(&ctx->hdr, cid, sizeof(cid)));
	*out = t;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Topic ids */

void
kafka_topic_id(const struct seglog_topic *t, struct kafka_uuid *out)
{
	static const char domain[] = "finnstream topic id\n";
	const char *name = seglog_topic_name(t);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();

	if (mc == NULL || EVP_DigestInit_ex(mc, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(mc, domain, sizeof(domain) - 1) != 1 ||
	    EVP_DigestUpdate(mc, name, strlen(name)) != 1 ||
	    EVP_DigestFinal_ex(mc, md, &mdlen) != 1 || mdlen < KAFKA_UUID_LEN)
		fatalx("kafka: SHA-256 failed for a topic id");
	EVP_MD_CTX_free(mc);
	memcpy(out->b, md, KAFKA_UUID_LEN);
	/* RFC 9562 version 8 (custom), variant 10: never the zero id, nor
	 * Kafka's reserved metadata-topic id (version 0). */
	out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x80);
	out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

struct seglog_topic *
kafka_topic_by_id(struct kafka_req_ctx *ctx, const struct kafka_uuid *id)
{
	struct kafka_server *ks = ctx->ks;
	struct seglog_topic *t;
	size_t i;

	/* Topics are only ever added, in order: extend the cache. */
	while ((t = seglog_topic_at(ctx->seglog, ks->ntopic_ids)) != NULL) {
		ks->topic_ids = xreallocarray(
		    ks->topic_ids, ks->ntopic_ids + 1, sizeof(*ks->topic_ids));
		kafka_topic_id(t, &ks->topic_ids[ks->ntopic_ids++]);
	}
	for (i = 0; i < ks->ntopic_ids; i++)
		if (memcmp(ks->topic_ids[i].b, id->b, KAFKA_UUID_LEN) == 0)
			return seglog_topic_at(ctx->seglog, i);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Parking (long-poll) */

static unsigned
wake_hash(const struct seglog_topic *t, int part)
{
	uintptr_t h = (uintptr_t)t >> 4;

	h ^= (uintptr_t)(unsigned)part * 0x9e3779b1u;
	return (unsigned)(h % KAFKA_WAKE_BUCKETS);
}

int
kafka_conn_park(struct kafka_req_ctx *ctx, struct kafka_watch *watch,
    int nwatch, int wait_ms, kafka_park_fn fn, void *arg)
{
	struct kafka_conn *c = ctx->conn;
	struct kafka_server *ks = c->ks;
	struct timeval tv;
	int i;

	ASSERT(c->state == KCONN_READING);
	for (i = 0; i < nwatch; i++) {
		struct kafka_watch *w = &watch[i];
		struct kafka_watch **head = &ks->wake[wake_hash(w->t, w->part)];

		w->conn = c;
		w->next = *head;
		w->pprev = head;
		if (*head != NULL)
			(*head)->pprev = &w->next;
		*head = w;
	}
	c->watch = watch;
	c->nwatch = nwatch;
	c->park_fn = fn;
	c->park_cancel = NULL;
	c->park_arg = arg;
	if (wait_ms < 0)
		wait_ms = 0;
	if (wait_ms > KAFKA_MAX_WAIT_MS)
		wait_ms = KAFKA_MAX_WAIT_MS;
	tv.tv_sec = wait_ms / 1000;
	tv.tv_usec = (wait_ms % 1000) * 1000;
	evtimer_add(c->park_timer, &tv);
	conn_set_state(c, KCONN_PARKED);
	return KAFKA_PARKED;
}

int
kafka_conn_wait(struct kafka_req_ctx *ctx, kafka_park_fn fn,
    void (*cancel)(void *arg), void *arg)
{
	struct kafka_conn *c = ctx->conn;

	ASSERT(c->state == KCONN_READING);
	c->watch = NULL;
	c->nwatch = 0;
	c->park_fn = fn;
	c->park_cancel = cancel;
	c->park_arg = arg;
	conn_set_state(c, KCONN_PARKED);
	return KAFKA_PARKED;
}

static void conn_poll_parked(struct kafka_conn *c, int expired);

void
kafka_conn_wake(struct kafka_conn *c)
{
	CHECK_MAGIC(c, KAFKA_CONN_MAGIC);
	if (c->state == KCONN_PARKED)
		conn_poll_parked(c, 0);
}

/* Leave PARKED; a request that did not answer is cancelled first. */
static void
conn_unpark(struct kafka_conn *c)
{
	int i;

	if (c->park_cancel != NULL)
		c->park_cancel(c->park_arg);

	for (i = 0; i < c->nwatch; i++) {
		struct kafka_watch *w = &c->watch[i];

		*w->pprev = w->next;
		if (w->next != NULL)
			w->next->pprev = w->pprev;
	}
	c->watch = NULL;
	c->nwatch = 0;
	c->park_fn = NULL;
	c->park_cancel = NULL;
	c->park_arg = NULL;
	evtimer_del(c->park_timer);
}

static void
conn_set_state(struct kafka_conn *c, enum kafka_conn_state s)
{
	if (c->state == s)
		return;
	/* Parking is routine (every idle consumer): only the rarer
	 * transitions are worth a debug line. */
	if (s == KCONN_BLOCKED || c->state == KCONN_BLOCKED ||
	    s == KCONN_DRAINING)
		log_cdebug(c->peer, "kafka: connection %s -> %s",
		    kconn_state_names[c->state], kconn_state_names[s]);
	if (c->state == KCONN_PARKED)
		conn_unpark(c);
	c->state = s;
}

/* Requests in flight may hold half of max_memory; the log yields the
 * rest to them (its oldest segments go first). */
static int
requests_fit(const struct kafka_server *ks, size_t more)
{
	uint64_t limit = membudget_global.limit;

	return limit == 0 || ks->in_bytes + more <= limit / 2;
}

/*
 * Invariant 6: charge what the input holds now, release what requests
 * consumed.  0, or ERR_NOMEM when the budget refuses the new bytes (the
 * charge then stays as it was).
 */
static int
conn_charge_input(struct kafka_conn *c)
{
	struct kafka_server *ks = c->ks;
	size_t have = evbuffer_get_length(bufferevent_get_input(c->bev));

	if (have > c->in_charged) {
		size_t more = have - c->in_charged;

		if (!requests_fit(ks, more) ||
		    membudget_charge_reclaim(&membudget_global, more) != 0)
			return ERR_NOMEM;
		ks->in_bytes += more;
	} else if (have < c->in_charged) {
		membudget_release(&membudget_global, c->in_charged - have);
		ks->in_bytes -= c->in_charged - have;
	}
	c->in_charged = have;
	return 0;
}

/* How long a connection may receive nothing: kafka_idle_ms (0: no
 * limit), and no more than KAFKA_PARTIAL_MS inside a request. */
static int64_t
conn_deadline_ms(const struct kafka_conn *c, int partial)
{
	int64_t idle = c->ks->cfg->kafka_idle_ms;

	if (!partial)
		return idle;
	return idle > 0 && idle < KAFKA_PARTIAL_MS ? idle : KAFKA_PARTIAL_MS;
}

/* Invariant 7: the idle timeout, or the shorter one while a frame is
 * partly read.  Only a change of kind touches the timer. */
static void
conn_arm_read_timeout(struct kafka_conn *c)
{
	int partial = evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
	int64_t ms = conn_deadline_ms(c, partial);
	struct timeval tv;

	if (c->state == KCONN_DRAINING || partial == c->timeout_partial)
		return;
	c->timeout_partial = partial;
	if (ms <= 0) {
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, &tv, NULL);
}

/* Close after the queued responses are written (Kafka closes on a bad
 * request; earlier answers on the connection still reach the client). */
static void
conn_close_after_flush(struct kafka_conn *c)
{
	struct timeval tv = {KAFKA_DRAIN_SECS, 0};

	if (c->state == KCONN_DRAINING)
		return;
	stats.kafka_conn_closed_errors_total++;
	conn_set_state(c, KCONN_DRAINING);
	bufferevent_disable(c->bev, EV_READ);
	/* Nothing more is read from it: what it holds goes now. */
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	(void)conn_charge_input(c);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	event_active(c->resume, EV_TIMEOUT, 1);
}

/* Ask the parked request to answer; expired: its wait is over. */
static void
conn_poll_parked(struct kafka_conn *c, int expired)
{
	int rc;

	ASSERT(c->state == KCONN_PARKED);
	rc = c->park_fn(c, c->park_arg, expired);
	if (rc < 0) {
		log_cwarn(c->peer,
		    "kafka: answering a waiting request: %s: "
		    "closing the connection",
		    err_str(rc));
		conn_close_after_flush(c);
		return;
	}
	ASSERT(rc == 1 || !expired);
	if (rc == 1) {
		c->park_cancel = NULL; /* answered: nothing to cancel */
		conn_set_state(c, KCONN_READING);
		event_active(c->resume, EV_TIMEOUT, 1);
	}
}

void
kafka_server_on_append(
    struct kafka_server *ks, struct seglog_topic *t, int part)
{
	struct kafka_watch *w;
	size_t n = 0, i;
	uint64_t gen;

	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	w = ks->wake[wake_hash(t, part)];
	if (w == NULL)
		return;
	/* Park functions never append, so this does not recurse. */
	ASSERT(!ks->in_wake);
	ks->in_wake = 1;
	gen = ++ks->wake_gen;
	/* Collect first: answering unlinks watches from this very chain. */
	for (; w != NULL; w = w->next) {
		if (w->t != t || w->part != part || w->conn->wake_gen == gen)
			continue;
		w->conn->wake_gen = gen;
		if (n == ks->wokencap) {
			ks->wokencap = ks->wokencap ? ks->wokencap * 2 : 16;
			ks->woken = xreallocarray(
			    ks->woken, ks->wokencap, sizeof(*ks->woken));
		}
		ks->woken[n++] = w->conn;
	}
	for (i = 0; i < n; i++)
		if (ks->woken[i]->state == KCONN_PARKED)
			conn_poll_parked(ks->woken[i], 0);
	ks->in_wake = 0;
}

static void
on_park_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_conn *c = arg;

	CHECK_MAGIC(c, KAFKA_CONN_MAGIC);
	if (c->state == KCONN_PARKED) {
		int64_t t0 = stats_loop_begin();

		conn_poll_parked(c, 1);
		stats_loop_end(LOOP_KAFKA, t0);
	}
}

/* ------------------------------------------------------------------ */
/* Requests */

static int64_t
wall_ms(struct event_base *base)
{
	struct timeval tv;

	event_base_gettimeofday_cached(base, &tv);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Kafka (KIP-511) answers an ApiVersions newer than it knows with a v0
 * body carrying error 35, so the client can retry lower. */
static int
answer_api_versions_unsupported(struct kafka_req_ctx *ctx)
{
	struct kafka_api_range r[KAFKA_NAPIS];
	int n = kafka_api_ranges(r, (int)KAFKA_NAPIS);

	kafka_reply_begin(ctx);
	kafka_encode_api_versions_unsupported(ctx->w, r, n);
	return kafka_reply_end(ctx);
}

/* Dispatch one whole frame p[0..flen) (size prefix included).  Returns
 * KAFKA_DONE, KAFKA_PARKED, or KAFKA_CLOSE after logging why. */
static int
conn_request(struct kafka_conn *c, const uint8_t *p, size_t flen)
{
	const struct kafka_api_entry *e;
	struct kafka_req_ctx ctx;
	char cid[64];
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	rc = kafka_decode_request_header(
	    p + 4, flen - 4, &ctx.hdr, &ctx.err_off);
	if (rc < 0) {
		stats.kafka_bad_requests_total++;
		log_cwarn(c->peer,
		    "kafka: malformed request header (%s at byte %zu of a "
		    "%zu-byte frame): closing the connection",
		    err_str(rc), ctx.err_off + 4, flen);
		return KAFKA_CLOSE;
	}
	stats.kafka_requests_total++;
	arena_reset(&c->arena);
	ctx.ks = c->ks;
	ctx.conn = c;
	ctx.cfg = c->ks->cfg;
	ctx.seglog = c->ks->seglog;
	ctx.coord = c->ks->coord;
	ctx.peer = c->peer;
	ctx.body = p + 4 + rc;
	ctx.body_len = flen - 4 - (size_t)rc;
	ctx.arena = &c->arena;
	ctx.w = &c->w;
	ctx.now_ms = wall_ms(c->ks->base);

	e = api_find(ctx.hdr.api_key);
	if (e == NULL) {
		/* Kafka closes the connection for a key it does not know. */
		stats.kafka_bad_requests_total++;
		log_cwarn(c->peer,
		    "kafka: unsupported API key %d (%s) v%d from client \"%s\": "
		    "closing the connection",
		    ctx.hdr.api_key, kafka_api_name(ctx.hdr.api_key),
		    ctx.hdr.api_version,
		    kafka_client_id(&ctx.hdr, cid, sizeof(cid)));
		return KAFKA_CLOSE;
	}
	if (ctx.hdr.api_version < e->min_ver ||
	    ctx.hdr.api_version > e->max_ver) {
		if (ctx.hdr.api_key == KAFKA_API_API_VERSIONS &&
		    ctx.hdr.api_version > e->max_ver) {
			/* librdkafka opens every connection with v3. */
			log_cdebug(c->peer,
			    "kafka: ApiVersions v%d from client \"%s\": "
			    "answering UNSUPPORTED_VERSION for a retry",
			    ctx.hdr.api_version,
			    kafka_client_id(&ctx.hdr, cid, sizeof(cid)));
			if ((rc = answer_api_versions_unsupported(&ctx)) != 0)
				goto fail;
			return KAFKA_DONE;
		}
		/* As Kafka does: the request cannot be parsed, so close. */
		stats.kafka_bad_requests_total++;
		log_cwarn(c->peer,
		    "kafka: %s v%d from client \"%s\" is not supported (this "
		    "broker serves v%d-v%d): closing the connection",
		    kafka_api_name(ctx.hdr.api_key), ctx.hdr.api_version,
		    kafka_client_id(&ctx.hdr, cid, sizeof(cid)), e->min_ver,
		    e->max_ver);
		return KAFKA_CLOSE;
	}
	rc = e->handle(&ctx);
	if (rc >= 0)
		return rc;
fail:
	stats.kafka_bad_requests_total++;
	log_cwarn(c->peer,
	    "kafka: bad %s v%d request from client \"%s\" (%s at body byte "
	    "%zu of %zu): closing the connection",
	    kafka_api_name(ctx.hdr.api_key), ctx.hdr.api_version,
	    kafka_client_id(&ctx.hdr, cid, sizeof(cid)), err_str(rc),
	    ctx.err_off, ctx.body_len);
	return KAFKA_CLOSE;
}

/*
 * The first flen bytes of in, contiguous: in place when one chain holds
 * them, else copied into the server's frame buffer (evbuffer_pullup
 * would allocate a new chain of flen bytes for every such request, and
 * fault its pages in: a third of Produce's time with 256 KiB reads).
 * NULL when the copy cannot be had.
 */
static const uint8_t *
frame_bytes(struct kafka_server *ks, struct evbuffer *in, size_t flen)
{
	struct evbuffer_iovec v;

	if (evbuffer_peek(in, (ev_ssize_t)flen, NULL, &v, 1) == 1)
		return v.iov_base;
	if (flen > ks->framecap) {
		free(ks->frame);
		ks->framecap = 0;
		if ((ks->frame = malloc(flen)) == NULL)
			return NULL;
		ks->framecap = flen;
	}
	evbuffer_copyout(in, ks->frame, flen);
	membudget_force(&membudget_global, flen);
	ks->framecharged = flen;
	return ks->frame;
}

/* After a request: the copy's charge goes, and a frame buffer past
 * KAFKA_FRAME_KEEP is given back (the one kept is a fixed overhead). */
static void
frame_done(struct kafka_server *ks)
{
	membudget_release(&membudget_global, ks->framecharged);
	ks->framecharged = 0;
	if (ks->framecap > KAFKA_FRAME_KEEP) {
		free(ks->frame);
		ks->frame = NULL;
		ks->framecap = 0;
	}
}

/* Handle the next whole frame of the input: 1 handled, 0 need more
 * bytes, KAFKA_CLOSE-style negative on a framing error. */
static int
conn_next_frame(struct kafka_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t have = evbuffer_get_length(in), flen = 0;
	uint8_t prefix[4];
	const uint8_t *p;
	int rc;

	if (have < sizeof(prefix))
		return 0;
	evbuffer_copyout(in, prefix, sizeof(prefix));
	rc = kafka_frame_size(prefix, sizeof(prefix),
	    (size_t)c->ks->cfg->max_request_bytes, &flen);
	if (rc == ERR_TOO_BIG) {
		stats.kafka_bad_requests_total++;
		log_cwarn(c->peer,
		    "kafka: request of %u bytes is over max_request_bytes "
		    "(%lld): closing the connection",
		    (unsigned)prefix[0] << 24 | (unsigned)prefix[1] << 16 |
		        (unsigned)prefix[2] << 8 | prefix[3],
		    (long long)c->ks->cfg->max_request_bytes);
		return -1;
	}
	if (rc < 0) {
		stats.kafka_bad_requests_total++;
		log_cwarn(c->peer,
		    "kafka: bad frame size %02x%02x%02x%02x (not a Kafka "
		    "client?): closing the connection",
		    prefix[0], prefix[1], prefix[2], prefix[3]);
		return -1;
	}
	if (have < flen) {
		/* Invariant 6: the rest must fit in what the budget has
		 * left, or the request can never complete. */
		if (!requests_fit(c->ks, flen - have)) {
			stats.kafka_bad_requests_total++;
			stats.kafka_conn_closed_memory_total++;
			log_cwarn(c->peer,
			    "kafka: a %zu-byte request would pass max_memory "
			    "(%llu bytes in use): closing the connection",
			    flen,
			    (unsigned long long)membudget_used(
			        &membudget_global));
			return -1;
		}
		return 0;
	}
	if ((p = frame_bytes(c->ks, in, flen)) == NULL) {
		log_cwarn(c->peer,
		    "kafka: out of memory for a %zu-byte "
		    "request: closing the connection",
		    flen);
		return -1;
	}
	rc = conn_request(c, p, flen);
	evbuffer_drain(in, flen);
	frame_done(c->ks);
	if (c->w.cap > KAFKA_CONN_WBUF_KEEP) {
		wbuf_fini(&c->w);
		wbuf_init(&c->w, 0);
	}
	if (rc == KAFKA_CLOSE)
		return -1;
	return 1;
}

static void
conn_serve(struct kafka_conn *c)
{
	int n, rc;

	if (c->state == KCONN_DRAINING)
		return;
	if (conn_charge_input(c) != 0) {
		stats.kafka_conn_closed_memory_total++;
		log_cwarn(c->peer,
		    "kafka: request data would pass max_memory (%llu bytes in "
		    "use): closing the connection",
		    (unsigned long long)membudget_used(&membudget_global));
		conn_close_after_flush(c);
		return;
	}
	for (n = 0; n < KAFKA_CONN_REQS_PER_EVENT; n++) {
		if (c->state != KCONN_READING)
			goto out;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    KAFKA_CONN_MAX_OUTPUT) {
			conn_set_state(c, KCONN_BLOCKED);
			goto out;
		}
		if ((rc = conn_next_frame(c)) == 0)
			goto out;
		if (rc < 0) {
			conn_close_after_flush(c);
			return;
		}
	}
	/* Work cap: other connections first, then the rest of this input. */
	event_active(c->resume, EV_TIMEOUT, 1);
out:
	(void)conn_charge_input(c); /* releases what requests consumed */
	conn_arm_read_timeout(c);
}

/* Serve what the connection can take now, timed for what holds the loop. */
static void
conn_drive(struct kafka_conn *c)
{
	int64_t t0 = stats_loop_begin();

	conn_serve(c);
	stats_loop_end(LOOP_KAFKA, t0);
}

/* ------------------------------------------------------------------ */
/* Connection callbacks */

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_conn *c = arg;

	CHECK_MAGIC(c, KAFKA_CONN_MAGIC);
	if (c->state == KCONN_DRAINING) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		return;
	}
	conn_drive(c);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct kafka_conn *c = arg;

	CHECK_MAGIC(c, KAFKA_CONN_MAGIC);
	conn_drive(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct kafka_conn *c = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	CHECK_MAGIC(c, KAFKA_CONN_MAGIC);
	if (c->state == KCONN_DRAINING) {
		if (left == 0)
			conn_free(c);
	} else if (c->state == KCONN_BLOCKED &&
	           left <= KAFKA_CONN_MAX_OUTPUT / 2) {
		conn_set_state(c, KCONN_READING);
		conn_drive(c);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct kafka_conn *c = arg;
	int err = EVUTIL_SOCKET_ERROR();

	CHECK_MAGIC(c, KAFKA_CONN_MAGIC);
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    c->state != KCONN_DRAINING) {
		size_t in = evbuffer_get_length(bufferevent_get_input(bev));

		if (in > 0) {
			log_cwarn(c->peer,
			    "kafka: a request stopped arriving (%zu bytes "
			    "read, nothing for %lld ms): closing the "
			    "connection",
			    in, (long long)conn_deadline_ms(c, 1));
			stats.kafka_conn_closed_errors_total++;
		} else if (c->state != KCONN_READING ||
		           evbuffer_get_length(bufferevent_get_output(bev)) >
		               0) {
			/* Waiting on a Fetch or a slow reader: not idle. */
			bufferevent_enable(bev, EV_READ);
			return;
		} else {
			log_cinfo(c->peer,
			    "kafka: closing a connection idle for %lld ms",
			    (long long)c->ks->cfg->kafka_idle_ms);
			stats.kafka_conn_closed_idle_total++;
		}
	} else if (what & BEV_EVENT_EOF) {
		log_cdebug(c->peer, "kafka: connection closed by the client");
	} else if (what & BEV_EVENT_TIMEOUT) {
		log_cwarn(c->peer, "kafka: client stopped reading while the "
		                   "connection closed: dropping it");
	} else if (what & BEV_EVENT_ERROR) {
		/* Resets are how many clients hang up: not worth a warning. */
		if (err == ECONNRESET || err == EPIPE)
			log_cdebug(c->peer, "kafka: connection reset");
		else
			log_cwarn(c->peer, "kafka: connection error: %s",
			    evutil_socket_error_to_string(err));
	}
	conn_free(c);
}

static void
conn_free(struct kafka_conn *c)
{
	struct kafka_server *ks = c->ks;

	if (c->state == KCONN_PARKED)
		conn_unpark(c);
	log_cdebug(c->peer, "kafka: connection closed");
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ks->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->in_charged > 0) {
		membudget_release(&membudget_global, c->in_charged);
		ks->in_bytes -= c->in_charged;
	}
	/* Frees queued output, dropping the segment refs it held. */
	bufferevent_free(c->bev);
	event_free(c->resume);
	event_free(c->park_timer);
	arena_fini(&c->arena);
	wbuf_fini(&c->w);
	c->magic = 0;
	free(c);
	stats.kafka_connections--;
	if (--ks->nconns < ks->cfg->kafka_max_connections && ks->at_cap &&
	    ks->lis != NULL) {
		ks->at_cap = 0;
		evconnlistener_enable(ks->lis);
		log_info("kafka: below kafka_max_connections again: accepting");
	}
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
{
	struct kafka_server *ks = arg;
	struct kafka_conn *c;
	struct bufferevent *bev;
	size_t high;
	int one = 1;

	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	bev = bufferevent_socket_new(ks->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warn("kafka: cannot set up a connection: out of memory");
		evutil_closesocket(fd);
		return;
	}
	/* Small responses (a wake-up, an ack) must not wait for Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->magic = KAFKA_CONN_MAGIC;
	c->ks = ks;
	c->bev = bev;
	c->state = KCONN_READING;
	(void)listen_format_addr(sa, c->peer, sizeof(c->peer));
	arena_init(&c->arena, KAFKA_CONN_ARENA_CAP);
	wbuf_init(&c->w, 0);
	c->resume = event_new(ks->base, -1, 0, on_resume, c);
	c->park_timer = evtimer_new(ks->base, on_park_timeout, c);
	if (c->resume == NULL || c->park_timer == NULL)
		fatalx("kafka: out of memory for connection events");
	c->next = ks->conns;
	if (ks->conns != NULL)
		ks->conns->prev = c;
	ks->conns = c;

	bufferevent_set_max_single_read(bev, KAFKA_CONN_READ_CHUNK);
	bufferevent_set_max_single_write(bev, KAFKA_CONN_IO_CHUNK);
	/* Invariant 2: the input holds at most one maximal frame. */
	high = (size_t)ks->cfg->max_request_bytes + 4;
	if (high < KAFKA_CONN_IO_CHUNK)
		high = KAFKA_CONN_IO_CHUNK;
	bufferevent_setwatermark(bev, EV_READ, 0, high);
	bufferevent_setwatermark(bev, EV_WRITE, KAFKA_CONN_MAX_OUTPUT / 2, 0);
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	c->timeout_partial = 1; /* so the next line arms the idle timeout */
	conn_arm_read_timeout(c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	stats.kafka_connections_total++;
	stats.kafka_connections++;
	log_cdebug(c->peer, "kafka: connection opened");
	/* Invariant 7: at the cap, leave further clients in the kernel's
	 * backlog until a connection closes. */
	if (++ks->nconns >= ks->cfg->kafka_max_connections && !ks->at_cap) {
		ks->at_cap = 1;
		stats.kafka_conn_refused_total++;
		evconnlistener_disable(lis);
		log_warn("kafka: %d connections open (kafka_max_connections): "
		         "not accepting more until one closes",
		    ks->nconns);
	}
}

static void
on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_server *ks = arg;

	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	if (ks->lis != NULL)
		evconnlistener_enable(ks->lis);
}

static void
on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct kafka_server *ks = arg;
	struct timeval tv = {0, KAFKA_ACCEPT_RETRY_MS * 1000};
	int err = EVUTIL_SOCKET_ERROR();

	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	log_warn("kafka: accept: %s", evutil_socket_error_to_string(err));
	/* Out of descriptors: the listening socket stays readable, so pause
	 * instead of spinning. */
	evconnlistener_disable(lis);
	evtimer_add(ks->accept_retry, &tv);
}

/* ------------------------------------------------------------------ */
/* The server */

struct kafka_server *
kafka_server_new(struct event_base *base, const struct config *cfg,
    struct seglog *sl, struct groupstore *gs)
{
	struct kafka_server *ks;

	ks = xcalloc(1, sizeof(*ks));
	ks->magic = KAFKA_SERVER_MAGIC;
	ks->base = base;
	ks->cfg = config_ref(cfg); /* kept for life: its keys need a restart */
	ks->seglog = sl;
	ks->coord = kafka_coord_new(
	    base, gs, (int32_t)cfg->group_initial_rebalance_delay_ms);
	ks->accept_retry = evtimer_new(base, on_accept_retry, ks);
	if (ks->accept_retry == NULL)
		fatalx("kafka: out of memory for the listener");
	return ks;
}

int
kafka_server_listen(struct kafka_server *ks)
{
	const char *adv;
	char bound[LISTEN_ADDR_MAX];
	int aport, rc;

	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	if ((rc = listen_bind(ks->base, "kafka", "kafka_listen",
	         ks->cfg->kafka_listen, on_accept, ks, &ks->lis, bound,
	         &ks->port)) != 0)
		return rc;
	evconnlistener_set_error_cb(ks->lis, on_accept_error);

	/* Clients reconnect to what Metadata names, so that must be the
	 * address they can reach; port 0 there means "the bound one". */
	adv = ks->cfg->kafka_advertised != NULL ? ks->cfg->kafka_advertised
	                                        : ks->cfg->kafka_listen;
	if (config_split_hostport(
	        adv, ks->adv_host, sizeof(ks->adv_host), &aport) != 0) {
		log_err("kafka_advertised \"%s\" is not HOST:PORT", adv);
		rc = ERR_CONFIG;
		goto out;
	}
	ks->adv_port = aport != 0 ? aport : ks->port;
	log_info("kafka: listening on %s (advertised as %s:%d)", bound,
	    ks->adv_host, ks->adv_port);
out:
	if (rc != 0) {
		evconnlistener_free(ks->lis);
		ks->lis = NULL;
	}
	return rc;
}

int
kafka_server_port(const struct kafka_server *ks)
{
	return ks->port;
}

void
kafka_server_stop_accepting(struct kafka_server *ks)
{
	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	if (ks->lis != NULL) {
		evconnlistener_free(ks->lis);
		ks->lis = NULL;
		log_info("kafka: no longer accepting connections");
	}
	evtimer_del(ks->accept_retry);
}

void
kafka_server_set_commit_io(
    struct kafka_server *ks, const struct kafka_commit_io *io)
{
	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	kafka_coord_set_io(ks->coord, io);
}

void
kafka_server_free(struct kafka_server *ks)
{
	if (ks == NULL)
		return;
	CHECK_MAGIC(ks, KAFKA_SERVER_MAGIC);
	while (ks->conns != NULL)
		conn_free(ks->conns);
	if (ks->lis != NULL)
		evconnlistener_free(ks->lis);
	event_free(ks->accept_retry);
	/* After the connections: closing them cancels their group waits. */
	kafka_coord_free(ks->coord);
	free(ks->topic_ids);
	free(ks->woken);
	free(ks->frame);
	ks->magic = 0;
	config_unref(ks->cfg);
	free(ks);
}
