/*
 * feed_upstream.h: (1) the feed's source: the Finnhub websocket (`finnhub`),
 * the built-in synthetic market (`sim`) or a capture (`replay:PATH`),
 * chosen by the `feed` key.  Every message goes to feed_ingest_message(), and
 * to the capture file when `capture` is set.
 */
#ifndef SERVER_FEED_UPSTREAM_H
#define SERVER_FEED_UPSTREAM_H

#include "server/config.h"
#include "server/feed/feed_ingest.h"

struct event_base;
struct evdns_base;
struct feed_upstream;

/*
 * Build the source named by cfg->feed (validated by config_load); the
 * upstream holds a reference to cfg until a reload replaces it or
 * feed_upstream_free.  Returns 0 and *out, or a negative error (logged):
 * an unreadable replay or capture file, say.
 */
int feed_upstream_new(struct event_base *base, struct evdns_base *dns,
    const struct config *cfg, struct feed_ingest *in,
    struct feed_upstream **out);
/* Start connecting / generating / replaying. */
int feed_upstream_start(struct feed_upstream *u);
/* New symbol list (SIGHUP): subscribe and unsubscribe the difference.
 * The upstream moves its reference to cfg (sim_rate and the other keys
 * it reads at reconnect follow too). */
void feed_upstream_reload(struct feed_upstream *u, const struct config *cfg);
/* Flush the capture file. */
void feed_upstream_flush(struct feed_upstream *u);
void feed_upstream_free(struct feed_upstream *u);
/* "connected", "connecting", "generating", "replaying", "replay done". */
const char *feed_upstream_state(const struct feed_upstream *u);

#endif
