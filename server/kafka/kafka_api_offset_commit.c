/*
 * kafka_api_offset_commit.c: (2') OffsetCommit (key 8), v2-v9: a group's
 * consumed positions.  The coordinator (kafka_group.h) says whether the
 * member may commit; each partition must exist (else
 * UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers); the commits are staged
 * in storage/groupstore and made durable (written, fsync()ed, renamed)
 * before the response leaves, so a commit the client saw acknowledged
 * survives a crash.  The write happens off the event loop when the
 * coordinator has a writer (kafka_coord_persist): the connection waits,
 * parked, for a write that holds its commits.  When that write fails,
 * the partitions it held get COORDINATOR_NOT_AVAILABLE: clients retry
 * such a commit.
 */
#include <config.h>

#include <string.h>

#include "base/err.h"
#include "proto/arena.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"
#include "server/log.h"
#include "storage/groupstore.h"
#include "storage/seglog.h"

/* Stage one partition's commit: a Kafka error code. */
static int16_t
stage(struct kafka_req_ctx *ctx, const struct kafka_offset_commit_req *req,
    struct seglog_topic *t, const struct kafka_commit_part *p)
{
	struct groupstore_commit c;
	const char *name;
	int rc;

	if (p->partition < 0 || p->partition >= seglog_topic_partitions(t))
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (p->metadata.len > GROUPSTORE_MAX_METADATA)
		return KAFKA_ERR_OFFSET_METADATA_TOO_LARGE;
	c.offset = p->offset;
	c.leader_epoch = p->leader_epoch;
	c.commit_ms = ctx->now_ms;
	/* Kafka keeps a null metadata as "" (and answers "" for it). */
	c.metadata = p->metadata.len >= 0 ? p->metadata.p : "";
	c.metadata_len = p->metadata.len >= 0 ? p->metadata.len : 0;
	name = seglog_topic_name(t);
	rc = groupstore_put(kafka_coord_store(ctx->coord), req->group_id.p,
	    (size_t)req->group_id.len, name, strlen(name), p->partition, &c);
	if (rc == ERR_RANGE)
		return KAFKA_ERR_INVALID_GROUP_ID; /* the rest was checked */
	if (rc != 0) {
		log_cwarn(ctx->peer,
		    "kafka: cannot keep a commit of group %.*s: %s",
		    (int)req->group_id.len, req->group_id.p, err_str(rc));
		return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
	}
	return 0;
}

/* A commit waiting for its write, with what the answer needs. */
struct commit_wait {
	struct kafka_coord_commit c;
	struct kafka_offset_commit_req req; /* names copied to the arena */
};

/* The staged partitions' answer when their write failed. */
static void
failed(const char *peer, struct kafka_offset_commit_req *req, int rc)
{
	int32_t i, j;

	log_cwarn(peer,
	    "kafka: cannot persist the offsets committed by group "
	    "%.*s: %s (answering COORDINATOR_NOT_AVAILABLE)",
	    (int)req->group_id.len, req->group_id.p, err_str(rc));
	for (i = 0; i < req->ntopics; i++)
		for (j = 0; j < req->topics[i].nparts; j++)
			if (req->topics[i].parts[j].error == 0)
				req->topics[i].parts[j].error =
				    KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
}

/* kafka_park_fn: the write holding the commits is done. */
static int
commit_answer(struct kafka_conn *conn, void *arg, int expired)
{
	struct commit_wait *cw = arg;
	struct wbuf *b;
	size_t mark;

	(void)expired;
	if (!cw->c.done)
		return 0;
	if (cw->c.rc != 0)
		failed(kafka_conn_peer(conn), &cw->req, cw->c.rc);
	b = kafka_coord_reply_begin(&cw->c.w, &mark);
	kafka_encode_offset_commit_resp(
	    b, cw->c.w.api_version, 0, cw->req.topics, cw->req.ntopics);
	return kafka_coord_reply_end(&cw->c.w, mark) == 0 ? 1 : ERR_NOMEM;
}

/* s copied into the arena (the request's bytes go with the handler). */
static int
keep(struct arena *a, struct kafka_str *s)
{
	char *p;

	if (s->len <= 0)
		return 0;
	if ((p = arena_alloc(a, (size_t)s->len)) == NULL)
		return ERR_TOO_BIG;
	memcpy(p, s->p, (size_t)s->len);
	s->p = p;
	return 0;
}

/* Wait for the commits' write (parked), or answer now. */
static int
persist(struct kafka_req_ctx *ctx, struct kafka_offset_commit_req *req)
{
	struct commit_wait *cw = arena_calloc(ctx->arena, 1, sizeof(*cw));
	int32_t i;
	int rc;

	if (cw == NULL)
		return ERR_TOO_BIG;
	cw->req = *req;
	if ((rc = keep(ctx->arena, &cw->req.group_id)) != 0)
		return rc;
	for (i = 0; i < cw->req.ntopics; i++)
		if ((rc = keep(ctx->arena, &cw->req.topics[i].name)) != 0)
			return rc;
	rc = kafka_coord_persist(ctx, &cw->c, commit_answer);
	if (rc == KAFKA_PARKED)
		return rc;
	if (rc != 0)
		failed(ctx->peer, req, rc);
	return KAFKA_DONE;
}

static int
handle_offset_commit(struct kafka_req_ctx *ctx)
{
	struct kafka_offset_commit_req req;
	int16_t ver = ctx->hdr.api_version, gerr;
	int32_t i, j;
	int rc, staged = 0;

	rc = kafka_decode_offset_commit_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	if (req.group_id.len <= 0 || req.group_id.len > GROUPSTORE_MAX_GROUP_ID)
		gerr = KAFKA_ERR_INVALID_GROUP_ID;
	else
		gerr =
		    kafka_group_commit_allowed(kafka_coord_groups(ctx->coord),
		        kafka_coord_bytes(req.group_id),
		        kafka_coord_bytes(req.member_id), req.generation_id,
		        kafka_coord_now());
	kafka_coord_rearm(ctx->coord);
	for (i = 0; i < req.ntopics; i++) {
		struct kafka_commit_topic *qt = &req.topics[i];
		struct seglog_topic *t = NULL;
		int16_t terr = gerr;

		if (terr == 0)
			terr = (int16_t)kafka_topic_lookup(
			    ctx, qt->name, 0, "OffsetCommit", &t);
		for (j = 0; j < qt->nparts; j++) {
			struct kafka_commit_part *p = &qt->parts[j];

			p->error = terr != 0 ? terr : stage(ctx, &req, t, p);
			if (p->error == 0)
				staged++;
		}
	}
	if (staged > 0 && (rc = persist(ctx, &req)) != KAFKA_DONE)
		return rc;
	kafka_reply_begin(ctx);
	kafka_encode_offset_commit_resp(
	    ctx->w, ver, 0, req.topics, req.ntopics);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_offset_commit_entry = {
    .api_key = KAFKA_API_OFFSET_COMMIT,
    .min_ver = KAFKA_OFFSET_COMMIT_MIN_VER,
    .max_ver = KAFKA_OFFSET_COMMIT_MAX_VER,
    .handle = handle_offset_commit,
};
