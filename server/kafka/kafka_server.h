/*
 * kafka_server.h: (2') the Kafka-protocol listener in front of the log.
 *
 * Kafka clients (kcat, librdkafka, kafka-python, kafkajs) connect here to
 * produce into and fetch from the seglog, and to run consumer groups.
 * One event loop, one listener, one struct per connection; one
 * kafka_api_*.c per API (the README lists the versions served).
 */
#ifndef SERVER_KAFKA_SERVER_H
#define SERVER_KAFKA_SERVER_H

#include "server/config.h"

struct event_base;
struct groupstore;
struct kafka_server;
struct seglog;
struct seglog_topic;

/*
 * A listener for cfg->kafka_listen serving log, with the consumer-group
 * coordinator keeping committed offsets in gs.  Reads cfg->kafka_listen,
 * kafka_advertised (NULL: the listen address), topic, partitions,
 * max_request_bytes and group_initial_rebalance_delay_ms, from cfg held
 * by reference for the server's life (these keys change on restart
 * only).  log, gs and base must outlive the server.  Nothing is bound
 * until kafka_server_listen.  Never fails (small allocation).
 */
struct kafka_server *kafka_server_new(struct event_base *base,
    const struct config *cfg, struct seglog *sl, struct groupstore *gs);

/*
 * Bind and listen (loopback or what kafka_listen names).  Logs the bound
 * address, or what failed.  Returns 0, ERR_CONFIG for an address that
 * does not parse or resolve, or -errno from bind/listen.
 */
int kafka_server_listen(struct kafka_server *ks);

/* The bound port (useful when kafka_listen ends in :0), 0 before listen. */
int kafka_server_port(const struct kafka_server *ks);

/* The host and port Metadata advertises for this broker (after listen:
 * kafka_advertised, else the bound address). */
void kafka_server_advertised(
    const struct kafka_server *ks, const char **host, int *port);

/* Accept no new connection; open ones keep being served. */
void kafka_server_stop_accepting(struct kafka_server *ks);

/*
 * The log's append hook calls this after every append to (t, part): long
 * polling Fetch requests waiting on that partition are answered now, from
 * inside the hook, so a record reaches a waiting consumer without a timer
 * or a loop turn in between.  Cheap when nobody waits on the partition.
 */
void kafka_server_on_append(
    struct kafka_server *ks, struct seglog_topic *t, int part);

/*
 * Where OffsetCommit's file of committed offsets is written off the event
 * loop (the pipeline hands in the store's writer thread): write queues
 * buf (the callee's from then on) for path, written as groupstore_sync
 * would, and calls done(darg, rc) on the loop thread later; wait blocks
 * until every write queued has called its done.  Without it (the
 * default) OffsetCommit writes the file on the loop.  The writer must
 * outlive the server.
 */
struct kafka_commit_io {
	void (*write)(void *arg, const char *path, uint8_t *buf, size_t n,
	    void (*done)(void *darg, int rc), void *darg);
	void (*wait)(void *arg);
	void *arg;
};
void kafka_server_set_commit_io(
    struct kafka_server *ks, const struct kafka_commit_io *io);

/* Close every connection and the listener; frees ks.  NULL is a no-op. */
void kafka_server_free(struct kafka_server *ks);

#endif
