/*
 * upstream.h: (1) the feed's source: the Finnhub websocket (`finnhub`),
 * the built-in synthetic market (`sim`) or a capture (`replay:PATH`),
 * chosen by the `feed` key.  Every message goes to ingest_message(), and
 * to the capture file when `capture` is set.
 */
#ifndef SERVER_UPSTREAM_H
#define SERVER_UPSTREAM_H

#include "server/config.h"
#include "server/ingest.h"

struct event_base;
struct evdns_base;
struct upstream;

/*
 * Build the source named by cfg->feed (validated by config_load).
 * Returns 0 and *out, or a negative error (logged): an unreadable replay
 * or capture file, say.
 */
int upstream_new(struct event_base *base, struct evdns_base *dns,
    const struct config *cfg, struct ingest *in, struct upstream **out);
/* Start connecting / generating / replaying. */
int upstream_start(struct upstream *u);
/* New symbol list (SIGHUP): subscribe and unsubscribe the difference.
 * cfg must outlive the upstream. */
void upstream_reload(struct upstream *u, const struct config *cfg);
/* Flush the capture file. */
void upstream_flush(struct upstream *u);
void upstream_free(struct upstream *u);
/* "connected", "connecting", "generating", "replaying", "replay done". */
const char *upstream_state(const struct upstream *u);

#endif
