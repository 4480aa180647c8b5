/*
 * finnhub_sim.c: finnhub-sim, a Finnhub-protocol websocket server for
 * tests and benchmarks of (1), the feed.
 *
 * It speaks what wss://ws.finnhub.io speaks (notes: Finnhub's websocket
 * protocol): the client sends {"type":"subscribe","symbol":S} and
 * {"type":"unsubscribe",...}; the server sends {"data":[...],
 * "type":"trade"} for the symbols that connection subscribed to,
 * {"type":"ping"} about every minute, and {"msg":...,"type":"error"}.
 * Trades come from the synthetic market (server/feed_sim.h, one market
 * per connection over its subscribed symbols) or from a capture file
 * (proto/capture.h) replayed at its recorded pace; a capture is sent as
 * recorded, all its symbols, once the connection has subscribed to
 * anything, and --max-trades counts only synthetic trades.
 *
 * Each connection:
 *
 *	HANDSHAKE --101--> OPEN --close frame--> CLOSING --flushed--> freed
 *	    |  bad request / token: 4xx, then freed          ^
 *	    +------------ EOF, error, drop fault ------------+---> freed
 *
 * A 10 ms tick per connection sends pings, applies the faults on the
 * connection's own clock (started when its websocket opened), and at
 * --rate N sends the trades that are due.  At --rate 0 trades are
 * generated whenever the output buffer drains below FILL_LOW (the
 * bufferevent's write watermark), up to FILL_HIGH, so the socket never
 * waits for the generator and the generator never outruns the socket.
 *
 * wslay (server context) reads the client's frames, answers pings and
 * closes.  Trade frames are framed here, many to one buffer: a server
 * frame is unmasked, so its header is 2-10 bytes, and going through
 * wslay's queue would cost an allocation and a copy per message.  This
 * never splits a wslay frame: wslay's send callback always takes every
 * byte, so between calls wslay has nothing half-sent.
 *
 * stdout gets one line, "listening on HOST:PORT", once the socket is
 * bound (tests read the port from it); stderr gets a line per
 * connection, subscription and fault, e.g. "subscribe conn=3 symbol=AAPL".
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/capture.h"
#include "proto/feed.h"
#include "proto/wbuf.h"
#include "proto/ws_handshake.h"
#include "server/feed/feed_sim.h"
#include "server/log.h"

#define CONN_MAGIC         0x73696d63
#define TICK_MS            10
#define HANDSHAKE_MS       10000
#define CLOSING_MS         2000
#define OVERSIZE_LINGER_MS 10000
#define FILL_LOW           (256 * 1024)
#define FILL_HIGH          (1024 * 1024)
#define RATE_QUEUE_MAX     (16 * 1024 * 1024)
#define CLIENT_MSG_MAX     65536
#define OVERSIZE_DECLARED  ((uint64_t)64 << 20)
#define OVERSIZE_SENT      65536
#define CAPTURE_MAX        ((size_t)1 << 30)
#define FRAME_MAX          ((size_t)16 << 20)

static const char ping_msg[] = "{\"type\":\"ping\"}";
static const char too_many_msg[] =
    "{\"msg\":\"Subscribing to too many symbols\",\"type\":\"error\"}";

static struct {
	const char *listen;
	int64_t rate;
	int per_frame;
	char **symbols; /* NULL: any symbol a client subscribes to */
	int nsymbols;
	const char *capture;
	double speed;
	int loop;
	uint64_t seed;
	int64_t duration_ms;
	int64_t max_trades;
	int64_t drop_after_ms, stall_after_ms, error_after_ms;
	int64_t oversize_after_ms;
	int64_t malformed_every;
	int64_t ping_ms;
	const char *require_token;
	int max_symbols;
	int faults_conns;
	int sequence;
	const char *tls_cert, *tls_key;
} opt = {
    .listen = "127.0.0.1:0",
    .rate = 1000,
    .per_frame = 3,
    .speed = 1.0,
    .seed = 1,
    .ping_ms = 60000,
};

enum conn_state { C_HANDSHAKE, C_OPEN, C_CLOSING };

struct conn {
	unsigned magic;
	int id;
	int faults; /* the fault options apply to this connection */
	enum conn_state state;
	struct bufferevent *bev;
	wslay_event_context_ptr ws;
	struct event *tick;
	char peer[64];
	struct conn *next, **prevp;

	int64_t accept_ms, open_ms, last_ms, last_ping_ms;
	int stalled, oversized, error_sent, done;
	double owed; /* --rate: trades due but not sent */

	char **subs;
	int nsubs, subs_cap;
	struct feed_sim *market;
	int market_dirty;

	/* capture replay */
	size_t cap_off;
	int64_t cap_t0_us, cap_start_us;

	struct wbuf payload; /* one message being generated */
	struct wbuf batch;   /* framed messages on their way out */
	uint64_t frames, trades, bytes;
};

static struct event_base *base;
static SSL_CTX *ssl_ctx;
static struct conn *conns;
static int next_id;
static uint8_t *cap_buf; /* the whole capture, header skipped at cap_hdr */
static size_t cap_len, cap_hdr;

static void conn_free(struct conn *c, const char *why);

/* ---- sending ------------------------------------------------------------ */

static int
can_send(const struct conn *c)
{
	return c->state == C_OPEN && !c->stalled && !c->oversized;
}

static size_t
out_len(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* RFC 6455 §5.2 header of an unmasked, final server frame. */
static void
frame_header(struct wbuf *w, int opcode, uint64_t n)
{
	wbuf_u8(w, (uint8_t)(0x80 | opcode));
	if (n < 126) {
		wbuf_u8(w, (uint8_t)n);
	} else if (n <= 0xffff) {
		wbuf_u8(w, 126);
		wbuf_u16(w, (uint16_t)n);
	} else {
		wbuf_u8(w, 127);
		wbuf_u64(w, n);
	}
}

static void
flush_batch(struct conn *c)
{
	if (c->batch.err != 0) {
		log_err(
		    "conn=%d: frame buffer: %s", c->id, err_str(c->batch.err));
	} else if (c->batch.len > 0 &&
	           evbuffer_add(bufferevent_get_output(c->bev), c->batch.buf,
	               c->batch.len) != 0) {
		log_err("conn=%d: out of memory for output", c->id);
	}
	c->bytes += c->batch.len;
	wbuf_reset(&c->batch);
}

static void
send_text(struct conn *c, const void *p, size_t n)
{
	frame_header(&c->batch, WSLAY_TEXT_FRAME, n);
	wbuf_put(&c->batch, p, n);
	c->frames++;
	flush_batch(c);
}

/* Frame the message in c->payload into the batch, maybe broken. */
static void
batch_payload(struct conn *c, int opcode)
{
	size_t n = c->payload.len;

	c->frames++;
	if (c->faults && opt.malformed_every > 0 &&
	    c->frames % (uint64_t)opt.malformed_every == 0) {
		/* Cut mid-way: broken JSON, still valid UTF-8. */
		n /= 2;
		log_debug("fault conn=%d malformed frame %llu", c->id,
		    (unsigned long long)c->frames);
	}
	frame_header(&c->batch, opcode, n);
	wbuf_put(&c->batch, c->payload.buf, n);
}

/* ---- subscriptions and the market ---------------------------------------- */

/* Will this symbol trade?  feed_sim takes 1..64 printable bytes. */
static int
known_symbol(const char *s)
{
	size_t n = strlen(s), j;
	int i;

	if (n < 1 || n > 64)
		return 0;
	for (j = 0; j < n; j++)
		if ((unsigned char)s[j] < 0x20 || (unsigned char)s[j] > 0x7e)
			return 0;
	if (opt.symbols == NULL)
		return 1;
	for (i = 0; i < opt.nsymbols; i++)
		if (strcmp(opt.symbols[i], s) == 0)
			return 1;
	return 0;
}

static int
find_sub(const struct conn *c, const char *s)
{
	int i;

	for (i = 0; i < c->nsubs; i++)
		if (strcmp(c->subs[i], s) == 0)
			return i;
	return -1;
}

static void
rebuild_market(struct conn *c)
{
	const char **list = xcalloc((size_t)c->nsubs + 1, sizeof(*list));
	int i, n = 0;

	c->market_dirty = 0;
	feed_sim_free(c->market);
	c->market = NULL;
	for (i = 0; i < c->nsubs; i++)
		if (known_symbol(c->subs[i]))
			list[n++] = c->subs[i];
	if (n > 0) {
		c->market = feed_sim_new(
		    list, n, opt.seed * 1000003u + (uint64_t)c->id);
		if (c->market == NULL)
			log_err("conn=%d: cannot create the market", c->id);
	}
	free(list);
}

static void
client_message(struct conn *c, const uint8_t *msg, size_t len)
{
	cJSON *root = cJSON_ParseWithLength((const char *)msg, len);
	const cJSON *type, *sym;
	int i;

	type = cJSON_GetObjectItemCaseSensitive(root, "type");
	sym = cJSON_GetObjectItemCaseSensitive(root, "symbol");
	if (!cJSON_IsString(type) || !cJSON_IsString(sym) ||
	    sym->valuestring[0] == '\0') {
		log_info("bad message conn=%d (%zu bytes)", c->id, len);
		goto out;
	}
	if (strcmp(type->valuestring, "subscribe") == 0) {
		if (find_sub(c, sym->valuestring) >= 0)
			goto out;
		if (opt.max_symbols > 0 && c->nsubs >= opt.max_symbols) {
			log_info("error conn=%d too many symbols symbol=%s",
			    c->id, sym->valuestring);
			if (can_send(c))
				send_text(
				    c, too_many_msg, sizeof(too_many_msg) - 1);
			goto out;
		}
		if (c->nsubs == c->subs_cap) {
			c->subs_cap = c->subs_cap ? c->subs_cap * 2 : 16;
			c->subs = xreallocarray(
			    c->subs, (size_t)c->subs_cap, sizeof(*c->subs));
		}
		c->subs[c->nsubs++] = xstrdup(sym->valuestring);
		c->market_dirty = 1;
		log_info("subscribe conn=%d symbol=%s%s", c->id,
		    sym->valuestring,
		    known_symbol(sym->valuestring)
		        ? ""
		        : " (no trades: not in --symbols)");
	} else if (strcmp(type->valuestring, "unsubscribe") == 0) {
		if ((i = find_sub(c, sym->valuestring)) < 0)
			goto out;
		free(c->subs[i]);
		c->subs[i] = c->subs[--c->nsubs];
		c->market_dirty = 1;
		log_info(
		    "unsubscribe conn=%d symbol=%s", c->id, sym->valuestring);
	} else {
		log_info("ignored conn=%d type=%s symbol=%s", c->id,
		    type->valuestring, sym->valuestring);
	}
out:
	cJSON_Delete(root);
}

/* ---- trades ------------------------------------------------------------ */

static int
trades_left(struct conn *c)
{
	if (opt.max_trades <= 0 || c->trades < (uint64_t)opt.max_trades)
		return 1;
	if (!c->done) {
		int64_t ms = clock_mono_ms() - c->open_ms;

		c->done = 1;
		log_info("done conn=%d trades=%llu frames=%llu ms=%lld "
		         "rate=%.0f/s",
		    c->id, (unsigned long long)c->trades,
		    (unsigned long long)c->frames, (long long)ms,
		    ms > 0 ? (double)c->trades * 1000.0 / (double)ms : 0.0);
	}
	return 0;
}

/* --sequence: the next number, across every connection of the run. */
static uint64_t seq_next = 1;

/*
 * A trade message of k trades for --sequence: volume = the sequence
 * number, the subscribed symbols in turn, a price that walks in cents,
 * time = now (many ties), conditions now null, now one code.
 */
static size_t
seq_frame(struct conn *c, int64_t now_ms, int k, struct wbuf *w)
{
	int i;

	if (c->nsubs == 0)
		return 0;
	wbuf_str(w, "{\"data\":[");
	for (i = 0; i < k; i++) {
		uint64_t n = seq_next++;

		wbuf_printf(w, "%s{\"s\":", i ? "," : "");
		feed_encode_string(w, c->subs[n % (uint64_t)c->nsubs],
		    strlen(c->subs[n % (uint64_t)c->nsubs]));
		wbuf_printf(w,
		    ",\"p\":%llu.%02llu,\"v\":%llu,\"t\":%lld,\"c\":%s}",
		    (unsigned long long)(100 + n / 7 % 50),
		    (unsigned long long)(n * 37 % 100), (unsigned long long)n,
		    (long long)now_ms, n % 3 ? "null" : "[\"1\",\"24\"]");
	}
	wbuf_str(w, "],\"type\":\"trade\"}");
	return w->err != 0 ? 0 : (size_t)k;
}

/* Frame up to ntrades synthetic trades into the batch; how many were. */
static int64_t
gen_trades(struct conn *c, int64_t now_ms, int64_t ntrades)
{
	int64_t done = 0, k;
	size_t got;

	if (opt.sequence) {
		while (done < ntrades && c->nsubs > 0 && trades_left(c)) {
			k = ntrades - done < opt.per_frame ? ntrades - done
			                                   : opt.per_frame;
			if (opt.max_trades > 0 &&
			    (int64_t)c->trades + k > opt.max_trades)
				k = opt.max_trades - (int64_t)c->trades;
			wbuf_reset(&c->payload);
			got =
			    seq_frame(c, clock_wall_ms(), (int)k, &c->payload);
			if (got == 0)
				break;
			batch_payload(c, WSLAY_TEXT_FRAME);
			c->trades += got;
			done += (int64_t)got;
		}
		return done;
	}
	if (c->market_dirty)
		rebuild_market(c);
	while (done < ntrades && c->market != NULL && trades_left(c)) {
		k = ntrades - done < opt.per_frame ? ntrades - done
		                                   : opt.per_frame;
		if (opt.max_trades > 0 &&
		    (int64_t)c->trades + k > opt.max_trades)
			k = opt.max_trades - (int64_t)c->trades;
		wbuf_reset(&c->payload);
		got = feed_sim_frame(c->market, now_ms, (int)k, &c->payload);
		if (got == 0 || c->payload.err != 0)
			break;
		batch_payload(c, WSLAY_TEXT_FRAME);
		c->trades += got;
		done += (int64_t)got;
	}
	return done;
}

/* Frame the capture's records that are due; 1 while more remain. */
static int
gen_capture(struct conn *c, int64_t now_us, size_t room)
{
	struct capture_frame f;
	int rc;

	if (c->nsubs == 0)
		return 1; /* Finnhub sends nothing before a subscription */
	while (c->batch.len < room) {
		rc = capture_decode_frame(
		    cap_buf + c->cap_off, cap_len - c->cap_off, FRAME_MAX, &f);
		if (rc <= 0) {
			if (rc < 0)
				log_err("conn=%d: bad capture record at %zu: "
				        "%s",
				    c->id, c->cap_off, err_str(rc));
			if (rc == 0 && opt.loop && c->cap_off > cap_hdr) {
				c->cap_off = cap_hdr;
				c->cap_t0_us = -1;
				continue;
			}
			log_info("capture done conn=%d frames=%llu", c->id,
			    (unsigned long long)c->frames);
			return 0;
		}
		if (c->cap_t0_us < 0) {
			c->cap_t0_us = (int64_t)f.t_us;
			c->cap_start_us = now_us;
		}
		if (opt.speed > 0 &&
		    c->cap_start_us +
		            (int64_t)((double)((int64_t)f.t_us - c->cap_t0_us) /
		                      opt.speed) >
		        now_us)
			break;
		wbuf_reset(&c->payload);
		wbuf_put(&c->payload, f.payload, f.len);
		batch_payload(c, f.opcode == CAPTURE_OP_BINARY
		                     ? WSLAY_BINARY_FRAME
		                     : WSLAY_TEXT_FRAME);
		c->cap_off += (size_t)rc;
	}
	return 1;
}

/* --rate 0: keep the output buffer between FILL_LOW and FILL_HIGH. */
static void
fill(struct conn *c)
{
	size_t have;

	if (!can_send(c) || (have = out_len(c)) >= FILL_LOW)
		return;
	if (cap_buf != NULL)
		(void)gen_capture(c, clock_wall_us(), FILL_HIGH - have);
	else
		while (c->batch.len + have < FILL_HIGH &&
		       gen_trades(
		           c, clock_wall_us() / 1000, 64 * opt.per_frame) > 0)
			;
	flush_batch(c);
}

/* --rate N: the trades owed since the last tick. */
static void
pace(struct conn *c, int64_t now_ms)
{
	int64_t dt = now_ms - c->last_ms, n;

	c->last_ms = now_ms;
	if (c->market_dirty)
		rebuild_market(c);
	if (c->market == NULL) {
		c->owed = 0;
		return;
	}
	/* A slow reader gets its trades late, not a growing queue. */
	if (out_len(c) > RATE_QUEUE_MAX) {
		c->owed = 0;
		return;
	}
	c->owed += (double)opt.rate * (double)(dt > 1000 ? 1000 : dt) / 1000.0;
	n = (int64_t)c->owed;
	if (n > 0) {
		c->owed -= (double)gen_trades(c, clock_wall_us() / 1000, n);
		if (c->owed > (double)opt.rate)
			c->owed = (double)opt.rate;
		flush_batch(c);
	}
}

/* ---- faults ----------------------------------------------------------- */

static void
send_oversize(struct conn *c)
{
	/* Declares 64 MiB and sends the first bytes: a client with a sane
	 * limit fails the connection on the header alone. */
	frame_header(&c->batch, WSLAY_TEXT_FRAME, OVERSIZE_DECLARED);
	wbuf_fill(&c->batch, ' ', OVERSIZE_SENT);
	flush_batch(c);
	c->oversized = 1;
}

/* 1 if the connection is gone. */
static int
apply_faults(struct conn *c, int64_t now_ms)
{
	int64_t t = now_ms - c->open_ms;

	if (!c->faults)
		return 0;
	if (opt.drop_after_ms > 0 && t >= opt.drop_after_ms) {
		struct linger l = {1, 0};
		evutil_socket_t fd = bufferevent_getfd(c->bev);

		log_info("fault conn=%d drop", c->id);
		/* SO_LINGER 0: the close sends RST, as a dying peer would. */
		if (fd >= 0)
			(void)setsockopt(
			    fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		conn_free(c, "dropped (fault)");
		return 1;
	}
	if (opt.stall_after_ms > 0 && !c->stalled && t >= opt.stall_after_ms) {
		log_info("fault conn=%d stall", c->id);
		c->stalled = 1;
	}
	if (opt.error_after_ms > 0 && !c->error_sent &&
	    t >= opt.error_after_ms && can_send(c)) {
		log_info("fault conn=%d error", c->id);
		send_text(c, too_many_msg, sizeof(too_many_msg) - 1);
		c->error_sent = 1;
	}
	if (opt.oversize_after_ms > 0 && !c->oversized &&
	    t >= opt.oversize_after_ms && can_send(c)) {
		log_info("fault conn=%d oversize (%llu bytes declared)", c->id,
		    (unsigned long long)OVERSIZE_DECLARED);
		send_oversize(c);
	}
	if (c->oversized && t >= opt.oversize_after_ms + OVERSIZE_LINGER_MS) {
		conn_free(c, "oversize frame sent, client stayed");
		return 1;
	}
	return 0;
}

/* ---- connection life ---------------------------------------------------- */

static void
conn_free(struct conn *c, const char *why)
{
	int i;

	log_info("close conn=%d: %s; sent %llu frames, %llu trades, %llu "
	         "bytes",
	    c->id, why, (unsigned long long)c->frames,
	    (unsigned long long)c->trades, (unsigned long long)c->bytes);
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	if (c->tick != NULL)
		event_free(c->tick);
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	feed_sim_free(c->market);
	for (i = 0; i < c->nsubs; i++)
		free(c->subs[i]);
	free(c->subs);
	wbuf_fini(&c->payload);
	wbuf_fini(&c->batch);
	c->magic = 0;
	free(c);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int64_t now = clock_mono_ms();

	CHECK_MAGIC(c, CONN_MAGIC);
	switch (c->state) {
	case C_HANDSHAKE:
		if (now - c->accept_ms > HANDSHAKE_MS)
			conn_free(c, "no handshake");
		return;
	case C_CLOSING:
		if (now - c->last_ms > CLOSING_MS)
			conn_free(c, "close frame not flushed");
		return;
	case C_OPEN:
		break;
	}
	if (apply_faults(c, now) || !can_send(c))
		return;
	if (opt.ping_ms > 0 && now - c->last_ping_ms >= opt.ping_ms) {
		c->last_ping_ms = now;
		send_text(c, ping_msg, sizeof(ping_msg) - 1);
	}
	if (cap_buf != NULL) {
		if (opt.speed > 0 && out_len(c) < RATE_QUEUE_MAX) {
			(void)gen_capture(c, clock_wall_us(), FILL_HIGH);
			flush_batch(c);
		} else {
			fill(c);
		}
	} else if (opt.rate > 0) {
		pace(c, now);
	} else {
		fill(c);
	}
}

static ssize_t
ws_recv_cb(
    wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	struct conn *c = arg;
	int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);

	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static void
ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct conn *c = arg;

	CHECK_MAGIC(c, CONN_MAGIC);
	if (m->opcode == WSLAY_TEXT_FRAME)
		client_message(c, m->msg, m->msg_length);
	else if (m->opcode == WSLAY_CONNECTION_CLOSE)
		log_info("close frame conn=%d code=%u", c->id,
		    (unsigned)m->status_code);
}

/* The value of query parameter name in target, or NULL; *n its length. */
static const char *
query_param(struct ws_slice target, const char *name, size_t *n)
{
	const char *q = memchr(target.p, '?', target.n);
	const char *end = target.p + target.n, *amp;
	size_t nl = strlen(name);

	while (q != NULL && q < end) {
		q++;
		amp = memchr(q, '&', (size_t)(end - q));
		if (amp == NULL)
			amp = end;
		if ((size_t)(amp - q) > nl && memcmp(q, name, nl) == 0 &&
		    q[nl] == '=') {
			*n = (size_t)(amp - (q + nl + 1));
			return q + nl + 1;
		}
		q = amp;
	}
	return NULL;
}

static void
reject(struct conn *c, int status, const char *why)
{
	struct wbuf w;

	log_info("reject conn=%d %d (%s)", c->id, status, why);
	wbuf_init(&w, 0);
	ws_handshake_reject(&w, status, NULL);
	bufferevent_write(c->bev, w.buf, w.len);
	wbuf_fini(&w);
	/* Close once the answer is out (write_cb), or after CLOSING_MS. */
	c->state = C_CLOSING;
	c->last_ms = clock_mono_ms();
}

static void
ws_process(struct conn *c)
{
	if (wslay_event_recv(c->ws) != 0) {
		conn_free(c, "websocket error");
		return;
	}
	if (!c->stalled && !c->oversized && wslay_event_send(c->ws) != 0) {
		conn_free(c, "websocket send error");
		return;
	}
	if (!wslay_event_get_read_enabled(c->ws)) {
		c->state = C_CLOSING;
		c->last_ms = clock_mono_ms();
		if (out_len(c) == 0) {
			conn_free(c, "websocket closed");
			return;
		}
	}
	if (opt.rate == 0 || cap_buf != NULL)
		fill(c);
}

static void
handshake(struct conn *c)
{
	static const struct wslay_event_callbacks cbs = {
	    ws_recv_cb, ws_send_cb, NULL, NULL, NULL, NULL, ws_msg_cb};
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in), off, tn = 0;
	char accept[WS_ACCEPT_LEN + 1], key[WS_KEY_LEN + 1], shown[512];
	char target[512];
	const char *tok;
	struct ws_hs_req r;
	struct wbuf w;
	int rc;

	if (len > WS_HS_MAX_HEADER + 1)
		len = WS_HS_MAX_HEADER + 1;
	rc = ws_handshake_parse_request(
	    evbuffer_pullup(in, (ev_ssize_t)len), len, &r, &off);
	if (rc == 0)
		return;
	if (rc < 0) {
		reject(c, r.status, r.why);
		return;
	}
	snprintf(target, sizeof(target), "%.*s", (int)r.target.n, r.target.p);
	log_redact_url(target, shown, sizeof(shown));
	if (opt.require_token != NULL &&
	    ((tok = query_param(r.target, "token", &tn)) == NULL ||
	        tn != strlen(opt.require_token) ||
	        memcmp(tok, opt.require_token, tn) != 0)) {
		reject(c, 401, tok == NULL ? "no token" : "wrong token");
		return;
	}
	memcpy(key, r.key.p, WS_KEY_LEN);
	key[WS_KEY_LEN] = '\0';
	evbuffer_drain(in, (size_t)rc);
	if (ws_handshake_accept(key, accept) != 0 ||
	    wslay_event_context_server_init(&c->ws, &cbs, c) != 0) {
		c->ws = NULL;
		conn_free(c, "no SHA-1 or out of memory");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ws, CLIENT_MSG_MAX);
	wbuf_init(&w, 0);
	ws_handshake_response(&w, accept);
	bufferevent_write(c->bev, w.buf, w.len);
	wbuf_fini(&w);
	c->state = C_OPEN;
	c->open_ms = c->last_ms = c->last_ping_ms = clock_mono_ms();
	log_info("open conn=%d peer=%s path=%s%s", c->id, c->peer, shown,
	    c->faults ? "" : " (no faults)");
	if (evbuffer_get_length(in) > 0)
		ws_process(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	CHECK_MAGIC(c, CONN_MAGIC);
	switch (c->state) {
	case C_HANDSHAKE:
		handshake(c);
		break;
	case C_OPEN:
		ws_process(c);
		break;
	case C_CLOSING:
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	CHECK_MAGIC(c, CONN_MAGIC);
	if (c->state == C_CLOSING) {
		if (out_len(c) == 0)
			conn_free(c, "closed");
		return;
	}
	if (c->state == C_OPEN && (opt.rate == 0 || cap_buf != NULL))
		fill(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char why[256];
	unsigned long e;

	CHECK_MAGIC(c, CONN_MAGIC);
	if (what & BEV_EVENT_CONNECTED)
		return; /* the TLS handshake is done */
	if (what & BEV_EVENT_EOF) {
		conn_free(c, "EOF from client");
		return;
	}
	if (ssl_ctx != NULL && (e = bufferevent_get_openssl_error(bev)) != 0) {
		char s[200];

		ERR_error_string_n(e, s, sizeof(s));
		snprintf(why, sizeof(why), "TLS error: %s", s);
		while (bufferevent_get_openssl_error(bev) != 0)
			;
	} else {
		snprintf(why, sizeof(why), "error: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	conn_free(c, why);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	const int bopts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	struct conn *c = xcalloc(1, sizeof(*c));
	struct timeval tv = {0, TICK_MS * 1000};
	char addr[INET6_ADDRSTRLEN] = "?";
	int one = 1;

	c->magic = CONN_MAGIC;
	c->id = ++next_id;
	c->faults = opt.faults_conns <= 0 || c->id <= opt.faults_conns;
	c->accept_ms = clock_mono_ms();
	c->cap_off = cap_hdr;
	c->cap_t0_us = -1;
	wbuf_init(&c->payload, FRAME_MAX);
	wbuf_init(&c->batch, 0);
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, addr,
		    sizeof(addr));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    addr, sizeof(addr));
	snprintf(c->peer, sizeof(c->peer), "%s:%u", addr,
	    sa->sa_family == AF_INET
	        ? (unsigned)ntohs(((struct sockaddr_in *)sa)->sin_port)
	        : (unsigned)ntohs(((struct sockaddr_in6 *)sa)->sin6_port));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->next = conns;
	if (conns != NULL)
		conns->prevp = &c->next;
	conns = c;
	c->prevp = &conns;
	if (ssl_ctx != NULL) {
		SSL *ssl = SSL_new(ssl_ctx);

		c->bev = ssl == NULL
		             ? NULL
		             : bufferevent_openssl_socket_new(base, fd, ssl,
		                   BUFFEREVENT_SSL_ACCEPTING, bopts);
	} else {
		c->bev = bufferevent_socket_new(base, fd, bopts);
	}
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		conn_free(c, "cannot create a bufferevent");
		return;
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, FILL_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->tick = event_new(base, -1, EV_PERSIST, tick_cb, c);
	event_add(c->tick, &tv);
	log_info("accept conn=%d peer=%s", c->id, c->peer);
}

/* ---- set-up ------------------------------------------------------------- */

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(base, NULL);
}

static void
usage(FILE *fp)
{
	static const char text[] =
	    "usage: finnhub-sim [options]\n"
	    "  --listen HOST:PORT     numeric address (127.0.0.1:0; port 0:\n"
	    "                         pick one)\n"
	    "  --tls-cert F --tls-key F  serve wss:// with this PEM pair\n"
	    "  --rate N               trades/s per connection (1000; 0: as\n"
	    "                         fast as the socket takes them)\n"
	    "  --trades-per-frame K   trades per trade message (3)\n"
	    "  --symbols A,B,...      only these symbols trade (default: any\n"
	    "                         symbol a client subscribes to)\n"
	    "  --capture PATH         replay a capture instead of the market\n"
	    "  --speed X              capture pace factor (1; 0: flat out)\n"
	    "  --loop                 replay the capture again at its end\n"
	    "  --seed N               market seed (1)\n"
	    "  --sequence             instead of the market: every trade's\n"
	    "                         volume is the next number of one\n"
	    "                         sequence across connections (1, 2,\n"
	    "                         ...), to check that each is stored once\n"
	    "  --duration-ms N        exit after N ms\n"
	    "  --max-trades N         stop after N trades per connection\n"
	    "  --ping-ms N            {\"type\":\"ping\"} interval (60000;\n"
	    "                         0: none)\n"
	    "  --require-token T      answer 401 unless the URL has ?token=T\n"
	    "  --max-symbols N        error message beyond N subscriptions\n"
	    "faults (per connection, timed from its websocket open):\n"
	    "  --drop-after-ms N      reset the TCP connection\n"
	    "  --stall-after-ms N     stop sending anything, keep the socket\n"
	    "  --error-after-ms N     send the too-many-symbols error\n"
	    "  --oversize-after-ms N  send a text frame declaring 64 MiB\n"
	    "  --malformed-every N    every Nth trade frame is broken JSON\n"
	    "  --faults-conns N       faults on the first N connections only\n";

	fputs(text, fp);
}

static int64_t
num_arg(const char *name, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
		    "finnhub-sim: --%s: not a number in %lld..%lld: "
		    "%s\n",
		    name, (long long)min, (long long)max, s);
		exit(2);
	}
	return (int64_t)v;
}

static void
split_symbols(const char *list)
{
	char *copy = xstrdup(list), *p, *save = NULL;

	for (p = strtok_r(copy, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		opt.symbols = xreallocarray(opt.symbols,
		    (size_t)opt.nsymbols + 2, sizeof(*opt.symbols));
		opt.symbols[opt.nsymbols++] = xstrdup(p);
		opt.symbols[opt.nsymbols] = NULL;
	}
	free(copy);
}

static void
parse_args(int argc, char **argv)
{
	enum {
		O_LISTEN = 256,
		O_RATE,
		O_PER_FRAME,
		O_SYMBOLS,
		O_CAPTURE,
		O_SPEED,
		O_LOOP,
		O_SEED,
		O_DURATION,
		O_MAX_TRADES,
		O_DROP,
		O_STALL,
		O_ERROR,
		O_MALFORMED,
		O_OVERSIZE,
		O_PING,
		O_TOKEN,
		O_MAX_SYMBOLS,
		O_FAULTS_CONNS,
		O_SEQUENCE,
		O_CERT,
		O_KEY,
		O_HELP
	};
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, O_LISTEN},
	    {"rate", required_argument, NULL, O_RATE},
	    {"trades-per-frame", required_argument, NULL, O_PER_FRAME},
	    {"symbols", required_argument, NULL, O_SYMBOLS},
	    {"capture", required_argument, NULL, O_CAPTURE},
	    {"speed", required_argument, NULL, O_SPEED},
	    {"loop", no_argument, NULL, O_LOOP},
	    {"seed", required_argument, NULL, O_SEED},
	    {"duration-ms", required_argument, NULL, O_DURATION},
	    {"max-trades", required_argument, NULL, O_MAX_TRADES},
	    {"drop-after-ms", required_argument, NULL, O_DROP},
	    {"stall-after-ms", required_argument, NULL, O_STALL},
	    {"error-after-ms", required_argument, NULL, O_ERROR},
	    {"malformed-every", required_argument, NULL, O_MALFORMED},
	    {"oversize-after-ms", required_argument, NULL, O_OVERSIZE},
	    {"ping-ms", required_argument, NULL, O_PING},
	    {"require-token", required_argument, NULL, O_TOKEN},
	    {"max-symbols", required_argument, NULL, O_MAX_SYMBOLS},
	    {"faults-conns", required_argument, NULL, O_FAULTS_CONNS},
	    {"sequence", no_argument, NULL, O_SEQUENCE},
	    {"tls-cert", required_argument, NULL, O_CERT},
	    {"tls-key", required_argument, NULL, O_KEY},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	const int64_t big = INT64_MAX / 4;
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_LISTEN:
			opt.listen = optarg;
			break;
		case O_RATE:
			opt.rate = num_arg("rate", optarg, 0, 1000000000);
			break;
		case O_PER_FRAME:
			opt.per_frame =
			    (int)num_arg("trades-per-frame", optarg, 1, 100000);
			break;
		case O_SYMBOLS:
			split_symbols(optarg);
			break;
		case O_CAPTURE:
			opt.capture = optarg;
			break;
		case O_SPEED:
			opt.speed = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || opt.speed < 0) {
				fprintf(stderr, "finnhub-sim: --speed: %s\n",
				    optarg);
				exit(2);
			}
			break;
		case O_LOOP:
			opt.loop = 1;
			break;
		case O_SEQUENCE:
			opt.sequence = 1;
			break;
		case O_SEED:
			opt.seed = (uint64_t)num_arg("seed", optarg, 0, big);
			break;
		case O_DURATION:
			opt.duration_ms =
			    num_arg("duration-ms", optarg, 0, big);
			break;
		case O_MAX_TRADES:
			opt.max_trades = num_arg("max-trades", optarg, 0, big);
			break;
		case O_DROP:
			opt.drop_after_ms =
			    num_arg("drop-after-ms", optarg, 0, big);
			break;
		case O_STALL:
			opt.stall_after_ms =
			    num_arg("stall-after-ms", optarg, 0, big);
			break;
		case O_ERROR:
			opt.error_after_ms =
			    num_arg("error-after-ms", optarg, 0, big);
			break;
		case O_MALFORMED:
			opt.malformed_every =
			    num_arg("malformed-every", optarg, 0, big);
			break;
		case O_OVERSIZE:
			opt.oversize_after_ms =
			    num_arg("oversize-after-ms", optarg, 0, big);
			break;
		case O_PING:
			opt.ping_ms = num_arg("ping-ms", optarg, 0, big);
			break;
		case O_TOKEN:
			opt.require_token = optarg;
			break;
		case O_MAX_SYMBOLS:
			opt.max_symbols =
			    (int)num_arg("max-symbols", optarg, 0, 1000000);
			break;
		case O_FAULTS_CONNS:
			opt.faults_conns =
			    (int)num_arg("faults-conns", optarg, 0, 1000000000);
			break;
		case O_CERT:
			opt.tls_cert = optarg;
			break;
		case O_KEY:
			opt.tls_key = optarg;
			break;
		case O_HELP:
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc || (opt.tls_cert == NULL) != (opt.tls_key == NULL)) {
		usage(stderr);
		exit(2);
	}
}

static int
load_capture(const char *path)
{
	struct stat st;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) != 0) {
		log_err("%s: %s", path, strerror(errno));
		goto out;
	}
	if ((size_t)st.st_size > CAPTURE_MAX) {
		log_err("%s: larger than %zu bytes", path, CAPTURE_MAX);
		goto out;
	}
	cap_len = (size_t)st.st_size;
	if ((cap_buf = malloc(cap_len ? cap_len : 1)) == NULL ||
	    fread(cap_buf, 1, cap_len, fp) != cap_len) {
		log_err("%s: cannot read", path);
		goto out;
	}
	if ((rc = capture_decode_header(cap_buf, cap_len)) <= 0) {
		log_err("%s: not a capture file (%s)", path,
		    rc == 0 ? "too short" : err_str(rc));
		rc = -1;
		goto out;
	}
	cap_hdr = (size_t)rc;
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	return rc;
}

/* "A.B.C.D:PORT" or "[v6]:PORT", numeric, port 0 allowed (unlike
 * evutil_parse_sockaddr_port). */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, int *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hn;
	char *end;
	long port;

	if (colon == NULL || (hn = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 ||
	    port > 65535)
		return -1;
	memcpy(host, s, hn);
	host[hn] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hn >= 2 && host[0] == '[' && host[hn - 1] == ']') {
		host[hn - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0
		                                                           : -1;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	*len = sizeof(*in4);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -1;
}

static SSL_CTX *
make_ssl_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, opt.tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, opt.tls_key, SSL_FILETYPE_PEM) !=
	        1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl_errors(LOG_LEVEL_ERR, NULL, "TLS set-up");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss), rc = 1;
	socklen_t blen = sizeof(ss);
	struct evconnlistener *lis = NULL;
	struct event *sigint = NULL, *sigterm = NULL, *stop = NULL;
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	log_hook_libs();
	if (opt.tls_cert != NULL && (ssl_ctx = make_ssl_ctx()) == NULL)
		goto out;
	if (opt.capture != NULL && load_capture(opt.capture) != 0)
		goto out;
	if (parse_listen(opt.listen, &ss, &sslen) != 0) {
		log_err("--listen %s: not a numeric HOST:PORT", opt.listen);
		goto out;
	}
	lis = evconnlistener_new_bind(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
	    (struct sockaddr *)&ss, sslen);
	if (lis == NULL) {
		log_err("--listen %s: %s", opt.listen,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto out;
	}
	getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&ss, &blen);
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
		    sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		printf("listening on %s:%u\n", host, port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		printf("listening on [%s]:%u\n", host, port);
	}
	fflush(stdout);
	log_info("finnhub-sim %s on %s port %u: %s, %d trades/frame",
	    ssl_ctx != NULL ? "wss" : "ws", host, port,
	    opt.capture != NULL ? "capture replay"
	    : opt.rate > 0      ? "paced"
	                        : "flat out",
	    opt.per_frame);
	sigint = evsignal_new(base, SIGINT, stop_cb, NULL);
	sigterm = evsignal_new(base, SIGTERM, stop_cb, NULL);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	if (opt.duration_ms > 0) {
		struct timeval tv = {(time_t)(opt.duration_ms / 1000),
		    (suseconds_t)(opt.duration_ms % 1000) * 1000};

		stop = evtimer_new(base, stop_cb, NULL);
		evtimer_add(stop, &tv);
	}
	event_base_dispatch(base);
	rc = 0;
out:
	while (conns != NULL)
		conn_free(conns, "shutting down");
	if (lis != NULL)
		evconnlistener_free(lis);
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	if (stop != NULL)
		event_free(stop);
	if (ssl_ctx != NULL)
		SSL_CTX_free(ssl_ctx);
	free(cap_buf);
	if (opt.symbols != NULL) {
		int i;

		for (i = 0; i < opt.nsymbols; i++)
			free(opt.symbols[i]);
		free(opt.symbols);
	}
	event_base_free(base);
	return rc;
}
