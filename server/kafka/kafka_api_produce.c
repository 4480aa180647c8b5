/*
 * kafka_api_produce.c: (2') Produce (key 0), v3-v11: client batches into
 * the log (notes/kafka.md 2.3); v9+ are flexible.
 *
 * Each partition's records must be exactly one RecordBatch v2 that
 * kafka_batch_validate accepts (CRC-32C, lengths, offset deltas); the log
 * stores it verbatim but for baseOffset.  Compressed batches are refused
 * in the feed's topic (cfg->topic), whose records the aggregator reads,
 * and stored as they are elsewhere; ZSTD needs Produce v7, which Kafka
 * enforces, so it is refused everywhere here.  Topics are created on
 * first use.  acks=0 gets no response; as Kafka does, an error then
 * closes the connection so the producer notices and refreshes metadata.
 * Work per batch, never per record.
 */
#include <config.h>

#include <string.h>

#include "base/err.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "proto/kafka_records.h"
#include "server/config.h"
#include "server/kafka/kafka_api.h"
#include "server/log.h"
#include "server/stats.h"
#include "storage/seglog.h"

/* At most one warning per this many ms about refused compressed batches:
 * a misconfigured producer retries fast. */
#define PRODUCE_WARN_EVERY_MS 10000

/*
 * A producer that compresses into the feed topic gets error 76, which
 * older clients (kafka-python 2.0) show only as an unknown error: say
 * what to change, rate-limited.
 */
static void
warn_compressed(struct kafka_req_ctx *ctx, const char *topic)
{
	static int64_t last_ms;
	static unsigned suppressed;
	char cid[64];

	if (last_ms != 0 && ctx->now_ms - last_ms < PRODUCE_WARN_EVERY_MS) {
		suppressed++;
		return;
	}
	log_cwarn(ctx->peer,
	    "kafka: refused a compressed batch for %s from client \"%s\" "
	    "(%u more since the last warning): this topic takes "
	    "uncompressed batches only; set compression.type=none",
	    topic, kafka_client_id(&ctx->hdr, cid, sizeof(cid)), suppressed);
	last_ms = ctx->now_ms;
	suppressed = 0;
}

/* One partition: a Kafka error code, and *base on success. */
static int16_t
produce_part(struct kafka_req_ctx *ctx, struct seglog_topic *t,
    const struct kafka_produce_part *pp, int64_t *base)
{
	struct kafka_batch b;
	int kerr = 0, rc, codec;

	if (pp->partition < 0 || pp->partition >= seglog_topic_partitions(t))
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (pp->records.len <= 0)
		return KAFKA_ERR_CORRUPT_MESSAGE;
	if (kafka_batch_validate(
	        pp->records.p, (size_t)pp->records.len, &b, &kerr) != 0)
		return (int16_t)(kerr != 0 ? kerr : KAFKA_ERR_CORRUPT_MESSAGE);
	codec = b.attributes & KAFKA_ATTR_CODEC_MASK;
	if (codec != KAFKA_CODEC_NONE &&
	    strcmp(seglog_topic_name(t), ctx->cfg->topic) == 0) {
		warn_compressed(ctx, ctx->cfg->topic);
		return KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	}
	if (codec == KAFKA_CODEC_ZSTD &&
	    ctx->hdr.api_version < KAFKA_PRODUCE_V_ZSTD)
		return KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	rc = seglog_append(t, pp->partition, pp->records.p,
	    (size_t)pp->records.len, ctx->now_ms, base);
	switch (rc) {
	case 0:
		stats.kafka_produce_records_total += (uint64_t)b.record_count;
		return 0;
	case ERR_TOO_BIG:
		return KAFKA_ERR_MESSAGE_TOO_LARGE;
	case ERR_RANGE:
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	case ERR_MALFORMED:
		return KAFKA_ERR_CORRUPT_MESSAGE;
	default:
		/* The offset lease could not be persisted. */
		log_cwarn(ctx->peer, "kafka: append to %s/%d: %s",
		    seglog_topic_name(t), pp->partition, err_str(rc));
		return KAFKA_ERR_KAFKA_STORAGE_ERROR;
	}
}

static int
handle_produce(struct kafka_req_ctx *ctx)
{
	struct kafka_produce_req req;
	struct kafka_produce_resp resp;
	struct kafka_produce_topic_resp *rt;
	int16_t ver = ctx->hdr.api_version;
	int32_t i, j;
	int rc, any_error = 0, bad_acks;

	rc = kafka_decode_produce_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	bad_acks = req.acks != 0 && req.acks != 1 && req.acks != -1;
	rt = arena_calloc(ctx->arena, (size_t)req.ntopics + 1, sizeof(*rt));
	if (rt == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < req.ntopics; i++) {
		const struct kafka_produce_topic *pt = &req.topics[i];
		struct kafka_produce_part_resp *rp;
		struct seglog_topic *t = NULL;
		int16_t terr = 0;

		rp = arena_calloc(
		    ctx->arena, (size_t)pt->nparts + 1, sizeof(*rp));
		if (rp == NULL)
			return ERR_TOO_BIG;
		if (bad_acks)
			terr = KAFKA_ERR_INVALID_REQUIRED_ACKS;
		else
			terr = (int16_t)kafka_topic_lookup(
			    ctx, pt->name, 1, "Produce", &t);
		for (j = 0; j < pt->nparts; j++) {
			rp[j].partition = pt->parts[j].partition;
			rp[j].base_offset = -1;
			rp[j].log_append_time = -1;
			rp[j].log_start_offset = -1;
			rp[j].error = terr != 0
			                  ? terr
			                  : produce_part(ctx, t, &pt->parts[j],
			                        &rp[j].base_offset);
			if (rp[j].error != 0) {
				any_error = 1;
				rp[j].base_offset = -1;
			} else {
				rp[j].log_start_offset =
				    seglog_start_offset(t, rp[j].partition);
			}
		}
		rt[i].name = pt->name;
		rt[i].nparts = pt->nparts;
		rt[i].parts = rp;
	}
	if (req.acks == 0) {
		if (!any_error)
			return KAFKA_DONE;
		log_cinfo(ctx->peer, "kafka: an acks=0 Produce failed: closing "
		                     "the connection so the producer notices");
		return KAFKA_CLOSE;
	}
	memset(&resp, 0, sizeof(resp));
	resp.ntopics = req.ntopics;
	resp.topics = rt;
	kafka_reply_begin(ctx);
	kafka_encode_produce_resp(ctx->w, ver, &resp);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_produce_entry = {
    .api_key = KAFKA_API_PRODUCE,
    .min_ver = KAFKA_PRODUCE_MIN_VER,
    .max_ver = KAFKA_PRODUCE_MAX_VER,
    .handle = handle_produce,
};
