/*
 * kafka_api_heartbeat.c: (2') Heartbeat (key 12), v0-v4: keeps a group
 * member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.
 */
#include <config.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"

static int
handle_heartbeat(struct kafka_req_ctx *ctx)
{
	struct kafka_heartbeat_req req;
	int16_t ver = ctx->hdr.api_version, err;
	int rc;

	rc = kafka_decode_heartbeat_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	err = kafka_group_heartbeat(kafka_coord_groups(ctx->coord),
	    kafka_coord_bytes(req.group_id), kafka_coord_bytes(req.member_id),
	    req.generation_id, kafka_coord_now());
	kafka_coord_rearm(ctx->coord);
	kafka_reply_begin(ctx);
	kafka_encode_heartbeat_resp(ctx->w, ver, 0, err);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_heartbeat_entry = {
    .api_key = KAFKA_API_HEARTBEAT,
    .min_ver = KAFKA_HEARTBEAT_MIN_VER,
    .max_ver = KAFKA_HEARTBEAT_MAX_VER,
    .handle = handle_heartbeat,
};
