/*
 * pipeline.h: builds the stages, wires them together, owns their
 * lifetimes (see the map at the top of pipeline.c).
 */
#ifndef SERVER_PIPELINE_H
#define SERVER_PIPELINE_H

#include "server/config.h"

struct event_base;
struct pipeline;

/*
 * Build every stage from cfg (the pipeline and each stage that keeps it
 * take their own references) and start them: listeners bound, the feed
 * connecting.  Returns 0 and *out, or a negative error after logging what
 * failed; nothing is left running then.
 */
int pipeline_start(
    struct event_base *base, const struct config *cfg, struct pipeline **out);

/*
 * SIGHUP: take the symbol list of newcfg (subscribing and unsubscribing
 * the difference).  Other keys need a restart; those that changed are
 * logged.  Stages that move to newcfg take references to it and drop
 * their old ones; the caller keeps its own reference to newcfg.
 */
void pipeline_reload(struct pipeline *p, const struct config *newcfg);

/* SIGTERM/SIGINT: stop accepting, flush, close every stage. */
void pipeline_stop(struct pipeline *p);
void pipeline_free(struct pipeline *p);

#endif
