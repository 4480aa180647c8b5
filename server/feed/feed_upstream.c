/*
 * feed_upstream.c: (1) the feed's sources (see feed_upstream.h).
 *
 *	finnhub:  feed_ws (TLS, reconnect, stall detection) -> on_open
 *	          subscribes every symbol -> on_message -> deliver()
 *	sim:      a 10 ms timer asks feed_sim for sim_rate trades/s in
 *	          Finnhub's own JSON -> deliver()
 *	replay:   capture records at their recorded pace / SPEED -> deliver()
 *
 * deliver() writes the capture (if any) and calls feed_ingest_message(), so a
 * capture of any source replays through the same parser.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "base/xorshift.h"
#include "proto/capture.h"
#include "proto/feed.h"
#include "proto/wbuf.h"
#include "server/feed/feed_capture.h"
#include "server/feed/feed_sim.h"
#include "server/feed/feed_upstream.h"
#include "server/feed/feed_ws.h"
#include "server/log.h"
#include "server/stats.h"

#define UPSTREAM_MAGIC 0x75707374
#define SIM_TICK_MS    10
#define SIM_PING_MS    60000

enum feed_upstream_kind { UP_FINNHUB, UP_SIM, UP_REPLAY };

struct feed_upstream {
	unsigned magic;
	int kind;
	struct event_base *base;
	const struct config *cfg;
	struct feed_ingest *ingest;
	const char *state;

	/* finnhub */
	struct feed_ws *ws;
	char **subscribed; /* what the server has been told, NULL-terminated */

	/* sim */
	struct feed_sim *sim;
	struct event *timer;
	int64_t sim_last_ms;
	int64_t sim_last_ping_ms;
	double sim_owed;
	uint64_t sim_rng;
	struct wbuf frame;

	/* replay */
	struct feed_capture_reader *replay;
	double replay_speed;
	int64_t replay_t0_us;    /* first record's receive time */
	int64_t replay_start_us; /* wall clock when it was delivered */

	/* capture */
	struct feed_capture_writer *capw;
	char *cap_path;
};

/* A capture that fails (a full disk, say) stops, loudly; the feed goes on. */
static void
capture_stop(struct feed_upstream *u, int rc)
{
	log_err("capture %s: %s; capture stopped", u->cap_path, err_str(rc));
	(void)feed_capture_writer_close(u->capw);
	u->capw = NULL;
}

static void
deliver(struct feed_upstream *u, const uint8_t *msg, size_t len, int64_t t_us)
{
	int rc;

	if (u->capw != NULL &&
	    (rc = feed_capture_writer_append(u->capw, t_us, msg, len)) != 0)
		capture_stop(u, rc);
	(void)feed_ingest_message(u->ingest, msg, len, t_us);
}

/* Open the capture for appending (feed_capture.h says what is checked). */
static int
capture_open(struct feed_upstream *u, const char *path)
{
	int64_t bad;
	size_t cut;
	int rc;

	u->cap_path = xstrdup(path);
	rc = feed_capture_writer_open(path, &u->capw, &cut, &bad);
	if (rc != 0 && bad > 0)
		log_err("capture %s: damaged record at byte %lld (%s); the "
		        "file is left as it is: move it away or choose another "
		        "capture path",
		    path, (long long)bad, err_str(rc));
	else if (rc != 0 && rc < ERR_BASE)
		log_err("capture %s exists and is not a capture file (%s)",
		    path, err_str(rc));
	else if (rc != 0)
		log_err("capture %s: %s", path, err_str(rc));
	if (rc != 0)
		return rc;
	if (cut > 0)
		log_warn("capture %s: cutting a torn final record of %zu bytes",
		    path, cut);
	log_info("capturing raw feed frames to %s", path);
	return 0;
}

/* ---- finnhub ---------------------------------------------------------- */

static void
subscribe(struct feed_upstream *u, const char *type, const char *sym)
{
	struct wbuf w;

	wbuf_init(&w, 1024);
	feed_encode_subscribe(&w, type, sym);
	if (w.err == 0 && feed_ws_send_text(u->ws, w.buf, w.len) == 0)
		log_debug("feed: %s %s", type, sym);
	wbuf_fini(&w);
}

static void
free_symbols(char **list)
{
	int i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

static char **
copy_symbols(const struct config *cfg)
{
	char **list = xcalloc((size_t)cfg->nsymbols + 1, sizeof(*list));
	int i;

	for (i = 0; i < cfg->nsymbols; i++)
		list[i] = xstrdup(cfg->symbols[i]);
	return list;
}

static int
has_symbol(char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
ws_on_open(void *arg)
{
	struct feed_upstream *u = arg;
	int i;

	CHECK_MAGIC(u, UPSTREAM_MAGIC);
	u->state = "connected";
	/* Finnhub remembers nothing across connections: subscribe again. */
	for (i = 0; i < u->cfg->nsymbols; i++)
		subscribe(u, "subscribe", u->cfg->symbols[i]);
	free_symbols(u->subscribed);
	u->subscribed = copy_symbols(u->cfg);
	log_info("feed: connected, subscribed to %d symbols", u->cfg->nsymbols);
}

static void
ws_on_message(
    void *arg, const uint8_t *msg, size_t len, int opcode, int64_t recv_us)
{
	struct feed_upstream *u = arg;

	CHECK_MAGIC(u, UPSTREAM_MAGIC);
	deliver(u, msg, len, recv_us);
}

static void
ws_on_close(void *arg, const char *why)
{
	struct feed_upstream *u = arg;

	CHECK_MAGIC(u, UPSTREAM_MAGIC);
	u->state = "connecting";
	log_info("feed: disconnected (%s); reconnecting", why);
}

static int
finnhub_new(struct feed_upstream *u, struct evdns_base *dns)
{
	static const struct feed_ws_cb cb = {
	    ws_on_open, ws_on_message, ws_on_close};
	struct feed_ws_opts o;
	struct wbuf url;
	int rc;

	wbuf_init(&url, 0);
	wbuf_str(&url, u->cfg->feed_url);
	if (u->cfg->token != NULL) {
		wbuf_str(&url, strchr(u->cfg->feed_url, '?') ? "&" : "?");
		wbuf_str(&url, "token=");
		wbuf_str(&url, u->cfg->token);
	}
	wbuf_u8(&url, 0);
	memset(&o, 0, sizeof(o));
	o.url = (const char *)url.buf;
	o.ca_file = u->cfg->feed_ca_file;
	o.stall_ms = u->cfg->feed_stall_ms;
	o.backoff_max_ms = u->cfg->feed_backoff_max_ms;
	o.max_msg_bytes = INGEST_MAX_MSG;
	rc = feed_ws_new(u->base, dns, &o, &cb, u, &u->ws);
	/* The URL held the token: wipe our copy (feed_ws keeps its own). */
	if (url.buf != NULL)
		memset(url.buf, 0, url.len);
	wbuf_fini(&url);
	u->state = "connecting";
	return rc;
}

/* ---- sim -------------------------------------------------------------- */

static void
sim_tick(evutil_socket_t fd, short what, void *arg)
{
	struct feed_upstream *u = arg;
	int64_t now = clock_wall_us(), now_ms = now / 1000;
	int64_t burst, t0 = stats_loop_begin();

	CHECK_MAGIC(u, UPSTREAM_MAGIC);
	if (u->sim_last_ms == 0)
		u->sim_last_ms = now_ms;
	/* A late timer still owes the trades of the whole gap, capped at a
	 * second so a suspended process does not flood on wake-up. */
	u->sim_owed +=
	    (double)u->cfg->sim_rate *
	    (double)(now_ms - u->sim_last_ms > 1000 ? 1000
	                                            : now_ms - u->sim_last_ms) /
	    1000.0;
	u->sim_last_ms = now_ms;
	/* Finnhub packs a few trades per frame; at high rates, more. */
	burst = u->cfg->sim_rate / 2000 + 4;
	while (u->sim_owed >= 1.0) {
		int n = 1 + (int)(xorshift64s(&u->sim_rng) % (uint64_t)burst);

		if (n > (int)u->sim_owed)
			n = (int)u->sim_owed;
		wbuf_reset(&u->frame);
		n = (int)feed_sim_frame(u->sim, now_ms, n, &u->frame);
		if (n <= 0 || u->frame.err != 0)
			break;
		u->sim_owed -= n;
		deliver(u, u->frame.buf, u->frame.len, now);
	}
	if (now_ms - u->sim_last_ping_ms >= SIM_PING_MS) {
		u->sim_last_ping_ms = now_ms;
		wbuf_reset(&u->frame);
		feed_sim_ping(&u->frame);
		deliver(u, u->frame.buf, u->frame.len, now);
	}
	stats_loop_end(LOOP_FEED, t0);
}

static int
sim_new(struct feed_upstream *u)
{
	u->sim = feed_sim_new((const char *const *)u->cfg->symbols,
	    u->cfg->nsymbols, (uint64_t)clock_wall_us());
	if (u->sim == NULL)
		return ERR_NOMEM;
	u->sim_rng = (uint64_t)clock_wall_us() | 1;
	u->sim_last_ping_ms = clock_wall_us() / 1000;
	wbuf_init(&u->frame, INGEST_MAX_MSG);
	u->timer = event_new(u->base, -1, EV_PERSIST, sim_tick, u);
	u->state = "generating";
	return u->timer != NULL ? 0 : ERR_NOMEM;
}

/* ---- replay ----------------------------------------------------------- */

static void replay_tick(evutil_socket_t fd, short what, void *arg);

/*
 * Deliver every record that is due, then arm the timer for the next one.
 * Record times are scaled by 1/speed relative to the first record.
 */
static void
replay_run(struct feed_upstream *u)
{
	struct capture_frame f;
	struct timeval tv;
	int64_t due, now;
	int rc;

	for (;;) {
		rc = feed_capture_reader_peek(u->replay, &f);
		if (rc == 0) {
			if (feed_capture_reader_torn(u->replay) != 0)
				log_warn("replay: torn record at the end of "
				         "the capture (%zu bytes): ignored",
				    feed_capture_reader_torn(u->replay));
			log_info("replay: finished");
			u->state = "replay done";
			return;
		}
		if (rc < 0) {
			log_err(
			    "replay: bad record at byte %lld (%s): stopping "
			    "the replay",
			    (long long)feed_capture_reader_offset(u->replay),
			    err_str(rc));
			u->state = "replay failed";
			return;
		}
		now = clock_wall_us();
		if (u->replay_t0_us < 0) {
			u->replay_t0_us = (int64_t)f.t_us;
			u->replay_start_us = now;
		}
		due = u->replay_start_us +
		      (int64_t)((double)((int64_t)f.t_us - u->replay_t0_us) /
		                u->replay_speed);
		if (due > now) {
			tv.tv_sec = (due - now) / 1000000;
			tv.tv_usec = (due - now) % 1000000;
			evtimer_add(u->timer, &tv);
			return;
		}
		if (f.opcode == CAPTURE_OP_TEXT)
			deliver(u, f.payload, f.len, now);
		feed_capture_reader_skip(u->replay, (size_t)rc);
	}
}

static void
replay_tick(evutil_socket_t fd, short what, void *arg)
{
	struct feed_upstream *u = arg;
	int64_t t0 = stats_loop_begin();

	CHECK_MAGIC(u, UPSTREAM_MAGIC);
	replay_run(u);
	stats_loop_end(LOOP_FEED, t0);
}

static int
replay_new(struct feed_upstream *u)
{
	char *path = xstrdup(u->cfg->feed + 7), *at;
	int rc;

	u->replay_speed = 1.0;
	if ((at = strrchr(path, '@')) != NULL) {
		*at = '\0';
		u->replay_speed = strtod(at + 1, NULL);
	}
	if ((rc = feed_capture_reader_open(path, &u->replay)) != 0) {
		if (rc < ERR_BASE)
			log_err("replay %s: not a capture file (%s)", path,
			    err_str(rc));
		else
			log_err("replay %s: %s", path, err_str(rc));
		goto out;
	}
	u->replay_t0_us = -1;
	u->timer = evtimer_new(u->base, replay_tick, u);
	u->state = "replaying";
	log_info("replaying %s at %gx", path, u->replay_speed);
out:
	free(path);
	return rc;
}

/* ---- common ----------------------------------------------------------- */

int
feed_upstream_new(struct event_base *base, struct evdns_base *dns,
    const struct config *cfg, struct feed_ingest *in,
    struct feed_upstream **out)
{
	struct feed_upstream *u;
	int rc;

	u = xcalloc(1, sizeof(*u));
	u->magic = UPSTREAM_MAGIC;
	u->base = base;
	u->cfg = config_ref(cfg);
	u->ingest = in;
	if (strcmp(cfg->feed, "finnhub") == 0) {
		u->kind = UP_FINNHUB;
		rc = finnhub_new(u, dns);
	} else if (strcmp(cfg->feed, "sim") == 0) {
		u->kind = UP_SIM;
		rc = sim_new(u);
	} else {
		u->kind = UP_REPLAY;
		rc = replay_new(u);
	}
	if (rc == 0 && cfg->capture != NULL)
		rc = capture_open(u, cfg->capture);
	if (rc != 0) {
		feed_upstream_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

int
feed_upstream_start(struct feed_upstream *u)
{
	struct timeval tick = {0, SIM_TICK_MS * 1000};
	char url[512];

	switch (u->kind) {
	case UP_FINNHUB:
		log_info("feed: finnhub at %s, %d symbols",
		    log_redact_url(u->cfg->feed_url, url, sizeof(url)),
		    u->cfg->nsymbols);
		feed_ws_start(u->ws);
		break;
	case UP_SIM:
		log_info("feed: sim, %lld trades/s over %d symbols",
		    (long long)u->cfg->sim_rate, u->cfg->nsymbols);
		evtimer_add(u->timer, &tick);
		break;
	case UP_REPLAY:
		replay_run(u);
		break;
	}
	return 0;
}

void
feed_upstream_reload(struct feed_upstream *u, const struct config *cfg)
{
	int i, added = 0, removed = 0;

	config_ref(cfg);
	config_unref(u->cfg);
	u->cfg = cfg;
	if (u->kind == UP_SIM) {
		struct feed_sim *m;

		m = feed_sim_new((const char *const *)cfg->symbols,
		    cfg->nsymbols, (uint64_t)clock_wall_us());
		if (m != NULL) {
			feed_sim_free(u->sim);
			u->sim = m;
		}
		log_info("feed: sim now over %d symbols", cfg->nsymbols);
		return;
	}
	if (u->kind != UP_FINNHUB || !feed_ws_is_open(u->ws))
		return; /* the next on_open subscribes the new list */
	for (i = 0; u->subscribed != NULL && u->subscribed[i] != NULL; i++)
		if (!has_symbol(cfg->symbols, u->subscribed[i])) {
			subscribe(u, "unsubscribe", u->subscribed[i]);
			removed++;
		}
	for (i = 0; i < cfg->nsymbols; i++)
		if (!has_symbol(u->subscribed, cfg->symbols[i])) {
			subscribe(u, "subscribe", cfg->symbols[i]);
			added++;
		}
	free_symbols(u->subscribed);
	u->subscribed = copy_symbols(cfg);
	log_info("feed: symbols reloaded: %d subscribed, %d unsubscribed",
	    added, removed);
}

void
feed_upstream_flush(struct feed_upstream *u)
{
	int rc;

	if (u->capw != NULL && (rc = feed_capture_writer_flush(u->capw)) != 0)
		capture_stop(u, rc);
}

const char *
feed_upstream_state(const struct feed_upstream *u)
{
	return u->state;
}

void
feed_upstream_free(struct feed_upstream *u)
{
	if (u == NULL)
		return;
	if (u->timer != NULL)
		event_free(u->timer);
	if (u->ws != NULL)
		feed_ws_free(u->ws);
	if (u->sim != NULL)
		feed_sim_free(u->sim);
	feed_capture_reader_free(u->replay);
	if (u->capw != NULL) {
		int rc = feed_capture_writer_close(u->capw);

		if (rc != 0)
			log_err("capture %s: %s (closing)", u->cap_path,
			    err_str(rc));
	}
	free(u->cap_path);
	free_symbols(u->subscribed);
	wbuf_fini(&u->frame);
	config_unref(u->cfg);
	free(u);
}
