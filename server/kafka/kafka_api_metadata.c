/*
 * kafka_api_metadata.c: (2') Metadata (key 3), v0-v12: this broker as the
 * whole cluster (node KAFKA_NODE_ID at the advertised address, controller,
 * leader, only replica and ISR of every partition) and the topics asked
 * for.  Topics are created on first use by v0-v3 requests, and by v4+
 * ones that set allow_auto_topic_creation (as Kafka with
 * auto.create.topics.enable); kafka-python's v0/v1 and librdkafka's v4
 * producers rely on that.  From v10 every topic carries its id
 * (kafka_topic_id) and a topic may be asked for by id alone; an unknown
 * id gets UNKNOWN_TOPIC_ID.  Leader epochs are reported as -1 (unknown):
 * a single broker never changes leader, and clients then skip epoch
 * validation, which would need OffsetForLeaderEpoch.
 */
#include <config.h>

#include <string.h>

#include "proto/kafka_frame.h"
#include "proto/kafka_msgs.h"
#include "server/kafka/kafka_api.h"
#include "server/kafka/kafka_server.h"
#include "storage/seglog.h"

static const int32_t self_node[1] = {KAFKA_NODE_ID};

/* What a client may do with a topic here (there are no ACLs). */
#define TOPIC_OPS                                                              \
	((1 << KAFKA_ACL_OP_READ) | (1 << KAFKA_ACL_OP_WRITE) |                \
	    (1 << KAFKA_ACL_OP_CREATE) | (1 << KAFKA_ACL_OP_DESCRIBE))
#define CLUSTER_OPS ((1 << KAFKA_ACL_OP_CREATE) | (1 << KAFKA_ACL_OP_DESCRIBE))

/* Partition i of any topic: the same but for its index, so every topic
 * of a response points into this one table instead of allocating. */
static struct kafka_metadata_part part_table[SEGLOG_MAX_PARTITIONS];
static int part_table_ready;

static const struct kafka_metadata_part *
parts(void)
{
	int i;

	if (part_table_ready)
		return part_table;
	part_table_ready = 1;
	for (i = 0; i < SEGLOG_MAX_PARTITIONS; i++) {
		part_table[i].error = 0;
		part_table[i].partition = i;
		part_table[i].leader = KAFKA_NODE_ID;
		part_table[i].leader_epoch = -1;
		part_table[i].nreplicas = 1;
		part_table[i].replicas = self_node;
		part_table[i].nisr = 1;
		part_table[i].isr = self_node;
	}
	return part_table;
}

static void
fill_topic(struct kafka_metadata_topic *mt, struct seglog_topic *t, int ops)
{
	const char *name = seglog_topic_name(t);

	mt->error = 0;
	kafka_topic_id(t, &mt->topic_id);
	mt->authorized_ops = ops ? TOPIC_OPS : KAFKA_AUTHORIZED_OPS_OMITTED;
	mt->name.p = name;
	mt->name.len = (int32_t)strlen(name);
	mt->is_internal = 0;
	mt->nparts = seglog_topic_partitions(t);
	mt->parts = parts();
}

static int
handle_metadata(struct kafka_req_ctx *ctx)
{
	struct kafka_metadata_req req;
	struct kafka_metadata_resp resp;
	struct kafka_metadata_broker broker;
	struct kafka_metadata_topic *topics;
	struct seglog_topic *t;
	int16_t ver = ctx->hdr.api_version;
	int32_t i, n;
	int rc, create, port;

	rc = kafka_decode_metadata_req(
	    ctx->body, ctx->body_len, ver, &req, ctx->arena, &ctx->err_off);
	if (rc < 0)
		return rc;
	n = 0;
	if (req.all_topics)
		while (seglog_topic_at(ctx->seglog, (size_t)n) != NULL)
			n++;
	else
		n = req.ntopics;
	topics = arena_calloc(ctx->arena, (size_t)n + 1, sizeof(*topics));
	if (topics == NULL)
		return ERR_TOO_BIG;
	if (req.all_topics) {
		for (i = 0; i < n; i++)
			fill_topic(&topics[i],
			    seglog_topic_at(ctx->seglog, (size_t)i),
			    req.include_topic_ops);
	} else {
		create = ver < KAFKA_METADATA_V_AUTO_CREATE_FLAG ||
		         req.allow_auto_topic_creation;
		for (i = 0; i < n; i++) {
			topics[i].authorized_ops = KAFKA_AUTHORIZED_OPS_OMITTED;
			if (req.topics[i].len < 0) {
				/* Named by id alone (v10+). */
				t = kafka_topic_by_id(ctx, &req.topic_ids[i]);
				if (t != NULL) {
					fill_topic(&topics[i], t,
					    req.include_topic_ops);
					continue;
				}
				topics[i].error = KAFKA_ERR_UNKNOWN_TOPIC_ID;
				topics[i].name = req.topics[i];
				topics[i].topic_id = req.topic_ids[i];
				continue;
			}
			rc = kafka_topic_lookup(
			    ctx, req.topics[i], create, "Metadata", &t);
			if (rc == 0) {
				fill_topic(
				    &topics[i], t, req.include_topic_ops);
				continue;
			}
			/* The name comes back as asked (the frame outlives
			 * this reply). */
			topics[i].error = (int16_t)rc;
			topics[i].name = req.topics[i];
		}
	}

	memset(&broker, 0, sizeof(broker));
	broker.node_id = KAFKA_NODE_ID;
	kafka_server_advertised(ctx->ks, &broker.host.p, &port);
	broker.port = port;
	broker.host.len = (int32_t)strlen(broker.host.p);
	broker.rack.len = -1;
	memset(&resp, 0, sizeof(resp));
	resp.nbrokers = 1;
	resp.brokers = &broker;
	resp.cluster_id.p = KAFKA_CLUSTER_ID;
	resp.cluster_id.len = (int32_t)strlen(KAFKA_CLUSTER_ID);
	resp.controller_id = KAFKA_NODE_ID;
	resp.cluster_authorized_ops = req.include_cluster_ops
	                                  ? CLUSTER_OPS
	                                  : KAFKA_AUTHORIZED_OPS_OMITTED;
	resp.ntopics = n;
	resp.topics = topics;
	kafka_reply_begin(ctx);
	kafka_encode_metadata_resp(ctx->w, ver, &resp);
	return kafka_reply_end(ctx);
}

const struct kafka_api_entry kafka_api_metadata_entry = {
    .api_key = KAFKA_API_METADATA,
    .min_ver = 0,
    .max_ver = KAFKA_METADATA_MAX_VER,
    .handle = handle_metadata,
};
