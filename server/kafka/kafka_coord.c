/*
 * kafka_coord.c: (2') the group coordinator on the event loop (see
 * kafka_coord.h): one timer armed at the state machine's next deadline,
 * the callbacks that hand a waiting JoinGroup or SyncGroup its answer
 * by waking its parked connection, and the committed offsets' writes
 * (one in flight; the OffsetCommits it holds are woken when it is done).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <openssl/rand.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/xmalloc.h"
#include "proto/kafka_frame.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"
#include "server/log.h"
#include "storage/groupstore.h"

#define KAFKA_COORD_MAGIC 0x6b636f6fu

struct kafka_coord {
	unsigned magic;
	struct kafka_group_coord *groups;
	struct groupstore *store;
	struct event *timer;
	int64_t armed;             /* deadline the timer is set for; -1: none */
	struct kafka_commit_io io; /* io.write NULL: write on the loop */
	int writing;               /* a write of the offsets in flight */
	uint64_t writing_version;  /* the groupstore version it holds */
	uint64_t durable;          /* the version last written */
	struct kafka_coord_commit *commits, **commits_tail; /* waiting */
};

int64_t
kafka_coord_now(void)
{
	return clock_mono_ms();
}

static void
on_join(void *waiter, const struct kafka_group_join_result *r)
{
	struct kafka_coord_waiter *w = waiter;

	w->join = r;
	kafka_conn_wake(w->conn);
	w->join = NULL;
}

static void
on_sync(void *waiter, const struct kafka_group_sync_result *r)
{
	struct kafka_coord_waiter *w = waiter;

	w->sync = r;
	kafka_conn_wake(w->conn);
	w->sync = NULL;
}

static const struct kafka_group_callbacks callbacks = {on_join, on_sync};

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_coord *kc = arg;

	CHECK_MAGIC(kc, KAFKA_COORD_MAGIC);
	kc->armed = -1;
	kafka_group_tick(kc->groups, kafka_coord_now());
	kafka_coord_rearm(kc);
}

void
kafka_coord_rearm(struct kafka_coord *kc)
{
	int64_t next = kafka_group_next_deadline(kc->groups), now, wait;
	struct timeval tv;

	if (next == kc->armed)
		return;
	evtimer_del(kc->timer);
	kc->armed = next;
	if (next < 0)
		return;
	now = kafka_coord_now();
	wait = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(kc->timer, &tv);
}

struct kafka_coord *
kafka_coord_new(
    struct event_base *base, struct groupstore *gs, int32_t initial_delay_ms)
{
	struct kafka_coord *kc = xcalloc(1, sizeof(*kc));
	uint64_t nonce = 0;

	/* Member ids differ across restarts: a member of the previous run
	 * can never be taken for one of this run. */
	if (RAND_bytes((unsigned char *)&nonce, sizeof(nonce)) != 1)
		nonce = (uint64_t)clock_wall_us();
	kc->magic = KAFKA_COORD_MAGIC;
	kc->groups = kafka_group_coord_new(&callbacks, initial_delay_ms, nonce);
	kc->store = gs;
	kc->armed = -1;
	kc->durable = groupstore_version(gs);
	kc->commits_tail = &kc->commits;
	if ((kc->timer = evtimer_new(base, on_timer, kc)) == NULL)
		fatalx("kafka: out of memory for the group timer");
	return kc;
}

void
kafka_coord_free(struct kafka_coord *kc)
{
	if (kc == NULL)
		return;
	CHECK_MAGIC(kc, KAFKA_COORD_MAGIC);
	/* The connections are closed: no commit waits any more.  The write
	 * in flight calls back into kc, so it ends first; what was staged
	 * after it (by connections now closed) is written here. */
	if (kc->writing && kc->io.wait != NULL)
		kc->io.wait(kc->io.arg);
	ASSERT(!kc->writing && kc->commits == NULL);
	if (groupstore_sync(kc->store) != 0)
		log_warn("kafka: the last consumer offsets staged could not "
		         "be written");
	event_free(kc->timer);
	kafka_group_coord_free(kc->groups);
	kc->magic = 0;
	free(kc);
}

struct kafka_group_coord *
kafka_coord_groups(struct kafka_coord *kc)
{
	return kc->groups;
}

struct groupstore *
kafka_coord_store(struct kafka_coord *kc)
{
	return kc->store;
}

void
kafka_coord_set_io(struct kafka_coord *kc, const struct kafka_commit_io *io)
{
	if (io != NULL)
		kc->io = *io;
	else
		memset(&kc->io, 0, sizeof(kc->io));
}

static void
commit_unlink(struct kafka_coord *kc, struct kafka_coord_commit *c)
{
	if (!c->linked)
		return;
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	else
		kc->commits_tail = c->pprev;
	c->linked = 0;
}

static void write_offsets(struct kafka_coord *kc);

/* done of io.write: the commits the file holds are answered. */
static void
on_written(void *arg, int rc)
{
	struct kafka_coord *kc = arg;
	struct kafka_coord_commit *c;
	uint64_t v = kc->writing_version;

	CHECK_MAGIC(kc, KAFKA_COORD_MAGIC);
	kc->writing = 0;
	if (rc == 0) {
		groupstore_written(kc->store, v);
		kc->durable = v;
	}
	/* One at a time from the head: an answer may let its connection
	 * handle its next request, which may add or cancel commits. */
	for (;;) {
		for (c = kc->commits; c != NULL && c->need > v; c = c->next)
			;
		if (c == NULL)
			break;
		commit_unlink(kc, c);
		c->done = 1;
		c->rc = rc;
		kafka_conn_wake(c->w.conn);
	}
	if (kc->commits != NULL && !kc->writing)
		write_offsets(kc);
}

/* Start writing what the groupstore holds now. */
static void
write_offsets(struct kafka_coord *kc)
{
	uint8_t *buf;
	size_t len;
	uint64_t v;
	int rc;

	ASSERT(!kc->writing);
	rc = groupstore_snapshot(kc->store, &buf, &len, &v);
	kc->writing = 1;
	kc->writing_version = groupstore_version(kc->store);
	if (rc != 0) {
		on_written(kc, rc);
		return;
	}
	kc->writing_version = v;
	kc->io.write(
	    kc->io.arg, groupstore_path(kc->store), buf, len, on_written, kc);
}

static void
commit_cancel(void *arg)
{
	struct kafka_coord_commit *c = arg;

	commit_unlink(c->w.kc, c);
}

int
kafka_coord_persist(
    struct kafka_req_ctx *ctx, struct kafka_coord_commit *c, kafka_park_fn fn)
{
	struct kafka_coord *kc = ctx->coord;

	if (kc->io.write == NULL || groupstore_path(kc->store) == NULL)
		return groupstore_sync(kc->store);
	c->need = groupstore_version(kc->store);
	if (c->need <= kc->durable)
		return 0; /* nothing new (a commit of unchanged offsets) */
	c->w.kc = kc;
	c->w.conn = ctx->conn;
	c->w.api_key = ctx->hdr.api_key;
	c->w.api_version = ctx->hdr.api_version;
	c->w.correlation_id = ctx->hdr.correlation_id;
	c->done = 0;
	c->next = NULL;
	c->pprev = kc->commits_tail;
	*kc->commits_tail = c;
	kc->commits_tail = &c->next;
	c->linked = 1;
	if (!kc->writing)
		write_offsets(kc);
	if (c->done) /* the image could not be made: answered already */
		return c->rc;
	return kafka_conn_wait(ctx, fn, commit_cancel, c);
}

static void
waiter_cancel(void *arg)
{
	struct kafka_coord_waiter *w = arg;

	kafka_group_cancel(w->kc->groups, w);
	kafka_coord_rearm(w->kc);
}

int
kafka_coord_park(
    struct kafka_req_ctx *ctx, struct kafka_coord_waiter *w, kafka_park_fn fn)
{
	return kafka_conn_wait(ctx, fn, waiter_cancel, w);
}

struct wbuf *
kafka_coord_reply_begin(struct kafka_coord_waiter *w, size_t *mark)
{
	struct wbuf *b = kafka_conn_wbuf(w->conn);

	wbuf_reset(b);
	*mark = kafka_frame_begin(b);
	kafka_encode_response_header(
	    b, w->api_key, w->api_version, w->correlation_id);
	return b;
}

int
kafka_coord_reply_end(struct kafka_coord_waiter *w, size_t mark)
{
	struct wbuf *b = kafka_conn_wbuf(w->conn);

	kafka_frame_end(b, mark, 0);
	if (b->err != 0)
		return b->err;
	if (evbuffer_add(kafka_conn_output(w->conn), b->buf, b->len) != 0)
		return ERR_NOMEM;
	return 0;
}

const char *
kafka_coord_client_host(const char *peer, char *buf, size_t size)
{
	const char *end = strrchr(peer, ':');
	size_t n = end != NULL ? (size_t)(end - peer) : strlen(peer);

	if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
		peer++;
		n -= 2;
	}
	snprintf(buf, size, "/%.*s", (int)n, peer);
	return buf;
}
