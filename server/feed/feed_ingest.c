/*
 * feed_ingest.c: (1) -> (2): Finnhub messages to RecordBatches in the log.
 *
 * The hot path of the feed: per message, one pass of the bounded scanner
 * (proto/feed.c) into a preallocated trade array, then per trade one
 * value encode into a stack buffer and one record into its partition's
 * batch encoder; per partition touched, one seglog_append.  Nothing is
 * allocated per trade or per message: every buffer below is sized once,
 * from INGEST_MAX_MSG.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/feed.h"
#include "proto/kafka_records.h"
#include "proto/murmur2.h"
#include "proto/wbuf.h"
#include "server/feed/feed_ingest.h"
#include "server/log.h"
#include "server/stats.h"

/* A trade object takes at least FEED_MIN_TRADE_BYTES of JSON, so this many
 * trades always fit a message of INGEST_MAX_MSG bytes. */
#define INGEST_MAX_TRADES (INGEST_MAX_MSG / FEED_MIN_TRADE_BYTES + 1)
/* The value `{"s":..,"p":..,"v":..,"t":..,"c":..}` of one trade. */
#define INGEST_MAX_VALUE 4096

struct feed_ingest_part {
	struct wbuf w;
	struct kafka_batch_enc enc;
	int n; /* records in the open batch */
};

struct feed_ingest {
	struct seglog_topic *topic;
	int npart;
	struct feed_ingest_part *parts;
	int *touched; /* partitions with an open batch, in first-use order */
	struct feed_trade *trades;
	char *scratch;
	char last_error[256];
};

struct feed_ingest *
feed_ingest_new(struct seglog_topic *topic)
{
	struct feed_ingest *in;
	int i;

	in = xcalloc(1, sizeof(*in));
	in->topic = topic;
	in->npart = seglog_topic_partitions(topic);
	in->parts = xcalloc((size_t)in->npart, sizeof(*in->parts));
	for (i = 0; i < in->npart; i++)
		wbuf_init(&in->parts[i].w, 0);
	in->touched = xcalloc((size_t)in->npart, sizeof(*in->touched));
	in->trades = xcalloc(INGEST_MAX_TRADES, sizeof(*in->trades));
	in->scratch = xmalloc(INGEST_MAX_MSG);
	return in;
}

void
feed_ingest_free(struct feed_ingest *in)
{
	int i;

	if (in == NULL)
		return;
	for (i = 0; i < in->npart; i++)
		wbuf_fini(&in->parts[i].w);
	free(in->parts);
	free(in->touched);
	free(in->trades);
	free(in->scratch);
	free(in);
}

const char *
feed_ingest_last_error(const struct feed_ingest *in)
{
	return in->last_error;
}

int
feed_ingest_message(
    struct feed_ingest *in, const uint8_t *msg, size_t len, int64_t recv_us)
{
	uint8_t value[INGEST_MAX_VALUE];
	struct feed_msg fm;
	size_t i, vlen, err_off = 0;
	int rc, ntouched = 0, appended = 0, k;

	stats.feed_frames_total++;
	stats.feed_bytes_total += len;
	if (len > INGEST_MAX_MSG) {
		stats.feed_bad_frames_total++;
		log_warn("feed: message of %zu bytes over the %zu limit: "
		         "skipped",
		    len, INGEST_MAX_MSG);
		return ERR_TOO_BIG;
	}
	rc = feed_decode(msg, len, &fm, in->trades, INGEST_MAX_TRADES,
	    in->scratch, INGEST_MAX_MSG, &err_off);
	if (rc < 0) {
		stats.feed_bad_frames_total++;
		log_debug("feed: bad message (%s at byte %zu of %zu): skipped",
		    err_str(rc), err_off, len);
		return rc;
	}
	switch (fm.type) {
	case FEED_MSG_TRADE:
		break;
	case FEED_MSG_PING:
		stats.feed_pings_total++;
		return 0;
	case FEED_MSG_ERROR:
		stats.feed_errors_total++;
		snprintf(in->last_error, sizeof(in->last_error), "%.*s",
		    (int)fm.err.len, fm.err.p);
		log_warn("feed: Finnhub error: %s", in->last_error);
		return 0;
	default:
		log_debug("feed: ignoring a message of another type");
		return 0;
	}
	for (i = 0; i < fm.ntrades; i++) {
		const struct feed_trade *t = &in->trades[i];
		struct feed_ingest_part *pp;
		int part;

		if (!t->valid ||
		    (vlen = feed_trade_value(t, value, sizeof(value))) == 0) {
			stats.feed_bad_trades_total++;
			continue;
		}
		part = murmur2_partition(t->s.p, t->s.len, in->npart);
		pp = &in->parts[part];
		if (pp->n == 0) {
			wbuf_reset(&pp->w);
			kafka_batch_enc_begin(&pp->enc, &pp->w, t->t);
			in->touched[ntouched++] = part;
		}
		kafka_batch_enc_add(&pp->enc, t->s.p, (int32_t)t->s.len, value,
		    (int32_t)vlen, t->t);
		pp->n++;
	}
	for (k = 0; k < ntouched; k++) {
		struct feed_ingest_part *pp = &in->parts[in->touched[k]];
		int64_t base;

		kafka_batch_enc_end(&pp->enc);
		if (pp->w.err != 0) {
			log_err(
			    "feed: encoding a batch: %s", err_str(pp->w.err));
			stats.feed_bad_trades_total += (uint64_t)pp->n;
		} else if ((rc = seglog_append(in->topic, in->touched[k],
		                pp->w.buf, pp->w.len, recv_us / 1000, &base)) !=
		           0) {
			log_err("feed: append to %s/%d: %s",
			    seglog_topic_name(in->topic), in->touched[k],
			    err_str(rc));
			stats.feed_bad_trades_total += (uint64_t)pp->n;
		} else {
			appended += pp->n;
		}
		pp->n = 0;
	}
	stats.feed_trades_total += (uint64_t)appended;
	return appended;
}
