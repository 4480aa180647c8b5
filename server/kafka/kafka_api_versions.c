/*
 * kafka_api_versions.c: (2') ApiVersions (key 18), v0-v4: the APIs and
 * versions this broker serves, straight from the listener's dispatch
 * table, so the advertisement can never promise an API that is not
 * implemented.  v3+ are flexible (librdkafka opens every connection with
 * v3; clients of Kafka 4 send v4); newer requests are answered by the
 * listener itself with UNSUPPORTED_VERSION in the v0 layout (KIP-511).
 */
#include <config.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "server/kafka/kafka_api.h"

#define MAX_APIS 64

static int
handle_api_versions(struct kafka_req_ctx *ctx)
{
	struct kafka_api_versions_req req;
	struct kafka_api_range r[MAX_APIS];
	int rc, n;

	rc = kafka_decode_api_versions_req(ctx->body, ctx->body_len,
	    ctx->hdr.api_version, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	n = kafka_api_ranges(r, MAX_APIS);
	kafka_reply_begin(ctx);
	kafka_encode_api_versions_resp(
	    ctx->w, ctx->hdr.api_version, 0, r, n < MAX_APIS ? n : MAX_APIS, 0);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_versions_entry = {
    .api_key = KAFKA_API_API_VERSIONS,
    .min_ver = 0,
    .max_ver = KAFKA_API_VERSIONS_MAX_VER,
    .handle = handle_api_versions,
};
