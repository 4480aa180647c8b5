/*
 * kafka_api_find_coordinator.c: (2') FindCoordinator (key 10), v0-v6:
 * this broker coordinates every consumer group, so a group key always
 * gets this broker (node KAFKA_NODE_ID at the advertised address).
 * Transactions are not served: a transaction key gets
 * COORDINATOR_NOT_AVAILABLE with a message saying so; other key types
 * (share groups) get INVALID_REQUEST.  v4+ ask for several keys at once.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_group_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_server.h"
#include "server/kafka/kafka_coord.h"

static int
handle_find_coordinator(struct kafka_req_ctx *ctx)
{
	struct kafka_find_coordinator_req req;
	struct kafka_coordinator *c;
	const char *host;
	int16_t ver = ctx->hdr.api_version;
	int32_t i, n;
	int rc, port;

	rc = kafka_decode_find_coordinator_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	n = req.nkeys;
	if ((c = arena_calloc(ctx->arena, (size_t)n + 1, sizeof(*c))) == NULL)
		return ERR_TOO_BIG;
	kafka_server_advertised(ctx->ks, &host, &port);
	for (i = 0; i < (n > 0 ? n : 1); i++) {
		c[i].key = i < n ? req.keys[i] : kafka_coord_str("");
		c[i].error_message.len = -1;
		if (req.key_type == KAFKA_COORD_KEY_GROUP) {
			c[i].node_id = KAFKA_NODE_ID;
			c[i].host = kafka_coord_str(host);
			c[i].port = port;
			continue;
		}
		c[i].node_id = -1;
		c[i].host = kafka_coord_str("");
		c[i].port = -1;
		if (req.key_type == KAFKA_COORD_KEY_TRANSACTION) {
			c[i].error = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
			c[i].error_message = kafka_coord_str(
			    "transactions are not supported by this broker");
		} else {
			c[i].error = KAFKA_ERR_INVALID_REQUEST;
			c[i].error_message =
			    kafka_coord_str("unsupported coordinator key type");
		}
	}
	kafka_reply_begin(ctx);
	kafka_encode_find_coordinator_resp(ctx->w, ver, 0, c, n);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_find_coordinator_entry = {
    .api_key = KAFKA_API_FIND_COORDINATOR,
    .min_ver = KAFKA_FIND_COORDINATOR_MIN_VER,
    .max_ver = KAFKA_FIND_COORDINATOR_MAX_VER,
    .handle = handle_find_coordinator,
};
