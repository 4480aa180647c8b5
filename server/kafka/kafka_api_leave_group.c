/*
 * kafka_api_leave_group.c: (2') LeaveGroup (key 13), v0-v5: members
 * leave (one before v3, a batch from v3, named by member id or by
 * group.instance.id); the group rebalances without them at once instead
 * of waiting for their sessions to run out.
 */
#include <config.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"
#include "server/log.h"

static int
handle_leave_group(struct kafka_req_ctx *ctx)
{
	struct kafka_leave_group_req req;
	int16_t ver = ctx->hdr.api_version, top = 0;
	int32_t i;
	int rc;

	rc = kafka_decode_leave_group_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	for (i = 0; i < req.nmembers; i++) {
		struct kafka_leave_member *m = &req.members[i];

		m->error = kafka_group_leave(kafka_coord_groups(ctx->coord),
		    kafka_coord_bytes(req.group_id),
		    kafka_coord_bytes(m->member_id),
		    kafka_coord_bytes(m->group_instance_id), kafka_coord_now());
		log_cdebug(ctx->peer,
		    "kafka: member %.*s leaves group %.*s: %s",
		    (int)(m->member_id.len > 0 ? m->member_id.len : 0),
		    m->member_id.p, (int)req.group_id.len, req.group_id.p,
		    kafka_err_name(m->error));
	}
	kafka_coord_rearm(ctx->coord);
	/* Before v3 the one member's error is the response's. */
	if (ver < 3 && req.nmembers == 1)
		top = req.members[0].error;
	kafka_reply_begin(ctx);
	kafka_encode_leave_group_resp(
	    ctx->w, ver, 0, top, req.members, req.nmembers);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_leave_group_entry = {
    .api_key = KAFKA_API_LEAVE_GROUP,
    .min_ver = KAFKA_LEAVE_GROUP_MIN_VER,
    .max_ver = KAFKA_LEAVE_GROUP_MAX_VER,
    .handle = handle_leave_group,
};
