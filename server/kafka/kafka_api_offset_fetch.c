/*
 * kafka_api_offset_fetch.c: (2') OffsetFetch (key 9), v1-v9: a group's
 * committed offsets, from storage/groupstore.  A partition without a
 * commit answers offset -1, metadata "" and no error, and the client then
 * applies auto.offset.reset.  A null topic list (v2+) means every topic
 * the group committed; v8+ ask for several groups at once.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_coord.h"
#include "storage/groupstore.h"

static void
fill_part(struct groupstore *gs, const struct kafka_offset_fetch_group *g,
    struct kafka_str topic, int32_t partition, struct kafka_fetched_part *r)
{
	struct groupstore_commit c;

	r->partition = partition;
	r->offset = -1;
	r->leader_epoch = -1;
	r->metadata = kafka_coord_str("");
	if (g->group_id.len > 0 && topic.len > 0 &&
	    groupstore_get(gs, g->group_id.p, (size_t)g->group_id.len, topic.p,
	        (size_t)topic.len, partition, &c)) {
		r->offset = c.offset;
		r->leader_epoch = c.leader_epoch;
		r->metadata.p = c.metadata;
		r->metadata.len = c.metadata_len;
	}
}

/* Every committed (topic, partition) of g, topics in order. */
static int
fill_all(
    struct groupstore *gs, struct kafka_offset_fetch_group *g, struct arena *a)
{
	const struct groupstore_entry *e;
	size_t n = 0, i, k, nt = 0;

	if (g->group_id.len > 0)
		n = groupstore_entries(
		    gs, g->group_id.p, (size_t)g->group_id.len, &e);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(e[i].topic, e[i - 1].topic) != 0)
			nt++;
	g->topics = arena_calloc(a, nt + 1, sizeof(*g->topics));
	if (g->topics == NULL)
		return ERR_TOO_BIG;
	g->ntopics = 0;
	for (i = 0; i < n; i = k) {
		struct kafka_offset_fetch_topic *t = &g->topics[g->ntopics++];
		size_t m;

		for (k = i; k < n && strcmp(e[k].topic, e[i].topic) == 0; k++)
			;
		t->name = kafka_coord_str(e[i].topic);
		t->nparts = (int32_t)(k - i);
		t->results = arena_calloc(a, k - i, sizeof(*t->results));
		if (t->results == NULL)
			return ERR_TOO_BIG;
		for (m = 0; m < k - i; m++) {
			struct kafka_fetched_part *r = &t->results[m];

			r->partition = e[i + m].partition;
			r->offset = e[i + m].c.offset;
			r->leader_epoch = e[i + m].c.leader_epoch;
			r->metadata.p = e[i + m].c.metadata;
			r->metadata.len = e[i + m].c.metadata_len;
		}
	}
	return 0;
}

static int
handle_offset_fetch(struct kafka_req_ctx *ctx)
{
	struct kafka_offset_fetch_req req;
	struct groupstore *gs = kafka_coord_store(ctx->coord);
	int16_t ver = ctx->hdr.api_version;
	int32_t i, j, k;
	int rc;

	rc = kafka_decode_offset_fetch_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	for (i = 0; i < req.ngroups; i++) {
		struct kafka_offset_fetch_group *g = &req.groups[i];

		g->error = g->group_id.len > 0 ? 0 : KAFKA_ERR_INVALID_GROUP_ID;
		if (g->ntopics < 0) {
			if ((rc = fill_all(gs, g, ctx->arena)) != 0)
				return rc;
			continue;
		}
		for (j = 0; j < g->ntopics; j++) {
			struct kafka_offset_fetch_topic *t = &g->topics[j];

			t->results = arena_calloc(ctx->arena,
			    (size_t)t->nparts + 1, sizeof(*t->results));
			if (t->results == NULL)
				return ERR_TOO_BIG;
			for (k = 0; k < t->nparts; k++)
				fill_part(gs, g, t->name, t->parts[k],
				    &t->results[k]);
		}
	}
	kafka_reply_begin(ctx);
	kafka_encode_offset_fetch_resp(ctx->w, ver, 0, req.groups, req.ngroups);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_offset_fetch_entry = {
    .api_key = KAFKA_API_OFFSET_FETCH,
    .min_ver = KAFKA_OFFSET_FETCH_MIN_VER,
    .max_ver = KAFKA_OFFSET_FETCH_MAX_VER,
    .handle = handle_offset_fetch,
};
