/*
 * pipeline.c: THE MAP.  Builds the stages, wires them, owns lifetimes.
 *
 *   Finnhub ws / sim / replay
 *        |  (1) server/feed/: feed_upstream.c picks the source;
 *        |      feed_ws.c (TLS, wslay, back-off), feed_sim.c (sim market)
 *        v
 *   feed_ingest.c: proto/feed.c scanner -> RecordBatch per partition
 *        |
 *        v  (2) storage/seglog.c: topic "trades", murmur2(symbol) partitions
 *   +----------+        append hook: wakes parked Fetches
 *   |  seglog  | <----- server/kafka/ (Produce) <---- kcat -P, any producer
 *   +----------+ -----> server/kafka/ (Fetch) ------> kcat -C, any consumer
 *                       server/kafka/kafka_group.c: consumer groups, their
 *                       commits in storage/groupstore.c (groups.state)
 *        |
 *        |  append hook: wakes the aggregator
 *        v  (3) server/agg/: cursor per partition -> storage/agg_window.c
 *        |      (exact 1 s bars per symbol; the trades themselves)
 *        |  sealed chunk every store_flush_ms
 *        v  (4) server/store/: storage/colstore (readers: scan API) and
 *        |      the writer thread (tail, commit, compaction, retention,
 *        |      and the log's offset leases)
 *        |
 *        |  the colstore reader, lent through struct http_source
 *        v  (5) server/http/: evhttp behind a gate: the Grafana JSON
 *               datasource (/grafana), /api/v1/series, /metrics and
 *               /healthz (this file fills in the other stages' state)
 *
 * Start order is the data flow backwards (log, store, aggregator,
 * listeners, then the feed), so nothing produces before its consumer
 * exists; stop order is the reverse: the feed stops first, listeners
 * stop accepting, the aggregator reads what the log holds, the store
 * flushes it and stops its thread, then the log's offsets are persisted
 * (so a clean restart resumes without a gap).
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/membudget.h"
#include "base/xmalloc.h"
#include "server/agg/agg.h"
#include "server/feed/feed_ingest.h"
#include "server/feed/feed_upstream.h"
#include "server/http/http.h"
#include "server/kafka/kafka_server.h"
#include "server/log.h"
#include "server/pipeline.h"
#include "server/stats.h"
#include "server/store/store.h"
#include "storage/agg_window.h"
#include "storage/groupstore.h"
#include "storage/seglog.h"

#define PIPELINE_MAGIC  0x70697065
#define HOUSEKEEPING_MS 1000
/* Free heap memory worth giving back to the system (see on_housekeeping). */
#define HEAP_TRIM_BYTES ((size_t)4 << 20)

struct pipeline {
	unsigned magic;
	struct event_base *base;
	const struct config *cfg;
	struct evdns_base *dns;
	struct seglog *seglog;
	struct seglog_topic *trades;
	struct groupstore *groups; /* committed consumer offsets */
	struct store *store;
	struct agg_window *window;
	struct agg *agg;
	struct kafka_server *kafka;
	int kafka_listening;
	struct http_server *http;
	struct http_lag *lags; /* scratch for the HTTP stage's view */
	size_t nlags, lagcap;
	struct feed_ingest *ingest;
	struct feed_upstream *upstream;
	struct event *housekeeping;
};

static void
on_append(struct seglog_topic *t, int part, void *arg)
{
	struct pipeline *p = arg;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	if (p->agg != NULL && t == p->trades)
		agg_on_append(p->agg, part);
	if (p->kafka != NULL)
		kafka_server_on_append(p->kafka, t, part);
}

/* (3) -> (4): the aggregator's window sealed for the store. */
static struct agg_chunk *
store_seal(void *arg)
{
	struct pipeline *p = arg;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	return agg_seal(p->agg);
}

static size_t
store_pending(void *arg)
{
	struct pipeline *p = arg;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	return agg_pending(p->agg);
}

/* kafka_coord_io over the store's writer thread. */
static void
offsets_write(void *arg, const char *path, uint8_t *buf, size_t n,
    void (*done)(void *darg, int rc), void *darg)
{
	struct pipeline *p = arg;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	store_write_file(p->store, path, buf, n, done, darg);
}

static void
offsets_wait(void *arg)
{
	struct pipeline *p = arg;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	store_wait_files(p->store);
}

static void
on_trades(void *arg)
{
	struct pipeline *p = arg;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	store_kick(p->store);
}

/* The store (recovered) and the aggregator resuming where it stopped. */
static int
start_store(struct pipeline *p, const struct config *cfg)
{
	const struct colstore_recovery *rec;
	struct store_source src;
	int rc;

	if ((rc = store_open(p->base, cfg, &p->store)) != 0)
		return rc; /* logged */
	store_serve_leases(p->store, p->seglog);
	rec = store_recovery(p->store);
	p->window = agg_window_new(&membudget_global);
	p->agg = agg_new(p->base, cfg, p->trades, p->window, rec->offsets,
	    rec->ends, rec->nparts, rec->lost, rec->invalid);
	agg_set_on_trades(p->agg, on_trades, p);
	src.seal = store_seal;
	src.pending = store_pending;
	src.arg = p;
	store_attach(p->store, p->window, &src);
	return 0;
}

static void
on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
	struct pipeline *p = arg;
	int64_t t0 = stats_loop_begin();
	struct seglog_stats ss;
	size_t freed;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	freed = seglog_expire(p->seglog, clock_wall_ms());
	if (freed > 0)
		log_debug("log retention released %zu bytes", freed);
	seglog_get_stats(p->seglog, &ss);
	if (ss.segments_evicted != stats.seglog_evicted_segments_total)
		log_warn("max_memory: the log evicted its %llu oldest segments "
		         "(%llu bytes) to make room",
		    (unsigned long long)(ss.segments_evicted -
		                         stats.seglog_evicted_segments_total),
		    (unsigned long long)(ss.bytes_evicted -
		                         stats.seglog_evicted_bytes_total));
	stats.seglog_evicted_segments_total = ss.segments_evicted;
	stats.seglog_evicted_bytes_total = ss.bytes_evicted;
	stats.memory_bytes = membudget_used(&membudget_global);
	/*
	 * Request buffers arrive in pieces of whatever size the socket had,
	 * many below the mmap threshold, so a burst of requests leaves the
	 * heap with free pages between live blocks that trimming the top
	 * cannot return.  malloc_trim() gives back every free page; it runs
	 * only when there is enough to be worth its walk of the heap.
	 */
	if (mallinfo2().fordblks > HEAP_TRIM_BYTES)
		malloc_trim(0);
	stats.seglog_appends_total = ss.appends;
	stats.seglog_records_total = ss.records;
	stats.seglog_bytes_total = ss.bytes_appended;
	stats.seglog_expired_bytes_total = ss.bytes_expired;
	stats.seglog_bytes = ss.bytes;
	feed_upstream_flush(p->upstream);
	stats_loop_end(LOOP_HOUSEKEEPING, t0);
}

/* (5) reads the store through its scan API. */
static struct colstore *
http_colstore_of(void *arg)
{
	struct pipeline *p = arg;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	return p->store != NULL ? store_colstore(p->store) : NULL;
}

/* Every consumer group's lag per partition: the log's end minus the
 * committed offset. */
static void
group_lags(struct pipeline *p)
{
	const struct groupstore_entry *e;
	const char *g;
	size_t gi, i, n, ti;

	p->nlags = 0;
	for (gi = 0; (g = groupstore_group_at(p->groups, gi)) != NULL; gi++) {
		n = groupstore_entries(p->groups, g, strlen(g), &e);
		for (i = 0; i < n; i++) {
			struct seglog_topic *t;
			int64_t end;

			for (ti = 0;
			     (t = seglog_topic_at(p->seglog, ti)) != NULL; ti++)
				if (strcmp(seglog_topic_name(t), e[i].topic) ==
				    0)
					break;
			if (t == NULL ||
			    e[i].partition >= seglog_topic_partitions(t))
				continue;
			end = seglog_end_offset(t, e[i].partition);
			if (p->nlags == p->lagcap) {
				p->lagcap = p->lagcap ? p->lagcap * 2 : 16;
				p->lags = xreallocarray(
				    p->lags, p->lagcap, sizeof(*p->lags));
			}
			p->lags[p->nlags].group = g;
			p->lags[p->nlags].topic = e[i].topic;
			p->lags[p->nlags].partition = e[i].partition;
			p->lags[p->nlags].lag =
			    end > e[i].c.offset ? end - e[i].c.offset : 0;
			p->nlags++;
		}
	}
}

/* The other stages' state, for /healthz and /metrics. */
static void
http_view_of(void *arg, struct http_view *v)
{
	struct pipeline *p = arg;
	const char *feed = p->cfg->feed;

	CHECK_MAGIC(p, PIPELINE_MAGIC);
	v->feed =
	    p->upstream != NULL ? feed_upstream_state(p->upstream) : "stopped";
	v->feed_kind = strncmp(feed, "replay:", 7) == 0 ? "replay" : feed;
	v->log = "ok";
	v->kafka = p->kafka_listening ? "listening" : "stopped";
	v->aggregator = p->agg == NULL       ? "stopped"
	                : agg_paused(p->agg) ? "paused"
	                                     : "running";
	v->agg_lag = p->agg != NULL ? agg_lag(p->agg) : 0;
	v->store = store_state(p->store);
	group_lags(p);
	v->lags = p->lags;
	v->nlags = p->nlags;
}

static int
make_dir(const char *path)
{
	char *copy = xstrdup(path), *s;
	int rc = 0;

	/* mkdir -p: each parent, then the directory itself. */
	for (s = copy + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(copy, 0750) == -1 && errno != EEXIST)
			rc = -errno;
		*s = '/';
	}
	if (rc == 0 && mkdir(copy, 0750) == -1 && errno != EEXIST)
		rc = -errno;
	free(copy);
	return rc;
}

int
pipeline_start(
    struct event_base *base, const struct config *cfg, struct pipeline **out)
{
	struct timeval hk = {HOUSEKEEPING_MS / 1000, 0};
	struct seglog_limits lim;
	struct pipeline *p;
	char state[4096];
	int rc;

	p = xcalloc(1, sizeof(*p));
	p->magic = PIPELINE_MAGIC;
	p->base = base;
	p->cfg = config_ref(cfg);

	if ((rc = make_dir(cfg->data_dir)) != 0) {
		log_err("data_dir %s: %s", cfg->data_dir, err_str(rc));
		goto fail;
	}
	membudget_init(&membudget_global, (uint64_t)cfg->max_memory);
	memset(&lim, 0, sizeof(lim));
	lim.budget = &membudget_global;
	lim.max_topics = (size_t)cfg->max_topics;
	lim.retention_bytes = (size_t)cfg->log_retention_bytes;
	lim.retention_ms = cfg->log_retention_ms;
	lim.segment_bytes = SEGLOG_SEGMENT_BYTES;
	lim.max_batch_bytes = (size_t)cfg->max_request_bytes;
	lim.default_partitions = cfg->partitions;
	snprintf(state, sizeof(state), "%s/seglog.state", cfg->data_dir);
	if ((rc = seglog_new(&lim, state, &p->seglog)) != 0) {
		log_err("log state %s: %s", state, err_str(rc));
		goto fail;
	}
	seglog_set_append_hook(p->seglog, on_append, p);
	rc = seglog_topic_create(p->seglog, cfg->topic, strlen(cfg->topic),
	    cfg->partitions, &p->trades);
	if (rc != 0 && rc != ERR_EXISTS) {
		log_err("topic %s: %s", cfg->topic, err_str(rc));
		goto fail;
	}
	/* The state file remembers topics; a partition count cannot change
	 * under existing consumers' feet. */
	if (rc == ERR_EXISTS &&
	    seglog_topic_partitions(p->trades) != cfg->partitions)
		log_warn("topic %s keeps its %d partitions from %s "
		         "(partitions is %d): remove that file to change it",
		    cfg->topic, seglog_topic_partitions(p->trades), state,
		    cfg->partitions);

	/* Committed offsets refuse a damaged file like the log state. */
	snprintf(state, sizeof(state), "%s/groups.state", cfg->data_dir);
	if ((rc = groupstore_open(state, &p->groups)) != 0) {
		log_err("consumer group offsets %s: %s", state, err_str(rc));
		goto fail;
	}
	if ((rc = start_store(p, cfg)) != 0)
		goto fail;

	p->kafka = kafka_server_new(base, cfg, p->seglog, p->groups);
	{
		/* Commits are written on the store's writer thread, which
		 * outlives the listener (pipeline_free). */
		struct kafka_commit_io io = {offsets_write, offsets_wait, p};

		kafka_server_set_commit_io(p->kafka, &io);
	}
	if ((rc = kafka_server_listen(p->kafka)) != 0)
		goto fail; /* logged by the listener */
	p->kafka_listening = 1;
	{
		struct http_source hsrc = {http_colstore_of, http_view_of, p};

		p->http = http_server_new(base, cfg, &hsrc);
		if ((rc = http_server_listen(p->http)) != 0)
			goto fail; /* logged by the listener */
	}

	if ((p->dns = evdns_base_new(
	         base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	                   EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		log_warn("no DNS resolver configured; feed hosts must be "
		         "addresses");
	p->ingest = feed_ingest_new(p->trades);
	if ((rc = feed_upstream_new(
	         base, p->dns, cfg, p->ingest, &p->upstream)) != 0)
		goto fail;
	if ((rc = feed_upstream_start(p->upstream)) != 0)
		goto fail;

	p->housekeeping = event_new(base, -1, EV_PERSIST, on_housekeeping, p);
	if (p->housekeeping == NULL || evtimer_add(p->housekeeping, &hk) != 0) {
		rc = ERR_NOMEM;
		goto fail;
	}
	{
		const char *host;
		int port;

		kafka_server_advertised(p->kafka, &host, &port);
		log_info("watch the trades: kcat -b %s:%d -t %s -C", host, port,
		    cfg->topic);
	}
	*out = p;
	return 0;
fail:
	pipeline_free(p);
	return rc != 0 ? rc : -1;
}

void
pipeline_reload(struct pipeline *p, const struct config *nc)
{
	const struct config *oc = p->cfg;

	if (strcmp(oc->feed, nc->feed) != 0 ||
	    strcmp(oc->kafka_listen, nc->kafka_listen) != 0 ||
	    strcmp(oc->http_listen, nc->http_listen) != 0 ||
	    strcmp(oc->data_dir, nc->data_dir) != 0 ||
	    strcmp(oc->topic, nc->topic) != 0 ||
	    oc->partitions != nc->partitions)
		log_warn("SIGHUP: feed, listeners, data_dir, topic and "
		         "partitions change only on restart");
	if ((oc->http_auth_token == NULL) != (nc->http_auth_token == NULL) ||
	    (oc->http_auth_token != NULL &&
	        strcmp(oc->http_auth_token, nc->http_auth_token) != 0) ||
	    oc->http_max_body_bytes != nc->http_max_body_bytes ||
	    oc->http_max_connections != nc->http_max_connections ||
	    oc->http_timeout_ms != nc->http_timeout_ms ||
	    strcmp(oc->http_web_dir, nc->http_web_dir) != 0 ||
	    (oc->http_chart_dir == NULL) != (nc->http_chart_dir == NULL) ||
	    (oc->http_chart_dir != NULL &&
	        strcmp(oc->http_chart_dir, nc->http_chart_dir) != 0))
		log_warn("SIGHUP: the http_ keys change only on restart");
	if (oc->store_fsync != nc->store_fsync ||
	    oc->store_flush_ms != nc->store_flush_ms ||
	    oc->store_compact_rows != nc->store_compact_rows ||
	    oc->trades_retention_days != nc->trades_retention_days ||
	    oc->bars_retention_days != nc->bars_retention_days)
		log_warn("SIGHUP: store_fsync, store_flush_ms, "
		         "store_compact_rows and the retention days change "
		         "only on restart");
	log_level = nc->log_level;
	feed_upstream_reload(p->upstream, nc);
	config_ref(nc);
	config_unref(p->cfg);
	p->cfg = nc;
}

void
pipeline_stop(struct pipeline *p)
{
	if (p == NULL)
		return;
	if (p->upstream != NULL)
		feed_upstream_flush(p->upstream);
	if (p->kafka != NULL)
		kafka_server_stop_accepting(p->kafka);
	p->kafka_listening = 0;
	if (p->http != NULL)
		http_server_stop_accepting(p->http);
}

void
pipeline_free(struct pipeline *p)
{
	int i;

	if (p == NULL)
		return;
	if (p->housekeeping != NULL)
		event_free(p->housekeeping);
	/* HTTP first: it reads the store and the other stages' state. */
	http_server_free(p->http);
	p->http = NULL;
	feed_upstream_free(p->upstream);
	p->upstream = NULL;
	feed_ingest_free(p->ingest);
	if (p->kafka != NULL)
		kafka_server_free(p->kafka);
	if (p->dns != NULL)
		evdns_base_free(p->dns, 0);
	/* What the log holds goes to the store before the log's state is
	 * written: a clean restart then loses nothing. */
	if (p->agg != NULL)
		agg_drain(p->agg);
	store_close(p->store, p->seglog);
	agg_free(p->agg);
	store_free(p->store);
	agg_window_free(p->window);
	if (p->seglog != NULL)
		seglog_free(p->seglog);
	/* Every acknowledged commit is on disk already; nothing to flush. */
	groupstore_free(p->groups);
	for (i = 0; i < LOOP_NWORK; i++) {
		const struct loop_timing *l = &stats.loop[i];

		if (l->calls > 0)
			log_info("loop: %s: %llu callbacks, mean %.1f us, %llu "
			         "over 100 us, %llu over 1 ms, longest %.1f us",
			    loop_work_names[i], (unsigned long long)l->calls,
			    (double)l->ns_total / (double)l->calls / 1e3,
			    (unsigned long long)l->over_100us,
			    (unsigned long long)l->over_1ms,
			    (double)l->max_ns / 1e3);
	}
	log_info("trades: %llu received, %llu bad messages, %llu reconnects",
	    (unsigned long long)stats.feed_trades_total,
	    (unsigned long long)stats.feed_bad_frames_total,
	    (unsigned long long)stats.feed_reconnects_total);
	log_info("store: %llu trades and %llu bars stored, %llu invalid "
	         "records, %llu offsets lost",
	    (unsigned long long)stats.store_trades_total,
	    (unsigned long long)stats.store_bars_total,
	    (unsigned long long)stats.agg_invalid_records_total,
	    (unsigned long long)stats.agg_lost_offsets_total);
	free(p->lags);
	config_unref(p->cfg);
	free(p);
}
