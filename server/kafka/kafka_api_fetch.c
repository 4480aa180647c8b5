/*
 * kafka_api_fetch.c: (2') Fetch (key 1), v4-v17: records to consumers, by
 * reference, with long polling (notes/kafka.md 3.2).  v12+ are flexible;
 * v13+ name topics by id (an unknown id: UNKNOWN_TOPIC_ID).  Incremental
 * fetch sessions (KIP-227, v7+) are never created: every response says
 * session 0, which tells the client to keep sending full fetches, and a
 * request naming a session gets FETCH_SESSION_ID_NOT_FOUND.
 *
 * A request becomes a plan (arena memory, holding no pointer into the
 * frame): per partition its topic, fetch offset and byte limit, in
 * request order.  Gathering the plan reads whole batches from the log as
 * spans: from the batch holding fetch_offset, within partition_max_bytes
 * and what is left of max_bytes, the first batch of the first non-empty
 * partition whole whatever its size (KIP-74).  An offset below the log
 * start or above the high watermark is OFFSET_OUT_OF_RANGE; the high
 * watermark itself is valid and empty.
 *
 * The answer goes out at once when it holds min_bytes, when a partition
 * has an error, or when max_wait_ms is 0.  Otherwise the connection parks
 * with a watch on each partition: the log's append hook (via
 * kafka_server_on_append) gathers again and answers as soon as min_bytes
 * are there, and the park timer answers with whatever is there after
 * max_wait_ms.
 *
 * The response frame is encoded in pieces around the record bytes, which
 * go to the socket with evbuffer_add_reference and a segment reference
 * dropped once written: no record byte is copied, and retention cannot
 * free a segment a slow consumer is still being sent.
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "base/err.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/stats.h"
#include "storage/seglog.h"

/* Spans per partition per response: a partition's bytes cross a segment
 * boundary at most this many times (more bytes wait for the next Fetch). */
#define FETCH_MAX_SPANS 4

struct fetch_part {
	struct seglog_topic *t; /* NULL: unknown (error is set for good) */
	int32_t partition;
	int16_t error;
	int64_t offset;
	int32_t max_bytes;
	int64_t hw;
	size_t bytes;
	int nspans;
	struct seglog_span spans[FETCH_MAX_SPANS];
	size_t woff; /* where its record bytes go in the response */
};

struct fetch_topic {
	char *name; /* arena copy: the frame is gone once parked */
	int32_t namelen;
	struct kafka_uuid id; /* v13+ */
	int32_t nparts;
	struct fetch_part *parts;
};

struct fetch_plan {
	int16_t ver;
	int32_t correlation_id;
	size_t min_bytes;
	size_t max_bytes;
	int32_t ntopics;
	struct fetch_topic *topics;
};

/* Read what each partition has now; sets *error when one has an error. */
static size_t
gather(struct fetch_plan *pl, int *error)
{
	size_t total = 0;
	int32_t i, j;

	*error = 0;
	for (i = 0; i < pl->ntopics; i++)
		for (j = 0; j < pl->topics[i].nparts; j++) {
			struct fetch_part *fp = &pl->topics[i].parts[j];
			size_t room;
			int64_t start;

			fp->bytes = 0;
			fp->nspans = 0;
			if (fp->t == NULL) {
				*error = 1;
				continue;
			}
			start = seglog_start_offset(fp->t, fp->partition);
			fp->hw = seglog_end_offset(fp->t, fp->partition);
			if (fp->offset < start || fp->offset > fp->hw) {
				fp->error = KAFKA_ERR_OFFSET_OUT_OF_RANGE;
				*error = 1;
				continue;
			}
			fp->error = 0;
			/* Neither budget goes below zero: the first batch
			 * may pass max_bytes (KIP-74), and a negative
			 * partition_max_bytes allows nothing beyond it. */
			room =
			    total < pl->max_bytes ? pl->max_bytes - total : 0;
			if (fp->max_bytes <= 0)
				room = 0;
			else if ((size_t)fp->max_bytes < room)
				room = (size_t)fp->max_bytes;
			fp->bytes = seglog_read(fp->t, fp->partition,
			    fp->offset, room, total == 0, fp->spans,
			    FETCH_MAX_SPANS, &fp->nspans);
			total += fp->bytes;
		}
	return total;
}

static void
unref_span(const void *data, size_t len, void *seg)
{
	seglog_seg_unref(seg);
}

/* Encode the response around the spans gathered and queue it. */
static int
send_response(struct kafka_conn *c, struct fetch_plan *pl, size_t total)
{
	struct wbuf *w = kafka_conn_wbuf(c);
	struct evbuffer *out = kafka_conn_output(c);
	size_t mark, prev = 0;
	int32_t i, j;
	int k;

	wbuf_reset(w);
	mark = kafka_frame_begin(w);
	kafka_encode_response_header(
	    w, KAFKA_API_FETCH, pl->ver, pl->correlation_id);
	kafka_encode_fetch_resp_head(w, pl->ver, 0, 0, 0, pl->ntopics);
	for (i = 0; i < pl->ntopics; i++) {
		struct fetch_topic *ft = &pl->topics[i];

		kafka_encode_fetch_topic_head(
		    w, pl->ver, ft->name, ft->namelen, &ft->id, ft->nparts);
		for (j = 0; j < ft->nparts; j++) {
			struct fetch_part *fp = &ft->parts[j];
			struct kafka_fetch_part_resp r;

			memset(&r, 0, sizeof(r));
			r.partition = fp->partition;
			r.error = fp->error;
			r.high_watermark = fp->t != NULL ? fp->hw : -1;
			r.last_stable_offset = r.high_watermark;
			r.log_start_offset =
			    fp->t != NULL
			        ? seglog_start_offset(fp->t, fp->partition)
			        : -1;
			r.preferred_read_replica = -1;
			r.records_len = (int32_t)fp->bytes;
			kafka_encode_fetch_part_head(w, pl->ver, &r);
			fp->woff = w->len;
			kafka_encode_fetch_part_tail(w, pl->ver);
		}
		kafka_encode_fetch_topic_tail(w, pl->ver);
	}
	kafka_encode_fetch_resp_tail(w, pl->ver);
	kafka_frame_end(w, mark, total);
	if (w->err != 0)
		return w->err;

	/* Header bytes are copied; record bytes are referenced. */
	for (i = 0; i < pl->ntopics; i++)
		for (j = 0; j < pl->topics[i].nparts; j++) {
			struct fetch_part *fp = &pl->topics[i].parts[j];

			if (fp->nspans == 0)
				continue;
			if (evbuffer_add(out, w->buf + prev, fp->woff - prev) !=
			    0)
				return ERR_NOMEM;
			prev = fp->woff;
			for (k = 0; k < fp->nspans; k++) {
				struct seglog_span *sp = &fp->spans[k];

				seglog_seg_ref(sp->seg);
				if (evbuffer_add_reference(out, sp->p, sp->len,
				        unref_span, sp->seg) != 0) {
					seglog_seg_unref(sp->seg);
					return ERR_NOMEM;
				}
			}
		}
	if (evbuffer_add(out, w->buf + prev, w->len - prev) != 0)
		return ERR_NOMEM;
	stats.kafka_fetch_bytes_total += total;
	return 0;
}

/* kafka_park_fn: an append to a watched partition, or the wait is over. */
static int
fetch_poll(struct kafka_conn *c, void *arg, int expired)
{
	struct fetch_plan *pl = arg;
	size_t total;
	int error, rc;

	total = gather(pl, &error);
	if (!expired && !error && total < pl->min_bytes)
		return 0;
	if ((rc = send_response(c, pl, total)) != 0)
		return rc;
	return 1;
}

static int
handle_fetch(struct kafka_req_ctx *ctx)
{
	struct kafka_fetch_req req;
	struct fetch_plan *pl;
	struct kafka_watch *watch;
	size_t total;
	int32_t i, j, nparts = 0, nwatch = 0;
	int rc, error;

	rc = kafka_decode_fetch_req(ctx->body, ctx->body_len,
	    ctx->hdr.api_version, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	if (req.session_id != 0) {
		/* No session was ever handed out (see the top). */
		kafka_reply_begin(ctx);
		kafka_encode_fetch_resp_head(ctx->w, ctx->hdr.api_version, 0,
		    KAFKA_ERR_FETCH_SESSION_ID_NOT_FOUND, 0, 0);
		kafka_encode_fetch_resp_tail(ctx->w, ctx->hdr.api_version);
		return kafka_reply_end(ctx);
	}
	pl = arena_calloc(ctx->arena, 1, sizeof(*pl));
	if (pl == NULL)
		return ERR_TOO_BIG;
	pl->ver = ctx->hdr.api_version;
	pl->correlation_id = ctx->hdr.correlation_id;
	pl->min_bytes = req.min_bytes > 0 ? (size_t)req.min_bytes : 0;
	/* One response may pass the output cap by at most one batch. */
	pl->max_bytes = req.max_bytes < 0 ? 0 : (size_t)req.max_bytes;
	if (pl->max_bytes > KAFKA_CONN_MAX_OUTPUT)
		pl->max_bytes = KAFKA_CONN_MAX_OUTPUT;
	pl->ntopics = req.ntopics;
	pl->topics = arena_calloc(
	    ctx->arena, (size_t)req.ntopics + 1, sizeof(*pl->topics));
	if (pl->topics == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < req.ntopics; i++) {
		const struct kafka_fetch_topic *qt = &req.topics[i];
		struct fetch_topic *ft = &pl->topics[i];
		struct seglog_topic *t = NULL;
		int terr;

		if (ctx->hdr.api_version >= KAFKA_FETCH_V_TOPIC_ID) {
			ft->id = qt->id;
			t = kafka_topic_by_id(ctx, &qt->id);
			terr = t != NULL ? 0 : KAFKA_ERR_UNKNOWN_TOPIC_ID;
		} else {
			terr =
			    kafka_topic_lookup(ctx, qt->name, 0, "Fetch", &t);
			if (terr != 0)
				terr = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
		ft->namelen = qt->name.len < 0 ? 0 : qt->name.len;
		ft->name = arena_alloc(ctx->arena, (size_t)ft->namelen + 1);
		ft->nparts = qt->nparts;
		ft->parts = arena_calloc(
		    ctx->arena, (size_t)qt->nparts + 1, sizeof(*ft->parts));
		if (ft->name == NULL || ft->parts == NULL)
			return ERR_TOO_BIG;
		if (ft->namelen > 0)
			memcpy(ft->name, qt->name.p, (size_t)ft->namelen);
		ft->name[ft->namelen] = '\0';
		for (j = 0; j < qt->nparts; j++) {
			const struct kafka_fetch_part *qp = &qt->parts[j];
			struct fetch_part *fp = &ft->parts[j];

			fp->partition = qp->partition;
			fp->offset = qp->fetch_offset;
			fp->max_bytes = qp->partition_max_bytes;
			fp->hw = -1;
			if (terr != 0 || qp->partition < 0 ||
			    qp->partition >= seglog_topic_partitions(t)) {
				fp->error =
				    terr != 0
				        ? (int16_t)terr
				        : KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			fp->t = t;
			nparts++;
		}
	}

	total = gather(pl, &error);
	if (error || total >= pl->min_bytes || req.max_wait_ms <= 0 ||
	    nparts == 0) {
		if ((rc = send_response(ctx->conn, pl, total)) != 0)
			return rc;
		return KAFKA_DONE;
	}

	/* Not enough yet: wait for appends to these partitions. */
	watch = arena_calloc(ctx->arena, (size_t)nparts, sizeof(*watch));
	if (watch == NULL)
		return ERR_TOO_BIG;
	for (i = 0; i < pl->ntopics; i++)
		for (j = 0; j < pl->topics[i].nparts; j++) {
			struct fetch_part *fp = &pl->topics[i].parts[j];

			if (fp->t == NULL)
				continue;
			watch[nwatch].t = fp->t;
			watch[nwatch].part = fp->partition;
			nwatch++;
		}
	return kafka_conn_park(
	    ctx, watch, nwatch, req.max_wait_ms, fetch_poll, pl);
}

const struct kafka_api_entry kafka_api_fetch_entry = {
    .api_key = KAFKA_API_FETCH,
    .min_ver = KAFKA_FETCH_MIN_VER,
    .max_ver = KAFKA_FETCH_MAX_VER,
    .handle = handle_fetch,
};
