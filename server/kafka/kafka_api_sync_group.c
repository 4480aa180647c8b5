/*
 * kafka_api_sync_group.c: (2') SyncGroup (key 14), v0-v5: the leader
 * hands in every member's assignment; the other members wait, parked,
 * until it has, then each gets its own (kafka_group.h).  The assignment
 * bytes are the client's ConsumerProtocol payload, carried as they are.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"
#include "server/log.h"

static void
encode_sync(
    struct wbuf *w, int16_t ver, const struct kafka_group_sync_result *r)
{
	struct kafka_sync_group_resp resp;

	memset(&resp, 0, sizeof(resp));
	resp.error = r->error;
	resp.protocol_type = kafka_coord_str(r->protocol_type);
	resp.protocol_name = kafka_coord_str(r->protocol_name);
	resp.assignment.p = r->assignment;
	resp.assignment.len = (int32_t)r->assignment_len;
	kafka_encode_sync_group_resp(w, ver, &resp);
}

/* kafka_park_fn: the leader's assignment arrived (or the round failed). */
static int
sync_answer(struct kafka_conn *c, void *arg, int expired)
{
	struct kafka_coord_waiter *w = arg;
	size_t mark;

	(void)c;
	(void)expired;
	if (w->sync == NULL)
		return 0;
	encode_sync(kafka_coord_reply_begin(w, &mark), w->api_version, w->sync);
	return kafka_coord_reply_end(w, mark) == 0 ? 1 : ERR_NOMEM;
}

static int
handle_sync_group(struct kafka_req_ctx *ctx)
{
	struct kafka_sync_group_req req;
	struct kafka_group_sync_req rq;
	struct kafka_group_sync_result res;
	struct kafka_group_assignment_in *as;
	struct kafka_coord_waiter *w;
	int16_t ver = ctx->hdr.api_version;
	int32_t i;
	int rc;

	rc = kafka_decode_sync_group_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	as =
	    arena_calloc(ctx->arena, (size_t)req.nassignments + 1, sizeof(*as));
	w = arena_calloc(ctx->arena, 1, sizeof(*w));
	if (as == NULL || w == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < req.nassignments; i++) {
		as[i].member_id =
		    kafka_coord_bytes(req.assignments[i].member_id);
		as[i].assignment.p = req.assignments[i].assignment.p;
		as[i].assignment.len =
		    req.assignments[i].assignment.len > 0
		        ? (size_t)req.assignments[i].assignment.len
		        : 0;
	}
	memset(&rq, 0, sizeof(rq));
	rq.group_id = kafka_coord_bytes(req.group_id);
	rq.member_id = kafka_coord_bytes(req.member_id);
	rq.generation_id = req.generation_id;
	rq.protocol_type = kafka_coord_bytes(req.protocol_type);
	rq.protocol_name = kafka_coord_bytes(req.protocol_name);
	rq.nassignments = (size_t)req.nassignments;
	rq.assignments = as;

	w->kc = ctx->coord;
	w->conn = ctx->conn;
	w->api_key = ctx->hdr.api_key;
	w->api_version = ver;
	w->correlation_id = ctx->hdr.correlation_id;
	rc = kafka_group_sync(
	    kafka_coord_groups(ctx->coord), &rq, w, kafka_coord_now(), &res);
	kafka_coord_rearm(ctx->coord);
	if (rc == KAFKA_GROUP_WAIT)
		return kafka_coord_park(ctx, w, sync_answer);
	if (res.error != 0)
		log_cdebug(ctx->peer, "kafka: SyncGroup %.*s: %s",
		    (int)req.group_id.len, req.group_id.p,
		    kafka_err_name(res.error));
	kafka_reply_begin(ctx);
	encode_sync(ctx->w, ver, &res);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_sync_group_entry = {
    .api_key = KAFKA_API_SYNC_GROUP,
    .min_ver = KAFKA_SYNC_GROUP_MIN_VER,
    .max_ver = KAFKA_SYNC_GROUP_MAX_VER,
    .handle = handle_sync_group,
};
