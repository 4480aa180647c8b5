/*
 * kafka_msgs.c: request decoders and response encoders per Kafka API (see
 * kafka_msgs.h).
 *
 * Each codec is written field by field in wire order with the version that
 * introduced a field next to it (`if (ver >= 5)`), mirroring the "versions"
 * annotations of Kafka's JSON message schemas, so widening a range means
 * adding the new fields where they belong.  Flexible versions go through
 * the f-primitives and a tag buffer at the end of every struct.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_msgs.h"
#include "proto/kafka_msgs_int.h"

/* ------------------------------------------------------------------ */
/* ApiVersions */

int
kafka_decode_api_versions_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_api_versions_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	out->client_software_name.len = -1;
	out->client_software_version.len = -1;
	if ((rc = dec_begin(&d, p, n, KAFKA_API_API_VERSIONS, ver,
	         KAFKA_API_VERSIONS_MIN_VER, KAFKA_API_VERSIONS_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	if (ver >= 3) {
		out->client_software_name = kafka_rd_fstr(&d.r, d.flex);
		out->client_software_version = kafka_rd_fstr(&d.r, d.flex);
	}
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_api_versions_resp(struct wbuf *w, int16_t ver, int16_t error,
    const struct kafka_api_range *apis, int napis, int32_t throttle_ms)
{
	int flex = kafka_request_flexible(KAFKA_API_API_VERSIONS, ver);
	int i;

	wbuf_i16(w, error);
	kafka_wr_farray(w, flex, napis);
	for (i = 0; i < napis; i++) {
		wbuf_i16(w, apis[i].key);
		wbuf_i16(w, apis[i].min_ver);
		wbuf_i16(w, apis[i].max_ver);
		kafka_wr_ftags(w, flex);
	}
	if (ver >= 1)
		wbuf_i32(w, throttle_ms);
	kafka_wr_ftags(w, flex);
}

void
kafka_encode_api_versions_unsupported(
    struct wbuf *w, const struct kafka_api_range *apis, int napis)
{
	kafka_encode_api_versions_resp(
	    w, 0, KAFKA_ERR_UNSUPPORTED_VERSION, apis, napis, 0);
}

/* ------------------------------------------------------------------ */
/* Metadata */

int
kafka_decode_metadata_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_metadata_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int32_t i, cnt;
	int rc;

	memset(out, 0, sizeof(*out));
	out->allow_auto_topic_creation = 1;
	if ((rc = dec_begin(&d, p, n, KAFKA_API_METADATA, ver,
	         KAFKA_METADATA_MIN_VER, KAFKA_METADATA_MAX_VER, a, err_off)) !=
	    0)
		return rc;
	cnt = kafka_rd_farray(&d.r, d.flex,
	    (ver >= KAFKA_METADATA_V_TOPIC_ID ? KAFKA_UUID_LEN : 0) +
	        MIN_STR(d.flex) + MIN_TAGS(d.flex));
	if (!d.r.err && cnt > KAFKA_MAX_ARRAY)
		rbuf_fail(&d.r, ERR_TOO_BIG);
	if (cnt < 0) {
		/* Null means "all topics" from v1; v0 had no nullable form. */
		if (ver == 0)
			rbuf_fail(&d.r, ERR_MALFORMED);
		out->all_topics = 1;
		cnt = 0;
	} else if (cnt == 0 && ver == 0) {
		out->all_topics = 1;
	}
	out->topics = dec_array(&d, cnt, sizeof(*out->topics));
	if (ver >= KAFKA_METADATA_V_TOPIC_ID)
		out->topic_ids = dec_array(&d, cnt, sizeof(*out->topic_ids));
	for (i = 0; i < cnt && !d.r.err; i++) {
		dec_mark(&d);
		if (ver >= KAFKA_METADATA_V_TOPIC_ID) {
			/* A topic may be named by id, name, or both. */
			out->topic_ids[i] = kafka_rd_uuid(&d.r);
			out->topics[i] = kafka_rd_fnstr(&d.r, d.flex);
		} else {
			out->topics[i] = kafka_rd_fstr(&d.r, d.flex);
		}
		kafka_rd_ftags(&d.r, d.flex);
	}
	if (!d.r.err)
		out->ntopics = cnt;
	dec_mark(&d);
	if (ver >= 4)
		out->allow_auto_topic_creation = rbuf_u8(&d.r) != 0;
	if (ver >= 8 && ver <= 10)
		out->include_cluster_ops = rbuf_u8(&d.r) != 0;
	if (ver >= 8)
		out->include_topic_ops = rbuf_u8(&d.r) != 0;
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

static void
wr_int32_array(struct wbuf *w, int flex, int32_t n, const int32_t *v)
{
	int32_t i;

	kafka_wr_farray(w, flex, n);
	for (i = 0; i < n; i++)
		wbuf_i32(w, v[i]);
}

void
kafka_encode_metadata_resp(
    struct wbuf *w, int16_t ver, const struct kafka_metadata_resp *m)
{
	int flex = kafka_request_flexible(KAFKA_API_METADATA, ver);
	int32_t i, j;

	if (ver >= 3)
		wbuf_i32(w, m->throttle_ms);
	kafka_wr_farray(w, flex, m->nbrokers);
	for (i = 0; i < m->nbrokers; i++) {
		const struct kafka_metadata_broker *b = &m->brokers[i];

		wbuf_i32(w, b->node_id);
		kafka_wr_fstr(w, flex, b->host.p, b->host.len);
		wbuf_i32(w, b->port);
		if (ver >= 1)
			kafka_wr_fnstr(w, flex, b->rack.p, b->rack.len);
		kafka_wr_ftags(w, flex);
	}
	if (ver >= 2)
		kafka_wr_fnstr(w, flex, m->cluster_id.p, m->cluster_id.len);
	if (ver >= 1)
		wbuf_i32(w, m->controller_id);
	kafka_wr_farray(w, flex, m->ntopics);
	for (i = 0; i < m->ntopics; i++) {
		const struct kafka_metadata_topic *t = &m->topics[i];

		wbuf_i16(w, t->error);
		if (ver >= 12)
			kafka_wr_fnstr(w, flex, t->name.p, t->name.len);
		else
			kafka_wr_fstr(w, flex, t->name.p, t->name.len);
		if (ver >= KAFKA_METADATA_V_TOPIC_ID)
			kafka_wr_uuid(w, &t->topic_id);
		if (ver >= 1)
			wbuf_u8(w, t->is_internal ? 1 : 0);
		kafka_wr_farray(w, flex, t->nparts);
		for (j = 0; j < t->nparts; j++) {
			const struct kafka_metadata_part *pt = &t->parts[j];

			wbuf_i16(w, pt->error);
			wbuf_i32(w, pt->partition);
			wbuf_i32(w, pt->leader);
			if (ver >= 7)
				wbuf_i32(w, pt->leader_epoch);
			wr_int32_array(w, flex, pt->nreplicas, pt->replicas);
			wr_int32_array(w, flex, pt->nisr, pt->isr);
			if (ver >= 5)
				kafka_wr_farray(w, flex, 0); /* offline */
			kafka_wr_ftags(w, flex);
		}
		if (ver >= 8)
			wbuf_i32(w, t->authorized_ops);
		kafka_wr_ftags(w, flex);
	}
	if (ver >= 8 && ver <= 10)
		wbuf_i32(w, m->cluster_authorized_ops);
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* Produce */

int
kafka_decode_produce_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_produce_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	size_t min_topic, min_part;
	int32_t i, j, nt, np;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dec_begin(&d, p, n, KAFKA_API_PRODUCE, ver,
	         KAFKA_PRODUCE_MIN_VER, KAFKA_PRODUCE_MAX_VER, a, err_off)) !=
	    0)
		return rc;
	min_topic = MIN_STR(d.flex) + MIN_ARRAY(d.flex) + MIN_TAGS(d.flex);
	min_part = 4 + MIN_ARRAY(d.flex) + MIN_TAGS(d.flex);

	if (ver >= 3)
		out->transactional_id = kafka_rd_fnstr(&d.r, d.flex);
	else
		out->transactional_id.len = -1;
	out->acks = rbuf_i16(&d.r);
	out->timeout_ms = rbuf_i32(&d.r);
	nt = dec_count(&d, min_topic);
	out->topics = dec_array(&d, nt, sizeof(*out->topics));
	for (i = 0; i < nt && !d.r.err; i++) {
		struct kafka_produce_topic *t = &out->topics[i];

		dec_mark(&d);
		t->name = kafka_rd_fstr(&d.r, d.flex);
		np = dec_count(&d, min_part);
		t->parts = dec_array(&d, np, sizeof(*t->parts));
		for (j = 0; j < np && !d.r.err; j++) {
			struct kafka_produce_part *pt = &t->parts[j];

			dec_mark(&d);
			pt->partition = rbuf_i32(&d.r);
			pt->records = kafka_rd_fnbytes(&d.r, d.flex);
			kafka_rd_ftags(&d.r, d.flex);
		}
		if (!d.r.err)
			t->nparts = np;
		kafka_rd_ftags(&d.r, d.flex);
	}
	if (!d.r.err)
		out->ntopics = nt;
	dec_mark(&d);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_produce_resp(
    struct wbuf *w, int16_t ver, const struct kafka_produce_resp *r)
{
	int flex = kafka_request_flexible(KAFKA_API_PRODUCE, ver);
	int32_t i, j;

	kafka_wr_farray(w, flex, r->ntopics);
	for (i = 0; i < r->ntopics; i++) {
		const struct kafka_produce_topic_resp *t = &r->topics[i];

		kafka_wr_fstr(w, flex, t->name.p, t->name.len);
		kafka_wr_farray(w, flex, t->nparts);
		for (j = 0; j < t->nparts; j++) {
			const struct kafka_produce_part_resp *pt = &t->parts[j];

			wbuf_i32(w, pt->partition);
			wbuf_i16(w, pt->error);
			wbuf_i64(w, pt->base_offset);
			if (ver >= 2)
				wbuf_i64(w, pt->log_append_time);
			if (ver >= 5)
				wbuf_i64(w, pt->log_start_offset);
			if (ver >= 8) {
				kafka_wr_farray(w, flex, 0); /* record_errors */
				kafka_wr_fnstr(w, flex, NULL, -1);
			}
			kafka_wr_ftags(w, flex);
		}
		kafka_wr_ftags(w, flex);
	}
	if (ver >= 1)
		wbuf_i32(w, r->throttle_ms);
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* Fetch */

int
kafka_decode_fetch_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_fetch_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	size_t min_topic, min_part;
	int32_t i, j, nt, np;
	int rc;

	memset(out, 0, sizeof(*out));
	out->max_bytes = INT32_MAX;
	out->session_epoch = -1;
	out->rack_id.p = "";
	if ((rc = dec_begin(&d, p, n, KAFKA_API_FETCH, ver, KAFKA_FETCH_MIN_VER,
	         KAFKA_FETCH_MAX_VER, a, err_off)) != 0)
		return rc;
	min_topic =
	    (ver >= KAFKA_FETCH_V_TOPIC_ID ? KAFKA_UUID_LEN : MIN_STR(d.flex)) +
	    MIN_ARRAY(d.flex) + MIN_TAGS(d.flex);
	min_part = 4 + 8 + 4 + (ver >= 5 ? 8 : 0) + (ver >= 9 ? 4 : 0) +
	           (ver >= 12 ? 4 : 0) + MIN_TAGS(d.flex);

	/* v15+ moved the replica id into a tagged field, which consumers
	 * leave out. */
	out->replica_id = ver <= 14 ? rbuf_i32(&d.r) : -1;
	out->max_wait_ms = rbuf_i32(&d.r);
	out->min_bytes = rbuf_i32(&d.r);
	if (ver >= 3)
		out->max_bytes = rbuf_i32(&d.r);
	if (ver >= 4)
		out->isolation_level = (int8_t)rbuf_u8(&d.r);
	if (ver >= 7) {
		out->session_id = rbuf_i32(&d.r);
		out->session_epoch = rbuf_i32(&d.r);
	}
	nt = dec_count(&d, min_topic);
	out->topics = dec_array(&d, nt, sizeof(*out->topics));
	for (i = 0; i < nt && !d.r.err; i++) {
		struct kafka_fetch_topic *t = &out->topics[i];

		dec_mark(&d);
		if (ver >= KAFKA_FETCH_V_TOPIC_ID) {
			t->id = kafka_rd_uuid(&d.r);
			t->name.p = "";
		} else {
			t->name = kafka_rd_fstr(&d.r, d.flex);
		}
		np = dec_count(&d, min_part);
		t->parts = dec_array(&d, np, sizeof(*t->parts));
		for (j = 0; j < np && !d.r.err; j++) {
			struct kafka_fetch_part *pt = &t->parts[j];

			dec_mark(&d);
			pt->partition = rbuf_i32(&d.r);
			pt->current_leader_epoch =
			    ver >= 9 ? rbuf_i32(&d.r) : -1;
			pt->fetch_offset = rbuf_i64(&d.r);
			pt->last_fetched_epoch =
			    ver >= 12 ? rbuf_i32(&d.r) : -1;
			pt->log_start_offset = ver >= 5 ? rbuf_i64(&d.r) : -1;
			pt->partition_max_bytes = rbuf_i32(&d.r);
			kafka_rd_ftags(&d.r, d.flex);
		}
		if (!d.r.err)
			t->nparts = np;
		kafka_rd_ftags(&d.r, d.flex);
	}
	if (!d.r.err)
		out->ntopics = nt;
	if (ver >= 7) {
		dec_mark(&d);
		nt = dec_count(&d, min_topic);
		out->forgotten = dec_array(&d, nt, sizeof(*out->forgotten));
		for (i = 0; i < nt && !d.r.err; i++) {
			struct kafka_fetch_forgotten *f = &out->forgotten[i];

			dec_mark(&d);
			if (ver >= KAFKA_FETCH_V_TOPIC_ID) {
				f->id = kafka_rd_uuid(&d.r);
				f->name.p = "";
			} else {
				f->name = kafka_rd_fstr(&d.r, d.flex);
			}
			np = dec_count(&d, 4);
			f->parts = dec_array(&d, np, sizeof(*f->parts));
			for (j = 0; j < np && !d.r.err; j++)
				f->parts[j] = rbuf_i32(&d.r);
			if (!d.r.err)
				f->nparts = np;
			kafka_rd_ftags(&d.r, d.flex);
		}
		if (!d.r.err)
			out->nforgotten = nt;
	}
	dec_mark(&d);
	if (ver >= 11)
		out->rack_id = kafka_rd_fstr(&d.r, d.flex);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_fetch_resp_head(struct wbuf *w, int16_t ver, int32_t throttle_ms,
    int16_t error, int32_t session_id, int32_t ntopics)
{
	int flex = kafka_request_flexible(KAFKA_API_FETCH, ver);

	if (ver >= 1)
		wbuf_i32(w, throttle_ms);
	if (ver >= 7) {
		wbuf_i16(w, error);
		wbuf_i32(w, session_id);
	}
	kafka_wr_farray(w, flex, ntopics);
}

void
kafka_encode_fetch_topic_head(struct wbuf *w, int16_t ver, const char *name,
    int32_t namelen, const struct kafka_uuid *id, int32_t nparts)
{
	int flex = kafka_request_flexible(KAFKA_API_FETCH, ver);

	if (ver >= KAFKA_FETCH_V_TOPIC_ID)
		kafka_wr_uuid(w, id);
	else
		kafka_wr_fstr(w, flex, name, namelen);
	kafka_wr_farray(w, flex, nparts);
}

void
kafka_encode_fetch_part_head(
    struct wbuf *w, int16_t ver, const struct kafka_fetch_part_resp *pt)
{
	int flex = kafka_request_flexible(KAFKA_API_FETCH, ver);

	wbuf_i32(w, pt->partition);
	wbuf_i16(w, pt->error);
	wbuf_i64(w, pt->high_watermark);
	if (ver >= 4)
		wbuf_i64(w, pt->last_stable_offset);
	if (ver >= 5)
		wbuf_i64(w, pt->log_start_offset);
	/*
	 * No transactions are ever aborted here; an empty array (not null)
	 * is what every client handles.
	 */
	if (ver >= 4)
		kafka_wr_farray(w, flex, 0);
	if (ver >= 11)
		wbuf_i32(w, pt->preferred_read_replica);
	/* The records length; the caller sends the bytes themselves. */
	if (flex)
		wbuf_uvarint(
		    w, pt->records_len < 0 ? 0 : (uint64_t)pt->records_len + 1);
	else
		wbuf_i32(w, pt->records_len < 0 ? -1 : pt->records_len);
}

void
kafka_encode_fetch_part_tail(struct wbuf *w, int16_t ver)
{
	kafka_wr_ftags(w, kafka_request_flexible(KAFKA_API_FETCH, ver));
}

void
kafka_encode_fetch_topic_tail(struct wbuf *w, int16_t ver)
{
	kafka_wr_ftags(w, kafka_request_flexible(KAFKA_API_FETCH, ver));
}

void
kafka_encode_fetch_resp_tail(struct wbuf *w, int16_t ver)
{
	kafka_wr_ftags(w, kafka_request_flexible(KAFKA_API_FETCH, ver));
}

/* ------------------------------------------------------------------ */
/* ListOffsets */

int
kafka_decode_list_offsets_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_list_offsets_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	size_t min_topic, min_part;
	int32_t i, j, nt, np;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dec_begin(&d, p, n, KAFKA_API_LIST_OFFSETS, ver,
	         KAFKA_LIST_OFFSETS_MIN_VER, KAFKA_LIST_OFFSETS_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	min_topic = MIN_STR(d.flex) + MIN_ARRAY(d.flex) + MIN_TAGS(d.flex);
	min_part =
	    4 + 8 + (ver == 0 ? 4 : 0) + (ver >= 4 ? 4 : 0) + MIN_TAGS(d.flex);

	out->replica_id = rbuf_i32(&d.r);
	if (ver >= 2)
		out->isolation_level = (int8_t)rbuf_u8(&d.r);
	nt = dec_count(&d, min_topic);
	out->topics = dec_array(&d, nt, sizeof(*out->topics));
	for (i = 0; i < nt && !d.r.err; i++) {
		struct kafka_list_offsets_topic *t = &out->topics[i];

		dec_mark(&d);
		t->name = kafka_rd_fstr(&d.r, d.flex);
		np = dec_count(&d, min_part);
		t->parts = dec_array(&d, np, sizeof(*t->parts));
		for (j = 0; j < np && !d.r.err; j++) {
			struct kafka_list_offsets_part *pt = &t->parts[j];

			dec_mark(&d);
			pt->partition = rbuf_i32(&d.r);
			pt->current_leader_epoch =
			    ver >= 4 ? rbuf_i32(&d.r) : -1;
			pt->timestamp = rbuf_i64(&d.r);
			pt->max_num_offsets = ver == 0 ? rbuf_i32(&d.r) : 1;
			kafka_rd_ftags(&d.r, d.flex);
		}
		if (!d.r.err)
			t->nparts = np;
		kafka_rd_ftags(&d.r, d.flex);
	}
	if (!d.r.err)
		out->ntopics = nt;
	dec_mark(&d);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_list_offsets_resp(
    struct wbuf *w, int16_t ver, const struct kafka_list_offsets_resp *r)
{
	int flex = kafka_request_flexible(KAFKA_API_LIST_OFFSETS, ver);
	int32_t i, j;

	if (ver >= 2)
		wbuf_i32(w, r->throttle_ms);
	kafka_wr_farray(w, flex, r->ntopics);
	for (i = 0; i < r->ntopics; i++) {
		const struct kafka_list_offsets_topic_resp *t = &r->topics[i];

		kafka_wr_fstr(w, flex, t->name.p, t->name.len);
		kafka_wr_farray(w, flex, t->nparts);
		for (j = 0; j < t->nparts; j++) {
			const struct kafka_list_offsets_part_resp *pt =
			    &t->parts[j];

			wbuf_i32(w, pt->partition);
			wbuf_i16(w, pt->error);
			if (ver == 0) {
				if (pt->error != 0 || pt->offset < 0) {
					kafka_wr_array(w, 0);
				} else {
					kafka_wr_array(w, 1);
					wbuf_i64(w, pt->offset);
				}
			} else {
				wbuf_i64(w, pt->timestamp);
				wbuf_i64(w, pt->offset);
				if (ver >= 4)
					wbuf_i32(w, pt->leader_epoch);
			}
			kafka_wr_ftags(w, flex);
		}
		kafka_wr_ftags(w, flex);
	}
	kafka_wr_ftags(w, flex);
}
