/*
 * kafka_api_list_groups.c: (2') ListGroups (key 16), v0-v5: every group
 * this broker coordinates (kafka-consumer-groups --list): those with
 * members, and those known only by their committed offsets (Empty).
 * v4+ filter by state, v5+ by type; every group here is of type
 * "classic" (the JoinGroup/SyncGroup protocol).
 */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "server/kafka/kafka_group.h"
#include "storage/groupstore.h"

/* 1 when filter is empty or holds name (case-insensitive, as Kafka). */
static int
listed(const struct kafka_str *filter, int32_t n, const char *name)
{
	size_t len = strlen(name);
	int32_t i;

	if (n <= 0)
		return 1;
	for (i = 0; i < n; i++)
		if (filter[i].len >= 0 && (size_t)filter[i].len == len &&
		    strncasecmp(filter[i].p, name, len) == 0)
			return 1;
	return 0;
}

static int
handle_list_groups(struct kafka_req_ctx *ctx)
{
	struct kafka_list_groups_req req;
	struct kafka_group_coord *co = kafka_coord_groups(ctx->coord);
	struct groupstore *gs = kafka_coord_store(ctx->coord);
	struct kafka_group_summary s;
	struct kafka_listed_group *out;
	const char *id;
	int16_t ver = ctx->hdr.api_version;
	size_t i, n = 0, cap = 0;
	int rc;

	rc = kafka_decode_list_groups_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	while (kafka_group_at(co, cap, &s))
		cap++;
	while (groupstore_group_at(gs, n) != NULL)
		n++;
	cap += n;
	if ((out = arena_calloc(ctx->arena, cap + 1, sizeof(*out))) == NULL)
		return ERR_TOO_BIG;
	n = 0;
	for (i = 0; kafka_group_at(co, i, &s); i++) {
		const char *state = kafka_group_state_name(s.state);

		if (!listed(req.states, req.nstates, state) ||
		    !listed(req.types, req.ntypes, "classic"))
			continue;
		out[n].group_id = kafka_coord_str(s.group_id);
		out[n].protocol_type = kafka_coord_str(s.protocol_type);
		out[n].state = kafka_coord_str(state);
		out[n].type = kafka_coord_str("classic");
		n++;
	}
	/* Groups known only by their commits (e.g. after a restart). */
	for (i = 0; (id = groupstore_group_at(gs, i)) != NULL; i++) {
		struct kafka_group_bytes b = {id, strlen(id)};

		if (kafka_group_describe(co, b, &s) ||
		    !listed(req.states, req.nstates, "Empty") ||
		    !listed(req.types, req.ntypes, "classic"))
			continue;
		out[n].group_id = kafka_coord_str(id);
		out[n].protocol_type = kafka_coord_str("consumer");
		out[n].state = kafka_coord_str("Empty");
		out[n].type = kafka_coord_str("classic");
		n++;
	}
	kafka_reply_begin(ctx);
	kafka_encode_list_groups_resp(ctx->w, ver, 0, 0, out, (int32_t)n);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_list_groups_entry = {
    .api_key = KAFKA_API_LIST_GROUPS,
    .min_ver = KAFKA_LIST_GROUPS_MIN_VER,
    .max_ver = KAFKA_LIST_GROUPS_MAX_VER,
    .handle = handle_list_groups,
};
