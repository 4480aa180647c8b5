/*
 * kafka_api_list_offsets.c: (2') ListOffsets (key 2), v0-v9: where a
 * consumer starts.  -1 (latest) is the high watermark, -2 (earliest) the
 * log start, a timestamp the first record at or after it
 * (notes/kafka.md 3.3); from v7, -3 is the record with the largest
 * timestamp; from v8, -4 (earliest local) is the log start, there being
 * no tiered storage; from v9, -5 (latest tiered) finds nothing (-1), as
 * Kafka answers without tiered storage.  librdkafka 1.7 resets offsets
 * with v0, kafka-python and `kcat -o s@TS` use v1.  Unknown topics are
 * not created here: a consumer asking about one gets
 * UNKNOWN_TOPIC_OR_PARTITION and refreshes its metadata.  Leader epochs
 * are -1 (unknown), as in Metadata.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "server/kafka/kafka_api.h"
#include "storage/seglog.h"

static void
list_part(struct seglog_topic *t, int16_t ver,
    const struct kafka_list_offsets_part *rq,
    struct kafka_list_offsets_part_resp *rp)
{
	int64_t ts;

	rp->partition = rq->partition;
	rp->timestamp = -1;
	rp->offset = -1;
	rp->leader_epoch = -1;
	if (t == NULL || rq->partition < 0 ||
	    rq->partition >= seglog_topic_partitions(t)) {
		rp->error = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	rp->error = 0;
	if (rq->timestamp == KAFKA_OFFSET_LATEST)
		rp->offset = seglog_end_offset(t, rq->partition);
	else if (rq->timestamp == KAFKA_OFFSET_EARLIEST ||
	         (rq->timestamp == KAFKA_OFFSET_EARLIEST_LOCAL && ver >= 8))
		rp->offset = seglog_start_offset(t, rq->partition);
	else if (rq->timestamp == KAFKA_OFFSET_LATEST_TIERED && ver >= 9)
		rp->offset = -1;
	else if (rq->timestamp == KAFKA_OFFSET_MAX_TIMESTAMP &&
	         ver >= KAFKA_LIST_OFFSETS_V_MAX_TS) {
		ts = seglog_max_timestamp(t, rq->partition);
		if (ts >= 0)
			rp->offset = seglog_offset_for_time(
			    t, rq->partition, ts, &rp->timestamp);
	} else
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
			list_part(t, ver, &qt->parts[j], &rp[j]);
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
    .min_ver = KAFKA_LIST_OFFSETS_MIN_VER,
    .max_ver = KAFKA_LIST_OFFSETS_MAX_VER,
    .handle = handle_list_offsets,
};
