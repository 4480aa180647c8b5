/*
 * kafka_api_list_offsets.c: (2') ListOffsets (key 2), v0-v1: where a
 * consumer starts.  -1 (latest) is the high watermark, -2 (earliest) the
 * log start, a timestamp the first record at or after it
 * (notes/kafka.md 3.3).  librdkafka 1.7 resets offsets with v0,
 * kafka-python and `kcat -o s@TS` use v1.  Unknown topics are not
 * created here: a consumer asking about one gets
 * UNKNOWN_TOPIC_OR_PARTITION and refreshes its metadata.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "server/kafka/kafka_api.h"
#include "storage/seglog.h"

static void
list_part(struct seglog_topic *t, const struct kafka_list_offsets_part *rq,
    struct kafka_list_offsets_part_resp *rp)
{
	rp->partition = rq->partition;
	rp->timestamp = -1;
	rp->offset = -1;
	if (t == NULL || rq->partition < 0 ||
	    rq->partition >= seglog_topic_partitions(t)) {
		rp->error = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	rp->error = 0;
	if (rq->timestamp == KAFKA_OFFSET_LATEST)
		rp->offset = seglog_end_offset(t, rq->partition);
	else if (rq->timestamp == KAFKA_OFFSET_EARLIEST)
		rp->offset = seglog_start_offset(t, rq->partition);
	else
		rp->offset = seglog_offset_for_time(
		    t, rq->partition, rq->timestamp, &rp->timestamp);
}

static int
handle_list_offsets(struct kafka_req_ctx *ctx)
{
	struct kafka_list_offsets_req req;
	struct kafka_list_offsets_resp resp;
	struct kafka_list_offsets_topic_resp *rt;
	int16_t ver = ctx->hdr.api_version;
	int32_t i, j;
	int rc;

	rc = kafka_decode_list_offsets_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	rt = arena_calloc(ctx->arena, (size_t)req.ntopics + 1, sizeof(*rt));
	if (rt == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < req.ntopics; i++) {
		const struct kafka_list_offsets_topic *qt = &req.topics[i];
		struct kafka_list_offsets_part_resp *rp;
		struct seglog_topic *t = NULL;

		rp = arena_calloc(
		    ctx->arena, (size_t)qt->nparts + 1, sizeof(*rp));
		if (rp == NULL)
			return ERR_TOO_BIG;
		(void)kafka_topic_lookup(ctx, qt->name, 0, "ListOffsets", &t);
		for (j = 0; j < qt->nparts; j++)
			list_part(t, &qt->parts[j], &rp[j]);
		rt[i].name = qt->name;
		rt[i].nparts = qt->nparts;
		rt[i].parts = rp;
	}
	memset(&resp, 0, sizeof(resp));
	resp.ntopics = req.ntopics;
	resp.topics = rt;
	kafka_reply_begin(ctx);
	kafka_encode_list_offsets_resp(ctx->w, ver, &resp);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_list_offsets_entry = {
    .api_key = KAFKA_API_LIST_OFFSETS,
    .min_ver = 0,
    .max_ver = 1,
    .handle = handle_list_offsets,
};
