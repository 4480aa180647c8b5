/*
 * kafka_group_msgs.c: consumer-group request decoders and response
 * encoders (see kafka_group_msgs.h).
 *
 * Written like kafka_msgs.c: field by field in wire order, each field
 * under the versions Kafka's JSON schema gives it (`if (ver >= 5)`),
 * strings and arrays through the f-primitives, a tag buffer at the end of
 * every struct of a flexible version.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_group_msgs.h"
#include "proto/kafka_msgs_int.h"

/* An array of non-nullable strings (FindCoordinator v4 keys, ...). */
static struct kafka_str *
dec_str_array(struct dec *d, int32_t *np)
{
	struct kafka_str *v;
	int32_t i, n;

	n = dec_count(d, MIN_STR(d->flex));
	v = dec_array(d, n, sizeof(*v));
	for (i = 0; i < n && !d->r.err; i++)
		v[i] = kafka_rd_fstr(&d->r, d->flex);
	*np = d->r.err ? 0 : n;
	return v;
}

/* The nullable string fields that default to null when absent. */
static void
null_str(struct kafka_str *s)
{
	s->p = NULL;
	s->len = -1;
}

/* ------------------------------------------------------------------ */
/* FindCoordinator */

int
kafka_decode_find_coordinator_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_find_coordinator_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dec_begin(&d, p, n, KAFKA_API_FIND_COORDINATOR, ver,
	         KAFKA_FIND_COORDINATOR_MIN_VER, KAFKA_FIND_COORDINATOR_MAX_VER,
	         a, err_off)) != 0)
		return rc;
	if (ver < KAFKA_FIND_COORDINATOR_V_BATCH) {
		out->keys = dec_array(&d, 1, sizeof(*out->keys));
		if (out->keys != NULL)
			out->keys[0] = kafka_rd_fstr(&d.r, d.flex);
		out->nkeys = d.r.err ? 0 : 1;
	}
	dec_mark(&d);
	if (ver >= 1)
		out->key_type = (int8_t)rbuf_u8(&d.r);
	if (ver >= KAFKA_FIND_COORDINATOR_V_BATCH) {
		dec_mark(&d);
		out->keys = dec_str_array(&d, &out->nkeys);
	}
	dec_mark(&d);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_find_coordinator_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, const struct kafka_coordinator *c, int32_t nc)
{
	int flex = kafka_request_flexible(KAFKA_API_FIND_COORDINATOR, ver);
	int32_t i;

	if (ver >= 1)
		wbuf_i32(w, throttle_ms);
	if (ver < KAFKA_FIND_COORDINATOR_V_BATCH) {
		wbuf_i16(w, c[0].error);
		if (ver >= 1)
			kafka_wr_fnstr(w, flex, c[0].error_message.p,
			    c[0].error_message.len);
		wbuf_i32(w, c[0].node_id);
		kafka_wr_fstr(w, flex, c[0].host.p, c[0].host.len);
		wbuf_i32(w, c[0].port);
		kafka_wr_ftags(w, flex);
		return;
	}
	kafka_wr_farray(w, flex, nc);
	for (i = 0; i < nc; i++) {
		kafka_wr_fstr(w, flex, c[i].key.p, c[i].key.len);
		wbuf_i32(w, c[i].node_id);
		kafka_wr_fstr(w, flex, c[i].host.p, c[i].host.len);
		wbuf_i32(w, c[i].port);
		wbuf_i16(w, c[i].error);
		kafka_wr_fnstr(
		    w, flex, c[i].error_message.p, c[i].error_message.len);
		kafka_wr_ftags(w, flex);
	}
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* JoinGroup */

int
kafka_decode_join_group_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_join_group_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int32_t i, np;
	int rc;

	memset(out, 0, sizeof(*out));
	null_str(&out->group_instance_id);
	null_str(&out->reason);
	if ((rc = dec_begin(&d, p, n, KAFKA_API_JOIN_GROUP, ver,
	         KAFKA_JOIN_GROUP_MIN_VER, KAFKA_JOIN_GROUP_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	out->group_id = kafka_rd_fstr(&d.r, d.flex);
	out->session_timeout_ms = rbuf_i32(&d.r);
	out->rebalance_timeout_ms =
	    ver >= 1 ? rbuf_i32(&d.r) : out->session_timeout_ms;
	out->member_id = kafka_rd_fstr(&d.r, d.flex);
	if (ver >= 5)
		out->group_instance_id = kafka_rd_fnstr(&d.r, d.flex);
	out->protocol_type = kafka_rd_fstr(&d.r, d.flex);
	dec_mark(&d);
	np = dec_count(
	    &d, MIN_STR(d.flex) + MIN_ARRAY(d.flex) + MIN_TAGS(d.flex));
	out->protocols = dec_array(&d, np, sizeof(*out->protocols));
	for (i = 0; i < np && !d.r.err; i++) {
		dec_mark(&d);
		out->protocols[i].name = kafka_rd_fstr(&d.r, d.flex);
		out->protocols[i].metadata = kafka_rd_fbytes(&d.r, d.flex);
		kafka_rd_ftags(&d.r, d.flex);
	}
	if (!d.r.err)
		out->nprotocols = np;
	dec_mark(&d);
	if (ver >= 8)
		out->reason = kafka_rd_fnstr(&d.r, d.flex);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_join_group_resp(
    struct wbuf *w, int16_t ver, const struct kafka_join_group_resp *r)
{
	int flex = kafka_request_flexible(KAFKA_API_JOIN_GROUP, ver);
	int32_t i;

	if (ver >= 2)
		wbuf_i32(w, r->throttle_ms);
	wbuf_i16(w, r->error);
	wbuf_i32(w, r->generation_id);
	if (ver >= 7) {
		kafka_wr_fnstr(
		    w, flex, r->protocol_type.p, r->protocol_type.len);
		kafka_wr_fnstr(
		    w, flex, r->protocol_name.p, r->protocol_name.len);
	} else {
		kafka_wr_fstr(
		    w, flex, r->protocol_name.p, r->protocol_name.len);
	}
	kafka_wr_fstr(w, flex, r->leader.p, r->leader.len);
	if (ver >= 9)
		wbuf_u8(w, r->skip_assignment ? 1 : 0);
	kafka_wr_fstr(w, flex, r->member_id.p, r->member_id.len);
	kafka_wr_farray(w, flex, r->nmembers);
	for (i = 0; i < r->nmembers; i++) {
		const struct kafka_join_group_member *m = &r->members[i];

		kafka_wr_fstr(w, flex, m->member_id.p, m->member_id.len);
		if (ver >= 5)
			kafka_wr_fnstr(w, flex, m->group_instance_id.p,
			    m->group_instance_id.len);
		kafka_wr_fbytes(w, flex, m->metadata.p, m->metadata.len);
		kafka_wr_ftags(w, flex);
	}
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* SyncGroup */

int
kafka_decode_sync_group_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_sync_group_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int32_t i, na;
	int rc;

	memset(out, 0, sizeof(*out));
	null_str(&out->group_instance_id);
	null_str(&out->protocol_type);
	null_str(&out->protocol_name);
	if ((rc = dec_begin(&d, p, n, KAFKA_API_SYNC_GROUP, ver,
	         KAFKA_SYNC_GROUP_MIN_VER, KAFKA_SYNC_GROUP_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	out->group_id = kafka_rd_fstr(&d.r, d.flex);
	out->generation_id = rbuf_i32(&d.r);
	out->member_id = kafka_rd_fstr(&d.r, d.flex);
	if (ver >= 3)
		out->group_instance_id = kafka_rd_fnstr(&d.r, d.flex);
	if (ver >= 5) {
		out->protocol_type = kafka_rd_fnstr(&d.r, d.flex);
		out->protocol_name = kafka_rd_fnstr(&d.r, d.flex);
	}
	dec_mark(&d);
	na = dec_count(
	    &d, MIN_STR(d.flex) + MIN_ARRAY(d.flex) + MIN_TAGS(d.flex));
	out->assignments = dec_array(&d, na, sizeof(*out->assignments));
	for (i = 0; i < na && !d.r.err; i++) {
		dec_mark(&d);
		out->assignments[i].member_id = kafka_rd_fstr(&d.r, d.flex);
		out->assignments[i].assignment = kafka_rd_fbytes(&d.r, d.flex);
		kafka_rd_ftags(&d.r, d.flex);
	}
	if (!d.r.err)
		out->nassignments = na;
	dec_mark(&d);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_sync_group_resp(
    struct wbuf *w, int16_t ver, const struct kafka_sync_group_resp *r)
{
	int flex = kafka_request_flexible(KAFKA_API_SYNC_GROUP, ver);

	if (ver >= 1)
		wbuf_i32(w, r->throttle_ms);
	wbuf_i16(w, r->error);
	if (ver >= 5) {
		kafka_wr_fnstr(
		    w, flex, r->protocol_type.p, r->protocol_type.len);
		kafka_wr_fnstr(
		    w, flex, r->protocol_name.p, r->protocol_name.len);
	}
	kafka_wr_fbytes(w, flex, r->assignment.p, r->assignment.len);
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* Heartbeat */

int
kafka_decode_heartbeat_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_heartbeat_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	null_str(&out->group_instance_id);
	if ((rc = dec_begin(&d, p, n, KAFKA_API_HEARTBEAT, ver,
	         KAFKA_HEARTBEAT_MIN_VER, KAFKA_HEARTBEAT_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	out->group_id = kafka_rd_fstr(&d.r, d.flex);
	out->generation_id = rbuf_i32(&d.r);
	out->member_id = kafka_rd_fstr(&d.r, d.flex);
	if (ver >= 3)
		out->group_instance_id = kafka_rd_fnstr(&d.r, d.flex);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_heartbeat_resp(
    struct wbuf *w, int16_t ver, int32_t throttle_ms, int16_t error)
{
	int flex = kafka_request_flexible(KAFKA_API_HEARTBEAT, ver);

	if (ver >= 1)
		wbuf_i32(w, throttle_ms);
	wbuf_i16(w, error);
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* LeaveGroup */

int
kafka_decode_leave_group_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_leave_group_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int32_t i, nm;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dec_begin(&d, p, n, KAFKA_API_LEAVE_GROUP, ver,
	         KAFKA_LEAVE_GROUP_MIN_VER, KAFKA_LEAVE_GROUP_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	out->group_id = kafka_rd_fstr(&d.r, d.flex);
	dec_mark(&d);
	if (ver < 3) {
		out->members = dec_array(&d, 1, sizeof(*out->members));
		if (out->members != NULL) {
			out->members[0].member_id = kafka_rd_fstr(&d.r, d.flex);
			null_str(&out->members[0].group_instance_id);
			null_str(&out->members[0].reason);
		}
		out->nmembers = d.r.err ? 0 : 1;
	} else {
		nm = dec_count(&d, MIN_STR(d.flex) * 2 + MIN_TAGS(d.flex));
		out->members = dec_array(&d, nm, sizeof(*out->members));
		for (i = 0; i < nm && !d.r.err; i++) {
			struct kafka_leave_member *m = &out->members[i];

			dec_mark(&d);
			m->member_id = kafka_rd_fstr(&d.r, d.flex);
			m->group_instance_id = kafka_rd_fnstr(&d.r, d.flex);
			if (ver >= 5)
				m->reason = kafka_rd_fnstr(&d.r, d.flex);
			else
				null_str(&m->reason);
			kafka_rd_ftags(&d.r, d.flex);
		}
		if (!d.r.err)
			out->nmembers = nm;
	}
	dec_mark(&d);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_leave_group_resp(struct wbuf *w, int16_t ver, int32_t throttle_ms,
    int16_t error, const struct kafka_leave_member *m, int32_t nm)
{
	int flex = kafka_request_flexible(KAFKA_API_LEAVE_GROUP, ver);
	int32_t i;

	if (ver >= 1)
		wbuf_i32(w, throttle_ms);
	wbuf_i16(w, error);
	if (ver >= 3) {
		kafka_wr_farray(w, flex, nm);
		for (i = 0; i < nm; i++) {
			kafka_wr_fstr(
			    w, flex, m[i].member_id.p, m[i].member_id.len);
			kafka_wr_fnstr(w, flex, m[i].group_instance_id.p,
			    m[i].group_instance_id.len);
			wbuf_i16(w, m[i].error);
			kafka_wr_ftags(w, flex);
		}
	}
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* OffsetCommit */

int
kafka_decode_offset_commit_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_offset_commit_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	size_t min_part;
	int32_t i, j, nt, np;
	int rc;

	memset(out, 0, sizeof(*out));
	null_str(&out->group_instance_id);
	out->retention_time_ms = -1;
	if ((rc = dec_begin(&d, p, n, KAFKA_API_OFFSET_COMMIT, ver,
	         KAFKA_OFFSET_COMMIT_MIN_VER, KAFKA_OFFSET_COMMIT_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	min_part =
	    4 + 8 + (ver >= 6 ? 4 : 0) + MIN_STR(d.flex) + MIN_TAGS(d.flex);
	out->group_id = kafka_rd_fstr(&d.r, d.flex);
	out->generation_id = rbuf_i32(&d.r);
	out->member_id = kafka_rd_fstr(&d.r, d.flex);
	if (ver >= 7)
		out->group_instance_id = kafka_rd_fnstr(&d.r, d.flex);
	if (ver <= 4)
		out->retention_time_ms = rbuf_i64(&d.r);
	dec_mark(&d);
	nt = dec_count(
	    &d, MIN_STR(d.flex) + MIN_ARRAY(d.flex) + MIN_TAGS(d.flex));
	out->topics = dec_array(&d, nt, sizeof(*out->topics));
	for (i = 0; i < nt && !d.r.err; i++) {
		struct kafka_commit_topic *t = &out->topics[i];

		dec_mark(&d);
		t->name = kafka_rd_fstr(&d.r, d.flex);
		np = dec_count(&d, min_part);
		t->parts = dec_array(&d, np, sizeof(*t->parts));
		for (j = 0; j < np && !d.r.err; j++) {
			struct kafka_commit_part *pt = &t->parts[j];

			dec_mark(&d);
			pt->partition = rbuf_i32(&d.r);
			pt->offset = rbuf_i64(&d.r);
			pt->leader_epoch = ver >= 6 ? rbuf_i32(&d.r) : -1;
			pt->metadata = kafka_rd_fnstr(&d.r, d.flex);
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
kafka_encode_offset_commit_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, const struct kafka_commit_topic *t, int32_t nt)
{
	int flex = kafka_request_flexible(KAFKA_API_OFFSET_COMMIT, ver);
	int32_t i, j;

	if (ver >= 3)
		wbuf_i32(w, throttle_ms);
	kafka_wr_farray(w, flex, nt);
	for (i = 0; i < nt; i++) {
		kafka_wr_fstr(w, flex, t[i].name.p, t[i].name.len);
		kafka_wr_farray(w, flex, t[i].nparts);
		for (j = 0; j < t[i].nparts; j++) {
			wbuf_i32(w, t[i].parts[j].partition);
			wbuf_i16(w, t[i].parts[j].error);
			kafka_wr_ftags(w, flex);
		}
		kafka_wr_ftags(w, flex);
	}
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* OffsetFetch */

/* topics[name, partition_indexes[]]; nullable: null gives -1. */
static void
dec_fetch_topics(
    struct dec *d, int nullable, struct kafka_offset_fetch_group *g)
{
	int32_t i, j, nt, np;

	nt = dec_count_n(d,
	    MIN_STR(d->flex) + MIN_ARRAY(d->flex) + MIN_TAGS(d->flex),
	    nullable);
	if (nt < 0) {
		g->ntopics = -1;
		return;
	}
	g->topics = dec_array(d, nt, sizeof(*g->topics));
	for (i = 0; i < nt && !d->r.err; i++) {
		struct kafka_offset_fetch_topic *t = &g->topics[i];

		dec_mark(d);
		t->name = kafka_rd_fstr(&d->r, d->flex);
		np = dec_count(d, 4);
		t->parts = dec_array(d, np, sizeof(*t->parts));
		for (j = 0; j < np && !d->r.err; j++)
			t->parts[j] = rbuf_i32(&d->r);
		if (!d->r.err)
			t->nparts = np;
		kafka_rd_ftags(&d->r, d->flex);
	}
	if (!d->r.err)
		g->ntopics = nt;
}

int
kafka_decode_offset_fetch_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_offset_fetch_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int32_t i, ng;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dec_begin(&d, p, n, KAFKA_API_OFFSET_FETCH, ver,
	         KAFKA_OFFSET_FETCH_MIN_VER, KAFKA_OFFSET_FETCH_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	if (ver < KAFKA_OFFSET_FETCH_V_BATCH) {
		struct kafka_offset_fetch_group *g;

		g = out->groups = dec_array(&d, 1, sizeof(*out->groups));
		if (g != NULL) {
			g->group_id = kafka_rd_fstr(&d.r, d.flex);
			null_str(&g->member_id);
			g->member_epoch = -1;
			dec_mark(&d);
			/* Null = every committed topic, from v2. */
			dec_fetch_topics(&d, ver >= 2, g);
		}
		out->ngroups = d.r.err ? 0 : 1;
	} else {
		ng = dec_count(
		    &d, MIN_STR(d.flex) + MIN_ARRAY(d.flex) + MIN_TAGS(d.flex));
		out->groups = dec_array(&d, ng, sizeof(*out->groups));
		for (i = 0; i < ng && !d.r.err; i++) {
			struct kafka_offset_fetch_group *g = &out->groups[i];

			dec_mark(&d);
			g->group_id = kafka_rd_fstr(&d.r, d.flex);
			null_str(&g->member_id);
			g->member_epoch = -1;
			if (ver >= 9) {
				g->member_id = kafka_rd_fnstr(&d.r, d.flex);
				g->member_epoch = rbuf_i32(&d.r);
			}
			dec_fetch_topics(&d, 1, g);
			kafka_rd_ftags(&d.r, d.flex);
		}
		if (!d.r.err)
			out->ngroups = ng;
	}
	dec_mark(&d);
	if (ver >= 7)
		out->require_stable = rbuf_u8(&d.r) != 0;
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

static void
enc_fetched_topics(struct wbuf *w, int16_t ver, int flex,
    const struct kafka_offset_fetch_group *g)
{
	int32_t i, j, nt = g->ntopics < 0 ? 0 : g->ntopics;

	kafka_wr_farray(w, flex, nt);
	for (i = 0; i < nt; i++) {
		const struct kafka_offset_fetch_topic *t = &g->topics[i];

		kafka_wr_fstr(w, flex, t->name.p, t->name.len);
		kafka_wr_farray(w, flex, t->nparts);
		for (j = 0; j < t->nparts; j++) {
			const struct kafka_fetched_part *r = &t->results[j];

			wbuf_i32(w, r->partition);
			wbuf_i64(w, r->offset);
			if (ver >= 5)
				wbuf_i32(w, r->leader_epoch);
			kafka_wr_fnstr(w, flex, r->metadata.p, r->metadata.len);
			wbuf_i16(w, r->error);
			kafka_wr_ftags(w, flex);
		}
		kafka_wr_ftags(w, flex);
	}
}

void
kafka_encode_offset_fetch_resp(struct wbuf *w, int16_t ver, int32_t throttle_ms,
    const struct kafka_offset_fetch_group *g, int32_t ng)
{
	int flex = kafka_request_flexible(KAFKA_API_OFFSET_FETCH, ver);
	int32_t i;

	if (ver >= 3)
		wbuf_i32(w, throttle_ms);
	if (ver < KAFKA_OFFSET_FETCH_V_BATCH) {
		enc_fetched_topics(w, ver, flex, &g[0]);
		if (ver >= 2)
			wbuf_i16(w, g[0].error);
		kafka_wr_ftags(w, flex);
		return;
	}
	kafka_wr_farray(w, flex, ng);
	for (i = 0; i < ng; i++) {
		kafka_wr_fstr(w, flex, g[i].group_id.p, g[i].group_id.len);
		enc_fetched_topics(w, ver, flex, &g[i]);
		wbuf_i16(w, g[i].error);
		kafka_wr_ftags(w, flex);
	}
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* DescribeGroups */

int
kafka_decode_describe_groups_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_describe_groups_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dec_begin(&d, p, n, KAFKA_API_DESCRIBE_GROUPS, ver,
	         KAFKA_DESCRIBE_GROUPS_MIN_VER, KAFKA_DESCRIBE_GROUPS_MAX_VER,
	         a, err_off)) != 0)
		return rc;
	out->groups = dec_str_array(&d, &out->ngroups);
	dec_mark(&d);
	if (ver >= 3)
		out->include_authorized_ops = rbuf_u8(&d.r) != 0;
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_describe_groups_resp(struct wbuf *w, int16_t ver,
    int32_t throttle_ms, const struct kafka_described_group *g, int32_t ng)
{
	int flex = kafka_request_flexible(KAFKA_API_DESCRIBE_GROUPS, ver);
	int32_t i, j;

	if (ver >= 1)
		wbuf_i32(w, throttle_ms);
	kafka_wr_farray(w, flex, ng);
	for (i = 0; i < ng; i++) {
		wbuf_i16(w, g[i].error);
		kafka_wr_fstr(w, flex, g[i].group_id.p, g[i].group_id.len);
		kafka_wr_fstr(w, flex, g[i].state.p, g[i].state.len);
		kafka_wr_fstr(
		    w, flex, g[i].protocol_type.p, g[i].protocol_type.len);
		kafka_wr_fstr(
		    w, flex, g[i].protocol_data.p, g[i].protocol_data.len);
		kafka_wr_farray(w, flex, g[i].nmembers);
		for (j = 0; j < g[i].nmembers; j++) {
			const struct kafka_described_member *m =
			    &g[i].members[j];

			kafka_wr_fstr(
			    w, flex, m->member_id.p, m->member_id.len);
			if (ver >= 4)
				kafka_wr_fnstr(w, flex, m->group_instance_id.p,
				    m->group_instance_id.len);
			kafka_wr_fstr(
			    w, flex, m->client_id.p, m->client_id.len);
			kafka_wr_fstr(
			    w, flex, m->client_host.p, m->client_host.len);
			kafka_wr_fbytes(
			    w, flex, m->metadata.p, m->metadata.len);
			kafka_wr_fbytes(
			    w, flex, m->assignment.p, m->assignment.len);
			kafka_wr_ftags(w, flex);
		}
		if (ver >= 3)
			wbuf_i32(w, g[i].authorized_ops);
		kafka_wr_ftags(w, flex);
	}
	kafka_wr_ftags(w, flex);
}

/* ------------------------------------------------------------------ */
/* ListGroups */

int
kafka_decode_list_groups_req(const uint8_t *p, size_t n, int16_t ver,
    struct kafka_list_groups_req *out, struct arena *a, size_t *err_off)
{
	struct dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dec_begin(&d, p, n, KAFKA_API_LIST_GROUPS, ver,
	         KAFKA_LIST_GROUPS_MIN_VER, KAFKA_LIST_GROUPS_MAX_VER, a,
	         err_off)) != 0)
		return rc;
	if (ver >= 4)
		out->states = dec_str_array(&d, &out->nstates);
	dec_mark(&d);
	if (ver >= 5)
		out->types = dec_str_array(&d, &out->ntypes);
	dec_mark(&d);
	kafka_rd_ftags(&d.r, d.flex);
	return dec_end(&d, err_off);
}

void
kafka_encode_list_groups_resp(struct wbuf *w, int16_t ver, int32_t throttle_ms,
    int16_t error, const struct kafka_listed_group *g, int32_t ng)
{
	int flex = kafka_request_flexible(KAFKA_API_LIST_GROUPS, ver);
	int32_t i;

	if (ver >= 1)
		wbuf_i32(w, throttle_ms);
	wbuf_i16(w, error);
	kafka_wr_farray(w, flex, ng);
	for (i = 0; i < ng; i++) {
		kafka_wr_fstr(w, flex, g[i].group_id.p, g[i].group_id.len);
		kafka_wr_fstr(
		    w, flex, g[i].protocol_type.p, g[i].protocol_type.len);
		if (ver >= 4)
			kafka_wr_fstr(w, flex, g[i].state.p, g[i].state.len);
		if (ver >= 5)
			kafka_wr_fstr(w, flex, g[i].type.p, g[i].type.len);
		kafka_wr_ftags(w, flex);
	}
	kafka_wr_ftags(w, flex);
}
