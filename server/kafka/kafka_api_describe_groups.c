/*
 * kafka_api_describe_groups.c: (2') DescribeGroups (key 15), v0-v5: each
 * group's state, protocol and members (with their subscriptions and
 * assignments once Stable), for tooling (kafka-consumer-groups
 * --describe, kafkajs's describeGroups).  A group with committed offsets
 * and no members is Empty; a group this broker never heard of is "Dead"
 * with no error, as Kafka answers these versions.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "proto/kafka_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"
#include "storage/groupstore.h"

/* What a group allows here (no ACLs): read and describe. */
#define GROUP_OPS ((1 << KAFKA_ACL_OP_READ) | (1 << KAFKA_ACL_OP_DESCRIBE))

static int
describe(struct kafka_req_ctx *ctx, struct kafka_str id, int ops,
    struct kafka_described_group *d)
{
	struct kafka_group_summary s;
	const struct groupstore_entry *e;
	struct kafka_described_member *m;
	size_t i;

	memset(d, 0, sizeof(*d));
	d->group_id = id;
	d->authorized_ops = ops ? GROUP_OPS : KAFKA_AUTHORIZED_OPS_OMITTED;
	if (!kafka_group_describe(
	        kafka_coord_groups(ctx->coord), kafka_coord_bytes(id), &s)) {
		int stored = id.len > 0 &&
		             groupstore_entries(kafka_coord_store(ctx->coord),
		                 id.p, (size_t)id.len, &e) > 0;

		d->state = kafka_coord_str(kafka_group_state_name(
		    stored ? KAFKA_GROUP_EMPTY : KAFKA_GROUP_DEAD));
		d->protocol_type = kafka_coord_str(stored ? "consumer" : "");
		d->protocol_data = kafka_coord_str("");
		return 0;
	}
	d->state = kafka_coord_str(kafka_group_state_name(s.state));
	d->protocol_type = kafka_coord_str(s.protocol_type);
	d->protocol_data = kafka_coord_str(s.protocol_name);
	m = arena_calloc(ctx->arena, s.nmembers + 1, sizeof(*m));
	if (m == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < s.nmembers; i++) {
		const struct kafka_group_member_view *v = &s.members[i];

		m[i].member_id = kafka_coord_str(v->member_id);
		m[i].group_instance_id = kafka_coord_str(v->instance_id);
		m[i].client_id = kafka_coord_str(v->client_id);
		m[i].client_host = kafka_coord_str(v->client_host);
		m[i].metadata.p = v->metadata;
		m[i].metadata.len = (int32_t)v->metadata_len;
		m[i].assignment.p = v->assignment;
		m[i].assignment.len = (int32_t)v->assignment_len;
	}
	d->nmembers = (int32_t)s.nmembers;
	d->members = m;
	return 0;
}

static int
handle_describe_groups(struct kafka_req_ctx *ctx)
{
	struct kafka_describe_groups_req req;
	struct kafka_described_group *d;
	int16_t ver = ctx->hdr.api_version;
	int32_t i;
	int rc;

	rc = kafka_decode_describe_groups_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	d = arena_calloc(ctx->arena, (size_t)req.ngroups + 1, sizeof(*d));
	if (d == NULL)
		return ERR_TOO_BIG;
	/* describe copies what the member views point to (member-owned
	 * strings and payloads), so the next group's views may reuse them. */
	for (i = 0; i < req.ngroups; i++)
		if ((rc = describe(ctx, req.groups[i],
		         req.include_authorized_ops, &d[i])) != 0)
			return rc;
	kafka_reply_begin(ctx);
	kafka_encode_describe_groups_resp(ctx->w, ver, 0, d, req.ngroups);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_describe_groups_entry = {
    .api_key = KAFKA_API_DESCRIBE_GROUPS,
    .min_ver = KAFKA_DESCRIBE_GROUPS_MIN_VER,
    .max_ver = KAFKA_DESCRIBE_GROUPS_MAX_VER,
    .handle = handle_describe_groups,
};
