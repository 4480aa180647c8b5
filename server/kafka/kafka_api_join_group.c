/*
 * kafka_api_join_group.c: (2') JoinGroup (key 11), v0-v9: a member joins
 * (or rejoins) a consumer group and waits, parked, until the rebalance
 * completes (kafka_group.h); the leader's answer lists every member with
 * its subscription so the client can compute the assignment.  v4+ new
 * members first get MEMBER_ID_REQUIRED with their id (KIP-394).
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"
#include "server/log.h"

/* The wire response of result r (member arrays from a). */
static int
encode_join(struct wbuf *w, int16_t ver,
    const struct kafka_group_join_result *r, struct arena *a)
{
	struct kafka_join_group_resp resp;
	struct kafka_join_group_member *m = NULL;
	size_t i;

	memset(&resp, 0, sizeof(resp));
	if (r->nmembers > 0 &&
	    (m = arena_calloc(a, r->nmembers, sizeof(*m))) == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < r->nmembers; i++) {
		m[i].member_id = kafka_coord_str(r->members[i].member_id);
		m[i].group_instance_id =
		    kafka_coord_str(r->members[i].instance_id);
		m[i].metadata.p = r->members[i].metadata;
		m[i].metadata.len = (int32_t)r->members[i].metadata_len;
	}
	resp.error = r->error;
	resp.generation_id = r->generation_id;
	resp.protocol_type = kafka_coord_str(r->protocol_type);
	resp.protocol_name = kafka_coord_str(r->protocol_name);
	if (ver < 7 && resp.protocol_name.len < 0)
		resp.protocol_name = kafka_coord_str("");
	resp.leader = kafka_coord_str(r->leader_id);
	resp.member_id = kafka_coord_str(r->member_id);
	resp.nmembers = (int32_t)r->nmembers;
	resp.members = m;
	kafka_encode_join_group_resp(w, ver, &resp);
	return 0;
}

/* kafka_park_fn: the rebalance completed (or this member is out). */
static int
join_answer(struct kafka_conn *c, void *arg, int expired)
{
	struct kafka_coord_waiter *w = arg;
	struct wbuf *b;
	size_t mark;
	int rc;

	(void)expired;
	if (w->join == NULL)
		return 0;
	b = kafka_coord_reply_begin(w, &mark);
	if ((rc = encode_join(
	         b, w->api_version, w->join, kafka_conn_arena(c))) != 0)
		return rc;
	return kafka_coord_reply_end(w, mark) == 0 ? 1 : ERR_NOMEM;
}

static int
handle_join_group(struct kafka_req_ctx *ctx)
{
	struct kafka_join_group_req req;
	struct kafka_group_join_req rq;
	struct kafka_group_join_result res;
	struct kafka_group_protocol_in *protos;
	struct kafka_coord_waiter *w;
	char host[80];
	int16_t ver = ctx->hdr.api_version;
	int32_t i;
	int rc;

	rc = kafka_decode_join_group_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	protos = arena_calloc(
	    ctx->arena, (size_t)req.nprotocols + 1, sizeof(*protos));
	w = arena_calloc(ctx->arena, 1, sizeof(*w));
	if (protos == NULL || w == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < req.nprotocols; i++) {
		protos[i].name = kafka_coord_bytes(req.protocols[i].name);
		protos[i].metadata.p = req.protocols[i].metadata.p;
		protos[i].metadata.len =
		    req.protocols[i].metadata.len > 0
		        ? (size_t)req.protocols[i].metadata.len
		        : 0;
	}
	memset(&rq, 0, sizeof(rq));
	rq.group_id = kafka_coord_bytes(req.group_id);
	rq.member_id = kafka_coord_bytes(req.member_id);
	rq.instance_id = kafka_coord_bytes(req.group_instance_id);
	rq.client_id = kafka_coord_bytes(ctx->hdr.client_id);
	rq.client_host = kafka_coord_bytes(kafka_coord_str(
	    kafka_coord_client_host(ctx->peer, host, sizeof(host))));
	rq.protocol_type = kafka_coord_bytes(req.protocol_type);
	rq.session_timeout_ms = req.session_timeout_ms;
	rq.rebalance_timeout_ms = req.rebalance_timeout_ms;
	rq.nprotocols = (size_t)req.nprotocols;
	rq.protocols = protos;
	rq.require_known_member_id = ver >= KAFKA_JOIN_GROUP_V_MEMBER_ID;

	w->kc = ctx->coord;
	w->conn = ctx->conn;
	w->api_key = ctx->hdr.api_key;
	w->api_version = ver;
	w->correlation_id = ctx->hdr.correlation_id;
	rc = kafka_group_join(
	    kafka_coord_groups(ctx->coord), &rq, w, kafka_coord_now(), &res);
	kafka_coord_rearm(ctx->coord);
	if (rc == KAFKA_GROUP_WAIT)
		return kafka_coord_park(ctx, w, join_answer);
	if (res.error != 0 && res.error != KAFKA_ERR_MEMBER_ID_REQUIRED)
		log_cdebug(ctx->peer, "kafka: JoinGroup %.*s: %s",
		    (int)req.group_id.len, req.group_id.p,
		    kafka_err_name(res.error));
	kafka_reply_begin(ctx);
	if ((rc = encode_join(ctx->w, ver, &res, ctx->arena)) != 0)
		return rc;
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_join_group_entry = {
    .api_key = KAFKA_API_JOIN_GROUP,
    .min_ver = KAFKA_JOIN_GROUP_MIN_VER,
    .max_ver = KAFKA_JOIN_GROUP_MAX_VER,
    .handle = handle_join_group,
};
